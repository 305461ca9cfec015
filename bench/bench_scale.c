/*
 * The headend at scale (R-14, `make bench-scale`). One engine driven the
 * way the daemon drives it (ike_io.c: the datagrams of a batch, then
 * ike_timer and the loop's libevent timer re-armed at the deadline it
 * returns; DPD reading the dataplane's traffic records through the same
 * hooks and esp/record.h) answers N peers, each its own engine with one
 * tunnel, over a simulated wire (5..54 ms one way) and clock. Only the
 * agent's calls are timed (thread CPU time, one clock read per batch); its
 * heap is what ike_free gives back at the end. Not included: the syscalls
 * of a real socket (a whole-daemon run must measure those) and the
 * dataplane's pair installation.
 *
 * Per N: setup (N handshakes, 10 a simulated ms, the median CPU of one in
 * the first and in the last tenth), idle (60 s of periodic DPD 10 s /
 * 2 s x 5, peers answering; 1 % fall silent and their detection is
 * checked against the last datagram the agent got from them + 20 s),
 * busy (60 s, every tunnel carrying traffic both ways: each record
 * written every 10 ms per direction, so DPD never needs to ask) and one
 * /metrics render with every per-peer series and with the default cap.
 *
 *   bench_scale [tunnels ...]	(default: 1000 10000 100000)
 */
#include "core/log.h"
#include "core/strbuf.h"
#include "core/wheel.h"
#include "esp/record.h"
#include "ike/ike_int.h"
#include "metrics/http.h"
#include "metrics/metrics.h"
#include "metrics/vpn.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AGENT_BE     htonl(0xc0000201)		/* 192.0.2.1 */
#define PEER_BASE    0x64400001u		/* 100.64.0.1, +i */
#define PEER_SLOTS   256			/* a peer engine's wheel: 2.56 s a turn */
#define SETUP_EVERY  10			/* peers start every simulated ms */
#define PHASE_MS     60000
#define TRAFFIC_MS   10			/* busy: a packet each way per tunnel */
#define SILENT_1_IN  100
#define SILENT_AT_MS 25000		/* into the idle phase, + i % 1000 ms */
#define DEAD_AFTER_MS 20000		/* keepalive 10 s + 5 retries x 2 s */
#define ONE_WAY_MS(i) (5 + (int64_t)(i) / 7 % 50)

/* A datagram on the simulated wire. */
struct dgram {
	struct wheel_timer t;		/* delivery */
	struct dgram      *next;	/* the agent's inbox */
	int                to;		/* peer index, -1 = the agent */
	uint32_t           src_be;
	uint16_t           sport, dport;
	size_t             len;
	uint8_t            d[];
};

struct rpeer {
	struct ike        *ike;
	struct wheel_timer timer;	/* its engine's next deadline */
	struct dp_record   rec;		/* the agent's dataplane record of it */
	int64_t            silent_at;	/* 0: answers throughout */
	int64_t            last_heard;	/* its last datagram the agent got */
	int                up;		/* the agent installed its pair */
	size_t             idx;
};

static struct {
	struct wheel        wire;	/* deliveries and peer timers, 1 ms */
	struct rpeer       *p;
	size_t              n;
	struct ike         *agent;
	int64_t             now, agent_next;
	struct dgram       *inbox, **inbox_tail;
	struct event_base  *base;
	struct event       *loop_timer;	/* ike_io.c's timer, re-armed as there */
	double              cpu;	/* the agent's, seconds */
	int64_t             conf_heap;	/* its configuration's, bytes */
	size_t              installs;
	int                 zero_delay;	/* setup: everything delivered at once */
	struct dgram       *fifo, **fifo_tail;
} sim;

static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct rpeer *
peer_of(uint32_t be)
{
	uint32_t i = ntohl(be) - PEER_BASE;

	return i < sim.n ? &sim.p[i] : NULL;
}

/* Bytes the allocator has handed out (the heap's and mmap's): measured
 * around ike_configure, and around ike_free at the end, where everything
 * the agent holds, OpenSSL's objects included, goes at once. */
static int64_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (int64_t)(mi.uordblks + mi.hblkhd);
}

/* ---- the agent as the daemon drives it ----------------------------------- */

static double call_cpu;

static void
agent_enter(void)
{
	call_cpu = thread_cpu();
}

static void
agent_leave(void)
{
	sim.cpu += thread_cpu() - call_cpu;
}

/* ike_io.c's rearm(): the loop's timer at the engine's next deadline. */
static void
agent_rearm(int64_t next)
{
	int64_t wait = next > sim.now ? next - sim.now : 0;
	struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };

	sim.agent_next = next;
	if (next == 0)
		event_del(sim.loop_timer);
	else
		event_add(sim.loop_timer, &tv);
}

/* One batch, as rx_cb: every datagram, then the timers and the re-arm. */
static void
agent_batch(void)
{
	struct dgram *d, *next;

	agent_enter();
	for (d = sim.inbox; d != NULL; d = d->next)
		ike_input(sim.agent, d->dport, d->src_be, d->sport, d->d, d->len, sim.now);
	agent_rearm(ike_timer(sim.agent, sim.now));
	agent_leave();
	for (d = sim.inbox; d != NULL; d = next) {
		next = d->next;
		free(d);
	}
	sim.inbox = NULL;
	sim.inbox_tail = &sim.inbox;
}

static void
agent_install(void *ctx, const struct ike_child_sa *sa)
{
	struct rpeer *p = peer_of(sa->peer_be);

	if (p != NULL && !p->up) {
		p->up = 1;
		sim.installs++;
	}
}

static void
agent_remove(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
}

static int
agent_traffic(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t *last_in, int64_t *first_out)
{
	struct rpeer *p = peer_of(peer_be);

	if (p == NULL)
		return -1;
	dp_record_read(&p->rec, last_in, first_out);
	return 0;
}

static void
agent_alive(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t at)
{
	struct rpeer *p = peer_of(peer_be);

	if (p != NULL)
		dp_record_alive(&p->rec, at);
}

static void
agent_watch(void *ctx, uint32_t peer_be, uint16_t client_port)
{
	struct rpeer *p = peer_of(peer_be);

	if (p != NULL)
		dp_record_watch(&p->rec);
}

/* ---- the wire --------------------------------------------------------------- */

static void deliver(struct wheel_timer *t, int64_t now);

static int
wire_send(int to, uint32_t src_be, uint16_t sport, uint16_t dport, const uint8_t *msg,
	  size_t len, int64_t delay)
{
	struct dgram *d = malloc(sizeof(*d) + len);

	if (d == NULL)
		abort();
	*d = (struct dgram){ .to = to, .src_be = src_be, .sport = sport, .dport = dport,
			     .len = len };
	memcpy(d->d, msg, len);
	if (sim.zero_delay) {
		*sim.fifo_tail = d;
		sim.fifo_tail = &d->next;
		return 0;
	}
	wheel_timer_init(&d->t, deliver);
	wheel_add(&sim.wire, &d->t, sim.now + delay);
	return 0;
}

static int
agent_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	   const uint8_t *msg, size_t len)
{
	struct rpeer *p = peer_of(dst_be);

	if (p == NULL)
		return -1;
	return wire_send((int)p->idx, AGENT_BE, local_port, dst_port, msg, len,
			 ONE_WAY_MS(p->idx));
}

static int
peer_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	  const uint8_t *msg, size_t len)
{
	struct rpeer *p = ctx;

	return wire_send(-1, htonl(PEER_BASE + (uint32_t)p->idx), local_port, dst_port, msg, len,
			 ONE_WAY_MS(p->idx));
}

static int
silent(const struct rpeer *p)
{
	return p->silent_at != 0 && sim.now >= p->silent_at;
}

/* A peer's engine runs its timers and is woken at its next deadline. */
static void
peer_kick(struct rpeer *p)
{
	int64_t next = ike_timer(p->ike, sim.now);

	if (next != 0)
		wheel_add(&sim.wire, &p->timer, next);
}

static void
peer_timer(struct wheel_timer *t, int64_t now)
{
	struct rpeer *p = wheel_owner(t, struct rpeer, timer);

	if (!silent(p))			/* frozen: its timers stop too */
		peer_kick(p);
}

static void
peer_input(struct rpeer *p, const struct dgram *d)
{
	if (silent(p))
		return;
	ike_input(p->ike, d->dport, AGENT_BE, d->sport, d->d, d->len, sim.now);
	peer_kick(p);
}

static void
to_agent(struct dgram *d)
{
	peer_of(d->src_be)->last_heard = sim.now;	/* sent before any silence */
	d->next = NULL;
	*sim.inbox_tail = d;
	sim.inbox_tail = &d->next;
}

static void
deliver(struct wheel_timer *t, int64_t now)
{
	struct dgram *d = wheel_owner(t, struct dgram, t);

	if (d->to == -1) {
		to_agent(d);
		return;
	}
	peer_input(&sim.p[d->to], d);
	free(d);
}

/* One simulated millisecond. */
static void
step(void)
{
	wheel_advance(&sim.wire, sim.now);
	if (sim.inbox != NULL || (sim.agent_next != 0 && sim.agent_next <= sim.now))
		agent_batch();
}

/* Setup: the FIFO until quiet, the agent's datagrams one batch each. */
static void
pump(void)
{
	struct dgram *d;

	while ((d = sim.fifo) != NULL) {
		if ((sim.fifo = d->next) == NULL)
			sim.fifo_tail = &sim.fifo;
		if (d->to == -1) {
			to_agent(d);
			agent_batch();
		} else {
			peer_input(&sim.p[d->to], d);
			free(d);
		}
	}
}

/* ---- configuration -------------------------------------------------------- */

static void
map_conf(struct ike_map_conf *m, uint32_t peer_be, size_t i, int agent_side)
{
	uint32_t lan = htonl(0xac100000), lan_mask = htonl(0xffff0000);	/* 172.16/16 */
	uint32_t site = htonl(0x0a000000u + ((uint32_t)i << 4)), site_mask = htonl(0xfffffff0);

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "hub");
	m->seq = (unsigned)i + 1;
	m->peers_be[0] = peer_be;
	m->npeers = 1;
	m->nxforms = 1;
	m->xforms[0] = (struct ike_xform_conf){ .cipher = ESP_CIPHER_AES_GCM16, .key_len = 16 };
	m->nsel = 1;
	m->sel[0] = agent_side ? (struct ike_selector){ .src_be = lan, .src_mask_be = lan_mask,
							.dst_be = site, .dst_mask_be = site_mask }
			       : (struct ike_selector){ .src_be = site, .src_mask_be = site_mask,
							.dst_be = lan, .dst_mask_be = lan_mask };
	m->lifetime_s = 3600;
	m->lifetime_kb = 4608000;
	m->initiate = !agent_side;
}

static void
base_conf(struct ike_conf *c, uint32_t local_be)
{
	ike_conf_defaults(c);
	c->local_be = local_be;
	c->npolicies = 1;
	c->policies[0] = (struct ike_policy_conf){ .priority = 1, .enc_key_len = 16,
						   .hash = IKE_HASH_SHA256, .group = 19,
						   .lifetime_s = 86400 };
}

static void
psk_conf(struct ike_psk_conf *k, uint32_t addr_be, size_t i)
{
	memset(k, 0, sizeof(*k));
	k->addr_be = addr_be;
	k->mask_be = 0xffffffff;
	k->key_len = (size_t)snprintf(k->key, sizeof(k->key), "site-%zu-key", i);
}

static void
agent_configure(void)
{
	struct ike_conf c;
	int64_t heap0;

	base_conf(&c, AGENT_BE);
	c.dpd = (struct dpd_settings){ 10, 2, 5, DPD_MODE_PERIODIC };
	c.maps = calloc(sim.n, sizeof(*c.maps));
	c.psks = calloc(sim.n, sizeof(*c.psks));
	for (size_t i = 0; i < sim.n; i++) {
		map_conf(&c.maps[i], htonl(PEER_BASE + (uint32_t)i), i, 1);
		psk_conf(&c.psks[i], htonl(PEER_BASE + (uint32_t)i), i);
	}
	c.nmaps = c.npsks = sim.n;
	heap0 = heap_in_use();
	agent_enter();
	ike_configure(sim.agent, &c, sim.now);
	agent_leave();
	sim.conf_heap = heap_in_use() - heap0;
	free(c.maps);
	free(c.psks);
}

static void
peer_start(struct rpeer *p)
{
	struct ike_transport tr = { p, peer_send };
	struct ike_conf c;
	struct ike_map_conf m;
	struct ike_psk_conf k;

	p->ike = ike_new_slots(&tr, NULL, PEER_SLOTS);
	wheel_timer_init(&p->timer, peer_timer);
	base_conf(&c, htonl(PEER_BASE + (uint32_t)p->idx));
	c.dpd.keepalive_s = 0;		/* peers only answer */
	map_conf(&m, AGENT_BE, p->idx, 0);
	psk_conf(&k, AGENT_BE, p->idx);
	c.maps = &m;
	c.nmaps = 1;
	c.psks = &k;
	c.npsks = 1;
	ike_configure(p->ike, &c, sim.now);
	peer_kick(p);			/* initiates */
}

/* ---- the run ----------------------------------------------------------------- */

struct result {
	size_t  n;
	double  idle_core, busy_core, heap_per_tunnel, setup_us_first, setup_us_last;
	double  conf_per_tunnel;	/* of the heap, the configuration's copy */
	/* /metrics with every peer listed, and with the daemon's default cap
	 * (mb -1: over METRICS_TEXT_MAX; dropped: over METRICS_SERIES_MAX) */
	double  render_ms, render_mb, capped_ms, capped_mb;
	size_t  series_dropped, capped_series, capped_dropped;
	size_t  series, silenced, detected, false_deaths;
	int64_t max_err_ms;
};

struct dead_check {
	struct result *r;
	int64_t        phase0;
};

static void
check_tunnel(void *ctx, const struct ike_tunnel_view *v)
{
	struct dead_check *dc = ctx;
	const struct ike_peer_view *pv = &v->peers[0];
	struct rpeer *p = peer_of(pv->peer_be);
	int64_t err;

	if (p == NULL)
		return;
	if (p->silent_at == 0) {
		dc->r->false_deaths += pv->dead_real_ms != 0;
		return;
	}
	if (pv->dead_real_ms == 0)
		return;
	dc->r->detected++;
	err = llabs(pv->dead_real_ms - (p->last_heard + DEAD_AFTER_MS));
	if (err > dc->r->max_err_ms)
		dc->r->max_err_ms = err;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median handshake of a tenth: a shared machine's bursts (another
 * tenant, a frequency change) move a mean by more than what is measured. */
static double
median_us(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2] * 1e6;
}

static void
setup(struct result *r)
{
	size_t tenth = sim.n / 10 ? sim.n / 10 : 1;
	double *cost = calloc(sim.n, sizeof(*cost));

	if (cost == NULL)
		abort();
	sim.zero_delay = 1;
	for (size_t i = 0; i < sim.n; i++) {
		double before = sim.cpu;

		peer_start(&sim.p[i]);
		pump();
		cost[i] = sim.cpu - before;
		if ((i + 1) % SETUP_EVERY == 0) {
			sim.zero_delay = 0;
			sim.now++;
			step();
			sim.zero_delay = 1;
		}
	}
	sim.zero_delay = 0;
	r->setup_us_first = median_us(cost, tenth);
	r->setup_us_last = median_us(cost + sim.n - tenth, tenth);
	free(cost);
}

static void
run_phase(int busy, double *core)
{
	double cpu0 = sim.cpu;
	int64_t end = sim.now + PHASE_MS;

	while (sim.now < end) {
		sim.now++;
		if (busy) {
			for (size_t i = (size_t)(sim.now % TRAFFIC_MS); i < sim.n; i += TRAFFIC_MS) {
				struct rpeer *p = &sim.p[i];

				if (silent(p))
					continue;
				dp_record_in(&p->rec, sim.now);
				(void)dp_record_out(&p->rec, sim.now);
			}
		}
		step();
	}
	*core = (sim.cpu - cpu0) / (PHASE_MS / 1000.0) * 100;
}

/* One /metrics text of the tunnel, ike_sa, dpd and failover families. */
static void
render(size_t peer_series, double *ms, size_t *series, size_t *dropped, double *mb)
{
	struct vpn_metrics vm = { sim.agent, NULL, peer_series };
	struct metrics_registry *reg = metrics_registry_new();
	struct metrics_snapshot *snap;
	struct strbuf out;
	double t0;

	metrics_registry_add(reg, vpn_metrics_source, &vm);
	strbuf_init(&out, METRICS_TEXT_MAX);
	t0 = thread_cpu();
	snap = metrics_registry_collect(reg);
	metrics_prom_render(snap, &out);
	*ms = (thread_cpu() - t0) * 1e3;
	*dropped = snap->dropped;
	*mb = out.overflow ? -1 : (double)out.len / 1e6;
	*series = 0;
	for (size_t i = 0; i < out.len; i++)
		*series += out.data[i] == '\n' && i + 1 < out.len && out.data[i + 1] != '#';
	metrics_snapshot_free(snap);
	strbuf_free(&out);
	metrics_registry_free(reg);
}

static void
run(size_t n, struct result *r)
{
	struct ike_transport tr = { NULL, agent_send };
	struct ike_dataplane dp = { .install = agent_install, .remove = agent_remove,
				    .traffic = agent_traffic, .alive = agent_alive,
				    .watch = agent_watch };
	struct dead_check dc = { r, 0 };
	int64_t idle_start, heap;

	memset(&sim, 0, sizeof(sim));
	memset(r, 0, sizeof(*r));
	r->n = sim.n = n;
	sim.now = 1000;
	sim.inbox_tail = &sim.inbox;
	sim.fifo_tail = &sim.fifo;
	if (wheel_init(&sim.wire, 1, 4096, sim.now) == -1)
		abort();
	sim.base = event_base_new();
	sim.loop_timer = evtimer_new(sim.base, (event_callback_fn)abort, NULL);
	sim.p = calloc(n, sizeof(*sim.p));
	for (size_t i = 0; i < n; i++)
		sim.p[i].idx = i;

	agent_enter();
	sim.agent = ike_new(&tr, &dp);
	agent_leave();
	agent_configure();
	r->conf_per_tunnel = (double)sim.conf_heap / (double)n;
	setup(r);
	if (sim.installs != n) {
		fprintf(stderr, "bench_scale: %zu of %zu tunnels came up\n", sim.installs, n);
		exit(1);
	}

	idle_start = sim.now;
	for (size_t i = 0; i < n; i += SILENT_1_IN) {
		sim.p[i].silent_at = idle_start + SILENT_AT_MS + (int64_t)(i % 1000);
		r->silenced++;
	}
	run_phase(0, &r->idle_core);
	ike_tunnels_view(sim.agent, sim.now, sim.now, check_tunnel, &dc);
	run_phase(1, &r->busy_core);
	render(0, &r->render_ms, &r->series, &r->series_dropped, &r->render_mb);
	render(VPN_METRICS_PEER_SERIES, &r->capped_ms, &r->capped_series, &r->capped_dropped,
	       &r->capped_mb);

	heap = heap_in_use();
	ike_free(sim.agent);
	r->heap_per_tunnel = (double)(heap - heap_in_use()) / (double)n;
	for (size_t i = 0; i < n; i++)
		ike_free(sim.p[i].ike);
	wheel_free(&sim.wire);
	free(sim.p);
	event_free(sim.loop_timer);
	event_base_free(sim.base);
}

int
main(int argc, char **argv)
{
	static const size_t dflt[] = { 1000, 10000, 100000 };
	size_t ns[16], count = 0;
	struct result r[16];

	log_init("bench", LOG_LEVEL__COUNT);
	for (int i = 1; i < argc && count < 16; i++)
		ns[count++] = strtoul(argv[i], NULL, 10);
	if (count == 0)
		for (; count < 3; count++)
			ns[count] = dflt[count];
	printf("%8s %7s %7s %9s %10s %9s %9s %8s %6s %10s\n", "tunnels", "idle %", "busy %",
	       "heap B/tn", "of it conf", "setup1 us", "setupN us", "silenced", "found",
	       "max err ms");
	for (size_t i = 0; i < count; i++) {
		run(ns[i], &r[i]);
		printf("%8zu %7.3f %7.3f %9.0f %10.0f %9.0f %9.0f %8zu %6zu %10lld\n", r[i].n,
		       r[i].idle_core, r[i].busy_core, r[i].heap_per_tunnel, r[i].conf_per_tunnel,
		       r[i].setup_us_first, r[i].setup_us_last, r[i].silenced, r[i].detected,
		       (long long)r[i].max_err_ms);
		fflush(stdout);
	}
	printf("(one engine as the daemon drives it, N peer engines; DPD periodic 10 s / 2 s x 5; "
	       "idle and busy: CPU of the agent's calls over 60 simulated s as a share of one "
	       "core; setup: the median handshake of the first and last tenth; silenced "
	       "peers' detection against their last datagram + 20 s; false deaths:");
	for (size_t i = 0; i < count; i++)
		printf(" %zu", r[i].false_deaths);
	printf(")\n\n/metrics (tunnel, ike_sa, dpd, failover)   every peer listed"
	       "                 --metrics-peer-series %d\n", VPN_METRICS_PEER_SERIES);
	printf("%8s %9s %9s %8s %9s   %9s %9s %8s %9s\n", "tunnels", "series", "dropped",
	       "text MB", "ms", "series", "dropped", "text MB", "ms");
	for (size_t i = 0; i < count; i++)
		printf("%8zu %9zu %9zu %8.1f %9.1f   %9zu %9zu %8.1f %9.1f\n", r[i].n, r[i].series,
		       r[i].series_dropped, r[i].render_mb, r[i].render_ms, r[i].capped_series,
		       r[i].capped_dropped, r[i].capped_mb, r[i].capped_ms);
	printf("(dropped: over the %d series a snapshot holds, counted in "
	       "vpnagent_telemetry_series_dropped_total)\n", METRICS_SERIES_MAX);
	for (size_t i = 0; i < count; i++)
		printf("scale: tunnels=%zu idle_core=%.3f%% busy_core=%.3f%% heap_per_tunnel=%.0f "
		       "max_detect_err_ms=%lld setup_us_first=%.0f setup_us_last=%.0f "
		       "metrics_render_ms=%.1f metrics_render_ms_capped=%.1f\n", r[i].n,
		       r[i].idle_core, r[i].busy_core, r[i].heap_per_tunnel,
		       r[i].detected == r[i].silenced ? (long long)r[i].max_err_ms : -1LL,
		       r[i].setup_us_first, r[i].setup_us_last, r[i].render_ms, r[i].capped_ms);
	return 0;
}
