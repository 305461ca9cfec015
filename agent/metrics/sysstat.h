/*
 * Host and process metrics from procfs: per-CPU and overall utilisation
 * from /proc/stat deltas, CPU seconds by mode, memory, the agent's own
 * process metrics and the build info. The loop samples /proc/stat every
 * SYSSTAT_SAMPLE_MS; the rest is read when a snapshot is built.
 */
#ifndef METRICS_SYSSTAT_H
#define METRICS_SYSSTAT_H

#include <stdint.h>

#include "metrics/metrics.h"

#define SYSSTAT_SAMPLE_MS 5000		/* utilisation period */
#define SYSSTAT_FILE_MAX  (4 << 20)	/* cap on one procfs file read */
#define SYSSTAT_CPU_ALL   (-1)		/* sysstat_utilisation(): all CPUs */

struct sysstat;

/* version is copied; it labels vpnagent_build_info. */
struct sysstat *sysstat_new(const char *version);
void sysstat_free(struct sysstat *st);
/* Reads <dir>/stat, <dir>/meminfo, <dir>/self/stat and <dir>/self/fd/
 * instead of /proc (tests); dir is copied. */
void sysstat_set_procfs_root(struct sysstat *st, const char *dir);

/* Reads /proc/stat; utilisation covers the span between this sample and
 * the previous one. Call once at start, then every SYSSTAT_SAMPLE_MS; a
 * call less than a second after the last sample is ignored (returns 0).
 * -1 (logged, previous sample kept) when the file is unreadable or bad. */
int sysstat_sample(struct sysstat *st, int64_t now_mono_ms);
/* Busy share 0..1 of CPU cpu (or SYSSTAT_CPU_ALL) over the last period;
 * 0 before two samples or for a CPU absent from either. */
double sysstat_utilisation(const struct sysstat *st, int cpu);

/* A metrics_source_fn: build info, CPU, memory and process metrics. */
void sysstat_metrics_source(void *sysstat, struct metrics_snapshot *snap);

#endif
