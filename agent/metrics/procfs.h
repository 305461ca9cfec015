/*
 * Pure parsers for the procfs files the system metrics need: /proc/stat,
 * /proc/meminfo and /proc/<pid>/stat (cpu, memory, process), /proc/net/dev
 * (interface), /proc/diskstats and /proc/self/mountinfo (disk). No I/O:
 * each takes a bounded buffer (not NUL-terminated) so unit tests and the
 * fuzzer drive them directly. Private to the metrics module.
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

/*
 * The interface and disk tables. Unlike the three above, one bad line does
 * not spoil the file: it is skipped and counted in `malformed` (the other
 * lines still tell the truth). Each table keeps its first PROCFS_*_MAX
 * entries, in file order, and counts the rest in `left_out`: labels stay
 * bounded on a host with thousands of veths or mounts.
 */
#define PROCFS_NETDEV_MAX  64		/* interfaces listed */
#define PROCFS_DISKS_MAX   64		/* block devices listed */
#define PROCFS_MOUNTS_MAX  64		/* filesystems listed */
#define PROCFS_IFNAME_MAX  16		/* IFNAMSIZ: 15 characters and the NUL */
#define PROCFS_DISKNAME_MAX 32		/* DISK_NAME_LEN: 31 characters and the NUL */
#define PROCFS_PATH_MAX    4096		/* a decoded mount point and its NUL */
#define PROCFS_FSTYPE_MAX  64

/* /proc/net/dev columns we keep, in its order (receive, then transmit). */
enum procfs_netdev_counter {
	NETDEV_RX_BYTES,
	NETDEV_RX_PACKETS,
	NETDEV_RX_ERRORS,
	NETDEV_RX_DROPS,
	NETDEV_TX_BYTES,
	NETDEV_TX_PACKETS,
	NETDEV_TX_ERRORS,
	NETDEV_TX_DROPS,
	NETDEV__COUNT
};

struct procfs_netdev_if {
	char     name[PROCFS_IFNAME_MAX];
	uint64_t counters[NETDEV__COUNT];
};

struct procfs_netdev {
	size_t                  n;
	struct procfs_netdev_if ifs[PROCFS_NETDEV_MAX];
	size_t                  left_out;	/* valid lines past the cap */
	size_t                  malformed;	/* lines skipped */
};

/* The /proc/diskstats fields we keep (fields 4, 6, 8, 10 and 13). */
struct procfs_disk {
	char     name[PROCFS_DISKNAME_MAX];
	uint64_t reads_completed;
	uint64_t sectors_read;		/* of 512 bytes, whatever the device's */
	uint64_t writes_completed;
	uint64_t sectors_written;
	uint64_t io_ms;			/* milliseconds with I/O in flight */
};

struct procfs_diskstats {
	size_t             n;
	struct procfs_disk disks[PROCFS_DISKS_MAX];
	size_t             left_out;
	size_t             malformed;
	size_t             ignored;	/* partitions and virtual devices (the rule below) */
};

struct procfs_mount {
	char path[PROCFS_PATH_MAX];	/* the mount point, octal escapes decoded */
	char fstype[PROCFS_FSTYPE_MAX];
};

struct procfs_mounts {
	size_t              n;
	struct procfs_mount mounts[PROCFS_MOUNTS_MAX];
	size_t              left_out;
	size_t              malformed;
	size_t              ignored;	/* filesystem types of the rule below */
};

/* /proc/net/dev: its two header lines, then "name: 16 counters" per
 * interface. -1 only when the header is missing (not that file). A name
 * seen twice is malformed the second time, as is one of 16 bytes or more
 * or with a control character (the kernel's names have neither). */
int procfs_netdev_parse(const char *buf, size_t len, struct procfs_netdev *out);

/* /proc/diskstats: "major minor name" and at least 11 counters (kernels
 * since 2.6.25; later ones append more). Always 0. Devices
 * procfs_disk_ignored() names are left out. */
int procfs_diskstats_parse(const char *buf, size_t len, struct procfs_diskstats *out);
/* 1 for RAM disks, zram, loop and floppy devices (no storage of their
 * own, or a file already counted on its disk) and for partitions of
 * sd/hd/vd/xvd, nvme and mmcblk disks (their I/O is in their disk's, so a
 * sum over devices is the host's I/O). Other names (dm-*, md*, ...) count. */
int procfs_disk_ignored(const char *name);

/* /proc/self/mountinfo (proc(5)): mount points with their octal escapes
 * (\040 for a space, \011, \012, \134) decoded. Always 0. Filesystems
 * procfs_fstype_ignored() names are left out; a mount point mounted over
 * again is listed once, for the filesystem on top (the one statvfs sees). */
int procfs_mountinfo_parse(const char *buf, size_t len, struct procfs_mounts *out);
/* 1 for filesystem types without storage of their own (proc, sysfs,
 * cgroup, devtmpfs, ...), for network and FUSE filesystems (statvfs waits
 * for a server or a daemon, and the agent samples on its event loop) and
 * for read-only images (squashfs, iso9660, erofs: always full). tmpfs and
 * overlay count: they have a size and fill up. */
int procfs_fstype_ignored(const char *fstype);

#endif
