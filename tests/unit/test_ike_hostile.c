/*
 * The engine on a hostile network (SPEC R-13), two or three engines on the
 * fake wire of ike_sim.c and an attacker who can send anything from any
 * address and port and replay whatever crossed the wire: a spoofed Phase 1
 * packet, replayed and reflected DPD, a replayed Quick Mode, a forged port,
 * a half-open flood, a Delete for another peer's SA, an unencrypted MM5.
 * After each attack the honest peers must still work, to the millisecond.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ike_sim.h"

/* ---- what crossed the wire ----------------------------------------------------- */

#define CAPS_MAX 64

static struct pkt caps[CAPS_MAX];
static size_t     ncaps;
static int        cap_from = -1, cap_exchange, cap_drop;

/* Records packets of one sender and exchange type; cap_drop loses them. */
static int
tap(const struct pkt *p)
{
	if (peer_of(p->src_be) != cap_from || p->len < IKE_HDR_LEN || p->data[18] != cap_exchange)
		return 0;
	if (ncaps < CAPS_MAX)
		caps[ncaps++] = *p;
	return cap_drop;
}

static void
capture(int from, int exchange, int drop)
{
	ncaps = 0;
	cap_from = from;
	cap_exchange = exchange;
	cap_drop = drop;
	sim_tap = tap;
}

/* The attacker: msg from any address and port. */
static void
inject_from(int to, uint32_t src_be, uint16_t sport, uint16_t dport, const uint8_t *msg,
	    size_t len)
{
	ike_input(peers[to].ike, dport, src_be, sport, msg, len, now_ms);
	deliver();
}

/* ... from the address of peer `as`. */
static void
inject(int to, int as, uint16_t sport, uint16_t dport, const uint8_t *msg, size_t len)
{
	inject_from(to, peers[as].addr_be, sport, dport, msg, len);
}

static void
replay(int to, const struct pkt *p)
{
	inject(to, peer_of(p->src_be), p->sport, p->dport, p->data, p->len);
}

/* An ISAKMP header with the SA's cookies, then len bytes of body. */
static size_t
forge(uint8_t *out, const struct ike_sa *sa, uint8_t np, uint8_t exchange, uint8_t flags,
      uint32_t msgid, const uint8_t *body, size_t len)
{
	uint32_t be = htonl(msgid), total = htonl((uint32_t)(IKE_HDR_LEN + len));

	memcpy(out, sa->icookie, 8);
	memcpy(out + 8, sa->rcookie, 8);
	out[16] = np;
	out[17] = IKE_VERSION;
	out[18] = exchange;
	out[19] = flags;
	memcpy(out + 20, &be, 4);
	memcpy(out + 24, &total, 4);
	memcpy(out + IKE_HDR_LEN, body, len);
	return IKE_HDR_LEN + len;
}

static struct ike_sa *
sa_with(int i, int peer)
{
	for (struct ike_sa *sa = peers[i].ike->sas; sa != NULL; sa = sa->next) {
		if (sa->peer_be == peers[peer].addr_be && sa->state == SA_ESTABLISHED)
			return sa;
	}
	return NULL;
}

static uint64_t
dropped(int i, enum ike_drop why)
{
	return peers[i].ike->st.drops[why];
}

/* A DPD round each way works and the tunnel never went down. */
static void
assert_healthy(void)
{
	struct ike_sa *a = established_sa(0), *b = established_sa(1);
	uint64_t acks_a, acks_b;

	assert_non_null(a);
	assert_non_null(b);
	acks_a = a->dpd.c.ack_received;
	acks_b = b->dpd.c.ack_received + b->dpd.c.r_u_there_received;
	run_until(now_ms + 25000);
	assert_ptr_equal(established_sa(0), a);
	assert_ptr_equal(established_sa(1), b);
	assert_true(a->dpd.c.ack_received > acks_a || b->dpd.c.ack_received > acks_b);
	assert_true(b->dpd.c.ack_received + b->dpd.c.r_u_there_received > acks_b);
	assert_int_equal(peers[0].ike->tunnels[0].transitions_down, 0);
	assert_int_equal(peers[1].ike->tunnels[0].transitions_down, 0);
	assert_int_equal(a->dpd.c.peer_dead + b->dpd.c.peer_dead, 0);
}

/* ---- nothing unauthenticated changes state ------------------------------ */

/* Defect 1: a Main Mode packet flagged encrypted, with an established SA's
 * cookies, moved the Phase 1 IV before anything was checked; every later
 * Phase 2 IV derives from it, so DPD stopped decrypting on both sides. */
static void
test_spoofed_main_mode_keeps_iv(void **state)
{
	uint8_t junk[16], msg[64], iv[IKE_BLOCK];
	struct ike_sa *b;
	size_t len;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	b = established_sa(1);
	assert_non_null(b);
	memcpy(iv, b->iv, sizeof(iv));
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	len = forge(msg, b, 0, IKE_XCHG_ID_PROT, IKE_FLAG_ENCRYPTION, 0, junk, sizeof(junk));
	inject(1, 0, b->peer_port, b->local_port, msg, len);
	inject(0, 1, b->local_port, b->peer_port, msg, len);	/* and at the initiator */
	assert_memory_equal(b->iv, iv, sizeof(iv));
	assert_memory_equal(established_sa(0)->iv, iv, sizeof(iv));
	assert_int_equal(dropped(1, IKE_DROP_UNEXPECTED), 1);
	assert_int_equal(dropped(0, IKE_DROP_UNEXPECTED), 1);
	assert_healthy();
}

/* MM5 must come encrypted: the initiator's own MM5, decrypted and sent in
 * clear (as a peer that skips the encryption flag would), is refused. */
static void
test_clear_mm5_refused(void **state)
{
	uint8_t body[IKE_MSG_MAX], iv[IKE_BLOCK], msg[IKE_MSG_MAX];
	struct ike_chain c;
	struct ike_sa *b;
	size_t blen, end;
	uint32_t total;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	capture(0, IKE_XCHG_ID_PROT, 1);	/* A's Main Mode messages, lost... */
	run_until(now_ms + 1);
	assert_int_equal(ncaps, 1);
	replay(1, &caps[0]);			/* ...but MM1 and MM3 reach B */
	assert_int_equal(ncaps, 2);
	replay(1, &caps[1]);
	assert_int_equal(ncaps, 3);		/* MM5 held */
	sim_tap = NULL;
	b = peers[1].ike->sas;
	assert_int_equal(b->state, SA_MM_R2);
	blen = caps[2].len - IKE_HDR_LEN;
	memcpy(body, caps[2].data + IKE_HDR_LEN, blen);
	memcpy(iv, b->iv, sizeof(iv));
	assert_int_equal(ike_decrypt_body(b, body, blen, iv), (long)blen);
	assert_int_equal(ike_chain_parse(caps[2].data[16], body, blen, 1, &c), 0);
	end = ike_chain_end(&c);
	memcpy(msg, caps[2].data, IKE_HDR_LEN);
	msg[19] &= (uint8_t)~IKE_FLAG_ENCRYPTION;
	total = htonl((uint32_t)(IKE_HDR_LEN + end));
	memcpy(msg + 24, &total, 4);
	memcpy(msg + IKE_HDR_LEN, body, end);
	inject(1, 0, caps[2].sport, caps[2].dport, msg, IKE_HDR_LEN + end);
	assert_int_equal(b->state, SA_MM_R2);
	assert_true(dropped(1, IKE_DROP_UNEXPECTED) >= 1);
	/* the real, encrypted MM5 still establishes */
	replay(1, &caps[2]);
	assert_int_equal(b->state, SA_ESTABLISHED);
	run_until(now_ms + 100);
	assert_non_null(established_sa(0));
	assert_true(peers[0].ike->tunnels[0].up);
}

/* ---- no replay is accepted ---------------------------------------------- */

/* Defect 2: B's old R-U-THEREs, replayed in turn after B died, kept it
 * alive. It must be declared dead at its last real sign of life +
 * keepalive + retries x retry, to the millisecond. */
static void
test_replayed_dpd_does_not_keep_dead_peer_alive(void **state)
{
	struct ike_sa *a;
	int64_t last_rx, dead_at;
	size_t n, k = 0;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	capture(1, IKE_XCHG_INFORMATIONAL, 0);
	run_until(now_ms + 12000);		/* a DPD round both ways */
	run_until(now_ms + 12000);
	sim_tap = NULL;
	n = ncaps;
	assert_true(n >= 2);
	a = established_sa(0);
	last_rx = a->dpd.last_rx_ms;
	dead_at = last_rx + 10000 + 5 * 2000;
	peers[1].frozen = 1;
	while (now_ms < dead_at - 1) {
		replay(0, &caps[k++ % n]);
		run_until(now_ms + 1500 < dead_at - 1 ? now_ms + 1500 : dead_at - 1);
	}
	assert_non_null(established_sa(0));	/* not a millisecond early */
	run_until(dead_at);
	assert_null(established_sa(0));
	assert_int_equal(peers[0].ike->tunnels[0].ps[0].dead_ms, dead_at);
	assert_int_equal(peers[0].ike->tunnels[0].ps[0].dead_last_rx_ms, last_rx);
	assert_true(dropped(0, IKE_DROP_REPLAY) >= k - 1);
}

/* Both directions of an ISAKMP SA share its keys: A's own R-U-THERE, sent
 * back at A as if from B, authenticates. It must not be liveness. */
static void
test_reflected_dpd_is_not_liveness(void **state)
{
	struct ike_sa *a;
	int64_t last_rx;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	capture(0, IKE_XCHG_INFORMATIONAL, 0);
	run_until(now_ms + 12000);
	sim_tap = NULL;
	assert_true(ncaps >= 1);
	a = established_sa(0);
	peers[1].frozen = 1;
	last_rx = a->dpd.last_rx_ms;
	for (size_t i = 0; i < ncaps; i++)
		inject(0, 1, caps[i].dport, caps[i].sport, caps[i].data, caps[i].len);
	assert_int_equal(a->dpd.last_rx_ms, last_rx);
	assert_true(dropped(0, IKE_DROP_REPLAY) >= ncaps);
	/* even once its message ID has left A's memory: our own numbers */
	memset(&a->seen_out, 0, sizeof(a->seen_out));
	for (size_t i = 0; i < ncaps; i++)
		inject(0, 1, caps[i].dport, caps[i].sport, caps[i].data, caps[i].len);
	assert_int_equal(a->dpd.last_rx_ms, last_rx);
	run_until(last_rx + 20000);
	assert_null(established_sa(0));
}

/* An authentic R-U-THERE with a fresh message ID but an old sequence
 * number (RFC 3706 7) is a replay: not answered, not liveness. */
static void
test_old_dpd_sequence_refused(void **state)
{
	struct ike_sa *a, *b;
	uint32_t old;
	uint64_t acks;
	int64_t last_rx;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	run_until(now_ms + 12000);
	a = established_sa(0);
	b = established_sa(1);
	assert_true(a->dpd.peer_seq_valid);
	old = htonl(a->dpd.peer_seq - 1);
	acks = a->dpd.c.ack_sent;
	last_rx = a->dpd.last_rx_ms;
	now_ms += 10;
	ike_info_send_notify(b, IKE_N_R_U_THERE, &old, sizeof(old), now_ms);
	deliver();
	assert_int_equal(a->dpd.c.ack_sent, acks);
	assert_int_equal(a->dpd.last_rx_ms, last_rx);
	assert_int_equal(dropped(0, IKE_DROP_REPLAY), 1);
	/* the same sequence again is a retransmission: answered, no news */
	old = htonl(a->dpd.peer_seq);
	ike_info_send_notify(b, IKE_N_R_U_THERE, &old, sizeof(old), now_ms);
	deliver();
	assert_int_equal(a->dpd.c.ack_sent, acks + 1);
	assert_int_equal(a->dpd.last_rx_ms, last_rx);
}

/* Defect 3: a replayed QM1 after a child rekey was answered (its slot
 * and message ID forgotten) and the unanswered exchange then failed the
 * whole ISAKMP SA. */
static void
test_replayed_quick_mode_dropped(void **state)
{
	struct ike_sa *a, *b;
	struct pkt qm1;
	uint64_t sent;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	capture(0, IKE_XCHG_QUICK, 0);
	run_until(now_ms + 100);
	assert_true(ncaps >= 1);
	qm1 = caps[0];
	sim_tap = NULL;
	a = established_sa(0);
	sent = peers[1].sent;
	replay(1, &qm1);			/* its exchange is done, its slot kept */
	assert_int_equal(peers[1].sent, sent);
	assert_int_equal(dropped(1, IKE_DROP_REPLAY), 1);
	for (int r = 0; r < 5; r++) {		/* rekeys reuse every slot */
		for (size_t k = 0; k < peers[0].ike->tunnels[0].nchildren; k++)
			peers[0].ike->tunnels[0].children[k].rekeying = 1;
		assert_int_equal(ike_qm_initiate(a, now_ms), 0);
		run_until(now_ms + 100);
	}
	sent = peers[1].sent;
	replay(1, &qm1);
	assert_int_equal(peers[1].sent, sent);	/* not answered */
	assert_int_equal(dropped(1, IKE_DROP_REPLAY), 2);
	run_until(now_ms + 70000);
	assert_non_null(established_sa(1));
	assert_int_equal(peers[1].ike->tunnels[0].transitions_down, 0);

	/* Once its ID has left B's memory it is answered, where it came from,
	 * and abandoned when no HASH(3) follows: the tunnel lives on. */
	b = established_sa(1);
	memset(&b->seen_in, 0, sizeof(b->seen_in));
	inject(1, 0, 9, qm1.dport, qm1.data, qm1.len);
	assert_int_equal(b->peer_port, qm1.sport);
	run_until(now_ms + 70000);
	assert_ptr_equal(established_sa(1), b);
	assert_int_equal(peers[1].ike->tunnels[0].transitions_down, 0);
	assert_healthy();
}

/* ---- ports move only with authenticated, new messages --------------------- */

/* Defect 4: any packet with the SA's cookies from the peer's address
 * moved the SA's peer port (and floated it to 4500). */
static void
test_forged_port_does_not_move_sa(void **state)
{
	uint8_t junk[32], msg[96];
	struct ike_sa *a, *b;
	size_t len;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	capture(0, IKE_XCHG_INFORMATIONAL, 0);
	run_until(now_ms + 100);
	run_until(now_ms + 12000);
	sim_tap = NULL;
	b = established_sa(1);
	assert_int_equal(b->peer_port, IKE_PORT);
	memset(junk, 0x5a, sizeof(junk));
	len = forge(msg, b, IKE_PL_HASH, IKE_XCHG_INFORMATIONAL, IKE_FLAG_ENCRYPTION, 0x1234567,
		    junk, sizeof(junk));
	inject(1, 0, 9, IKE_PORT, msg, len);
	inject(1, 0, 9, IKE_NATT_PORT, msg, len);
	assert_int_equal(b->peer_port, IKE_PORT);
	assert_int_equal(b->local_port, IKE_PORT);
	assert_false(b->floated);
	/* an authentic but replayed message from elsewhere moves nothing */
	for (size_t i = 0; i < ncaps; i++)
		inject(1, 0, 9, IKE_NATT_PORT, caps[i].data, caps[i].len);
	assert_int_equal(b->peer_port, IKE_PORT);
	assert_int_equal(b->local_port, IKE_PORT);
	assert_healthy();

	/* A real NAT in front of A now gives it port 40000: A's next probe
	 * is new and authentic, and B follows it there. */
	a = established_sa(0);
	nat_port[0] = 40000;
	run_until(now_ms + 12000);
	assert_int_equal(b->peer_port, 40000);
	assert_ptr_equal(established_sa(0), a);
	assert_healthy();
}

/* ---- a bounded responder -------------------------------------------------- */

/* A Main Mode message 1 B accepts: AES-128, SHA-256, PSK, group 14. */
static size_t
mm1(uint8_t *out, size_t cap, uint32_t seed, int group)
{
	struct ike_xf_spec xf = { .id = IKE_XFORM_KEY_IKE, .nattrs = 7,
				  .attrs = { { IKE_ATTR_ENCRYPTION, IKE_ENC_AES_CBC },
					     { IKE_ATTR_KEY_LENGTH, 128 },
					     { IKE_ATTR_HASH, IKE_HASH_SHA256_ID },
					     { IKE_ATTR_AUTH, IKE_AUTH_PSK },
					     { IKE_ATTR_GROUP, (uint32_t)group },
					     { IKE_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS },
					     { IKE_ATTR_LIFE_DURATION, 86400 } } };
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	size_t len;

	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, &seed, sizeof(seed));
	h.icookie[7] = 0x77;
	h.version = IKE_VERSION;
	h.exchange = IKE_XCHG_ID_PROT;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, &xf, 1);
	len = ike_build_finish(&b);
	assert_true(len > 0 && len <= cap);
	memcpy(out, w.p, len);
	wbuf_free(&w);
	return len;
}

static size_t replies_to_spoofed;

static int
count_spoofed(const struct pkt *p)
{
	if (peer_of(p->src_be) == 1 && p->to < 0)
		replies_to_spoofed++;
	return 0;
}

/* Defect 5: 1024 spoofed first messages filled the responder's only table
 * for 30 s and each got an answer. Now sources that are no crypto-map peer
 * share part of it, the oldest unanswered go first, answers are paced, and
 * the real peer negotiates through the flood. */
static void
test_halfopen_flood_does_not_block_peer(void **state)
{
	uint8_t msg[512];
	struct ike *b;
	size_t len;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	b = peers[1].ike;
	replies_to_spoofed = 0;
	sim_tap = count_spoofed;
	for (uint32_t i = 0; i < 3000; i++) {
		uint32_t src = htonl(0xc6120000u + i);	/* 198.18.0.0/15, no peer */

		len = mm1(msg, sizeof(msg), i, 14);
		ike_input(b, IKE_PORT, src, (uint16_t)(1024 + i), msg, len, now_ms);
		deliver();
		if (i % 100 == 99)
			now_ms += 100;			/* 3000 over 3 s */
	}
	assert_true(b->guard.halfopen_unknown <= b->conf.halfopen_max - b->conf.halfopen_reserve);
	/* answers: the burst plus the rate for 3 s */
	assert_true(replies_to_spoofed <= b->conf.reply_rate + 3 * b->conf.reply_rate + 1);
	assert_true(dropped(1, IKE_DROP_RATE_LIMITED) > 0);
	/* ... and from the real peer's own address, with fresh cookies */
	for (uint32_t i = 0; i < 200; i++) {
		len = mm1(msg, sizeof(msg), 100000 + i, 14);
		ike_input(b, IKE_PORT, peers[0].addr_be, (uint16_t)(2000 + i), msg, len, now_ms);
		deliver();
	}
	assert_true(b->guard.halfopen <= b->conf.halfopen_max);
	sim_tap = NULL;
	run_until(now_ms + 100);
	assert_non_null(established_sa(0));
	assert_non_null(established_sa(1));
	assert_true(peers[0].ike->tunnels[0].up);
}

/* Both bounds hold with a small table, per source and in total; an SA
 * that answered our SA payload (the peer receives what we send) is never
 * evicted. */
static void
test_halfopen_bounds(void **state)
{
	uint8_t msg[512];
	struct ike *b;
	size_t len;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	b = peers[1].ike;
	b->conf.halfopen_max = 8;
	b->conf.halfopen_reserve = 2;
	b->conf.halfopen_per_source = 3;
	b->conf.reply_rate = 0;			/* no pacing: the tables alone */
	for (uint32_t i = 0; i < 20; i++) {
		len = mm1(msg, sizeof(msg), i, 14);
		ike_input(b, IKE_PORT, htonl(0xc6120001u), (uint16_t)(1000 + i), msg, len, now_ms);
	}
	assert_int_equal(b->guard.halfopen, 3);			/* per source */
	for (uint32_t i = 0; i < 20; i++) {
		len = mm1(msg, sizeof(msg), 100 + i, 14);
		ike_input(b, IKE_PORT, htonl(0xc6130000u + i), 1000, msg, len, now_ms);
	}
	assert_int_equal(b->guard.halfopen_unknown, 6);	/* max - reserve */
	assert_int_equal(dropped(1, IKE_DROP_HALFOPEN_LIMIT), 0);	/* evicted instead */
	qhead = qtail;
	run_until(now_ms + 100);			/* the peer takes the reserve */
	assert_non_null(established_sa(1));
	assert_int_equal(b->guard.halfopen, 6);
	run_until(now_ms + 31000);
	assert_int_equal(b->guard.halfopen, 0);
	assert_int_equal(b->guard.nsrc, 0);
}

/* A first message sent again (its answer was lost) is answered again, at
 * most every IKE_RESEND_MS, and opens no second SA. */
static void
test_mm1_retransmission_answered_once(void **state)
{
	uint8_t msg[512];
	struct ike *b;
	uint64_t sent;
	size_t len;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	b = peers[1].ike;
	len = mm1(msg, sizeof(msg), 42, 14);
	sent = peers[1].sent;
	inject_from(1, ip("198.51.100.7"), 600, IKE_PORT, msg, len);
	inject_from(1, ip("198.51.100.7"), 600, IKE_PORT, msg, len);
	assert_int_equal(b->guard.halfopen, 1);
	assert_int_equal(peers[1].sent, sent + 1);
	now_ms += IKE_RESEND_MS;
	inject_from(1, ip("198.51.100.7"), 600, IKE_PORT, msg, len);
	assert_int_equal(b->guard.halfopen, 1);
	assert_int_equal(peers[1].sent, sent + 2);
}

/* ---- errors said, at a rate ------------------------------------------------- */

static void
test_error_notifies_rate_limited(void **state)
{
	uint8_t msg[512];
	struct ike *b;
	struct ike_sa *sa_b;
	size_t len;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	b = peers[1].ike;
	for (uint32_t i = 0; i < 100; i++) {
		len = mm1(msg, sizeof(msg), i, 2);	/* group 2: not in B's policy */
		inject_from(1, ip("198.51.100.7"), 500, IKE_PORT, msg, len);
	}
	assert_int_equal(dropped(1, IKE_DROP_NO_PROPOSAL), 100);
	assert_int_equal(b->st.err_notifies[IKE_ERR_NO_PROPOSAL_CHOSEN], b->conf.notify_rate);
	assert_int_equal(b->st.err_suppressed, 100 - b->conf.notify_rate);
	assert_int_equal(b->guard.halfopen, 0);
	/* Quick Mode for networks no crypto map protects: INVALID-ID-INFORMATION */
	now_ms += 5000;
	run_until(now_ms + 100);
	sa_b = established_sa(1);
	assert_non_null(sa_b);
	peers[1].ike->conf.maps[0].sel[0].src_be = ip("10.9.0.0");	/* the tunnel's entry */
	assert_int_equal(ike_qm_initiate(sa_b, now_ms), 0);
	deliver();
	assert_int_equal(dropped(0, IKE_DROP_NO_CRYPTO_MAP), 1);
	assert_int_equal(peers[0].ike->st.err_notifies[IKE_ERR_INVALID_ID], 1);
}

/* ---- a Delete removes only what its sender negotiated ------------------------ */

static void
test_delete_only_own_sas(void **state)
{
	struct ike_tunnel *t, *t2;
	struct ike_sa *a1, *a2, *c;
	uint8_t spi[4], cookies[16];
	uint32_t spi_out;

	setup_peers(3, DPD_MODE_PERIODIC, 1);
	run_until(now_ms + 100);
	t = &peers[0].ike->tunnels[0];
	assert_true(t->up);
	assert_int_equal(t->nchildren, 1);
	a1 = sa_with(0, 1);
	assert_non_null(a1);
	/* The backup peer C also sets up an SA with A (it may: it is in the
	 * list), which A holds as a tunnel's too. */
	t2 = &peers[2].ike->tunnels[0];
	peers[2].ike->conf.maps[0].initiate = 1;	/* t2's entry */
	t2->retry_ms = now_ms;
	ike_tunnel_retry_arm(t2);
	run_until(now_ms + 100);
	a2 = sa_with(0, 2);
	c = sa_with(2, 0);
	assert_non_null(a2);
	assert_non_null(c);
	a2->tunnel = t;
	/* C deletes B's pair (by the SPI B receives on) and B's ISAKMP SA. */
	spi_out = t->children[0].sa.spi_out;
	assert_int_equal(t->children[0].sa.peer_be, peers[1].addr_be);
	spi[0] = (uint8_t)(spi_out >> 24), spi[1] = (uint8_t)(spi_out >> 16);
	spi[2] = (uint8_t)(spi_out >> 8), spi[3] = (uint8_t)spi_out;
	ike_info_send_delete(c, IKE_PROTO_IPSEC_ESP, spi, 4, 1, now_ms);
	memcpy(cookies, a1->icookie, 8);
	memcpy(cookies + 8, a1->rcookie, 8);
	ike_info_send_delete(c, IKE_PROTO_ISAKMP, cookies, 16, 1, now_ms);
	deliver();
	assert_ptr_equal(sa_with(0, 1), a1);
	assert_true(t->nchildren >= 1);
	assert_int_equal(t->children[0].sa.spi_out, spi_out);
	assert_true(t->up);
}

/* ---- sequence numbers never wrap ------------------------------------------- */

/* The side that sees a pair's sequence numbers run out renews it, even
 * the side that did not set it up (volume and time are the initiator's). */
static void
test_sequence_limit_rekeys_from_either_side(void **state)
{
	struct ike_tunnel *ta, *tb;
	uint32_t old_in;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	ta = &peers[0].ike->tunnels[0];
	tb = &peers[1].ike->tunnels[0];
	assert_false(tb->children[0].initiator);	/* B answered its Quick Mode */
	old_in = tb->children[0].sa.spi_in;
	ike_child_volume(peers[1].ike, peers[0].addr_be, 0, old_in, IKE_CHILD_SOFT, now_ms);
	run_until(now_ms + 100);
	assert_int_equal(tb->children[0].sa.spi_in, old_in);	/* volume: not B's to renew */
	ike_child_volume(peers[1].ike, peers[0].addr_be, 0, old_in, IKE_CHILD_SEQ, now_ms);
	run_until(now_ms + 100);
	assert_int_equal(tb->nchildren, 2);	/* the old pair overlaps the new one... */
	run_until(now_ms + IKE_REKEY_OVERLAP_MS);
	assert_int_equal(tb->nchildren, 1);	/* ...then goes */
	assert_int_equal(ta->nchildren, 1);	/* B's Delete of the old pair reached A */
	assert_int_not_equal(tb->children[0].sa.spi_in, old_in);
	assert_true(tb->children[0].initiator);
	assert_int_equal(ta->children[0].sa.spi_out, tb->children[0].sa.spi_in);
	assert_true(ta->up && tb->up);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_spoofed_main_mode_keeps_iv, teardown_peers),
		cmocka_unit_test_teardown(test_clear_mm5_refused, teardown_peers),
		cmocka_unit_test_teardown(test_replayed_dpd_does_not_keep_dead_peer_alive,
					  teardown_peers),
		cmocka_unit_test_teardown(test_reflected_dpd_is_not_liveness, teardown_peers),
		cmocka_unit_test_teardown(test_old_dpd_sequence_refused, teardown_peers),
		cmocka_unit_test_teardown(test_replayed_quick_mode_dropped, teardown_peers),
		cmocka_unit_test_teardown(test_forged_port_does_not_move_sa, teardown_peers),
		cmocka_unit_test_teardown(test_halfopen_flood_does_not_block_peer, teardown_peers),
		cmocka_unit_test_teardown(test_halfopen_bounds, teardown_peers),
		cmocka_unit_test_teardown(test_mm1_retransmission_answered_once, teardown_peers),
		cmocka_unit_test_teardown(test_error_notifies_rate_limited, teardown_peers),
		cmocka_unit_test_teardown(test_delete_only_own_sas, teardown_peers),
		cmocka_unit_test_teardown(test_sequence_limit_rekeys_from_either_side,
					  teardown_peers),
	};

	return cmocka_run_group_tests_name("ike on a hostile network", tests, NULL, NULL);
}
