/*
 * IKE handshake throughput: two engines in one process (fake transport), a
 * full Main Mode + Quick Mode per iteration, DH groups 14 and 19, pre-shared
 * key, RSA 2048 and ECDSA P-256 signatures; beside the bound of the same
 * run: both sides' keygen + derive and, with signatures, each side's sign
 * and its check of the peer's certificate (the best any IKE could do here).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "ike/ike_int.h"
#include "ike_pair.h"
#include "test_pki.h"

#define HASH_LEN 32	/* HASH_I/HASH_R with SHA-256, what each side signs */

/* How the pair authenticates; the PKI and the per-operation costs are
 * made and measured once, at start. */
struct auth_row {
	const char        *name;	/* the API's / IOS's word */
	int                auth;	/* enum ike_auth_method */
	enum test_pki_kind kind;
	char              *cert[2], *key[2];	/* engine i: 192.0.2.(i+1) */
	double             t_sign, t_check, t_verify;	/* CPU seconds, one side */
};

static struct auth_row auths[] = {
	{ .name = "pre-share", .auth = IKE_AUTH_METHOD_PSK },
	{ .name = "rsa-sig", .auth = IKE_AUTH_METHOD_RSA, .kind = TEST_PKI_RSA_2048 },
	{ .name = "ecdsa-sig", .auth = IKE_AUTH_METHOD_ECDSA_P256, .kind = TEST_PKI_EC_P256 },
};
#define NAUTHS (sizeof(auths) / sizeof(auths[0]))

static struct ike_pair_wire w;
static uint64_t installs;
static char *ca_pem;

static void
count_install(void *ctx, const struct ike_child_sa *sa)
{
	installs++;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "bench_ike: %s\n", what);
	exit(1);
}

static int
is_sig(int auth)
{
	return auth != IKE_AUTH_METHOD_PSK;
}

/* Engine i's certificate settings for row a (none for a pre-shared key). */
static void
conf_pki(struct ike_conf *c, const struct auth_row *a, int i)
{
	c->policies[0].auth = a->auth;
	if (!is_sig(a->auth))
		return;
	c->cert_pem = a->cert[i];	/* the chain: the leaf alone, the CA is the root */
	c->key_pem = a->key[i];
	c->cas_pem = ca_pem;
}

/* A CA (P-256) and, per signature method, a leaf for each engine whose
 * subjectAltName is its address: the identity is the address. */
static void
pki_make(void)
{
	struct test_pki_ca *ca = test_pki_ca_new("bench CA");

	if (ca == NULL || (ca_pem = test_pki_ca_pem(ca)) == NULL)
		die("test PKI: CA");
	for (size_t a = 0; a < NAUTHS; a++) {
		for (int i = 0; is_sig(auths[a].auth) && i < 2; i++) {
			char cn[32], san[32];

			snprintf(cn, sizeof(cn), "192.0.2.%d", i + 1);
			snprintf(san, sizeof(san), "IP:192.0.2.%d", i + 1);
			if (test_pki_leaf_san(ca, cn, san, auths[a].kind, &auths[a].cert[i],
					      &auths[a].key[i]) == -1)
				die("test PKI: leaf");
		}
	}
	test_pki_ca_free(ca);
}

static void
pki_free(void)
{
	for (size_t a = 0; a < NAUTHS; a++) {
		for (int i = 0; i < 2; i++) {
			free(auths[a].cert[i]);
			if (auths[a].key[i] != NULL)
				OPENSSL_cleanse(auths[a].key[i], strlen(auths[a].key[i]));
			free(auths[a].key[i]);
		}
	}
	free(ca_pem);
}

static void
configure(int group, const struct auth_row *a, int64_t now)
{
	static struct ike_psk_conf psk[2];
	static struct ike_map_conf maps[2];

	for (int i = 0; i < 2; i++) {
		struct ike_conf c;

		ike_pair_conf(i, w.addr, group, IKE_HASH_SHA256, &c, &maps[i], &psk[i]);
		conf_pki(&c, a, i);
		ike_configure(w.eng[i], &c, now);
	}
}

/* Both engines hold an ISAKMP SA established with method auth (a
 * signature row that fell back to anything else would measure that). */
static int
established_with(int auth)
{
	for (int i = 0; i < 2; i++) {
		const struct ike_sa *sa = w.eng[i]->sas;

		while (sa != NULL && !(sa->state == SA_ESTABLISHED && sa->auth == auth))
			sa = sa->next;
		if (sa == NULL)
			return 0;
	}
	return 1;
}

/* Full handshakes per CPU second, both sides on this core. */
static double
handshakes(int group, const struct auth_row *a, double seconds)
{
	int64_t now = 1000;
	double t0;
	uint64_t n = 0;

	for (int i = 0; i < 2; i++) {
		struct ike_transport tr = { &w, ike_pair_send };
		struct ike_dataplane dp = { .install = count_install };

		w.eng[i] = ike_new(&tr, &dp);
	}
	configure(group, a, now);
	t0 = cpu_s();
	while (cpu_s() - t0 < seconds) {
		ike_clear(w.eng[0], 0, now);
		ike_clear(w.eng[1], 0, now);
		w.n = 0;
		installs = 0;
		now += 1;
		ike_timer(w.eng[0], now);
		ike_pair_pump(&w, now);
		if (installs != 2 || !established_with(a->auth))
			die("handshake did not complete");
		n++;
	}
	ike_free(w.eng[0]);
	ike_free(w.eng[1]);
	return (double)n / (cpu_s() - t0);
}

/* Both sides' keygen + derive (peer check included) per CPU second. */
static double
dh_bound(int group, double seconds)
{
	uint8_t pa[IKE_DH_MAX], pb[IKE_DH_MAX], s[IKE_DH_MAX];
	size_t len = ike_dh_pub_len(group), sl;
	double t0 = cpu_s();
	uint64_t n = 0;

	while (cpu_s() - t0 < seconds) {
		struct ike_dh *a = ike_dh_new(group), *b = ike_dh_new(group);

		ike_dh_public(a, pa, len);
		ike_dh_public(b, pb, len);
		if (ike_dh_derive(a, pb, len, s, &sl) == -1 || ike_dh_derive(b, pa, len, s, &sl) == -1)
			exit(1);
		ike_dh_free(a);
		ike_dh_free(b);
		n++;
	}
	return (double)n / (cpu_s() - t0);
}

/* ---- one side's signature work, through the engine's own calls ------------- */

/* Engine 0 signs, engine 1 checks engine 0, as in message 5 or 6. */
struct sig_work {
	struct ike_pki   *pki[2];
	int               auth;
	uint8_t           hash[HASH_LEN];
	uint8_t           sig[IKE_SIG_MAX];
	size_t            sig_len;
	uint8_t          *owned[IKE_CERTS_MAX];
	struct ike_cert_in in;		/* engine 0's CERT payloads and SIG */
	struct ike_id_pl  id;		/* its ID: its address */
	EVP_PKEY         *pub;		/* its leaf's key, for the verify alone */
};

static int
op_sign(void *ctx)
{
	struct sig_work *s = ctx;

	s->sig_len = ike_pki_sign(s->pki[0], s->auth, s->hash, HASH_LEN, s->sig, sizeof(s->sig));
	return s->sig_len > 0 ? 0 : -1;
}

/* What ike_mm.c's verify_auth pays for a peer's certificate: parse it,
 * chain it to a trusted CA (X509_verify_cert), key usage, identity, and
 * the signature. */
static int
op_check(void *ctx)
{
	struct sig_work *s = ctx;
	char subject[256], serial[64];

	return ike_pki_check_peer(s->pki[1], s->auth, &s->in, &s->id, s->hash, HASH_LEN,
				  (int64_t)time(NULL), subject, sizeof(subject), serial,
				  sizeof(serial)) == IKE_CERT_OK ? 0 : -1;
}

/* The signature verify alone, the calls ike_cert.c's verify_sig makes
 * (RSA: PKCS#1 v1.5 of the bare hash; ECDSA: r | s to DER, then verify). */
static int
op_verify(void *ctx)
{
	struct sig_work *s = ctx;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(s->pub, NULL);
	unsigned char *der = NULL;
	int ok = 0, dlen;

	if (pc == NULL || EVP_PKEY_verify_init(pc) != 1)
		goto done;
	if (s->auth == IKE_AUTH_METHOD_RSA) {
		ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_verify(pc, s->sig, s->sig_len, s->hash, HASH_LEN) == 1;
	} else {
		ECDSA_SIG *es = ECDSA_SIG_new();

		if (es == NULL || ECDSA_SIG_set0(es, BN_bin2bn(s->sig, 32, NULL),
						 BN_bin2bn(s->sig + 32, 32, NULL)) != 1) {
			ECDSA_SIG_free(es);
			goto done;
		}
		dlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		ok = dlen > 0 && EVP_PKEY_verify(pc, der, (size_t)dlen, s->hash, HASH_LEN) == 1;
	}
done:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -1;
}

/* CPU seconds per call of op, over about seconds. */
static double
per_op(int (*op)(void *), void *ctx, double seconds, const char *what)
{
	double t0 = cpu_s(), t;
	uint64_t n = 0;

	do {
		for (int k = 0; k < 8; k++) {
			if (op(ctx) == -1)
				die(what);
		}
		n += 8;
	} while ((t = cpu_s() - t0) < seconds);
	return t / (double)n;
}

static void
sig_costs(struct auth_row *a, double seconds)
{
	struct sig_work s = { .auth = a->auth };
	X509 *leaf;
	const unsigned char *q;

	for (int i = 0; i < 2; i++) {
		struct ike_conf c = { 0 };

		c.cert_pem = a->cert[i];
		c.key_pem = a->key[i];
		c.cas_pem = ca_pem;
		if ((s.pki[i] = ike_pki_new(&c)) == NULL || !ike_pki_can_sign(s.pki[i], a->auth))
			die("certificate settings refused");
	}
	for (size_t k = 0; k < HASH_LEN; k++)
		s.hash[k] = (uint8_t)(k * 37 + 11);
	s.in.n = ike_pki_certs(s.pki[0], s.in.der, s.in.len, IKE_CERTS_MAX, s.owned);
	s.id = (struct ike_id_pl){ .type = IKE_ID_IPV4_ADDR, .proto = 17, .port = IKE_PORT,
				   .data = (const uint8_t *)&w.addr[0], .len = 4 };
	q = s.in.der[0];
	if (s.in.n == 0 || (leaf = d2i_X509(NULL, &q, (long)s.in.len[0])) == NULL)
		die("our certificate");
	s.pub = X509_get_pubkey(leaf);
	X509_free(leaf);
	a->t_sign = per_op(op_sign, &s, seconds, "signing");
	s.in.sig = s.sig;
	s.in.sig_len = s.sig_len;
	a->t_check = per_op(op_check, &s, seconds, "the peer check refused a good certificate");
	a->t_verify = per_op(op_verify, &s, seconds, "verify refused a good signature");
	EVP_PKEY_free(s.pub);
	for (size_t k = 0; k < s.in.n; k++)
		OPENSSL_free(s.owned[k]);
	ike_pki_free(s.pki[0]);
	ike_pki_free(s.pki[1]);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	static const int groups[] = { 14, 19 };

	log_init("bench", LOG_LEVEL__COUNT);
	w.addr[0] = htonl(0xc0000201);
	w.addr[1] = htonl(0xc0000202);
	pki_make();
	for (size_t a = 0; a < NAUTHS; a++) {
		if (is_sig(auths[a].auth))
			sig_costs(&auths[a], secs / 2);
	}
	printf("%-8s %-10s %14s %14s %8s\n", "group", "auth", "handshakes/s", "bound/s", "ratio");
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		double t_kx = 1.0 / dh_bound(groups[g], secs);

		for (size_t a = 0; a < NAUTHS; a++) {
			const struct auth_row *r = &auths[a];
			double b = 1.0 / (t_kx + 2 * r->t_sign + 2 * r->t_check);
			double h = handshakes(groups[g], r, secs);

			printf("%-8d %-10s %14.0f %14.0f %7.0f%%\n", groups[g], r->name, h, b,
			       100.0 * h / b);
		}
	}
	printf("(both peers on one core; MM + QM each, AES-128/SHA-256, no PFS; bound: both sides'\n"
	       " DH keygen + derive, with signatures + each side's sign + its check of the peer:\n"
	       " certificate parse, chain to the CA (X509_verify_cert, CA key P-256), identity,\n"
	       " signature verify; the engine's own ike_pki_sign / ike_pki_check_peer)\n");
	for (size_t a = 0; a < NAUTHS; a++) {
		const struct auth_row *r = &auths[a];

		if (is_sig(r->auth))
			printf("(%s, one side: sign %.0f us, peer check %.0f us of which signature "
			       "verify %.0f us)\n", r->name, r->t_sign * 1e6, r->t_check * 1e6,
			       r->t_verify * 1e6);
	}
	pki_free();
	return 0;
}
