/*
 * IKE handshakes agent ↔ agent over real UDP on loopback, one core each:
 * NINIT initiator engines (127.0.0.10.., each its own socket on port 500)
 * on CPU 0 against one responder engine (127.0.0.2) on CPU 1, as a
 * gateway serves many peers at once. Each initiator clears and starts over
 * after every installed SA pair. Printed beside the per-core key-exchange
 * bound of the same run (one keygen + one derive with the peer check: what
 * each side pays per handshake). Needs root (port 500); loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "ike/ike_int.h"
#include "ike_pair.h"

#define NINIT 16

struct engine {
	int         fd;
	uint32_t    addr_be;
	struct ike *ike;
	uint64_t    installs;
};

struct side {
	int            cpu, n;
	struct engine *e;
	pthread_t      thread;
};

static struct engine initiators[NINIT], responder;
static struct side sides[2];
static atomic_int stop;

static int
udp_send(void *ctx, uint16_t lp, uint32_t dst, uint16_t dp, const uint8_t *m, size_t len)
{
	struct engine *e = ctx;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dp),
				  .sin_addr.s_addr = dst };

	return sendto(e->fd, m, len, 0, (struct sockaddr *)&to, sizeof(to)) == -1 ? -1 : 0;
}

static void
on_install(void *ctx, const struct ike_child_sa *sa)
{
	((struct engine *)ctx)->installs++;
}

static void
drain(struct engine *e)
{
	uint8_t buf[4096];

	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(e->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl);

		if (n < 0)
			return;
		ike_input(e->ike, IKE_PORT, from.sin_addr.s_addr, ntohs(from.sin_port), buf, (size_t)n,
			  now_mono_ms());
	}
}

static void *
run_side(void *arg)
{
	struct side *s = arg;
	struct pollfd p[NINIT];
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int i = 0; i < s->n; i++)
		p[i] = (struct pollfd){ .fd = s->e[i].fd, .events = POLLIN };
	while (!atomic_load(&stop)) {
		if (poll(p, (nfds_t)s->n, 5) <= 0)
			goto timers;
		for (int i = 0; i < s->n; i++) {
			uint64_t before = s->e[i].installs;

			if (!(p[i].revents & POLLIN))
				continue;
			drain(&s->e[i]);
			/* An initiator starts over once its handshake is complete. */
			if (s->e != &responder && s->e[i].installs != before)
				ike_clear(s->e[i].ike, 0, now_mono_ms());
		}
timers:
		for (int i = 0; i < s->n; i++)
			ike_timer(s->e[i].ike, now_mono_ms());
	}
	return NULL;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One side's cost per handshake: keygen + derive with the peer check. */
static double
side_bound(int group, double seconds)
{
	uint8_t pub[IKE_DH_MAX], s[IKE_DH_MAX];
	size_t len = ike_dh_pub_len(group), sl;
	struct ike_dh *peer = ike_dh_new(group);
	double t0 = cpu_s();
	uint64_t n = 0;

	ike_dh_public(peer, pub, len);
	while (cpu_s() - t0 < seconds) {
		struct ike_dh *d = ike_dh_new(group);

		if (d == NULL || ike_dh_derive(d, pub, len, s, &sl) == -1)
			exit(1);
		ike_dh_free(d);
		n++;
	}
	ike_dh_free(peer);
	return (double)n / (cpu_s() - t0);
}

static int
engine_open(struct engine *e, uint32_t addr_be)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(IKE_PORT),
				   .sin_addr.s_addr = addr_be };
	char ip[16];

	memset(e, 0, sizeof(*e));
	e->addr_be = addr_be;
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (e->fd == -1 || bind(e->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		fprintf(stderr, "bench_ike_loopback: bind %s:500: %s (needs root)\n",
			ipv4_str(addr_be, ip), strerror(errno));
		return -1;
	}
	e->ike = ike_new(&(struct ike_transport){ e, udp_send },
			 &(struct ike_dataplane){ .ctx = e, .install = on_install });
	return 0;
}

static int
setup(int group)
{
	static struct ike_psk_conf psk[2];
	static struct ike_map_conf imap, rmaps[NINIT];
	uint32_t pair[2];
	struct ike_conf c;

	if (engine_open(&responder, htonl(0x7f000002)) == -1)
		return -1;
	for (int i = 0; i < NINIT; i++) {
		if (engine_open(&initiators[i], htonl(0x7f00000a + (uint32_t)i)) == -1)
			return -1;
		pair[0] = initiators[i].addr_be;
		pair[1] = responder.addr_be;
		ike_pair_conf(0, pair, group, IKE_HASH_SHA256, &c, &imap, &psk[0]);
		ike_configure(initiators[i].ike, &c, now_mono_ms());
		/* the responder has one crypto map entry per initiator */
		ike_pair_conf(1, pair, group, IKE_HASH_SHA256, &c, &rmaps[i], &psk[1]);
	}
	c.maps = rmaps;
	c.nmaps = NINIT;
	ike_configure(responder.ike, &c, now_mono_ms());
	sides[0] = (struct side){ .cpu = 0, .n = NINIT, .e = initiators };
	sides[1] = (struct side){ .cpu = 1, .n = 1, .e = &responder };
	return 0;
}

static void
teardown(void)
{
	ike_free(responder.ike);
	close(responder.fd);
	for (int i = 0; i < NINIT; i++) {
		ike_free(initiators[i].ike);
		close(initiators[i].fd);
	}
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	static const int groups[] = { 14, 19 };

	log_init("bench", LOG_LEVEL__COUNT);
	printf("%-6s %14s %24s %8s\n", "group", "handshakes/s", "per-core kex bound/s", "ratio");
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		double bound = side_bound(groups[g], 2.0), t0, rate;

		if (setup(groups[g]) == -1)
			return 1;
		atomic_store(&stop, 0);
		t0 = mono_s();
		for (int i = 0; i < 2; i++)
			pthread_create(&sides[i].thread, NULL, run_side, &sides[i]);
		while (mono_s() - t0 < secs)
			usleep(10000);
		atomic_store(&stop, 1);
		for (int i = 0; i < 2; i++)
			pthread_join(sides[i].thread, NULL);
		rate = 0;
		for (int i = 0; i < NINIT; i++)
			rate += (double)initiators[i].installs;
		rate /= mono_s() - t0;
		printf("%-6d %14.0f %24.0f %7.0f%%\n", groups[g], rate, bound, 100.0 * rate / bound);
		teardown();
	}
	printf("(MM + QM per handshake, AES-128/SHA-256, no PFS; real UDP on loopback; %d "
	       "initiators on CPU 0, the responder on CPU 1)\n", NINIT);
	return 0;
}
