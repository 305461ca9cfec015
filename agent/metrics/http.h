/*
 * The diagnostics endpoint: GET /metrics (Prometheus text 0.0.4) on its own
 * loopback port, no token, as Prometheus expects.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include "metrics/metrics.h"

struct event_base;
struct metrics_http;

#define METRICS_TEXT_MAX (64 * 1024 * 1024)	/* cap on one exposition */

struct metrics_http *metrics_http_new(struct event_base *base, const char *listen_addr,
				      struct metrics_registry *reg);
void metrics_http_free(struct metrics_http *mh);

#endif
