/*
 * Fixed procfs texts the interface and disk tests share (test_procfs_tables,
 * test_hoststat): what the kernel prints, odd names and all.
 */
#ifndef TESTS_PROCFS_SAMPLES_H
#define TESTS_PROCFS_SAMPLES_H

/* The two header lines /proc/net/dev starts with (any text after the bars). */
#define NETDEV_HEAD "Inter-|x\n face |y\n"

/* A /proc/net/dev as Linux 6.1 prints it, with a name holding '"' and '\'
 * and a receive counter wide enough to touch the colon. */
static const char netdev_real[] =
	"Inter-|   Receive                                                |  Transmit\n"
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
	"errs drop fifo colls carrier compressed\n"
	"    lo: 1260228447 7290411    0    0    0     0          0         0 1260228447 "
	"7290411    0    0    0     0       0          0\n"
	"  eth0:12345678901234 1737 3 4 5 6 7 8 111183 1432 11 12 13 14 15 16\n"
	"  vpn0:    8400      100    0    2    0     0          0         0     9600      "
	"120    1    0    0     0       0          0\n"
	"a\"b\\c: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";

/* Kernel 5.5+ (17 counters), 4.18+ (15), and 2.6.25+ (11) lines. */
static const char diskstats_real[] =
	"   7       0 loop0 53 0 2122 14 0 0 0 0 0 28 14 0 0 0 0 0 0\n"
	"   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	" 252       0 zram0 9 0 72 0 2 0 16 0 0 4 0 0 0 0 0 0 0\n"
	" 254       0 vda 242582 62296 21312850 56001 1618335 310864 51409632 202934 0 159016 "
	"314088 317535 53 40140312 29254 465978 25898\n"
	" 254       1 vda1 242000 62000 21300000 55000 1618000 310000 51400000 202000 0 "
	"158000 313000 0 0 0 0 0 0\n"
	" 259       0 nvme0n1 100 1 800 5 200 2 1600 7 0 1500 12 0 0 0 0\n"
	" 259       1 nvme0n1p1 90 1 700 5 190 2 1500 7 0 1400 12 0 0 0 0\n"
	" 253       0 dm-0 10 0 80 1 20 0 160 2 0 2500 3\n"
	" 179       0 mmcblk0 1 0 8 0 1 0 8 0 0 1 0\n"
	" 179       1 mmcblk0p1 1 0 8 0 1 0 8 0 0 1 0\n"
	"   9       0 md0 5 0 40 0 6 0 48 0 0 0 0\n";

/* A mountinfo with the kinds of lines a host shows: optional fields, pseudo
 * filesystems, a FUSE and an NFS mount, escaped mount points, /dev/shm
 * mounted twice, and a proc mounted over a tmpfs. */
static const char mountinfo_real[] =
	"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	"23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
	"24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12358600k\n"
	"25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24731400k\n"
	"27 1 254:0 / / rw,relatime shared:1 master:2 - ext4 /dev/vda rw,discard\n"
	"30 25 0:27 / /dev/shm rw,relatime - tmpfs shm rw,size=65536k\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	"45 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"50 27 0:50 / /mnt/my\\040disk rw - xfs /dev/sdb1 rw\n"
	"51 27 0:51 / /mnt/tab\\011and\\012newline\\134back rw - ext4 /dev/sdc rw\n"
	"52 27 0:52 / /home/u/remote rw - fuse.sshfs u@host: rw\n"
	"53 27 0:53 / /srv/nfs rw - nfs4 server:/export rw,vers=4.2\n"
	"54 27 0:54 / /run/user/1000 rw - tmpfs tmpfs rw\n"
	"55 54 0:55 / /run/user/1000 rw - proc proc rw\n"
	"56 27 0:56 net:[4026532567] /run/netns/x rw - nsfs nsfs rw\n"
	"57 27 0:57 / /var/lib/docker/overlay2/m rw - overlay overlay rw,lowerdir=/a\n"
	"58 27 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro\n";

#endif
