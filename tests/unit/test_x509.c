/*
 * X.509 checks for certificate authentication (agent/core/x509.c) against
 * certificates made in the test: RSA 2048 and EC P-256 keys fit IKE, P-384,
 * RSA 1024, Ed25519 and a key of another certificate do not; CA
 * certificates and bundles, a leaf as a CA refused; CRLs block by block
 * with the bad one's index; notAfter and the subject for the metrics, of the
 * first certificate and of every certificate of a chain or bundle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/x509.h"
#include "test_pki.h"

struct pki {
	struct test_pki_ca *ca;
	char *ca_pem;
	char *rsa_cert, *rsa_key, *ec_cert, *ec_key;
};

static int
setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_non_null(p->ca = test_pki_ca_new("Test CA"));
	assert_non_null(p->ca_pem = test_pki_ca_pem(p->ca));
	assert_int_equal(test_pki_leaf(p->ca, "gw-rsa", TEST_PKI_RSA_2048, &p->rsa_cert,
				       &p->rsa_key), 0);
	assert_int_equal(test_pki_leaf(p->ca, "gw-ec", TEST_PKI_EC_P256, &p->ec_cert,
				       &p->ec_key), 0);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pki *p = *state;

	test_pki_ca_free(p->ca);
	free(p->ca_pem);
	free(p->rsa_cert);
	free(p->rsa_key);
	free(p->ec_cert);
	free(p->ec_key);
	free(p);
	return 0;
}

static char *
concat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	assert_non_null(s);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

/* A key of kind on its own self-signed certificate: refused with text. */
static void
cert_key_refused(enum test_pki_kind kind, const char *text)
{
	char why[X509_WHY_MAX] = "", *cert, *key;

	assert_int_equal(test_pki_leaf(NULL, "gw", kind, &cert, &key), 0);
	assert_int_equal(x509_check_cert_key(cert, key, why, sizeof(why)), -1);
	if (strstr(why, text) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", why, text);
	assert_non_null(strstr(why, "RSA of 2048 bits or more"));
	assert_non_null(strstr(why, "EC P-256"));
	free(cert);
	free(key);
}

static void
test_cert_key(void **state)
{
	struct pki *p = *state;
	char why[X509_WHY_MAX] = "", *chain;

	assert_int_equal(x509_check_cert_key(p->rsa_cert, p->rsa_key, why, sizeof(why)), 0);
	assert_int_equal(x509_check_cert_key(p->ec_cert, p->ec_key, why, sizeof(why)), 0);
	chain = concat(p->ec_cert, p->ca_pem);	/* the leaf first, its CA after it */
	assert_int_equal(x509_check_cert_key(chain, p->ec_key, why, sizeof(why)), 0);
	free(chain);

	cert_key_refused(TEST_PKI_EC_P384, "secp384r1");
	cert_key_refused(TEST_PKI_RSA_1024, "RSA of 1024 bits");
	cert_key_refused(TEST_PKI_ED25519, "ED25519");

	assert_int_equal(x509_check_cert_key(p->rsa_cert, p->ec_key, why, sizeof(why)), -1);
	assert_string_equal(why, "the private key does not match the certificate");
	assert_int_equal(x509_check_cert_key(p->ec_cert, p->rsa_key, why, sizeof(why)), -1);
	assert_int_equal(x509_check_cert_key("junk", p->ec_key, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a PEM certificate"));
	assert_int_equal(x509_check_cert_key(p->ec_cert, "junk", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "private key"));
	assert_int_equal(x509_check_cert_key(p->ec_cert, NULL, why, sizeof(why)), -1);
	assert_int_equal(x509_check_cert_key(NULL, p->ec_key, why, sizeof(why)), -1);
}

static void
test_ca(void **state)
{
	struct pki *p = *state;
	struct test_pki_ca *other = test_pki_ca_new("Other CA");
	char why[X509_WHY_MAX] = "", *other_pem, *both, *with_leaf, *self, *key;

	assert_non_null(other);
	assert_non_null(other_pem = test_pki_ca_pem(other));
	assert_int_equal(x509_check_ca(p->ca_pem, why, sizeof(why)), 0);
	both = concat(p->ca_pem, other_pem);
	assert_int_equal(x509_check_ca(both, why, sizeof(why)), 0);

	/* a leaf (CA:FALSE), a certificate without basicConstraints */
	assert_int_equal(x509_check_ca(p->ec_cert, why, sizeof(why)), -1);
	assert_string_equal(why, "certificate 0 is not a CA (it has no basicConstraints "
			    "CA:TRUE)");
	assert_int_equal(test_pki_pair("self", &self, &key), 0);
	assert_int_equal(x509_check_ca(self, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a CA"));
	with_leaf = concat(p->ca_pem, p->rsa_cert);
	assert_int_equal(x509_check_ca(with_leaf, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "certificate 1 is not a CA"));

	free(self);
	assert_non_null(self = test_pki_ca_no_certsign("no-certsign"));
	assert_int_equal(x509_check_ca(self, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "lacks keyCertSign"));

	assert_int_equal(x509_check_ca("junk", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a PEM certificate"));
	assert_int_equal(x509_check_ca("", why, sizeof(why)), -1);
	assert_int_equal(x509_check_ca(NULL, why, sizeof(why)), -1);
	free(other_pem);
	free(both);
	free(with_leaf);
	free(self);
	free(key);
	test_pki_ca_free(other);
}

static void
test_crls(void **state)
{
	struct pki *p = *state;
	char why[X509_WHY_MAX] = "", *a = test_pki_crl(p->ca, 1000), *b = test_pki_crl(p->ca, 0);
	char *ab, *a_cert, *broken, *no_end, *a_junk;
	size_t bad = 99;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(x509_check_crls(NULL, &bad, why, sizeof(why)), 0);
	assert_int_equal(x509_check_crls("", &bad, why, sizeof(why)), 0);
	assert_int_equal(x509_check_crls(a, &bad, why, sizeof(why)), 0);
	ab = concat(a, b);
	assert_int_equal(x509_check_crls(ab, &bad, why, sizeof(why)), 0);

	/* a certificate is a PEM block, but not a CRL */
	a_cert = concat(a, p->ca_pem);
	assert_int_equal(x509_check_crls(a_cert, &bad, why, sizeof(why)), -1);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "not an X509 CRL"));

	/* one base64 character of the second CRL changed */
	broken = concat(a, b);
	broken[strlen(a) + 60] = broken[strlen(a) + 60] == 'A' ? 'B' : 'A';
	assert_int_equal(x509_check_crls(broken, &bad, why, sizeof(why)), -1);
	assert_int_equal(bad, 1);

	no_end = strdup(a);
	*strstr(no_end, "-----END") = '\0';
	assert_int_equal(x509_check_crls(no_end, &bad, why, sizeof(why)), -1);
	assert_int_equal(bad, 0);
	assert_non_null(strstr(why, "no END line"));

	a_junk = concat(a, "junk\n");
	assert_int_equal(x509_check_crls(a_junk, &bad, why, sizeof(why)), -1);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "outside a PEM block"));
	free(a);
	free(b);
	free(ab);
	free(a_cert);
	free(broken);
	free(no_end);
	free(a_junk);
}

static void
test_not_after_and_subject(void **state)
{
	struct pki *p = *state;
	char out[128], small[8];
	int64_t t = x509_not_after(p->rsa_cert), now = (int64_t)time(NULL);

	/* issued for a day, a moment ago */
	assert_true(t > now + 86400 - 120 && t <= now + 86400 + 1);
	assert_int_equal(x509_not_after("junk"), -1);
	assert_int_equal(x509_not_after(NULL), -1);

	assert_int_equal(x509_subject(p->rsa_cert, out, sizeof(out)), 0);
	assert_string_equal(out, "CN=gw-rsa,O=Example");
	assert_int_equal(x509_subject(p->ca_pem, out, sizeof(out)), 0);
	assert_string_equal(out, "CN=Test CA,O=Example");
	assert_int_equal(x509_subject(p->rsa_cert, small, sizeof(small)), -1);
	assert_string_equal(small, "");
	assert_int_equal(x509_subject("junk", out, sizeof(out)), -1);
	assert_string_equal(out, "");
}

/* A self-signed certificate whose subject is five 60-letter OUs. */
static char *
long_subject_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	char ou[61], *p, *s = NULL;
	long n;

	assert_true(k != NULL && x != NULL && b != NULL);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 9);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	for (int i = 0; i < 5; i++) {
		memset(ou, 'a' + i, sizeof(ou) - 1);
		ou[sizeof(ou) - 1] = '\0';
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "OU", MBSTRING_ASC,
					   (const unsigned char *)ou, -1, -1, 0);
	}
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, k, EVP_sha256()) > 0 && PEM_write_bio_X509(b, x) &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return s;
}

/* Every certificate of a PEM text: a leaf with its chain after it, each
 * with its own notAfter; a key block between them skipped; a cap. */
static void
test_expiries(void **state)
{
	int64_t now = (int64_t)time(NULL);
	struct test_pki_ca *ca = test_pki_ca_new_until("Chain CA", now + 40 * 86400);
	char *ca_pem, *leaf, *key, *chain, *with_key, *bad_tail;
	char *long_pem, long_subject[1024];
	struct x509_expiry x[3];

	assert_non_null(ca);
	assert_non_null(ca_pem = test_pki_ca_pem(ca));
	assert_int_equal(test_pki_leaf_until(ca, "gw.example.net", TEST_PKI_EC_P256,
					     now + 20 * 86400, &leaf, &key), 0);
	chain = concat(leaf, ca_pem);
	memset(x, 0xa5, sizeof(x));
	assert_int_equal(x509_expiries(chain, x, 3), 2);
	assert_int_equal(x[0].not_after, now + 20 * 86400);
	assert_string_equal(x[0].subject, "CN=gw.example.net,O=Example");
	assert_int_equal(x[1].not_after, now + 40 * 86400);
	assert_string_equal(x[1].subject, "CN=Chain CA,O=Example");
	/* the first agrees with the single-certificate facts */
	assert_int_equal(x[0].not_after, x509_not_after(chain));

	/* past max: counted, not stored */
	memset(x, 0, sizeof(x));
	assert_int_equal(x509_expiries(chain, x, 1), 2);
	assert_string_equal(x[0].subject, "CN=gw.example.net,O=Example");
	assert_string_equal(x[1].subject, "");
	assert_int_equal(x509_expiries(chain, NULL, 0), 2);

	/* a key block between two certificates is not a certificate */
	with_key = concat(key, chain);
	assert_int_equal(x509_expiries(with_key, x, 3), 2);
	assert_string_equal(x[1].subject, "CN=Chain CA,O=Example");

	/* the walk ends at a certificate block that does not parse */
	bad_tail = concat(leaf, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	assert_int_equal(x509_expiries(bad_tail, x, 3), 1);
	assert_int_equal(x509_expiries("junk", x, 3), 0);
	assert_int_equal(x509_expiries("", x, 3), 0);
	assert_int_equal(x509_expiries(NULL, x, 3), 0);

	/* an expired certificate: notAfter in the past, as it is */
	free(leaf);
	free(key);
	assert_int_equal(test_pki_leaf_until(ca, "old", TEST_PKI_EC_P256, now - 3 * 86400,
					     &leaf, &key), 0);
	assert_int_equal(x509_expiries(leaf, x, 1), 1);
	assert_int_equal(x[0].not_after, now - 3 * 86400);

	/* a subject longer than X509_SUBJECT_MAX is cut to fit */
	assert_non_null(long_pem = long_subject_cert());
	assert_int_equal(x509_expiries(long_pem, x, 1), 1);
	assert_int_equal(strlen(x[0].subject), X509_SUBJECT_MAX - 1);
	assert_int_equal(strncmp(x[0].subject, "OU=", 3), 0);
	assert_int_equal(x509_subject(long_pem, long_subject, sizeof(long_subject)), 0);
	assert_true(strlen(long_subject) >= X509_SUBJECT_MAX);
	assert_int_equal(strncmp(x[0].subject, long_subject, X509_SUBJECT_MAX - 1), 0);

	free(long_pem);
	free(bad_tail);
	free(with_key);
	free(chain);
	free(leaf);
	free(key);
	free(ca_pem);
	test_pki_ca_free(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_key),
		cmocka_unit_test(test_ca),
		cmocka_unit_test(test_crls),
		cmocka_unit_test(test_not_after_and_subject),
		cmocka_unit_test(test_expiries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
