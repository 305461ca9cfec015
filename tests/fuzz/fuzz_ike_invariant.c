/*
 * libFuzzer target for the hostile-network invariants (SPEC R-13.1-13.3):
 * two engines with an established ISAKMP SA and IPsec SA pair take a
 * sequence of spoofed records (raw, with the SA's cookies, replays of the
 * honest capture, shaped headers); no record may move the honest SAs'
 * state, and afterwards DPD and a Quick Mode rekey must still work.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "ike/ike_int.h"
#include "ike_pair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- engine access: the only code that touches engine internals --------- */

#define SNAP_SAS  8	/* SAs per engine followed at once (the honest one, normally) */
#define SNAP_TUNS 2

struct sa_snap {
	uint8_t  cookies[2 * IKE_COOKIE_LEN];	/* identity, not compared */
	int      state;
	uint8_t  iv[IKE_BLOCK];
	uint16_t peer_port, local_port;
	int      floated;
	int      dpd_state;
	int64_t  dpd_last_rx_ms;
	uint32_t dpd_peer_seq, dpd_seq;
	int      dpd_ack_pending;
	uint64_t dpd_acks;			/* accepted ACKs: the DPD check counts them */
};

struct tun_snap {
	int      up;
	size_t   nchildren;
	uint32_t spi_in[IKE_CHILDREN_MAX], spi_out[IKE_CHILDREN_MAX];
};

struct eng_snap {
	size_t          nsa, ntun;
	struct sa_snap  sa[SNAP_SAS];
	struct tun_snap tun[SNAP_TUNS];
};

static const struct sa_snap *
snap_find(const struct eng_snap *s, const uint8_t cookies[2 * IKE_COOKIE_LEN])
{
	for (size_t i = 0; i < s->nsa; i++) {
		if (memcmp(s->sa[i].cookies, cookies, 2 * IKE_COOKIE_LEN) == 0)
			return &s->sa[i];
	}
	return NULL;
}

/* The invariant state of engine ike: its SAs (only those in `only` when
 * given, as half-open SAs made by the input may come and go) and tunnels. */
static void
snap_take(struct ike *ike, const struct eng_snap *only, struct eng_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (const struct ike_sa *sa = ike->sas; sa != NULL && s->nsa < SNAP_SAS; sa = sa->next) {
		struct sa_snap *o = &s->sa[s->nsa];

		memcpy(o->cookies, sa->icookie, IKE_COOKIE_LEN);
		memcpy(o->cookies + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN);
		if (only != NULL && snap_find(only, o->cookies) == NULL)
			continue;
		o->state = sa->state;
		memcpy(o->iv, sa->iv, IKE_BLOCK);
		o->peer_port = sa->peer_port;
		o->local_port = sa->local_port;
		o->floated = sa->floated;
		o->dpd_state = sa->dpd.state;
		o->dpd_last_rx_ms = sa->dpd.last_rx_ms;
		o->dpd_peer_seq = sa->dpd.peer_seq;
		o->dpd_seq = sa->dpd.seq;
		o->dpd_ack_pending = sa->dpd.ack_pending;
		o->dpd_acks = sa->dpd.c.ack_received;
		s->nsa++;
	}
	for (size_t i = 0; i < ike->ntunnels && i < SNAP_TUNS; i++) {
		const struct ike_tunnel *t = &ike->tunnels[i];

		s->tun[i].up = t->up;
		s->tun[i].nchildren = t->nchildren;
		for (size_t k = 0; k < t->nchildren; k++) {
			s->tun[i].spi_in[k] = t->children[k].sa.spi_in;
			s->tun[i].spi_out[k] = t->children[k].sa.spi_out;
		}
		s->ntun++;
	}
}

/* The tunnel's ISAKMP SA (the honest one), or NULL. */
static struct ike_sa *
tunnel_sa(struct ike *ike)
{
	return ike->ntunnels > 0 ? ike->tunnels[0].sa : NULL;
}

static void
sa_cookies(const struct ike_sa *sa, uint8_t out[2 * IKE_COOKIE_LEN])
{
	memcpy(out, sa->icookie, IKE_COOKIE_LEN);
	memcpy(out + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN);
}

static int64_t
keepalive_ms(const struct ike *ike)
{
	return (int64_t)ike->conf.dpd.keepalive_s * 1000;
}

/* Before a Quick Mode rekey, as the lifetime timer does it. */
static void
mark_rekeying(struct ike *ike)
{
	for (size_t k = 0; k < ike->tunnels[0].nchildren; k++)
		ike->tunnels[0].children[k].rekeying = 1;
}

/* Deletes every SA of ike that `keep` does not name. */
static void
delete_new_sas(struct ike *ike, const struct eng_snap *keep, int64_t now)
{
	uint8_t ck[2 * IKE_COOKIE_LEN];

again:
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		sa_cookies(sa, ck);
		if (snap_find(keep, ck) == NULL) {
			ike_sa_delete(sa, IKE_QUIET, now);
			goto again;
		}
	}
}

/* ---- comparing snapshots ---------------------------------------------------- */

/* Fields not to abort on, FUZZ_IKE_INVARIANT_SKIP="peer_port,dpd.last_rx_ms":
 * one defect known, the fuzzer can look for the next. A change in one of
 * them still sets skip_hit, and the pair is then built afresh, so that the
 * known defect's after-effects do not pass for new ones. */
static const char *skip_fields;
static int skip_hit;

static int
skipped(const char *field)
{
	size_t n = strlen(field);

	for (const char *p = skip_fields; p != NULL && (p = strstr(p, field)) != NULL; p += n) {
		if ((p == skip_fields || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return skip_hit = 1;
	}
	return 0;
}

static int
diff_num(int e, const char *what, const char *field, long long a, long long b)
{
	if (a == b || skipped(field))
		return 0;
	fprintf(stderr, "INVARIANT: engine %d %s: %s changed %lld -> %lld\n", e, what, field, a, b);
	return 1;
}

static int
diff_iv(int e, const char *what, const uint8_t *a, const uint8_t *b)
{
	if (memcmp(a, b, IKE_BLOCK) == 0 || skipped("iv"))
		return 0;
	fprintf(stderr, "INVARIANT: engine %d %s: iv changed ", e, what);
	for (size_t i = 0; i < IKE_BLOCK; i++)
		fprintf(stderr, "%02x", a[i]);
	fprintf(stderr, " -> ");
	for (size_t i = 0; i < IKE_BLOCK; i++)
		fprintf(stderr, "%02x", b[i]);
	fprintf(stderr, "\n");
	return 1;
}

/* Prints every change from a to b (engine e) and returns how many. Every
 * SA in a must still be in b; new SAs in b are not looked at. */
static int
snap_compare(int e, const struct eng_snap *a, const struct eng_snap *b)
{
	int n = 0;

	for (size_t i = 0; i < a->nsa; i++) {
		const struct sa_snap *x = &a->sa[i], *y = snap_find(b, x->cookies);

		if (y == NULL) {
			fprintf(stderr, "INVARIANT: engine %d ISAKMP SA: deleted\n", e);
			n++;
			continue;
		}
#define SA_FIELD(f, name) n += diff_num(e, "ISAKMP SA", name, (long long)x->f, (long long)y->f)
		SA_FIELD(state, "state");
		SA_FIELD(peer_port, "peer_port");
		SA_FIELD(local_port, "local_port");
		SA_FIELD(floated, "floated");
		SA_FIELD(dpd_state, "dpd.state");
		SA_FIELD(dpd_last_rx_ms, "dpd.last_rx_ms");
		SA_FIELD(dpd_peer_seq, "dpd.peer_seq");
		SA_FIELD(dpd_seq, "dpd.seq");
		SA_FIELD(dpd_ack_pending, "dpd.ack_pending");
		SA_FIELD(dpd_acks, "dpd.c.ack_received");
#undef SA_FIELD
		n += diff_iv(e, "ISAKMP SA", x->iv, y->iv);
	}
	for (size_t i = 0; i < a->ntun; i++) {
		const struct tun_snap *x = &a->tun[i], *y = &b->tun[i];

		n += diff_num(e, "tunnel", "up", x->up, y->up);
		n += diff_num(e, "tunnel", "nchildren", (long long)x->nchildren,
			      (long long)y->nchildren);
		for (size_t k = 0; k < x->nchildren && k < y->nchildren; k++) {
			n += diff_num(e, "child", "spi_in", x->spi_in[k], y->spi_in[k]);
			n += diff_num(e, "child", "spi_out", x->spi_out[k], y->spi_out[k]);
		}
	}
	return n;
}

/* ---- the pair, its wire and the capture of honest traffic -------------------- */

#define CAP_MAX 48	/* honest datagrams kept from the setup (about 20 are sent) */
#define PAIR_MAX_AGE_MS (20LL * 3600 * 1000)	/* rebuild well before the 24 h ISAKMP soft rekey */

struct capture {
	int      to;
	uint16_t dport, sport;
	size_t   len;
	uint8_t  d[2048];
};

static struct ike_pair_wire w;
static struct capture cap[CAP_MAX];
static size_t ncap;
static int capturing;
static int64_t now = 1000, built_ms;

static int
tap_send(void *wire, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	 const uint8_t *msg, size_t len)
{
	if (capturing && ncap < CAP_MAX && len <= sizeof(cap[0].d)) {
		struct capture *c = &cap[ncap++];

		c->to = dst_be == w.addr[0] ? 0 : 1;
		c->dport = dst_port;
		c->sport = local_port;
		c->len = len;
		memcpy(c->d, msg, len);
	}
	return ike_pair_send(wire, local_port, dst_be, dst_port, msg, len);
}

static void
fail(const char *what)
{
	fprintf(stderr, "INVARIANT: %s\n", what);
	abort();
}

/* (a) after keepalive seconds both ends probe; engine 0 must take an ACK. */
static void
check_dpd(void)
{
	struct eng_snap a, b;

	snap_take(w.eng[0], NULL, &a);
	now += keepalive_ms(w.eng[0]) + 100;
	ike_timer(w.eng[0], now);
	ike_timer(w.eng[1], now);
	ike_pair_pump(&w, now);
	snap_take(w.eng[0], &a, &b);
	if (a.nsa != 1 || b.nsa != 1)
		fail("honest DPD round trip failed: engine 0 lost its ISAKMP SA");
	if (b.sa[0].dpd_acks != a.sa[0].dpd_acks + 1)
		fail("honest DPD round trip failed: engine 0 accepted no R-U-THERE-ACK");
}

/* (b) a Quick Mode rekey from engine 0 gives both a new, matching pair. */
static void
check_rekey(void)
{
	struct eng_snap a0, b0, b1;
	struct ike_sa *sa = tunnel_sa(w.eng[0]);

	snap_take(w.eng[0], NULL, &a0);
	if (sa == NULL)
		fail("engine 0 has no ISAKMP SA for its tunnel");
	mark_rekeying(w.eng[0]);
	ike_qm_initiate(sa, now);
	ike_pair_pump(&w, now);
	snap_take(w.eng[0], NULL, &b0);
	snap_take(w.eng[1], NULL, &b1);
	for (size_t k = 0; k < b0.tun[0].nchildren; k++) {
		uint32_t in = b0.tun[0].spi_in[k], out = b0.tun[0].spi_out[k];
		int old = 0;

		for (size_t j = 0; j < a0.tun[0].nchildren; j++)
			old |= a0.tun[0].spi_in[j] == in;
		for (size_t j = 0; !old && j < b1.tun[0].nchildren; j++) {
			if (b1.tun[0].spi_in[j] == out && b1.tun[0].spi_out[j] == in)
				return;
		}
	}
	fail("honest Quick Mode rekey failed: no new SA pair that both engines share");
}

/* Two engines, a real handshake, one DPD round and one rekey, all captured. */
static void
pair_build(void)
{
	static struct ike_psk_conf psk[2];
	static struct ike_map_conf maps[2];

	for (int i = 0; i < 2; i++) {
		struct ike_transport tr = { &w, tap_send };
		struct ike_conf c;

		ike_free(w.eng[i]);
		w.eng[i] = ike_new(&tr, NULL);
		ike_pair_conf(i, w.addr, 19, IKE_HASH_SHA1, &c, &maps[i], &psk[i]);
		c.dpd.mode = DPD_MODE_PERIODIC;
		ike_configure(w.eng[i], &c, now);
	}
	w.n = 0;
	ncap = 0;
	capturing = 1;
	for (int round = 0; round < 8; round++) {
		ike_timer(w.eng[0], now);
		ike_pair_pump(&w, now);
	}
	if (tunnel_sa(w.eng[0]) == NULL || tunnel_sa(w.eng[1]) == NULL)
		fail("setup: the handshake did not establish the pair");
	check_dpd();
	check_rekey();
	capturing = 0;
	/* One more round, so that even the first input finds every capture
	 * stale (a replay does not depend on how many inputs came before). */
	check_dpd();
	check_rekey();
	built_ms = now;
}

/* ---- records ----------------------------------------------------------------- */

/* Engine and ports from the target/port byte: bit 0 the engine (for a
 * replay: 0 its recipient, 1 its sender), then 0 = as captured (500 to 500
 * otherwise), 1 = 500 to 500, 2 = 4500 to 4500, else a bogus source port. */
static void
pick(uint8_t tp, const struct capture *c, int *e, uint16_t *dport, uint16_t *sport)
{
	unsigned sel = tp >> 1;

	*e = c != NULL ? c->to ^ (tp & 1) : tp & 1;
	*dport = *sport = IKE_PORT;
	if (sel == 0 && c != NULL) {
		*dport = c->dport;
		*sport = c->sport;
	} else if (sel == 2) {
		*dport = *sport = IKE_NATT_PORT;
	} else if (sel >= 3) {
		*dport = sel & 1 ? IKE_NATT_PORT : IKE_PORT;
		*sport = sel == 3 ? IKE_NATT_PORT : sel == 4 ? IKE_PORT : (uint16_t)(40000 + sel);
	}
}

/* Op 3: HDR with the SA's cookies, the fields below from the payload (a
 * missing byte is 0), the length computed, then the body. Exchange bytes
 * 0-127 pick a handled exchange (n % 4), 128-255 give n - 128; the body is
 * zero-padded to whole AES blocks unless bit 7 of the form byte says raw. */
static size_t
shape(struct buf *b, const uint8_t ck[2 * IKE_COOKIE_LEN], uint8_t *msg)
{
	static const uint8_t known[4] = { IKE_XCHG_ID_PROT, IKE_XCHG_INFORMATIONAL,
					  IKE_XCHG_QUICK, IKE_XCHG_AGGRESSIVE };
	uint8_t xchg, flags, np, form;
	uint32_t msgid;
	const uint8_t *body;
	size_t blen, n;
	struct wbuf o;

	buf_get_u8(b, &xchg);
	buf_get_u8(b, &flags);
	buf_get_u8(b, &np);
	buf_get_u32(b, &msgid);
	buf_get_u8(b, &form);
	blen = b->err ? 0 : buf_left(b);
	if (blen > IKE_MSG_MAX - IKE_HDR_LEN - IKE_BLOCK)
		blen = IKE_MSG_MAX - IKE_HDR_LEN - IKE_BLOCK;
	buf_get_ref(b, &body, blen);
	n = blen;
	if (!(form & 0x80))
		n = blen == 0 ? IKE_BLOCK : (blen + IKE_BLOCK - 1) / IKE_BLOCK * IKE_BLOCK;
	wbuf_init(&o, IKE_MSG_MAX);
	wbuf_put_bytes(&o, ck, 2 * IKE_COOKIE_LEN);
	wbuf_put_u8(&o, np);
	wbuf_put_u8(&o, 0x10);
	wbuf_put_u8(&o, xchg & 0x80 ? xchg & 0x7f : known[xchg % 4]);
	wbuf_put_u8(&o, flags);
	wbuf_put_u32(&o, msgid);
	wbuf_put_u32(&o, (uint32_t)(IKE_HDR_LEN + n));
	wbuf_put_bytes(&o, body, blen);
	wbuf_put_zero(&o, n - blen);
	n = o.err ? 0 : o.len;
	memcpy(msg, o.p, n);
	wbuf_free(&o);
	return n;
}

/* Builds the datagram of one record (payload p) and hands it to the
 * target engine, spoofed from the other one. */
static void
inject(uint8_t op, uint8_t tp, const uint8_t *p, size_t len)
{
	static uint8_t msg[IKE_MSG_MAX];
	uint8_t ck[2 * IKE_COOKIE_LEN] = { 0 }, idx, pos, mask;
	const struct capture *c = NULL;
	uint16_t dport, sport;
	struct ike_sa *sa;
	struct buf b;
	int e;

	buf_init(&b, p, len);
	if (op % 4 == 2) {
		buf_get_u8(&b, &idx);
		buf_get_u8(&b, &pos);
		buf_get_u8(&b, &mask);
		c = &cap[idx % ncap];
	}
	pick(tp, c, &e, &dport, &sport);
	if ((sa = tunnel_sa(w.eng[e])) != NULL)
		sa_cookies(sa, ck);
	switch (op % 4) {
	case 0:
	case 1:
		memcpy(msg, p, len);
		if (op % 4 == 1 && len >= sizeof(ck))
			memcpy(msg, ck, sizeof(ck));
		break;
	case 2:
		memcpy(msg, c->d, c->len);
		msg[pos % c->len] ^= mask;
		len = c->len;
		break;
	case 3:
		len = shape(&b, ck, msg);
		break;
	}
	ike_input(w.eng[e], dport, w.addr[!e], sport, msg, len, now);
}

static void
report(size_t i, uint8_t op, uint8_t tp, const uint8_t *p, size_t len)
{
	fprintf(stderr, "INVARIANT: broken by record %zu: op %u tp 0x%02x len %zu:", i, op % 4,
		tp, len);
	for (size_t k = 0; k < len && k < 96; k++)
		fprintf(stderr, " %02x", p[k]);
	if (op % 4 == 2 && len > 0) {
		const struct capture *c = &cap[p[0] % ncap];

		fprintf(stderr, "\nINVARIANT: (capture %u: exchange %u from engine %d to engine %d, "
			"%u -> %u; sent to engine %d)", p[0] % (unsigned)ncap, c->d[18], !c->to, c->to,
			c->sport, c->dport, c->to ^ (tp & 1));
	}
	fprintf(stderr, "\n");
	abort();
}

/* ---- the fuzzer ---------------------------------------------------------------- */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eng_snap base[2], before[2], after[2];
	struct buf in;

	if (w.eng[0] == NULL) {
		log_init("fuzz", LOG_LEVEL__COUNT);	/* silent */
		skip_fields = getenv("FUZZ_IKE_INVARIANT_SKIP");
		w.addr[0] = htonl(0xc0000201);
		w.addr[1] = htonl(0xc0000202);
		pair_build();
	} else if (now - built_ms > PAIR_MAX_AGE_MS) {
		pair_build();
	}
	now += 1;	/* so that any liveness the input records claim shows */
	for (int e = 0; e < 2; e++)
		snap_take(w.eng[e], NULL, &base[e]);
	buf_init(&in, data, size);
	for (size_t i = 0; buf_left(&in) >= 4; i++) {
		uint8_t op, tp;
		uint16_t len;
		const uint8_t *p;

		buf_get_u8(&in, &op);
		buf_get_u8(&in, &tp);
		buf_get_u16(&in, &len);
		if (len > buf_left(&in))
			len = (uint16_t)buf_left(&in);
		buf_get_ref(&in, &p, len);
		if (len > IKE_MSG_MAX)
			len = IKE_MSG_MAX;
		for (int e = 0; e < 2; e++)
			snap_take(w.eng[e], &base[e], &before[e]);
		inject(op, tp, p, len);
		ike_pair_pump(&w, now);
		for (int e = 0; e < 2; e++)
			snap_take(w.eng[e], &base[e], &after[e]);
		if (snap_compare(0, &before[0], &after[0]) + snap_compare(1, &before[1], &after[1]))
			report(i, op, tp, p, len);
	}
	for (int e = 0; e < 2; e++)
		delete_new_sas(w.eng[e], &base[e], now);
	w.n = 0;
	if (skip_hit) {
		skip_hit = 0;
		pair_build();
		return 0;
	}
	check_dpd();
	check_rekey();
	return 0;
}
