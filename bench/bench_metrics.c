/*
 * Telemetry encoding benchmark: builds snapshots of N series shaped like
 * the agent's (per-peer tunnel/DPD rows: 2 labels), renders Prometheus text
 * and packs protobuf DataResponse messages, and prints ns per series and
 * series per second for each step. In-process, no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/strbuf.h"
#include "core/util.h"
#include "metrics/metrics.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct metrics_snapshot *
build(size_t n)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(now_real_ms());
	char cpu[16], mode[16];

	for (size_t i = 0; i < n; i++) {
		snprintf(cpu, sizeof(cpu), "%zu", i / 8);
		snprintf(mode, sizeof(mode), "m%zu", i % 8);
		metrics_add(snap, M_CPU_SECONDS, (double)(i * 7919 % 100000) / 3.0,
			    (const char *[]){ cpu, mode });
	}
	return snap;
}

static int
count_sink(void *ctx, uint8_t *buf, size_t len, size_t nmetrics)
{
	size_t *bytes = ctx;

	*bytes += len;
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double t_build = 0, t_prom = 0, t_pb = 0;
	size_t text_len = 0, pb_bytes = 0;

	if (n == 0 || n > METRICS_SERIES_MAX || rounds <= 0) {
		fprintf(stderr, "usage: bench_metrics [SERIES (1..%d)] [ROUNDS]\n",
			METRICS_SERIES_MAX);
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		struct metrics_snapshot *snap;
		struct strbuf sb;
		double t0 = now_s(), t1, t2, t3;

		snap = build(n);
		t1 = now_s();
		strbuf_init(&sb, 1u << 30);
		metrics_prom_render(snap, &sb);
		t2 = now_s();
		pb_bytes = 0;
		metrics_pb_encode(snap, "7eb19498-2519-11ef-a8dd-b74b4d43a7e7", NULL,
				  4 * 1024 * 1024 - 65536, count_sink, &pb_bytes);
		t3 = now_s();
		text_len = sb.len;
		strbuf_free(&sb);
		metrics_snapshot_free(snap);
		t_build += t1 - t0;
		t_prom += t2 - t1;
		t_pb += t3 - t2;
	}
	printf("series per snapshot: %zu, rounds: %d\n", n, rounds);
	printf("%-28s %10s %14s\n", "step", "ns/series", "series/s");
	printf("%-28s %10.0f %14.0f\n", "snapshot build", t_build / rounds / n * 1e9,
	       n * rounds / t_build);
	printf("%-28s %10.0f %14.0f   (%zu bytes)\n", "Prometheus text render",
	       t_prom / rounds / n * 1e9, n * rounds / t_prom, text_len);
	printf("%-28s %10.0f %14.0f   (%zu bytes)\n", "protobuf encode + split",
	       t_pb / rounds / n * 1e9, n * rounds / t_pb, pb_bytes);
	return 0;
}
