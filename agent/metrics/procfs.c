/*
 * procfs text parsers (see procfs.h). Every read goes through a small
 * bounded reader over (buf, len): a line is cut into a sub-reader first,
 * then split into blank-separated tokens, so nothing indexes past the end
 * even when the input is not NUL-terminated. The interface and disk tables
 * (second half) skip a bad line instead of refusing the file.
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

/* ---- interfaces and disks: tables with a cap, bad lines skipped ------- */

/* /proc/net/dev: 8 receive then 8 transmit counters per interface. */
#define NETDEV_FIELDS     16
#define NETDEV_TX_FIRST   8
/* /proc/diskstats counters after the name; kernels since 2.6.25 print at
 * least these (4.18 added discards, 5.5 flushes). */
#define DISK_FIELDS_MIN   11
#define DISK_F_READS      0
#define DISK_F_SECT_READ  2
#define DISK_F_WRITES     4
#define DISK_F_SECT_WRITE 6
#define DISK_F_IO_MS      9
/* /proc/self/mountinfo fields before the optional ones: mount ID, parent
 * ID, major:minor, root, mount point, mount options. */
#define MOUNT_F_POINT     4
#define MOUNT_F_FIXED     6

/* Labels must be UTF-8 (Prometheus text and protobuf strings); a name
 * that is not is skipped as malformed rather than exported broken. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A line of nothing but blanks (the kernel never writes one; skipped). */
static int
rd_blank_line(struct rd line)
{
	return rd_end(&line) == 0;
}

/* A name token into dst[size]: not empty, fits with its NUL, UTF-8. */
static int
name_copy(char *dst, size_t size, const char *tok, size_t n)
{
	if (n == 0 || n >= size || memchr(tok, '\0', n) != NULL ||
	    !utf8_valid((const unsigned char *)tok, n))
		return -1;
	memcpy(dst, tok, n);
	dst[n] = '\0';
	return 0;
}

/* "  eth0: 1 2 ... 16": the name runs to the first ':' (names cannot hold
 * one, nor blanks or '/'); large counters may touch the colon. */
static int
netdev_line(struct rd *line, struct procfs_netdev *out)
{
	struct procfs_netdev_if one;
	const char *colon, *p, *tok;
	uint64_t v[NETDEV_FIELDS], extra;
	size_t n;

	rd_skip_blank(line);
	colon = memchr(line->p, ':', (size_t)(line->end - line->p));
	if (colon == NULL)
		return -1;
	n = (size_t)(colon - line->p);
	for (p = line->p; p < colon; p++) {
		if (is_blank(*p) || *p == '/' || (unsigned char)*p < 0x20)
			return -1;
	}
	memset(&one, 0, sizeof(one));
	if (name_copy(one.name, sizeof(one.name), line->p, n) == -1)
		return -1;
	line->p = colon + 1;
	for (size_t i = 0; i < NETDEV_FIELDS; i++) {
		if (rd_u64(line, &v[i]) == -1)
			return -1;
	}
	/* Columns a later kernel may append: numbers, not ours. */
	while (rd_token(line, &tok, &n) == 0) {
		if (span_u64(tok, n, &extra) == -1)
			return -1;
	}
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->ifs[i].name, one.name) == 0)
			return -1;
	}
	for (int c = 0; c < NETDEV__COUNT; c++) {
		/* rx: columns 0-3 (bytes packets errs drop); tx: 8-11 likewise */
		size_t col = c < NETDEV_TX_BYTES ? (size_t)c
						 : NETDEV_TX_FIRST + (size_t)(c - NETDEV_TX_BYTES);

		one.counters[c] = v[col];
	}
	if (out->n == PROCFS_NETDEV_MAX)
		out->left_out++;
	else
		out->ifs[out->n++] = one;
	return 0;
}

int
procfs_netdev_parse(const char *buf, size_t len, struct procfs_netdev *out)
{
	struct rd r = { buf, buf + len }, line;

	memset(out, 0, sizeof(*out));
	line = rd_line(&r);
	if (rd_literal(&line, "Inter-|") == -1)
		return -1;
	line = rd_line(&r);
	if (rd_literal(&line, " face |") == -1)
		return -1;
	while (!rd_eof(&r)) {
		line = rd_line(&r);
		if (!rd_blank_line(line) && netdev_line(&line, out) == -1)
			out->malformed++;
	}
	return 0;
}

/*
 * Name patterns for procfs_disk_ignored(): 'D' stands for one or more
 * decimal digits, 'L' for one or more lowercase letters, anything else for
 * itself. Letters and digits never overlap, so a greedy match is exact.
 */
static int
name_match(const char *pat, const char *s)
{
	for (; *pat; pat++) {
		const char *start = s;

		if (*pat == 'D') {
			while (*s >= '0' && *s <= '9')
				s++;
		} else if (*pat == 'L') {
			while (*s >= 'a' && *s <= 'z')
				s++;
		} else if (*s == *pat) {
			s++;
		}
		if (s == start)
			return 0;
	}
	return *s == '\0';
}

int
procfs_disk_ignored(const char *name)
{
	static const char *const patterns[] = {
		"ramD", "zramD", "loopD", "fdD",		/* virtual */
		"sdLD", "hdLD", "vdLD", "xvdLD",		/* partitions */
		"nvmeDnDpD", "mmcblkDpD",
	};

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (name_match(patterns[i], name))
			return 1;
	}
	return 0;
}

static int
disk_line(struct rd *line, struct procfs_diskstats *out)
{
	struct procfs_disk one;
	uint64_t major, minor, v[DISK_FIELDS_MIN], extra;
	const char *tok;
	size_t n;

	memset(&one, 0, sizeof(one));
	if (rd_u64(line, &major) == -1 || rd_u64(line, &minor) == -1 ||
	    rd_token(line, &tok, &n) == -1 || name_copy(one.name, sizeof(one.name), tok, n) == -1)
		return -1;
	for (size_t i = 0; i < DISK_FIELDS_MIN; i++) {
		if (rd_u64(line, &v[i]) == -1)
			return -1;
	}
	while (rd_token(line, &tok, &n) == 0) {
		if (span_u64(tok, n, &extra) == -1)
			return -1;
	}
	one.reads_completed = v[DISK_F_READS];
	one.sectors_read = v[DISK_F_SECT_READ];
	one.writes_completed = v[DISK_F_WRITES];
	one.sectors_written = v[DISK_F_SECT_WRITE];
	one.io_ms = v[DISK_F_IO_MS];
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->disks[i].name, one.name) == 0)
			return -1;
	}
	if (procfs_disk_ignored(one.name))
		out->ignored++;
	else if (out->n == PROCFS_DISKS_MAX)
		out->left_out++;
	else
		out->disks[out->n++] = one;
	return 0;
}

int
procfs_diskstats_parse(const char *buf, size_t len, struct procfs_diskstats *out)
{
	struct rd r = { buf, buf + len };

	memset(out, 0, sizeof(*out));
	while (!rd_eof(&r)) {
		struct rd line = rd_line(&r);

		if (!rd_blank_line(line) && disk_line(&line, out) == -1)
			out->malformed++;
	}
	return 0;
}

int
procfs_fstype_ignored(const char *fstype)
{
	static const char *const ignored[] = {
		/* no storage of their own */
		"autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs",
		"devpts", "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nfsd",
		"nsfs", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs",
		"sysfs", "tracefs",
		/* network: statvfs waits for the server */
		"9p", "afs", "ceph", "cifs", "glusterfs", "lustre", "nfs", "nfs4", "smb3",
		"smbfs",
		/* FUSE ("fuse.*" below too): a daemon answers statvfs */
		"fuse", "fuseblk",
		/* read-only images: always full */
		"cramfs", "erofs", "iso9660", "squashfs",
	};

	if (strncmp(fstype, "fuse.", 5) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (strcmp(fstype, ignored[i]) == 0)
			return 1;
	}
	return 0;
}

static int
is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/* A mountinfo field with the kernel's octal escapes (\040 and the like)
 * decoded into dst[size]; -1 when it does not fit, decodes to a NUL or is
 * not UTF-8. A backslash not followed by three octal digits is itself. */
static int
unescape(char *dst, size_t size, const char *tok, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = tok[i];

		if (c == '\\' && n - i > 3 && is_odigit(tok[i + 1]) && is_odigit(tok[i + 2]) &&
		    is_odigit(tok[i + 3]) && tok[i + 1] <= '3') {
			c = (char)(((tok[i + 1] - '0') << 6) | ((tok[i + 2] - '0') << 3) |
				   (tok[i + 3] - '0'));
			i += 3;
		}
		if (c == '\0' || o + 1 >= size)
			return -1;
		dst[o++] = c;
	}
	if (o == 0 || !utf8_valid((const unsigned char *)dst, o))
		return -1;
	dst[o] = '\0';
	return 0;
}

/* "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw":
 * six fields, optional fields up to a lone "-", then the filesystem type,
 * the source and the superblock options. */
static int
mount_line(struct rd *line, struct procfs_mounts *out, struct procfs_mount *one)
{
	const char *tok, *point = NULL;
	size_t n, npoint = 0;
	int field;

	for (field = 0; field < MOUNT_F_FIXED; field++) {
		if (rd_token(line, &tok, &n) == -1)
			return -1;
		if (field == MOUNT_F_POINT) {
			point = tok;
			npoint = n;
		}
	}
	do {
		if (rd_token(line, &tok, &n) == -1)
			return -1;
	} while (!(n == 1 && tok[0] == '-'));
	if (rd_token(line, &tok, &n) == -1 ||
	    unescape(one->fstype, sizeof(one->fstype), tok, n) == -1)
		return -1;
	if (rd_token(line, &tok, &n) == -1 || rd_token(line, &tok, &n) == -1)
		return -1;	/* no source or no superblock options */
	if (unescape(one->path, sizeof(one->path), point, npoint) == -1 || one->path[0] != '/')
		return -1;
	/* Mounted over: the earlier one is hidden, whatever is on top. */
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->mounts[i].path, one->path) == 0) {
			memmove(&out->mounts[i], &out->mounts[i + 1],
				(out->n - i - 1) * sizeof(out->mounts[0]));
			out->n--;
			break;
		}
	}
	if (procfs_fstype_ignored(one->fstype))
		out->ignored++;
	else if (out->n == PROCFS_MOUNTS_MAX)
		out->left_out++;
	else
		out->mounts[out->n++] = *one;
	return 0;
}

int
procfs_mountinfo_parse(const char *buf, size_t len, struct procfs_mounts *out)
{
	struct rd r = { buf, buf + len };
	struct procfs_mount one;

	memset(out, 0, sizeof(*out));
	while (!rd_eof(&r)) {
		struct rd line = rd_line(&r);

		if (!rd_blank_line(line) && mount_line(&line, out, &one) == -1)
			out->malformed++;
	}
	return 0;
}
