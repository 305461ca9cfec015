/*
 * In-process test certificates (see test_pki.h).
 */
#include "test_pki.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct test_pki_ca {
	EVP_PKEY *key;
	X509     *cert;
	long      next_serial;
};

static char *
bio_text(BIO *b)
{
	char *p, *s;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

int
test_pki_pair(const char *cn, char **cert, char **key)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	X509_NAME *name;
	int rc = -1;

	*cert = *key = NULL;
	if (k == NULL || x == NULL || cb == NULL || kb == NULL)
		goto done;
	name = X509_get_subject_name(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, k, EVP_sha256()) <= 0 || !PEM_write_bio_X509(cb, x) ||
	    !PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL))
		goto done;
	*cert = bio_text(cb);
	*key = bio_text(kb);
	rc = (*cert && *key) ? 0 : -1;
done:
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static EVP_PKEY *
key_new(enum test_pki_kind kind)
{
	switch (kind) {
	case TEST_PKI_EC_P256:
		return EVP_EC_gen("P-256");
	case TEST_PKI_EC_P384:
		return EVP_EC_gen("P-384");
	case TEST_PKI_RSA_2048:
		return EVP_RSA_gen(2048);
	case TEST_PKI_RSA_1024:
		return EVP_RSA_gen(1024);
	case TEST_PKI_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	return NULL;
}

static int
ext_add(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for cn and key k, signed by issuer_key (issuer NULL:
 * self-signed), with basicConstraints bc, keyUsage ku and, unless NULL,
 * subjectAltName san, valid until not_after (0: for a day from now) and
 * from a day before it or now, whichever is earlier. */
static X509 *
cert_new(const char *cn, EVP_PKEY *k, long serial, X509 *issuer, EVP_PKEY *issuer_key,
	 const char *bc, const char *ku, const char *san, int64_t not_after)
{
	X509 *x = X509_new();
	X509_NAME *name;
	time_t now = time(NULL);

	if (x == NULL)
		return NULL;
	if (not_after == 0)
		not_after = (int64_t)now + 86400;
	name = X509_get_subject_name(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_after - 86400 < (int64_t)now ?
			  (time_t)(not_after - 86400) : now) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) == NULL) {
		X509_free(x);
		return NULL;
	}
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Example",
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	if (!ext_add(x, issuer ? issuer : x, NID_basic_constraints, bc) ||
	    !ext_add(x, issuer ? issuer : x, NID_key_usage, ku) ||
	    (san != NULL && !ext_add(x, issuer ? issuer : x, NID_subject_alt_name, san)) ||
	    X509_sign(x, issuer_key, EVP_PKEY_is_a(issuer_key, "ED25519") ? NULL :
		      EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

struct test_pki_ca *
test_pki_ca_new(const char *cn)
{
	return test_pki_ca_new_until(cn, 0);
}

struct test_pki_ca *
test_pki_ca_new_until(const char *cn, int64_t not_after)
{
	struct test_pki_ca *ca = calloc(1, sizeof(*ca));

	if (ca == NULL)
		return NULL;
	ca->next_serial = 100;
	if ((ca->key = EVP_EC_gen("P-256")) == NULL ||
	    (ca->cert = cert_new(cn, ca->key, 1, NULL, ca->key, "critical,CA:TRUE",
				 "critical,keyCertSign,cRLSign", NULL, not_after)) == NULL) {
		test_pki_ca_free(ca);
		return NULL;
	}
	return ca;
}

void
test_pki_ca_free(struct test_pki_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

char *
test_pki_ca_pem(const struct test_pki_ca *ca)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && PEM_write_bio_X509(b, ca->cert))
		s = bio_text(b);
	BIO_free(b);
	return s;
}

char *
test_pki_ca_no_certsign(const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = k ? cert_new(cn, k, 2, NULL, k, "critical,CA:TRUE",
			       "critical,digitalSignature", NULL, 0) : NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (x != NULL && b != NULL && PEM_write_bio_X509(b, x))
		s = bio_text(b);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return s;
}

static int leaf(const struct test_pki_ca *ca, const char *cn, const char *san,
		enum test_pki_kind kind, int64_t not_after, char **cert, char **key);

int
test_pki_leaf(const struct test_pki_ca *ca, const char *cn, enum test_pki_kind kind,
	      char **cert, char **key)
{
	return leaf(ca, cn, NULL, kind, 0, cert, key);
}

int
test_pki_leaf_san(const struct test_pki_ca *ca, const char *cn, const char *san,
		  enum test_pki_kind kind, char **cert, char **key)
{
	return leaf(ca, cn, san, kind, 0, cert, key);
}

int
test_pki_leaf_until(const struct test_pki_ca *ca, const char *cn, enum test_pki_kind kind,
		    int64_t not_after, char **cert, char **key)
{
	return leaf(ca, cn, NULL, kind, not_after, cert, key);
}

static int
leaf(const struct test_pki_ca *ca, const char *cn, const char *san, enum test_pki_kind kind,
     int64_t not_after, char **cert, char **key)
{
	static long serial = 1000;
	EVP_PKEY *k = key_new(kind);
	X509 *x = NULL;
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	int rc = -1;

	*cert = *key = NULL;
	if (k == NULL || cb == NULL || kb == NULL)
		goto done;
	x = cert_new(cn, k, serial++, ca ? ca->cert : NULL, ca ? ca->key : k, "CA:FALSE",
		     "critical,digitalSignature", san, not_after);
	if (x == NULL || !PEM_write_bio_X509(cb, x) ||
	    !PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL))
		goto done;
	*cert = bio_text(cb);
	*key = bio_text(kb);
	rc = (*cert && *key) ? 0 : -1;
done:
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

char *
test_pki_crl(const struct test_pki_ca *ca, long serial)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r = NULL;
	ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (crl == NULL || now == NULL || next == NULL || sn == NULL || b == NULL ||
	    X509_gmtime_adj(now, 0) == NULL || X509_gmtime_adj(next, 86400) == NULL)
		goto done;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert));
	X509_CRL_set1_lastUpdate(crl, now);
	X509_CRL_set1_nextUpdate(crl, next);
	if (serial != 0) {
		if ((r = X509_REVOKED_new()) == NULL)
			goto done;
		ASN1_INTEGER_set(sn, serial);
		X509_REVOKED_set_serialNumber(r, sn);
		X509_REVOKED_set_revocationDate(r, now);
		if (!X509_CRL_add0_revoked(crl, r))
			goto done;
		r = NULL;	/* the CRL's now */
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, ca->key, EVP_sha256()) > 0 && PEM_write_bio_X509_CRL(b, crl))
		s = bio_text(b);
done:
	X509_REVOKED_free(r);
	BIO_free(b);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(next);
	ASN1_TIME_free(now);
	X509_CRL_free(crl);
	return s;
}
