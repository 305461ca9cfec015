/*
 * The interface and disk families (the telemetry reference names both
 * beside cpu and memory): every network interface of the agent's network
 * namespace, its TUN device included, and the host's mounted filesystems
 * and block devices. Sampled on the loop's sampling tick, never per scrape
 * or per packet; a snapshot copies the last sample.
 */
#ifndef METRICS_HOSTSTAT_H
#define METRICS_HOSTSTAT_H

#include "metrics/metrics.h"

/* Series one listed interface, filesystem or block device costs: what a
 * capped one adds to vpnagent_telemetry_series_dropped_total. */
#define HOSTSTAT_IF_SERIES    12	/* 8 counters, up, mtu, 2 transitions */
#define HOSTSTAT_MOUNT_SERIES 3
#define HOSTSTAT_DISK_SERIES  5

struct hoststat;

/* An interface's IFF_* flags and MTU by name: 0, or -1 when it is gone. */
typedef int (*hoststat_link_fn)(void *ctx, const char *ifname, unsigned *flags, int *mtu);

struct hoststat *hoststat_new(void);
void hoststat_free(struct hoststat *hs);
/* Reads <dir>/net/dev, <dir>/diskstats and <dir>/self/mountinfo instead
 * of /proc (tests); dir is copied. */
void hoststat_set_procfs_root(struct hoststat *hs, const char *dir);
/* Replaces the SIOCGIFFLAGS/SIOCGIFMTU query (tests). */
void hoststat_set_link_query(struct hoststat *hs, hoststat_link_fn fn, void *ctx);

/* Reads the three files, each interface's flags and MTU and each listed
 * filesystem's statvfs. An interface whose up state differs from the
 * previous sample counts a transition; one that disappears is forgotten
 * (its counters start again if it comes back, as the kernel's do). A file
 * that cannot be read leaves its part out until it reads again (warned
 * once); a filesystem statvfs fails on, or with no blocks, is left out. */
void hoststat_sample(struct hoststat *hs);
/* A metrics_source_fn: the interface and disk families of the last
 * sample; those past the caps counted with metrics_left_out(). */
void hoststat_metrics_source(void *hoststat, struct metrics_snapshot *snap);

#endif
