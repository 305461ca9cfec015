/*
 * The transport: evhttp on the loop thread's event_base, the bearer-token
 * check (constant time) and the body cap, around api_dispatch(). Nothing
 * here knows an object type.
 */
#include "api/api_int.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/crypto.h>

static const struct {
	enum evhttp_cmd_type cmd;
	const char          *name;
} methods[] = {
	{ EVHTTP_REQ_GET, "GET" },	   { EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },	   { EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_HEAD, "HEAD" },	   { EVHTTP_REQ_PATCH, "PATCH" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
};

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	for (size_t i = 0; i < ARRAY_LEN(methods); i++)
		if (methods[i].cmd == cmd)
			return methods[i].name;
	return "UNKNOWN";
}

int
api_auth_check(const struct api *api, const char *authorization)
{
	const char *p;

	if (authorization == NULL || api->token[0] == '\0' ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return -1;
	for (p = authorization + 7; *p == ' '; p++)
		;
	/* The length is public (always API_TOKEN_HEX); the bytes are not. */
	if (strlen(p) != API_TOKEN_HEX)
		return -1;
	return CRYPTO_memcmp(p, api->token, API_TOKEN_HEX) == 0 ? 0 : -1;
}

static void
reply(struct evhttp_request *r, struct api_resp *resp)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r);
	struct evbuffer *buf = evbuffer_new();

	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (resp->status == 401)
		evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"vpn-agent\"");
	if (resp->status == 405 && resp->allow[0])
		evhttp_add_header(out, "Allow", resp->allow);
	if (buf != NULL && resp->body != NULL) {
		evbuffer_add(buf, resp->body, strlen(resp->body));
		evbuffer_add(buf, "\n", 1);
	}
	evhttp_send_reply(r, resp->status, api_status_reason(resp->status), buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

static void
reply_error(struct evhttp_request *r, int status, const char *message)
{
	struct api_resp resp = { .status = status };
	struct api_err err;

	api_errf(&err, status, "", "%s", message);
	resp.body = api_error_body(&err);
	reply(r, &resp);
	api_resp_free(&resp);
}

/* The body as a NUL-terminated copy (wiped later: it may carry a key). */
static char *
body_copy(struct evhttp_request *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r);
	char *body;

	*len = evbuffer_get_length(in);
	body = xmalloc(*len + 1);
	if (*len > 0)
		evbuffer_remove(in, body, *len);
	body[*len] = '\0';
	return body;
}

static void
http_cb(struct evhttp_request *r, void *arg)
{
	struct api *api = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
	struct evkeyvalq *hdr = evhttp_request_get_input_headers(r);
	struct api_req req = { 0 };
	struct api_resp resp;
	char *body = NULL;

	req.method = method_name(evhttp_request_get_command(r));
	req.path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (req.path == NULL || *req.path == '\0')
		req.path = "/";
	if (api_auth_check(api, evhttp_find_header(hdr, "Authorization")) == -1) {
		log_debug("api: %s %s: 401", req.method, req.path);
		reply_error(r, 401, "missing or wrong bearer token (Authorization: Bearer "
			    "<STATE_DIR/api-token>)");
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(r)) > API_BODY_MAX) {
		reply_error(r, 413, "the body is larger than the API accepts");
		return;
	}
	req.query = uri ? evhttp_uri_get_query(uri) : NULL;
	req.host = evhttp_find_header(hdr, "Host");
	body = body_copy(r, &req.body_len);
	req.body = body;
	api_dispatch(api, &req, &resp);
	log_debug("api: %s %s: %d", req.method, req.path, resp.status);
	reply(r, &resp);
	api_resp_free(&resp);
	OPENSSL_cleanse(body, req.body_len);
	free(body);
}

struct api *
api_new(struct event_base *base, const char *state_dir, const char *listen_addr,
	const struct api_hooks *hooks)
{
	struct api *api = api_core_new(state_dir, listen_addr, hooks);
	char host[256];
	uint16_t port;
	int fd = -1;

	api->base = base;
	if (addr_port_parse(listen_addr, host, sizeof(host), &port) == -1) {
		log_warnx("api: bad listen address \"%s\" (want ADDR:PORT)", listen_addr);
		goto fail;
	}
	if (api_token_load(state_dir, api->token) == -1)
		goto fail;
	if ((api->http = evhttp_new(base)) == NULL) {
		log_warnx("api: evhttp_new failed");
		goto fail;
	}
	evhttp_set_max_body_size(api->http, API_HTTP_BODY_MAX);
	evhttp_set_max_headers_size(api->http, API_HEADERS_MAX);
	evhttp_set_timeout(api->http, API_TIMEOUT_S);
	/* Every method reaches us, so even a PATCH gets a JSON 405. */
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(api->http, http_cb, api);
	if ((fd = tcp_listen(host, port)) == -1 || evhttp_accept_socket(api->http, fd) != 0) {
		log_warn("api: cannot listen on %s", listen_addr);
		if (fd != -1)
			close(fd);
		goto fail;
	}
	log_info("api: listening on http://%s%s", listen_addr, API_BASE_PATH);
	return api;
fail:
	api_free(api);
	return NULL;
}

void
api_free(struct api *api)
{
	if (api == NULL)
		return;
	if (api->http != NULL)
		evhttp_free(api->http);
	OPENSSL_cleanse(api->token, sizeof(api->token));
	if (api->journal_fd != -1)
		close(api->journal_fd);
	free(api->state_dir);
	free(api->listen);
	free(api);
}
