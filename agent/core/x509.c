/*
 * X.509 checks and facts on PEM text (see x509.h): OpenSSL parses, this
 * file decides what IKE takes (RSA >= 2048 or EC P-256 keys, CA
 * certificates with basicConstraints CA:TRUE, CRLs block by block) and
 * says why not in words an API client can act on.
 */
#include "core/x509.h"
#include "core/util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PEM_BEGIN "-----BEGIN "
#define PEM_END   "-----END "
#define PEM_DASHES "-----"

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	return 0;	/* encrypted keys are refused, never prompted for */
}

static X509 *
first_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, no_password, NULL) : NULL;

	BIO_free(bio);
	return x;
}

/* ---- a certificate and its key for IKE signatures ---------------------- */

/* RSA of X509_RSA_MIN bits or more, or EC on P-256; else why names the key. */
static int
key_fits_ike(EVP_PKEY *k, char *why, size_t why_len)
{
	char group[64] = "";
	int nid;

	if (EVP_PKEY_is_a(k, "RSA")) {
		if (EVP_PKEY_get_bits(k) >= X509_RSA_MIN)
			return 0;
		snprintf(why, why_len, "the key is RSA of %d bits: IKE takes RSA of %d bits "
			 "or more (rsa-sig) or EC P-256 (ecdsa-sig)", EVP_PKEY_get_bits(k),
			 X509_RSA_MIN);
		return -1;
	}
	if (EVP_PKEY_is_a(k, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), NULL) != 1)
			str_copy(group, sizeof(group), "an unnamed curve");
		nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1)
			return 0;
		snprintf(why, why_len, "the key is EC on %s: IKE takes EC P-256 (ecdsa-sig, "
			 "RFC 4754) or RSA of %d bits or more (rsa-sig)", group, X509_RSA_MIN);
		return -1;
	}
	snprintf(why, why_len, "the key is %s: IKE takes RSA of %d bits or more (rsa-sig) or "
		 "EC P-256 (ecdsa-sig)", EVP_PKEY_get0_type_name(k) ?
		 EVP_PKEY_get0_type_name(k) : "of an unknown type", X509_RSA_MIN);
	return -1;
}

int
x509_check_cert_key(const char *cert_pem, const char *key_pem, char *why, size_t why_len)
{
	BIO *kb = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (cert_pem == NULL || (x = first_cert(cert_pem)) == NULL) {
		snprintf(why, why_len, "the certificate is not a PEM certificate");
		goto done;
	}
	if (key_pem == NULL || (kb = BIO_new_mem_buf(key_pem, -1)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL)) == NULL) {
		snprintf(why, why_len, "the private key is not an unencrypted PEM private key");
		goto done;
	}
	if (X509_check_private_key(x, k) != 1) {
		snprintf(why, why_len, "the private key does not match the certificate");
		goto done;
	}
	rc = key_fits_ike(k, why, why_len);
done:
	ERR_clear_error();
	EVP_PKEY_free(k);
	BIO_free(kb);
	X509_free(x);
	return rc;
}

/* ---- CA certificates ---------------------------------------------------- */

static int
cert_is_ca(X509 *x, size_t i, char *why, size_t why_len)
{
	uint32_t flags = X509_get_extension_flags(x);

	if (flags & EXFLAG_INVALID) {
		snprintf(why, why_len, "certificate %zu has extensions that do not parse", i);
		return -1;
	}
	if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA)) {
		snprintf(why, why_len, "certificate %zu is not a CA (it has no basicConstraints "
			 "CA:TRUE)", i);
		return -1;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
		snprintf(why, why_len, "certificate %zu is a CA whose keyUsage lacks keyCertSign "
			 "(it may not sign certificates)", i);
		return -1;
	}
	return 0;
}

int
x509_check_ca(const char *pem, char *why, size_t why_len)
{
	BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	X509 *x;
	size_t n = 0;
	unsigned long e;
	int rc = -1;

	if (bio == NULL) {
		snprintf(why, why_len, "it holds no certificate");
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		int bad = cert_is_ca(x, n, why, why_len);

		X509_free(x);
		if (bad)
			goto done;
		n++;
	}
	e = ERR_peek_last_error();
	if (n == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		snprintf(why, why_len, n ? "certificate %zu does not parse" :
			 "it is not a PEM certificate", n);
		goto done;
	}
	rc = 0;
done:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

/* ---- CRLs --------------------------------------------------------------- */

/* The PEM block at p (which starts with PEM_BEGIN): its length through
 * the end of its END line; 0 when it has no END line. */
static size_t
pem_block_len(const char *p)
{
	const char *end = strstr(p, PEM_END), *tail;

	if (end == NULL || (tail = strstr(end + strlen(PEM_END), PEM_DASHES)) == NULL)
		return 0;
	tail += strlen(PEM_DASHES);
	tail += strcspn(tail, "\n");
	if (*tail == '\n')
		tail++;
	return (size_t)(tail - p);
}

static int
crl_parses(const char *p, size_t len)
{
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(p, (int)len) : NULL;
	X509_CRL *crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, no_password, NULL) : NULL;
	int ok = crl != NULL;

	X509_CRL_free(crl);
	BIO_free(bio);
	return ok;
}

int
x509_check_crls(const char *pem, size_t *bad, char *why, size_t why_len)
{
	const char *p = pem ? pem : "";
	size_t len;
	int rc = -1;

	for (*bad = 0;; (*bad)++) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		if (strncmp(p, PEM_BEGIN, strlen(PEM_BEGIN)) != 0) {
			snprintf(why, why_len, "text outside a PEM block (a CRL is -----BEGIN X509 "
				 "CRL----- to -----END X509 CRL-----)");
			goto done;
		}
		if ((len = pem_block_len(p)) == 0) {
			snprintf(why, why_len, "the PEM block has no END line");
			goto done;
		}
		if (!crl_parses(p, len)) {
			snprintf(why, why_len, "not an X509 CRL that parses");
			goto done;
		}
		p += len;
	}
	rc = 0;
done:
	ERR_clear_error();
	return rc;
}

/* ---- what the metrics show ---------------------------------------------- */

static int64_t
cert_not_after(const X509 *x)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return -1;
	return (int64_t)timegm(&tm);
}

/* x's subject, RFC 2253, into out[size > 0]: 0; -1 when it does not fit
 * (out holds as much as fits) or does not print (out ""). The text is
 * ASCII (RFC 2253 escapes bytes above 0x7f), so a cut splits no character. */
static int
cert_subject(X509 *x, char *out, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text;
	long n;
	int rc = -1;

	out[0] = '\0';
	if (bio == NULL ||
	    X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0 ||
	    (n = BIO_get_mem_data(bio, &text)) < 0)
		goto done;
	rc = (size_t)n < size ? 0 : -1;
	if ((size_t)n >= size)
		n = (long)size - 1;
	memcpy(out, text, (size_t)n);
	out[n] = '\0';
done:
	BIO_free(bio);
	return rc;
}

int64_t
x509_not_after(const char *pem)
{
	X509 *x = pem ? first_cert(pem) : NULL;
	int64_t t = x ? cert_not_after(x) : -1;

	ERR_clear_error();
	X509_free(x);
	return t;
}

int
x509_subject(const char *pem, char *out, size_t size)
{
	X509 *x = pem ? first_cert(pem) : NULL;
	int rc = -1;

	if (size == 0)
		goto done;
	out[0] = '\0';
	if (x != NULL && (rc = cert_subject(x, out, size)) == -1)
		out[0] = '\0';
done:
	ERR_clear_error();
	X509_free(x);
	return rc;
}

size_t
x509_expiries(const char *pem, struct x509_expiry *out, size_t max)
{
	BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	X509 *x;
	size_t n = 0;

	while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		if (n < max) {
			out[n].not_after = cert_not_after(x);
			cert_subject(x, out[n].subject, sizeof(out[n].subject));
		}
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	BIO_free(bio);
	return n;
}
