/*
 * In-process test certificates (see test_pki.h).
 */
#include "test_pki.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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
