/*
 * A load generator for the whole-daemon scale run (bench/daemon_scale.py):
 * N IKE peers, each the project's own engine with one tunnel, each with
 * its own source address (BASE + i, local in this namespace through an
 * AnyIP route), bringing tunnels up to a vpn-agent over real UDP and
 * answering its DPD. Two sockets (500 and 4500, the non-ESP marker on
 * 4500) carry every peer: IP_PKTINFO picks the source of what a peer sends
 * and says which peer a datagram is for.
 *
 *   loadgen AGENT BASE N RATE PSK
 *
 * Prints "up N S" when every tunnel has its IPsec SA pair (S seconds after
 * the first initiation). On SIGUSR1 it silences the first 10 peers (their
 * datagrams are dropped and their timers stop, as a frozen peer's) and
 * prints "silenced ADDR MS" per peer, MS the monotonic time of its last
 * datagram to the agent. SIGTERM ends it.
 */
#include "core/log.h"
#include "core/util.h"
#include "ike/crypto.h"
#include "ike/ike.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOTS      256		/* each engine's wheel: 2.56 s a turn */
#define SILENCE    10
#define MARKER_LEN 4		/* RFC 3948 non-ESP marker */
#define DGRAM_MAX  4096

struct peer {
	struct ike   *ike;
	struct event *timer;
	uint32_t      addr_be;
	int           up, silent;
	int64_t       last_tx_ms;	/* its last datagram to the agent */
};

static struct {
	struct event_base *base;
	struct peer       *p;
	size_t             n, started, up;
	uint32_t           agent_be, base_host;
	int                fd[2];		/* 500, 4500 */
	int64_t            t0;
	struct ike_psk_conf psk;
} g;

static struct peer *
peer_of(uint32_t addr_be)
{
	uint32_t i = ntohl(addr_be) - g.base_host;

	return i < g.n ? &g.p[i] : NULL;
}

static void
peer_arm(struct peer *p, int64_t next)
{
	int64_t wait;
	struct timeval tv;

	if (next == 0 || p->silent)
		return;
	wait = next - now_mono_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = wait % 1000 * 1000;
	event_add(p->timer, &tv);
}

static void
peer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	if (!p->silent)
		peer_arm(p, ike_timer(p->ike, now_mono_ms()));
}

/* The engine's transport: from the peer's own address (IP_PKTINFO). */
static int
peer_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port, const uint8_t *msg,
	  size_t len)
{
	struct peer *p = ctx;
	uint8_t buf[DGRAM_MAX];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dst_port),
				  .sin_addr.s_addr = dst_be };
	union {
		char           c[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { buf, 0 };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cbuf.c,
			     .msg_controllen = sizeof(cbuf.c) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = { .ipi_spec_dst.s_addr = p->addr_be };
	int natt = local_port == 4500, keepalive = len == 1 && msg[0] == 0xff;
	size_t off = natt && !keepalive ? MARKER_LEN : 0;

	if (p->silent || len + off > sizeof(buf))
		return -1;
	memset(buf, 0, off);
	memcpy(buf + off, msg, len);
	iov.iov_len = len + off;
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (sendmsg(g.fd[natt], &mh, 0) == -1)
		return -1;
	p->last_tx_ms = now_mono_ms();
	return 0;
}

static void
peer_install(void *ctx, const struct ike_child_sa *sa)
{
	struct peer *p = ctx;

	if (!p->up) {
		p->up = 1;
		if (++g.up == g.n) {
			printf("up %zu %.1f\n", g.n, (double)(now_mono_ms() - g.t0) / 1000.0);
			fflush(stdout);
		}
	}
}

static void
peer_start(struct peer *p, size_t i)
{
	struct ike_transport tr = { p, peer_send };
	struct ike_dataplane dp = { .ctx = p, .install = peer_install };
	struct ike_map_conf m;
	struct ike_conf c;
	uint32_t site = htonl(0x0a000000u + ((uint32_t)i << 4));

	p->addr_be = htonl(g.base_host + (uint32_t)i);
	p->ike = ike_new_slots(&tr, &dp, SLOTS);
	p->timer = evtimer_new(g.base, peer_timer_cb, p);
	ike_conf_defaults(&c);
	c.local_be = p->addr_be;
	c.npolicies = 1;
	c.policies[0] = (struct ike_policy_conf){ .priority = 1, .enc_key_len = 16,
						  .hash = IKE_HASH_SHA256, .group = 19,
						  .lifetime_s = 86400 };
	c.psks = &g.psk;
	c.npsks = 1;
	c.dpd.keepalive_s = 0;		/* it only answers */
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "hub");
	m.seq = 1;
	m.peers_be[0] = g.agent_be;
	m.npeers = 1;
	m.nxforms = 1;
	m.xforms[0] = (struct ike_xform_conf){ .cipher = ESP_CIPHER_AES_GCM16, .key_len = 16 };
	m.nsel = 1;
	m.sel[0] = (struct ike_selector){ .src_be = site, .src_mask_be = htonl(0xfffffff0),
					  .dst_be = htonl(0xac100000), .dst_mask_be = htonl(0xffff0000) };
	m.lifetime_s = 3600;
	m.lifetime_kb = 4608000;
	m.force_encap = 1;
	m.initiate = 1;
	c.maps = &m;
	c.nmaps = 1;
	c.esp_udp_only = 1;
	ike_configure(p->ike, &c, now_mono_ms());
	peer_arm(p, ike_timer(p->ike, now_mono_ms()));
}

/* RATE peers a second start, in 10 ms steps. */
struct starter {
	size_t        per_tick;
	struct event *ev;
};

static void
start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct starter *s = arg;

	for (size_t k = 0; k < s->per_tick && g.started < g.n; k++, g.started++)
		peer_start(&g.p[g.started], g.started);
	if (g.started == g.n)
		event_del(s->ev);
}

static void
rx_cb(evutil_socket_t fd, short what, void *arg)
{
	uint8_t buf[DGRAM_MAX];
	struct sockaddr_in from;
	union {
		char           c[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { buf, sizeof(buf) };
	int natt = fd == g.fd[1];

	for (int k = 0; k < 64; k++) {
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.c,
				     .msg_controllen = sizeof(cbuf.c) };
		struct in_pktinfo pi;
		struct cmsghdr *cm;
		struct peer *p = NULL;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		const uint8_t *msg = buf;

		if (n < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				p = peer_of(pi.ipi_addr.s_addr);
			}
		}
		if (p == NULL || p->ike == NULL || p->silent)
			continue;
		if (natt) {
			if (n < MARKER_LEN || (buf[0] | buf[1] | buf[2] | buf[3]) != 0)
				continue;	/* ESP or a keepalive: not the engine's */
			msg += MARKER_LEN;
			n -= MARKER_LEN;
		}
		ike_input(p->ike, natt ? 4500 : 500, from.sin_addr.s_addr, ntohs(from.sin_port), msg,
			  (size_t)n, now_mono_ms());
		peer_arm(p, ike_timer(p->ike, now_mono_ms()));
	}
}

static void
silence_cb(evutil_socket_t fd, short what, void *arg)
{
	char ip[16];

	for (size_t i = 0; i < SILENCE && i < g.n; i++) {
		g.p[i].silent = 1;
		event_del(g.p[i].timer);
		printf("silenced %s %lld\n", ipv4_str(g.p[i].addr_be, ip),
		       (long long)g.p[i].last_tx_ms);
	}
	fflush(stdout);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(g.base);
}

static int
udp_socket(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	int size = 8 << 20;

	if (fd == -1 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fatal("loadgen: UDP port %u", port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	return fd;
}

int
main(int argc, char **argv)
{
	struct in_addr a, b;
	struct event *ev[5];
	struct starter st;
	struct timeval ten_ms = { 0, 10000 };
	size_t rate;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &a) != 1 ||
	    inet_pton(AF_INET, argv[2], &b) != 1) {
		fprintf(stderr, "usage: loadgen AGENT BASE N RATE PSK\n");
		return 2;
	}
	log_init("loadgen", LOG_LEVEL_WARN);
	g.agent_be = a.s_addr;
	g.base_host = ntohl(b.s_addr);
	g.n = strtoul(argv[3], NULL, 10);
	rate = strtoul(argv[4], NULL, 10);
	g.psk.key_len = (size_t)snprintf(g.psk.key, sizeof(g.psk.key), "%s", argv[5]);
	g.p = calloc(g.n, sizeof(*g.p));
	g.base = event_base_new();
	if (g.p == NULL || g.base == NULL)
		fatalx("loadgen: out of memory");
	g.fd[0] = udp_socket(500);
	g.fd[1] = udp_socket(4500);
	ev[0] = event_new(g.base, g.fd[0], EV_READ | EV_PERSIST, rx_cb, NULL);
	ev[1] = event_new(g.base, g.fd[1], EV_READ | EV_PERSIST, rx_cb, NULL);
	ev[2] = evsignal_new(g.base, SIGUSR1, silence_cb, NULL);
	ev[3] = evsignal_new(g.base, SIGTERM, stop_cb, NULL);
	ev[4] = evsignal_new(g.base, SIGINT, stop_cb, NULL);
	for (int i = 0; i < 5; i++)
		event_add(ev[i], NULL);
	st.per_tick = rate / 100 ? rate / 100 : 1;
	st.ev = event_new(g.base, -1, EV_PERSIST, start_cb, &st);
	event_add(st.ev, &ten_ms);
	g.t0 = now_mono_ms();
	event_base_dispatch(g.base);
	for (size_t i = 0; i < g.started; i++) {
		event_free(g.p[i].timer);
		ike_free(g.p[i].ike);
	}
	for (int i = 0; i < 5; i++)
		event_free(ev[i]);
	event_free(st.ev);
	event_base_free(g.base);
	free(g.p);
	return 0;
}
