/*
 * System metrics source (see sysstat.h): keeps the last two /proc/stat
 * samples for utilisation, reads memory and the agent's own process files
 * when a snapshot is built. A file that fails is warned about once, and
 * again only after it has worked in between.
 */
#include "metrics/sysstat.h"
#include "metrics/procfs.h"
#include "core/log.h"
#include "core/util.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A sample sooner than this after the last one is ignored: with 100 Hz
 * ticks a short period makes utilisation mostly rounding noise. */
#define SYSSTAT_SAMPLE_MIN_MS 1000

enum sysstat_file { FILE_STAT, FILE_MEMINFO, FILE_SELF_STAT, FILE_SELF_FD, FILE__COUNT };
static const char *const sysstat_file_names[FILE__COUNT] = {
	[FILE_STAT] = "stat",
	[FILE_MEMINFO] = "meminfo",
	[FILE_SELF_STAT] = "self/stat",
	[FILE_SELF_FD] = "self/fd",
};
static_assert(sizeof(sysstat_file_names) / sizeof(sysstat_file_names[0]) == FILE__COUNT,
	      "sysstat file names");

struct sysstat {
	char               *version;
	char               *root;
	long                clk_tck, page_size;
	struct procfs_stat *prev, *cur;		/* cur is the latest sample */
	int                 nsamples;		/* 0, 1 or 2 (two or more) */
	int64_t             sample_ms;
	double              util_total;
	double              util[SYSSTAT_CPU_MAX];
	/* Exported tick counters: iowait may step back on some kernels and
	 * a counter must not, so each keeps its highest value seen. */
	struct procfs_cpu   mono[SYSSTAT_CPU_MAX];
	unsigned            failing;		/* bit per enum sysstat_file */
};

struct sysstat *
sysstat_new(const char *version)
{
	struct sysstat *st = xcalloc(1, sizeof(*st));

	st->version = xstrdup(version != NULL ? version : "unknown");
	st->root = xstrdup("/proc");
	st->clk_tck = sysconf(_SC_CLK_TCK);
	if (st->clk_tck <= 0)
		st->clk_tck = 100;
	st->page_size = sysconf(_SC_PAGESIZE);
	if (st->page_size <= 0)
		st->page_size = 4096;
	st->prev = xcalloc(1, sizeof(*st->prev));
	st->cur = xcalloc(1, sizeof(*st->cur));
	return st;
}

void
sysstat_free(struct sysstat *st)
{
	if (st == NULL)
		return;
	free(st->version);
	free(st->root);
	free(st->prev);
	free(st->cur);
	free(st);
}

void
sysstat_set_procfs_root(struct sysstat *st, const char *dir)
{
	free(st->root);
	st->root = xstrdup(dir);
}

static void
file_failed(struct sysstat *st, enum sysstat_file f, const char *why)
{
	if (st->failing & (1u << f))
		return;
	st->failing |= 1u << f;
	log_warnx("sysstat: %s/%s: %s; its metrics are left out until it reads again",
		  st->root, sysstat_file_names[f], why);
}

static void
file_ok(struct sysstat *st, enum sysstat_file f)
{
	if (!(st->failing & (1u << f)))
		return;
	st->failing &= ~(1u << f);
	log_info("sysstat: %s/%s reads again", st->root, sysstat_file_names[f]);
}

static int
file_path(const struct sysstat *st, enum sysstat_file f, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", st->root, sysstat_file_names[f]);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Reads a procfs file; on failure warns (once) and returns -1. */
static int
file_read(struct sysstat *st, enum sysstat_file f, char **buf, size_t *len)
{
	char path[PATH_MAX];

	if (file_path(st, f, path, sizeof(path)) == -1 ||
	    file_read_all(path, SYSSTAT_FILE_MAX, buf, len) == -1) {
		file_failed(st, f, strerror(errno));
		return -1;
	}
	return 0;
}

/* Busy share between two samples of one CPU; idle time is idle + iowait.
 * A counter that stepped back contributes nothing. */
static double
busy_ratio(const struct procfs_cpu *a, const struct procfs_cpu *b)
{
	double total = 0, idle = 0, r;

	for (int m = 0; m < CPU_MODE__COUNT; m++) {
		double d = b->ticks[m] > a->ticks[m] ? (double)(b->ticks[m] - a->ticks[m]) : 0;

		total += d;
		if (m == CPU_MODE_IDLE || m == CPU_MODE_IOWAIT)
			idle += d;
	}
	if (total <= 0)
		return 0;
	r = (total - idle) / total;
	return r < 0 ? 0 : r > 1 ? 1 : r;
}

static void
utilisation_update(struct sysstat *st)
{
	const struct procfs_stat *a = st->prev, *b = st->cur;

	st->util_total = 0;
	memset(st->util, 0, sizeof(st->util));
	if (st->nsamples < 2)
		return;
	st->util_total = busy_ratio(&a->total, &b->total);
	for (size_t i = 0; i < b->ncpu; i++) {
		if (b->present[i] && i < a->ncpu && a->present[i])
			st->util[i] = busy_ratio(&a->cpu[i], &b->cpu[i]);
	}
}

static void
counters_update(struct sysstat *st)
{
	const struct procfs_stat *b = st->cur;

	for (size_t i = 0; i < b->ncpu; i++) {
		if (!b->present[i])
			continue;
		for (int m = 0; m < CPU_MODE__COUNT; m++) {
			if (b->cpu[i].ticks[m] > st->mono[i].ticks[m])
				st->mono[i].ticks[m] = b->cpu[i].ticks[m];
		}
	}
}

int
sysstat_sample(struct sysstat *st, int64_t now_mono_ms)
{
	struct procfs_stat *tmp;
	char *buf = NULL;
	size_t len;
	int rc = -1;

	if (st->nsamples > 0 && now_mono_ms - st->sample_ms < SYSSTAT_SAMPLE_MIN_MS) {
		rc = 0;
		goto done;
	}
	if (file_read(st, FILE_STAT, &buf, &len) == -1)
		goto done;
	/* Parse over the older sample: on failure cur is still intact. */
	if (procfs_stat_parse(buf, len, st->prev) == -1) {
		file_failed(st, FILE_STAT, "malformed");
		goto done;
	}
	file_ok(st, FILE_STAT);
	tmp = st->prev;
	st->prev = st->cur;
	st->cur = tmp;
	if (st->nsamples < 2)
		st->nsamples++;
	st->sample_ms = now_mono_ms;
	utilisation_update(st);
	counters_update(st);
	rc = 0;
done:
	free(buf);
	return rc;
}

double
sysstat_utilisation(const struct sysstat *st, int cpu)
{
	if (cpu == SYSSTAT_CPU_ALL)
		return st->util_total;
	if (cpu < 0 || cpu >= SYSSTAT_CPU_MAX)
		return 0;
	return st->util[cpu];
}

static void
cpu_add(struct sysstat *st, struct metrics_snapshot *snap)
{
	const struct procfs_stat *b = st->cur;
	double tck = (double)st->clk_tck;

	if (st->nsamples == 0)
		return;
	metrics_add(snap, M_CPU_OVERALL_UTILISATION, st->util_total, NULL);
	for (size_t i = 0; i < b->ncpu; i++) {
		char cpu[24];

		if (!b->present[i])
			continue;
		snprintf(cpu, sizeof(cpu), "%zu", i);
		metrics_add(snap, M_CPU_UTILISATION, st->util[i], (const char *[]){ cpu });
		for (int m = 0; m < CPU_MODE__COUNT; m++)
			metrics_add(snap, M_CPU_SECONDS, (double)st->mono[i].ticks[m] / tck,
				    (const char *[]){ cpu, procfs_cpu_mode_names[m] });
	}
}

static void
memory_add(struct sysstat *st, struct metrics_snapshot *snap)
{
	struct procfs_meminfo mi;
	char *buf = NULL;
	size_t len;

	if (file_read(st, FILE_MEMINFO, &buf, &len) == -1)
		goto done;
	if (procfs_meminfo_parse(buf, len, &mi) == -1) {
		file_failed(st, FILE_MEMINFO, "malformed");
		goto done;
	}
	file_ok(st, FILE_MEMINFO);
	metrics_add(snap, M_MEMORY_AVAILABLE, (double)mi.available_bytes, NULL);
	metrics_add(snap, M_MEMORY_TOTAL, (double)mi.total_bytes, NULL);
done:
	free(buf);
}

static int
fd_count(struct sysstat *st, uint64_t *count)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int rc = -1;

	*count = 0;
	if (file_path(st, FILE_SELF_FD, path, sizeof(path)) == -1 ||
	    (dir = opendir(path)) == NULL) {
		file_failed(st, FILE_SELF_FD, strerror(errno));
		goto done;
	}
	/* The descriptor opendir() holds is counted too, as other exporters do. */
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(*count)++;
	}
	closedir(dir);
	file_ok(st, FILE_SELF_FD);
	rc = 0;
done:
	return rc;
}

static void
process_add(struct sysstat *st, struct metrics_snapshot *snap)
{
	struct procfs_pid_stat ps;
	double tck = (double)st->clk_tck;
	uint64_t fds;
	char *buf = NULL;
	size_t len;

	if (fd_count(st, &fds) == 0)
		metrics_add(snap, M_PROCESS_OPEN_FDS, (double)fds, NULL);
	if (file_read(st, FILE_SELF_STAT, &buf, &len) == -1)
		goto done;
	if (procfs_pid_stat_parse(buf, len, &ps) == -1) {
		file_failed(st, FILE_SELF_STAT, "malformed");
		goto done;
	}
	file_ok(st, FILE_SELF_STAT);
	metrics_add(snap, M_PROCESS_CPU_SECONDS, ((double)ps.utime + (double)ps.stime) / tck, NULL);
	metrics_add(snap, M_PROCESS_RESIDENT_MEMORY, (double)ps.rss * (double)st->page_size, NULL);
	/* Boot time comes with the /proc/stat sample. */
	if (st->nsamples > 0 && st->cur->has_btime)
		metrics_add(snap, M_PROCESS_START_TIME,
			    (double)st->cur->btime + (double)ps.starttime / tck, NULL);
done:
	free(buf);
}

void
sysstat_metrics_source(void *sysstat, struct metrics_snapshot *snap)
{
	struct sysstat *st = sysstat;

	metrics_add(snap, M_BUILD_INFO, 1, (const char *[]){ st->version });
	cpu_add(st, snap);
	memory_add(st, snap);
	process_add(st, snap);
}
