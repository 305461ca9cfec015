/*
 * Pure parsers for the three procfs files the system metrics need:
 * /proc/stat, /proc/meminfo and /proc/<pid>/stat. No I/O: each takes a
 * bounded buffer (not NUL-terminated) so unit tests and the fuzzer drive
 * them directly. Private to the metrics module.
 */
#ifndef METRICS_PROCFS_H
#define METRICS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

#define SYSSTAT_CPU_MAX 1024	/* cpuN lines beyond this are ignored */

/* Tick counters of a "cpu" line, in /proc/stat column order. */
enum procfs_cpu_mode {
	CPU_MODE_USER,
	CPU_MODE_NICE,
	CPU_MODE_SYSTEM,
	CPU_MODE_IDLE,
	CPU_MODE_IOWAIT,
	CPU_MODE_IRQ,
	CPU_MODE_SOFTIRQ,
	CPU_MODE_STEAL,
	CPU_MODE__COUNT
};
extern const char *const procfs_cpu_mode_names[CPU_MODE__COUNT];

struct procfs_cpu {
	uint64_t ticks[CPU_MODE__COUNT];
};

struct procfs_stat {
	struct procfs_cpu total;			/* the aggregate "cpu" line */
	size_t            ncpu;				/* highest cpuN seen + 1 */
	uint8_t           present[SYSSTAT_CPU_MAX];	/* offline CPUs have no line */
	struct procfs_cpu cpu[SYSSTAT_CPU_MAX];
	uint64_t          btime;			/* boot time, epoch seconds */
	int               has_btime;
};

struct procfs_meminfo {
	uint64_t total_bytes;		/* MemTotal */
	uint64_t available_bytes;	/* MemAvailable */
};

/* The fields of /proc/<pid>/stat the process metrics use (man 5 proc). */
struct procfs_pid_stat {
	uint64_t utime;		/* field 14, clock ticks */
	uint64_t stime;		/* field 15, clock ticks */
	uint64_t starttime;	/* field 22, clock ticks after boot */
	uint64_t rss;		/* field 24, pages */
};

/* Each returns 0, or -1 when the text is malformed or lacks a required
 * line (then *out holds nothing useful). Never reads past buf + len. */
int procfs_stat_parse(const char *buf, size_t len, struct procfs_stat *out);
int procfs_meminfo_parse(const char *buf, size_t len, struct procfs_meminfo *out);
int procfs_pid_stat_parse(const char *buf, size_t len, struct procfs_pid_stat *out);

#endif
