/*
 * The transport end to end in one process: api_new() listens on loopback,
 * a libevent HTTP client on the same event_base talks to it. Covers what
 * api_dispatch() tests cannot: the token file at start, 401 without the
 * token, JSON 413/405 with their headers, Content-Type.
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

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "api/api_int.h"

const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

struct env {
	char               dir[64];
	struct event_base *base;
	struct api        *api;
	struct config     *cur;
	uint16_t           port;
	char               auth[API_TOKEN_HEX + 16];
};

struct result {
	int   status;
	char *body;
	char  ctype[64], allow[64], www[64];
	struct event_base *base;
};

static struct config *
fake_current(void *ctx)
{
	return ((struct env *)ctx)->cur;
}

static void
fake_changed(void *ctx)
{
}

static void
header_copy(struct evhttp_request *r, const char *name, char *out, size_t size)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(r), name);

	str_copy(out, size, v ? v : "");
}

static void
done_cb(struct evhttp_request *r, void *arg)
{
	struct result *res = arg;
	struct evbuffer *in;
	size_t n;

	res->status = r ? evhttp_request_get_response_code(r) : -1;
	if (r != NULL) {
		in = evhttp_request_get_input_buffer(r);
		n = evbuffer_get_length(in);
		res->body = xmalloc(n + 1);
		evbuffer_remove(in, res->body, n);
		res->body[n] = '\0';
		header_copy(r, "Content-Type", res->ctype, sizeof(res->ctype));
		header_copy(r, "Allow", res->allow, sizeof(res->allow));
		header_copy(r, "WWW-Authenticate", res->www, sizeof(res->www));
	}
	event_base_loopexit(res->base, NULL);
}

static void
request(struct env *e, enum evhttp_cmd_type cmd, const char *path, int auth, const char *body,
	size_t len, struct result *res)
{
	struct evhttp_connection *conn = evhttp_connection_base_new(e->base, NULL, "127.0.0.1",
								     e->port);
	struct evhttp_request *r;
	struct evkeyvalq *h;

	memset(res, 0, sizeof(*res));
	res->base = e->base;
	evhttp_connection_set_timeout(conn, 5);
	r = evhttp_request_new(done_cb, res);
	h = evhttp_request_get_output_headers(r);
	evhttp_add_header(h, "Host", "agent.example:9276");
	if (auth)
		evhttp_add_header(h, "Authorization", e->auth);
	if (body != NULL) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(r), body, len);
	}
	assert_int_equal(evhttp_make_request(conn, r, cmd, path), 0);
	event_base_dispatch(e->base);
	evhttp_connection_free(conn);
}

static int
setup(void **state)
{
	struct env *e = xcalloc(1, sizeof(*e));
	struct api_hooks hooks = { .ctx = e, .config_current = fake_current,
				   .config_changed = fake_changed };
	char listen[64];
	char tok[API_TOKEN_HEX + 1];

	str_copy(e->dir, sizeof(e->dir), "/tmp/test_api_http.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->base = event_base_new();
	e->cur = config_new();
	/* A free port: try a few in a range that depends on the pid. */
	for (int i = 0; i < 50 && e->api == NULL; i++) {
		e->port = (uint16_t)(20000 + (getpid() * 7 + i * 131) % 30000);
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", e->port);
		e->api = api_new(e->base, e->dir, listen, &hooks);
	}
	assert_non_null(e->api);
	assert_int_equal(api_token_load(e->dir, tok), 0);
	snprintf(e->auth, sizeof(e->auth), "Bearer %s", tok);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char p[128];

	api_free(e->api);
	event_base_free(e->base);
	config_free(e->cur);
	snprintf(p, sizeof(p), "%s/%s", e->dir, API_TOKEN_FILE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", e->dir, API_CONFIG_FILE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", e->dir, API_JOURNAL_FILE);
	unlink(p);
	rmdir(e->dir);
	free(e);
	return 0;
}

static void
test_token_file_made(void **state)
{
	struct env *e = *state;
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", e->dir, API_TOKEN_FILE);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_401_without_token(void **state)
{
	struct env *e = *state;
	struct result res;

	request(e, EVHTTP_REQ_GET, "/api/v1/object/networks", 0, NULL, 0, &res);
	assert_int_equal(res.status, 401);
	assert_string_equal(res.ctype, "application/json");
	assert_non_null(strstr(res.www, "Bearer"));
	assert_non_null(strstr(res.body, "\"status\": 401"));
	free(res.body);
	/* 401 before 404: unknown paths reveal nothing either */
	request(e, EVHTTP_REQ_GET, "/nothing", 0, NULL, 0, &res);
	assert_int_equal(res.status, 401);
	free(res.body);
}

static void
test_authorised_round_trip(void **state)
{
	struct env *e = *state;
	const char *body = "{\"name\": \"TelemetryCollector\", \"subType\": \"HOST\", "
			   "\"value\": \"10.1.1.1\"}";
	struct result res;

	request(e, EVHTTP_REQ_GET, "/api/v1/object/networks", 1, NULL, 0, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.ctype, "application/json");
	assert_non_null(strstr(res.body, "\"items\": []"));
	free(res.body);

	request(e, EVHTTP_REQ_POST, "/api/v1/object/networks", 1, body, strlen(body), &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "http://agent.example:9276/api/v1/object/networks/"));
	free(res.body);
	assert_int_equal(e->cur->n_networks, 1);

	request(e, EVHTTP_REQ_GET, "/api/v1/object/networks?filter=name:TelemetryCollector", 1,
		NULL, 0, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "\"value\": \"10.1.1.1\""));
	free(res.body);
}

static void
test_413_and_405_are_json(void **state)
{
	struct env *e = *state;
	size_t n = API_BODY_MAX + 100;
	char *big = xmalloc(n);
	struct result res;

	memset(big, ' ', n);
	request(e, EVHTTP_REQ_POST, "/api/v1/object/networks", 1, big, n, &res);
	assert_int_equal(res.status, 413);
	assert_string_equal(res.ctype, "application/json");
	assert_non_null(strstr(res.body, "\"status\": 413"));
	free(res.body);
	free(big);

	request(e, EVHTTP_REQ_PATCH, "/api/v1/object/networks", 1, "{}", 2, &res);
	assert_int_equal(res.status, 405);
	assert_string_equal(res.allow, "GET, POST");
	assert_non_null(strstr(res.body, "\"status\": 405"));
	free(res.body);
}

static void
test_bad_listen_address(void **state)
{
	struct env *e = *state;
	struct api_hooks hooks = { .ctx = e, .config_current = fake_current,
				   .config_changed = fake_changed };

	assert_null(api_new(e->base, e->dir, "no-port", &hooks));
	assert_null(api_new(e->base, e->dir, "127.0.0.1:0", &hooks));
	assert_null(api_new(e->base, "/nonexistent/dir", "127.0.0.1:9", &hooks));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_token_file_made),
		T(test_401_without_token),
		T(test_authorised_round_trip),
		T(test_413_and_405_are_json),
		T(test_bad_listen_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
