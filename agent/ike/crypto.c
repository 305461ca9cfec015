/*
 * IKEv1 key derivation and message protection on OpenSSL 3 EVP: the
 * negotiated PRF and hash, SKEYID and its children, Appendix B key
 * expansion, phase-1/phase-2 IVs, AES-CBC, the Main Mode and Quick Mode
 * hashes, KEYMAT and NAT-D (RFC 2409, RFC 3947). Diffie-Hellman is dh.c.
 */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ike/crypto.h"

const char *const ike_hash_names[IKE_HASH__COUNT] = { "sha1", "sha256" };
static_assert(sizeof(ike_hash_names) / sizeof(ike_hash_names[0]) == IKE_HASH__COUNT,
	      "ike_hash_names");

/* OpenSSL's digest names, indexed by enum ike_hash. */
static const char *const md_names[IKE_HASH__COUNT] = { "SHA1", "SHA256" };
static const size_t      md_lens[IKE_HASH__COUNT] = { 20, 32 };

size_t
ike_hash_len(enum ike_hash h)
{
	return (unsigned)h < IKE_HASH__COUNT ? md_lens[h] : 0;
}

/*
 * Algorithms are fetched from the provider once per process: an implicit
 * fetch per call (EVP_sha256(), a digest named in HMAC's parameters) costs
 * more than hashing a few hundred bytes. HMAC keeps one prepared context
 * per hash that each call duplicates.
 */
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX *hmac_proto[IKE_HASH__COUNT];
static EVP_MD *md_algs[IKE_HASH__COUNT];
static EVP_CIPHER *cbc_algs[2];		/* AES-128-CBC, AES-256-CBC */

static void
algs_free(void)
{
	for (int h = 0; h < IKE_HASH__COUNT; h++) {
		EVP_MAC_CTX_free(hmac_proto[h]);
		EVP_MD_free(md_algs[h]);
	}
	EVP_CIPHER_free(cbc_algs[0]);
	EVP_CIPHER_free(cbc_algs[1]);
}

static void
algs_init(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	for (int h = 0; h < IKE_HASH__COUNT; h++) {
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_names[h], 0),
			OSSL_PARAM_construct_end(),
		};

		md_algs[h] = EVP_MD_fetch(NULL, md_names[h], NULL);
		if (mac != NULL && (hmac_proto[h] = EVP_MAC_CTX_new(mac)) != NULL &&
		    !EVP_MAC_CTX_set_params(hmac_proto[h], params)) {
			EVP_MAC_CTX_free(hmac_proto[h]);
			hmac_proto[h] = NULL;
		}
	}
	EVP_MAC_free(mac);
	cbc_algs[0] = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	cbc_algs[1] = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	atexit(algs_free);
}

static const EVP_MD *
md_of(enum ike_hash h)
{
	pthread_once(&algs_once, algs_init);
	return md_algs[h];
}

int
ike_prf(enum ike_hash h, const void *key, size_t klen, const struct ike_iov *iov,
	size_t niov, uint8_t *out)
{
	EVP_MAC_CTX *ctx = NULL;
	size_t i, n = 0;
	int ret = -1;

	if ((unsigned)h >= IKE_HASH__COUNT)
		goto done;
	pthread_once(&algs_once, algs_init);
	/* A NULL key would mean "keep the previous key" to EVP_MAC_init. */
	if (hmac_proto[h] == NULL || (ctx = EVP_MAC_CTX_dup(hmac_proto[h])) == NULL ||
	    !EVP_MAC_init(ctx, klen > 0 ? key : (const void *)"", klen, NULL))
		goto done;
	for (i = 0; i < niov; i++)
		if (iov[i].len > 0 && !EVP_MAC_update(ctx, iov[i].p, iov[i].len))
			goto done;
	if (!EVP_MAC_final(ctx, out, &n, md_lens[h]) || n != md_lens[h])
		goto done;
	ret = 0;
done:
	EVP_MAC_CTX_free(ctx);
	return ret;
}

int
ike_hash(enum ike_hash h, const struct ike_iov *iov, size_t niov, uint8_t *out)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned int n = 0;
	size_t i;
	int ret = -1;

	if ((unsigned)h >= IKE_HASH__COUNT || md_of(h) == NULL || (ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex2(ctx, md_of(h), NULL))
		goto done;
	for (i = 0; i < niov; i++)
		if (iov[i].len > 0 && !EVP_DigestUpdate(ctx, iov[i].p, iov[i].len))
			goto done;
	if (!EVP_DigestFinal_ex(ctx, out, &n) || n != md_lens[h])
		goto done;
	ret = 0;
done:
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* SKEYID_{d,a,e} = prf(SKEYID, [previous |] g^xy | CKY-I | CKY-R | n). */
static int
skeyid_child(const struct ike_p1_keys *k, const uint8_t *prev, const uint8_t *gxy,
	     size_t gxy_len, const uint8_t icookie[8], const uint8_t rcookie[8], uint8_t n,
	     uint8_t *out)
{
	const struct ike_iov in[] = {
		{ prev, prev != NULL ? k->hlen : 0 },
		{ gxy, gxy_len }, { icookie, 8 }, { rcookie, 8 }, { &n, 1 },
	};

	return ike_prf(k->prf, k->skeyid, k->hlen, in, 5, out);
}

/* RFC 2409 Appendix B: Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0),
 * Kn = prf(SKEYID_e, Kn-1); SKEYID_e itself when it is long enough. */
static int
expand_skeyid_e(struct ike_p1_keys *k)
{
	uint8_t kn[IKE_HASH_MAX];
	uint8_t zero = 0;
	size_t off, n;
	int ret = -1;

	if (k->hlen >= k->enc_key_len) {
		memcpy(k->enc_key, k->skeyid_e, k->enc_key_len);
		ret = 0;
		goto done;
	}
	if (ike_prf(k->prf, k->skeyid_e, k->hlen, &(struct ike_iov){ &zero, 1 }, 1, kn) == -1)
		goto done;
	for (off = 0;; off += n) {
		n = k->enc_key_len - off < k->hlen ? k->enc_key_len - off : k->hlen;
		memcpy(k->enc_key + off, kn, n);
		if (off + n == k->enc_key_len)
			break;
		/* in place is fine: the input is consumed before the output */
		if (ike_prf(k->prf, k->skeyid_e, k->hlen, &(struct ike_iov){ kn, k->hlen }, 1,
			    kn) == -1)
			goto done;
	}
	ret = 0;
done:
	OPENSSL_cleanse(kn, sizeof(kn));
	return ret;
}

/* SKEYID by the authentication method: prf(psk, Ni_b | Nr_b) for a
 * pre-shared key (psk != NULL), prf(Ni_b | Nr_b, g^xy) for signatures. */
static int
skeyid(struct ike_p1_keys *k, const void *psk, size_t psk_len, const uint8_t *ni,
       size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len)
{
	const struct ike_iov nonces[] = { { ni, ni_len }, { nr, nr_len } };
	const struct ike_iov shared[] = { { gxy, gxy_len } };
	uint8_t key[2 * 256];
	int rc;

	if (psk != NULL)
		return ike_prf(k->prf, psk, psk_len, nonces, 2, k->skeyid);
	if (ni_len + nr_len > sizeof(key))
		return -1;
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	rc = ike_prf(k->prf, key, ni_len + nr_len, shared, 1, k->skeyid);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
ike_p1_derive(struct ike_p1_keys *k, enum ike_hash prf, size_t enc_key_len,
	      const void *psk, size_t psk_len, const uint8_t *ni, size_t ni_len,
	      const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len,
	      const uint8_t icookie[8], const uint8_t rcookie[8])
{
	int ret = -1;

	memset(k, 0, sizeof(*k));
	if ((unsigned)prf >= IKE_HASH__COUNT || (enc_key_len != 16 && enc_key_len != 32))
		goto done;
	k->prf = prf;
	k->hlen = md_lens[prf];
	k->enc_key_len = enc_key_len;
	if (skeyid(k, psk, psk_len, ni, ni_len, nr, nr_len, gxy, gxy_len) == -1 ||
	    skeyid_child(k, NULL, gxy, gxy_len, icookie, rcookie, 0, k->skeyid_d) == -1 ||
	    skeyid_child(k, k->skeyid_d, gxy, gxy_len, icookie, rcookie, 1, k->skeyid_a) == -1 ||
	    skeyid_child(k, k->skeyid_a, gxy, gxy_len, icookie, rcookie, 2, k->skeyid_e) == -1 ||
	    expand_skeyid_e(k) == -1)
		goto done;
	ret = 0;
done:
	if (ret == -1)
		ike_p1_keys_wipe(k);
	return ret;
}

void
ike_p1_keys_wipe(struct ike_p1_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* prf(SKEYID, g^x1 | g^x2 | CKY-1 | CKY-2 | SAi_b | ID_b): HASH_I and,
 * with the pairs swapped, HASH_R. */
static int
p1_auth_hash(const struct ike_p1_keys *k, const uint8_t *g1, size_t g1_len, const uint8_t *g2,
	     size_t g2_len, const uint8_t c1[8], const uint8_t c2[8], const uint8_t *sai_b,
	     size_t sai_len, const uint8_t *id_b, size_t id_len, uint8_t *out)
{
	const struct ike_iov in[] = {
		{ g1, g1_len }, { g2, g2_len }, { c1, 8 }, { c2, 8 },
		{ sai_b, sai_len }, { id_b, id_len },
	};

	return ike_prf(k->prf, k->skeyid, k->hlen, in, 6, out);
}

int
ike_hash_i(const struct ike_p1_keys *k, const uint8_t *gxi, size_t gxi_len,
	   const uint8_t *gxr, size_t gxr_len, const uint8_t icookie[8],
	   const uint8_t rcookie[8], const uint8_t *sai_b, size_t sai_len,
	   const uint8_t *id_b, size_t id_len, uint8_t *out)
{
	return p1_auth_hash(k, gxi, gxi_len, gxr, gxr_len, icookie, rcookie, sai_b, sai_len,
			    id_b, id_len, out);
}

int
ike_hash_r(const struct ike_p1_keys *k, const uint8_t *gxi, size_t gxi_len,
	   const uint8_t *gxr, size_t gxr_len, const uint8_t icookie[8],
	   const uint8_t rcookie[8], const uint8_t *sai_b, size_t sai_len,
	   const uint8_t *id_b, size_t id_len, uint8_t *out)
{
	return p1_auth_hash(k, gxr, gxr_len, gxi, gxi_len, rcookie, icookie, sai_b, sai_len,
			    id_b, id_len, out);
}

/* The first IKE_BLOCK bytes of hash(parts). */
static int
iv_from_hash(enum ike_hash h, const struct ike_iov *in, size_t n, uint8_t iv[IKE_BLOCK])
{
	uint8_t md[IKE_HASH_MAX];
	int ret = -1;

	if (ike_hash(h, in, n, md) == -1)
		goto done;
	memcpy(iv, md, IKE_BLOCK);
	ret = 0;
done:
	return ret;
}

int
ike_iv_phase1(enum ike_hash h, const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr,
	      size_t gxr_len, uint8_t iv[IKE_BLOCK])
{
	const struct ike_iov in[] = { { gxi, gxi_len }, { gxr, gxr_len } };

	return iv_from_hash(h, in, 2, iv);
}

static void
put_u32(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

int
ike_iv_phase2(enum ike_hash h, const uint8_t last_block[IKE_BLOCK], uint32_t msgid,
	      uint8_t iv[IKE_BLOCK])
{
	uint8_t mid[4];

	put_u32(mid, msgid);
	return iv_from_hash(h, (const struct ike_iov[]){ { last_block, IKE_BLOCK }, { mid, 4 } },
			    2, iv);
}

/* AES-CBC in place, no padding; iv becomes the last ciphertext block. */
static int
cbc(int enc, const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *buf,
    size_t len)
{
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t next[IKE_BLOCK] = { 0 };
	int n = 0, fin = 0, ret = -1;

	pthread_once(&algs_once, algs_init);
	cipher = key_len == 16 ? cbc_algs[0] : key_len == 32 ? cbc_algs[1] : NULL;
	if (cipher == NULL || len % IKE_BLOCK != 0 || len > INT_MAX)
		goto done;
	if (len == 0) {
		ret = 0;
		goto done;
	}
	if (!enc)
		memcpy(next, buf + len - IKE_BLOCK, IKE_BLOCK);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_CipherInit_ex2(ctx, cipher, key, iv, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, buf, &n, buf, (int)len) || (size_t)n != len ||
	    !EVP_CipherFinal_ex(ctx, buf + n, &fin) || fin != 0)
		goto done;
	if (enc)
		memcpy(next, buf + len - IKE_BLOCK, IKE_BLOCK);
	memcpy(iv, next, IKE_BLOCK);
	ret = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int
ike_cbc_encrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *buf,
		size_t len)
{
	return cbc(1, key, key_len, iv, buf, len);
}

int
ike_cbc_decrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *buf,
		size_t len)
{
	return cbc(0, key, key_len, iv, buf, len);
}

int
ike_qm_hash1(const struct ike_p1_keys *k, uint32_t msgid, const uint8_t *rest,
	     size_t rest_len, uint8_t *out)
{
	uint8_t mid[4];

	put_u32(mid, msgid);
	return ike_prf(k->prf, k->skeyid_a, k->hlen,
		       (const struct ike_iov[]){ { mid, 4 }, { rest, rest_len } }, 2, out);
}

int
ike_qm_hash2(const struct ike_p1_keys *k, uint32_t msgid, const uint8_t *ni, size_t ni_len,
	     const uint8_t *rest, size_t rest_len, uint8_t *out)
{
	uint8_t mid[4];

	put_u32(mid, msgid);
	return ike_prf(k->prf, k->skeyid_a, k->hlen,
		       (const struct ike_iov[]){ { mid, 4 }, { ni, ni_len }, { rest, rest_len } },
		       3, out);
}

int
ike_qm_hash3(const struct ike_p1_keys *k, uint32_t msgid, const uint8_t *ni, size_t ni_len,
	     const uint8_t *nr, size_t nr_len, uint8_t *out)
{
	uint8_t b[5] = { 0 };	/* 0 | M-ID */

	put_u32(b + 1, msgid);
	return ike_prf(k->prf, k->skeyid_a, k->hlen,
		       (const struct ike_iov[]){ { b, 5 }, { ni, ni_len }, { nr, nr_len } }, 3,
		       out);
}

/* RFC 2409 5.5: K1 = prf(SKEYID_d, seed), Kn = prf(SKEYID_d, Kn-1 | seed),
 * seed = [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b. */
int
ike_keymat(const struct ike_p1_keys *k, const uint8_t *gqm, size_t gqm_len, uint8_t proto,
	   const uint8_t spi[4], const uint8_t *ni, size_t ni_len, const uint8_t *nr,
	   size_t nr_len, uint8_t *out, size_t len)
{
	uint8_t kn[IKE_HASH_MAX];
	struct ike_iov in[] = {
		{ kn, 0 }, { gqm, gqm != NULL ? gqm_len : 0 }, { &proto, 1 }, { spi, 4 },
		{ ni, ni_len }, { nr, nr_len },
	};
	size_t off, n;
	int ret = -1;

	if (len == 0 || len > IKE_KEYMAT_MAX)
		goto done;
	for (off = 0; off < len; off += n) {
		if (ike_prf(k->prf, k->skeyid_d, k->hlen, in, 6, kn) == -1)
			goto done;
		in[0].len = k->hlen;
		n = len - off < k->hlen ? len - off : k->hlen;
		memcpy(out + off, kn, n);
	}
	ret = 0;
done:
	OPENSSL_cleanse(kn, sizeof(kn));
	return ret;
}

int
ike_natd_hash(enum ike_hash h, const uint8_t icookie[8], const uint8_t rcookie[8],
	      uint32_t ipv4_be, uint16_t port_be, uint8_t *out)
{
	/* Already in network order: hash the bytes as they lie in memory. */
	const struct ike_iov in[] = {
		{ icookie, 8 }, { rcookie, 8 }, { &ipv4_be, 4 }, { &port_be, 2 },
	};

	return ike_hash(h, in, 4, out);
}

int
ike_random(void *out, size_t len)
{
	int ret = -1;

	if (len > INT_MAX || RAND_bytes(out, (int)len) != 1)
		goto done;
	ret = 0;
done:
	return ret;
}
