/*
 * IKEv1 cryptography on OpenSSL 3 EVP only: Diffie-Hellman (groups 14, 19,
 * and 2 when configured), the negotiated PRF (HMAC-SHA1/SHA-256), SKEYID and
 * its children, key expansion, phase-1/phase-2 IVs, AES-CBC, the Main Mode
 * and Quick Mode hashes, KEYMAT and NAT-D hashes (RFC 2409, RFC 3947).
 * Secrets live in fixed buffers wiped with OPENSSL_cleanse on free.
 */
#ifndef IKE_CRYPTO_H
#define IKE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define IKE_HASH_MAX   32	/* SHA-256 output */
#define IKE_KEY_MAX    32	/* AES-256 key */
#define IKE_BLOCK      16	/* AES block and IV size */
#define IKE_DH_MAX     256	/* MODP-2048 public value / shared secret */
#define IKE_KEYMAT_MAX 128	/* ESP keys for one direction, with GCM salt */

enum ike_hash { IKE_HASH_SHA1, IKE_HASH_SHA256, IKE_HASH__COUNT };
extern const char *const ike_hash_names[IKE_HASH__COUNT];	/* "sha1", "sha256" */
size_t ike_hash_len(enum ike_hash h);				/* 20, 32 */

/* Diffie-Hellman group numbers (IKE registry). */
enum ike_dh_group { IKE_DH_MODP1024 = 2, IKE_DH_MODP2048 = 14, IKE_DH_ECP256 = 19 };
/* Public value length on the wire: 128, 256, 64 (x || y for ECP, RFC 5903). */
size_t ike_dh_pub_len(int group);
int    ike_dh_supported(int group);

/* A byte string pieced together from several parts, for PRF/hash input
 * without copying:
 * ike_prf(h, key, klen, (struct ike_iov[]){{a, alen}, {b, blen}}, 2, out). */
struct ike_iov {
	const void *p;
	size_t      len;
};

/* out gets ike_hash_len(h) bytes. */
int ike_prf(enum ike_hash h, const void *key, size_t klen, const struct ike_iov *iov,
	    size_t niov, uint8_t *out);
int ike_hash(enum ike_hash h, const struct ike_iov *iov, size_t niov, uint8_t *out);

/* One ephemeral DH key pair. */
struct ike_dh;
struct ike_dh *ike_dh_new(int group);	/* generates the key pair; NULL on failure */
void ike_dh_free(struct ike_dh *dh);
/* Our public value as sent in KE (ike_dh_pub_len bytes, fixed width). */
int  ike_dh_public(const struct ike_dh *dh, uint8_t *out, size_t outlen);
/* g^xy from the peer's public value. MODP: the peer value must satisfy
 * 1 < y < p-1 (RFC 6989-style range check, not OpenSSL's full check);
 * ECP: the point must be on the curve. secret gets ike_dh_pub_len (MODP)
 * or 32 (ECP: the x coordinate) bytes; *slen says how many. -1 if invalid. */
int  ike_dh_derive(struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *secret,
		   size_t *slen);
/* For known-answer tests: the key pair of a fixed private value (big-endian
 * MODP exponent or ECP scalar). */
struct ike_dh *ike_dh_new_from_private(int group, const uint8_t *priv, size_t priv_len);

/* Phase-1 key material (RFC 2409 5, PSK authentication). */
struct ike_p1_keys {
	enum ike_hash prf;
	size_t        hlen;			/* PRF output length */
	uint8_t       skeyid[IKE_HASH_MAX];
	uint8_t       skeyid_d[IKE_HASH_MAX];
	uint8_t       skeyid_a[IKE_HASH_MAX];
	uint8_t       skeyid_e[IKE_HASH_MAX];
	uint8_t       enc_key[IKE_KEY_MAX];	/* SKEYID_e expanded (Appendix B) */
	size_t        enc_key_len;		/* 16 or 32 */
};

/* SKEYID = prf(psk, Ni_b | Nr_b), or with psk NULL (signatures, RFC 2409
 * 5.1) prf(Ni_b | Nr_b, g^xy); SKEYID_d/a/e as RFC 2409 5; the cipher
 * key from SKEYID_e (expanded with K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e,
 * Kn-1) when SKEYID_e is shorter than the key). */
int ike_p1_derive(struct ike_p1_keys *k, enum ike_hash prf, size_t enc_key_len,
		  const void *psk, size_t psk_len, const uint8_t *ni, size_t ni_len,
		  const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len,
		  const uint8_t icookie[8], const uint8_t rcookie[8]);
void ike_p1_keys_wipe(struct ike_p1_keys *k);

/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b);
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
 * SAi_b is the initiator's whole SA payload body; ID_b the ID payload body. */
int ike_hash_i(const struct ike_p1_keys *k, const uint8_t *gxi, size_t gxi_len,
	       const uint8_t *gxr, size_t gxr_len, const uint8_t icookie[8],
	       const uint8_t rcookie[8], const uint8_t *sai_b, size_t sai_len,
	       const uint8_t *id_b, size_t id_len, uint8_t *out);
int ike_hash_r(const struct ike_p1_keys *k, const uint8_t *gxi, size_t gxi_len,
	       const uint8_t *gxr, size_t gxr_len, const uint8_t icookie[8],
	       const uint8_t rcookie[8], const uint8_t *sai_b, size_t sai_len,
	       const uint8_t *id_b, size_t id_len, uint8_t *out);

/* IVs: phase 1 starts at hash(g^xi | g^xr) (first block); each new message
 * id (Quick Mode, Informational) starts at hash(last phase-1 CBC block |
 * M-ID), first block; the hash is the negotiated one. */
int ike_iv_phase1(enum ike_hash h, const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr,
		  size_t gxr_len, uint8_t iv[IKE_BLOCK]);
int ike_iv_phase2(enum ike_hash h, const uint8_t last_block[IKE_BLOCK], uint32_t msgid,
		  uint8_t iv[IKE_BLOCK]);

/* AES-CBC over whole blocks (len % 16 == 0), in place. On return iv holds
 * the last ciphertext block (the IV for the next message of the chain). */
int ike_cbc_encrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *buf,
		    size_t len);
int ike_cbc_decrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *buf,
		    size_t len);

/* Quick Mode and Informational hashes (RFC 2409 5.5, 5.7):
 * HASH(1) = prf(SKEYID_a, M-ID | rest), rest = the message after HASH(1);
 * HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest);
 * HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). */
int ike_qm_hash1(const struct ike_p1_keys *k, uint32_t msgid, const uint8_t *rest,
		 size_t rest_len, uint8_t *out);
int ike_qm_hash2(const struct ike_p1_keys *k, uint32_t msgid, const uint8_t *ni, size_t ni_len,
		 const uint8_t *rest, size_t rest_len, uint8_t *out);
int ike_qm_hash3(const struct ike_p1_keys *k, uint32_t msgid, const uint8_t *ni, size_t ni_len,
		 const uint8_t *nr, size_t nr_len, uint8_t *out);

/* KEYMAT = K1 | K2 | ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI |
 * Ni_b | Nr_b), Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b |
 * Nr_b) (RFC 2409 5.5), len bytes (<= IKE_KEYMAT_MAX). spi is the 4 bytes in
 * network order of the SA the keys are for (the receiver's SPI). */
int ike_keymat(const struct ike_p1_keys *k, const uint8_t *gqm, size_t gqm_len, uint8_t proto,
	       const uint8_t spi[4], const uint8_t *ni, size_t ni_len, const uint8_t *nr,
	       size_t nr_len, uint8_t *out, size_t len);

/* NAT-D = hash(CKY-I | CKY-R | IP | Port), IPv4 in network order. */
int ike_natd_hash(enum ike_hash h, const uint8_t icookie[8], const uint8_t rcookie[8],
		  uint32_t ipv4_be, uint16_t port_be, uint8_t *out);

/* Random bytes (cookies, nonces, SPIs, message ids). */
int ike_random(void *out, size_t len);

#endif
