/*
 * Dead Peer Detection (agent/ike/dpd.c) on a fake clock, to the millisecond:
 * periodic and on-demand schedules, death exactly at last_rx + keepalive +
 * retries * retry, liveness that saves the peer one ms before, ACK sequence
 * checks, settings, reconfiguration, sequence wrap, and many SAs driven by
 * the timer wheel as the agent's loop drives them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/wheel.h"
#include "ike/dpd.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define S        1000	/* ms per second */

static const struct dpd_settings periodic = { 10, 2, 5, DPD_MODE_PERIODIC };
static const struct dpd_settings on_demand = { 10, 2, 5, DPD_MODE_ON_DEMAND };

struct ev {
	int64_t         at;
	enum dpd_action act;
	uint32_t        seq;
};

struct evlog {
	struct ev ev[64];
	size_t    n;
};

/* Calls dpd_timer every millisecond of [from, to], as an eager loop would;
 * calls before next_ms must change nothing. */
static void
step(struct dpd *d, int64_t from, int64_t to, struct evlog *l)
{
	enum dpd_action act;
	uint32_t seq;
	int64_t t;

	for (t = from; t <= to; t++) {
		seq = 0;
		act = dpd_timer(d, t, &seq);
		if (act == DPD_NONE)
			continue;
		assert_true(l->n < NELEM(l->ev));
		l->ev[l->n++] = (struct ev){ t, act, seq };
	}
}

/* Calls dpd_timer only at next_ms, as the wheel would. */
static void
jump(struct dpd *d, int64_t to, struct evlog *l)
{
	enum dpd_action act;
	uint32_t seq;
	int64_t t;

	while (d->next_ms != 0 && d->next_ms <= to) {
		t = d->next_ms;
		seq = 0;
		act = dpd_timer(d, t, &seq);
		assert_true(d->next_ms == 0 || d->next_ms > t);
		if (act == DPD_NONE)
			continue;
		assert_true(l->n < NELEM(l->ev));
		l->ev[l->n++] = (struct ev){ t, act, seq };
	}
}

/* The silent-peer schedule from last_rx: probes at +K, +K+R, ..., dead at
 * +K+N*R, with sequence numbers from seq. */
static void
expect_silent_round(const struct evlog *l, size_t first, int64_t last_rx,
		    const struct dpd_settings *s, uint32_t seq)
{
	int64_t k = (int64_t)s->keepalive_s * S, r = (int64_t)s->retry_s * S;
	unsigned i;

	assert_int_equal(l->n, first + s->retries + 1);
	for (i = 0; i < s->retries; i++) {
		assert_int_equal(l->ev[first + i].act, DPD_SEND_PROBE);
		assert_int_equal(l->ev[first + i].at, last_rx + k + i * r);
		assert_int_equal(l->ev[first + i].seq, seq + i);
	}
	assert_int_equal(l->ev[first + i].act, DPD_PEER_DEAD);
	assert_int_equal(l->ev[first + i].at, last_rx + k + (int64_t)s->retries * r);
}

/* Periodic, idle tunnel: a probe every keepalive while the peer answers
 * (RTT measured); then the peer goes quiet: one probe and four
 * retransmissions, dead exactly 20 s after the last ACK, not a ms before. */
static void
test_periodic_idle_tunnel(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };
	int64_t t = 1000, last;
	uint32_t seq = 0;
	int i;

	dpd_start(&d, &periodic, 1, t, 100);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 11000);
	assert_int_equal(d.last_rtt_ms, -1);
	step(&d, 1000, 10999, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(d.next_ms, 11000);

	for (i = 0; i < 4; i++) {
		t = d.next_ms;
		assert_int_equal(dpd_timer(&d, t, &seq), DPD_SEND_PROBE);
		assert_int_equal(seq, 100 + i);
		assert_int_equal(d.state, DPD_PROBING);
		assert_int_equal(d.next_ms, t + 2 * S);
		assert_int_equal(dpd_ack_received(&d, seq, t + 7 + i), 0);
		assert_int_equal(d.last_rtt_ms, 7 + i);
		assert_int_equal(d.last_ack_ms, t + 7 + i);
		assert_int_equal(d.state, DPD_IDLE);
		assert_int_equal(d.last_rx_ms, t + 7 + i);
		assert_int_equal(d.next_ms, t + 7 + i + 10 * S);
		/* the caller's timer, still armed for the retry: harmless */
		assert_int_equal(dpd_timer(&d, t + 2 * S, &seq), DPD_NONE);
		assert_int_equal(d.next_ms, t + 7 + i + 10 * S);
	}
	assert_int_equal(d.c.r_u_there_sent, 4);
	assert_int_equal(d.c.ack_received, 4);
	assert_int_equal(d.c.retransmissions, 0);

	last = d.last_rx_ms;
	step(&d, last, last + 20 * S - 1, &l);
	assert_int_equal(d.state, DPD_PROBING);	/* one ms before: alive */
	assert_int_equal(d.c.peer_dead, 0);
	step(&d, last + 20 * S, last + 60 * S, &l);
	expect_silent_round(&l, 0, last, &periodic, 104);
	assert_int_equal(d.state, DPD_DEAD);
	assert_int_equal(d.next_ms, 0);
	assert_int_equal(d.c.r_u_there_sent, 9);
	assert_int_equal(d.c.retransmissions, 4);
	assert_int_equal(d.c.peer_dead, 1);	/* once */
	assert_int_equal(d.c.bad_sequence, 0);
}

/* The same schedule when the timer only runs at next_ms (the wheel), and
 * with other settings: dead at last_rx + K + N*R on the ms. */
static void
test_dead_time_is_exact(void **state)
{
	static const struct dpd_settings cases[] = {
		{ 10, 2, 5, DPD_MODE_PERIODIC },
		{ 10, 60, 10, DPD_MODE_PERIODIC },
		{ 3600, 2, 1, DPD_MODE_PERIODIC },
		{ 30, 7, 3, DPD_MODE_PERIODIC },
	};
	struct dpd d;
	struct evlog l;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		memset(&l, 0, sizeof(l));
		dpd_start(&d, &cases[i], 1, 5, 7);
		jump(&d, 10000 * S, &l);
		expect_silent_round(&l, 0, 5, &cases[i], 7);
		assert_int_equal(d.state, DPD_DEAD);
	}
	/* and the eager loop agrees with the wheel-driven one */
	memset(&l, 0, sizeof(l));
	dpd_start(&d, &cases[3], 1, 5, 7);
	step(&d, 5, 80 * S, &l);
	expect_silent_round(&l, 0, 5, &cases[3], 7);
}

/* ESP one millisecond before the verdict saves the peer; the round ends at
 * that timer call, and the next round is timed from the ESP packet. */
static void
test_liveness_just_before_death(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };

	dpd_start(&d, &periodic, 1, 0, 1);
	step(&d, 0, 19998, &l);
	assert_int_equal(l.n, 5);
	dpd_liveness(&d, 19999);
	assert_int_equal(d.state, DPD_PROBING);	/* a store, nothing else */
	assert_int_equal(d.next_ms, 20000);
	step(&d, 19999, 20000, &l);
	assert_int_equal(l.n, 5);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 19999 + 10 * S);
	assert_int_equal(d.c.peer_dead, 0);

	memset(&l, 0, sizeof(l));
	step(&d, 20001, 19999 + 30 * S, &l);
	expect_silent_round(&l, 0, 19999, &periodic, 6);
}

/* ESP in the middle of a round: the round ends at the next timer call, no
 * probe is sent then, and the next round counts from the packet. */
static void
test_liveness_mid_round(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };

	dpd_start(&d, &periodic, 1, 0, 1);
	step(&d, 0, 12500, &l);
	assert_int_equal(l.n, 2);			/* 10 s and 12 s */
	dpd_liveness(&d, 12500);
	memset(&l, 0, sizeof(l));
	step(&d, 12501, 12500 + 10 * S - 1, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.probes, 0);
	step(&d, 12500 + 10 * S, 12500 + 40 * S, &l);
	expect_silent_round(&l, 0, 12500, &periodic, 3);

	/* ESP in the very ms the probe left still counts as an answer */
	dpd_start(&d, &periodic, 1, 0, 1);
	assert_int_equal(dpd_timer(&d, 10 * S, NULL), DPD_SEND_PROBE);
	dpd_liveness(&d, 10 * S);
	assert_int_equal(dpd_timer(&d, 12 * S, NULL), DPD_NONE);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 20 * S);

	/* ESP while idle: one store, the armed timer re-arms when it fires */
	dpd_start(&d, &periodic, 1, 0, 1);
	dpd_liveness(&d, 4000);
	assert_int_equal(d.next_ms, 10 * S);
	assert_int_equal(dpd_timer(&d, 10 * S, NULL), DPD_NONE);
	assert_int_equal(d.next_ms, 14 * S);
}

/* Only an ACK for the last probe counts: older probes, unknown numbers and
 * duplicates are ignored and counted. */
static void
test_ack_sequence(void **state)
{
	struct dpd d;
	uint32_t s1, s2;

	dpd_start(&d, &periodic, 1, 0, 500);
	assert_int_equal(dpd_ack_received(&d, 499, 100), -1);	/* nothing sent yet */
	assert_int_equal(d.c.bad_sequence, 1);

	assert_int_equal(dpd_timer(&d, 10 * S, &s1), DPD_SEND_PROBE);
	assert_int_equal(dpd_timer(&d, 12 * S, &s2), DPD_SEND_PROBE);
	assert_int_equal(s1, 500);
	assert_int_equal(s2, 501);
	assert_int_equal(d.probe_sent_ms, 12 * S);

	assert_int_equal(dpd_ack_received(&d, s1, 12500), -1);	/* late ACK of probe 1 */
	assert_int_equal(dpd_ack_received(&d, 0xdeadbeef, 12600), -1);
	assert_int_equal(d.c.bad_sequence, 3);
	assert_int_equal(d.c.ack_received, 0);
	assert_int_equal(d.state, DPD_PROBING);
	assert_int_equal(d.last_rx_ms, 0);
	assert_int_equal(d.last_rtt_ms, -1);

	assert_int_equal(dpd_ack_received(&d, s2, 12700), 0);
	assert_int_equal(d.last_rtt_ms, 700);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 22700);
	assert_int_equal(dpd_ack_received(&d, s2, 12800), -1);	/* duplicate */
	assert_int_equal(d.c.bad_sequence, 4);
	assert_int_equal(d.c.ack_received, 1);
	assert_int_equal(d.last_rx_ms, 12700);
}

/* A peer's R-U-THERE with a new number is proof of liveness; the same
 * number again (a retransmission or a replay) is answered but no news. */
static void
test_probe_received(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };

	dpd_start(&d, &periodic, 1, 0, 1);
	step(&d, 0, 10 * S, &l);
	assert_int_equal(d.state, DPD_PROBING);
	dpd_probe_received(&d, 77, 11 * S);
	dpd_ack_sent(&d);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.last_rx_ms, 11 * S);
	assert_int_equal(d.peer_seq, 77);
	assert_int_equal(d.next_ms, 21 * S);

	memset(&l, 0, sizeof(l));
	step(&d, 11 * S, 21 * S, &l);
	assert_int_equal(l.n, 1);
	dpd_probe_received(&d, 77, 22 * S);	/* duplicate */
	dpd_ack_sent(&d);
	assert_int_equal(d.state, DPD_PROBING);
	assert_int_equal(d.last_rx_ms, 11 * S);
	step(&d, 21 * S + 1, 60 * S, &l);
	expect_silent_round(&l, 0, 11 * S, &periodic, 2);
	assert_int_equal(d.c.r_u_there_received, 2);
	assert_int_equal(d.c.ack_sent, 2);
}

/* On-demand without traffic for the peer: no probe, no death, nothing to
 * decide, however long. */
static void
test_on_demand_no_traffic(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };

	dpd_start(&d, &on_demand, 1, 0, 1);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 0);
	step(&d, 0, 100 * S, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(d.next_ms, 0);
	assert_int_equal(d.c.r_u_there_sent, 0);
	assert_int_equal(d.state, DPD_IDLE);
}

/* On-demand with traffic and a silent peer: the round starts at
 * max(last_rx + K, first outbound after last_rx), then the usual schedule. */
static void
test_on_demand_traffic(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };

	/* outbound before the keepalive is up: probe at last_rx + K */
	dpd_start(&d, &on_demand, 1, 0, 1);
	dpd_outbound(&d, 3000);
	assert_int_equal(d.next_ms, 10 * S);	/* the caller arms its timer */
	dpd_outbound(&d, 4000);
	assert_int_equal(d.last_tx_ms, 4000);
	step(&d, 0, 60 * S, &l);
	expect_silent_round(&l, 0, 0, &on_demand, 1);

	/* outbound long after: probe at once, dead retries * retry later */
	memset(&l, 0, sizeof(l));
	dpd_start(&d, &on_demand, 1, 0, 1);
	step(&d, 0, 24999, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(d.next_ms, 0);
	dpd_outbound(&d, 25000);
	assert_int_equal(d.next_ms, 25000);
	step(&d, 25000, 24999 + 10 * S, &l);
	assert_int_equal(l.n, 5);
	assert_int_equal(d.state, DPD_PROBING);
	step(&d, 25000 + 10 * S, 100 * S, &l);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.ev[0].at, 25000);
	assert_int_equal(l.ev[4].at, 33000);
	assert_int_equal(l.ev[5].act, DPD_PEER_DEAD);
	assert_int_equal(l.ev[5].at, 35000);

	/* an answer to our traffic ends the need to ask */
	memset(&l, 0, sizeof(l));
	dpd_start(&d, &on_demand, 1, 0, 1);
	dpd_outbound(&d, 3000);
	dpd_liveness(&d, 5000);
	dpd_outbound(&d, 5000);			/* the same ms as the proof: not after */
	step(&d, 0, 11 * S, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(d.next_ms, 0);
	dpd_outbound(&d, 12000);
	assert_int_equal(d.next_ms, 15000);
	step(&d, 11 * S, 40 * S, &l);
	expect_silent_round(&l, 0, 5000, &on_demand, 1);

	/* traffic does not restart a round that already runs */
	memset(&l, 0, sizeof(l));
	dpd_start(&d, &on_demand, 1, 0, 1);
	dpd_outbound(&d, 1);
	step(&d, 0, 11 * S, &l);
	dpd_outbound(&d, 11 * S + 1);
	assert_int_equal(d.next_ms, 12 * S);
	step(&d, 11 * S + 1, 40 * S, &l);
	expect_silent_round(&l, 0, 0, &on_demand, 1);
}

static void
test_settings_check(void **state)
{
	static const struct {
		struct dpd_settings s;
		const char         *why;
	} bad[] = {
		{ { 5, 2, 5, DPD_MODE_PERIODIC }, "keepaliveSeconds must be 10-3600 (got 5)" },
		{ { 3601, 2, 5, DPD_MODE_PERIODIC }, "keepaliveSeconds must be 10-3600 (got 3601)" },
		{ { 10, 1, 5, DPD_MODE_PERIODIC }, "retrySeconds must be 2-60 (got 1)" },
		{ { 10, 61, 5, DPD_MODE_ON_DEMAND }, "retrySeconds must be 2-60 (got 61)" },
		{ { 10, 2, 0, DPD_MODE_ON_DEMAND }, "retries must be 1-10 (got 0)" },
		{ { 10, 2, 11, DPD_MODE_ON_DEMAND }, "retries must be 1-10 (got 11)" },
		{ { 10, 2, 5, (enum dpd_mode)2 }, "mode must be ON_DEMAND or PERIODIC (got 2)" },
		{ { 10, 2, 5, (enum dpd_mode)-1 }, "mode must be ON_DEMAND or PERIODIC (got -1)" },
	};
	static const struct dpd_settings good[] = {
		{ 10, DPD_RETRY_DEFAULT, DPD_RETRIES_DEFAULT, DPD_MODE_ON_DEMAND },
		{ 3600, 60, 10, DPD_MODE_PERIODIC },
		{ 0, 2, 5, DPD_MODE_ON_DEMAND },	/* DPD off */
		{ 10, 2, 1, DPD_MODE_PERIODIC },
	};
	char why[128];
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		why[0] = '\0';
		assert_int_equal(dpd_settings_check(&bad[i].s, why, sizeof(why)), -1);
		assert_string_equal(why, bad[i].why);
	}
	for (i = 0; i < NELEM(good); i++)
		assert_int_equal(dpd_settings_check(&good[i], why, sizeof(why)), 0);
	assert_int_equal(dpd_settings_check(&bad[0].s, NULL, 0), -1);
	assert_int_equal(dpd_settings_check(&bad[0].s, why, 8), -1);
	assert_string_equal(why, "keepali");	/* truncated, terminated */
}

static void
test_reconfigure(void **state)
{
	struct dpd_settings s = periodic;
	struct dpd d;
	struct evlog l = { 0 };

	/* mid-round: the probe out gets the new retry, then the new schedule */
	dpd_start(&d, &periodic, 1, 0, 1);
	step(&d, 0, 13 * S, &l);
	assert_int_equal(l.n, 2);			/* 10 s, 12 s */
	s.retry_s = 5;
	s.retries = 3;
	dpd_reconfigure(&d, &s, 13 * S);
	assert_int_equal(d.state, DPD_PROBING);
	assert_int_equal(d.next_ms, 17 * S);
	step(&d, 13 * S + 1, 40 * S, &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ev[2].act, DPD_SEND_PROBE);
	assert_int_equal(l.ev[2].at, 17 * S);
	assert_int_equal(l.ev[2].seq, 3);
	assert_int_equal(l.ev[3].act, DPD_PEER_DEAD);
	assert_int_equal(l.ev[3].at, 22 * S);
	assert_int_equal(d.c.r_u_there_sent, 3);	/* counters kept */
	assert_int_equal(d.c.retransmissions, 2);

	/* fewer retries than probes already out: dead when the last had its retry */
	memset(&l, 0, sizeof(l));
	dpd_start(&d, &periodic, 1, 0, 1);
	step(&d, 0, 15 * S, &l);
	s = periodic;
	s.retries = 2;
	dpd_reconfigure(&d, &s, 15 * S);
	assert_int_equal(d.next_ms, 16 * S);
	step(&d, 15 * S + 1, 30 * S, &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ev[3].act, DPD_PEER_DEAD);
	assert_int_equal(l.ev[3].at, 16 * S);

	/* idle: a longer keepalive moves the deadline; a shorter one too */
	dpd_start(&d, &periodic, 1, 0, 1);
	s = periodic;
	s.keepalive_s = 30;
	dpd_reconfigure(&d, &s, 5 * S);
	assert_int_equal(d.next_ms, 30 * S);
	s.mode = DPD_MODE_ON_DEMAND;
	dpd_reconfigure(&d, &s, 6 * S);
	assert_int_equal(d.next_ms, 0);		/* no traffic: nothing to ask */

	/* off and on again: the late start begins its round from now */
	memset(&l, 0, sizeof(l));
	dpd_start(&d, &periodic, 1, 0, 1);
	s = periodic;
	s.keepalive_s = 0;
	dpd_reconfigure(&d, &s, 5 * S);
	assert_int_equal(d.state, DPD_DISABLED);
	assert_int_equal(d.next_ms, 0);
	step(&d, 5 * S, 60 * S, &l);
	assert_int_equal(l.n, 0);
	dpd_reconfigure(&d, &periodic, 60 * S);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 10 * S);	/* already due */
	step(&d, 60 * S, 100 * S, &l);
	expect_silent_round(&l, 0, 50 * S, &periodic, 1);

	/* a dead peer stays dead */
	s = periodic;
	s.keepalive_s = 60;
	dpd_reconfigure(&d, &s, 100 * S);
	assert_int_equal(d.state, DPD_DEAD);
	assert_int_equal(d.next_ms, 0);
}

/* A timer a few ms late keeps the schedule; one stalled for more than a
 * second restarts it from now, so probes never go out back to back. */
static void
test_late_timer(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };
	uint32_t seq;

	dpd_start(&d, &periodic, 1, 0, 1);
	assert_int_equal(dpd_timer(&d, 10009, &seq), DPD_SEND_PROBE);
	assert_int_equal(d.probe_sent_ms, 10009);
	assert_int_equal(d.next_ms, 12 * S);
	step(&d, 10010, 30 * S, &l);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.ev[4].at, 20 * S);
	assert_int_equal(l.ev[4].act, DPD_PEER_DEAD);

	memset(&l, 0, sizeof(l));
	dpd_start(&d, &periodic, 1, 0, 1);
	assert_int_equal(dpd_timer(&d, 13500, &seq), DPD_SEND_PROBE);
	assert_int_equal(d.next_ms, 15500);
	step(&d, 13501, 40 * S, &l);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.ev[0].at, 15500);
	assert_int_equal(l.ev[4].at, 23500);
	assert_int_equal(l.ev[4].act, DPD_PEER_DEAD);
}

/* Every probe has a new number; 0 is never used, also across the wrap. */
static void
test_sequence_wraps_skipping_zero(void **state)
{
	static const uint32_t want[] = { 0xfffffffe, 0xffffffff, 1, 2, 3 };
	struct dpd d;
	struct evlog l = { 0 };
	uint32_t seq = 0;
	size_t i;

	dpd_start(&d, &periodic, 1, 0, 0xfffffffe);
	step(&d, 0, 30 * S, &l);
	assert_int_equal(l.n, 6);
	for (i = 0; i < NELEM(want); i++)
		assert_int_equal(l.ev[i].seq, want[i]);

	dpd_start(&d, &periodic, 1, 0, 0);	/* a bad seq0 still never sends 0 */
	assert_int_equal(dpd_timer(&d, 10 * S, &seq), DPD_SEND_PROBE);
	assert_int_equal(seq, 1);
}

/* Without the peer's DPD vendor id (or with keepalive 0) nothing happens. */
static void
test_disabled(void **state)
{
	struct dpd d;
	struct evlog l = { 0 };

	dpd_start(&d, &periodic, 0, 0, 1);
	assert_int_equal(d.state, DPD_DISABLED);
	assert_int_equal(d.next_ms, 0);
	dpd_outbound(&d, 20 * S);
	assert_int_equal(d.next_ms, 0);
	step(&d, 0, 60 * S, &l);
	assert_int_equal(l.n, 0);
	dpd_reconfigure(&d, &on_demand, 60 * S);	/* the peer still cannot */
	assert_int_equal(d.state, DPD_DISABLED);
	assert_int_equal(d.c.r_u_there_sent, 0);
	/* the peer may still ask us; we answer and count */
	dpd_probe_received(&d, 9, 61 * S);
	assert_int_equal(d.c.r_u_there_received, 1);
	assert_int_equal(d.state, DPD_DISABLED);

	dpd_start(&d, &(struct dpd_settings){ 0, 2, 5, DPD_MODE_PERIODIC }, 1, 0, 1);
	assert_int_equal(d.state, DPD_DISABLED);
	dpd_reconfigure(&d, &periodic, 1 * S);
	assert_int_equal(d.state, DPD_IDLE);
	assert_int_equal(d.next_ms, 10 * S);
}

static void
test_names(void **state)
{
	assert_string_equal(dpd_mode_names[DPD_MODE_ON_DEMAND], "ON_DEMAND");
	assert_string_equal(dpd_mode_names[DPD_MODE_PERIODIC], "PERIODIC");
	assert_string_equal(dpd_state_names[DPD_IDLE], "IDLE");
	assert_string_equal(dpd_state_names[DPD_PROBING], "PROBING");
	assert_string_equal(dpd_state_names[DPD_DEAD], "DEAD");
	assert_string_equal(dpd_state_names[DPD_DISABLED], "DISABLED");
	assert_string_equal(dpd_action_names[DPD_SEND_PROBE], "SEND_PROBE");
	assert_string_equal(dpd_action_names[DPD_PEER_DEAD], "PEER_DEAD");
}

/*
 * Many SAs on the wheel, armed as the agent arms them (at next_ms after
 * every call but dpd_liveness). Peers answer after 15 ms until a third of
 * them fall silent; each silent one is declared dead within one 10 ms tick
 * after last_rx + K + N*R, and no other one is.
 */
#define NPEERS 300

struct peer {
	struct dpd         dpd;
	struct wheel_timer timer;	/* DPD */
	struct wheel_timer net;		/* the ACK on its way back */
	uint32_t           ack_seq;
	int                started, silent;
	int64_t            dead_at;
};

static struct wheel peer_wheel;

static void
peer_arm(struct peer *p)
{
	if (p->dpd.next_ms == 0)
		wheel_cancel(&p->timer);
	else if (!wheel_pending(&p->timer) || p->timer.deadline != p->dpd.next_ms)
		wheel_add(&peer_wheel, &p->timer, p->dpd.next_ms);
}

static void
peer_ack_arrives(struct wheel_timer *t, int64_t now)
{
	struct peer *p = wheel_owner(t, struct peer, net);

	dpd_ack_received(&p->dpd, p->ack_seq, now);
	peer_arm(p);
}

static void
peer_dpd_timer(struct wheel_timer *t, int64_t now)
{
	struct peer *p = wheel_owner(t, struct peer, timer);
	uint32_t seq;

	switch (dpd_timer(&p->dpd, now, &seq)) {
	case DPD_SEND_PROBE:
		if (!p->silent || now < 30 * S) {
			p->ack_seq = seq;
			wheel_add(&peer_wheel, &p->net, now + 15);
		}
		break;
	case DPD_PEER_DEAD:
		p->dead_at = now;
		break;
	case DPD_NONE:
		break;
	}
	peer_arm(p);
}

static void
test_many_peers_on_the_wheel(void **state)
{
	struct peer *peers = calloc(NPEERS, sizeof(*peers));
	struct dpd_settings s = periodic;
	int64_t now, want;
	size_t i, dead = 0;

	assert_non_null(peers);
	assert_int_equal(wheel_init(&peer_wheel, 10, 1024, 0), 0);
	for (now = 0; now <= 90 * S; now += 10) {
		for (i = 0; i < NPEERS; i++) {
			struct peer *p = &peers[i];

			if (p->started || now < (int64_t)i * 31)	/* up over 9.3 s */
				continue;
			p->started = 1;
			wheel_timer_init(&p->timer, peer_dpd_timer);
			wheel_timer_init(&p->net, peer_ack_arrives);
			p->silent = i % 3 == 0;
			s.mode = i % 2 ? DPD_MODE_PERIODIC : DPD_MODE_ON_DEMAND;
			dpd_start(&p->dpd, &s, 1, now, (uint32_t)i + 1);
			peer_arm(p);
			p->dead_at = -1;
		}
		/* on-demand SAs always have traffic for their peer */
		for (i = 0; i < NPEERS; i += 2)
			if (peers[i].started && peers[i].dpd.state == DPD_IDLE) {
				dpd_outbound(&peers[i].dpd, now);
				if (peers[i].dpd.next_ms != 0 && !wheel_pending(&peers[i].timer))
					peer_arm(&peers[i]);
			}
		wheel_advance(&peer_wheel, now);
	}
	for (i = 0; i < NPEERS; i++) {
		struct peer *p = &peers[i];

		if (!p->silent) {
			assert_int_equal(p->dead_at, -1);
			assert_int_equal(p->dpd.c.bad_sequence, 0);
			continue;
		}
		want = p->dpd.last_rx_ms + 10 * S + 5 * 2 * S;
		assert_true(p->dead_at >= want);
		assert_true(p->dead_at < want + 10);
		assert_int_equal(p->dpd.c.peer_dead, 1);
		dead++;
		wheel_cancel(&p->timer);	/* as sa_free() would */
		wheel_cancel(&p->net);
	}
	assert_int_equal(dead, NPEERS / 3);
	wheel_free(&peer_wheel);
	free(peers);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periodic_idle_tunnel),
		cmocka_unit_test(test_dead_time_is_exact),
		cmocka_unit_test(test_liveness_just_before_death),
		cmocka_unit_test(test_liveness_mid_round),
		cmocka_unit_test(test_ack_sequence),
		cmocka_unit_test(test_probe_received),
		cmocka_unit_test(test_on_demand_no_traffic),
		cmocka_unit_test(test_on_demand_traffic),
		cmocka_unit_test(test_settings_check),
		cmocka_unit_test(test_reconfigure),
		cmocka_unit_test(test_late_timer),
		cmocka_unit_test(test_sequence_wraps_skipping_zero),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_many_peers_on_the_wheel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
