/*
 * The API through its socket-free core, api_dispatch(), with fake hooks in
 * place of main.c: routes, 404/405, create/read/update/delete, version
 * conflicts, filters, references, secrets, the status view, persistence
 * (round trip through config.json, failure leaves the config alone) and the
 * bearer-token check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api_env.h"
#include "test_pki.h"

const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define NETS "/api/v1/object/networks"
#define INTS "/api/v1/object/internalcertificates"
#define CAS  "/api/v1/object/externalcacertificates"
#define TELS "/api/v1/devicesettings/default/telemetrystreamingconfig"
#define STAT "/api/v1/operational/telemetrystreamingstatuses"

/* The agent's certificate and key, and another certificate: made once. */
static struct {
	char *cert, *key, *cert2;
} pki;

static int
pki_make(void **state)
{
	char *unused;

	assert_int_equal(test_pki_pair("agent", &pki.cert, &pki.key), 0);
	assert_int_equal(test_pki_pair("ca", &pki.cert2, &unused), 0);
	free(unused);
	return 0;
}

static int
pki_free(void **state)
{
	free(pki.cert);
	free(pki.key);
	free(pki.cert2);
	return 0;
}

static int
setup(void **state)
{
	return api_env_setup(state, "test_api");
}

static int
teardown(void **state)
{
	return api_env_teardown(state);
}

static json_t *
new_network(struct env *e, const char *name, const char *value)
{
	return callj(e, "POST", NETS, json_pack("{s:s, s:s, s:s}", "name", name, "subType", "HOST",
						"value", value), 200);
}

static void
test_routes(void **state)
{
	struct env *e = *state;
	json_t *j = call(e, "GET", "/api/v1", NULL, 200), *r;
	size_t i;
	int found = 0;

	json_array_foreach(json_object_get(j, "routes"), i, r)
		found += strcmp(str(r, "path"), NETS "/{id}") == 0 && strcmp(str(r, "method"), "PUT") == 0;
	assert_int_equal(found, 1);
	json_decref(j);
	json_decref(call(e, "GET", "/api/v1/", NULL, 200));
	json_decref(call(e, "GET", "/", NULL, 404));
	json_decref(call(e, "GET", "/api/v1x", NULL, 404));
	json_decref(call(e, "GET", "/api/v1/object/nothing", NULL, 404));
	json_decref(call(e, "GET", NETS "/a/b", NULL, 404));
	json_decref(call(e, "PATCH", NETS, NULL, 405));
	json_decref(call(e, "DELETE", NETS, NULL, 405));
	json_decref(call(e, "POST", STAT, "{}", 405));
	json_decref(call(e, "GET", NETS "/", NULL, 200));
	json_decref(call(e, "HEAD", NETS, NULL, 200));
	assert_int_equal(e->applied, 0);
}

static void
test_405_allow(void **state)
{
	struct env *e = *state;
	struct api_req req = { .method = "PATCH", .path = NETS "/x" };
	struct api_resp resp;

	api_dispatch(e->api, &req, &resp);
	assert_int_equal(resp.status, 405);
	assert_string_equal(resp.allow, "GET, PUT, DELETE");
	api_resp_free(&resp);
}

static void
test_network_crud(void **state)
{
	struct env *e = *state;
	json_t *n = new_network(e, "n1", "10.1.1.1"), *j, *put;
	char self[256], *path = item_path(NETS, n), cfgpath[128];
	struct stat st;
	char version[CFG_VERSION_LEN];

	assert_true(uuid_valid(str(n, "id")));
	assert_true(strlen(str(n, "version")) >= 12 && strlen(str(n, "version")) <= 13);
	assert_string_equal(str(n, "type"), "networkobject");
	snprintf(self, sizeof(self), "http://agent.example:9276%s", path);
	assert_string_equal(str(json_object_get(n, "links"), "self"), self);
	assert_int_equal(e->applied, 1);
	assert_int_equal(e->cur->n_networks, 1);
	snprintf(cfgpath, sizeof(cfgpath), "%s/%s", e->dir, API_JOURNAL_FILE);	/* the change */
	assert_int_equal(stat(cfgpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* list, filter, paging */
	json_decref(new_network(e, "n 2", "10.2.2.2"));
	j = call(e, "GET", NETS, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
	j = call_text(e, "GET", NETS, "filter=name:n1", NULL, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_string_equal(str(json_array_get(json_object_get(j, "items"), 0), "id"), str(n, "id"));
	json_decref(j);
	j = call_text(e, "GET", NETS, "filter=name%3An%202", NULL, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = call_text(e, "GET", NETS, "filter=name:n", NULL, 200, NULL);	/* exact match only */
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	j = call_text(e, "GET", NETS, "offset=1&limit=5", NULL, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = call_text(e, "GET", NETS, "filter=value:10.1.1.1", NULL, 400, NULL);
	assert_string_equal(err_field(j), "filter");
	json_decref(j);
	j = call_text(e, "GET", NETS, "sort=name", NULL, 400, NULL);
	assert_string_equal(err_field(j), "sort");
	json_decref(j);
	json_decref(call_text(e, "GET", NETS, "filter=name:%zz", NULL, 400, NULL));

	/* read one */
	j = call(e, "GET", path, NULL, 200);
	assert_true(json_equal(j, n));
	json_decref(j);
	json_decref(call(e, "GET", NETS "/00000000-0000-4000-8000-000000000000", NULL, 404));

	/* names are unique */
	j = callj(e, "POST", NETS, json_pack("{s:s, s:s, s:s}", "name", "n1", "subType", "FQDN",
					     "value", "x.example"), 409);
	assert_string_equal(err_field(j), "name");
	json_decref(j);

	/* PUT: version missing, stale, id mismatch, then right */
	put = json_pack("{s:s, s:s, s:s}", "name", "n1", "subType", "FQDN", "value",
			"collector.example.com");
	j = callj(e, "PUT", path, json_deep_copy(put), 400);
	assert_string_equal(err_field(j), "version");
	json_decref(j);
	json_object_set_new(put, "version", json_string("stale0000000"));
	j = callj(e, "PUT", path, json_deep_copy(put), 409);
	assert_string_equal(err_field(j), "version");
	json_decref(j);
	json_object_set_new(put, "version", json_string(str(n, "version")));
	json_object_set_new(put, "id", json_string("00000000-0000-4000-8000-000000000000"));
	j = callj(e, "PUT", path, json_deep_copy(put), 400);
	assert_string_equal(err_field(j), "id");
	json_decref(j);
	json_object_set_new(put, "name", json_string("n 2"));
	json_object_set_new(put, "id", json_string(str(n, "id")));
	j = callj(e, "PUT", path, json_deep_copy(put), 409);	/* renamed onto another */
	assert_string_equal(err_field(j), "name");
	json_decref(j);
	json_object_set_new(put, "name", json_string("n1"));
	assert_int_equal(e->applied, 2);
	j = callj(e, "PUT", path, json_deep_copy(put), 200);
	assert_int_equal(e->applied, 3);
	assert_string_equal(str(j, "subType"), "FQDN");
	assert_string_equal(str(j, "id"), str(n, "id"));
	assert_string_not_equal(str(j, "version"), str(n, "version"));
	str_copy(version, sizeof(version), str(j, "version"));
	json_decref(j);
	/* the old version is now stale */
	j = callj(e, "PUT", path, json_deep_copy(put), 409);
	json_decref(j);
	json_object_set_new(put, "version", json_string(version));
	json_decref(callj(e, "PUT", NETS "/00000000-0000-4000-8000-000000000000", put, 404));

	/* delete */
	assert_null(call(e, "DELETE", path, NULL, 204));
	assert_int_equal(e->applied, 4);
	assert_int_equal(e->cur->n_networks, 1);
	json_decref(call(e, "GET", path, NULL, 404));
	json_decref(call(e, "DELETE", path, NULL, 404));
	free(path);
	json_decref(n);
}

static void
test_bad_bodies(void **state)
{
	struct env *e = *state;
	struct api_req req = { .method = "POST", .path = NETS };
	struct api_resp resp;
	json_t *j;
	char *big;

	json_decref(call(e, "POST", NETS, "{\"name\": ", 400));
	json_decref(call(e, "POST", NETS, NULL, 400));
	json_decref(call(e, "POST", NETS, "[]", 400));
	json_decref(call(e, "POST", NETS, "{\"name\":\"a\",\"name\":\"b\"}", 400));
	j = call(e, "POST", NETS, "{\"name\":\"a\",\"subType\":\"HOST\",\"value\":"
		 "\"1.2.3.4\",\"isSystemDefined\":false}", 400);
	assert_string_equal(err_field(j), "isSystemDefined");
	json_decref(j);
	j = call(e, "POST", NETS, "{\"name\":\"a\",\"subType\":\"HOST\",\"value\":"
		 "\"1.2.3\"}", 400);
	assert_string_equal(err_field(j), "value");
	json_decref(j);

	big = xmalloc(API_BODY_MAX + 2);
	memset(big, ' ', API_BODY_MAX + 1);
	big[API_BODY_MAX + 1] = '\0';
	req.body = big;
	req.body_len = API_BODY_MAX + 1;
	api_dispatch(e->api, &req, &resp);
	assert_int_equal(resp.status, 413);
	api_resp_free(&resp);
	free(big);
	assert_int_equal(e->applied, 0);
}

/* network + internal cert + CA, then the reference's telemetry body. */
static json_t *
telemetry_setup(struct env *e, json_t **net, json_t **ic, json_t **ca)
{
	*net = new_network(e, "TelemetryCollector", "10.1.1.1");
	*ic = callj(e, "POST", INTS, json_pack("{s:s, s:s, s:s}", "name", "FTD1Cert", "cert",
					       pki.cert, "privateKey", pki.key), 200);
	*ca = callj(e, "POST", CAS, json_pack("{s:s, s:s}", "name", "TelemetryCollectorCert",
					      "cert", pki.cert2), 200);
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, "
			 "s:{s:s, s:s, s:s}, s:s}", "name", "YourCompanyTelemetry",
			 "connectionMode", "DIAL_OUT", "port", "50051",
			 "targetHost", "name", "TelemetryCollector", "id", str(*net, "id"),
			 "type", "networkobject",
			 "clientCertificate", "name", "FTD1Cert", "id", str(*ic, "id"), "type",
			 "internalcertificate",
			 "caCertificate", "name", "TelemetryCollectorCert", "id", str(*ca, "id"),
			 "type", "externalcacertificate", "type", "telemetrystreamingconfig");
}

static void
test_telemetry_flow(void **state)
{
	struct env *e = *state;
	json_t *net, *ic, *ca, *body = telemetry_setup(e, &net, &ic, &ca), *t, *j, *ref;
	char *tpath, *npath = item_path(NETS, net), *ipath = item_path(INTS, ic);

	t = callj(e, "POST", TELS, json_deep_copy(body), 200);
	assert_int_equal(json_integer_value(json_object_get(t, "port")), 50051);
	assert_int_equal(json_integer_value(json_object_get(t, "retryIntervalSeconds")), 300);
	assert_int_equal(json_integer_value(json_object_get(t, "minIntervalSeconds")), 60);
	ref = json_object_get(t, "targetHost");
	assert_string_equal(str(ref, "version"), str(net, "version"));
	assert_string_equal(str(ref, "name"), "TelemetryCollector");
	assert_string_equal(str(ref, "id"), str(net, "id"));
	assert_string_equal(str(ref, "type"), "networkobject");
	assert_non_null(e->cur->telemetry);
	assert_int_equal(e->cur->telemetry->port, 50051);
	tpath = item_path(TELS, t);

	/* at most one */
	json_object_set_new(body, "name", json_string("second"));
	j = callj(e, "POST", TELS, json_deep_copy(body), 409);
	assert_non_null(strstr(str(json_object_get(j, "error"), "message"), str(t, "id")));
	json_decref(j);
	j = call(e, "GET", TELS, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);

	/* referenced objects cannot go */
	j = call(e, "DELETE", npath, NULL, 409);
	assert_non_null(strstr(str(json_object_get(j, "error"), "message"),
			       "YourCompanyTelemetry"));
	json_decref(j);
	json_decref(call(e, "DELETE", ipath, NULL, 409));

	/* a ref that names the wrong object */
	json_object_set_new(json_object_get(body, "targetHost"), "name", json_string("Other"));
	json_object_set_new(body, "version", json_string(str(t, "version")));
	j = callj(e, "PUT", tpath, json_deep_copy(body), 400);
	assert_string_equal(err_field(j), "targetHost.name");
	json_decref(j);

	/* PUT with the version: new port */
	json_object_del(json_object_get(body, "targetHost"), "name");
	json_object_set_new(body, "port", json_integer(4433));
	j = callj(e, "PUT", tpath, json_deep_copy(body), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "port")), 4433);
	assert_string_equal(str(j, "name"), "second");
	json_decref(j);

	/* renaming a referenced network shows in the reference */
	json_decref(callj(e, "PUT", npath, json_pack("{s:s, s:s, s:s, s:s}", "name", "Renamed",
						     "subType", "HOST", "value", "10.1.1.2",
						     "version", str(net, "version")), 200));
	j = call(e, "GET", tpath, NULL, 200);
	assert_string_equal(str(json_object_get(j, "targetHost"), "name"), "Renamed");
	json_decref(j);

	assert_null(call(e, "DELETE", tpath, NULL, 204));
	assert_null(e->cur->telemetry);
	assert_null(call(e, "DELETE", npath, NULL, 204));
	free(tpath);
	free(npath);
	free(ipath);
	json_decref(t);
	json_decref(body);
	json_decref(net);
	json_decref(ic);
	json_decref(ca);
}

static void
test_private_key_never_returned(void **state)
{
	struct env *e = *state;
	json_t *net, *ic, *ca, *body = telemetry_setup(e, &net, &ic, &ca), *j;
	char *ipath = item_path(INTS, ic);
	struct api_req req = { .method = "GET", .path = INTS };
	struct api_resp resp;

	assert_null(json_object_get(ic, "privateKey"));
	api_dispatch(e->api, &req, &resp);
	assert_int_equal(resp.status, 200);
	assert_null(strstr(resp.body, "PRIVATE KEY"));
	assert_null(strstr(resp.body, "privateKey"));
	api_resp_free(&resp);

	/* PUT without privateKey keeps the key */
	j = callj(e, "PUT", ipath, json_pack("{s:s, s:s, s:s}", "name", "FTD1Cert", "cert",
					     pki.cert, "version", str(ic, "version")), 200);
	assert_null(json_object_get(j, "privateKey"));
	assert_string_equal(e->cur->internal_certs[0].key_pem, pki.key);
	json_decref(j);
	/* a cert that does not match the kept key */
	j = call(e, "GET", ipath, NULL, 200);
	json_decref(callj(e, "PUT", ipath, json_pack("{s:s, s:s, s:s}", "name", "FTD1Cert", "cert",
						     pki.cert2, "version", str(j, "version")), 400));
	json_decref(j);
	free(ipath);
	json_decref(body);
	json_decref(net);
	json_decref(ic);
	json_decref(ca);
}

static void
test_status(void **state)
{
	struct env *e = *state;
	json_t *j, *item, *err;

	e->st.state = TEL_STATE_CONNECTED;	/* ignored: nothing configured */
	e->st.errors[TEL_ERR_STREAMING].count = 3857;
	e->st.errors[TEL_ERR_STREAMING].code = 31;
	str_copy(e->st.errors[TEL_ERR_STREAMING].message, TEL_ERR_MSG_MAX,
		 "2024-09-30 19:20:33.575156378 +0000 UTC : i/o timeout");
	j = call(e, "GET", STAT, NULL, 200);
	item = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(str(item, "state"), "DISCONNECTED");
	assert_int_equal(json_array_size(json_object_get(item, "errors")), 0);
	assert_string_equal(str(item, "type"), "telemetrystreamingstatus");
	assert_int_equal(e->status_calls, 0);
	json_decref(j);

	e->cur->telemetry = xcalloc(1, sizeof(*e->cur->telemetry));
	j = call(e, "GET", STAT, NULL, 200);
	item = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(str(item, "state"), "CONNECTED");
	assert_int_equal(json_array_size(json_object_get(item, "errors")), 1);
	err = json_array_get(json_object_get(item, "errors"), 0);
	assert_string_equal(str(err, "errorType"), "StreamingErrors");
	assert_int_equal(json_integer_value(json_object_get(err, "errorCount")), 3857);
	assert_int_equal(json_integer_value(json_object_get(err, "errorCode")), 31);
	assert_string_equal(str(err, "type"), "telemetryerror");
	assert_non_null(strstr(str(err, "errorMessage"), "i/o timeout"));
	assert_int_equal(e->status_calls, 1);
	json_decref(j);
}

static void
test_persist_round_trip(void **state)
{
	struct env *e = *state;
	json_t *net, *ic, *ca, *body = telemetry_setup(e, &net, &ic, &ca), *a, *b;
	struct config *loaded = NULL;
	char path[128];
	struct stat st;

	json_decref(callj(e, "POST", TELS, body, 200));
	json_decref(callj(e, "POST", NETS, json_pack("{s:s, s:s, s:s, s:s}", "name", "fqdn",
						     "subType", "FQDN", "value", "c.example.com",
						     "description", "with \"quotes\"\nand lines"),
			  200));
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	a = api_config_encode(e->cur);
	b = api_config_encode(loaded);
	assert_true(json_equal(a, b));
	assert_string_equal(loaded->internal_certs[0].key_pem, pki.key);
	assert_string_equal(loaded->networks[1].meta.description, "with \"quotes\"\nand lines");
	snprintf(path, sizeof(path), "%s/%s", e->dir, API_CONFIG_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	json_decref(a);
	json_decref(b);
	config_free(loaded);
	json_decref(net);
	json_decref(ic);
	json_decref(ca);
}

/* --max-objects: a POST past it is refused, naming the flag; a config
 * file holding more is refused at start. */
static void
test_objects_limit(void **state)
{
	struct env *e = *state;
	struct config *loaded = NULL;
	json_t *j;

	api_set_objects_max(2);
	json_decref(new_network(e, "a", "10.1.1.1"));
	json_decref(new_network(e, "b", "10.1.1.2"));
	j = callj(e, "POST", NETS, json_pack("{s:s, s:s, s:s}", "name", "c", "subType", "HOST",
					     "value", "10.1.1.3"), 409);
	assert_non_null(strstr(str(json_object_get(j, "error"), "message"), "--max-objects"));
	json_decref(j);
	assert_int_equal(e->cur->n_networks, 2);
	api_set_objects_max(1);
	assert_int_equal(api_config_load(e->dir, &loaded), -1);	/* two in the journal */
	assert_null(loaded);
	api_set_objects_max(CFG_OBJECTS_DEFAULT);
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	assert_int_equal(loaded->n_networks, 2);
	config_free(loaded);
}

static void
test_persist_failure_changes_nothing(void **state)
{
	struct env *e = *state;
	struct api_hooks hooks = api_env_hooks(e);
	struct api *broken = api_core_new("/nonexistent/state-dir", "127.0.0.1:9276", &hooks);
	struct api *saved = e->api;
	json_t *j;

	e->api = broken;
	j = callj(e, "POST", NETS, json_pack("{s:s, s:s, s:s}", "name", "n", "subType", "HOST",
					     "value", "1.1.1.1"), 500);
	assert_non_null(strstr(str(json_object_get(j, "error"), "message"), "nothing"));
	json_decref(j);
	assert_int_equal(e->applied, 0);
	assert_int_equal(e->cur->n_networks, 0);
	e->api = saved;
	api_free(broken);
}

static void
test_auth_check(void **state)
{
	struct env *e = *state;
	char good[96];

	assert_int_equal(api_auth_check(e->api, "Bearer x"), -1);	/* no token loaded */
	memset(e->api->token, 'a', API_TOKEN_HEX);
	e->api->token[API_TOKEN_HEX] = '\0';
	snprintf(good, sizeof(good), "Bearer %s", e->api->token);
	assert_int_equal(api_auth_check(e->api, good), 0);
	good[0] = 'b';	/* the scheme is case-insensitive */
	assert_int_equal(api_auth_check(e->api, good), 0);
	good[strlen(good) - 1] = 'b';
	assert_int_equal(api_auth_check(e->api, good), -1);
	good[strlen(good) - 1] = '\0';
	assert_int_equal(api_auth_check(e->api, good), -1);
	assert_int_equal(api_auth_check(e->api, NULL), -1);
	assert_int_equal(api_auth_check(e->api, ""), -1);
	snprintf(good, sizeof(good), "Basic %s", e->api->token);
	assert_int_equal(api_auth_check(e->api, good), -1);
	snprintf(good, sizeof(good), "Bearer %sa", e->api->token);
	assert_int_equal(api_auth_check(e->api, good), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_routes),
		T(test_405_allow),
		T(test_network_crud),
		T(test_bad_bodies),
		T(test_telemetry_flow),
		T(test_private_key_never_returned),
		T(test_status),
		T(test_persist_round_trip),
		T(test_objects_limit),
		T(test_persist_failure_changes_nothing),
		T(test_auth_check),
	};

	return cmocka_run_group_tests(tests, pki_make, pki_free);
}
