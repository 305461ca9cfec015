/*
 * libFuzzer target for the procfs parsers: the same bytes go to the
 * /proc/stat, /proc/meminfo, /proc/<pid>/stat, /proc/net/dev,
 * /proc/diskstats and /proc/self/mountinfo parsers, copied into an
 * exact-size heap buffer so ASan catches any read past len. The table
 * parsers' invariants (caps, names, the ignore rules) are checked too.
 */
#include "metrics/procfs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct procfs_stat stat_out;	/* 70 KB: too big for the stack */
static struct procfs_netdev netdev_out;
static struct procfs_diskstats disks_out;
static struct procfs_mounts mounts_out;	/* 260 KB */

/* A stored name: NUL-terminated inside its field, not empty. */
static void
check_name(const char *name, size_t size)
{
	size_t n = strnlen(name, size);

	if (n == 0 || n == size)
		abort();
}

static void
check_netdev(const struct procfs_netdev *nd)
{
	if (nd->n > PROCFS_NETDEV_MAX || (nd->left_out && nd->n != PROCFS_NETDEV_MAX))
		abort();
	for (size_t i = 0; i < nd->n; i++) {
		check_name(nd->ifs[i].name, sizeof(nd->ifs[i].name));
		if (strpbrk(nd->ifs[i].name, " \t\n:/") != NULL)
			abort();
		for (size_t j = 0; j < i; j++) {
			if (strcmp(nd->ifs[i].name, nd->ifs[j].name) == 0)
				abort();
		}
	}
}

static void
check_disks(const struct procfs_diskstats *d)
{
	if (d->n > PROCFS_DISKS_MAX || (d->left_out && d->n != PROCFS_DISKS_MAX))
		abort();
	for (size_t i = 0; i < d->n; i++) {
		check_name(d->disks[i].name, sizeof(d->disks[i].name));
		if (procfs_disk_ignored(d->disks[i].name))
			abort();
		for (size_t j = 0; j < i; j++) {
			if (strcmp(d->disks[i].name, d->disks[j].name) == 0)
				abort();
		}
	}
}

static void
check_mounts(const struct procfs_mounts *m)
{
	if (m->n > PROCFS_MOUNTS_MAX || (m->left_out && m->n != PROCFS_MOUNTS_MAX))
		abort();
	for (size_t i = 0; i < m->n; i++) {
		check_name(m->mounts[i].path, sizeof(m->mounts[i].path));
		check_name(m->mounts[i].fstype, sizeof(m->mounts[i].fstype));
		if (m->mounts[i].path[0] != '/' || procfs_fstype_ignored(m->mounts[i].fstype))
			abort();
		for (size_t j = 0; j < i; j++) {
			if (strcmp(m->mounts[i].path, m->mounts[j].path) == 0)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfs_meminfo mi;
	struct procfs_pid_stat ps;
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (procfs_stat_parse(buf, size, &stat_out) == 0) {
		if (stat_out.ncpu > SYSSTAT_CPU_MAX)
			abort();
		for (size_t i = stat_out.ncpu; i < SYSSTAT_CPU_MAX; i++) {
			if (stat_out.present[i])
				abort();
		}
	}
	if (procfs_meminfo_parse(buf, size, &mi) == 0 && mi.total_bytes % 1024 != 0)
		abort();
	(void)procfs_pid_stat_parse(buf, size, &ps);
	if (procfs_netdev_parse(buf, size, &netdev_out) == 0)
		check_netdev(&netdev_out);
	if (procfs_diskstats_parse(buf, size, &disks_out) != 0)
		abort();
	check_disks(&disks_out);
	if (procfs_mountinfo_parse(buf, size, &mounts_out) != 0)
		abort();
	check_mounts(&mounts_out);
	free(buf);
	return 0;
}
