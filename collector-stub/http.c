/*
 * The collector-stub's HTTP side on its own thread and event_base: GET
 * /metrics (what the devices sent, Prometheus text) and a small JSON
 * control API for tests and operators (devices, interval, cancel), with no
 * authentication: loopback by default, a warning on any other address.
 * Routes are a table; bodies are validated here and applied by protocol.c.
 */
#include "stub.h"
#include "core/log.h"
#include "core/util.h"
#include "metrics/metrics.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <event2/util.h>
#include <jansson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

typedef void (*route_fn)(struct evhttp_request *req, json_t *body);

struct route {
	const char		*path;
	enum evhttp_cmd_type	 method;
	route_fn		 fn;
};

static struct {
	struct event_base	*base;
	struct evhttp		*http;
	pthread_t		 thread;
} H;

static void
reply(struct evhttp_request *req, int code, const char *type, const char *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, NULL, out);
	evbuffer_free(out);
}

/* Takes the reference to obj. */
static void
reply_json(struct evhttp_request *req, int code, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	json_decref(obj);
	if (text == NULL) {
		reply(req, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	reply(req, code, "application/json", text, strlen(text));
	free(text);
}

static void
reply_error(struct evhttp_request *req, int code, const char *fmt, ...) LOG_PRINTF(3, 4);

static void
reply_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	json_t *o = json_object(), *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may quote request bytes that are not UTF-8. */
	if ((s = json_string(msg)) == NULL)
		s = json_string("invalid request");
	json_object_set_new(o, "error", s);
	reply_json(req, code, o);
}

static void
h_metrics(struct evhttp_request *req, json_t *body)
{
	struct strbuf sb;

	strbuf_init(&sb, STUB_PROM_MAX);
	stub_lock();
	series_render(&sb);
	devices_prom_render(&sb);
	stub_unlock();
	if (sb.overflow)
		reply(req, 500, "text/plain", "metrics too large\n", 18);
	else
		reply(req, 200, METRICS_PROM_CONTENT_TYPE, sb.data != NULL ? sb.data : "", sb.len);
	strbuf_free(&sb);
}

static void
h_devices(struct evhttp_request *req, json_t *body)
{
	char *text;

	stub_lock();
	text = devices_json();
	stub_unlock();
	reply(req, 200, "application/json", text, strlen(text));
	free(text);
}

/* A short string field; -1 when present but not a usable string. */
static int
field_str(json_t *body, const char *name, const char **out)
{
	json_t *v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= STUB_FIELD_MAX)
		return -1;
	*out = json_string_value(v);
	return 0;
}

static int
fields_known(struct evhttp_request *req, json_t *body, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) {
		size_t i;

		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			reply_error(req, 400, "%s: unknown field", key);
			return -1;
		}
	}
	return 0;
}

static void
h_interval(struct evhttp_request *req, json_t *body)
{
	static const char *const known[] = { "interval", "subscriptions", "device", "version",
	    NULL };
	struct interval_change chg;
	json_t *v;
	int sent;

	memset(&chg, 0, sizeof(chg));
	if (fields_known(req, body, known) == -1)
		return;
	v = json_object_get(body, "interval");
	if (v == NULL || !json_is_integer(v)) {
		reply_error(req, 400, "interval: required, an integer number of seconds");
		return;
	}
	chg.interval = json_integer_value(v);
	if ((v = json_object_get(body, "subscriptions")) != NULL) {
		size_t i;
		json_t *s;

		if (!json_is_array(v) || json_array_size(v) > STUB_LIST_MAX) {
			reply_error(req, 400, "subscriptions: an array of at most %d strings",
			    STUB_LIST_MAX);
			return;
		}
		json_array_foreach(v, i, s) {
			if (!json_is_string(s) || json_string_length(s) == 0 ||
			    json_string_length(s) >= STUB_FIELD_MAX) {
				str_list_free(&chg.subs);
				reply_error(req, 400, "subscriptions[%zu]: a non-empty string", i);
				return;
			}
			str_list_add(&chg.subs, json_string_value(s));
		}
		chg.has_subs = 1;
	}
	if (field_str(body, "device", &chg.device) == -1) {
		reply_error(req, 400, "device: a device UUID string");
	} else if (field_str(body, "version", &chg.version) == -1) {
		reply_error(req, 400, "version: a non-empty string");
	} else if (proto_set_interval(&chg, &sent) == -1) {
		reply_error(req, 404, "device: unknown device %s", chg.device);
	} else {
		log_info("interval set to %lld s for %s, sent to %d stream(s)",
		    (long long)chg.interval, chg.device != NULL ? chg.device : "all devices", sent);
		reply_json(req, 200, json_pack("{s:i}", "sent", sent));
	}
	str_list_free(&chg.subs);
}

static void
h_cancel(struct evhttp_request *req, json_t *body)
{
	static const char *const known[] = { "device", NULL };
	const char *device;
	int sent;

	if (fields_known(req, body, known) == -1)
		return;
	if (field_str(body, "device", &device) == -1 || device == NULL) {
		reply_error(req, 400, "device: required, a device UUID string");
		return;
	}
	if ((sent = proto_cancel(device)) == 0) {
		reply_error(req, 404, "device: %s has no connected ControlStream", device);
		return;
	}
	reply_json(req, 200, json_pack("{s:i}", "sent", sent));
}

static const struct route routes[] = {
	{ "/metrics",		EVHTTP_REQ_GET,		h_metrics },
	{ "/api/devices",	EVHTTP_REQ_GET,		h_devices },
	{ "/api/interval",	EVHTTP_REQ_POST,	h_interval },
	{ "/api/cancel",	EVHTTP_REQ_POST,	h_cancel },
};

static json_t *
body_parse(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t err;
	json_t *body;

	if (len == 0) {
		reply_error(req, 400, "body: empty, a JSON object is required");
		return NULL;
	}
	body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &err);
	if (body == NULL) {
		reply_error(req, 400, "body: invalid JSON: %s (line %d, column %d)", err.text,
		    err.line, err.column);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		reply_error(req, 400, "body: must be a JSON object");
		return NULL;
	}
	return body;
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	int path_found = 0;
	json_t *body = NULL;

	if (path == NULL || path[0] == '\0')
		path = "/";
	for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
		const struct route *r = &routes[i];

		if (strcmp(r->path, path) != 0)
			continue;
		path_found = 1;
		if (r->method != method)
			continue;
		if (method == EVHTTP_REQ_POST && (body = body_parse(req)) == NULL)
			return;
		r->fn(req, body);
		json_decref(body);
		return;
	}
	if (path_found) {
		reply_error(req, 405, "method not allowed on %s", path);
		return;
	}
	reply_error(req, 404, "no such path: %s", path);
}

/* The control API has no authentication: only loopback keeps it to this
 * host. Names other than "localhost" count as not loopback. */
static int
host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

static void *
http_main(void *arg)
{
	event_base_dispatch(H.base);
	return NULL;
}

int
http_start(const char *listen)
{
	struct evhttp_bound_socket *sock;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256];
	uint16_t port;
	int bound = 0;

	if (addr_port_parse(listen, host, sizeof(host), &port) == -1) {
		log_warnx("--metrics-listen: not ADDR:PORT: %s", listen);
		return -1;
	}
	/* Before the base exists, so that http_stop can wake it from main. */
	evthread_use_pthreads();
	if ((H.base = event_base_new()) == NULL || (H.http = evhttp_new(H.base)) == NULL)
		fatalx("libevent: cannot create the HTTP server");
	evhttp_set_max_body_size(H.http, STUB_HTTP_BODY_MAX);
	evhttp_set_allowed_methods(H.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(H.http, dispatch, NULL);
	if ((sock = evhttp_bind_socket_with_handle(H.http, host, port)) == NULL) {
		log_warn("cannot listen for HTTP at address=%s", listen);
		evhttp_free(H.http);
		event_base_free(H.base);
		libevent_global_shutdown();
		memset(&H, 0, sizeof(H));
		return -1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	log_info("Metrics and control API listening at address=%s port=%d", host, bound);
	if (!host_is_loopback(host))
		log_warnx("--metrics-listen %s is not a loopback address: the control API "
		    "(/api/interval, /api/cancel) has no authentication, anyone who reaches "
		    "it can change intervals and cancel streams", listen);
	if (pthread_create(&H.thread, NULL, http_main, NULL) != 0)
		fatalx("cannot start the HTTP thread");
	return 0;
}

void
http_stop(void)
{
	if (H.base == NULL)
		return;
	event_base_loopexit(H.base, NULL);
	pthread_join(H.thread, NULL);
	evhttp_free(H.http);
	event_base_free(H.base);
	libevent_global_shutdown();
	memset(&H, 0, sizeof(H));
}
