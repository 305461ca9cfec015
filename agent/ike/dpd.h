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
 */
#ifndef IKE_DPD_H
#define IKE_DPD_H

#include <stddef.h>
#include <stdint.h>

enum dpd_mode { DPD_MODE_ON_DEMAND, DPD_MODE_PERIODIC, DPD_MODE__COUNT };
extern const char *const dpd_mode_names[DPD_MODE__COUNT];	/* "ON_DEMAND", "PERIODIC" */

#define DPD_KEEPALIVE_MIN 10
#define DPD_KEEPALIVE_MAX 3600
#define DPD_RETRY_MIN     2
#define DPD_RETRY_MAX     60
#define DPD_RETRY_DEFAULT 2
#define DPD_RETRIES_DEFAULT 5
#define DPD_RETRIES_MAX   10

struct dpd_settings {
	unsigned      keepalive_s;	/* 10..3600; 0 = DPD off */
	unsigned      retry_s;		/* 2..60, default 2 */
	unsigned      retries;		/* probes before dead, default 5 */
	enum dpd_mode mode;		/* default on-demand */
};

/* Checks ranges; on error fills why (naming the field) and returns -1. */
int dpd_settings_check(const struct dpd_settings *s, char *why, size_t size);

enum dpd_state { DPD_IDLE, DPD_PROBING, DPD_DEAD, DPD_DISABLED };

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
	int64_t             probe_sent_ms;	/* first probe of the round (for RTT: last probe) */
	int64_t             next_ms;		/* when dpd_timer wants to run; 0 = never */
	uint32_t            seq;		/* last sequence number sent */
	uint32_t            peer_seq;		/* last R-U-THERE sequence seen */
	unsigned            probes;		/* probes sent in this round */
	int64_t             last_rtt_ms;	/* -1 until an ACK was accepted */
	int64_t             last_ack_ms;
	struct dpd_counters c;
};

/* Starts DPD on an established SA. `peer_supports` is whether the peer
 * sent the DPD vendor id; without it DPD stays disabled.
 * seq0 is a random start (MSB clear, non-zero), as RFC 3706 asks. */
void dpd_start(struct dpd *d, const struct dpd_settings *s, int peer_supports, int64_t now,
	       uint32_t seq0);
/* New settings take effect from now (keeps counters and the round state). */
void dpd_reconfigure(struct dpd *d, const struct dpd_settings *s, int64_t now);

void dpd_liveness(struct dpd *d, int64_t now);
void dpd_outbound(struct dpd *d, int64_t now);

enum dpd_action { DPD_NONE, DPD_SEND_PROBE, DPD_PEER_DEAD };
/* Runs the timer: DPD_SEND_PROBE with *seq to put in R-U-THERE,
 * DPD_PEER_DEAD once `retries` probes went unanswered for retry_s each
 * (dead exactly at last_rx + keepalive + retries * retry). Updates next_ms. */
enum dpd_action dpd_timer(struct dpd *d, int64_t now, uint32_t *seq);

/* 0 when seq is the one expected (liveness, RTT), -1 otherwise (counted). */
int  dpd_ack_received(struct dpd *d, uint32_t seq, int64_t now);
/* Counts the probe; it is proof of liveness only with a new sequence. The
 * caller always answers with an ACK carrying the same seq (and counts it
 * with dpd_ack_sent). */
void dpd_probe_received(struct dpd *d, uint32_t seq, int64_t now);
void dpd_ack_sent(struct dpd *d);

#endif
