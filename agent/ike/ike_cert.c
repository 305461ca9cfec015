/*
 * Certificates for Main Mode with signatures (RFC 2409 5.1, RFC 4754;
 * SPEC R-16): our certificate, its chain and key, the CAs we trust and
 * their CRLs, parsed once per configuration; signing HASH_I/HASH_R as IKEv1
 * signs it (RSA: PKCS#1 v1.5 padding of the bare hash, no DigestInfo;
 * ECDSA P-256: the hash as the digest, r | s of 32 bytes each), and
 * checking a peer: its chain to a trusted CA (validity, revocation when
 * CRLs are given, key usage) and its identity against the certificate.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define ECDSA_P256_SIG_LEN 64

struct ike_pki {
	X509            *cert;		/* ours */
	STACK_OF(X509)  *chain;		/* its intermediates, sent after it */
	EVP_PKEY        *key;
	X509_STORE      *store;		/* trusted CAs and CRLs */
	int              crls;		/* CRLs given: revocation is checked */
	STACK_OF(X509_NAME) *ca_names;	/* for CERTREQ */
};

const char *const ike_cert_fail_names[IKE_CERT__COUNT] = {
	[IKE_CERT_OK] = "ok",
	[IKE_CERT_EXPIRED] = "expired",
	[IKE_CERT_NOT_YET_VALID] = "not yet valid",
	[IKE_CERT_UNKNOWN_CA] = "unknown CA",
	[IKE_CERT_REVOKED] = "revoked",
	[IKE_CERT_IDENTITY] = "identity mismatch",
	[IKE_CERT_BAD_SIGNATURE] = "bad signature",
	[IKE_CERT_INVALID] = "invalid",
};

static void
ssl_err(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	log_warnx("IKE certificates: %s: %s", what, e ? buf : "no detail");
	ERR_clear_error();
}

void
ike_pki_free(struct ike_pki *p)
{
	if (p == NULL)
		return;
	X509_free(p->cert);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	X509_STORE_free(p->store);
	sk_X509_NAME_pop_free(p->ca_names, X509_NAME_free);
	free(p);
}

/* Every certificate of a PEM text, in order; NULL when none parses. */
static STACK_OF(X509) *
pem_certs(const char *pem)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;

	while (b != NULL && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	ERR_clear_error();	/* the end of the text reads as an error */
	BIO_free(b);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

static int
key_fits(EVP_PKEY *key, int auth)
{
	if (auth == IKE_AUTH_METHOD_RSA)
		return EVP_PKEY_base_id(key) == EVP_PKEY_RSA;
	if (auth == IKE_AUTH_METHOD_ECDSA_P256) {
		char curve[32];
		size_t len;

		return EVP_PKEY_base_id(key) == EVP_PKEY_EC &&
		    EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), &len) == 1 &&
		    strcmp(curve, "prime256v1") == 0;
	}
	return 0;
}

struct ike_pki *
ike_pki_new(const struct ike_conf *c)
{
	struct ike_pki *p;
	STACK_OF(X509) *cas = NULL;

	if (c->cert_pem == NULL && c->cas_pem == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->store = X509_STORE_new();
	p->ca_names = sk_X509_NAME_new_null();
	if (c->cert_pem != NULL && c->key_pem != NULL) {
		STACK_OF(X509) *mine = pem_certs(c->cert_pem);
		BIO *b = BIO_new_mem_buf(c->key_pem, -1);

		p->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		if (mine == NULL || p->key == NULL) {
			ssl_err("our certificate or key does not parse; signatures disabled");
			sk_X509_pop_free(mine, X509_free);
			EVP_PKEY_free(p->key);
			p->key = NULL;
		} else {
			p->cert = sk_X509_shift(mine);
			p->chain = mine;
			if (X509_check_private_key(p->cert, p->key) != 1) {
				ssl_err("our key does not match our certificate; signatures disabled");
				EVP_PKEY_free(p->key);
				p->key = NULL;
			}
		}
	}
	if (c->cas_pem != NULL && (cas = pem_certs(c->cas_pem)) != NULL) {
		for (int i = 0; i < sk_X509_num(cas); i++) {
			X509 *ca = sk_X509_value(cas, i);

			X509_STORE_add_cert(p->store, ca);
			sk_X509_NAME_push(p->ca_names, X509_NAME_dup(X509_get_subject_name(ca)));
		}
		sk_X509_pop_free(cas, X509_free);
	}
	if (c->crls_pem != NULL) {
		BIO *b = BIO_new_mem_buf(c->crls_pem, -1);
		X509_CRL *crl;

		while (b != NULL && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
			X509_STORE_add_crl(p->store, crl);
			X509_CRL_free(crl);
			p->crls++;
		}
		ERR_clear_error();
		BIO_free(b);
	}
	return p;
}

int
ike_pki_can_sign(const struct ike_pki *p, int auth)
{
	return p != NULL && p->cert != NULL && p->key != NULL && key_fits(p->key, auth);
}

/* ---- what we send ---------------------------------------------------------------- */

size_t
ike_pki_certs(const struct ike_pki *p, const uint8_t **der, size_t *len, size_t max,
	      uint8_t **owned)
{
	size_t n = 0;

	if (p == NULL || p->cert == NULL)
		return 0;
	for (int i = -1; i < sk_X509_num(p->chain) && n < max; i++) {
		X509 *x = i < 0 ? p->cert : sk_X509_value(p->chain, i);
		unsigned char *buf = NULL;
		int l = i2d_X509(x, &buf);

		if (l <= 0)
			break;
		owned[n] = buf;
		der[n] = buf;
		len[n++] = (size_t)l;
	}
	return n;
}

size_t
ike_pki_subject(const struct ike_pki *p, uint8_t *out, size_t max)
{
	unsigned char *buf = NULL;
	int l;

	if (p == NULL || p->cert == NULL ||
	    (l = i2d_X509_NAME(X509_get_subject_name(p->cert), &buf)) <= 0)
		return 0;
	if ((size_t)l > max) {
		OPENSSL_free(buf);
		return 0;
	}
	memcpy(out, buf, (size_t)l);
	OPENSSL_free(buf);
	return (size_t)l;
}

size_t
ike_pki_ca_count(const struct ike_pki *p)
{
	return p == NULL ? 0 : (size_t)sk_X509_NAME_num(p->ca_names);
}

size_t
ike_pki_ca_name(const struct ike_pki *p, size_t i, uint8_t *out, size_t max)
{
	unsigned char *buf = NULL;
	int l = i2d_X509_NAME(sk_X509_NAME_value(p->ca_names, (int)i), &buf);

	if (l <= 0 || (size_t)l > max) {
		OPENSSL_free(buf);
		return 0;
	}
	memcpy(out, buf, (size_t)l);
	OPENSSL_free(buf);
	return (size_t)l;
}

/* ---- signatures -------------------------------------------------------------------- */

size_t
ike_pki_sign(const struct ike_pki *p, int auth, const uint8_t *hash, size_t hlen, uint8_t *out,
	     size_t max)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t der[IKE_SIG_MAX];
	size_t len = sizeof(der), rc = 0;

	if (!ike_pki_can_sign(p, auth) || (ctx = EVP_PKEY_CTX_new(p->key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1)
		goto done;
	if (auth == IKE_AUTH_METHOD_RSA) {
		/* PKCS#1 v1.5 type 1 padding of the hash alone (RFC 2409 5.1) */
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_sign(ctx, NULL, &len, hash, hlen) != 1 || len > max ||
		    EVP_PKEY_sign(ctx, out, &len, hash, hlen) != 1)
			goto done;
		rc = len;
	} else {
		const unsigned char *q = der;
		ECDSA_SIG *sig;
		const BIGNUM *r, *s;

		if (EVP_PKEY_sign(ctx, der, &len, hash, hlen) != 1 ||
		    (sig = d2i_ECDSA_SIG(NULL, &q, (long)len)) == NULL)
			goto done;
		ECDSA_SIG_get0(sig, &r, &s);
		if (max >= ECDSA_P256_SIG_LEN && BN_bn2binpad(r, out, 32) == 32 &&
		    BN_bn2binpad(s, out + 32, 32) == 32)
			rc = ECDSA_P256_SIG_LEN;
		ECDSA_SIG_free(sig);
	}
done:
	if (rc == 0)
		ssl_err("signing");
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int
verify_sig(X509 *leaf, int auth, const uint8_t *hash, size_t hlen, const uint8_t *sig,
	   size_t slen)
{
	EVP_PKEY *key = X509_get0_pubkey(leaf);
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *der = NULL;
	int ok = 0, dlen;

	if (key == NULL || !key_fits(key, auth) || (ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) != 1)
		goto done;
	if (auth == IKE_AUTH_METHOD_RSA) {
		/* k octets (RFC 8017 8.2.2): the raw operation would also take
		 * the signature without its leading zero bytes */
		ok = slen == (size_t)EVP_PKEY_get_size(key) &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_verify(ctx, sig, slen, hash, hlen) == 1;
	} else {
		ECDSA_SIG *es;

		if (slen != ECDSA_P256_SIG_LEN || (es = ECDSA_SIG_new()) == NULL)
			goto done;
		if (ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)) != 1) {
			ECDSA_SIG_free(es);
			goto done;
		}
		dlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		ok = dlen > 0 && EVP_PKEY_verify(ctx, der, (size_t)dlen, hash, hlen) == 1;
	}
done:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* ---- a peer's certificate ----------------------------------------------------------- */

static enum ike_cert_fail
chain_error(int err)
{
	switch (err) {
	case X509_V_OK:
		return IKE_CERT_OK;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return IKE_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return IKE_CERT_NOT_YET_VALID;
	case X509_V_ERR_CERT_REVOKED:
		return IKE_CERT_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return IKE_CERT_UNKNOWN_CA;
	default:
		return IKE_CERT_INVALID;
	}
}

/* With CRLs given, revocation is checked where a CA's CRL is among them:
 * a CA without one does not make every certificate below it invalid (as
 * IOS's `revocation-check crl none` checks when a CRL is at hand). */
static int
crl_where_given(int ok, X509_STORE_CTX *ctx)
{
	if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL) {
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 1;
	}
	return ok;
}

/* The identity of the ID payload (RFC 2407 4.6.2) is the certificate's:
 * an address or a name among its subjectAltNames, or its subject. */
static int
identity_matches(X509 *leaf, const struct ike_id_pl *id)
{
	char name[IKE_NAME_MAX];
	const unsigned char *q;
	X509_NAME *dn;
	int ok;

	switch (id->type) {
	case IKE_ID_IPV4_ADDR:
		return id->len == 4 && X509_check_ip(leaf, id->data, 4, 0) == 1;
	case IKE_ID_FQDN:
		if (id->len == 0 || id->len >= sizeof(name))
			return 0;
		memcpy(name, id->data, id->len);
		name[id->len] = '\0';
		return X509_check_host(leaf, name, id->len, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
	case IKE_ID_DER_ASN1_DN:
		q = id->data;
		if ((dn = d2i_X509_NAME(NULL, &q, (long)id->len)) == NULL)
			return 0;
		ok = X509_NAME_cmp(dn, X509_get_subject_name(leaf)) == 0;
		X509_NAME_free(dn);
		return ok;
	default:
		return 0;
	}
}

static void
describe(X509 *x, char *subject, size_t ssize, char *serial, size_t nsize)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	X509_NAME_oneline(X509_get_subject_name(x), subject, (int)ssize);
	str_copy(serial, nsize, hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

enum ike_cert_fail
ike_pki_check_peer(const struct ike_pki *p, int auth, const struct ike_cert_in *in,
		   const struct ike_id_pl *id, const uint8_t *hash, size_t hlen, int64_t real_s,
		   char *subject, size_t ssize, char *serial, size_t nsize)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf = NULL;
	enum ike_cert_fail why = IKE_CERT_INVALID;

	subject[0] = serial[0] = '\0';
	if (p == NULL || in->n == 0)
		goto done;
	for (size_t i = 0; i < in->n; i++) {
		const unsigned char *q = in->der[i];
		X509 *x = d2i_X509(NULL, &q, (long)in->len[i]);

		if (x == NULL || q != in->der[i] + in->len[i]) {
			X509_free(x);
			goto done;
		}
		if (leaf == NULL)
			leaf = x;
		else
			sk_X509_push(untrusted, x);
	}
	describe(leaf, subject, ssize, serial, nsize);
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, p->store, leaf, untrusted) != 1)
		goto done;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)real_s);
	if (p->crls) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
		X509_STORE_CTX_set_verify_cb(ctx, crl_where_given);
	}
	if (X509_verify_cert(ctx) != 1) {
		why = chain_error(X509_STORE_CTX_get_error(ctx));
		if (why == IKE_CERT_OK)
			why = IKE_CERT_INVALID;
		goto done;
	}
	/* a signing certificate: keyUsage digitalSignature when it says */
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		goto done;
	if (!identity_matches(leaf, id)) {
		why = IKE_CERT_IDENTITY;
		goto done;
	}
	why = verify_sig(leaf, auth, hash, hlen, in->sig, in->sig_len) ? IKE_CERT_OK :
	    IKE_CERT_BAD_SIGNATURE;
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	return why;
}
