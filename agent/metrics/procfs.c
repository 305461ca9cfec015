/*
 * procfs text parsers (see procfs.h). Every read goes through a small
 * bounded reader over (buf, len): a line is cut into a sub-reader first,
 * then split into blank-separated tokens, so nothing indexes past the end
 * even when the input is not NUL-terminated.
 */
#include "metrics/procfs.h"

#include <assert.h>
#include <string.h>

const char *const procfs_cpu_mode_names[CPU_MODE__COUNT] = {
	[CPU_MODE_USER] = "user",
	[CPU_MODE_NICE] = "nice",
	[CPU_MODE_SYSTEM] = "system",
	[CPU_MODE_IDLE] = "idle",
	[CPU_MODE_IOWAIT] = "iowait",
	[CPU_MODE_IRQ] = "irq",
	[CPU_MODE_SOFTIRQ] = "softirq",
	[CPU_MODE_STEAL] = "steal",
};
static_assert(sizeof(procfs_cpu_mode_names) / sizeof(procfs_cpu_mode_names[0]) ==
	      CPU_MODE__COUNT, "cpu mode names");

/* Fields a "cpu" line must have: kernels before 2.5.41 printed only these. */
#define CPU_FIELDS_MIN 4
/* /proc/<pid>/stat fields we read, numbered as in proc(5). */
#define PID_FIELD_UTIME     14
#define PID_FIELD_STIME     15
#define PID_FIELD_STARTTIME 22
#define PID_FIELD_RSS       24

struct rd {
	const char *p, *end;
};

static int
rd_eof(const struct rd *r)
{
	return r->p >= r->end;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
rd_skip_blank(struct rd *r)
{
	while (!rd_eof(r) && is_blank(*r->p))
		r->p++;
}

/* Cuts the next line (without its '\n') into a sub-reader. */
static struct rd
rd_line(struct rd *r)
{
	struct rd line = { r->p, r->p };

	while (line.end < r->end && *line.end != '\n')
		line.end++;
	r->p = line.end < r->end ? line.end + 1 : line.end;
	return line;
}

/* Consumes lit when the reader starts with it. */
static int
rd_literal(struct rd *r, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

/* The next blank-separated token; -1 at the end of the reader. */
static int
rd_token(struct rd *r, const char **tok, size_t *n)
{
	rd_skip_blank(r);
	if (rd_eof(r))
		return -1;
	*tok = r->p;
	while (!rd_eof(r) && !is_blank(*r->p))
		r->p++;
	*n = (size_t)(r->p - *tok);
	return 0;
}

/* A whole token of decimal digits that fits in 64 bits. */
static int
span_u64(const char *p, size_t n, uint64_t *v)
{
	uint64_t acc = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned)(p[i] - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*v = acc;
	return 0;
}

static int
rd_u64(struct rd *r, uint64_t *v)
{
	const char *tok;
	size_t n;

	if (rd_token(r, &tok, &n) == -1)
		return -1;
	return span_u64(tok, n, v);
}

/* Nothing but blanks left on the line. */
static int
rd_end(struct rd *r)
{
	rd_skip_blank(r);
	return rd_eof(r) ? 0 : -1;
}

/* "cpu" already consumed: the aggregate line or "cpuN". */
static int
stat_cpu_line(struct rd *line, struct procfs_stat *out, int *seen_total)
{
	struct procfs_cpu scratch, *cpu;
	uint64_t index, v;
	size_t nfields = 0;
	const char *tok;
	size_t n;

	if (rd_eof(line))
		return -1;
	if (is_blank(*line->p)) {
		if (*seen_total)
			return -1;
		*seen_total = 1;
		cpu = &out->total;
	} else {
		tok = line->p;
		while (!rd_eof(line) && !is_blank(*line->p))
			line->p++;
		if (span_u64(tok, (size_t)(line->p - tok), &index) == -1)
			return -1;
		if (index >= SYSSTAT_CPU_MAX) {
			/* Still validated, then dropped: the aggregate covers it. */
			cpu = &scratch;
		} else {
			if (out->present[index])
				return -1;
			out->present[index] = 1;
			if (index + 1 > out->ncpu)
				out->ncpu = (size_t)index + 1;
			cpu = &out->cpu[index];
		}
	}
	memset(cpu, 0, sizeof(*cpu));
	/* Newer kernels append guest and guest_nice (already counted in user
	 * and nice); later ones may add more. Numbers all, but only ours kept. */
	while (rd_token(line, &tok, &n) == 0) {
		if (span_u64(tok, n, &v) == -1)
			return -1;
		if (nfields < CPU_MODE__COUNT)
			cpu->ticks[nfields] = v;
		nfields++;
	}
	return nfields >= CPU_FIELDS_MIN ? 0 : -1;
}

int
procfs_stat_parse(const char *buf, size_t len, struct procfs_stat *out)
{
	struct rd r = { buf, buf + len };
	int seen_total = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	while (!rd_eof(&r)) {
		struct rd line = rd_line(&r);

		if (rd_literal(&line, "cpu") == 0) {
			if (stat_cpu_line(&line, out, &seen_total) == -1)
				goto done;
		} else if (rd_literal(&line, "btime") == 0) {
			if (rd_eof(&line) || !is_blank(*line.p) ||
			    rd_u64(&line, &out->btime) == -1 || rd_end(&line) == -1)
				goto done;
			out->has_btime = 1;
		}
		/* intr, ctxt, processes, softirq, ...: not ours. */
	}
	if (!seen_total)
		goto done;
	rc = 0;
done:
	return rc;
}

/* The value of "Key:   N kB", in bytes. */
static int
meminfo_kb(struct rd *line, uint64_t *bytes)
{
	uint64_t kb;

	if (rd_u64(line, &kb) == -1)
		return -1;
	rd_skip_blank(line);
	if (rd_literal(line, "kB") == -1 || rd_end(line) == -1)
		return -1;
	if (kb > UINT64_MAX / 1024)
		return -1;
	*bytes = kb * 1024;
	return 0;
}

int
procfs_meminfo_parse(const char *buf, size_t len, struct procfs_meminfo *out)
{
	struct rd r = { buf, buf + len };
	int have_total = 0, have_avail = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	while (!rd_eof(&r)) {
		struct rd line = rd_line(&r);

		if (rd_literal(&line, "MemTotal:") == 0) {
			if (have_total++ || meminfo_kb(&line, &out->total_bytes) == -1)
				goto done;
		} else if (rd_literal(&line, "MemAvailable:") == 0) {
			if (have_avail++ || meminfo_kb(&line, &out->available_bytes) == -1)
				goto done;
		}
	}
	if (!have_total || !have_avail)
		goto done;
	rc = 0;
done:
	return rc;
}

/*
 * "pid (comm) state ppid ...": comm is the task name, which may hold
 * blanks, parentheses and even newlines, so the fields start after the
 * LAST ')' of the buffer (all later fields are numbers or a state letter).
 */
int
procfs_pid_stat_parse(const char *buf, size_t len, struct procfs_pid_stat *out)
{
	struct rd r = { buf, buf + len }, line;
	const char *close = NULL, *tok;
	uint64_t pid;
	size_t n;
	int field, rc = -1;

	memset(out, 0, sizeof(*out));
	tok = r.p;
	while (!rd_eof(&r) && *r.p >= '0' && *r.p <= '9')
		r.p++;
	if (span_u64(tok, (size_t)(r.p - tok), &pid) == -1 || rd_literal(&r, " (") == -1)
		goto done;
	for (const char *p = r.end; p > r.p; p--) {
		if (p[-1] == ')') {
			close = p - 1;
			break;
		}
	}
	if (close == NULL)
		goto done;
	r.p = close + 1;
	if (rd_eof(&r) || *r.p != ' ')
		goto done;
	line = rd_line(&r);
	for (field = 3; field <= PID_FIELD_RSS; field++) {
		uint64_t *dst = NULL, v;

		if (rd_token(&line, &tok, &n) == -1)
			goto done;
		switch (field) {
		case PID_FIELD_UTIME:     dst = &out->utime; break;
		case PID_FIELD_STIME:     dst = &out->stime; break;
		case PID_FIELD_STARTTIME: dst = &out->starttime; break;
		case PID_FIELD_RSS:       dst = &out->rss; break;
		}
		if (dst != NULL) {
			if (span_u64(tok, n, &v) == -1)
				goto done;
			*dst = v;
		}
	}
	rc = 0;
done:
	return rc;
}
