/*
 * Password hashes for XAUTH users (see passwd.h): OpenSSL's scrypt over a
 * random 16-byte salt, the PHC string in and out, a strict parser (the
 * string comes from config.json or an API client), a constant-time
 * compare, and every derived buffer wiped.
 */
#include "core/passwd.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define B64_SALT_CHARS 22	/* 16 bytes, no padding */
#define B64_HASH_CHARS 43	/* 32 bytes, no padding */

static_assert(sizeof("$scrypt$ln=16,r=8,p=2$$") - 1 + B64_SALT_CHARS + B64_HASH_CHARS <
	      CFG_PWHASH_MAX, "the longest hash string fits the config");

struct passwd_params {
	unsigned ln, r, p;
	unsigned char salt[PASSWD_SALT_LEN];
	unsigned char hash[PASSWD_HASH_LEN];
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_encode(const unsigned char *in, size_t len, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = b64_alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		*out++ = b64_alphabet[(acc << (6 - bits)) & 0x3f];
	*out = '\0';
}

static int
b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Exactly chars characters into len bytes; the bits left over in the last
 * character must be zero, so each value has one spelling. */
static int
b64_decode(const char *in, size_t chars, unsigned char *out, size_t len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;
	int v;

	for (size_t i = 0; i < chars; i++) {
		if ((v = b64_value(in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == len)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (n != len || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* "NAME=" and a decimal number without sign or leading zero, in [lo, hi],
 * then the separator sep. *s moves past it. */
static int
param_parse(const char **s, const char *name, unsigned lo, unsigned hi, char sep,
	    unsigned *out)
{
	const char *p = *s;
	size_t nlen = strlen(name);
	unsigned v = 0;
	int digits = 0;

	if (strncmp(p, name, nlen) != 0 || p[nlen] != '=')
		return -1;
	p += nlen + 1;
	if (*p == '0')
		return -1;
	while (*p >= '0' && *p <= '9' && digits < 3) {
		v = v * 10 + (unsigned)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || *p != sep || v < lo || v > hi)
		return -1;
	*out = v;
	*s = p + 1;
	return 0;
}

static int
stored_parse(const char *s, struct passwd_params *pp)
{
	static const char prefix[] = "$scrypt$";

	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	s += sizeof(prefix) - 1;
	if (param_parse(&s, "ln", PASSWD_LN_MIN, PASSWD_LN_MAX, ',', &pp->ln) == -1 ||
	    param_parse(&s, "r", 1, PASSWD_R_MAX, ',', &pp->r) == -1 ||
	    param_parse(&s, "p", 1, PASSWD_P_MAX, '$', &pp->p) == -1)
		return -1;
	if (strlen(s) != B64_SALT_CHARS + 1 + B64_HASH_CHARS || s[B64_SALT_CHARS] != '$')
		return -1;
	if (b64_decode(s, B64_SALT_CHARS, pp->salt, sizeof(pp->salt)) == -1 ||
	    b64_decode(s + B64_SALT_CHARS + 1, B64_HASH_CHARS, pp->hash, sizeof(pp->hash)) == -1)
		return -1;
	return 0;
}

/* scrypt refuses to use more than maxmem: give it what these parameters
 * need (its own formula), which the bounds above keep under 2.1 GB. */
static int
derive(const char *password, const struct passwd_params *pp, unsigned char out[PASSWD_HASH_LEN])
{
	uint64_t n = (uint64_t)1 << pp->ln;
	uint64_t maxmem = 128ull * pp->r * (n + 2) + 128ull * pp->r * pp->p;

	if (EVP_PBE_scrypt(password, strlen(password), pp->salt, sizeof(pp->salt), n, pp->r,
			   pp->p, maxmem, out, PASSWD_HASH_LEN) != 1)
		return -1;
	return 0;
}

int
passwd_hash(const char *password, char out[CFG_PWHASH_MAX])
{
	struct passwd_params pp = { .ln = PASSWD_LN, .r = PASSWD_R, .p = PASSWD_P };
	char salt[B64_SALT_CHARS + 1], hash[B64_HASH_CHARS + 1];
	int rc = -1;

	out[0] = '\0';
	if (RAND_bytes(pp.salt, sizeof(pp.salt)) != 1 || derive(password, &pp, pp.hash) == -1)
		goto done;
	b64_encode(pp.salt, sizeof(pp.salt), salt);
	b64_encode(pp.hash, sizeof(pp.hash), hash);
	snprintf(out, CFG_PWHASH_MAX, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", pp.ln, pp.r, pp.p, salt,
		 hash);
	rc = 0;
done:
	OPENSSL_cleanse(&pp, sizeof(pp));
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

int
passwd_verify(const char *password, const char *stored)
{
	struct passwd_params pp;
	unsigned char got[PASSWD_HASH_LEN];
	int rc = -1;

	if (stored_parse(stored, &pp) == -1 || derive(password, &pp, got) == -1)
		goto done;
	rc = CRYPTO_memcmp(got, pp.hash, sizeof(got)) == 0;
done:
	OPENSSL_cleanse(&pp, sizeof(pp));
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

int
passwd_stored_check(const char *stored)
{
	struct passwd_params pp;
	int rc = stored_parse(stored, &pp);

	OPENSSL_cleanse(&pp, sizeof(pp));
	return rc;
}
