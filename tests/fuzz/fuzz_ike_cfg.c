/*
 * libFuzzer target for the attribute payload (draft-dukes-ike-mode-cfg 3.2)
 * and the transaction exchange. The input is an attribute payload body:
 * ike_cfg_parse and ike_cfg_attr must keep every attribute inside it and
 * under the caps, and what parses must build again to the same fields and,
 * the reserved byte aside, the same bytes. Then the body rides authentic
 * transaction messages (HASH, encryption) to a headend engine with two
 * remote-access clients, one with XAUTH and pushed Mode Config, one that
 * pulls: as the answer to the headend's outstanding request (XAUTH, status,
 * configuration), as a request under a fresh message ID, again, and under a
 * spent one. The engines are kept between inputs, as fuzz_ike_input's are,
 * and made again when a client is gone and every SETUP_EVERY inputs.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/passwd.h"
#include "ike/ike_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_MAX    2048	/* what one transaction message carries here */
#define SETUP_EVERY 32		/* inputs on one set of engines */
#define QUEUE_MAX   64

static const uint8_t *in_p;
static size_t in_len;

/* Parsed views must point into the input. */
static void
inside(const uint8_t *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)in_p;

	if (n == 0)
		return;
	if (p == NULL || a < lo || a - lo > in_len || n > in_len - (a - lo))
		abort();
}

/* ---- the parser ------------------------------------------------------------------ */

static void
same_payload(const struct ike_cfg_pl *a, const struct ike_cfg_pl *b)
{
	if (a->type != b->type || a->id != b->id || a->nattrs != b->nattrs)
		abort();
	for (size_t i = 0; i < a->nattrs; i++) {
		const struct ike_attr *x = &a->attrs[i], *y = &b->attrs[i];

		if (x->type != y->type || x->tv != y->tv || x->value != y->value || x->len != y->len ||
		    (x->len > 0 && memcmp(x->data, y->data, x->len) != 0))
			abort();
	}
}

/* built -> parsed -> the same fields; the same bytes but the reserved one */
static void
rebuild(const struct ike_cfg_pl *p, const uint8_t *data, size_t size)
{
	static struct ike_cfg_pl q;
	struct ike_builder b;
	struct ike_chain c;
	struct ike_hdr h;
	struct wbuf w;
	size_t len;

	memset(&h, 0, sizeof(h));
	h.version = IKE_VERSION;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_cfg_begin(&b, p->type, p->id);
	for (size_t i = 0; i < p->nattrs; i++) {
		if (p->attrs[i].tv)
			ike_attr_put_tv(&w, p->attrs[i].type, (uint16_t)p->attrs[i].value);
		else
			ike_cfg_put(&w, p->attrs[i].type, p->attrs[i].data, p->attrs[i].len);
	}
	ike_pl_end(&b);
	if ((len = ike_build_finish(&b)) == 0)
		goto done;	/* too big for one message: fine */
	if (ike_hdr_parse(w.p, len, &h) == -1 ||
	    ike_chain_parse(h.next_payload, w.p + IKE_HDR_LEN, len - IKE_HDR_LEN, 0, &c) == -1 ||
	    c.n != 1 || c.pl[0].type != IKE_PL_ATTR || c.pl[0].len != size ||
	    ike_cfg_parse(c.pl[0].body, c.pl[0].len, &q) == -1)
		abort();
	same_payload(p, &q);
	if (c.pl[0].body[0] != data[0] || memcmp(c.pl[0].body + 2, data + 2, size - 2) != 0)
		abort();
done:
	wbuf_free(&w);
}

static void
check_parser(const uint8_t *data, size_t size)
{
	static struct ike_cfg_pl p;

	if (ike_cfg_parse(data, size, &p) == -1)
		return;
	if (p.type < IKE_CFG_REQUEST || p.type > IKE_CFG_ACK || p.nattrs > IKE_CFG_ATTRS_MAX)
		abort();
	for (size_t i = 0; i < p.nattrs; i++) {
		const struct ike_attr *a = &p.attrs[i], *first = ike_cfg_attr(&p, a->type);

		if ((a->type & IKE_ATTR_AF) || (a->tv && (a->value > UINT16_MAX || a->len != 0)))
			abort();
		if (!a->tv)
			inside(a->data, a->len);
		if (first == NULL || first > a || first->type != a->type)
			abort();
	}
	rebuild(&p, data, size);
}

/* ---- the engines: a headend and two clients ------------------------------------- */

enum { HE, XC, PC, NENG };		/* headend, XAUTH client, pulling client */

static struct ike *eng[NENG];
static uint32_t addr[NENG];
static int64_t now = 1000;
static uint32_t next_msgid = 0x10000, spent_msgid;
static unsigned inputs;
static struct {
	int      to;
	uint32_t src;
	uint16_t sport, dport;
	size_t   len;
	uint8_t  d[IKE_MSG_MAX];
} q[QUEUE_MAX];
static size_t nq;

static int
wire_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	  const uint8_t *msg, size_t len)
{
	int to = -1;

	for (int i = 0; i < NENG; i++)
		if (addr[i] == dst_be)
			to = i;
	if (to < 0 || nq == QUEUE_MAX || len > IKE_MSG_MAX)
		return 0;
	q[nq].to = to;
	q[nq].src = *(const uint32_t *)ctx;
	q[nq].sport = local_port;
	q[nq].dport = dst_port;
	q[nq].len = len;
	memcpy(q[nq].d, msg, len);
	nq++;
	return 0;
}

static void
pump(void)
{
	for (size_t i = 0; i < nq; i++)	/* sends while delivering append behind i */
		ike_input(eng[q[i].to], q[i].dport, q[i].src, q[i].sport, q[i].d, q[i].len, now);
	nq = 0;
}

static void
base_conf(int i, struct ike_conf *c, struct ike_psk_conf *psk)
{
	ike_conf_defaults(c);
	c->local_be = addr[i];
	c->dpd.keepalive_s = 10;
	c->dpd.mode = DPD_MODE_PERIODIC;
	c->npolicies = 1;
	c->policies[0] = (struct ike_policy_conf){ .priority = 1, .enc_key_len = 16,
						   .hash = IKE_HASH_SHA1, .group = 19,
						   .lifetime_s = 86400 };
	memset(psk, 0, sizeof(*psk));		/* the wild card */
	memcpy(psk->key, "fuzz-psk", 8);
	psk->key_len = 8;
	c->psks = psk;
	c->npsks = 1;
}

static void
map_conf(struct ike_map_conf *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->name, name, strlen(name));
	m->seq = 10;
	m->nxforms = 1;
	m->xforms[0] = (struct ike_xform_conf){ .cipher = ESP_CIPHER_AES_CBC, .key_len = 16,
						.auth = ESP_AUTH_HMAC_SHA256_128 };
	m->lifetime_s = 3600;
	m->lifetime_kb = 4608000;
}

/* DYNX 10: XAUTH, pushed; DYNP 20: pulled. One pool, one user. */
static void
headend_conf(void)
{
	static struct ike_psk_conf psk;
	static struct ike_pool_conf pool = { "POOL", 0x0a090001, 0x0a0900fe, 0 };
	static struct ike_dynmap_conf dyn[2];
	static struct ike_user_conf user = { "alice", "" };
	struct ike_conf c;

	if (user.hash[0] == '\0' && passwd_hash("wonderland", user.hash) == -1)
		abort();
	base_conf(HE, &c, &psk);
	pool.netmask_be = htonl(0xffffff00);
	for (int i = 0; i < 2; i++) {
		map_conf(&dyn[i].map, i == 0 ? "DYNX" : "DYNP");
		dyn[i].map.seq = 10 + 10 * (unsigned)i;
		dyn[i].map.nsel = 1;
		dyn[i].map.sel[0] = (struct ike_selector){ .src_be = htonl(0x0a020000),
							   .src_mask_be = htonl(0xffff0000),
							   .dst_be = htonl(0x0a090000),
							   .dst_mask_be = htonl(0xffffff00) };
		dyn[i].pool = 0;
		dyn[i].xauth = i == 0;
		dyn[i].cfg_push = i == 0;
		dyn[i].cfg_pull = i == 1;
		dyn[i].dns_be[0] = htonl(0x0a020035);
		dyn[i].ndns = 1;
		dyn[i].split[0] = (struct ike_net){ htonl(0x0a020000), htonl(0xffff0000) };
		dyn[i].nsplit = 1;
	}
	c.pools = &pool;
	c.npools = 1;
	c.dynmaps = dyn;
	c.ndynmaps = 2;
	c.users = &user;
	c.nusers = 1;
	ike_configure(eng[HE], &c, now);
}

static void
client_conf(int i)
{
	static struct ike_psk_conf psk[NENG];
	static struct ike_map_conf map[NENG];
	struct ike_conf c;

	base_conf(i, &c, &psk[i]);
	c.xauth_client = i == XC;
	map_conf(&map[i], "HE");
	map[i].peers_be[0] = addr[HE];
	map[i].npeers = 1;
	map[i].initiate = 1;
	c.maps = &map[i];
	c.nmaps = 1;
	ike_configure(eng[i], &c, now);
}

static struct ike_client *
client(int i)
{
	return ike_client_of_peer(eng[HE], addr[i]);
}

/* The engines made again: both clients connected (XAUTH REQUEST out). */
static void
setup(void)
{
	for (int i = 0; i < NENG; i++) {
		struct ike_transport tr = { &addr[i], wire_send };

		ike_free(eng[i]);
		addr[i] = htonl(0xc0000201 + (uint32_t)i);
		eng[i] = ike_new(&tr, NULL);
	}
	headend_conf();
	client_conf(XC);
	client_conf(PC);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < NENG; i++)
			ike_timer(eng[i], now);
		pump();
	}
	/* The deep paths need this: a fuzzer that never reaches them is
	 * useless, so refuse to run. */
	if (client(XC) == NULL || client(PC) == NULL || client(XC)->tx_out == NULL)
		abort();
	inputs = 0;
}

/* The body as the attribute payload of an authentic transaction message
 * of client i under msgid, its CBC chain from iv (NULL: the Phase 2 IV). */
static void
send_tx(int i, uint32_t msgid, const uint8_t *iv_in, const uint8_t *body, size_t len)
{
	static const uint8_t zero[IKE_HASH_MAX];
	struct ike_client *cl = client(i);
	struct ike_sa *sa = cl != NULL ? cl->t.sa : NULL;
	uint8_t iv[IKE_BLOCK];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	size_t hash_off, n;

	if (sa == NULL)
		return;
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = IKE_VERSION;
	h.exchange = IKE_XCHG_TRANSACTION;
	h.msgid = msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	hash_off = w.len + 4;
	ike_pl_bytes(&b, IKE_PL_HASH, zero, sa->keys.hlen);
	ike_pl_bytes(&b, IKE_PL_ATTR, body, len);
	if (w.err)
		goto done;
	ike_fill_hash1(sa, &w, hash_off, msgid, NULL, 0);
	if (iv_in != NULL)
		memcpy(iv, iv_in, sizeof(iv));
	else
		ike_iv_phase2(sa->hash, sa->iv, msgid, iv);
	if ((n = ike_encrypt_msg(sa, &b, iv)) != 0)	/* the SA may go in there */
		ike_input(eng[HE], sa->local_port, addr[i], sa->peer_port, w.p, n, now);
	nq = 0;		/* what the headend says is not needed */
done:
	wbuf_free(&w);
}

/* Whether the engines should be made again: a client gone, the XAUTH
 * client stuck (an answer of the wrong type ends the headend's request
 * and it does not ask again), or SETUP_EVERY inputs on them. */
static int
setup_due(void)
{
	struct ike_client *x = eng[HE] != NULL ? client(XC) : NULL;

	return x == NULL || client(PC) == NULL || ++inputs > SETUP_EVERY ||
	    (!x->xauth_ok && (x->tx_out == NULL || x->tx_out->out.next_ms == 0));
}

static void
check_engine(const uint8_t *data, size_t size)
{
	struct ike_client *cl;
	uint32_t msgid;

	if (setup_due())
		setup();
	now += 600;	/* past the resend pace; the XAUTH bucket refills */
	/* XAUTH client: the answer to what the headend asks, else a request */
	cl = client(XC);
	if (cl->tx_out != NULL && cl->tx_out->out.next_ms != 0) {
		uint8_t iv[IKE_BLOCK];

		memcpy(iv, cl->tx_out->iv, sizeof(iv));
		send_tx(XC, cl->tx_out->msgid, iv, data, size);
	} else {
		send_tx(XC, next_msgid++, NULL, data, size);
	}
	/* pulling client: a request, the same again, then under a spent ID */
	msgid = next_msgid++;
	send_tx(PC, msgid, NULL, data, size);
	now += IKE_RESEND_MS;
	send_tx(PC, msgid, NULL, data, size);
	if (spent_msgid != 0)
		send_tx(PC, spent_msgid, NULL, data, size);
	spent_msgid = msgid;
	for (int i = 0; i < NENG; i++)
		ike_timer(eng[i], now);
	nq = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;

	if (!quiet) {
		log_init("fuzz", LOG_LEVEL__COUNT);	/* silent */
		quiet = 1;
	}
	in_p = data;
	in_len = size;
	check_parser(data, size);
	if (size > BODY_MAX)
		return 0;
	check_engine(data, size);
	return 0;
}
