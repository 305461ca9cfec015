/*
 * Interface and disk source (see hoststat.h): the parsed /proc tables of
 * the last sample, each interface's up state and MTU from the kernel
 * (ioctl on a socket of our own namespace: /sys/class/net shows the
 * namespace that mounted /sys, which need not be ours) and each mount's
 * statvfs. Problems are warned about once, and again after they cleared.
 */
#include "metrics/hoststat.h"
#include "metrics/procfs.h"
#include "core/log.h"
#include "core/util.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define HOSTSTAT_FILE_MAX (4 << 20)	/* cap on one procfs file read */

enum host_file { HF_NETDEV, HF_DISKSTATS, HF_MOUNTINFO, HF__COUNT };
static const char *const host_file_names[HF__COUNT] = {
	[HF_NETDEV] = "net/dev",
	[HF_DISKSTATS] = "diskstats",
	[HF_MOUNTINFO] = "self/mountinfo",
};
static_assert(ARRAY_LEN(host_file_names) == HF__COUNT, "host file names");

/* Metric of each /proc/net/dev counter we keep. */
static const enum metric_id netdev_metric[NETDEV__COUNT] = {
	[NETDEV_RX_BYTES] = M_INTERFACE_RECEIVE_BYTES,
	[NETDEV_RX_PACKETS] = M_INTERFACE_RECEIVE_PACKETS,
	[NETDEV_RX_ERRORS] = M_INTERFACE_RECEIVE_ERRORS,
	[NETDEV_RX_DROPS] = M_INTERFACE_RECEIVE_DROPS,
	[NETDEV_TX_BYTES] = M_INTERFACE_TRANSMIT_BYTES,
	[NETDEV_TX_PACKETS] = M_INTERFACE_TRANSMIT_PACKETS,
	[NETDEV_TX_ERRORS] = M_INTERFACE_TRANSMIT_ERRORS,
	[NETDEV_TX_DROPS] = M_INTERFACE_TRANSMIT_DROPS,
};
static_assert(ARRAY_LEN(netdev_metric) == NETDEV__COUNT, "netdev metrics");
static_assert(HOSTSTAT_IF_SERIES == NETDEV__COUNT + 4, "interface series");

struct host_if {
	char     name[PROCFS_IFNAME_MAX];
	uint64_t counters[NETDEV__COUNT];
	int      up, mtu;
	uint64_t to_up, to_down;	/* transitions seen while listed */
};

struct host_fs {
	double size, used, free;	/* bytes */
};

struct hoststat {
	char                    *root;
	int                      sock;		/* for the default link query */
	hoststat_link_fn         link;
	void                    *link_ctx;
	struct procfs_netdev    *netdev;	/* parse scratch */
	struct host_if           ifs_a[PROCFS_NETDEV_MAX], ifs_b[PROCFS_NETDEV_MAX];
	struct host_if          *ifs, *spare;	/* the last sample, the next one */
	size_t                   nifs, ifs_left_out;
	struct procfs_diskstats *disks;
	struct procfs_mounts    *mounts;	/* only those with a size left */
	struct host_fs           fs[PROCFS_MOUNTS_MAX];
	unsigned                 failing;	/* bit per enum host_file: unreadable */
	unsigned                 malformed;	/* bit per file: bad lines skipped */
	unsigned                 capped;	/* bit per file: entries past the cap */
};

static int
link_ioctl(void *ctx, const char *ifname, unsigned *flags, int *mtu)
{
	struct hoststat *hs = ctx;
	struct ifreq ifr;

	if (hs->sock == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	if (str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), ifname) == -1 ||
	    ioctl(hs->sock, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	*flags = (unsigned short)ifr.ifr_flags;
	if (ioctl(hs->sock, SIOCGIFMTU, &ifr) == -1)
		return -1;
	*mtu = ifr.ifr_mtu;
	return 0;
}

struct hoststat *
hoststat_new(void)
{
	struct hoststat *hs = xcalloc(1, sizeof(*hs));

	hs->root = xstrdup("/proc");
	hs->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (hs->sock == -1)
		log_warn("hoststat: socket for interface flags; interfaces left out");
	hs->link = link_ioctl;
	hs->link_ctx = hs;
	hs->netdev = xcalloc(1, sizeof(*hs->netdev));
	hs->disks = xcalloc(1, sizeof(*hs->disks));
	hs->mounts = xcalloc(1, sizeof(*hs->mounts));
	hs->ifs = hs->ifs_a;
	hs->spare = hs->ifs_b;
	return hs;
}

void
hoststat_free(struct hoststat *hs)
{
	if (hs == NULL)
		return;
	if (hs->sock != -1)
		close(hs->sock);
	free(hs->root);
	free(hs->netdev);
	free(hs->disks);
	free(hs->mounts);
	free(hs);
}

void
hoststat_set_procfs_root(struct hoststat *hs, const char *dir)
{
	free(hs->root);
	hs->root = xstrdup(dir);
}

void
hoststat_set_link_query(struct hoststat *hs, hoststat_link_fn fn, void *ctx)
{
	hs->link = fn;
	hs->link_ctx = ctx;
}

/* Sets or clears bit f of *mask; 1 when it was clear and is now set. */
static int
flag_rises(unsigned *mask, enum host_file f, int on)
{
	int was = (*mask >> f) & 1;

	if (on)
		*mask |= 1u << f;
	else
		*mask &= ~(1u << f);
	return on && !was;
}

static int
file_read(struct hoststat *hs, enum host_file f, char **buf, size_t *len)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", hs->root, host_file_names[f]);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
	} else if (file_read_all(path, HOSTSTAT_FILE_MAX, buf, len) == 0) {
		if ((hs->failing >> f) & 1)
			log_info("hoststat: %s/%s reads again", hs->root, host_file_names[f]);
		hs->failing &= ~(1u << f);
		return 0;
	}
	if (flag_rises(&hs->failing, f, 1))
		log_warnx("hoststat: %s/%s: %s; its metrics are left out until it reads again",
			  hs->root, host_file_names[f], strerror(errno));
	return -1;
}

/* After a parse: bad lines and entries past the cap, each warned once. */
static void
table_notes(struct hoststat *hs, enum host_file f, size_t malformed, size_t left_out,
	    int cap, const char *what)
{
	if (flag_rises(&hs->malformed, f, malformed > 0))
		log_warnx("hoststat: %s/%s: %zu malformed line(s) skipped", hs->root,
			  host_file_names[f], malformed);
	if (flag_rises(&hs->capped, f, left_out > 0))
		log_warnx("hoststat: %zu %s past the first %d left out of the metrics "
			  "(counted in vpnagent_telemetry_series_dropped_total)", left_out, what,
			  cap);
}

static const struct host_if *
if_find(const struct host_if *ifs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ifs[i].name, name) == 0)
			return &ifs[i];
	}
	return NULL;
}

static void
interfaces_sample(struct hoststat *hs)
{
	const struct procfs_netdev *nd = hs->netdev;
	struct host_if *tmp;
	char *buf = NULL;
	size_t len, n = 0;

	hs->ifs_left_out = 0;
	if (file_read(hs, HF_NETDEV, &buf, &len) == -1)
		goto done;
	if (procfs_netdev_parse(buf, len, hs->netdev) == -1) {
		if (flag_rises(&hs->malformed, HF_NETDEV, 1))
			log_warnx("hoststat: %s/%s: not /proc/net/dev (no header); interfaces "
				  "left out", hs->root, host_file_names[HF_NETDEV]);
		goto done;
	}
	table_notes(hs, HF_NETDEV, nd->malformed, nd->left_out, PROCFS_NETDEV_MAX,
		    "interfaces");
	for (size_t i = 0; i < nd->n; i++) {
		const struct procfs_netdev_if *in = &nd->ifs[i];
		const struct host_if *old;
		struct host_if *h = &hs->spare[n];
		unsigned flags;
		int mtu;

		/* Gone since the file was read: left out, like one never seen. */
		if (hs->link(hs->link_ctx, in->name, &flags, &mtu) == -1)
			continue;
		memset(h, 0, sizeof(*h));
		memcpy(h->name, in->name, sizeof(h->name));
		memcpy(h->counters, in->counters, sizeof(h->counters));
		h->up = (flags & IFF_UP) && (flags & IFF_RUNNING);
		h->mtu = mtu;
		if ((old = if_find(hs->ifs, hs->nifs, h->name)) != NULL) {
			h->to_up = old->to_up + (h->up && !old->up);
			h->to_down = old->to_down + (!h->up && old->up);
		}
		n++;
	}
	hs->ifs_left_out = nd->left_out;
done:
	/* An unreadable file: n is 0, every interface (and its history) goes. */
	tmp = hs->ifs;
	hs->ifs = hs->spare;
	hs->spare = tmp;
	hs->nifs = n;
	free(buf);
}

static void
diskstats_sample(struct hoststat *hs)
{
	char *buf = NULL;
	size_t len;

	hs->disks->n = hs->disks->left_out = 0;
	if (file_read(hs, HF_DISKSTATS, &buf, &len) == -1)
		goto done;
	procfs_diskstats_parse(buf, len, hs->disks);
	table_notes(hs, HF_DISKSTATS, hs->disks->malformed, hs->disks->left_out,
		    PROCFS_DISKS_MAX, "block devices");
done:
	free(buf);
}

/* Keeps the mounts statvfs answers for with a size, in order. */
static void
mounts_sample(struct hoststat *hs)
{
	struct procfs_mounts *m = hs->mounts;
	char *buf = NULL;
	size_t len, keep = 0;

	m->n = m->left_out = 0;
	if (file_read(hs, HF_MOUNTINFO, &buf, &len) == -1)
		goto done;
	procfs_mountinfo_parse(buf, len, m);
	table_notes(hs, HF_MOUNTINFO, m->malformed, m->left_out, PROCFS_MOUNTS_MAX,
		    "filesystems");
	for (size_t i = 0; i < m->n; i++) {
		struct statvfs sv;
		double frsize;

		if (statvfs(m->mounts[i].path, &sv) == -1 || sv.f_blocks == 0) {
			log_debug("hoststat: %s (%s) left out: %s", m->mounts[i].path,
				  m->mounts[i].fstype, sv.f_blocks == 0 ? "no blocks" :
				  strerror(errno));
			continue;
		}
		frsize = (double)(sv.f_frsize ? sv.f_frsize : sv.f_bsize);
		if (keep != i)
			m->mounts[keep] = m->mounts[i];
		hs->fs[keep].size = (double)sv.f_blocks * frsize;
		hs->fs[keep].used = sv.f_bfree < sv.f_blocks ?
				    (double)(sv.f_blocks - sv.f_bfree) * frsize : 0;
		hs->fs[keep].free = (double)sv.f_bavail * frsize;
		keep++;
	}
	m->n = keep;
done:
	free(buf);
}

void
hoststat_sample(struct hoststat *hs)
{
	interfaces_sample(hs);
	diskstats_sample(hs);
	mounts_sample(hs);
}

static void
interfaces_add(const struct hoststat *hs, struct metrics_snapshot *snap)
{
	for (size_t i = 0; i < hs->nifs; i++) {
		const struct host_if *h = &hs->ifs[i];
		const char *l[1] = { h->name };

		for (int c = 0; c < NETDEV__COUNT; c++)
			metrics_add(snap, netdev_metric[c], (double)h->counters[c], l);
		metrics_add(snap, M_INTERFACE_UP, h->up, l);
		metrics_add(snap, M_INTERFACE_MTU, h->mtu, l);
		metrics_add(snap, M_INTERFACE_STATE_TRANSITIONS, (double)h->to_up,
			    (const char *[]){ h->name, "up" });
		metrics_add(snap, M_INTERFACE_STATE_TRANSITIONS, (double)h->to_down,
			    (const char *[]){ h->name, "down" });
	}
	metrics_left_out(snap, hs->ifs_left_out * HOSTSTAT_IF_SERIES);
}

static void
disks_add(const struct hoststat *hs, struct metrics_snapshot *snap)
{
	const struct procfs_mounts *m = hs->mounts;
	const struct procfs_diskstats *d = hs->disks;

	for (size_t i = 0; i < m->n; i++) {
		const char *l[1] = { m->mounts[i].path };

		metrics_add(snap, M_DISK_SIZE, hs->fs[i].size, l);
		metrics_add(snap, M_DISK_USED, hs->fs[i].used, l);
		metrics_add(snap, M_DISK_FREE, hs->fs[i].free, l);
	}
	metrics_left_out(snap, m->left_out * HOSTSTAT_MOUNT_SERIES);
	for (size_t i = 0; i < d->n; i++) {
		const struct procfs_disk *k = &d->disks[i];
		const char *l[1] = { k->name };

		metrics_add(snap, M_DISK_READS_COMPLETED, (double)k->reads_completed, l);
		metrics_add(snap, M_DISK_WRITES_COMPLETED, (double)k->writes_completed, l);
		metrics_add(snap, M_DISK_READ_BYTES, (double)k->sectors_read * 512, l);
		metrics_add(snap, M_DISK_WRITTEN_BYTES, (double)k->sectors_written * 512, l);
		metrics_add(snap, M_DISK_IO_TIME, (double)k->io_ms / 1000.0, l);
	}
	metrics_left_out(snap, d->left_out * HOSTSTAT_DISK_SERIES);
}

void
hoststat_metrics_source(void *hoststat, struct metrics_snapshot *snap)
{
	const struct hoststat *hs = hoststat;

	interfaces_add(hs, snap);
	disks_add(hs, snap);
}
