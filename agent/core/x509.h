/*
 * X.509 on PEM text, for the config: whether a certificate and its
 * key can sign IKE messages, whether a certificate is a CA, whether CRLs
 * parse; and what the metrics show of a certificate (its subject, when it
 * expires). Pure: no I/O, no state, the OpenSSL error queue left empty.
 */
#ifndef CORE_X509_H
#define CORE_X509_H

#include <stddef.h>
#include <stdint.h>

#define X509_WHY_MAX   192	/* a refusal's reason, for an API message */
#define X509_RSA_MIN   2048	/* RSA key bits for rsa-sig */
#define X509_SUBJECT_MAX 256	/* a subject as x509_expiries() keeps it */

/* The first certificate of cert_pem (a chain may follow) and key_pem
 * match, and the key is RSA of X509_RSA_MIN bits or more or EC P-256
 * (ecdsa-sig, RFC 4754). 0, or -1 with why. */
int     x509_check_cert_key(const char *cert_pem, const char *key_pem, char *why,
			    size_t why_len);
/* Every certificate of pem (at least one) is a CA: basicConstraints
 * CA:TRUE, and keyCertSign when it has a keyUsage. 0, or -1 with why. */
int     x509_check_ca(const char *pem, char *why, size_t why_len);
/* pem is PEM blocks one after another, each an X509 CRL that parses.
 * 0 (NULL and "" hold none), or -1 with the 0-based index of the first
 * bad block in *bad and why. */
int     x509_check_crls(const char *pem, size_t *bad, char *why, size_t why_len);
/* notAfter of the first certificate of pem, in seconds since the epoch;
 * -1 when it does not parse. */
int64_t x509_not_after(const char *pem);
/* The subject of the first certificate of pem, RFC 2253 ("CN=gw,O=Example"),
 * into out[size]. 0, or -1 (out "") when it does not parse or fit. */
int     x509_subject(const char *pem, char *out, size_t size);

/* What the metrics show of one certificate. */
struct x509_expiry {
	int64_t not_after;			/* seconds since the epoch */
	char    subject[X509_SUBJECT_MAX];	/* RFC 2253, cut to fit */
};
/* Every certificate of pem (a certificate and its chain, a CA bundle), in
 * order, the first max of them into out. Returns how many pem holds, those
 * past max counted but not stored; the walk ends at the first certificate
 * block that does not parse (0 for NULL or no certificate). */
size_t  x509_expiries(const char *pem, struct x509_expiry *out, size_t max);

#endif
