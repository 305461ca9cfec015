/*
 * GET /metrics on libevent's evhttp: collect a snapshot from the registry,
 * render it, answer. Anything else is 404; methods other than GET/HEAD 405.
 */
#include "metrics/http.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

struct metrics_http {
	struct evhttp           *http;
	struct metrics_registry *reg;
};

static void
metrics_http_cb(struct evhttp_request *req, void *arg)
{
	struct metrics_http *mh = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct metrics_snapshot *snap;
	struct evbuffer *body;
	struct strbuf sb;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "GET only");
		return;
	}
	snap = metrics_registry_collect(mh->reg);
	strbuf_init(&sb, METRICS_TEXT_MAX);
	metrics_prom_render(snap, &sb);
	metrics_snapshot_free(snap);
	if (sb.overflow) {
		log_warnx("metrics: exposition larger than %d bytes", METRICS_TEXT_MAX);
		evhttp_send_error(req, HTTP_INTERNAL, "exposition too large");
		strbuf_free(&sb);
		return;
	}
	body = evbuffer_new();
	evbuffer_add(body, sb.data ? sb.data : "", sb.len);
	strbuf_free(&sb);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  METRICS_PROM_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

struct metrics_http *
metrics_http_new(struct event_base *base, const char *listen_addr, struct metrics_registry *reg)
{
	struct metrics_http *mh = xcalloc(1, sizeof(*mh));
	char host[256];
	uint16_t port;
	int fd = -1;

	if (addr_port_parse(listen_addr, host, sizeof(host), &port) == -1) {
		log_warnx("metrics: bad listen address %s (want ADDR:PORT)", listen_addr);
		goto fail;
	}
	mh->reg = reg;
	if ((mh->http = evhttp_new(base)) == NULL)
		goto fail;
	evhttp_set_allowed_methods(mh->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(mh->http, metrics_http_cb, mh);
	if ((fd = tcp_listen(host, port)) == -1 || evhttp_accept_socket(mh->http, fd) != 0) {
		log_warn("metrics: cannot listen on %s", listen_addr);
		if (fd != -1)
			close(fd);
		goto fail;
	}
	log_info("metrics: serving /metrics on http://%s", listen_addr);
	return mh;
fail:
	metrics_http_free(mh);
	return NULL;
}

void
metrics_http_free(struct metrics_http *mh)
{
	if (mh == NULL)
		return;
	if (mh->http)
		evhttp_free(mh->http);
	free(mh);
}
