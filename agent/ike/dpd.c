/*
 * Dead Peer Detection (RFC 3706) with the IOS timers of R-2: after
 * `keepalive` seconds without proof of liveness, ask R-U-THERE; ask again
 * every `retry` seconds, each time with a new sequence number; when
 * `retries` probes went unanswered, the peer is dead. The packet path only
 * stores timestamps; every decision is taken when the SA's timer fires.
 */
#include "ike/dpd.h"
#include "core/util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

const char *const dpd_mode_names[DPD_MODE__COUNT] = {
	[DPD_MODE_ON_DEMAND] = "ON_DEMAND",
	[DPD_MODE_PERIODIC] = "PERIODIC",
};
static_assert(ARRAY_LEN(dpd_mode_names) == DPD_MODE__COUNT, "mode names");

const char *const dpd_state_names[DPD_STATE__COUNT] = {
	[DPD_IDLE] = "IDLE",
	[DPD_PROBING] = "PROBING",
	[DPD_DEAD] = "DEAD",
	[DPD_DISABLED] = "DISABLED",
};
static_assert(ARRAY_LEN(dpd_state_names) == DPD_STATE__COUNT, "state names");

const char *const dpd_action_names[DPD_ACTION__COUNT] = {
	[DPD_NONE] = "NONE",
	[DPD_SEND_PROBE] = "SEND_PROBE",
	[DPD_PEER_DEAD] = "PEER_DEAD",
};
static_assert(ARRAY_LEN(dpd_action_names) == DPD_ACTION__COUNT, "action names");

const char *const dpd_probe_names[DPD_PROBE__COUNT] = {
	[DPD_PROBE_NEW] = "new",
	[DPD_PROBE_REPEAT] = "repeat",
	[DPD_PROBE_OLD] = "old",
};
static_assert(ARRAY_LEN(dpd_probe_names) == DPD_PROBE__COUNT, "probe names");

/*
 * A timer this late means the loop stalled (suspend, overload). Rather than
 * send the missed probes back to back, the round goes on from now, so each
 * probe still gets retry seconds to be answered.
 */
#define DPD_LATE_MS 1000

int
dpd_settings_check(const struct dpd_settings *s, char *why, size_t size)
{
	int rc = -1;

	if (why == NULL)
		size = 0;
	if (s->keepalive_s != 0 &&
	    (s->keepalive_s < DPD_KEEPALIVE_MIN || s->keepalive_s > DPD_KEEPALIVE_MAX)) {
		snprintf(why, size, "keepaliveSeconds must be %d-%d (got %u)",
			 DPD_KEEPALIVE_MIN, DPD_KEEPALIVE_MAX, s->keepalive_s);
		goto done;
	}
	if (s->retry_s < DPD_RETRY_MIN || s->retry_s > DPD_RETRY_MAX) {
		snprintf(why, size, "retrySeconds must be %d-%d (got %u)",
			 DPD_RETRY_MIN, DPD_RETRY_MAX, s->retry_s);
		goto done;
	}
	if (s->retries < 1 || s->retries > DPD_RETRIES_MAX) {
		snprintf(why, size, "retries must be 1-%d (got %u)", DPD_RETRIES_MAX, s->retries);
		goto done;
	}
	if ((unsigned)s->mode >= DPD_MODE__COUNT) {
		snprintf(why, size, "mode must be %s or %s (got %d)",
			 dpd_mode_names[DPD_MODE_ON_DEMAND], dpd_mode_names[DPD_MODE_PERIODIC],
			 (int)s->mode);
		goto done;
	}
	rc = 0;
done:
	return rc;
}

static int64_t
keepalive_ms(const struct dpd *d)
{
	return (int64_t)d->s.keepalive_s * 1000;
}

static int64_t
retry_ms(const struct dpd *d)
{
	return (int64_t)d->s.retry_s * 1000;
}

static int
enabled(const struct dpd *d)
{
	return d->peer_supports && d->s.keepalive_s != 0;
}

/*
 * When an idle SA must ask R-U-THERE; 0 while there is nothing to ask.
 * Periodic: keepalive seconds after the last proof of liveness, traffic or
 * not. On-demand: the same, but only once we have had something to send
 * since that proof, and not before the first such packet.
 */
static int64_t
idle_deadline(const struct dpd *d)
{
	int64_t t = d->last_rx_ms + keepalive_ms(d);

	if (d->s.mode == DPD_MODE_PERIODIC)
		return t;
	if (d->first_tx_ms <= d->last_rx_ms)
		return 0;
	return t > d->first_tx_ms ? t : d->first_tx_ms;
}

/* The next decision: a round's start, its next probe or its verdict. */
static int64_t
next_decision(const struct dpd *d)
{
	switch (d->state) {
	case DPD_IDLE:
		return idle_deadline(d);
	case DPD_PROBING:
		return d->round_ms + (int64_t)d->probes * retry_ms(d);
	default:
		return 0;
	}
}

static void
round_end(struct dpd *d)
{
	d->state = DPD_IDLE;
	d->probes = 0;
}

/* dpd_liveness only stored a time; a round it answered ends here. */
static void
catch_up(struct dpd *d)
{
	if (d->state == DPD_PROBING && d->last_rx_ms >= d->round_ms)
		round_end(d);
}

/* Proof of liveness taken off the packet path: acted on at once. */
static void
alive(struct dpd *d, int64_t now)
{
	d->last_rx_ms = now;
	if (d->state == DPD_PROBING)
		round_end(d);
	if (d->state == DPD_IDLE)
		d->next_ms = idle_deadline(d);
}

/* A new sequence number for every R-U-THERE, retransmissions included, so
 * that an ACK names the probe it answers; 0 is skipped on wrap. */
static uint32_t
seq_next(uint32_t seq)
{
	if (++seq == 0)
		seq = 1;
	return seq;
}

static uint32_t
probe_send(struct dpd *d, int64_t now)
{
	if (d->probes > 0)
		d->c.retransmissions++;
	d->probes++;
	d->c.r_u_there_sent++;
	d->seq = seq_next(d->seq);
	d->ack_pending = 1;
	d->probe_sent_ms = now;
	d->next_ms = next_decision(d);
	return d->seq;
}

void
dpd_start(struct dpd *d, const struct dpd_settings *s, int peer_supports, int64_t now,
	  uint32_t seq0)
{
	memset(d, 0, sizeof(*d));
	d->s = *s;
	d->peer_supports = peer_supports != 0;
	d->last_rx_ms = now;		/* the exchange that set the SA up */
	d->last_tx_ms = d->first_tx_ms = -1;
	d->probe_sent_ms = d->round_ms = -1;
	d->last_rtt_ms = d->last_ack_ms = -1;
	d->seq = seq0 - 1;
	d->seq0 = seq0;
	d->state = enabled(d) ? DPD_IDLE : DPD_DISABLED;
	d->next_ms = next_decision(d);
}

void
dpd_reconfigure(struct dpd *d, const struct dpd_settings *s, int64_t now)
{
	int64_t last;

	catch_up(d);
	if (d->state == DPD_PROBING) {
		/* the probe on the wire gets the new retry time from when it left */
		last = d->round_ms + ((int64_t)d->probes - 1) * retry_ms(d);
		d->s = *s;
		d->round_ms = last - ((int64_t)d->probes - 1) * retry_ms(d);
	} else
		d->s = *s;

	if (d->state == DPD_DEAD)
		return;
	if (!enabled(d)) {
		d->state = DPD_DISABLED;
		d->probes = 0;
	} else if (d->state == DPD_DISABLED)
		d->state = DPD_IDLE;
	d->next_ms = next_decision(d);
}

void
dpd_liveness(struct dpd *d, int64_t now)
{
	d->last_rx_ms = now;
}

void
dpd_outbound(struct dpd *d, int64_t now)
{
	d->last_tx_ms = now;
	if (d->first_tx_ms > d->last_rx_ms)
		return;			/* already counted since the last proof */
	d->first_tx_ms = now;
	if (d->state == DPD_IDLE && d->next_ms == 0)
		d->next_ms = idle_deadline(d);	/* on-demand wakes up */
}

enum dpd_action
dpd_timer(struct dpd *d, int64_t now, uint32_t *seq)
{
	enum dpd_action act = DPD_NONE;
	int64_t due;
	uint32_t sent;

	catch_up(d);
	due = next_decision(d);
	d->next_ms = due;
	if (due == 0 || now < due)
		goto done;

	if (d->state == DPD_PROBING && d->probes >= d->s.retries) {
		/* the last R-U-THERE went unanswered for retry seconds */
		d->state = DPD_DEAD;
		d->next_ms = 0;
		d->c.peer_dead++;
		act = DPD_PEER_DEAD;
		goto done;
	}
	if (d->state == DPD_IDLE) {
		/* keepalive seconds and not a word from the peer: ask */
		d->state = DPD_PROBING;
		d->round_ms = due;
		d->probes = 0;
	}
	if (now - due > DPD_LATE_MS)
		d->round_ms = now - (int64_t)d->probes * retry_ms(d);
	sent = probe_send(d, now);
	if (seq != NULL)
		*seq = sent;
	act = DPD_SEND_PROBE;
done:
	return act;
}

int
dpd_ack_received(struct dpd *d, uint32_t seq, int64_t now)
{
	int rc = -1;

	if (!d->ack_pending || seq != d->seq) {
		d->c.bad_sequence++;
		goto done;
	}
	d->ack_pending = 0;
	d->c.ack_received++;
	d->last_ack_ms = now;
	d->last_rtt_ms = now - d->probe_sent_ms;
	alive(d, now);
	rc = 0;
done:
	return rc;
}

/* One of the numbers our own probes carried: both directions of an
 * ISAKMP SA share its keys, so a probe of ours can be sent back at us. */
static int
ours(const struct dpd *d, uint32_t seq)
{
	uint32_t used = d->seq - d->seq0 + 1;	/* 0 before the first probe */

	return used != 0 && seq - d->seq0 < used;
}

enum dpd_probe
dpd_probe_received(struct dpd *d, uint32_t seq, int64_t now)
{
	d->c.r_u_there_received++;
	if (ours(d, seq) || (d->peer_seq_valid && seq == d->peer_seq))
		return DPD_PROBE_REPEAT;
	if (d->peer_seq_valid && (int32_t)(seq - d->peer_seq) < 0)
		return DPD_PROBE_OLD;
	d->peer_seq = seq;
	d->peer_seq_valid = 1;
	alive(d, now);
	return DPD_PROBE_NEW;
}

void
dpd_ack_sent(struct dpd *d)
{
	d->c.ack_sent++;
}

void
dpd_counters_add(struct dpd_counters *to, const struct dpd_counters *c)
{
	to->r_u_there_sent += c->r_u_there_sent;
	to->retransmissions += c->retransmissions;
	to->r_u_there_received += c->r_u_there_received;
	to->ack_sent += c->ack_sent;
	to->ack_received += c->ack_received;
	to->bad_sequence += c->bad_sequence;
	to->peer_dead += c->peer_dead;
}
