/*
 * DPD at scale (R-2.5, notes/performance.md §5 item 4): N SAs with periodic
 * DPD on the hashed wheel, a fake transport and a simulated clock advanced
 * in 10 ms ticks. Every peer answers each probe after a network delay
 * except a silent subset; we report CPU per probe, the share of one core,
 * the detection error, and the per-packet cost of liveness.
 *
 *   bench_dpd [peers ...]	(default: 10000 100000)
 */
#include "core/wheel.h"
#include "ike/dpd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS    10
#define SLOTS      2048		/* 20.48 s a turn: more than keepalive + a round */
#define SIM_MS     60000
#define RTT_MS(i)  (5 + (int64_t)(i) / 7 % 50)	/* 5..54 ms, mostly off the tick */
#define SILENT_1_IN 100		/* one peer in 100 goes silent... */
#define SILENT_AT  25000	/* ...from 25 s on (plus i % 1000 ms) */
#define REPS       3
#define LIVE_OPS   20000000
#define LIVE_IDX   (1u << 20)	/* precomputed SA indices, reused */

static const struct dpd_settings settings = {
	10, DPD_RETRY_DEFAULT, DPD_RETRIES_DEFAULT, DPD_MODE_PERIODIC
};

struct peer {
	struct dpd         dpd;
	struct wheel_timer timer;	/* DPD, as the SA would embed it */
	struct wheel_timer net;		/* the peer's ACK on its way back */
	uint32_t           ack_seq;
	int64_t            rtt_ms;
	int64_t            silent_at;	/* -1: always answers */
	int64_t            dead_at;
};

static struct {
	struct wheel w;
	uint64_t     probes, acks, deaths;
} sim;

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The agent's rule: after every DPD call but dpd_liveness, arm at next_ms. */
static void
peer_arm(struct peer *p)
{
	if (p->dpd.next_ms == 0)
		wheel_cancel(&p->timer);
	else if (!wheel_pending(&p->timer) || p->timer.deadline != p->dpd.next_ms)
		wheel_add(&sim.w, &p->timer, p->dpd.next_ms);
}

static void
on_dpd_timer(struct wheel_timer *t, int64_t now)
{
	struct peer *p = wheel_owner(t, struct peer, timer);
	uint32_t seq;

	switch (dpd_timer(&p->dpd, now, &seq)) {
	case DPD_SEND_PROBE:
		sim.probes++;
		/* the fake transport: answered unless the peer went silent */
		if (p->silent_at < 0 || now < p->silent_at) {
			p->ack_seq = seq;
			wheel_add(&sim.w, &p->net, now + p->rtt_ms);
		}
		break;
	case DPD_PEER_DEAD:
		p->dead_at = now;
		sim.deaths++;
		break;
	case DPD_NONE:
		break;
	}
	peer_arm(p);
}

static void
on_ack(struct wheel_timer *t, int64_t now)
{
	struct peer *p = wheel_owner(t, struct peer, net);

	/* the receive path runs when the packet arrives, not on a tick */
	if (dpd_ack_received(&p->dpd, p->ack_seq, t->deadline) == 0)
		sim.acks++;
	peer_arm(p);
}

struct result {
	size_t   peers, silent, dead, false_dead, late_detect;
	uint64_t probes, acks;
	double   cpu_s;
	int64_t  max_err, sum_err;
};

/* SAs come up spread over the first keepalive; all stay idle (no ESP), the
 * worst case: every one is probed every keepalive. */
static void
run(size_t n, struct result *r)
{
	struct peer *peers = calloc(n, sizeof(*peers));
	int64_t now, up, want, err;
	double t0;
	size_t i;

	if (peers == NULL || wheel_init(&sim.w, TICK_MS, SLOTS, 0) == -1) {
		fprintf(stderr, "bench_dpd: out of memory\n");
		exit(1);
	}
	sim.probes = sim.acks = sim.deaths = 0;
	for (i = 0; i < n; i++) {
		struct peer *p = &peers[i];

		up = (int64_t)(i * (settings.keepalive_s * 1000ull) / n);
		wheel_timer_init(&p->timer, on_dpd_timer);
		wheel_timer_init(&p->net, on_ack);
		p->silent_at = i % SILENT_1_IN == 0 ? SILENT_AT + (int64_t)(i % 1000) : -1;
		p->dead_at = -1;
		p->rtt_ms = RTT_MS(i);
		dpd_start(&p->dpd, &settings, 1, up, (uint32_t)(i * 2654435761u) >> 1 | 1);
		peer_arm(p);
	}

	t0 = cpu_now();
	for (now = 0; now <= SIM_MS; now += TICK_MS)
		wheel_advance(&sim.w, now);
	*r = (struct result){ .cpu_s = cpu_now() - t0 };

	r->peers = n;
	r->probes = sim.probes;
	r->acks = sim.acks;
	for (i = 0; i < n; i++) {
		struct peer *p = &peers[i];

		if (p->silent_at < 0) {
			r->false_dead += p->dead_at >= 0;
			continue;
		}
		r->silent++;
		if (p->dead_at < 0)
			continue;
		r->dead++;
		want = p->dpd.last_rx_ms + settings.keepalive_s * 1000ll +
		    (int64_t)settings.retries * settings.retry_s * 1000;
		err = p->dead_at - want;
		if (err < 0)
			err = -err;
		if (err > r->max_err)
			r->max_err = err;
		r->sum_err += err;
		r->late_detect += p->dead_at < p->silent_at;	/* cannot happen */
	}
	for (i = 0; i < n; i++) {		/* as sa_free() does */
		wheel_cancel(&peers[i].timer);
		wheel_cancel(&peers[i].net);
	}
	wheel_free(&sim.w);
	free(peers);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of REPS runs (CPU); the simulation is deterministic otherwise. */
static int
report_scale(size_t n)
{
	struct result r;
	double cpu[REPS], med;
	int i, bad;

	for (i = 0; i < REPS; i++) {
		run(n, &r);
		cpu[i] = r.cpu_s;
	}
	qsort(cpu, REPS, sizeof(cpu[0]), cmp_double);
	med = cpu[REPS / 2];
	printf("%8zu %8llu %8llu %6zu %5zu %5zu %9.1f %10.3f %10.3f%% %6lld %7.2f\n",
	       r.peers, (unsigned long long)r.probes, (unsigned long long)r.acks, r.silent,
	       r.dead, r.false_dead, med * 1e3, r.probes ? med * 1e6 / (double)r.probes : 0,
	       med / (SIM_MS / 1000.0) * 100, (long long)r.max_err,
	       r.dead ? (double)r.sum_err / (double)r.dead : 0);
	bad = r.dead != r.silent || r.false_dead != 0 || r.late_detect != 0 ||
	    r.max_err > 100;
	if (bad)
		fprintf(stderr, "bench_dpd: %zu peers: detection outside R-2.5\n", n);
	return bad ? -1 : 0;
}

/* The idle loop alone: a wheel with nothing on it, ticked for SIM_MS. */
static void
report_idle(void)
{
	struct wheel w;
	int64_t now;
	double t0, cpu;

	if (wheel_init(&w, TICK_MS, SLOTS, 0) == -1)
		exit(1);
	t0 = cpu_now();
	for (now = 0; now <= SIM_MS; now += TICK_MS)
		wheel_advance(&w, now);
	cpu = cpu_now() - t0;
	wheel_free(&w);
	printf("%8d %8d %8d %6d %5d %5d %9.3f %10s %10.4f%%\n", 0, 0, 0, 0, 0, 0, cpu * 1e3,
	       "-", cpu / (SIM_MS / 1000.0) * 100);
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The per-packet cost: what the ESP receive path pays per verified packet
 * (dpd_liveness, a timestamp store), per packet sent (dpd_outbound), and,
 * for comparison, the design not taken (re-arming the wheel timer per
 * packet). `pattern`: one SA (a burst), all SAs in turn, or random SAs.
 */
static void
report_packet_path(size_t n)
{
	static const char *const pattern[] = { "same SA", "SAs in turn", "random SA" };
	struct peer *peers = calloc(n, sizeof(*peers));
	uint32_t *idx = malloc(LIVE_IDX * sizeof(*idx));
	struct wheel w;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i, k, m = LIVE_IDX;
	double t0, live[3], out[3], arm[3];
	int pat;

	if (peers == NULL || idx == NULL || wheel_init(&w, TICK_MS, SLOTS, 0) == -1)
		exit(1);
	for (i = 0; i < n; i++) {
		dpd_start(&peers[i].dpd, &settings, 1, 0, 1);
		wheel_timer_init(&peers[i].timer, on_dpd_timer);
		wheel_add(&w, &peers[i].timer, peers[i].dpd.next_ms);
	}
	for (pat = 0; pat < 3; pat++) {
		for (i = 0; i < m; i++)
			idx[i] = pat == 0 ? 0 : pat == 1 ? (uint32_t)(i % n) :
			    (uint32_t)(xorshift(&x) % n);
		t0 = cpu_now();
		for (k = 0; k < LIVE_OPS; k++)
			dpd_liveness(&peers[idx[k & (m - 1)]].dpd, (int64_t)(k >> 10));
		live[pat] = (cpu_now() - t0) * 1e9 / LIVE_OPS;
		t0 = cpu_now();
		for (k = 0; k < LIVE_OPS; k++)
			dpd_outbound(&peers[idx[k & (m - 1)]].dpd, (int64_t)(k >> 10));
		out[pat] = (cpu_now() - t0) * 1e9 / LIVE_OPS;
		t0 = cpu_now();
		for (k = 0; k < LIVE_OPS / 4; k++)
			wheel_add(&w, &peers[idx[k & (m - 1)]].timer,
				  10000 + (int64_t)(k >> 10) + (int64_t)(k % 997));
		arm[pat] = (cpu_now() - t0) * 1e9 / (LIVE_OPS / 4);
	}
	for (pat = 0; pat < 3; pat++)
		printf("%8zu  %-12s %8.2f ns %8.1f M/s %8.2f ns %8.1f M/s %8.2f ns\n", n,
		       pattern[pat], live[pat], 1e3 / live[pat], out[pat], 1e3 / out[pat],
		       arm[pat]);
	for (i = 0; i < n; i++)
		wheel_cancel(&peers[i].timer);
	wheel_free(&w);
	free(idx);
	free(peers);
}

int
main(int argc, char **argv)
{
	size_t counts[16], ncounts = 0, i;
	int rc = 0;

	for (i = 1; i < (size_t)argc && ncounts < 16; i++) {
		long v = strtol(argv[i], NULL, 10);

		if (v <= 0 || v > 10000000) {
			fprintf(stderr, "usage: bench_dpd [peers ...] (1..10000000)\n");
			return 2;
		}
		counts[ncounts++] = (size_t)v;
	}
	if (ncounts == 0) {
		counts[ncounts++] = 10000;
		counts[ncounts++] = 100000;
	}

	printf("== DPD at scale: periodic, keepalive %u s, retry %u s, %u retries; "
	       "wheel %d x %d ms;\n   simulated %d s in %d ms ticks, ACK after %lld-%lld ms, "
	       "1 peer in %d silent from ~%d s; %zu B per SA; CPU median of %d\n",
	       settings.keepalive_s, settings.retry_s, settings.retries, SLOTS, TICK_MS,
	       SIM_MS / 1000, TICK_MS, (long long)RTT_MS(0), (long long)RTT_MS(49 * 7), SILENT_1_IN, SILENT_AT / 1000,
	       sizeof(struct peer), REPS);
	printf("%8s %8s %8s %6s %5s %5s %9s %10s %11s %6s %7s\n", "peers", "probes", "acks",
	       "silent", "dead", "false", "CPU ms", "us/probe", "core share", "max ms",
	       "mean ms");
	report_idle();
	for (i = 0; i < ncounts; i++)
		if (report_scale(counts[i]) == -1)
			rc = 1;
	printf("   (detection error: |dead time - (last_rx + K + N*R)|, goal <= 100 ms)\n\n");

	printf("== Packet path, CPU per call (%d M calls)\n", LIVE_OPS / 1000000);
	printf("%8s  %-12s %11s %10s %11s %10s %11s\n", "SAs", "pattern", "dpd_liveness",
	       "rate", "dpd_outbound", "rate", "timer re-arm");
	for (i = 0; i < ncounts; i++)
		report_packet_path(counts[i]);
	printf("   (timer re-arm = wheel_add per packet: the design not taken)\n");
	return rc;
}
