/*
 * The in-process test PKI of test_ike_pki.h: keys, certificates and CRLs
 * with OpenSSL, written out as PEM the way an operator configures them.
 * Validity is against the real clock (the engine checks time(NULL)).
 */
#include "test_ike_pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY  (24L * 3600)
#define YEAR (365 * DAY)

static struct tpki pkis[TPKI__KINDS];
static int         made[TPKI__KINDS];

/* Test setup that cannot go on. */
static void
need(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "test PKI: %s failed\n", what);
		abort();
	}
}

static EVP_PKEY *
keygen(enum tpki_kind kind)
{
	EVP_PKEY *k = kind == TPKI_RSA ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");

	need(k != NULL, "key generation");
	return k;
}

static void
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);

	need(e != NULL && X509_add_ext(x, e, -1) == 1, "extension");
	X509_EXTENSION_free(e);
}

struct cert_spec {
	const char *org, *cn;
	long        serial;
	long        from_s, to_s;	/* validity, from now */
	int         ca;
	const char *san;		/* "IP:...,DNS:..." or NULL */
	const char *key_usage;
};

/* A certificate for key, signed by issuer (NULL: self-signed). */
static X509 *
make_cert(const struct cert_spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;

	need(x != NULL && name != NULL, "X509_new");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial);
	X509_gmtime_adj(X509_getm_notBefore(x), s->from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), s->to_s);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)s->org, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	add_ext(x, &v3, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(x, &v3, NID_key_usage, s->key_usage);
	add_ext(x, &v3, NID_subject_key_identifier, "hash");
	add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (s->san != NULL)
		add_ext(x, &v3, NID_subject_alt_name, s->san);
	need(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
	return x;
}

/* issuer's CRL, valid from an hour ago for a week, revoking `serial` (0: none). */
static X509_CRL *
make_crl(X509 *issuer, EVP_PKEY *key, long serial)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = X509_gmtime_adj(NULL, -3600), *next = X509_gmtime_adj(NULL, 7 * DAY);

	need(crl != NULL && last != NULL && next != NULL, "X509_CRL_new");
	X509_CRL_set_version(crl, 1);	/* v2 */
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_CRL_set1_lastUpdate(crl, last);
	X509_CRL_set1_nextUpdate(crl, next);
	if (serial != 0) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		need(r != NULL && sn != NULL, "X509_REVOKED_new");
		ASN1_INTEGER_set(sn, serial);
		X509_REVOKED_set_serialNumber(r, sn);
		X509_REVOKED_set_revocationDate(r, last);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_sort(crl);
	need(X509_CRL_sign(crl, key, EVP_sha256()) > 0, "X509_CRL_sign");
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return crl;
}

/* What a memory BIO holds, as a NUL-terminated string (malloc). */
static char *
bio_text(BIO *b)
{
	char *p, *s;
	long n = BIO_get_mem_data(b, &p);

	need(n >= 0, "BIO_get_mem_data");
	s = malloc((size_t)n + 1);
	need(s != NULL, "malloc");
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

static char *
pem_certs(X509 *a, X509 *b)
{
	BIO *m = BIO_new(BIO_s_mem());
	char *s;

	need(m != NULL && PEM_write_bio_X509(m, a) == 1 && (b == NULL || PEM_write_bio_X509(m, b) == 1),
	     "PEM_write_bio_X509");
	s = bio_text(m);
	BIO_free(m);
	return s;
}

static char *
pem_key(EVP_PKEY *k)
{
	BIO *m = BIO_new(BIO_s_mem());
	char *s;

	need(m != NULL && PEM_write_bio_PrivateKey(m, k, NULL, NULL, 0, NULL, NULL) == 1,
	     "PEM_write_bio_PrivateKey");
	s = bio_text(m);
	BIO_free(m);
	return s;
}

static char *
pem_crls(X509_CRL *a, X509_CRL *b)
{
	BIO *m = BIO_new(BIO_s_mem());
	char *s;

	need(m != NULL && PEM_write_bio_X509_CRL(m, a) == 1 &&
	     (b == NULL || PEM_write_bio_X509_CRL(m, b) == 1), "PEM_write_bio_X509_CRL");
	s = bio_text(m);
	BIO_free(m);
	return s;
}

static size_t
der_name(X509 *x, uint8_t *out, size_t max)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(X509_get_subject_name(x), &der);

	need(n > 0 && (size_t)n <= max, "i2d_X509_NAME");
	memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	return (size_t)n;
}

#define ORG     "vpn-agent test"
#define SAN_A   "IP:192.0.2.1,DNS:site-a.example.net"
#define LEAF_KU "critical,digitalSignature"

/* The leaves; subject and serial are what the engine's log line says. */
static const struct {
	struct cert_spec spec;
	int              key;		/* 0: site A's, 1: site B's, 2: site C's */
	int              other_ca;
	const char      *subject, *serial;
} leaves[TPKI__LEAVES] = {
	[TPKI_SITE_A] = { { ORG, "site-a.example.net", 0x1001, -DAY, YEAR, 0, SAN_A, LEAF_KU },
			  0, 0, "/O=" ORG "/CN=site-a.example.net", "1001" },
	[TPKI_SITE_B] = { { ORG, "site-b.example.net", 0x1002, -DAY, YEAR, 0,
			    "IP:192.0.2.2,DNS:site-b.example.net", LEAF_KU },
			  1, 0, "/O=" ORG "/CN=site-b.example.net", "1002" },
	[TPKI_EXPIRED] = { { ORG, "site-a.example.net", 0x1003, -30 * DAY, -3600, 0, SAN_A, LEAF_KU },
			   0, 0, "/O=" ORG "/CN=site-a.example.net", "1003" },
	[TPKI_NOT_YET_VALID] = { { ORG, "site-a.example.net", 0x1004, DAY, 30 * DAY, 0, SAN_A,
				   LEAF_KU },
				 0, 0, "/O=" ORG "/CN=site-a.example.net", "1004" },
	[TPKI_UNKNOWN_CA] = { { "elsewhere", "site-a.example.net", 0x1005, -DAY, YEAR, 0, SAN_A,
				LEAF_KU },
			      0, 1, "/O=elsewhere/CN=site-a.example.net", "1005" },
	[TPKI_REVOKED] = { { ORG, "site-a.example.net", 0x1006, -DAY, YEAR, 0, SAN_A, LEAF_KU },
			   0, 0, "/O=" ORG "/CN=site-a.example.net", "1006" },
	[TPKI_OTHER_HOST] = { { ORG, "site-c.example.net", 0x1007, -DAY, YEAR, 0,
				"IP:192.0.2.3,DNS:site-c.example.net", LEAF_KU },
			      2, 0, "/O=" ORG "/CN=site-c.example.net", "1007" },
	[TPKI_NO_SIGNING] = { { ORG, "site-a.example.net", 0x1008, -DAY, YEAR, 0, SAN_A,
				"critical,keyEncipherment" },
			      0, 0, "/O=" ORG "/CN=site-a.example.net", "1008" },
};

static void
make(enum tpki_kind kind, struct tpki *p)
{
	const char *k = kind == TPKI_RSA ? "RSA" : "EC";
	char root_cn[64], inter_cn[64], other_cn[64];
	EVP_PKEY *root_k = keygen(kind), *inter_k = keygen(kind), *other_k = keygen(kind);
	EVP_PKEY *site_k[3] = { keygen(kind), keygen(kind), keygen(kind) };
	struct cert_spec rs = { ORG, root_cn, 1, -DAY, 10 * YEAR, 1, NULL,
				"critical,keyCertSign,cRLSign" };
	struct cert_spec is = { ORG, inter_cn, 2, -DAY, 5 * YEAR, 1, NULL,
				"critical,keyCertSign,cRLSign" };
	struct cert_spec os = { "elsewhere", other_cn, 1, -DAY, 10 * YEAR, 1, NULL,
				"critical,keyCertSign,cRLSign" };
	X509 *root, *inter, *other;
	X509_CRL *root_crl, *inter_crl;

	snprintf(root_cn, sizeof(root_cn), "Test Root CA (%s)", k);
	snprintf(inter_cn, sizeof(inter_cn), "Test Intermediate CA (%s)", k);
	snprintf(other_cn, sizeof(other_cn), "Other Root CA (%s)", k);
	root = make_cert(&rs, root_k, NULL, NULL);
	inter = make_cert(&is, inter_k, root, root_k);
	other = make_cert(&os, other_k, NULL, NULL);
	p->root = pem_certs(root, NULL);
	p->other_root = pem_certs(other, NULL);
	p->root_dn_len = der_name(root, p->root_dn, sizeof(p->root_dn));
	p->other_dn_len = der_name(other, p->other_dn, sizeof(p->other_dn));
	root_crl = make_crl(root, root_k, 0);
	inter_crl = make_crl(inter, inter_k, leaves[TPKI_REVOKED].spec.serial);
	p->crls = pem_crls(root_crl, inter_crl);
	p->inter_crl = pem_crls(inter_crl, NULL);
	for (int i = 0; i < TPKI__LEAVES; i++) {
		X509 *ca = leaves[i].other_ca ? other : inter;
		EVP_PKEY *key = site_k[leaves[i].key];
		X509 *x = make_cert(&leaves[i].spec, key, ca, leaves[i].other_ca ? other_k : inter_k);

		p->leaf[i].cert = pem_certs(x, ca);
		p->leaf[i].leaf = pem_certs(x, NULL);
		p->leaf[i].key = pem_key(key);
		p->leaf[i].subject = leaves[i].subject;
		p->leaf[i].serial = leaves[i].serial;
		X509_free(x);
	}
	X509_CRL_free(root_crl);
	X509_CRL_free(inter_crl);
	X509_free(root);
	X509_free(inter);
	X509_free(other);
	EVP_PKEY_free(root_k);
	EVP_PKEY_free(inter_k);
	EVP_PKEY_free(other_k);
	for (int i = 0; i < 3; i++)
		EVP_PKEY_free(site_k[i]);
}

const struct tpki *
tpki_get(enum tpki_kind kind)
{
	if (!made[kind]) {
		make(kind, &pkis[kind]);
		made[kind] = 1;
	}
	return &pkis[kind];
}

void
tpki_free_all(void)
{
	for (int k = 0; k < TPKI__KINDS; k++) {
		struct tpki *p = &pkis[k];

		if (!made[k])
			continue;
		free(p->root);
		free(p->other_root);
		free(p->crls);
		free(p->inter_crl);
		for (int i = 0; i < TPKI__LEAVES; i++) {
			free(p->leaf[i].cert);
			free(p->leaf[i].leaf);
			free(p->leaf[i].key);
		}
		memset(p, 0, sizeof(*p));
		made[k] = 0;
	}
}

char *
tpki_self_signed(const char *key_pem, const char *cn)
{
	struct cert_spec spec = { ORG, cn, 1, -DAY, YEAR, 0, NULL, LEAF_KU };
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	X509 *x;
	char *pem;

	need(k != NULL, "PEM_read_bio_PrivateKey");
	x = make_cert(&spec, k, NULL, NULL);
	pem = pem_certs(x, NULL);
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(b);
	return pem;
}
