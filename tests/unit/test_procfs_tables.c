/*
 * Unit tests for the interface and disk table parsers (procfs.c):
 * /proc/net/dev, /proc/diskstats and /proc/self/mountinfo on fixed samples:
 * the values, escaped and odd names, the ignore rules, the caps, bad lines
 * skipped and counted, every prefix of a file. Each input is an exact-size
 * heap copy, so ASan sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "metrics/procfs.h"
#include "procfs_samples.h"
#include "metrics_env.h"

/* ---- helpers -------------------------------------------------------- */

static int
netdev_parse_n(const char *text, size_t len, struct procfs_netdev *out)
{
	char *buf = metrics_env_exact(text, len);
	int rc = procfs_netdev_parse(buf, len, out);

	free(buf);
	return rc;
}

static int
netdev_parse(const char *text, struct procfs_netdev *out)
{
	return netdev_parse_n(text, strlen(text), out);
}

static void
disks_parse_n(const char *text, size_t len, struct procfs_diskstats *out)
{
	char *buf = metrics_env_exact(text, len);

	assert_int_equal(procfs_diskstats_parse(buf, len, out), 0);
	free(buf);
}

static void
disks_parse(const char *text, struct procfs_diskstats *out)
{
	disks_parse_n(text, strlen(text), out);
}

static void
mounts_parse_n(const char *text, size_t len, struct procfs_mounts *out)
{
	char *buf = metrics_env_exact(text, len);

	assert_int_equal(procfs_mountinfo_parse(buf, len, out), 0);
	free(buf);
}

static void
mounts_parse(const char *text, struct procfs_mounts *out)
{
	mounts_parse_n(text, strlen(text), out);
}

static void *
zalloc(size_t n)
{
	void *p = calloc(1, n);

	assert_non_null(p);
	return p;
}

static const struct procfs_netdev_if *
netdev_find(const struct procfs_netdev *nd, const char *name)
{
	for (size_t i = 0; i < nd->n; i++) {
		if (strcmp(nd->ifs[i].name, name) == 0)
			return &nd->ifs[i];
	}
	return NULL;
}

static const struct procfs_disk *
disk_find(const struct procfs_diskstats *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->disks[i].name, name) == 0)
			return &d->disks[i];
	}
	return NULL;
}

/* ---- /proc/net/dev -------------------------------------------------- */

static void
test_netdev_real(void **state)
{
	struct procfs_netdev *nd = zalloc(sizeof(*nd));
	const struct procfs_netdev_if *i;
	static const uint64_t eth0[NETDEV__COUNT] = { 12345678901234ull, 1737, 3, 4,
						      111183, 1432, 11, 12 };

	assert_int_equal(netdev_parse(netdev_real, nd), 0);
	assert_int_equal(nd->n, 4);
	assert_int_equal(nd->malformed, 0);
	assert_int_equal(nd->left_out, 0);
	/* file order */
	assert_string_equal(nd->ifs[0].name, "lo");
	assert_string_equal(nd->ifs[1].name, "eth0");
	assert_string_equal(nd->ifs[2].name, "vpn0");
	assert_string_equal(nd->ifs[3].name, "a\"b\\c");
	i = netdev_find(nd, "lo");
	assert_true(i->counters[NETDEV_RX_BYTES] == 1260228447ull);
	assert_true(i->counters[NETDEV_TX_PACKETS] == 7290411ull);
	i = netdev_find(nd, "eth0");
	for (int c = 0; c < NETDEV__COUNT; c++)
		assert_true(i->counters[c] == eth0[c]);
	i = netdev_find(nd, "vpn0");
	assert_true(i->counters[NETDEV_RX_BYTES] == 8400 && i->counters[NETDEV_RX_PACKETS] == 100);
	assert_true(i->counters[NETDEV_RX_DROPS] == 2 && i->counters[NETDEV_TX_ERRORS] == 1);
	assert_true(i->counters[NETDEV_TX_BYTES] == 9600 && i->counters[NETDEV_TX_PACKETS] == 120);
	i = netdev_find(nd, "a\"b\\c");
	assert_true(i->counters[NETDEV_RX_ERRORS] == 3 && i->counters[NETDEV_TX_DROPS] == 12);
	free(nd);
}

static void
test_netdev_malformed_lines_skipped(void **state)
{
	static const char *const bad[] = {
		"bad0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",		/* 15 counters */
		"bad1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n",
		"bad2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 x\n",	/* a word after them */
		"bad3 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",		/* no colon */
		": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",		/* no name */
		"sixteen-chars-xx: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"a b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"a/b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"\xff\xfe: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",	/* not UTF-8 */
		"eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n",
		"eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		"good: 9 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",	/* a second "good" */
	};
	struct procfs_netdev *nd = zalloc(sizeof(*nd));
	struct strbuf sb;

	strbuf_init(&sb, 1 << 16);
	strbuf_puts(&sb, NETDEV_HEAD "good: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		strbuf_puts(&sb, bad[i]);
	/* 15 characters, UTF-8, more columns than today's kernels print */
	strbuf_puts(&sb, "\xc3\xa9th-fifteen-ch: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n\n");
	strbuf_puts(&sb, "   \n");
	assert_int_equal(netdev_parse(sb.data, nd), 0);
	assert_int_equal(nd->malformed, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(nd->n, 2);
	assert_string_equal(nd->ifs[0].name, "good");
	assert_true(nd->ifs[0].counters[NETDEV_RX_BYTES] == 1);	/* the first one kept */
	assert_string_equal(nd->ifs[1].name, "\xc3\xa9th-fifteen-ch");
	assert_true(nd->ifs[1].counters[NETDEV_TX_DROPS] == 12);
	strbuf_free(&sb);

	/* Not /proc/net/dev: no header. */
	assert_int_equal(netdev_parse("", nd), -1);
	assert_int_equal(netdev_parse("lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", nd), -1);
	assert_int_equal(netdev_parse("Inter-|\nlo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", nd),
			 -1);
	/* A header alone is an empty table. */
	assert_int_equal(netdev_parse(NETDEV_HEAD, nd), 0);
	assert_int_equal(nd->n, 0);
	free(nd);
}

static void
test_netdev_cap(void **state)
{
	struct procfs_netdev *nd = zalloc(sizeof(*nd));
	struct strbuf sb;
	size_t total = PROCFS_NETDEV_MAX + 6;

	strbuf_init(&sb, 1 << 20);
	strbuf_puts(&sb, NETDEV_HEAD);
	for (size_t i = 0; i < total; i++)
		strbuf_printf(&sb, "veth%zu: %zu 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i, i);
	strbuf_puts(&sb, "broken: 1\n");
	assert_int_equal(netdev_parse(sb.data, nd), 0);
	assert_int_equal(nd->n, PROCFS_NETDEV_MAX);
	assert_int_equal(nd->left_out, 6);
	assert_int_equal(nd->malformed, 1);
	for (size_t i = 0; i < PROCFS_NETDEV_MAX; i++) {
		char want[16];

		snprintf(want, sizeof(want), "veth%zu", i);
		assert_string_equal(nd->ifs[i].name, want);
		assert_true(nd->ifs[i].counters[NETDEV_RX_BYTES] == i);
	}
	strbuf_free(&sb);
	free(nd);
}

static void
test_netdev_truncated(void **state)
{
	struct procfs_netdev *nd = zalloc(sizeof(*nd));
	size_t len = strlen(netdev_real);
	const char *last = strstr(netdev_real, "a\"b\\c");

	/* Every prefix: never a read past the end; a cut line is malformed or
	 * (cut inside its last number) reads that number short. */
	for (size_t n = 0; n <= len; n++) {
		int rc = netdev_parse_n(netdev_real, n, nd);

		if (rc == 0)
			assert_true(nd->n + nd->malformed <= 4);
	}
	assert_int_equal(netdev_parse_n(netdev_real, (size_t)(last - netdev_real), nd), 0);
	assert_int_equal(nd->n, 3);
	assert_int_equal(nd->malformed, 0);
	free(nd);
}

/* ---- /proc/diskstats ------------------------------------------------ */

static void
test_diskstats_real(void **state)
{
	struct procfs_diskstats *d = zalloc(sizeof(*d));
	const struct procfs_disk *k;

	disks_parse(diskstats_real, d);
	assert_int_equal(d->malformed, 0);
	assert_int_equal(d->left_out, 0);
	/* loop0 ram0 zram0 vda1 nvme0n1p1 mmcblk0p1 */
	assert_int_equal(d->ignored, 6);
	assert_int_equal(d->n, 5);
	assert_string_equal(d->disks[0].name, "vda");
	assert_string_equal(d->disks[1].name, "nvme0n1");
	assert_string_equal(d->disks[2].name, "dm-0");
	assert_string_equal(d->disks[3].name, "mmcblk0");
	assert_string_equal(d->disks[4].name, "md0");
	k = disk_find(d, "vda");
	assert_true(k->reads_completed == 242582 && k->sectors_read == 21312850);
	assert_true(k->writes_completed == 1618335 && k->sectors_written == 51409632);
	assert_true(k->io_ms == 159016);
	k = disk_find(d, "dm-0");	/* the 11 counters of 2.6.25 to 4.17 */
	assert_true(k->reads_completed == 10 && k->sectors_read == 80);
	assert_true(k->writes_completed == 20 && k->sectors_written == 160 && k->io_ms == 2500);
	free(d);
}

static void
test_disk_ignored_rule(void **state)
{
	static const char *const ignored[] = {
		"ram0", "ram15", "zram0", "loop0", "loop127", "fd0", "sda1", "sdz9", "sdaa12",
		"hda1", "vda1", "vdb3", "xvda1", "nvme0n1p1", "nvme12n3p45", "mmcblk0p1",
	};
	static const char *const counted[] = {
		"sda", "sdaa", "vda", "xvda", "hdc", "nvme0n1", "nvme0", "mmcblk0", "dm-0", "md0",
		"sr0", "nbd0", "ram", "loop", "loopx", "sda1x", "nvme0n1p", "sdA1", "cciss!c0d0",
		"zram0a", "",
	};

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (!procfs_disk_ignored(ignored[i]))
			fail_msg("%s counted", ignored[i]);
	}
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		if (procfs_disk_ignored(counted[i]))
			fail_msg("%s ignored", counted[i]);
	}
}

static void
test_diskstats_malformed_and_cap(void **state)
{
	static const char *const bad[] = {
		"8 0 sdb 1 2 3 4 5 6 7 8 9 10\n",		/* 10 counters */
		"8 0 sdb 1 2 3 4 5 6 7 8 9 10 x\n",
		"8 0 sdb 1 2 3 4 5 6 7 8 9 10 11 -12\n",
		"x 0 sdb 1 2 3 4 5 6 7 8 9 10 11\n",
		"8 0\n",
		"8 0 \xff 1 2 3 4 5 6 7 8 9 10 11\n",
		"8 0 name-of-thirty-two-characters-xy 1 2 3 4 5 6 7 8 9 10 11\n",
		"8 0 sda 9 9 9 9 9 9 9 9 9 9 9\n",		/* sda again */
	};
	struct procfs_diskstats *d = zalloc(sizeof(*d));
	struct strbuf sb;

	strbuf_init(&sb, 1 << 20);
	strbuf_puts(&sb, "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		strbuf_puts(&sb, bad[i]);
	disks_parse(sb.data, d);
	assert_int_equal(d->malformed, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(d->n, 1);
	assert_true(d->disks[0].reads_completed == 1 && d->disks[0].io_ms == 10);

	strbuf_reset(&sb);
	for (size_t i = 0; i < PROCFS_DISKS_MAX + 3; i++)
		strbuf_printf(&sb, "253 %zu dm-%zu %zu 0 0 0 0 0 0 0 0 0 0\n", i, i, i);
	strbuf_puts(&sb, "7 0 loop0 1 0 0 0 0 0 0 0 0 0 0\n");	/* ignored, not capped */
	disks_parse(sb.data, d);
	assert_int_equal(d->n, PROCFS_DISKS_MAX);
	assert_int_equal(d->left_out, 3);
	assert_int_equal(d->ignored, 1);
	assert_string_equal(d->disks[PROCFS_DISKS_MAX - 1].name, "dm-63");
	assert_true(d->disks[PROCFS_DISKS_MAX - 1].reads_completed == PROCFS_DISKS_MAX - 1);

	/* every prefix of the sample: no read past the end */
	for (size_t n = 0; n <= strlen(diskstats_real); n++) {
		disks_parse_n(diskstats_real, n, d);
		assert_true(d->n <= 5);
	}
	disks_parse("", d);
	assert_int_equal(d->n + d->malformed, 0);
	strbuf_free(&sb);
	free(d);
}

/* ---- /proc/self/mountinfo ------------------------------------------- */

static void
test_mountinfo_real(void **state)
{
	struct procfs_mounts *m = zalloc(sizeof(*m));
	static const char *const want[][2] = {
		{ "/", "ext4" },
		{ "/dev/shm", "tmpfs" },	/* the second mount, the one on top */
		{ "/run/netns", "ext4" },
		{ "/mnt/my disk", "xfs" },
		{ "/mnt/tab\tand\nnewline\\back", "ext4" },
		{ "/var/lib/docker/overlay2/m", "overlay" },
	};

	mounts_parse(mountinfo_real, m);
	assert_int_equal(m->malformed, 0);
	assert_int_equal(m->left_out, 0);
	/* proc sysfs devtmpfs cgroup cgroup2 fuse.sshfs nfs4 proc nsfs squashfs */
	assert_int_equal(m->ignored, 10);
	assert_int_equal(m->n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < m->n; i++) {
		assert_string_equal(m->mounts[i].path, want[i][0]);
		assert_string_equal(m->mounts[i].fstype, want[i][1]);
	}
	free(m);
}

static void
test_fstype_ignored_rule(void **state)
{
	static const char *const ignored[] = {
		"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs",
		"securityfs", "pstore", "bpf", "configfs", "fusectl", "autofs", "nsfs",
		"binfmt_misc", "hugetlbfs", "devtmpfs", "rpc_pipefs", "ramfs", "nfs", "nfs4",
		"cifs", "smb3", "fuse", "fuseblk", "fuse.sshfs", "fuse.gvfsd-fuse", "squashfs",
		"iso9660", "erofs",
	};
	static const char *const counted[] = {
		"ext4", "xfs", "btrfs", "tmpfs", "overlay", "vfat", "zfs", "f2fs", "ext2",
		"fusex", "nfsx", "", "procfs",
	};

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (!procfs_fstype_ignored(ignored[i]))
			fail_msg("%s counted", ignored[i]);
	}
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		if (procfs_fstype_ignored(counted[i]))
			fail_msg("%s ignored", counted[i]);
	}
}

static void
test_mountinfo_malformed_and_cap(void **state)
{
	static const char *const bad[] = {
		"60 1 0:60 / /a rw ext4 /dev/x rw\n",			/* no "-" */
		"61 1 0:61 / /b rw - ext4\n",				/* no source */
		"62 1 0:62 / /c rw - ext4 /dev/x\n",			/* no superblock options */
		"63 1 0:63 / relative rw - ext4 /dev/x rw\n",
		"64 1 0:64 / /nul\\000byte rw - ext4 /dev/x rw\n",
		"65 1 0:65 / /not\\377utf8 rw - ext4 /dev/x rw\n",
		"66 1 0:66 / /d\n",
		"67 1 0:67 /\n",
	};
	struct procfs_mounts *m = zalloc(sizeof(*m));
	struct strbuf sb;
	char *longpath;

	strbuf_init(&sb, 1 << 20);
	strbuf_puts(&sb, "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		strbuf_puts(&sb, bad[i]);
	/* a backslash without three octal digits is itself, and \400 is not octal */
	strbuf_puts(&sb, "68 1 0:68 / /odd\\9\\400 rw - ext4 /dev/x rw\n");
	/* a mount point of exactly PROCFS_PATH_MAX - 1 bytes fits, one more does not */
	longpath = malloc(PROCFS_PATH_MAX + 1);
	assert_non_null(longpath);
	memset(longpath, 'p', PROCFS_PATH_MAX);
	longpath[0] = '/';
	longpath[PROCFS_PATH_MAX - 1] = '\0';
	strbuf_printf(&sb, "69 1 0:69 / %s rw - ext4 /dev/x rw\n", longpath);
	longpath[PROCFS_PATH_MAX - 1] = 'q';
	longpath[PROCFS_PATH_MAX] = '\0';
	strbuf_printf(&sb, "70 1 0:70 / %s rw - ext4 /dev/x rw\n", longpath);
	mounts_parse(sb.data, m);
	assert_int_equal(m->malformed, sizeof(bad) / sizeof(bad[0]) + 1);
	assert_int_equal(m->n, 3);
	assert_string_equal(m->mounts[0].path, "/");
	assert_string_equal(m->mounts[1].path, "/odd\\9\\400");
	assert_int_equal(strlen(m->mounts[2].path), PROCFS_PATH_MAX - 1);
	free(longpath);

	strbuf_reset(&sb);
	for (size_t i = 0; i < PROCFS_MOUNTS_MAX + 4; i++)
		strbuf_printf(&sb, "%zu 1 0:%zu / /m%zu rw - tmpfs tmpfs rw\n", i + 100, i, i);
	strbuf_puts(&sb, "999 1 0:99 / /proc rw - proc proc rw\n");	/* ignored, not capped */
	mounts_parse(sb.data, m);
	assert_int_equal(m->n, PROCFS_MOUNTS_MAX);
	assert_int_equal(m->left_out, 4);
	assert_int_equal(m->ignored, 1);
	assert_string_equal(m->mounts[PROCFS_MOUNTS_MAX - 1].path, "/m63");

	for (size_t n = 0; n <= strlen(mountinfo_real); n++) {
		mounts_parse_n(mountinfo_real, n, m);
		assert_true(m->n <= 6);
	}
	strbuf_free(&sb);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netdev_real),
		cmocka_unit_test(test_netdev_malformed_lines_skipped),
		cmocka_unit_test(test_netdev_cap),
		cmocka_unit_test(test_netdev_truncated),
		cmocka_unit_test(test_diskstats_real),
		cmocka_unit_test(test_disk_ignored_rule),
		cmocka_unit_test(test_diskstats_malformed_and_cap),
		cmocka_unit_test(test_mountinfo_real),
		cmocka_unit_test(test_fstype_ignored_rule),
		cmocka_unit_test(test_mountinfo_malformed_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
