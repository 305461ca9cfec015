/* bench/relay: the I/O limit of a userspace TUN <-> UDP dataplane.
 *
 * A plain relay with NO crypto and no ESP framing: every IP packet read from
 * the TUN device is sent as one UDP datagram to the peer, and every datagram
 * received from the peer is written to the TUN device. Two of these, one per
 * site, form a "tunnel" whose throughput is what a userspace ESP-in-UDP
 * gateway on the same machine could reach if its crypto and bookkeeping were
 * free (issue 4, `make bench` point (e)). bench/throughput.py drives it.
 *
 *   relay --tun NAME --local ADDR:PORT --peer ADDR:PORT [--addr ADDR/PLEN]
 *         [--mtu N] [--batch N] [--gso] [--tun-offload] [--sockbuf BYTES]
 *         [--quiet]
 *
 *   --tun NAME        TUN device to create (IFF_TUN|IFF_NO_PI, not persistent:
 *                     it disappears when the relay exits)
 *   --addr A/PLEN     IPv4 address for the device (optional; a route with
 *                     `src` works without one)
 *   --mtu N           device MTU (default 1500)
 *   --local A:P       UDP address to bind (the WAN side)
 *   --peer A:P        the other relay's UDP address (the socket is connected)
 *   --batch N         packets per TUN read burst / sendmmsg / recvmmsg
 *                     (1..256, default 32)
 *   --gso             UDP GSO on egress (UDP_SEGMENT: one send per run of
 *                     equal-sized packets) and UDP GRO on ingress (UDP_GRO:
 *                     one receive per coalesced run, split before TUN writes)
 *   --tun-offload     IFF_VNET_HDR + TUNSETOFFLOAD(CSUM|TSO4): the kernel
 *                     hands over TCP/IPv4 super-packets (up to 64 KiB), which
 *                     are cut into MSS-sized segments (headers and checksums
 *                     rewritten, as a NIC's TSO would) before they go out;
 *                     on the way in, consecutive in-order segments of one TCP
 *                     flow are merged back into one GSO write (the kernel
 *                     takes it as CHECKSUM_PARTIAL, like a GRO'd skb). Both
 *                     are the agent's own code (agent/esp/tunoff.c), so the
 *                     relay measures the same I/O the agent does, less ESP.
 *                     Anything else (UDP, ICMP, fragments, TCP with odd
 *                     flags) passes one packet per write, as without it.
 *   --sockbuf BYTES   SO_SNDBUF/SO_RCVBUF (...FORCE when root; default 4 MiB)
 *   --quiet           no "ready" line (counters are still printed at exit)
 *
 * It prints "relay: ready ..." on stderr once the device is up and the socket
 * bound, and its packet counters on SIGTERM/SIGINT, then exits 0. One thread,
 * one epoll set (TUN, UDP socket, signalfd); TUN is read until EAGAIN or a
 * batch is full, then the batch goes out in one sendmmsg (or GSO sends).
 * Datagrams are taken with recvmmsg and written to TUN one write() each
 * (TUN has no batched write; --tun-offload merges TCP segments instead).
 * Packets that cannot be sent or written are dropped and counted,
 * as a dataplane would. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "esp/tunoff.h"	/* the agent's TSO cut and GRO merge, shared */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define MAX_BATCH 256
#define GSO_MAX_SEGS 64     /* kernel UDP_MAX_SEGMENTS is at least 64 */
#define GSO_MAX_BYTES 65000 /* payload of one GSO send stays below 64 KiB */
#define RX_BUF 65536        /* a GRO-coalesced datagram can be this large */
#define TSO_MAX_SEGS 64     /* segments one TUN super-packet may be cut into */
#define VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))
#define MAX_IP_LEN 65535

struct opts {
	const char *tun;
	const char *addr;
	int mtu;
	struct sockaddr_in local, peer;
	int have_local, have_peer;
	int batch;
	int gso;
	int tun_offload;
	int sockbuf;
	int quiet;
};

struct counters {
	uint64_t tun_rx_pkts, tun_rx_bytes;   /* read from TUN */
	uint64_t udp_tx_pkts, udp_tx_bytes;   /* handed to the UDP socket */
	uint64_t udp_tx_drop;                 /* send failed (EAGAIN, ENOBUFS...) */
	uint64_t udp_tx_calls;                /* sendmmsg/sendmsg calls */
	uint64_t udp_rx_pkts, udp_rx_bytes;   /* datagrams (after GRO split) */
	uint64_t udp_rx_calls;                /* recvmmsg calls that returned data */
	uint64_t tun_tx_pkts, tun_tx_bytes;   /* written to TUN */
	uint64_t tun_tx_drop;                 /* TUN write failed */
	uint64_t tun_reads;                   /* read() calls that returned data */
	uint64_t tso_pkts;                    /* TUN super-packets cut up */
	uint64_t tun_rx_bad;                  /* TUN packets we could not handle */
	uint64_t gro_writes;                  /* merged TUN writes (>1 segment) */
};

struct relay {
	struct opts o;
	int tun_fd, udp_fd, sig_fd, ep_fd;
	size_t pkt_max;       /* largest packet read from TUN */
	uint8_t *tx_arena;    /* TUN reads, packed back to back */
	uint8_t *rx_arena;    /* recvmmsg buffers, RX_BUF each */
	/* a burst of TUN reads: --batch packets, and with --tun-offload up to
	 * TSO_MAX_SEGS - 1 more from the last super-packet */
	size_t tx_len[MAX_BATCH + TSO_MAX_SEGS];
	struct mmsghdr tx_msgs[MAX_BATCH + TSO_MAX_SEGS];
	struct iovec tx_iov[MAX_BATCH + TSO_MAX_SEGS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} tx_cmsg[MAX_BATCH + TSO_MAX_SEGS];
	struct mmsghdr rx_msgs[MAX_BATCH];
	struct iovec rx_iov[MAX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rx_cmsg[MAX_BATCH];
	uint8_t *tun_buf;     /* --tun-offload: one super-packet with its vnet header */
	struct tunoff_gro mg; /* --tun-offload receive side: the run being merged */
	const uint8_t *seg[TSO_MAX_SEGS];
	struct counters c;
};

static void usage(void)
{
	fputs("usage: relay --tun NAME --local ADDR:PORT --peer ADDR:PORT [--addr ADDR/PLEN]\n"
	      "             [--mtu N] [--batch N] [--gso] [--tun-offload] [--sockbuf BYTES]\n"
	      "             [--quiet]\n",
	      stderr);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long parse_long(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "relay: bad %s '%s' (%ld..%ld)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_hostport(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : 0;
	if (!colon || n == 0 || n >= sizeof(host)) {
		fprintf(stderr, "relay: bad address '%s' (want A.B.C.D:PORT)\n", s);
		exit(2);
	}
	memcpy(host, s, n);
	host[n] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)parse_long(colon + 1, 1, 65535, "port"));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "relay: bad IPv4 address '%s'\n", host);
		exit(2);
	}
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mtu = 1500;
	o->batch = 32;
	o->sockbuf = 4 << 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--gso")) {
			o->gso = 1;
			continue;
		}
		if (!strcmp(a, "--tun-offload")) {
			o->tun_offload = 1;
			continue;
		}
		if (!strcmp(a, "--quiet")) {
			o->quiet = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage();
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--tun")) {
			if (strlen(v) >= IFNAMSIZ) {
				fprintf(stderr, "relay: device name '%s' too long\n", v);
				exit(2);
			}
			o->tun = v;
		} else if (!strcmp(a, "--addr")) {
			o->addr = v;
		} else if (!strcmp(a, "--mtu")) {
			o->mtu = (int)parse_long(v, 576, 65000, "mtu");
		} else if (!strcmp(a, "--local")) {
			parse_hostport(v, &o->local);
			o->have_local = 1;
		} else if (!strcmp(a, "--peer")) {
			parse_hostport(v, &o->peer);
			o->have_peer = 1;
		} else if (!strcmp(a, "--batch")) {
			o->batch = (int)parse_long(v, 1, MAX_BATCH, "batch");
		} else if (!strcmp(a, "--sockbuf")) {
			o->sockbuf = (int)parse_long(v, 65536, 1L << 30, "sockbuf");
		} else {
			usage();
		}
	}
	if (!o->tun || !o->have_local || !o->have_peer)
		usage();
}

/* ---- TUN device --------------------------------------------------------- */

static int ifreq_ioctl(int fd, unsigned long req, struct ifreq *ifr, const char *what)
{
	if (ioctl(fd, req, ifr) < 0) {
		fprintf(stderr, "relay: %s on %s: %s\n", what, ifr->ifr_name, strerror(errno));
		return -1;
	}
	return 0;
}

static void set_ifname(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strlen(name) + 1); /* length checked in parse_args */
}

static void tun_configure(const struct opts *o)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	set_ifname(&ifr, o->tun);
	ifr.ifr_mtu = o->mtu;
	if (ifreq_ioctl(s, SIOCSIFMTU, &ifr, "SIOCSIFMTU"))
		exit(1);
	if (o->addr) {
		char host[32];
		const char *slash = strchr(o->addr, '/');
		size_t n = slash ? (size_t)(slash - o->addr) : strlen(o->addr);
		long plen = slash ? parse_long(slash + 1, 0, 32, "prefix length") : 32;
		struct sockaddr_in sin;
		if (n == 0 || n >= sizeof(host)) {
			fprintf(stderr, "relay: bad --addr '%s'\n", o->addr);
			exit(2);
		}
		memcpy(host, o->addr, n);
		host[n] = '\0';
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
			fprintf(stderr, "relay: bad --addr '%s'\n", o->addr);
			exit(2);
		}
		set_ifname(&ifr, o->tun);
		memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
		if (ifreq_ioctl(s, SIOCSIFADDR, &ifr, "SIOCSIFADDR"))
			exit(1);
		sin.sin_addr.s_addr = plen ? htonl(0xffffffffu << (32 - plen)) : 0;
		set_ifname(&ifr, o->tun);
		memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
		if (ifreq_ioctl(s, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK"))
			exit(1);
	}
	set_ifname(&ifr, o->tun);
	if (ifreq_ioctl(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS"))
		exit(1);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ifreq_ioctl(s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS"))
		exit(1);
	close(s);
}

static int tun_open(const struct opts *o)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/net/tun");
	set_ifname(&ifr, o->tun);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (o->tun_offload ? IFF_VNET_HDR : 0);
	if (ifreq_ioctl(fd, TUNSETIFF, &ifr, "TUNSETIFF"))
		exit(1);
	if (o->tun_offload) {
		int hl = VNET_HDR_LEN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &hl) < 0)
			die("TUNSETVNETHDRSZ");
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
			die("TUNSETOFFLOAD");
	}
	tun_configure(o);
	return fd;
}

/* ---- UDP socket ----------------------------------------------------------- */

static void set_buf(int fd, int force_opt, int opt, int bytes, const char *what)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes)) < 0)
		fprintf(stderr, "relay: %s: %s (continuing)\n", what, strerror(errno));
}

static int udp_open(const struct opts *o)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, o->sockbuf, "SO_SNDBUF");
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, o->sockbuf, "SO_RCVBUF");
	if (bind(fd, (const struct sockaddr *)&o->local, sizeof(o->local)) < 0)
		die("bind");
	if (connect(fd, (const struct sockaddr *)&o->peer, sizeof(o->peer)) < 0)
		die("connect");
	if (o->gso && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		die("setsockopt UDP_GRO");
	return fd;
}

/* ---- TUN -> UDP ----------------------------------------------------------- */

/* --tun-offload: one read of a packet with its vnet header; appends the
 * packet (or its segments) at tx_arena + *off. Returns packets added, 0 when
 * the device is drained, -1 for a dropped packet. */
static int tun_read_offload(struct relay *r, size_t *off, int n)
{
	ssize_t got;
	do {
		got = read(r->tun_fd, r->tun_buf, (size_t)VNET_HDR_LEN + MAX_IP_LEN);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		if (errno != EAGAIN)
			fprintf(stderr, "relay: TUN read: %s\n", strerror(errno));
		return 0;
	}
	if (got <= VNET_HDR_LEN)
		return 0;
	size_t len = (size_t)got - VNET_HDR_LEN;
	size_t cap = (size_t)(r->o.batch + TSO_MAX_SEGS) * r->pkt_max - *off;
	int k = tunoff_split(r->tun_buf, (size_t)got, r->tx_arena + *off, cap, r->seg, r->tx_len + n,
	                     TSO_MAX_SEGS);
	r->c.tun_reads++;
	r->c.tun_rx_bytes += len;
	if (k == 1 && r->seg[0] == r->tun_buf + VNET_HDR_LEN) {
		/* one packet, its checksum completed where it was read */
		if (len > r->pkt_max || len > cap) {
			r->c.tun_rx_bad++;
			return -1;
		}
		memcpy(r->tx_arena + *off, r->seg[0], len);
		*off += len;
		r->c.tun_rx_pkts++;
		return 1;
	}
	if (k < 0) {
		r->c.tun_rx_bad++;
		return -1;
	}
	for (int i = 0; i < k; i++)
		*off += r->tx_len[n + i];
	r->c.tso_pkts++;
	r->c.tun_rx_pkts += (uint64_t)k;
	return k;
}

/* Reads up to a batch of packets, packed back to back in tx_arena (with
 * --tun-offload a batch may end up to TSO_MAX_SEGS - 1 packets longer). */
static int tun_read_batch(struct relay *r)
{
	size_t off = 0;
	int n = 0;
	if (r->o.tun_offload) {
		while (n < r->o.batch) {
			int k = tun_read_offload(r, &off, n);
			if (k == 0)
				break;
			if (k > 0)
				n += k;
		}
		return n;
	}
	while (n < r->o.batch) {
		ssize_t len = read(r->tun_fd, r->tx_arena + off, r->pkt_max);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				fprintf(stderr, "relay: TUN read: %s\n", strerror(errno));
			break;
		}
		if (len == 0)
			break;
		r->tx_len[n++] = (size_t)len;
		off += (size_t)len;
		r->c.tun_reads++;
		r->c.tun_rx_pkts++;
		r->c.tun_rx_bytes += (uint64_t)len;
	}
	return n;
}

/* Sends msgs[0..n) with sendmmsg, retrying the rest after a partial send;
 * what the socket refuses is dropped. */
static void send_msgs(struct relay *r, struct mmsghdr *msgs, int n)
{
	int done = 0;
	while (done < n) {
		int k = sendmmsg(r->udp_fd, msgs + done, (unsigned)(n - done), 0);
		r->c.udp_tx_calls++;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN/ENOBUFS/ECONNREFUSED: drop this message, go on */
			r->c.udp_tx_drop++;
			done++;
			continue;
		}
		for (int i = done; i < done + k; i++) {
			r->c.udp_tx_bytes += msgs[i].msg_len;
		}
		done += k;
	}
}

static void tun_to_udp(struct relay *r)
{
	int n = tun_read_batch(r);
	if (n == 0)
		return;
	uint8_t *p = r->tx_arena;
	int m = 0;
	if (!r->o.gso) {
		for (int i = 0; i < n; i++) {
			r->tx_iov[i].iov_base = p;
			r->tx_iov[i].iov_len = r->tx_len[i];
			memset(&r->tx_msgs[i].msg_hdr, 0, sizeof(r->tx_msgs[i].msg_hdr));
			r->tx_msgs[i].msg_hdr.msg_iov = &r->tx_iov[i];
			r->tx_msgs[i].msg_hdr.msg_iovlen = 1;
			p += r->tx_len[i];
		}
		r->c.udp_tx_pkts += (uint64_t)n;
		send_msgs(r, r->tx_msgs, n);
		return;
	}
	/* GSO: a run of equal-sized packets (the last may be shorter) goes out as
	 * one datagram train with UDP_SEGMENT = that size. */
	for (int i = 0; i < n;) {
		size_t seg = r->tx_len[i], total = seg;
		int j = i + 1;
		while (j < n && j - i < GSO_MAX_SEGS && total + r->tx_len[j] <= GSO_MAX_BYTES &&
		       r->tx_len[j] <= seg) {
			total += r->tx_len[j];
			if (r->tx_len[j++] < seg)
				break; /* a shorter packet ends the run */
		}
		struct msghdr *h = &r->tx_msgs[m].msg_hdr;
		memset(h, 0, sizeof(*h));
		r->tx_iov[m].iov_base = p;
		r->tx_iov[m].iov_len = total;
		h->msg_iov = &r->tx_iov[m];
		h->msg_iovlen = 1;
		if (j - i > 1) {
			h->msg_control = r->tx_cmsg[m].buf;
			h->msg_controllen = sizeof(r->tx_cmsg[m].buf);
			struct cmsghdr *cm = CMSG_FIRSTHDR(h);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t s16 = (uint16_t)seg;
			memcpy(CMSG_DATA(cm), &s16, sizeof(s16));
		}
		r->c.udp_tx_pkts += (uint64_t)(j - i);
		p += total;
		m++;
		i = j;
	}
	send_msgs(r, r->tx_msgs, m);
}

/* ---- UDP -> TUN ----------------------------------------------------------- */

static void tun_write(struct relay *r, const uint8_t *pkt, size_t len)
{
	for (;;) {
		ssize_t w = write(r->tun_fd, pkt, len);
		if (w >= 0) {
			r->c.tun_tx_pkts++;
			r->c.tun_tx_bytes += len;
			return;
		}
		if (errno == EINTR)
			continue;
		r->c.tun_tx_drop++; /* EAGAIN (queue full) or a malformed packet */
		return;
	}
}

/* --tun-offload: writes packet(s) with a vnet header. */
static void tun_writev(void *ctx, const struct iovec *iov, int cnt, size_t len, int segs)
{
	struct relay *r = ctx;

	for (;;) {
		ssize_t w = writev(r->tun_fd, iov, cnt);
		if (w >= 0) {
			r->c.tun_tx_pkts += (uint64_t)segs;
			r->c.tun_tx_bytes += len;
			if (segs > 1)
				r->c.gro_writes++;
			return;
		}
		if (errno == EINTR)
			continue;
		r->c.tun_tx_drop += (uint64_t)segs;
		return;
	}
}

static int gro_size(struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int v;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v;
		}
	}
	return 0;
}

static void udp_to_tun(struct relay *r)
{
	int n;
	for (int i = 0; i < r->o.batch; i++) {
		memset(&r->rx_msgs[i].msg_hdr, 0, sizeof(r->rx_msgs[i].msg_hdr));
		r->rx_iov[i].iov_base = r->rx_arena + (size_t)i * RX_BUF;
		r->rx_iov[i].iov_len = r->o.gso ? RX_BUF : r->pkt_max;
		r->rx_msgs[i].msg_hdr.msg_iov = &r->rx_iov[i];
		r->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		if (r->o.gso) {
			r->rx_msgs[i].msg_hdr.msg_control = r->rx_cmsg[i].buf;
			r->rx_msgs[i].msg_hdr.msg_controllen = sizeof(r->rx_cmsg[i].buf);
		}
	}
	do {
		n = recvmmsg(r->udp_fd, r->rx_msgs, (unsigned)r->o.batch, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != ECONNREFUSED)
			fprintf(stderr, "relay: recvmmsg: %s\n", strerror(errno));
		return;
	}
	r->c.udp_rx_calls++;
	for (int i = 0; i < n; i++) {
		const uint8_t *p = r->rx_iov[i].iov_base;
		size_t len = r->rx_msgs[i].msg_len;
		size_t seg = r->o.gso ? (size_t)gro_size(&r->rx_msgs[i].msg_hdr) : 0;
		if (seg == 0 || seg >= len)
			seg = len;
		for (size_t off = 0; off < len; off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			r->c.udp_rx_pkts++;
			r->c.udp_rx_bytes += l;
			if (r->o.tun_offload)
				tunoff_gro_add(&r->mg, p + off, l, tun_writev, r);
			else
				tun_write(r, p + off, l);
		}
	}
	tunoff_gro_flush(&r->mg, tun_writev, r); /* the buffers are reused by the next call */
}

/* ---- main loop -------------------------------------------------------------- */

static void ep_add(int ep, int fd)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
}

static void print_counters(const struct relay *r)
{
	const struct counters *c = &r->c;
	fprintf(stderr,
	        "relay: tun->udp %llu pkts %llu B in %llu sends (%llu dropped); "
	        "udp->tun %llu pkts %llu B in %llu receives, %llu written (%llu dropped); "
	        "tun-offload: %llu super-packets cut, %llu merged writes, %llu bad\n",
	        (unsigned long long)c->tun_rx_pkts, (unsigned long long)c->tun_rx_bytes,
	        (unsigned long long)c->udp_tx_calls, (unsigned long long)c->udp_tx_drop,
	        (unsigned long long)c->udp_rx_pkts, (unsigned long long)c->udp_rx_bytes,
	        (unsigned long long)c->udp_rx_calls, (unsigned long long)c->tun_tx_pkts,
	        (unsigned long long)c->tun_tx_drop, (unsigned long long)c->tso_pkts,
	        (unsigned long long)c->gro_writes, (unsigned long long)c->tun_rx_bad);
}

int main(int argc, char **argv)
{
	static struct relay r;
	sigset_t mask;
	parse_args(argc, argv, &r.o);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	r.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r.sig_fd < 0)
		die("signalfd");
	r.tun_buf = malloc((size_t)VNET_HDR_LEN + MAX_IP_LEN);
	tunoff_gro_init(&r.mg);
	r.pkt_max = (size_t)r.o.mtu;
	r.tx_arena = malloc((size_t)(r.o.batch + TSO_MAX_SEGS) * r.pkt_max);
	r.rx_arena = malloc((size_t)r.o.batch * RX_BUF);
	r.tun_buf = malloc((size_t)VNET_HDR_LEN + MAX_IP_LEN);
	if (!r.tx_arena || !r.rx_arena || !r.tun_buf)
		die("malloc");
	r.tun_fd = tun_open(&r.o);
	r.udp_fd = udp_open(&r.o);

	r.ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r.ep_fd < 0)
		die("epoll_create1");
	ep_add(r.ep_fd, r.tun_fd);
	ep_add(r.ep_fd, r.udp_fd);
	ep_add(r.ep_fd, r.sig_fd);
	if (!r.o.quiet) {
		char l[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &r.o.local.sin_addr, l, sizeof(l));
		inet_ntop(AF_INET, &r.o.peer.sin_addr, p, sizeof(p));
		fprintf(stderr,
		        "relay: ready tun=%s mtu=%d local=%s:%u peer=%s:%u batch=%d gso=%s "
		        "tun-offload=%s\n",
		        r.o.tun, r.o.mtu, l, ntohs(r.o.local.sin_port), p, ntohs(r.o.peer.sin_port),
		        r.o.batch, r.o.gso ? "on" : "off", r.o.tun_offload ? "on" : "off");
	}

	int running = 1;
	while (running) {
		struct epoll_event ev[3];
		int n = epoll_wait(r.ep_fd, ev, 3, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == r.tun_fd) {
				tun_to_udp(&r);
			} else if (fd == r.udp_fd) {
				udp_to_tun(&r);
			} else if (fd == r.sig_fd) {
				struct signalfd_siginfo si;
				if (read(r.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					fprintf(stderr, "relay: signal %u, exiting\n", si.ssi_signo);
				running = 0;
			}
		}
	}
	print_counters(&r);
	close(r.ep_fd);
	close(r.udp_fd);
	close(r.tun_fd);
	close(r.sig_fd);
	free(r.tx_arena);
	free(r.rx_arena);
	free(r.tun_buf);
	return 0;
}
