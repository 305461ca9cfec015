/*
 * Diffie-Hellman for the IKEv1 key exchange on OpenSSL 3 EVP: MODP groups 2
 * (RFC 2409 6.2) and 14 (RFC 3526 3) and ECP group 19 (RFC 5903). Peer
 * values get a cheap explicit check (MODP: 1 < y < p-1; ECP: on the curve)
 * and OpenSSL's full public-key validation, which makes a MODP exchange
 * four to seven times dearer, is off for the derive (performance.md A3).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "core/log.h"
#include "ike/crypto.h"

#define ECP256_COORD 32		/* one coordinate and the shared secret */

enum dh_kind { DH_MODP, DH_ECP };

struct dh_group {
	int            id;
	enum dh_kind   kind;
	const char    *name;	/* OpenSSL group name; NULL: explicit p and g */
	BIGNUM      *(*prime)(BIGNUM *);	/* MODP: OpenSSL's copy of the prime */
	size_t         pub_len;	/* public value on the wire */
};

/* OpenSSL 3 knows group 14 as "modp_2048" (with q); it has no name for the
 * 1024-bit Oakley group, so group 2 is built from p (RFC 2409 6.2) and g 2. */
static const struct dh_group dh_groups[] = {
	{ IKE_DH_MODP1024, DH_MODP, NULL, BN_get_rfc2409_prime_1024, 128 },
	{ IKE_DH_MODP2048, DH_MODP, "modp_2048", BN_get_rfc3526_prime_2048, 256 },
	{ IKE_DH_ECP256, DH_ECP, "P-256", NULL, 2 * ECP256_COORD },
};

#define DH_NGROUPS (sizeof(dh_groups) / sizeof(dh_groups[0]))

struct ike_dh {
	const struct dh_group *grp;
	EVP_PKEY              *pkey;
	uint8_t                pub[IKE_DH_MAX];
};

static const struct dh_group *
group_find(int id)
{
	for (size_t i = 0; i < DH_NGROUPS; i++)
		if (dh_groups[i].id == id)
			return &dh_groups[i];
	return NULL;
}

size_t
ike_dh_pub_len(int group)
{
	const struct dh_group *g = group_find(group);

	return g == NULL ? 0 : g->pub_len;
}

int
ike_dh_supported(int group)
{
	return group_find(group) != NULL;
}

/* Logs an unexpected OpenSSL failure; rejected peer values stay quiet. */
static void
ossl_warn(const char *what)
{
	char err[256];

	ERR_error_string_n(ERR_get_error(), err, sizeof(err));
	log_warnx("ike crypto: %s: %s", what, err);
	ERR_clear_error();
}

/*
 * A key of the group from the parts already pushed onto bld (public or
 * private values, or nothing for bare parameters); the group's own
 * parameters are added here. selection: EVP_PKEY_KEY_PARAMETERS,
 * EVP_PKEY_PUBLIC_KEY or EVP_PKEY_KEYPAIR.
 */
static EVP_PKEY *
key_fromdata(const struct dh_group *g, OSSL_PARAM_BLD *bld, int selection)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *p = NULL, *gen = NULL;

	if (g->name != NULL) {
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						     g->name, 0))
			goto done;
	} else {
		if ((p = g->prime(NULL)) == NULL ||
		    (gen = BN_new()) == NULL || !BN_set_word(gen, 2) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, gen))
			goto done;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, g->kind == DH_MODP ? "DH" : "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
		pkey = NULL;
done:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	BN_free(p);
	BN_free(gen);
	return pkey;
}

/* Our public value in wire form: fixed width, x || y for ECP. */
static int
pub_export(struct ike_dh *dh)
{
	uint8_t pt[1 + 2 * ECP256_COORD];
	BIGNUM *y = NULL;
	size_t n = 0;
	int ret = -1;

	if (dh->grp->kind == DH_MODP) {
		if (!EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) ||
		    BN_bn2binpad(y, dh->pub, (int)dh->grp->pub_len) < 0)
			goto done;
	} else {
		/* Uncompressed SEC 1 point: 0x04 || x || y. */
		if (!EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, pt,
						     sizeof(pt), &n) ||
		    n != sizeof(pt) || pt[0] != POINT_CONVERSION_UNCOMPRESSED)
			goto done;
		memcpy(dh->pub, pt + 1, dh->grp->pub_len);
	}
	ret = 0;
done:
	BN_free(y);
	return ret;
}

/* Wraps a fresh key pair; takes pkey, frees it on failure. */
static struct ike_dh *
dh_wrap(const struct dh_group *g, EVP_PKEY *pkey)
{
	struct ike_dh *dh = NULL;

	if (pkey == NULL)
		goto done;
	if ((dh = OPENSSL_zalloc(sizeof(*dh))) == NULL) {
		EVP_PKEY_free(pkey);
		goto done;
	}
	dh->grp = g;
	dh->pkey = pkey;
	if (pub_export(dh) == -1) {
		ossl_warn("public value export");
		ike_dh_free(dh);
		dh = NULL;
	}
done:
	return dh;
}

/*
 * Parameter keys, one per group, built once: building a group (P-256
 * especially) costs as much as a third of a key generation, so keys are
 * generated from these. Freed at exit, before OpenSSL's own cleanup.
 */
static EVP_PKEY *dh_params[DH_NGROUPS];
/* Each MODP prime big-endian in pub_len bytes, for the peer value check. */
static uint8_t dh_primes[DH_NGROUPS][IKE_DH_MAX];
static int dh_primes_ok[DH_NGROUPS];
static pthread_once_t dh_params_once = PTHREAD_ONCE_INIT;

static void
params_free(void)
{
	for (size_t i = 0; i < DH_NGROUPS; i++) {
		EVP_PKEY_free(dh_params[i]);
		dh_params[i] = NULL;
	}
}

static void
params_init(void)
{
	OSSL_PARAM_BLD *bld;

	for (size_t i = 0; i < DH_NGROUPS; i++) {
		BIGNUM *p = dh_groups[i].prime ? dh_groups[i].prime(NULL) : NULL;

		dh_primes_ok[i] = p != NULL &&
		    BN_bn2binpad(p, dh_primes[i], (int)dh_groups[i].pub_len) >= 0;
		BN_free(p);
		if ((bld = OSSL_PARAM_BLD_new()) == NULL)
			continue;
		dh_params[i] = key_fromdata(&dh_groups[i], bld, EVP_PKEY_KEY_PARAMETERS);
		OSSL_PARAM_BLD_free(bld);
	}
	atexit(params_free);
}

/* NULL if the group's parameters could not be built. */
static EVP_PKEY *
params_get(const struct dh_group *g)
{
	pthread_once(&dh_params_once, params_init);
	return dh_params[g - dh_groups];
}

struct ike_dh *
ike_dh_new(int group)
{
	const struct dh_group *g = group_find(group);
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *params, *pkey = NULL;
	struct ike_dh *dh = NULL;

	if (g == NULL)
		goto done;
	if ((params = params_get(g)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &pkey) <= 0) {
		ossl_warn("key generation");
		goto done;
	}
	dh = dh_wrap(g, pkey);
done:
	EVP_PKEY_CTX_free(ctx);
	return dh;
}

void
ike_dh_free(struct ike_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->pkey);	/* clears the private key */
	OPENSSL_clear_free(dh, sizeof(*dh));
}

int
ike_dh_public(const struct ike_dh *dh, uint8_t *out, size_t outlen)
{
	int ret = -1;

	if (dh == NULL || outlen < dh->grp->pub_len)
		goto done;
	memcpy(out, dh->pub, dh->grp->pub_len);
	ret = 0;
done:
	return ret;
}

/*
 * MODP peer value: exactly pub_len bytes with 1 < y < p-1. For these
 * safe-prime groups the only small subgroup is {1, p-1}, so this is all
 * the validation the exchange needs (RFC 6989 rationale). Big-endian
 * strings of equal length compare numerically with memcmp.
 */
static int
modp_peer_ok(const struct dh_group *g, const uint8_t *y, size_t len)
{
	uint8_t pm1[IKE_DH_MAX];
	size_t i;
	int ok = 0;

	pthread_once(&dh_params_once, params_init);
	if (len != g->pub_len || !dh_primes_ok[g - dh_groups])
		goto done;
	for (i = 0; i < len - 1 && y[i] == 0; i++)
		;
	if (i == len - 1 && y[i] <= 1)
		goto done;
	memcpy(pm1, dh_primes[g - dh_groups], len);
	pm1[len - 1] -= 1;	/* p is odd: no borrow */
	ok = memcmp(y, pm1, len) < 0;
done:
	return ok;
}

/*
 * The peer's public value as a key of our group; NULL if invalid. Our
 * parameters are copied (no group to build, unlike EVP_PKEY_fromdata) and
 * the value set in wire form, as libssl does with TLS key shares. The EC
 * decode refuses coordinates >= p and points off the curve; x || y has no
 * encoding for the point at infinity. OpenSSL's DH decode range-checks y
 * again, cheaply.
 */
static EVP_PKEY *
peer_import(const struct ike_dh *dh, const uint8_t *peer, size_t len)
{
	uint8_t pt[1 + 2 * ECP256_COORD];
	const uint8_t *enc = peer;
	size_t enc_len = len;
	EVP_PKEY *pkey = NULL;

	if (len != dh->grp->pub_len)
		goto done;
	if (dh->grp->kind == DH_MODP) {
		if (!modp_peer_ok(dh->grp, peer, len))
			goto done;
	} else {
		pt[0] = POINT_CONVERSION_UNCOMPRESSED;
		memcpy(pt + 1, peer, len);
		enc = pt;
		enc_len = sizeof(pt);
	}
	if ((pkey = EVP_PKEY_new()) == NULL || EVP_PKEY_copy_parameters(pkey, dh->pkey) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(pkey, enc, enc_len) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
done:
	ERR_clear_error();	/* a refused point leaves decode errors */
	return pkey;
}

int
ike_dh_derive(struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *secret,
	      size_t *slen)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t want, n;
	int ret = -1;

	if (dh == NULL || peer == NULL ||
	    (pk = peer_import(dh, peer, peer_len)) == NULL)
		goto done;
	want = dh->grp->kind == DH_MODP ? dh->grp->pub_len : ECP256_COORD;
	n = want;
	/* validate_peer = 0: the range/curve check above is the validation. */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0 ||
	    (dh->grp->kind == DH_MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) <= 0 ||
	    EVP_PKEY_derive(ctx, secret, &n) <= 0 || n != want) {
		ossl_warn("derive");
		OPENSSL_cleanse(secret, want);
		goto done;
	}
	*slen = n;
	ret = 0;
done:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ret;
}

/*
 * For known-answer tests: a key pair from a fixed private value (big-endian;
 * MODP: the exponent x, ECP: the scalar d), the public value computed here.
 */
static EVP_PKEY *
keypair_from_private(const struct dh_group *g, const BIGNUM *x, BN_CTX *bnctx)
{
	uint8_t pt[1 + 2 * ECP256_COORD];
	OSSL_PARAM_BLD *bld = NULL;
	EC_GROUP *ecg = NULL;
	EC_POINT *q = NULL;
	BIGNUM *p = NULL, *gen = NULL, *y = NULL;
	EVP_PKEY *pkey = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x))
		goto done;
	if (g->kind == DH_MODP) {
		if ((p = g->prime(NULL)) == NULL ||
		    (gen = BN_new()) == NULL || (y = BN_new()) == NULL ||
		    !BN_set_word(gen, 2) || !BN_mod_exp(y, gen, x, p, bnctx) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y))
			goto done;
	} else {
		if ((ecg = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
		    (q = EC_POINT_new(ecg)) == NULL ||
		    !EC_POINT_mul(ecg, q, x, NULL, NULL, bnctx) ||
		    EC_POINT_point2oct(ecg, q, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt),
				       bnctx) != sizeof(pt) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
						      sizeof(pt)))
			goto done;
	}
	pkey = key_fromdata(g, bld, EVP_PKEY_KEYPAIR);
done:
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(q);
	EC_GROUP_free(ecg);
	BN_free(p);
	BN_free(gen);
	BN_free(y);
	return pkey;
}

struct ike_dh *
ike_dh_new_from_private(int group, const uint8_t *priv, size_t priv_len)
{
	const struct dh_group *g = group_find(group);
	struct ike_dh *dh = NULL;
	BN_CTX *bnctx = NULL;
	BIGNUM *x = NULL;

	if (g == NULL || priv_len == 0 || priv_len > g->pub_len ||
	    (bnctx = BN_CTX_new()) == NULL || (x = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, (int)priv_len, x) == NULL || BN_is_zero(x))
		goto done;
	BN_set_flags(x, BN_FLG_CONSTTIME);
	dh = dh_wrap(g, keypair_from_private(g, x, bnctx));
done:
	BN_clear_free(x);
	BN_CTX_free(bnctx);
	return dh;
}
