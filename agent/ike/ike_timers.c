/*
 * The engine's timers: each deadline is a timer embedded in its SA
 * or tunnel, on one timer wheel; ike_timer() advances the wheel, so the work
 * of a tick is what is due, not a walk over every SA. Expiry handlers are
 * named after their event:
 *
 *   ike_expired_retransmit()  a request of ours went unanswered (Main Mode
 *                             or Quick Mode): send again, or give up
 *   ike_expired_halfopen()    a responder SA did not authenticate in time
 *   ike_expired_dpd()         DPD's next decision is due (dpd.c decides)
 *   ike_expired_keepalive()   a NAT-T keepalive is due (RFC 3948 2.3)
 *   ike_expired_rekey()       the ISAKMP SA reached 90 % of its lifetime
 *   ike_expired_lifetime()    ... all of it
 *   ike_expired_children()    an IPsec SA pair reached its soft or hard time
 *   ike_expired_retry()       a tunnel initiates again
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdint.h>

#define IKE_TICK_MS         10		/* wheel resolution; within a tick, timers fire in
					 * deadline order to the millisecond */
#define IKE_HALFOPEN_TTL_MS 30000	/* an unfinished responder SA dies after this */
#define IKE_RETRY_FAILED_MS 10000	/* an initiation that could not start, again */

static wheel_fn ike_expired_retransmit, ike_expired_halfopen, ike_expired_dpd;
static wheel_fn ike_expired_keepalive, ike_expired_rekey, ike_expired_lifetime;
static wheel_fn ike_expired_children, ike_expired_retry;

/* ---- arming ------------------------------------------------------------------- */

void
ike_timers_init(struct ike *ike, size_t slots)
{
	if (wheel_init(&ike->wheel, IKE_TICK_MS, slots, 0) == -1)
		fatalx("IKE: cannot set up the timer wheel");
}

void
ike_timers_free(struct ike *ike)
{
	wheel_free(&ike->wheel);
}

void
ike_arm(struct ike *ike, struct wheel_timer *t, int64_t deadline)
{
	if (deadline == 0)
		wheel_cancel(t);
	else
		wheel_add(&ike->wheel, t, deadline);
}

void
ike_out_init(struct ike_out *out, struct ike_sa *sa, struct ike_qm *qm)
{
	wheel_timer_init(&out->timer, ike_expired_retransmit);
	out->sa = sa;
	out->qm = qm;
}

void
ike_sa_timers_init(struct ike_sa *sa)
{
	ike_out_init(&sa->out, sa, NULL);
	wheel_timer_init(&sa->t_halfopen, ike_expired_halfopen);
	wheel_timer_init(&sa->t_dpd, ike_expired_dpd);
	wheel_timer_init(&sa->t_keepalive, ike_expired_keepalive);
	wheel_timer_init(&sa->t_rekey, ike_expired_rekey);
	wheel_timer_init(&sa->t_expire, ike_expired_lifetime);
	if (!sa->initiator)
		ike_arm(sa->ike, &sa->t_halfopen, sa->created_ms + IKE_HALFOPEN_TTL_MS);
}

void
ike_sa_timers_cancel(struct ike_sa *sa)
{
	wheel_cancel(&sa->out.timer);
	wheel_cancel(&sa->t_halfopen);
	wheel_cancel(&sa->t_dpd);
	wheel_cancel(&sa->t_keepalive);
	wheel_cancel(&sa->t_rekey);
	wheel_cancel(&sa->t_expire);
	for (size_t i = 0; i < IKE_QM_MAX; i++) {
		if (sa->qm[i] != NULL)
			wheel_cancel(&sa->qm[i]->out.timer);
	}
}

/* The dataplane's record of the peer, taken in when DPD decides: verified
 * ESP is liveness, the first packet sent since the last proof is traffic
 * (on-demand). Nothing reached the engine per packet. */
static void
traffic_sync(struct ike_sa *sa)
{
	struct ike *ike = sa->ike;
	int64_t in, first_out;

	if (ike->dp.traffic == NULL ||
	    ike->dp.traffic(ike->dp.ctx, sa->peer_be, ike_sa_client_port(sa), &in,
				 &first_out) == -1)
		return;
	if (in > sa->dpd.last_rx_ms)
		dpd_liveness(&sa->dpd, in);
	if (first_out > sa->dpd.last_rx_ms)
		dpd_outbound(&sa->dpd, first_out);
}

int64_t
ike_sa_last_rx(const struct ike_sa *sa)
{
	const struct ike *ike = sa->ike;
	int64_t in, first_out;

	if (ike->dp.traffic != NULL &&
	    ike->dp.traffic(ike->dp.ctx, sa->peer_be, ike_sa_client_port(sa), &in,
				 &first_out) == 0 &&
	    in > sa->dpd.last_rx_ms)
		return in;
	return sa->dpd.last_rx_ms;
}

void
ike_sa_dpd_arm(struct ike_sa *sa)
{
	struct ike *ike = sa->ike;

	if (sa->state != SA_ESTABLISHED) {
		wheel_cancel(&sa->t_dpd);
		return;
	}
	if (sa->dpd.state == DPD_IDLE && sa->dpd.next_ms == 0 && ike->dp.watch != NULL) {
		/* On-demand with no traffic since the last proof: the next
		 * packet out wakes us. One that left before the watch was set
		 * is in the record: look again. */
		ike->dp.watch(ike->dp.ctx, sa->peer_be, ike_sa_client_port(sa));
		traffic_sync(sa);
	}
	ike_arm(ike, &sa->t_dpd, sa->dpd.next_ms);
}

void
ike_sa_established_timers(struct ike_sa *sa, int64_t now)
{
	struct ike *ike = sa->ike;

	wheel_cancel(&sa->t_halfopen);
	ike_sa_dpd_arm(sa);
	if (sa->nat_here && ike->conf.nat_keepalive_s > 0)
		ike_arm(ike, &sa->t_keepalive, now + (int64_t)ike->conf.nat_keepalive_s * 1000);
	/* The initiating side renegotiates at 90 % of the lifetime. */
	if (sa->initiator)
		ike_arm(ike, &sa->t_rekey, sa->established_ms + (int64_t)sa->lifetime_s * 900);
	ike_arm(ike, &sa->t_expire, sa->expire_ms);
}

void
ike_out_arm(struct ike_out *out)
{
	ike_arm(out->sa->ike, &out->timer, out->next_ms);
}

void
ike_out_done(struct ike_out *out)
{
	out->next_ms = 0;
	wheel_cancel(&out->timer);
}

void
ike_tunnel_timers_init(struct ike *ike, struct ike_tunnel *t)
{
	t->ike = ike;
	wheel_timer_init(&t->t_retry, ike_expired_retry);
	wheel_timer_init(&t->t_children, ike_expired_children);
	ike_tunnel_retry_arm(t);
	ike_tunnel_children_arm(t);
}

void
ike_tunnel_timers_cancel(struct ike_tunnel *t)
{
	wheel_cancel(&t->t_retry);
	wheel_cancel(&t->t_children);
}

void
ike_tunnel_retry_arm(struct ike_tunnel *t)
{
	ike_arm(t->ike, &t->t_retry, t->retry_ms);
}

/* A pair's next decision: its rekey if it is ours to renew, else its end. */
static int64_t
child_deadline(const struct ike_child *c)
{
	return c->initiator && !c->rekeying ? c->soft_ms : c->hard_ms;
}

/* A soft deadline that passed without a rekey (the tunnel had no
 * established SA then) is looked at again a second later, not spun on. */
#define IKE_CHILD_RECHECK_MS 1000

void
ike_tunnel_children_arm(struct ike_tunnel *t)
{
	int64_t next = 0, floor = t->ike->wheel.now + IKE_CHILD_RECHECK_MS;

	for (size_t k = 0; k < t->nchildren; k++) {
		const struct ike_child *c = &t->children[k];
		int64_t d = child_deadline(c);

		if (c->initiator && !c->rekeying && d <= t->ike->wheel.now)
			d = floor < c->hard_ms ? floor : c->hard_ms;
		if (next == 0 || d < next)
			next = d;
	}
	ike_arm(t->ike, &t->t_children, next);
}

/* ---- the clock ------------------------------------------------------------------ */

int64_t
ike_timer(struct ike *ike, int64_t now)
{
	int64_t next;

	wheel_advance(&ike->wheel, now);
	next = wheel_next_deadline(&ike->wheel);
	return next == INT64_MAX ? 0 : next;
}

/* ---- expiry ---------------------------------------------------------------------- */

/* The SA goes; its tunnel with it (why) when it is the tunnel's current
 * SA, else the SA alone (the peer told or not). */
static void
sa_gone(struct ike_sa *sa, enum ike_down why, enum ike_tell tell, int64_t now)
{
	if (sa->tunnel != NULL && sa->tunnel->sa == sa)
		ike_tunnel_down(sa->ike, sa->tunnel, why, now);
	else
		ike_sa_delete(sa, tell, now);
}

static void
sa_failed(struct ike_sa *sa, const char *why, int64_t now)
{
	char ip[16];

	ike_count_failure(sa, IKE_FAIL_TIMEOUT);
	log_warnx("ISAKMP: peer %s: %s in state %s; deleting SA", ipv4_str(sa->peer_be, ip), why,
		  ike_sa_state_names[sa->state]);
	sa_gone(sa, IKE_DOWN_NEGOTIATION, IKE_QUIET, now);
}

static void
ike_expired_retransmit(struct wheel_timer *tm, int64_t now)
{
	struct ike_out *o = wheel_owner(tm, struct ike_out, timer);
	struct ike_sa *sa = o->sa;
	struct ike *ike = sa->ike;

	if (o->tries + 1 >= ike->conf.retransmit_tries) {
		if (o->qm != NULL && ike_qm_expired(sa, o->qm) == 0)
			return;		/* an answer nobody confirmed: dropped */
		sa_failed(sa, o->qm != NULL ? "Quick Mode got no answer" :
			  "no answer after retransmissions", now);
		return;
	}
	o->tries++;
	o->next_ms = now + ((int64_t)ike->conf.retransmit_ms << o->tries);
	ike_resend(sa, o);
	ike_out_arm(o);
}

static void
ike_expired_halfopen(struct wheel_timer *tm, int64_t now)
{
	struct ike_sa *sa = wheel_owner(tm, struct ike_sa, t_halfopen);

	if (sa->state != SA_ESTABLISHED)
		ike_sa_delete(sa, IKE_QUIET, now);
}

static void
peer_dead(struct ike_sa *sa, int64_t now)
{
	struct ike_tunnel *t = sa->tunnel;
	char peer[PEER_STR_LEN];

	log_info("ISAKMP: peer %s not responding! (%u DPD probes unanswered)",
		 peer_str(sa->peer_be, ike_sa_client_port(sa), peer), sa->dpd.s.retries);
	if (t != NULL) {
		int p = ike_tunnel_peer(t, sa->peer_be);

		if (p >= 0) {
			t->ps[p].dead_ms = now;
			t->ps[p].dead_last_rx_ms = sa->dpd.last_rx_ms;
		}
	}
	sa_gone(sa, IKE_DOWN_DPD, IKE_QUIET, now);
}

static void
ike_expired_dpd(struct wheel_timer *tm, int64_t now)
{
	struct ike_sa *sa = wheel_owner(tm, struct ike_sa, t_dpd);
	uint32_t seq, be;

	if (sa->state != SA_ESTABLISHED)
		return;
	traffic_sync(sa);
	switch (dpd_timer(&sa->dpd, now, &seq)) {
	case DPD_SEND_PROBE:
		be = htonl(seq);
		ike_info_send_notify(sa, IKE_N_R_U_THERE, &be, sizeof(be), now);
		break;
	case DPD_PEER_DEAD:
		peer_dead(sa, now);
		return;
	case DPD_NONE:
		break;
	}
	ike_sa_dpd_arm(sa);
}

static void
ike_expired_keepalive(struct wheel_timer *tm, int64_t now)
{
	static const uint8_t ka = IKE_NATT_KEEPALIVE;
	struct ike_sa *sa = wheel_owner(tm, struct ike_sa, t_keepalive);
	struct ike *ike = sa->ike;

	/* RFC 3948 2.3: behind a NAT we keep its mapping alive. */
	if (sa->state != SA_ESTABLISHED || !sa->nat_here || ike->conf.nat_keepalive_s == 0)
		return;
	ike->tr.send(ike->tr.ctx, sa->local_port, sa->peer_be, sa->peer_port, &ka, 1);
	ike->st.nat_keepalives++;
	ike_arm(ike, &sa->t_keepalive, now + (int64_t)ike->conf.nat_keepalive_s * 1000);
}

/* The old SA lives on until the new one is up (make before break). */
static void
ike_expired_rekey(struct wheel_timer *tm, int64_t now)
{
	struct ike_sa *sa = wheel_owner(tm, struct ike_sa, t_rekey);
	char ip[16];

	if (sa->state != SA_ESTABLISHED || sa->rekeying || sa->tunnel == NULL ||
	    sa->tunnel->sa != sa)
		return;
	sa->rekeying = 1;
	log_info("ISAKMP: rekeying the SA with %s", ipv4_str(sa->peer_be, ip));
	if (ike_mm_initiate(sa->ike, sa->tunnel, now) == -1)
		sa->tunnel->sa = sa;
}

static void
ike_expired_lifetime(struct wheel_timer *tm, int64_t now)
{
	struct ike_sa *sa = wheel_owner(tm, struct ike_sa, t_expire);
	char ip[16];

	if (sa->refused)
		log_info("ISAKMP: SA with %s deleted: no crypto map names the peer and no dynamic "
			 "crypto map takes it", ipv4_str(sa->peer_be, ip));
	else
		log_info("ISAKMP: SA with %s reached its lifetime", ipv4_str(sa->peer_be, ip));
	sa_gone(sa, IKE_DOWN_ENDED, IKE_TELL_PEER, now);
}

/* IPsec SA pairs: rekeyed at the soft deadline (by the side that set them
 * up), deleted at the hard one. */
static void
ike_expired_children(struct wheel_timer *tm, int64_t now)
{
	struct ike_tunnel *t = wheel_owner(tm, struct ike_tunnel, t_children);
	struct ike *ike = t->ike;
	char ip[16];

	for (size_t k = t->nchildren; k-- > 0;) {
		struct ike_child *c = &t->children[k];

		if (now >= c->hard_ms) {
			log_info(c->rekeying ? "IPSEC: SA 0x%08x with %s replaced by its rekey" :
				 "IPSEC: SA 0x%08x with %s reached its lifetime",
				 c->sa.spi_in, ipv4_str(c->sa.peer_be, ip));
			ike_child_remove(ike, t, k, IKE_TELL_PEER, now);
			if (t->nchildren == 0 && t->sa != NULL && t->sa->state == SA_ESTABLISHED &&
			    t->sa->initiator && !ike->conf.no_child_rekey)
				ike_qm_initiate(t->sa, now);
			continue;
		}
		if (c->initiator && !c->rekeying && now >= c->soft_ms && t->sa != NULL &&
		    !ike->conf.no_child_rekey && t->sa->state == SA_ESTABLISHED) {
			c->rekeying = 1;
			ike_qm_initiate(t->sa, now);
		}
	}
	ike_tunnel_children_arm(t);
}

static void
ike_expired_retry(struct wheel_timer *tm, int64_t now)
{
	struct ike_tunnel *t = wheel_owner(tm, struct ike_tunnel, t_retry);

	if (t->client != NULL) {	/* a client's: its SA is up, start with it */
		t->retry_ms = 0;
		if (t->sa != NULL && t->sa->state == SA_ESTABLISHED)
			ike_cfg_start(t->client, now);
		return;
	}
	if (t->sa != NULL)
		return;		/* armed again when that SA goes */
	t->retry_ms = 0;
	if (ike_mm_initiate(t->ike, t, now) == -1) {
		t->retry_ms = now + IKE_RETRY_FAILED_MS;
		ike_tunnel_retry_arm(t);
	}
}
