/*
 * Test certificates made in-process, in PEM: a self-signed P-256 pair for
 * the API tests and the API fuzzer; and a small PKI for certificate
 * authentication: a CA, leaf certificates of several key kinds
 * that it issues, and its CRLs.
 */
#ifndef TESTS_TEST_PKI_H
#define TESTS_TEST_PKI_H

#include <stdint.h>

/* 0 with *cert and *key (free() them), or -1. */
int test_pki_pair(const char *cn, char **cert, char **key);

enum test_pki_kind {
	TEST_PKI_EC_P256,
	TEST_PKI_EC_P384,
	TEST_PKI_RSA_2048,
	TEST_PKI_RSA_1024,
	TEST_PKI_ED25519,
};

struct test_pki_ca;

/* A CA: CN cn, a P-256 key, basicConstraints critical CA:TRUE, keyUsage
 * keyCertSign and cRLSign. NULL on failure. */
struct test_pki_ca *test_pki_ca_new(const char *cn);
/* The same, valid until not_after (seconds since the epoch). */
struct test_pki_ca *test_pki_ca_new_until(const char *cn, int64_t not_after);
void                test_pki_ca_free(struct test_pki_ca *ca);
/* Its certificate (free()). */
char               *test_pki_ca_pem(const struct test_pki_ca *ca);
/* A self-signed CA:TRUE certificate whose keyUsage is digitalSignature
 * only: a CA that may not sign certificates (free()). */
char               *test_pki_ca_no_certsign(const char *cn);
/* A certificate for cn, not a CA (basicConstraints CA:FALSE), with a new
 * key of kind, issued by ca (NULL: self-signed), valid for a day.
 * 0 with *cert and *key (free() them), or -1. */
int                 test_pki_leaf(const struct test_pki_ca *ca, const char *cn,
				  enum test_pki_kind kind, char **cert, char **key);
/* The same with subjectAltName san in OpenSSL's notation ("IP:192.0.2.1",
 * "DNS:gw.example.net,IP:192.0.2.1"), the identity IKE checks. */
int                 test_pki_leaf_san(const struct test_pki_ca *ca, const char *cn,
				      const char *san, enum test_pki_kind kind,
				      char **cert, char **key);
/* The same, valid until not_after (seconds since the epoch; in the past:
 * an expired certificate). */
int                 test_pki_leaf_until(const struct test_pki_ca *ca, const char *cn,
					enum test_pki_kind kind, int64_t not_after, char **cert,
					char **key);
/* A CRL signed by ca revoking serial number serial (0: none) (free()). */
char               *test_pki_crl(const struct test_pki_ca *ca, long serial);

#endif
