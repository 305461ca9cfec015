/*
 * Unit tests for the hoststat source (the interface and disk families)
 * over a fake procfs tree with a fake link query: exact series and values,
 * up and MTU, transitions counted between samples, interfaces that go and
 * come back, the caps' left-out series in the registry's counter,
 * unreadable files, odd names through promtool, and the protobuf rows
 * with a family subscription.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "metrics/hoststat.h"
#include "metrics/metrics.h"
#include "metrics/procfs.h"
#include "procfs_samples.h"
#include "telemetry.pb-c.h"
#include "metrics_env.h"

#define TEST_UUID "6f1e5f2a-3b8c-4d2e-9a41-0c7d5e8f9b10"

/* ---- the source over a fake procfs tree ----------------------------- */

#define LINKS_MAX 128

struct fake {
	char             root[64];
	struct hoststat *hs;
	struct {
		char     name[PROCFS_IFNAME_MAX];
		unsigned flags;
		int      mtu;
	} links[LINKS_MAX];
	size_t           nlinks;
	size_t           queries;
};

static int
fake_link(void *ctx, const char *ifname, unsigned *flags, int *mtu)
{
	struct fake *f = ctx;

	f->queries++;
	for (size_t i = 0; i < f->nlinks; i++) {
		if (strcmp(f->links[i].name, ifname) == 0) {
			*flags = f->links[i].flags;
			*mtu = f->links[i].mtu;
			return 0;
		}
	}
	return -1;
}

static void
link_set(struct fake *f, const char *name, unsigned flags, int mtu)
{
	size_t i;

	for (i = 0; i < f->nlinks; i++) {
		if (strcmp(f->links[i].name, name) == 0)
			break;
	}
	if (i == f->nlinks) {
		assert_true(f->nlinks < LINKS_MAX);
		f->nlinks++;
	}
	snprintf(f->links[i].name, sizeof(f->links[i].name), "%s", name);
	f->links[i].flags = flags;
	f->links[i].mtu = mtu;
}

static void
mkdir_in(const struct fake *f, const char *name)
{
	char path[256];

	metrics_env_path(f->root, name, path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
}

static int
fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/test_hoststat.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	mkdir_in(f, "net");
	mkdir_in(f, "self");
	mkdir_in(f, "mnt");
	f->hs = hoststat_new();
	hoststat_set_procfs_root(f->hs, f->root);
	hoststat_set_link_query(f->hs, fake_link, f);
	*state = f;
	return 0;
}

/* rm -r of the fake tree (names we made, nothing followed out of it). */
static void
remove_tree(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int
fake_teardown(void **state)
{
	struct fake *f = *state;

	remove_tree(f->root);
	hoststat_free(f->hs);
	free(f);
	return 0;
}

static const struct metric_sample *
find(const struct metrics_snapshot *snap, enum metric_id id, const char *l0, const char *l1)
{
	const struct metric_sample *hit = NULL;

	for (size_t i = 0; i < snap->n; i++) {
		const struct metric_sample *s = &snap->samples[i];

		if (s->id != id || strcmp(s->labels[0], l0) != 0)
			continue;
		if (l1 != NULL && strcmp(s->labels[1], l1) != 0)
			continue;
		if (hit != NULL)
			fail_msg("metric %s{%s,%s} twice", metric_defs[id].prom_name, l0,
				 l1 ? l1 : "");
		hit = s;
	}
	return hit;
}

static double
value_of(const struct metrics_snapshot *snap, enum metric_id id, const char *l0, const char *l1)
{
	const struct metric_sample *s = find(snap, id, l0, l1);

	if (s == NULL)
		fail_msg("metric %s{%s,%s} missing", metric_defs[id].prom_name, l0, l1 ? l1 : "");
	return s->value;
}

static size_t
count_id(const struct metrics_snapshot *snap, enum metric_id id)
{
	size_t n = 0;

	for (size_t i = 0; i < snap->n; i++)
		n += snap->samples[i].id == id;
	return n;
}

static struct metrics_snapshot *
collect(struct fake *f)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(1700000000000);

	hoststat_metrics_source(f->hs, snap);
	return snap;
}

/* The mountinfo escape of a path (what the kernel writes). */
static void
mi_escape(struct strbuf *sb, const char *path)
{
	for (const char *p = path; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
			strbuf_printf(sb, "\\%03o", (unsigned char)*p);
		else
			strbuf_append(sb, p, 1);
	}
}

/* A mountinfo line for a folder of the fake tree; returns its full path. */
static void
mount_line_for(const struct fake *f, struct strbuf *sb, const char *sub, const char *fstype,
	       char *path, size_t size)
{
	metrics_env_path(f->root, sub, path, size);
	strbuf_puts(sb, "99 1 0:99 / ");
	mi_escape(sb, path);
	strbuf_printf(sb, " rw,relatime - %s none rw\n", fstype);
}

static void
test_source_series(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;
	char odd[256], plain[256];
	struct statvfs before, after;
	struct strbuf sb;
	double frsize, v;

	metrics_env_put(f->root, "net/dev", netdev_real);
	link_set(f, "lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK, 65536);
	link_set(f, "eth0", IFF_UP | IFF_RUNNING, 1500);
	link_set(f, "vpn0", IFF_UP, 1400);	/* a TUN device without its reader: no carrier */
	/* "a\"b\\c" is gone by the time its flags are asked for */
	metrics_env_put(f->root, "diskstats", diskstats_real);
	mkdir_in(f, "mnt/my disk");
	strbuf_init(&sb, 1 << 16);
	mount_line_for(f, &sb, "mnt/my disk", "xfs", odd, sizeof(odd));
	mount_line_for(f, &sb, "mnt", "tmpfs", plain, sizeof(plain));
	mount_line_for(f, &sb, "mnt/gone", "ext4", plain, sizeof(plain));	/* no such folder */
	strbuf_puts(&sb, "5 1 0:5 / /proc rw - proc proc rw\n");
	metrics_env_put(f->root, "self/mountinfo", sb.data);
	metrics_env_path(f->root, "mnt", plain, sizeof(plain));

	assert_int_equal(statvfs(plain, &before), 0);
	hoststat_sample(f->hs);
	assert_int_equal(statvfs(plain, &after), 0);
	snap = collect(f);

	/* interfaces: the three still there, in file order, nothing else */
	assert_int_equal(count_id(snap, M_INTERFACE_UP), 3);
	assert_null(find(snap, M_INTERFACE_UP, "a\"b\\c", NULL));
	assert_true(value_of(snap, M_INTERFACE_RECEIVE_BYTES, "eth0", NULL) == 12345678901234.0);
	assert_true(value_of(snap, M_INTERFACE_RECEIVE_PACKETS, "eth0", NULL) == 1737);
	assert_true(value_of(snap, M_INTERFACE_RECEIVE_ERRORS, "eth0", NULL) == 3);
	assert_true(value_of(snap, M_INTERFACE_RECEIVE_DROPS, "eth0", NULL) == 4);
	assert_true(value_of(snap, M_INTERFACE_TRANSMIT_BYTES, "eth0", NULL) == 111183);
	assert_true(value_of(snap, M_INTERFACE_TRANSMIT_PACKETS, "eth0", NULL) == 1432);
	assert_true(value_of(snap, M_INTERFACE_TRANSMIT_ERRORS, "eth0", NULL) == 11);
	assert_true(value_of(snap, M_INTERFACE_TRANSMIT_DROPS, "eth0", NULL) == 12);
	assert_true(value_of(snap, M_INTERFACE_UP, "lo", NULL) == 1);
	assert_true(value_of(snap, M_INTERFACE_UP, "eth0", NULL) == 1);
	assert_true(value_of(snap, M_INTERFACE_UP, "vpn0", NULL) == 0);
	assert_true(value_of(snap, M_INTERFACE_MTU, "lo", NULL) == 65536);
	assert_true(value_of(snap, M_INTERFACE_MTU, "vpn0", NULL) == 1400);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "up") == 0);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "down") == 0);
	assert_string_equal(snap->samples[0].labels[0], "lo");

	/* block devices: whole disks only, bytes from 512-byte sectors */
	assert_int_equal(count_id(snap, M_DISK_READS_COMPLETED), 5);
	assert_null(find(snap, M_DISK_READS_COMPLETED, "vda1", NULL));
	assert_null(find(snap, M_DISK_READS_COMPLETED, "loop0", NULL));
	assert_true(value_of(snap, M_DISK_READS_COMPLETED, "vda", NULL) == 242582);
	assert_true(value_of(snap, M_DISK_WRITES_COMPLETED, "vda", NULL) == 1618335);
	assert_true(value_of(snap, M_DISK_READ_BYTES, "vda", NULL) == 21312850.0 * 512);
	assert_true(value_of(snap, M_DISK_WRITTEN_BYTES, "vda", NULL) == 51409632.0 * 512);
	assert_true(value_of(snap, M_DISK_IO_TIME, "vda", NULL) == 159.016);

	/* filesystems: the two folders statvfs answers for, by decoded path */
	assert_int_equal(count_id(snap, M_DISK_SIZE), 2);
	frsize = (double)before.f_frsize;
	assert_true(value_of(snap, M_DISK_SIZE, plain, NULL) == (double)before.f_blocks * frsize);
	assert_true(value_of(snap, M_DISK_SIZE, odd, NULL) == (double)before.f_blocks * frsize);
	/* used and free move with whatever else writes: between the two reads */
	v = value_of(snap, M_DISK_FREE, odd, NULL);
	assert_true(v >= (double)(before.f_bavail < after.f_bavail ? before.f_bavail
								   : after.f_bavail) * frsize - 64e6);
	assert_true(v <= (double)(before.f_bavail > after.f_bavail ? before.f_bavail
								   : after.f_bavail) * frsize + 64e6);
	v = value_of(snap, M_DISK_USED, plain, NULL);
	assert_true(v >= (double)(before.f_blocks - before.f_bfree) * frsize - 64e6);
	assert_true(v <= (double)(after.f_blocks - after.f_bfree) * frsize + 64e6);
	assert_int_equal(snap->dropped, 0);
	/* 3 x 12 interface, 5 x 5 device, 2 x 3 filesystem series */
	assert_int_equal(snap->n, 3 * HOSTSTAT_IF_SERIES + 5 * HOSTSTAT_DISK_SERIES +
			 2 * HOSTSTAT_MOUNT_SERIES);
	strbuf_free(&sb);
	metrics_snapshot_free(snap);
}

static void
test_source_transitions(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;
	const char *dev = NETDEV_HEAD
		"lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
		"vpn0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";

	metrics_env_put(f->root, "net/dev", dev);
	link_set(f, "lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK, 65536);
	link_set(f, "vpn0", IFF_UP | IFF_RUNNING, 1400);
	hoststat_sample(f->hs);		/* the first sample is no change */
	link_set(f, "vpn0", IFF_UP, 1400);
	hoststat_sample(f->hs);		/* carrier lost */
	link_set(f, "vpn0", 0, 1400);
	hoststat_sample(f->hs);		/* and set down: still down, no transition */
	snap = collect(f);
	assert_true(value_of(snap, M_INTERFACE_UP, "vpn0", NULL) == 0);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "down") == 1);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "up") == 0);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "lo", "down") == 0);
	metrics_snapshot_free(snap);

	link_set(f, "vpn0", IFF_UP | IFF_RUNNING, 1300);
	hoststat_sample(f->hs);
	link_set(f, "vpn0", IFF_UP, 1300);
	hoststat_sample(f->hs);
	link_set(f, "vpn0", IFF_UP | IFF_RUNNING, 1300);
	hoststat_sample(f->hs);
	snap = collect(f);
	assert_true(value_of(snap, M_INTERFACE_UP, "vpn0", NULL) == 1);
	assert_true(value_of(snap, M_INTERFACE_MTU, "vpn0", NULL) == 1300);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "up") == 2);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "down") == 2);
	metrics_snapshot_free(snap);

	/* Deleted: its series go. Made again: a new interface, counting from 0. */
	metrics_env_put(f->root, "net/dev", NETDEV_HEAD "lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	hoststat_sample(f->hs);
	snap = collect(f);
	assert_null(find(snap, M_INTERFACE_UP, "vpn0", NULL));
	assert_int_equal(count_id(snap, M_INTERFACE_STATE_TRANSITIONS), 2);
	metrics_snapshot_free(snap);
	metrics_env_put(f->root, "net/dev", dev);
	hoststat_sample(f->hs);
	snap = collect(f);
	assert_true(value_of(snap, M_INTERFACE_UP, "vpn0", NULL) == 1);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "up") == 0);
	assert_true(value_of(snap, M_INTERFACE_STATE_TRANSITIONS, "vpn0", "down") == 0);
	metrics_snapshot_free(snap);
}

/* Past the caps: the first 64 of each listed, the rest counted as series
 * left out, which the registry exports as a cumulative counter. */
static void
test_source_caps_count_left_out(void **state)
{
	struct fake *f = *state;
	struct metrics_registry *reg;
	struct metrics_snapshot *snap;
	struct strbuf sb;
	char path[256];
	size_t extra = 5, want;

	strbuf_init(&sb, 1 << 20);
	strbuf_puts(&sb, NETDEV_HEAD);
	for (size_t i = 0; i < PROCFS_NETDEV_MAX + extra; i++) {
		char name[16];

		snprintf(name, sizeof(name), "veth%zu", i);
		strbuf_printf(&sb, "%s: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", name);
		link_set(f, name, IFF_UP | IFF_RUNNING, 1500);
	}
	metrics_env_put(f->root, "net/dev", sb.data);
	strbuf_reset(&sb);
	for (size_t i = 0; i < PROCFS_DISKS_MAX + extra; i++)
		strbuf_printf(&sb, "253 %zu dm-%zu 1 0 0 0 0 0 0 0 0 0 0\n", i, i);
	metrics_env_put(f->root, "diskstats", sb.data);
	strbuf_reset(&sb);
	for (size_t i = 0; i < PROCFS_MOUNTS_MAX + extra; i++) {
		char sub[32];

		snprintf(sub, sizeof(sub), "mnt/m%zu", i);
		mkdir_in(f, sub);
		mount_line_for(f, &sb, sub, "tmpfs", path, sizeof(path));
	}
	metrics_env_put(f->root, "self/mountinfo", sb.data);
	strbuf_free(&sb);

	hoststat_sample(f->hs);
	/* only the listed interfaces are asked for their flags */
	assert_int_equal(f->queries, PROCFS_NETDEV_MAX);
	reg = metrics_registry_new();
	metrics_registry_add(reg, hoststat_metrics_source, f->hs);
	want = extra * (HOSTSTAT_IF_SERIES + HOSTSTAT_DISK_SERIES + HOSTSTAT_MOUNT_SERIES);
	for (int round = 1; round <= 2; round++) {
		snap = metrics_registry_collect(reg);
		assert_int_equal(count_id(snap, M_INTERFACE_UP), PROCFS_NETDEV_MAX);
		assert_int_equal(count_id(snap, M_DISK_IO_TIME), PROCFS_DISKS_MAX);
		assert_int_equal(count_id(snap, M_DISK_SIZE), PROCFS_MOUNTS_MAX);
		assert_non_null(find(snap, M_INTERFACE_UP, "veth63", NULL));
		assert_null(find(snap, M_INTERFACE_UP, "veth64", NULL));
		assert_int_equal(snap->dropped, want);
		assert_int_equal(snap->samples[snap->n - 1].id, M_METRICS_SERIES_DROPPED);
		assert_true(snap->samples[snap->n - 1].value == (double)(want * (size_t)round));
		metrics_snapshot_free(snap);
	}
	metrics_registry_free(reg);
}

static void
test_source_unreadable_files(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;

	/* Nothing there: no series, twice (warned once). */
	for (int i = 0; i < 2; i++) {
		hoststat_sample(f->hs);
		snap = collect(f);
		assert_int_equal(snap->n, 0);
		assert_int_equal(snap->dropped, 0);
		metrics_snapshot_free(snap);
	}
	/* Then readable; then net/dev without its header: interfaces go. */
	metrics_env_put(f->root, "net/dev", netdev_real);
	link_set(f, "lo", IFF_UP | IFF_RUNNING, 65536);
	metrics_env_put(f->root, "diskstats", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\nbroken\n");
	hoststat_sample(f->hs);
	snap = collect(f);
	assert_int_equal(count_id(snap, M_INTERFACE_UP), 1);
	assert_int_equal(count_id(snap, M_DISK_IO_TIME), 1);
	metrics_snapshot_free(snap);
	metrics_env_put(f->root, "net/dev", "lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	hoststat_sample(f->hs);
	snap = collect(f);
	assert_int_equal(count_id(snap, M_INTERFACE_UP), 0);
	assert_int_equal(count_id(snap, M_DISK_IO_TIME), 1);
	metrics_snapshot_free(snap);
}

/* ---- both encoders -------------------------------------------------- */

/* Odd names as the kernel lets them be: '"' and '\' in an interface name,
 * a space, a tab, a newline and a backslash in mount points. */
static void
test_prometheus_escapes_odd_names(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;
	struct strbuf sb, text;
	char spaced[256], nasty[256], line[600], out[8192];
	int rc;

	metrics_env_put(f->root, "net/dev", netdev_real);
	link_set(f, "a\"b\\c", IFF_UP | IFF_RUNNING, 9000);
	mkdir_in(f, "mnt/my disk");
	mkdir_in(f, "mnt/t\ta\nb\\c");
	strbuf_init(&sb, 1 << 16);
	mount_line_for(f, &sb, "mnt/my disk", "ext4", spaced, sizeof(spaced));
	mount_line_for(f, &sb, "mnt/t\ta\nb\\c", "ext4", nasty, sizeof(nasty));
	metrics_env_put(f->root, "self/mountinfo", sb.data);
	assert_non_null(strstr(sb.data, "/mnt/my\\040disk "));
	assert_non_null(strstr(sb.data, "/mnt/t\\011a\\012b\\134c "));
	strbuf_free(&sb);
	hoststat_sample(f->hs);
	snap = collect(f);
	assert_int_equal(count_id(snap, M_DISK_SIZE), 2);
	strbuf_init(&text, 1 << 20);
	metrics_prom_render(snap, &text);
	assert_non_null(strstr(text.data, "\nvpnagent_interface_up{interface=\"a\\\"b\\\\c\"} 1\n"));
	assert_non_null(strstr(text.data,
			       "\nvpnagent_interface_mtu_bytes{interface=\"a\\\"b\\\\c\"} 9000\n"));
	snprintf(line, sizeof(line), "\nvpnagent_disk_size_bytes{mountpoint=\"%s\"} ", spaced);
	assert_non_null(strstr(text.data, line));
	metrics_env_path(f->root, "mnt/t\ta\\nb\\\\c", nasty, sizeof(nasty));	/* as escaped */
	snprintf(line, sizeof(line), "\nvpnagent_disk_free_bytes{mountpoint=\"%s\"} ", nasty);
	assert_non_null(strstr(text.data, line));
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		fail_msg("promtool not found in PATH");
	rc = metrics_env_promtool(text.data, out, sizeof(out));
	if (rc != 0)
		fail_msg("promtool check metrics failed (%d):\n%s\n--- input ---\n%s", rc, out,
			 text.data);
	strbuf_free(&text);
	metrics_snapshot_free(snap);
}

struct pb_sink {
	Proto__DataResponse *msg;
};

static int
pb_collect(void *ctx, uint8_t *buf, size_t len, size_t nmetrics)
{
	struct pb_sink *s = ctx;

	assert_null(s->msg);
	s->msg = proto__data_response__unpack(NULL, len, buf);
	assert_non_null(s->msg);
	assert_int_equal(s->msg->n_metrics, nmetrics);
	free(buf);
	return 0;
}

static const char *
tag(const Proto__Metric *m, const char *key)
{
	for (size_t i = 0; i < m->n_tags; i++) {
		if (strcmp(m->tags[i]->key, key) == 0)
			return m->tags[i]->value;
	}
	return NULL;
}

/* The protobuf rows, and a subscription to one family gets it alone. */
static void
test_protobuf_families_and_filter(void **state)
{
	struct fake *f = *state;
	struct metrics_snapshot *snap;
	struct metrics_filter filter = { 0 };
	char *fams[] = { "interface" }, *disk[] = { "disk" };
	struct pb_sink s = { 0 };
	size_t nif = 0, ndisk = 0;
	const Proto__Metric *m;

	metrics_env_put(f->root, "net/dev", netdev_real);
	link_set(f, "vpn0", IFF_UP | IFF_RUNNING, 1400);
	metrics_env_put(f->root, "diskstats", diskstats_real);
	hoststat_sample(f->hs);
	snap = collect(f);
	/* a cpu row beside them, which the filter must leave out */
	metrics_add(snap, M_CPU_OVERALL_UTILISATION, 0.5, NULL);
	for (size_t i = 0; i < snap->n; i++) {
		nif += strcmp(metric_defs[snap->samples[i].id].family, "interface") == 0;
		ndisk += strcmp(metric_defs[snap->samples[i].id].family, "disk") == 0;
	}
	assert_int_equal(nif, HOSTSTAT_IF_SERIES);
	assert_int_equal(ndisk, 5 * HOSTSTAT_DISK_SERIES);

	metrics_filter_set(&filter, fams, 1);
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, &filter, 1 << 20, pb_collect, &s),
			 (long)nif);
	for (size_t i = 0; i < s.msg->n_metrics; i++) {
		m = s.msg->metrics[i];
		assert_string_equal(m->metricfamily, "interface");
		assert_string_equal(tag(m, "interface"), "vpn0");
		assert_string_equal(tag(m, "uuid"), TEST_UUID);
		if (strcmp(tag(m, "description"), "mtu_bytes") == 0) {
			assert_string_equal(m->metrictype, "Gauge");
			assert_true(m->value == 1400);
		}
		if (strcmp(tag(m, "description"), "receive_bytes") == 0) {
			assert_string_equal(m->metrictype, "Counter");
			assert_true(m->value == 8400);
		}
	}
	proto__data_response__free_unpacked(s.msg, NULL);
	s.msg = NULL;

	metrics_filter_set(&filter, disk, 1);
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, &filter, 1 << 20, pb_collect, &s),
			 (long)ndisk);
	for (size_t i = 0; i < s.msg->n_metrics; i++) {
		m = s.msg->metrics[i];
		assert_string_equal(m->metricfamily, "disk");
		assert_non_null(tag(m, "device"));
		if (strcmp(tag(m, "device"), "nvme0n1") == 0 &&
		    strcmp(tag(m, "description"), "written_bytes") == 0)
			assert_true(m->value == 1600.0 * 512);
	}
	proto__data_response__free_unpacked(s.msg, NULL);
	metrics_filter_clear(&filter);
	metrics_snapshot_free(snap);
}

#define FAKE(t) cmocka_unit_test_setup_teardown(t, fake_setup, fake_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FAKE(test_source_series),
		FAKE(test_source_transitions),
		FAKE(test_source_caps_count_left_out),
		FAKE(test_source_unreadable_files),
		FAKE(test_prometheus_escapes_odd_names),
		FAKE(test_protobuf_families_and_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
