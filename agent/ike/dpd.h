/*
 * Dead Peer Detection (RFC 3706) with Cisco IOS semantics, as a pure
 * state machine per IKE SA: every decision takes `now` (monotonic ms) so
 * tests drive a fake clock. Liveness on the packet path is one timestamp
 * store; the timer decides when it fires.
 *
 * Timer entry points, named after events:
 *   dpd_liveness()      authenticated IKE message or verified ESP from the peer
 *   dpd_outbound()      we sent (or want to send) traffic to the peer (on-demand)
 *   dpd_timer()         the deadline in dpd->next_ms has come
 *   dpd_ack_received()  R-U-THERE-ACK arrived
 *   dpd_probe_received() R-U-THERE arrived (always answered by the caller)
 *
 * The caller owns one timer per SA. After every call except dpd_liveness
 * it arms the timer at next_ms (cancels it when 0); after dpd_outbound
 * only if next_ms is set and no timer is pending (that is how on-demand
 * DPD wakes up). dpd_liveness never needs a re-arm: it only stores `now`,
 * and the timer already armed finds the news when it fires. So next_ms is
 * never later than the next decision, and a call to dpd_timer before it
 * sends and declares nothing: it only brings next_ms (and a round that
 * dpd_liveness answered) up to date.
 */
#ifndef IKE_DPD_H
#define IKE_DPD_H

#include <stddef.h>
#include <stdint.h>

#include "core/dpd_range.h"

enum dpd_mode { DPD_MODE_ON_DEMAND, DPD_MODE_PERIODIC, DPD_MODE__COUNT };
extern const char *const dpd_mode_names[DPD_MODE__COUNT];	/* "ON_DEMAND", "PERIODIC" */

struct dpd_settings {
	unsigned      keepalive_s;	/* 10..3600; 0 = DPD off */
	unsigned      retry_s;		/* 2..60, default 2 */
	unsigned      retries;		/* probes before dead, default 5 */
	enum dpd_mode mode;		/* default on-demand */
};

/* Checks ranges; on error fills why (naming the field) and returns -1. */
int dpd_settings_check(const struct dpd_settings *s, char *why, size_t size);

enum dpd_state { DPD_IDLE, DPD_PROBING, DPD_DEAD, DPD_DISABLED };
#define DPD_STATE__COUNT (DPD_DISABLED + 1)
extern const char *const dpd_state_names[DPD_STATE__COUNT];	/* "IDLE", "PROBING", … */

struct dpd_counters {
	uint64_t r_u_there_sent;	/* every probe, retransmissions included */
	uint64_t retransmissions;	/* probes after the first of a round */
	uint64_t r_u_there_received;
	uint64_t ack_sent;
	uint64_t ack_received;		/* accepted ACKs */
	uint64_t bad_sequence;		/* ACKs with an unexpected sequence number */
	uint64_t peer_dead;
};

struct dpd {
	struct dpd_settings s;
	enum dpd_state      state;
	int64_t             last_rx_ms;		/* last proof of liveness */
	int64_t             last_tx_ms;		/* last outbound traffic (on-demand) */
	int64_t             probe_sent_ms;	/* when the last probe was sent (RTT) */
	int64_t             next_ms;		/* when dpd_timer wants to run; 0 = never */
	uint32_t            seq;		/* last sequence number sent */
	uint32_t            seq0;		/* our first one: ours are seq0..seq */
	uint32_t            peer_seq;		/* last R-U-THERE sequence accepted */
	int                 peer_seq_valid;	/* peer_seq holds one */
	unsigned            probes;		/* probes sent in this round */
	int64_t             last_rtt_ms;	/* -1 until an ACK was accepted */
	int64_t             last_ack_ms;
	struct dpd_counters c;
	int64_t             round_ms;		/* when this round's first probe was due */
	int64_t             first_tx_ms;	/* first outbound after last_rx_ms, if > it */
	int                 ack_pending;	/* seq was sent and not yet acknowledged */
	int                 peer_supports;	/* the peer sent the DPD vendor id */
};

/* Starts DPD on an established SA. `peer_supports` is whether the peer
 * sent the DPD vendor id; without it DPD stays disabled.
 * seq0 is a random start (MSB clear, non-zero), as RFC 3706 asks; the first
 * R-U-THERE carries it. Everything, counters included, starts afresh; the
 * settings must have passed dpd_settings_check. */
void dpd_start(struct dpd *d, const struct dpd_settings *s, int peer_supports, int64_t now,
	       uint32_t seq0);
/* New settings take effect from now (keeps counters and the round state):
 * an idle SA is re-armed at last_rx + the new keepalive; a round in progress
 * gives its last probe the new retry time and then follows the new retry
 * and retries (with retries now at or below the probes sent, the peer is dead
 * when that last probe has had the new retry time).
 * keepalive 0 disables DPD; a non-zero one re-enables it if the peer can. */
void dpd_reconfigure(struct dpd *d, const struct dpd_settings *s, int64_t now);

/* The packet path, O(1), no timer touched. dpd_liveness is an
 * authenticated IKE message or a verified ESP packet (not a DPD notify:
 * those go to the two functions below). It only stores `now`: an idle SA is
 * re-armed at last_rx + keepalive when its timer fires, and a round in
 * progress ends at the next dpd_timer call (at most retry_s later), so
 * liveness before the dead deadline always prevents death. (With retry_s
 * above keepalive_s the next round may then start up to their difference
 * late; dpd_ack_received and dpd_probe_received end a round at once.)
 * dpd_outbound feeds on-demand DPD: it notes the first packet for the peer
 * after the last proof of liveness (one in the same millisecond as that
 * proof does not count). */
void dpd_liveness(struct dpd *d, int64_t now);
void dpd_outbound(struct dpd *d, int64_t now);

enum dpd_action { DPD_NONE, DPD_SEND_PROBE, DPD_PEER_DEAD };
#define DPD_ACTION__COUNT (DPD_PEER_DEAD + 1)
extern const char *const dpd_action_names[DPD_ACTION__COUNT];
/* Runs the timer: DPD_SEND_PROBE with *seq to put in R-U-THERE,
 * DPD_PEER_DEAD once `retries` probes went unanswered for retry_s each
 * (dead exactly at last_rx + keepalive + retries * retry). Updates next_ms.
 * A round starts when it was due: periodic at last_rx + keepalive; on-demand
 * at max(last_rx + keepalive, first outbound after last_rx), never without
 * outbound traffic. Probe i (0-based) is due at start + i * retry, death at
 * start + retries * retry, each on the ms even when the timer runs a little
 * late; a timer more than a second late restarts the schedule from now. */
enum dpd_action dpd_timer(struct dpd *d, int64_t now, uint32_t *seq);

/* 0 when seq is that of the last R-U-THERE sent and not yet acknowledged
 * (liveness, RTT from that probe); -1 otherwise, counted as bad_sequence:
 * ACKs of older probes and duplicate ACKs prove nothing. */
int  dpd_ack_received(struct dpd *d, uint32_t seq, int64_t now);
/* What an R-U-THERE's sequence number says (RFC 3706 7, R-13.2). */
enum dpd_probe {
	DPD_PROBE_NEW,		/* newer than the last accepted (or the first):
				 * proof of liveness; answer it */
	DPD_PROBE_REPEAT,	/* the last accepted again (a retransmission, as
				 * strongSwan repeats a probe until it is ACKed), or
				 * one of our own numbers sent back at us: answer, no news */
	DPD_PROBE_OLD,		/* older than the last accepted: a replay, not answered */
};
#define DPD_PROBE__COUNT (DPD_PROBE_OLD + 1)
extern const char *const dpd_probe_names[DPD_PROBE__COUNT];	/* "new", "repeat", "old" */
/* Counts the probe and classifies it; liveness (and the end of a round)
 * only for DPD_PROBE_NEW. "Newer" is serial-number arithmetic (RFC 1982)
 * over the 32-bit space. The caller answers NEW and REPEAT with an ACK
 * carrying the same seq (and counts it with dpd_ack_sent). */
enum dpd_probe dpd_probe_received(struct dpd *d, uint32_t seq, int64_t now);
void dpd_ack_sent(struct dpd *d);
/* Adds counters c into to (an SA's totals into its tunnel's). */
void dpd_counters_add(struct dpd_counters *to, const struct dpd_counters *c);

#endif
