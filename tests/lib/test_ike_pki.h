/*
 * A PKI for Main Mode with signatures, made in-process with OpenSSL
 * for the engine tests and the certificate fuzzer: per key kind (RSA 2048,
 * EC P-256) a root CA, an intermediate it signs, the sim's two sites'
 * certificates from the intermediate, broken ones, and both CAs' CRLs.
 */
#ifndef TESTS_TEST_IKE_PKI_H
#define TESTS_TEST_IKE_PKI_H

#include <stddef.h>
#include <stdint.h>

enum tpki_kind { TPKI_RSA, TPKI_EC, TPKI__KINDS };

/* Leaves of the intermediate unless said otherwise; "site A's names" are
 * 192.0.2.1 and site-a.example.net (subjectAltName IP and DNS, and CN). */
enum tpki_leaf {
	TPKI_SITE_A,		/* serial 1001: site A */
	TPKI_SITE_B,		/* 1002: 192.0.2.2, site-b.example.net */
	TPKI_EXPIRED,		/* 1003: site A's names, expired an hour ago */
	TPKI_NOT_YET_VALID,	/* 1004: site A's names, valid from tomorrow */
	TPKI_UNKNOWN_CA,	/* 1005: site A's names, from a root nobody trusts
				 * (sent with that root) */
	TPKI_REVOKED,		/* 1006: site A's names, on the intermediate's CRL */
	TPKI_OTHER_HOST,	/* 1007: 192.0.2.3, site-c.example.net */
	TPKI_NO_SIGNING,	/* 1008: site A's names, keyUsage keyEncipherment only */
	TPKI__LEAVES
};

struct tpki_cred {
	char       *cert;	/* PEM: the leaf, then its chain (the intermediate) */
	char       *leaf;	/* PEM: the leaf alone */
	char       *key;	/* PEM */
	const char *subject;	/* as the engine logs them: X509_NAME_oneline, */
	const char *serial;	/* the serial in hex */
};

struct tpki {
	char            *root;		/* PEM: the one trust anchor */
	char            *other_root;	/* PEM: the root of TPKI_UNKNOWN_CA */
	char            *crls;		/* PEM: the root's CRL (empty), the
					 * intermediate's (revokes TPKI_REVOKED) */
	char            *inter_crl;	/* PEM: the intermediate's alone */
	uint8_t          root_dn[256];	/* the root's subject, DER: CERTREQ's body */
	size_t           root_dn_len;
	uint8_t          other_dn[256];
	size_t           other_dn_len;
	struct tpki_cred leaf[TPKI__LEAVES];
};

/* The PKI of one kind, made on first use (keys take time) and kept. */
const struct tpki *tpki_get(enum tpki_kind kind);
/* Frees what tpki_get made. */
void tpki_free_all(void);
/* A self-signed certificate for a given key (PEM), valid now, keyUsage
 * digitalSignature, subject O=vpn-agent test, CN=cn; malloc'd PEM. */
char *tpki_self_signed(const char *key_pem, const char *cn);

#endif
