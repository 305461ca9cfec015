/*
 * The client side of remote access on the in-process test wire (see
 * ike_sim_client.h): held headend messages, opened and answered with the
 * keys of the client engine's ISAKMP SA; and the headend and clients of
 * the remote-access tests.
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

#include "core/passwd.h"
#include "ike_sim_client.h"

int      ra_hold_quick;
unsigned ra_isakmp_deletes[NPEERS];

/* What opens a message of the SA: a message is held with the keys it was
 * sent under (the client SA may be gone when the test opens it). */
struct ra_keys {
	uint8_t            icookie[IKE_COOKIE_LEN], rcookie[IKE_COOKIE_LEN];
	enum ike_hash      hash;
	uint8_t            iv[IKE_BLOCK];	/* the Phase 1 CBC state */
	struct ike_p1_keys keys;
	int                set;
};

struct ra_held {
	struct pkt     p;
	struct ra_keys k;
};

/* A message ID of ours and the CBC state after our message under it. */
struct ra_ours {
	uint32_t msgid;
	uint8_t  iv[IKE_BLOCK];
};

/* build(): an answer to the headend's message, whose exchange it began
 * (a repeat of its request starts from the Phase 2 IV, not from ours). */
#define RA_ANSWER 0x100

static struct ra_client {
	struct ra_held held[RA_HELD_MAX];
	size_t         head, n;
	struct ra_ours ours[RA_SENT_MAX];
	size_t         next_ours;
	uint16_t       next_id;
} cls[NPEERS];
static int headend = -1;

static void
keys_of(int j, struct ra_keys *k)
{
	struct ike_sa *sa = established_sa(j);

	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return;
	memcpy(k->icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(k->rcookie, sa->rcookie, IKE_COOKIE_LEN);
	k->hash = sa->hash;
	memcpy(k->iv, sa->iv, IKE_BLOCK);
	k->keys = sa->keys;
	k->set = 1;
}

/* An SA with only what the crypto functions read. */
static void
sa_of_keys(const struct ra_keys *k, struct ike_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	memcpy(sa->icookie, k->icookie, IKE_COOKIE_LEN);
	memcpy(sa->rcookie, k->rcookie, IKE_COOKIE_LEN);
	sa->hash = k->hash;
	memcpy(sa->iv, k->iv, IKE_BLOCK);
	sa->keys = k->keys;
	sa->state = SA_ESTABLISHED;
}

static void
note_ours(int j, uint32_t msgid, const uint8_t iv[IKE_BLOCK])
{
	struct ra_client *c = &cls[j];

	c->ours[c->next_ours].msgid = msgid;
	memcpy(c->ours[c->next_ours].iv, iv, IKE_BLOCK);
	c->next_ours = (c->next_ours + 1) % RA_SENT_MAX;
}

/* The CBC state after our last message under msgid; 0 when not ours. */
static int
ours_iv(int j, uint32_t msgid, uint8_t iv[IKE_BLOCK])
{
	const struct ra_client *c = &cls[j];

	for (size_t k = 1; k <= RA_SENT_MAX; k++) {
		const struct ra_ours *o = &c->ours[(c->next_ours + RA_SENT_MAX - k) % RA_SENT_MAX];

		if (o->msgid == msgid && msgid != 0) {
			memcpy(iv, o->iv, IKE_BLOCK);
			return 1;
		}
	}
	return 0;
}

/* An Informational of the headend to client j: its ISAKMP Deletes counted. */
static void
count_deletes(int j, const struct ike_hdr *h, const struct pkt *p)
{
	uint8_t body[PKT_MAX], iv[IKE_BLOCK];
	struct ike_delete_pl d;
	struct ike_chain c;
	struct ike_sa sa;
	struct ra_keys k;
	size_t len = p->len - IKE_HDR_LEN;

	keys_of(j, &k);
	if (!k.set || memcmp(h->icookie, k.icookie, IKE_COOKIE_LEN) != 0 ||
	    memcmp(h->rcookie, k.rcookie, IKE_COOKIE_LEN) != 0)
		return;
	sa_of_keys(&k, &sa);
	memcpy(body, p->data + IKE_HDR_LEN, len);
	ike_iv_phase2(k.hash, k.iv, h->msgid, iv);
	if (ike_decrypt_body(&sa, body, len, iv) == -1 ||
	    ike_chain_parse(h->next_payload, body, len, 1, &c) == -1)
		return;
	for (size_t i = 0; i < c.n; i++) {
		if (c.pl[i].type == IKE_PL_DELETE &&
		    ike_delete_parse(c.pl[i].body, c.pl[i].len, &d) == 0 &&
		    d.proto == IKE_PROTO_ISAKMP)
			ra_isakmp_deletes[j]++;
	}
}

static int
ra_tap(const struct pkt *p)
{
	struct ra_client *c;
	struct ike_hdr h;

	if (p->from != headend || p->to < 0 || p->to == headend ||
	    ike_hdr_parse(p->data, p->len, &h) == -1)
		return 0;
	if (h.exchange == IKE_XCHG_INFORMATIONAL) {
		count_deletes(p->to, &h, p);
		return 0;
	}
	if (h.exchange != IKE_XCHG_TRANSACTION && !(h.exchange == IKE_XCHG_QUICK && ra_hold_quick))
		return 0;
	c = &cls[p->to];
	assert_true(c->n < RA_HELD_MAX);
	c->held[(c->head + c->n) % RA_HELD_MAX].p = *p;
	keys_of(p->to, &c->held[(c->head + c->n) % RA_HELD_MAX].k);
	c->n++;
	return 1;		/* off the wire: the test answers it */
}

void
ra_start(int he)
{
	memset(cls, 0, sizeof(cls));
	memset(ra_isakmp_deletes, 0, sizeof(ra_isakmp_deletes));
	ra_hold_quick = 0;
	headend = he;
	for (int j = 0; j < NPEERS; j++)
		cls[j].next_id = (uint16_t)(0x100 * (j + 1));
	sim_tap = ra_tap;
}

size_t
ra_held(int j)
{
	return cls[j].n;
}

void
ra_open(int j, struct ra_msg *m)
{
	struct ra_client *c = &cls[j];
	const struct ike_payload *pl;
	uint8_t want[IKE_HASH_MAX];
	struct ra_held *e;
	struct ike_hdr h;
	struct ike_sa sa;
	size_t len, rest;

	assert_true(c->n > 0);
	e = &c->held[c->head];
	c->head = (c->head + 1) % RA_HELD_MAX;
	c->n--;
	assert_true(e->k.set);
	memset(m, 0, sizeof(*m));
	m->raw = e->p;
	sa_of_keys(&e->k, &sa);
	assert_int_equal(ike_hdr_parse(m->raw.data, m->raw.len, &h), 0);
	assert_true(h.flags & IKE_FLAG_ENCRYPTION);
	assert_memory_equal(h.icookie, sa.icookie, IKE_COOKIE_LEN);
	assert_memory_equal(h.rcookie, sa.rcookie, IKE_COOKIE_LEN);
	m->msgid = h.msgid;
	m->exchange = h.exchange;
	if (!ours_iv(j, h.msgid, m->iv))
		ike_iv_phase2(sa.hash, sa.iv, h.msgid, m->iv);
	len = m->raw.len - IKE_HDR_LEN;
	memcpy(m->body, m->raw.data + IKE_HDR_LEN, len);
	assert_int_equal(ike_decrypt_body(&sa, m->body, len, m->iv), (long)len);
	assert_int_equal(ike_chain_parse(h.next_payload, m->body, len, 1, &m->c), 0);
	assert_true(m->c.n >= 1);
	assert_int_equal(m->c.pl[0].type, IKE_PL_HASH);
	assert_int_equal(m->c.pl[0].len, sa.keys.hlen);
	if (m->exchange != IKE_XCHG_TRANSACTION)
		return;
	rest = m->c.pl[0].offset + 4 + m->c.pl[0].len;
	ike_qm_hash1(&sa.keys, m->msgid, m->body + rest, ike_chain_end(&m->c) - rest, want);
	assert_memory_equal(want, m->c.pl[0].body, sa.keys.hlen);
	pl = ike_chain_find(&m->c, IKE_PL_ATTR);
	assert_non_null(pl);
	assert_int_equal(ike_cfg_parse(pl->body, pl->len, &m->cfg), 0);
}

/* HDR*, HASH(1) and the rest (put) under msgid, encrypted from iv. */
static size_t
build(int j, uint8_t exchange, uint32_t msgid, const uint8_t iv[IKE_BLOCK],
      void (*put)(struct ike_builder *b, const void *arg), const void *arg, int flags,
      uint8_t out[PKT_MAX])
{
	static const uint8_t zero[IKE_HASH_MAX];
	struct ike_sa *sa = established_sa(j);
	uint8_t chain[IKE_BLOCK];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	size_t hash_off, len;

	assert_non_null(sa);
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = IKE_VERSION;
	h.exchange = exchange;
	h.msgid = msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	hash_off = w.len + 4;
	ike_pl_bytes(&b, IKE_PL_HASH, zero, sa->keys.hlen);
	put(&b, arg);
	assert_false(w.err);
	ike_fill_hash1(sa, &w, hash_off, msgid, NULL, 0);
	if (flags & RA_BAD_HASH)
		w.p[hash_off] ^= 0x01;
	memcpy(chain, iv, IKE_BLOCK);
	len = ike_encrypt_msg(sa, &b, chain);
	assert_true(len > 0 && len <= PKT_MAX);
	memcpy(out, w.p, len);
	wbuf_free(&w);
	if (!(flags & RA_ANSWER))
		note_ours(j, msgid, chain);
	return len;
}

struct cfg_arg {
	uint8_t               type;
	uint16_t              id;
	const struct ra_attr *a;
	size_t                n;
};

static void
put_cfg(struct ike_builder *b, const void *arg)
{
	const struct cfg_arg *c = arg;

	ike_pl_cfg_begin(b, c->type, c->id);
	for (size_t i = 0; i < c->n; i++) {
		if (c->a[i].tv)
			ike_attr_put_tv(b->w, c->a[i].type, c->a[i].value);
		else
			ike_cfg_put(b->w, c->a[i].type, c->a[i].data, c->a[i].len);
	}
	ike_pl_end(b);
}

size_t
ra_build(int j, uint32_t msgid, const uint8_t iv[IKE_BLOCK], uint8_t type, uint16_t id,
	 const struct ra_attr *a, size_t n, int flags, struct ra_sent *out)
{
	struct cfg_arg c = { type, id, a, n };

	out->msgid = msgid;
	out->id = id;
	out->len = build(j, IKE_XCHG_TRANSACTION, msgid, iv, put_cfg, &c, flags, out->msg);
	return out->len;
}

void
ra_send(int j, const struct ra_sent *s)
{
	struct ike_sa *sa = established_sa(j);
	struct ike *ike = peers[j].ike;

	assert_non_null(sa);
	ike->tr.send(ike->tr.ctx, sa->local_port, sa->peer_be, sa->peer_port, s->msg, s->len);
	deliver();
}

static uint32_t
fresh_msgid(void)
{
	uint32_t id;

	do {
		ike_random(&id, sizeof(id));
	} while (id == 0);
	return id;
}

uint32_t
ra_request(int j, const struct ra_attr *a, size_t n, struct ra_sent *out)
{
	struct ike_sa *sa = established_sa(j);
	uint32_t msgid = fresh_msgid();
	uint8_t iv[IKE_BLOCK];

	assert_non_null(sa);
	ike_iv_phase2(sa->hash, sa->iv, msgid, iv);
	ra_build(j, msgid, iv, IKE_CFG_REQUEST, cls[j].next_id++, a, n, 0, out);
	ra_send(j, out);
	return msgid;
}

void
ra_answer(int j, const struct ra_msg *m, uint8_t type, const struct ra_attr *a, size_t n,
	  struct ra_sent *out)
{
	struct ra_sent local;

	if (out == NULL)
		out = &local;
	ra_build(j, m->msgid, m->iv, type, m->cfg.id, a, n, RA_ANSWER, out);
	ra_send(j, out);
}

void
ra_xauth(int j, const char *user, const char *pass, struct ra_sent *out)
{
	static struct ra_msg m;
	const struct ra_attr reply[] = {
		{ .type = IKE_XAUTH_USER_NAME, .data = user, .len = strlen(user) },
		{ .type = IKE_XAUTH_USER_PASSWORD, .data = pass, .len = strlen(pass) },
	};

	ra_open(j, &m);
	assert_int_equal(m.exchange, IKE_XCHG_TRANSACTION);
	assert_int_equal(m.cfg.type, IKE_CFG_REQUEST);
	assert_non_null(ike_cfg_attr(&m.cfg, IKE_XAUTH_USER_NAME));
	assert_non_null(ike_cfg_attr(&m.cfg, IKE_XAUTH_USER_PASSWORD));
	ra_answer(j, &m, IKE_CFG_REPLY, reply, 2, out);
}

int
ra_xauth_status(int j)
{
	static struct ra_msg m;
	const struct ike_attr *a;

	ra_open(j, &m);
	assert_int_equal(m.cfg.type, IKE_CFG_SET);
	a = ike_cfg_attr(&m.cfg, IKE_XAUTH_STATUS);
	assert_non_null(a);
	assert_true(a->tv);
	ra_answer(j, &m, IKE_CFG_ACK, NULL, 0, NULL);
	return (int)a->value;
}

uint32_t
ra_address(const struct ra_msg *m)
{
	const struct ike_attr *a = ike_cfg_attr(&m->cfg, IKE_CFG_IP4_ADDRESS);
	uint32_t be = 0;

	if (a == NULL)
		return 0;
	assert_false(a->tv);
	assert_int_equal(a->len, 4);
	memcpy(&be, a->data, 4);
	return be;
}

size_t
ra_count(const struct ra_msg *m, uint16_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < m->cfg.nattrs; i++)
		n += m->cfg.attrs[i].type == type;
	return n;
}

/* ---- Quick Mode by hand ------------------------------------------------------------ */

struct qm1_arg {
	const struct ra_qm *q;
	int                 udp;
	uint8_t             ci_type;
	uint8_t             ci[8], cr[8];
};

static void
put_qm1(struct ike_builder *b, const void *arg)
{
	const struct qm1_arg *a = arg;
	struct ike_xf_spec xf = {
		.id = IPSEC_ESP_AES_CBC, .nattrs = 5,
		.attrs = { { IPSEC_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS },
			   { IPSEC_ATTR_LIFE_DURATION, 3600 },
			   { IPSEC_ATTR_ENCAP_MODE, a->udp ? IPSEC_ENCAP_UDP_TUNNEL : IPSEC_ENCAP_TUNNEL },
			   { IPSEC_ATTR_AUTH, IPSEC_AUTH_HMAC_SHA256 },
			   { IPSEC_ATTR_KEY_LENGTH, 128 } } };
	uint32_t spi_be = htonl(a->q->spi_in);

	ike_pl_sa(b, IKE_PROTO_IPSEC_ESP, (const uint8_t *)&spi_be, 4, &xf, 1);
	ike_pl_bytes(b, IKE_PL_NONCE, a->q->ni, sizeof(a->q->ni));
	ike_pl_id(b, a->ci_type, 0, 0, a->ci, a->ci_type == IKE_ID_IPV4_ADDR ? 4 : 8);
	ike_pl_id(b, IKE_ID_IPV4_ADDR_SUBNET, 0, 0, a->cr, 8);
}

void
ra_qm1(int j, struct ra_qm *q, uint8_t ci_type, uint32_t ci_be, uint32_t ci_mask_be,
       uint32_t cr_be, uint32_t cr_mask_be)
{
	struct ike_sa *sa = established_sa(j);
	struct qm1_arg a = { .q = q, .ci_type = ci_type };
	struct ra_sent s;
	uint8_t iv[IKE_BLOCK];

	assert_non_null(sa);
	memset(q, 0, sizeof(*q));
	q->msgid = fresh_msgid();
	q->spi_in = 0x1000 + (fresh_msgid() & 0xffff);
	ike_random(q->ni, sizeof(q->ni));
	a.udp = sa->floated;
	memcpy(a.ci, &ci_be, 4);
	memcpy(a.ci + 4, &ci_mask_be, 4);
	memcpy(a.cr, &cr_be, 4);
	memcpy(a.cr + 4, &cr_mask_be, 4);
	ike_iv_phase2(sa->hash, sa->iv, q->msgid, iv);
	s.msgid = q->msgid;
	s.len = build(j, IKE_XCHG_QUICK, q->msgid, iv, put_qm1, &a, 0, s.msg);
	ra_send(j, &s);
}

void
ra_qm2(int j, struct ra_qm *q, struct ra_msg *m)
{
	struct ike_sa *sa = established_sa(j);
	const struct ike_payload *no, *sap;
	uint8_t want[IKE_HASH_MAX];
	struct ike_sa_pl *p = malloc(sizeof(*p));	/* 70 KB */
	size_t rest, nids = 0;

	assert_non_null(sa);
	assert_non_null(p);
	ra_open(j, m);
	assert_int_equal(m->exchange, IKE_XCHG_QUICK);
	assert_int_equal(m->msgid, q->msgid);
	rest = m->c.pl[0].offset + 4 + m->c.pl[0].len;
	ike_qm_hash2(&sa->keys, q->msgid, q->ni, sizeof(q->ni), m->body + rest,
		     ike_chain_end(&m->c) - rest, want);
	assert_memory_equal(want, m->c.pl[0].body, sa->keys.hlen);
	no = ike_chain_find(&m->c, IKE_PL_NONCE);
	sap = ike_chain_find(&m->c, IKE_PL_SA);
	assert_non_null(no);
	assert_non_null(sap);
	assert_true(no->len <= sizeof(q->nr));
	memcpy(q->nr, no->body, no->len);
	q->nr_len = no->len;
	assert_int_equal(ike_sa_parse(sap->body, sap->len, p), 0);
	assert_int_equal(p->nprops, 1);
	assert_int_equal(p->props[0].spi_size, 4);
	q->spi_out = (uint32_t)p->props[0].spi[0] << 24 | (uint32_t)p->props[0].spi[1] << 16 |
	    (uint32_t)p->props[0].spi[2] << 8 | p->props[0].spi[3];
	free(p);
	for (size_t i = 0; i < m->c.n; i++) {
		if (m->c.pl[i].type != IKE_PL_ID)
			continue;
		assert_true(nids < 2);
		assert_int_equal(ike_id_parse(m->c.pl[i].body, m->c.pl[i].len, &q->ids[nids]), 0);
		nids++;
	}
	assert_int_equal(nids, 2);
}

void
ra_qm3(int j, const struct ra_qm *q, const struct ra_msg *m)
{
	struct ike_sa *sa = established_sa(j);
	uint8_t hash[IKE_HASH_MAX], chain[IKE_BLOCK];
	struct ike_builder b;
	struct ike_hdr h;
	struct ra_sent s;
	struct wbuf w;

	assert_non_null(sa);
	ike_qm_hash3(&sa->keys, q->msgid, q->ni, sizeof(q->ni), q->nr, q->nr_len, hash);
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = IKE_VERSION;
	h.exchange = IKE_XCHG_QUICK;
	h.msgid = q->msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_bytes(&b, IKE_PL_HASH, hash, sa->keys.hlen);
	memcpy(chain, m->iv, IKE_BLOCK);
	s.len = ike_encrypt_msg(sa, &b, chain);
	assert_true(s.len > 0 && s.len <= PKT_MAX);
	memcpy(s.msg, w.p, s.len);
	s.msgid = q->msgid;
	wbuf_free(&w);
	ra_send(j, &s);
}

/* ---- the headend and its clients -------------------------------------------------- */

static struct ike_psk_conf    psk_any;
static struct ike_pool_conf   pool;
static struct ike_dynmap_conf dyn;
static struct ike_user_conf   users[2];
static struct ike_map_conf    client_maps[NPEERS];
static struct { int initiate, xauth; } client_opts[NPEERS];

static void
base_conf(int i, struct ike_conf *c)
{
	ike_conf_defaults(c);
	c->local_be = peers[i].addr_be;
	c->npolicies = 1;
	c->policies[0] = (struct ike_policy_conf){ .priority = 10, .enc_key_len = 16,
						   .hash = IKE_HASH_SHA256, .group = 14,
						   .lifetime_s = 86400 };
	memset(&psk_any, 0, sizeof(psk_any));	/* 0.0.0.0/0: the wild card */
	memcpy(psk_any.key, "correct horse battery staple", 28);
	psk_any.key_len = 28;
	c->psks = &psk_any;
	c->npsks = 1;
}

static void
xforms(struct ike_map_conf *m)
{
	m->nxforms = 1;
	m->xforms[0] = (struct ike_xform_conf){ .cipher = ESP_CIPHER_AES_CBC, .key_len = 16,
						.auth = ESP_AUTH_HMAC_SHA256_128 };
	m->lifetime_s = 3600;
	m->lifetime_kb = 4608000;
}

/* alice/wonderland and bob/builder; hashed once (a hash costs a KDF). */
static void
users_conf(void)
{
	static char h_alice[CFG_PWHASH_MAX], h_bob[CFG_PWHASH_MAX];

	if (h_alice[0] == '\0') {
		assert_int_equal(passwd_hash("wonderland", h_alice), 0);
		assert_int_equal(passwd_hash("builder", h_bob), 0);
	}
	memset(users, 0, sizeof(users));
	snprintf(users[0].name, sizeof(users[0].name), "alice");
	snprintf(users[0].hash, sizeof(users[0].hash), "%s", h_alice);
	snprintf(users[1].name, sizeof(users[1].name), "bob");
	snprintf(users[1].hash, sizeof(users[1].hash), "%s", h_bob);
}

/* The headend: no static crypto map; the entry DYN 10 lets its clients
 * reach the LAN 10.2.0.0/16 from 10.9.0.0/24, and gives them an address of
 * RA-POOL, two DNS servers and two split-tunnel networks. Periodic DPD. */
void
ra_headend(const struct ra_opts *o)
{
	struct ike_conf c;

	base_conf(RA_HEADEND, &c);
	c.dpd = (struct dpd_settings){ .keepalive_s = 10, .retry_s = 2, .retries = 5,
				       .mode = DPD_MODE_PERIODIC };
	if (o->xauth_rate != 0)
		c.xauth_rate = o->xauth_rate;
	memset(&pool, 0, sizeof(pool));
	snprintf(pool.name, sizeof(pool.name), "RA-POOL");
	pool.start = ntohl(ip(o->first));
	pool.end = ntohl(ip(o->last));
	pool.netmask_be = ip("255.255.255.0");
	c.pools = &pool;
	c.npools = 1;
	memset(&dyn, 0, sizeof(dyn));
	snprintf(dyn.map.name, sizeof(dyn.map.name), "DYN");
	dyn.map.seq = 10;
	xforms(&dyn.map);
	dyn.map.nsel = 1;
	dyn.map.sel[0] = (struct ike_selector){ .src_be = ip("10.2.0.0"), .src_mask_be = ip("255.255.0.0"),
						.dst_be = ip("10.9.0.0"), .dst_mask_be = ip("255.255.255.0") };
	dyn.pool = 0;
	dyn.cfg_push = o->push;
	dyn.cfg_pull = !o->push;
	dyn.xauth = o->xauth;
	dyn.dns_be[0] = ip("10.2.0.53");
	dyn.dns_be[1] = ip("10.2.0.54");
	dyn.ndns = 2;
	dyn.split[0] = (struct ike_net){ ip("10.2.0.0"), ip("255.255.0.0") };
	dyn.split[1] = (struct ike_net){ ip("172.16.0.0"), ip("255.240.0.0") };
	dyn.nsplit = 2;
	c.dynmaps = &dyn;
	c.ndynmaps = o->no_dynmap ? 0 : 1;
	users_conf();
	c.users = users;
	c.nusers = 2;
	ike_configure(peers[RA_HEADEND].ike, &c, now_ms);
}

/* Client j: its crypto map names the headend. With lease_be its pairs
 * protect lease/32 <-> the LAN; without, it proposes none (a real client
 * waits for its address; the test starts Quick Mode). No DPD of its own. */
void
ra_client(int j, int initiate, int xauth, uint32_t lease_be)
{
	struct ike_map_conf *m = &client_maps[j];
	struct ike_conf c;

	client_opts[j].initiate = initiate;
	client_opts[j].xauth = xauth;
	base_conf(j, &c);
	c.dpd.keepalive_s = 0;
	c.xauth_client = xauth;
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "HEADEND");
	m->seq = 10;
	m->peers_be[0] = peers[RA_HEADEND].addr_be;
	m->npeers = 1;
	xforms(m);
	m->initiate = initiate;
	if (lease_be != 0) {
		m->nsel = 1;
		m->sel[0] = (struct ike_selector){ .src_be = lease_be, .src_mask_be = RA_HOST,
						   .dst_be = ip("10.2.0.0"), .dst_mask_be = ip("255.255.0.0") };
	}
	c.maps = m;
	c.nmaps = 1;
	ike_configure(peers[j].ike, &c, now_ms);
}

/* Client 0 connects at the first timers, client 2 too when both is set
 * (else when the test starts it). */
void
ra_setup(const struct ra_opts *o, int both)
{
	setup_peers(3, DPD_MODE_PERIODIC, 0);
	ra_headend(o);
	ra_client(0, 1, o->xauth, 0);
	ra_client(2, both, o->xauth, 0);
	ra_start(RA_HEADEND);
}

int
ra_teardown(void **state)
{
	memset(client_opts, 0, sizeof(client_opts));
	return teardown_peers(state);
}

/* The headend's client that is peer j (where the headend sees it). */
struct ike_client *
ra_hclient(int j)
{
	uint32_t be = nat_addr[j] != 0 ? nat_addr[j] : peers[j].addr_be;
	uint16_t port = nat_port[j] != 0 ? nat_port[j] : IKE_PORT;

	for (struct ike_client *cl = ike_client_of_peer(peers[RA_HEADEND].ike, be); cl != NULL;
	     cl = ike_client_next_of_peer(cl))
		if (cl->port == port)
			return cl;
	return NULL;
}

/* Client j pulls its address (asking for want_be when set): the REPLY's. */
uint32_t
ra_pull(int j, uint32_t want_be)
{
	const struct ra_attr ask[] = {
		{ .type = IKE_CFG_IP4_ADDRESS, .data = &want_be, .len = want_be != 0 ? 4 : 0 },
		{ .type = IKE_CFG_IP4_NETMASK },
	};
	static struct ra_msg m;
	struct ra_sent s;

	ra_request(j, ask, 2, &s);
	assert_int_equal(ra_held(j), 1);
	ra_open(j, &m);
	assert_int_equal(m.cfg.type, IKE_CFG_REPLY);
	assert_int_equal(m.cfg.id, s.id);
	return ra_address(&m);
}

/* Client j's engine negotiates a pair for lease/32 <-> the LAN. */
void
ra_client_qm(int j, uint32_t lease_be)
{
	ra_client(j, client_opts[j].initiate, client_opts[j].xauth, lease_be);
	assert_int_equal(ike_qm_initiate(established_sa(j), now_ms), 0);
	run_until(now_ms + 100);
}

/* Its Quick Modes still waiting for an answer are given up. */
void
ra_client_qm_abandon(int j)
{
	struct ike_sa *sa = established_sa(j);

	for (size_t i = 0; i < IKE_QM_MAX; i++) {
		if (sa->qm[i] != NULL && sa->qm[i]->state == QM_I1)
			ike_qm_free(sa, sa->qm[i]);
	}
}
