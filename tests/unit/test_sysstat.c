/*
 * Unit tests for the system metrics: the procfs parsers on real-looking and
 * hostile text (every input copied to an exact-size heap buffer, so ASan
 * sees any read past the end), utilisation from fake /proc/stat samples,
 * and the series the source emits from a fake procfs tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "metrics/procfs.h"
#include "metrics/sysstat.h"
#include "metrics_env.h"

static const char stat_real[] =
	"cpu  74608 2520 24433 1117073 6176 4054 0 0 0 0\n"
	"cpu0 37784 1260 12317 558554 3037 2037 0 0 0 0\n"
	"cpu1 36824 1260 12116 558519 3139 2017 0 0 0 0\n"
	"intr 1462898 41 9 0 0 0 0 3 0 1 0 0 0 147 0 0 0 0 0 0 0 0 0 0\n"
	"ctxt 1990473\n"
	"btime 1700000000\n"
	"processes 2915\n"
	"procs_running 1\n"
	"procs_blocked 0\n"
	"softirq 1037521 0 299553 1 48 28932 0 17 375437 0 333533\n";

static const char meminfo_real[] =
	"MemTotal:       16314364 kB\n"
	"MemFree:          812340 kB\n"
	"MemAvailable:   10472112 kB\n"
	"Buffers:          581776 kB\n"
	"HugePages_Total:       0\n"
	"Hugepagesize:       2048 kB\n";

/* utime 37, stime 12, starttime 987654, rss 2048 */
static const char pid_stat_real[] =
	"4242 (vpn-agent) S 1 4242 4242 0 -1 4194560 1520 0 0 0 37 12 0 0 20 0 3 0 "
	"987654 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 17663 0 0 0 "
	"17 3 0 0 0 0 0\n";

/* ---- helpers -------------------------------------------------------- */

static int
stat_parse_n(const char *text, size_t len, struct procfs_stat *out)
{
	char *buf = metrics_env_exact(text, len);
	int rc = procfs_stat_parse(buf, len, out);

	free(buf);
	return rc;
}

static int
stat_parse(const char *text, struct procfs_stat *out)
{
	return stat_parse_n(text, strlen(text), out);
}

static int
meminfo_parse_n(const char *text, size_t len, struct procfs_meminfo *out)
{
	char *buf = metrics_env_exact(text, len);
	int rc = procfs_meminfo_parse(buf, len, out);

	free(buf);
	return rc;
}

static int
meminfo_parse(const char *text, struct procfs_meminfo *out)
{
	return meminfo_parse_n(text, strlen(text), out);
}

static int
pid_parse_n(const char *text, size_t len, struct procfs_pid_stat *out)
{
	char *buf = metrics_env_exact(text, len);
	int rc = procfs_pid_stat_parse(buf, len, out);

	free(buf);
	return rc;
}

static int
pid_parse(const char *text, struct procfs_pid_stat *out)
{
	return pid_parse_n(text, strlen(text), out);
}

static struct procfs_stat *
stat_new(void)
{
	struct procfs_stat *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	return st;
}

/* ---- /proc/stat ----------------------------------------------------- */

static void
test_stat_real(void **state)
{
	struct procfs_stat *st = stat_new();

	assert_int_equal(stat_parse(stat_real, st), 0);
	assert_int_equal(st->total.ticks[CPU_MODE_USER], 74608);
	assert_int_equal(st->total.ticks[CPU_MODE_NICE], 2520);
	assert_int_equal(st->total.ticks[CPU_MODE_SYSTEM], 24433);
	assert_int_equal(st->total.ticks[CPU_MODE_IDLE], 1117073);
	assert_int_equal(st->total.ticks[CPU_MODE_IOWAIT], 6176);
	assert_int_equal(st->total.ticks[CPU_MODE_IRQ], 4054);
	assert_int_equal(st->total.ticks[CPU_MODE_SOFTIRQ], 0);
	assert_int_equal(st->total.ticks[CPU_MODE_STEAL], 0);
	assert_int_equal(st->ncpu, 2);
	assert_true(st->present[0] && st->present[1] && !st->present[2]);
	assert_int_equal(st->cpu[1].ticks[CPU_MODE_USER], 36824);
	assert_int_equal(st->cpu[1].ticks[CPU_MODE_IRQ], 2017);
	assert_true(st->has_btime);
	assert_int_equal(st->btime, 1700000000);
	assert_string_equal(procfs_cpu_mode_names[CPU_MODE_SOFTIRQ], "softirq");
	free(st);
}

static void
test_stat_missing_and_extra_fields(void **state)
{
	struct procfs_stat *st = stat_new();

	/* Old kernels: four fields; the rest read as 0. No btime, no newline. */
	assert_int_equal(stat_parse("cpu 1 2 3 4\ncpu0 1 2 3 4", st), 0);
	assert_int_equal(st->total.ticks[CPU_MODE_IDLE], 4);
	assert_int_equal(st->total.ticks[CPU_MODE_IOWAIT], 0);
	assert_int_equal(st->cpu[0].ticks[CPU_MODE_STEAL], 0);
	assert_false(st->has_btime);
	/* Future kernels: more columns, tabs, trailing blanks. */
	assert_int_equal(stat_parse("cpu\t1 2 3 4 5 6 7 8 9 10 11 12 13  \n", st), 0);
	assert_int_equal(st->total.ticks[CPU_MODE_STEAL], 8);
	assert_int_equal(st->ncpu, 0);
	/* Lines not ours are skipped whatever they hold. */
	assert_int_equal(stat_parse("weird \x01\x02 stuff\ncpu 1 2 3 4\n\n\nintr x\n", st), 0);
	free(st);
}

static void
test_stat_huge_numbers(void **state)
{
	struct procfs_stat *st = stat_new();

	assert_int_equal(stat_parse("cpu 18446744073709551615 0 0 0\n", st), 0);
	assert_true(st->total.ticks[CPU_MODE_USER] == UINT64_MAX);
	assert_int_equal(stat_parse("cpu 18446744073709551616 0 0 0\n", st), -1);
	assert_int_equal(stat_parse("cpu 99999999999999999999999999 0 0 0\n", st), -1);
	assert_int_equal(stat_parse("cpu 1 2 3 4\nbtime 18446744073709551616\n", st), -1);
	assert_int_equal(stat_parse("cpu 1 2 3 4\ncpu18446744073709551616 1 2 3 4\n", st), -1);
	free(st);
}

static void
test_stat_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"hello world\n",
		"cpu\n",
		"cpu 1 2 3\n",			/* fewer than four fields */
		"cpu 1 2 x 4\n",
		"cpu 1 2 3 4x\n",
		"cpu -1 2 3 4\n",
		"cpu +1 2 3 4\n",
		"cpu 1 2 3 4\r\n",
		"cpufreq 1 2 3 4\n",
		"cpu0 1 2 3 4\n",		/* no aggregate line */
		"cpu 1 2 3 4\ncpu 1 2 3 4\n",	/* aggregate twice */
		"cpu 1 2 3 4\ncpu0 1 2 3 4\ncpu0 1 2 3 4\n",
		"cpu 1 2 3 4\ncpu0x 1 2 3 4\n",
		"cpu 1 2 3 4\ncpu0\n",
		"cpu 1 2 3 4\nbtime\n",
		"cpu 1 2 3 4\nbtime x\n",
		"cpu 1 2 3 4\nbtime 12 13\n",
		"cpu 1 2 3 4\nbtime12\n",
		" cpu 1 2 3 4\n",
	};
	struct procfs_stat *st = stat_new();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (stat_parse(bad[i], st) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	/* A NUL inside a field. */
	assert_int_equal(stat_parse_n("cpu 1 2\0 3 4\n", 13, st), -1);
	free(st);
}

static void
test_stat_truncated(void **state)
{
	struct procfs_stat *st = stat_new();
	size_t first = strchr(stat_real, '\n') - stat_real;

	/* Every prefix: never a read past the end; a first line cut before its
	 * fourth field is refused. */
	for (size_t len = 0; len <= strlen(stat_real); len++) {
		int rc = stat_parse_n(stat_real, len, st);

		if (len < strlen("cpu  74608 2520 24433 1"))
			assert_int_equal(rc, -1);
		if (len > first)
			assert_true(rc == 0 || rc == -1);
	}
	assert_int_equal(stat_parse_n(stat_real, first, st), 0);
	assert_int_equal(st->total.ticks[CPU_MODE_IRQ], 4054);
	free(st);
}

static void
test_stat_cpu_cap_and_gaps(void **state)
{
	struct procfs_stat *st = stat_new();
	char text[256];

	/* An offline CPU has no line: cpu1 is absent. */
	assert_int_equal(stat_parse("cpu 2 2 2 2\ncpu0 1 1 1 1\ncpu2 1 1 1 1\n", st), 0);
	assert_int_equal(st->ncpu, 3);
	assert_true(st->present[0] && !st->present[1] && st->present[2]);
	/* The last CPU under the cap is kept, beyond it ignored (but checked). */
	snprintf(text, sizeof(text), "cpu 1 1 1 1\ncpu%d 5 6 7 8\ncpu%d 1 1 1 1\n",
		 SYSSTAT_CPU_MAX - 1, SYSSTAT_CPU_MAX);
	assert_int_equal(stat_parse(text, st), 0);
	assert_int_equal(st->ncpu, SYSSTAT_CPU_MAX);
	assert_int_equal(st->cpu[SYSSTAT_CPU_MAX - 1].ticks[CPU_MODE_IDLE], 8);
	snprintf(text, sizeof(text), "cpu 1 1 1 1\ncpu%d 1 x 1 1\n", SYSSTAT_CPU_MAX + 5);
	assert_int_equal(stat_parse(text, st), -1);
	free(st);
}

/* ---- /proc/meminfo -------------------------------------------------- */

static void
test_meminfo_real(void **state)
{
	struct procfs_meminfo mi;

	assert_int_equal(meminfo_parse(meminfo_real, &mi), 0);
	assert_true(mi.total_bytes == 16314364ull * 1024);
	assert_true(mi.available_bytes == 10472112ull * 1024);
	/* Order does not matter; no trailing newline. */
	assert_int_equal(meminfo_parse("MemAvailable: 1 kB\nMemTotal:\t2 kB", &mi), 0);
	assert_true(mi.total_bytes == 2048 && mi.available_bytes == 1024);
	assert_int_equal(meminfo_parse("MemTotal: 18014398509481983 kB\n"
				       "MemAvailable: 0 kB\n", &mi), 0);
	assert_true(mi.total_bytes == 18014398509481983ull * 1024);
}

static void
test_meminfo_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"MemTotal: 1 kB\n",				/* no MemAvailable */
		"MemAvailable: 1 kB\n",
		"MemTotal: 1\nMemAvailable: 1 kB\n",		/* no unit */
		"MemTotal: 1 MB\nMemAvailable: 1 kB\n",
		"MemTotal: 1 kB x\nMemAvailable: 1 kB\n",
		"MemTotal: x kB\nMemAvailable: 1 kB\n",
		"MemTotal: -1 kB\nMemAvailable: 1 kB\n",
		"MemTotal: kB\nMemAvailable: 1 kB\n",
		"MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n",	/* bytes overflow */
		"MemTotal: 18446744073709551616 kB\nMemAvailable: 1 kB\n",
		"MemTotal: 1 kB\nMemTotal: 1 kB\nMemAvailable: 1 kB\n",
		"MemTotal 1 kB\nMemAvailable: 1 kB\n",
	};
	struct procfs_meminfo mi;
	const char *end;
	size_t need;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (meminfo_parse(bad[i], &mi) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	/* Truncation: accepted exactly once MemAvailable's "kB" is whole. */
	end = strstr(meminfo_real, "MemAvailable:");
	end = strstr(end, "kB") + 2;
	need = (size_t)(end - meminfo_real);
	for (size_t len = 0; len <= strlen(meminfo_real); len++)
		assert_int_equal(meminfo_parse_n(meminfo_real, len, &mi), len >= need ? 0 : -1);
}

/* ---- /proc/self/stat ------------------------------------------------ */

static void
test_pid_stat_real(void **state)
{
	struct procfs_pid_stat ps;

	assert_int_equal(pid_parse(pid_stat_real, &ps), 0);
	assert_int_equal(ps.utime, 37);
	assert_int_equal(ps.stime, 12);
	assert_int_equal(ps.starttime, 987654);
	assert_int_equal(ps.rss, 2048);
}

static void
test_pid_stat_hostile_comm(void **state)
{
	struct procfs_pid_stat ps;

	/* comm "a) (b c)" with blanks, ") (" and a ')' of its own. */
	assert_int_equal(pid_parse("77 (a) (b c)) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 "
				   "99 0 10", &ps), 0);
	assert_int_equal(ps.utime, 5);
	assert_int_equal(ps.stime, 6);
	assert_int_equal(ps.starttime, 99);
	assert_int_equal(ps.rss, 10);
	/* comm that looks like fields, a newline in comm, an empty comm. */
	assert_int_equal(pid_parse("1 (1 2 3 4 5 6 7 8 9 10 11 12) S 1 1 1 0 -1 0 0 0 0 0 "
				   "7 8 0 0 20 0 1 0 9 0 11\n", &ps), 0);
	assert_int_equal(ps.utime, 7);
	assert_int_equal(ps.rss, 11);
	assert_int_equal(pid_parse("1 (x\ny) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4\n",
				   &ps), 0);
	assert_int_equal(ps.rss, 4);
	assert_int_equal(pid_parse("1 () S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4\n",
				   &ps), 0);
	assert_int_equal(ps.starttime, 3);
}

static void
test_pid_stat_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"1",
		"1 (x",
		"1 (x)",
		"1 (x) ",
		"(x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4\n",
		"-1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4\n",
		"1 x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4\n",
		"1 (x)S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0\n",	/* no rss */
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 -1 2 0 0 20 0 1 0 3 0 4\n",	/* negative utime */
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2x 0 0 20 0 1 0 3 0 4\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 18446744073709551616 2 0 0 20 0 1 0 3 0 4\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 0 4)\n",	/* last ')' wins */
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3\n0 4\n",
	};
	struct procfs_pid_stat ps;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pid_parse(bad[i], &ps) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(pid_parse("1 (x) S 1 1 1 0 -1 0 0 0 0 0 18446744073709551615 2 0 0 "
				   "20 0 1 0 3 0 4", &ps), 0);
	assert_true(ps.utime == UINT64_MAX);
}

static void
test_pid_stat_truncated(void **state)
{
	struct procfs_pid_stat ps;
	const char *rss = strstr(pid_stat_real, " 2048 ") + 1;
	size_t at = (size_t)(rss - pid_stat_real);

	for (size_t len = 0; len <= strlen(pid_stat_real); len++) {
		int rc = pid_parse_n(pid_stat_real, len, &ps);

		if (len <= at)
			assert_int_equal(rc, -1);
		else
			assert_int_equal(rc, 0);
		if (len >= at + 4)
			assert_int_equal(ps.rss, 2048);
	}
}

/* ---- sysstat over a fake procfs tree -------------------------------- */

struct fake {
	char            root[64];
	struct sysstat *st;
	double          tck, page;
};

static void
rm(const struct fake *f, const char *name)
{
	char path[256];

	metrics_env_path(f->root, name, path, sizeof(path));
	unlink(path);
}

static int
fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char path[256];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/test_sysstat.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	metrics_env_path(f->root, "self", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	metrics_env_path(f->root, "self/fd", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	f->st = sysstat_new("1.2.3");
	sysstat_set_procfs_root(f->st, f->root);
	f->tck = (double)sysconf(_SC_CLK_TCK);
	f->page = (double)sysconf(_SC_PAGESIZE);
	*state = f;
	return 0;
}

static int
fake_teardown(void **state)
{
	struct fake *f = *state;
	char path[256];
	struct dirent *de;
	DIR *dir;

	metrics_env_path(f->root, "self/fd", path, sizeof(path));
	if ((dir = opendir(path)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			char file[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			unlink(file);
		}
		closedir(dir);
	}
	rmdir(path);
	rm(f, "self/stat");
	rm(f, "stat");
	rm(f, "meminfo");
	metrics_env_path(f->root, "self", path, sizeof(path));
	rmdir(path);
	assert_int_equal(rmdir(f->root), 0);
	sysstat_free(f->st);
	free(f);
	return 0;
}

/* Two samples with exact binary-fraction ratios:
 * cpu0 +200 ticks, 150 busy -> 0.75; cpu1 +200 ticks, 50 busy (idle and
 * iowait are both idle) -> 0.25; all CPUs +400, 200 busy -> 0.5. */
static const char stat_a[] =
	"cpu  100 0 100 700 100 0 0 0 0 0\n"
	"cpu0 50 0 50 350 50 0 0 0 0 0\n"
	"cpu1 50 0 50 350 50 0 0 0 0 0\n"
	"btime 1700000000\n";
static const char stat_b[] =
	"cpu  210 10 150 850 150 10 10 10 0 0\n"
	"cpu0 150 0 100 400 50 0 0 0 0 0\n"
	"cpu1 60 10 50 450 100 10 10 10 0 0\n"
	"btime 1700000000\n";

static const struct metric_sample *
find(const struct metrics_snapshot *snap, enum metric_id id, const char *l0, const char *l1)
{
	const struct metric_sample *hit = NULL;

	for (size_t i = 0; i < snap->n; i++) {
		const struct metric_sample *s = &snap->samples[i];

		if (s->id != id)
			continue;
		if (l0 != NULL && strcmp(s->labels[0], l0) != 0)
			continue;
		if (l1 != NULL && strcmp(s->labels[1], l1) != 0)
			continue;
		if (hit != NULL)
			fail_msg("metric %s{%s,%s} twice", metric_defs[id].prom_name,
				 l0 ? l0 : "", l1 ? l1 : "");
		hit = s;
	}
	return hit;
}

static double
value_of(const struct metrics_snapshot *snap, enum metric_id id, const char *l0, const char *l1)
{
	const struct metric_sample *s = find(snap, id, l0, l1);

	if (s == NULL)
		fail_msg("metric %s{%s,%s} missing", metric_defs[id].prom_name, l0 ? l0 : "",
			 l1 ? l1 : "");
	return s->value;
}

static void
test_utilisation_two_samples(void **state)
{
	struct fake *f = *state;

	metrics_env_put(f->root, "stat", stat_a);
	assert_int_equal(sysstat_sample(f->st, 1000), 0);
	/* One sample is no period yet. */
	assert_true(sysstat_utilisation(f->st, SYSSTAT_CPU_ALL) == 0);
	assert_true(sysstat_utilisation(f->st, 0) == 0);
	metrics_env_put(f->root, "stat", stat_b);
	assert_int_equal(sysstat_sample(f->st, 1000 + SYSSTAT_SAMPLE_MS), 0);
	assert_true(sysstat_utilisation(f->st, SYSSTAT_CPU_ALL) == 0.5);
	assert_true(sysstat_utilisation(f->st, 0) == 0.75);
	assert_true(sysstat_utilisation(f->st, 1) == 0.25);
	assert_true(sysstat_utilisation(f->st, 2) == 0);
	assert_true(sysstat_utilisation(f->st, -7) == 0);
	assert_true(sysstat_utilisation(f->st, SYSSTAT_CPU_MAX) == 0);
	/* Same counters again: no delta, so 0, not NaN. */
	assert_int_equal(sysstat_sample(f->st, 1000 + 2 * SYSSTAT_SAMPLE_MS), 0);
	assert_true(sysstat_utilisation(f->st, SYSSTAT_CPU_ALL) == 0);
	assert_true(sysstat_utilisation(f->st, 0) == 0);
}

static void
test_utilisation_early_sample_ignored(void **state)
{
	struct fake *f = *state;

	metrics_env_put(f->root, "stat", stat_a);
	assert_int_equal(sysstat_sample(f->st, 0), 0);
	metrics_env_put(f->root, "stat", stat_b);
	assert_int_equal(sysstat_sample(f->st, SYSSTAT_SAMPLE_MS), 0);
	/* A sample 10 ms later would measure a period of ~1 tick: ignored. */
	metrics_env_put(f->root, "stat", "cpu 999 0 0 0\ncpu0 999 0 0 0\n");
	assert_int_equal(sysstat_sample(f->st, SYSSTAT_SAMPLE_MS + 10), 0);
	assert_true(sysstat_utilisation(f->st, 0) == 0.75);
}

static void
test_utilisation_counter_steps_back(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;

	metrics_env_put(f->root, "stat", stat_b);
	assert_int_equal(sysstat_sample(f->st, 0), 0);
	/* cpu0 iowait 50 -> 40 (seen on some kernels), user +100: the negative
	 * delta counts as 0, and the exported counter does not go down. */
	metrics_env_put(f->root, "stat", "cpu  310 10 150 850 140 10 10 10\n"
		       "cpu0 250 0 100 400 40 0 0 0\n"
		       "cpu1 60 10 50 450 100 10 10 10\n");
	assert_int_equal(sysstat_sample(f->st, SYSSTAT_SAMPLE_MS), 0);
	assert_true(sysstat_utilisation(f->st, 0) == 1);
	assert_true(sysstat_utilisation(f->st, 1) == 0);
	assert_true(sysstat_utilisation(f->st, SYSSTAT_CPU_ALL) == 1);
	snap = metrics_snapshot_new(0);
	sysstat_metrics_source(f->st, snap);
	assert_true(value_of(snap, M_CPU_SECONDS, "0", "iowait") == 50 / f->tck);
	assert_true(value_of(snap, M_CPU_SECONDS, "0", "user") == 250 / f->tck);
	metrics_snapshot_free(snap);
}

static void
test_sample_failures_keep_previous(void **state)
{
	struct fake *f = *state;

	/* No file at all. */
	assert_int_equal(sysstat_sample(f->st, 0), -1);
	metrics_env_put(f->root, "stat", stat_a);
	assert_int_equal(sysstat_sample(f->st, 0), 0);
	metrics_env_put(f->root, "stat", stat_b);
	assert_int_equal(sysstat_sample(f->st, SYSSTAT_SAMPLE_MS), 0);
	/* A bad read changes nothing; the next good one measures from b. */
	metrics_env_put(f->root, "stat", "cpu 1 2\n");
	assert_int_equal(sysstat_sample(f->st, 2 * SYSSTAT_SAMPLE_MS), -1);
	assert_true(sysstat_utilisation(f->st, 0) == 0.75);
	rm(f, "stat");
	assert_int_equal(sysstat_sample(f->st, 3 * SYSSTAT_SAMPLE_MS), -1);
	metrics_env_put(f->root, "stat", "cpu  210 10 150 850 150 10 10 10\n"
		       "cpu0 250 0 100 400 50 0 0 0\n"
		       "cpu1 60 10 50 450 100 10 10 10\n");
	assert_int_equal(sysstat_sample(f->st, 4 * SYSSTAT_SAMPLE_MS), 0);
	assert_true(sysstat_utilisation(f->st, 0) == 1);
	assert_true(sysstat_utilisation(f->st, 1) == 0);
}

static void
test_source_series(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;

	metrics_env_put(f->root, "stat", stat_a);
	assert_int_equal(sysstat_sample(f->st, 0), 0);
	metrics_env_put(f->root, "stat", stat_b);
	assert_int_equal(sysstat_sample(f->st, SYSSTAT_SAMPLE_MS), 0);
	metrics_env_put(f->root, "meminfo", "MemTotal:       2048 kB\nMemFree:  10 kB\nMemAvailable:   1024 kB\n");
	metrics_env_put(f->root, "self/stat", "4242 (vpn (agent)) S 1 4242 4242 0 -1 4194560 1520 0 0 0 300 100 "
			    "0 0 20 0 3 0 12345 123456789 256 18446744073709551615 1 1 0\n");
	metrics_env_put(f->root, "self/fd/0", "");
	metrics_env_put(f->root, "self/fd/1", "");
	metrics_env_put(f->root, "self/fd/2", "");

	snap = metrics_snapshot_new(0);
	sysstat_metrics_source(f->st, snap);
	/* build 1, overall 1, 2 CPUs x (1 + 8 modes), memory 2, process 4 */
	assert_int_equal(snap->n, 1 + 1 + 2 * 9 + 2 + 4);
	assert_true(value_of(snap, M_BUILD_INFO, "1.2.3", NULL) == 1);
	assert_true(value_of(snap, M_CPU_OVERALL_UTILISATION, NULL, NULL) == 0.5);
	assert_true(value_of(snap, M_CPU_UTILISATION, "0", NULL) == 0.75);
	assert_true(value_of(snap, M_CPU_UTILISATION, "1", NULL) == 0.25);
	for (int m = 0; m < CPU_MODE__COUNT; m++) {
		static const double cpu1[CPU_MODE__COUNT] = { 60, 10, 50, 450, 100, 10, 10, 10 };

		assert_true(value_of(snap, M_CPU_SECONDS, "1", procfs_cpu_mode_names[m]) ==
			    cpu1[m] / f->tck);
	}
	assert_true(value_of(snap, M_CPU_SECONDS, "0", "idle") == 400 / f->tck);
	assert_null(find(snap, M_CPU_UTILISATION, "2", NULL));
	assert_true(value_of(snap, M_MEMORY_TOTAL, NULL, NULL) == 2097152);
	assert_true(value_of(snap, M_MEMORY_AVAILABLE, NULL, NULL) == 1048576);
	assert_true(value_of(snap, M_PROCESS_CPU_SECONDS, NULL, NULL) == 400 / f->tck);
	assert_true(value_of(snap, M_PROCESS_RESIDENT_MEMORY, NULL, NULL) == 256 * f->page);
	assert_true(value_of(snap, M_PROCESS_OPEN_FDS, NULL, NULL) == 3);
	assert_true(value_of(snap, M_PROCESS_START_TIME, NULL, NULL) ==
		    1700000000 + 12345 / f->tck);
	metrics_snapshot_free(snap);
}

static void
test_source_sparse_cpus(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;

	metrics_env_put(f->root, "stat", "cpu 2 0 0 2\ncpu0 1 0 0 1\n");
	assert_int_equal(sysstat_sample(f->st, 0), 0);
	/* cpu3 comes online: shown, but with no period of its own yet. */
	metrics_env_put(f->root, "stat", "cpu 6 0 0 6\ncpu0 2 0 0 2\ncpu3 3 0 0 3\n");
	assert_int_equal(sysstat_sample(f->st, SYSSTAT_SAMPLE_MS), 0);
	snap = metrics_snapshot_new(0);
	sysstat_metrics_source(f->st, snap);
	assert_true(value_of(snap, M_CPU_UTILISATION, "0", NULL) == 0.5);
	assert_true(value_of(snap, M_CPU_UTILISATION, "3", NULL) == 0);
	assert_true(value_of(snap, M_CPU_SECONDS, "3", "user") == 3 / f->tck);
	assert_null(find(snap, M_CPU_UTILISATION, "1", NULL));
	assert_null(find(snap, M_CPU_SECONDS, "2", NULL));
	metrics_snapshot_free(snap);
}

static void
test_source_without_files(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap = metrics_snapshot_new(0);

	/* Nothing readable and never sampled: only the build info (and the
	 * empty fd folder counts 0). */
	sysstat_metrics_source(f->st, snap);
	assert_int_equal(snap->n, 2);
	assert_true(value_of(snap, M_BUILD_INFO, "1.2.3", NULL) == 1);
	assert_true(value_of(snap, M_PROCESS_OPEN_FDS, NULL, NULL) == 0);
	metrics_snapshot_free(snap);

	/* Malformed files are left out the same way, twice (warned once). */
	metrics_env_put(f->root, "meminfo", "MemTotal: lots\n");
	metrics_env_put(f->root, "self/stat", "garbage");
	for (int i = 0; i < 2; i++) {
		snap = metrics_snapshot_new(0);
		sysstat_metrics_source(f->st, snap);
		assert_int_equal(snap->n, 2);
		metrics_snapshot_free(snap);
	}
}

/* The real /proc of the test machine, through the same code. */
static void
test_real_procfs(void **state)
{
	struct sysstat *st = sysstat_new(NULL);
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	const struct metric_sample *s;
	double u;

	assert_int_equal(sysstat_sample(st, 0), 0);
	usleep(20000);
	assert_int_equal(sysstat_sample(st, SYSSTAT_SAMPLE_MS), 0);
	u = sysstat_utilisation(st, SYSSTAT_CPU_ALL);
	assert_true(u >= 0 && u <= 1);
	sysstat_metrics_source(st, snap);
	assert_true(value_of(snap, M_BUILD_INFO, "unknown", NULL) == 1);
	assert_non_null(find(snap, M_CPU_UTILISATION, "0", NULL));
	assert_true(value_of(snap, M_MEMORY_TOTAL, NULL, NULL) > 0);
	assert_true(value_of(snap, M_MEMORY_AVAILABLE, NULL, NULL) <=
		    value_of(snap, M_MEMORY_TOTAL, NULL, NULL));
	assert_true(value_of(snap, M_PROCESS_OPEN_FDS, NULL, NULL) >= 3);
	assert_true(value_of(snap, M_PROCESS_RESIDENT_MEMORY, NULL, NULL) > 0);
	s = find(snap, M_PROCESS_START_TIME, NULL, NULL);
	assert_non_null(s);
	assert_true(s->value > 1e9 && s->value <= (double)time(NULL) + 1);
	metrics_snapshot_free(snap);
	sysstat_free(st);
	sysstat_free(NULL);
}

#define FAKE(t) cmocka_unit_test_setup_teardown(t, fake_setup, fake_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_real),
		cmocka_unit_test(test_stat_missing_and_extra_fields),
		cmocka_unit_test(test_stat_huge_numbers),
		cmocka_unit_test(test_stat_garbage),
		cmocka_unit_test(test_stat_truncated),
		cmocka_unit_test(test_stat_cpu_cap_and_gaps),
		cmocka_unit_test(test_meminfo_real),
		cmocka_unit_test(test_meminfo_hostile),
		cmocka_unit_test(test_pid_stat_real),
		cmocka_unit_test(test_pid_stat_hostile_comm),
		cmocka_unit_test(test_pid_stat_garbage),
		cmocka_unit_test(test_pid_stat_truncated),
		FAKE(test_utilisation_two_samples),
		FAKE(test_utilisation_early_sample_ignored),
		FAKE(test_utilisation_counter_steps_back),
		FAKE(test_sample_failures_keep_previous),
		FAKE(test_source_series),
		FAKE(test_source_sparse_cpus),
		FAKE(test_source_without_files),
		cmocka_unit_test(test_real_procfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
