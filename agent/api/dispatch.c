/*
 * The route table and the socket-free dispatch core: method + path in,
 * status + JSON text out. The evhttp callback (http.c) only adds the token
 * check and the transport. GET /api/v1 lists the routes from the table;
 * 404 and 405 (with Allow) come from it too.
 */
#include "api/api_int.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_PATH_MAX 1024

static int h_index(struct api_call *c);
static int h_tel_status(struct api_call *c);

struct api_route {
	const char   *method;
	const char   *pattern;	/* under API_BASE_PATH; "{id}" matches one segment */
	enum api_obj  obj;	/* API_OBJ__COUNT: not a collection route */
	int         (*fn)(struct api_call *);
	const char   *help;
};

#define COLLECTION(path, obj) \
	{ "GET",    path,          obj, api_h_list,   "list (?filter=name:X&offset=N&limit=N)" }, \
	{ "POST",   path,          obj, api_h_create, "create; answers the new object" }, \
	{ "GET",    path "/{id}",  obj, api_h_get,    "read one" }, \
	{ "PUT",    path "/{id}",  obj, api_h_update, "replace; carries the current version" }, \
	{ "DELETE", path "/{id}",  obj, api_h_delete, "delete (409 while referenced)" }

/* Always there: read and replaced at the path itself, never created or deleted. */
#define SINGLETON(path, obj) \
	{ "GET",    path,          obj, api_h_single_get,    "read the settings" }, \
	{ "PUT",    path,          obj, api_h_single_update, "replace; carries the current version" }

static const struct api_route routes[] = {
	{ "GET", "", API_OBJ__COUNT, h_index, "this list of routes" },
	COLLECTION(API_PATH_NETWORKS, API_OBJ_NETWORK),
	COLLECTION(API_PATH_INTERNAL, API_OBJ_INTERNAL_CERT),
	COLLECTION(API_PATH_CA, API_OBJ_CA_CERT),
	COLLECTION(API_PATH_TELEMETRY, API_OBJ_TELEMETRY),
	{ "GET", API_PATH_TEL_STATUSES, API_OBJ__COUNT, h_tel_status,
	  "telemetry streaming state and errors by type" },
	COLLECTION(API_PATH_IKE_POLICIES, API_OBJ_IKE_POLICY),
	COLLECTION(API_PATH_PSKS, API_OBJ_PSK),
	COLLECTION(API_PATH_XFORM_SETS, API_OBJ_TRANSFORM_SET),
	COLLECTION(API_PATH_CRYPTO_MAPS, API_OBJ_CRYPTO_MAP),
	COLLECTION(API_PATH_IP_POOLS, API_OBJ_IP_POOL),
	COLLECTION(API_PATH_DYN_MAPS, API_OBJ_DYNAMIC_MAP),
	COLLECTION(API_PATH_LOCAL_USERS, API_OBJ_LOCAL_USER),
	COLLECTION(API_PATH_TUNNEL_IFS, API_OBJ_TUNNEL_IF),
	SINGLETON(API_PATH_DPD, API_OBJ_DPD),
	SINGLETON(API_PATH_IKE_SETTINGS, API_OBJ_IKE_SETTINGS),
	{ "GET", API_PATH_IKE_SAS, API_OBJ__COUNT, api_h_ike_sas,
	  "IKE SAs (show crypto isakmp sa)" },
	{ "GET", API_PATH_IPSEC_SAS, API_OBJ__COUNT, api_h_ipsec_sas,
	  "IPsec SAs and their counters (show crypto ipsec sa)" },
	{ "GET", API_PATH_TUNNELS, API_OBJ__COUNT, api_h_tunnels,
	  "tunnels per crypto map entry, with the active peer" },
	{ "GET", API_PATH_IKE_STATS, API_OBJ__COUNT, api_h_ike_stats,
	  "IKE engine counters: messages, drops by reason, half-open SAs" },
	{ "GET", API_PATH_POOL_STATUS, API_OBJ__COUNT, api_h_ip_pools,
	  "address pools: size, addresses leased, clients refused (show ip local pool)" },
	{ "GET", API_PATH_TUNNEL_IF_STATUS, API_OBJ__COUNT, api_h_tunnel_ifs,
	  "GRE tunnel interfaces: state, packets and bytes (show interfaces tunnel)" },
	{ "POST", API_PATH_CLEAR, API_OBJ__COUNT, api_h_clear_sessions,
	  "clear crypto session: {\"remote\": \"A.B.C.D\"}, or {} for all; answers {\"cleared\": N}" },
};

static const struct {
	int         status;
	const char *reason;
} reasons[] = {
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 413, "Payload Too Large" },
	{ 500, "Internal Server Error" },
};

const char *
api_status_reason(int status)
{
	for (size_t i = 0; i < ARRAY_LEN(reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Error";
}

char *
api_error_body(const struct api_err *err)
{
	json_t *root = json_object(), *e = json_object();
	char *text;

	json_object_set_new(e, "status", json_integer(err->status));
	json_object_set_new(e, "message", json_string(err->message));
	if (err->field[0] != '\0')
		json_object_set_new(e, "field", json_string(err->field));
	json_object_set_new(root, "error", e);
	text = api_json_text(root);
	json_decref(root);
	return text;
}

static int
h_index(struct api_call *c)
{
	json_t *list = json_array();

	for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
		json_t *r = json_object();
		char path[256];

		snprintf(path, sizeof(path), "%s%s", API_BASE_PATH, routes[i].pattern);
		json_object_set_new(r, "method", json_string(routes[i].method));
		json_object_set_new(r, "path", json_string(path));
		json_object_set_new(r, "help", json_string(routes[i].help));
		json_array_append_new(list, r);
	}
	c->out = json_object();
	json_object_set_new(c->out, "routes", list);
	return 0;
}

/* Not configured: DISCONNECTED with no errors, whatever the client last saw. */
static int
h_tel_status(struct api_call *c)
{
	const struct api_hooks *h = &c->api->hooks;
	const struct config *cur = h->config_current(h->ctx);
	struct tel_status st;
	json_t *item = json_object(), *errors = json_array(), *items;

	memset(&st, 0, sizeof(st));
	st.state = TEL_STATE_DISCONNECTED;
	if (cur->telemetry != NULL && h->telemetry_status != NULL)
		h->telemetry_status(h->ctx, &st);
	if ((unsigned)st.state >= TEL_STATE__COUNT)
		st.state = TEL_STATE_DISCONNECTED;
	for (int i = 0; cur->telemetry != NULL && i < TEL_ERR__COUNT; i++) {
		const struct tel_error *e = &st.errors[i];
		json_t *je;

		if (e->count == 0)
			continue;
		je = json_object();
		json_object_set_new(je, "errorType", json_string(tel_err_type_names[i]));
		st.errors[i].message[TEL_ERR_MSG_MAX - 1] = '\0';
		json_object_set_new(je, "errorMessage", json_string(e->message));
		json_object_set_new(je, "errorCount", json_integer((json_int_t)e->count));
		json_object_set_new(je, "errorCode", json_integer(e->code));
		json_object_set_new(je, "type", json_string("telemetryerror"));
		json_array_append_new(errors, je);
	}
	json_object_set_new(item, "state", json_string(tel_state_names[st.state]));
	json_object_set_new(item, "errors", errors);
	json_object_set_new(item, "type", json_string("telemetrystreamingstatus"));
	items = json_array();
	json_array_append_new(items, item);
	c->out = json_object();
	json_object_set_new(c->out, "items", items);
	return 0;
}

/* "/object/networks/{id}" against "/object/networks/abc": id = "abc". */
static int
route_match(const char *pattern, const char *path, char *id, size_t idsize)
{
	const char *brace = strstr(pattern, "{id}");
	size_t n, len;

	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	n = (size_t)(brace - pattern);
	if (strncmp(pattern, path, n) != 0)
		return 0;
	path += n;
	len = strcspn(path, "/");
	if (len == 0 || path[len] != '\0')
		return 0;
	if (len >= idsize)
		len = idsize - 1;	/* too long for any id: a 404 */
	memcpy(id, path, len);
	id[len] = '\0';
	return 1;
}

/* Only what a host[:port] may hold goes into links.self. */
static void
self_base(struct api_call *c)
{
	const char *host = c->req->host;
	size_t len = host ? strlen(host) : 0;

	if (len == 0 || len >= API_HOST_MAX ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
	    != len)
		host = c->api->listen;
	snprintf(c->self_base, sizeof(c->self_base), "http://%s%s", host, API_BASE_PATH);
}

static void
respond(struct api_resp *resp, struct api_call *c, int rc)
{
	if (rc == -1) {
		resp->status = c->err.status ? c->err.status : 500;
		if (resp->status >= 500)
			log_warnx("api: %s %s: %s", c->req->method, c->req->path, c->err.message);
		resp->body = api_error_body(&c->err);
		return;
	}
	resp->status = c->status ? c->status : 200;
	if (c->out != NULL && (resp->body = api_json_text(c->out)) == NULL) {
		api_errf(&c->err, 500, "", "the answer is larger than %d bytes",
			 API_TEXT_OUT_MAX);
		respond(resp, c, -1);
	}
}

static int
route_find(struct api_call *c, const char *method, const char *path, struct api_resp *resp,
	   const struct api_route **out)
{
	size_t allowed = 0;

	for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
		if (!route_match(routes[i].pattern, path, c->id, sizeof(c->id)))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			*out = &routes[i];
			return 0;
		}
		if (!strstr(resp->allow, routes[i].method)) {
			size_t n = strlen(resp->allow);

			snprintf(resp->allow + n, sizeof(resp->allow) - n, "%s%s", n ? ", " : "",
				 routes[i].method);
		}
		allowed++;
	}
	if (allowed > 0)
		return api_errf(&c->err, 405, "", "%s is not allowed on %s%s (allowed: %s)",
				method, API_BASE_PATH, path, resp->allow);
	return api_errf(&c->err, 404, "", "no such path %s%s (GET %s lists the routes)",
			API_BASE_PATH, path, API_BASE_PATH);
}

void
api_dispatch(struct api *api, const struct api_req *req, struct api_resp *resp)
{
	const struct api_route *route = NULL;
	const char *method = req->method;
	size_t baselen = strlen(API_BASE_PATH), len;
	char path[API_PATH_MAX];
	struct api_call c;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	memset(&c, 0, sizeof(c));
	c.api = api;
	c.req = req;
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	if (strncmp(req->path, API_BASE_PATH, baselen) != 0 ||
	    (req->path[baselen] != '/' && req->path[baselen] != '\0') ||
	    str_copy(path, sizeof(path), req->path + baselen) == -1) {
		api_errf(&c.err, 404, "", "no such path (the API lives under %s)", API_BASE_PATH);
		goto done;
	}
	if ((len = strlen(path)) > 0 && path[len - 1] == '/')
		path[len - 1] = '\0';
	if (route_find(&c, method, path, resp, &route) == -1)
		goto done;
	if (req->body_len > API_BODY_MAX) {
		api_errf(&c.err, 413, "", "the body is larger than %d bytes", API_BODY_MAX);
		goto done;
	}
	c.t = route->obj < API_OBJ__COUNT ? &api_types[route->obj] : NULL;
	self_base(&c);
	rc = route->fn(&c);
done:
	respond(resp, &c, rc);
	json_decref(c.out);
}

void
api_resp_free(struct api_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
}

struct api *
api_core_new(const char *state_dir, const char *listen, const struct api_hooks *hooks)
{
	struct api *api = xcalloc(1, sizeof(*api));

	api->state_dir = xstrdup(state_dir);
	api->journal_fd = -1;
	api->listen = xstrdup(listen ? listen : "127.0.0.1");
	api->hooks = *hooks;
	return api;
}
