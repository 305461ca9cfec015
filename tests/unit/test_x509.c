/*
 * X.509 checks for certificate authentication (agent/core/x509.c) against
 * certificates made in the test: RSA 2048 and EC P-256 keys fit IKE, P-384,
 * RSA 1024, Ed25519 and a key of another certificate do not; CA
 * certificates and bundles, a leaf as a CA refused; CRLs block by block
 * with the bad one's index; notAfter and the subject for the metrics.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_key),
		cmocka_unit_test(test_ca),
		cmocka_unit_test(test_crls),
		cmocka_unit_test(test_not_after_and_subject),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
