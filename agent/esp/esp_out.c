/*
 * ESP output (RFC 4303 3.3, RFC 4106): sequence number (never wraps),
 * IV, self-describing padding, encryption with the SA's prepared context
 * and the ICV. The payload's block-aligned bulk is encrypted straight from
 * the caller's buffer; only its tail and the trailer go through a small
 * block, so no full-packet copy is made.
 */
#include "esp/esp_int.h"
#include "esp/inet.h"
#include "core/log.h"

#include <string.h>

#include <openssl/evp.h>

/* Payload tail (< 16 bytes) plus at most 16 bytes of pad and trailer. */
#define ESP_TAIL_MAX 32

/*
 * RFC 4106 3 and 5: nonce = salt | IV, IV = the 64-bit sequence counter
 * (unique per key, which is all GCM needs), AAD = SPI | sequence.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Security Parameters Index (SPI)                 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Sequence Number                            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Initialization Vector (8 or 16)               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  ~ Payload, Padding (0-255), Pad Length, Next Header (encrypted) ~
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        Integrity Check Value (12 or 16; GCM: the tag)         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int
gcm_seal(struct esp_sa *sa, uint8_t *out, const uint8_t *bulk, size_t bulk_len,
	 const uint8_t *tail, size_t tail_len)
{
	uint8_t *ct = out + ESP_HDR_LEN + ESP_GCM_IV_LEN;
	int n;

	memcpy(sa->nonce + ESP_GCM_SALT_LEN, out + ESP_HDR_LEN, ESP_GCM_IV_LEN);
	if (!EVP_EncryptInit_ex2(sa->cipher, NULL, NULL, sa->nonce, NULL) ||
	    !EVP_EncryptUpdate(sa->cipher, NULL, &n, out, ESP_HDR_LEN) ||
	    !EVP_EncryptUpdate(sa->cipher, ct, &n, bulk, (int)bulk_len) ||
	    !EVP_EncryptUpdate(sa->cipher, ct + bulk_len, &n, tail, (int)tail_len) ||
	    !EVP_EncryptFinal_ex(sa->cipher, ct + bulk_len + tail_len, &n) ||
	    !EVP_CIPHER_CTX_ctrl(sa->cipher, EVP_CTRL_AEAD_GET_TAG, ESP_GCM_ICV_LEN,
		ct + bulk_len + tail_len))
		return -1;
	return 0;
}

/* RFC 3602 with RFC 2404 / RFC 4868: CBC under a fresh unpredictable IV,
 * then the truncated HMAC over SPI .. end of ciphertext. */
static int
cbc_seal(struct esp_sa *sa, uint8_t *out, const uint8_t *bulk, size_t bulk_len,
	 const uint8_t *tail, size_t tail_len)
{
	uint8_t *ct = out + ESP_HDR_LEN + ESP_CBC_IV_LEN, md[ESP_HMAC_MAX];
	size_t ct_len = bulk_len + tail_len;
	int n;

	if (!EVP_EncryptInit_ex2(sa->cipher, NULL, NULL, out + ESP_HDR_LEN, NULL) ||
	    !EVP_EncryptUpdate(sa->cipher, ct, &n, bulk, (int)bulk_len) ||
	    !EVP_EncryptUpdate(sa->cipher, ct + bulk_len, &n, tail, (int)tail_len))
		return -1;
	if (esp_hmac(sa, out, ESP_HDR_LEN + ESP_CBC_IV_LEN + ct_len, md) == -1)
		return -1;
	memcpy(ct + ct_len, md, sa->icv_len);
	return 0;
}

/* The bytes after the aligned bulk: the payload's tail, padding 1, 2, 3,
 * ... (RFC 4303 2.4), pad length, next header. Returns their count. */
static size_t
esp_tail(const uint8_t *tail, size_t tail_len, size_t body_len,
	 uint8_t next_header, uint8_t blk[static ESP_TAIL_MAX])
{
	size_t n = body_len - (tail_len + 2), i;

	memcpy(blk, tail, tail_len);
	for (i = 0; i < n; i++)
		blk[tail_len + i] = (uint8_t)(i + 1);
	blk[tail_len + n] = (uint8_t)n;
	blk[tail_len + n + 1] = next_header;
	return tail_len + n + 2;
}

int
esp_output(struct esp_sa *sa, const uint8_t *inner, size_t len, uint8_t next_header,
	   uint8_t *out, size_t cap, size_t *outlen, int64_t now)
{
	uint8_t blk[ESP_TAIL_MAX];
	size_t hdr = ESP_HDR_LEN + sa->iv_len, bulk_len, body_len, blk_len, total;
	uint64_t seq;
	int ret = ESP_DROP_NONE;

	*outlen = 0;
	pthread_mutex_lock(&sa->lock);
	if (!sa->outbound) {
		ret = ESP_DROP_NO_SA;
		goto done;
	}
	if (sa->seq_next > ESP_SEQ_LAST) {
		ret = ESP_DROP_EXPIRED;	/* RFC 4303 3.3.3: rekey, never wrap */
		goto done;
	}
	if (len > ESP_PKT_MAX || (sa->test_raw && len % sa->align != 0)) {
		ret = ESP_DROP_MALFORMED;
		goto done;
	}
	bulk_len = sa->test_raw ? len : len & ~(size_t)15;
	body_len = sa->test_raw ? len : (len + 2 + sa->align - 1) / sa->align * sa->align;
	total = hdr + body_len + sa->icv_len;
	if (total > cap || total > ESP_PKT_MAX) {
		ret = ESP_DROP_MALFORMED;
		goto done;
	}
	/* The tail first: inner may be out + hdr (in place). */
	blk_len = sa->test_raw ? 0 :
	    esp_tail(inner + bulk_len, len - bulk_len, body_len - bulk_len, next_header, blk);
	seq = sa->seq_next++;
	inet_put32(out, sa->p.spi);
	inet_put32(out + 4, (uint32_t)seq);
	if (sa->p.cipher == ESP_CIPHER_AES_GCM16) {
		inet_put32(out + ESP_HDR_LEN, (uint32_t)(seq >> 32));
		inet_put32(out + ESP_HDR_LEN + 4, (uint32_t)seq);
		if (gcm_seal(sa, out, inner, bulk_len, blk, blk_len) == -1)
			ret = ESP_DROP_SEND_ERROR;
	} else if (esp_iv_next(sa, out + ESP_HDR_LEN) == -1 ||
	    cbc_seal(sa, out, inner, bulk_len, blk, blk_len) == -1)
		ret = ESP_DROP_SEND_ERROR;	/* the library failed: nothing to send */
	if (ret != 0)
		goto done;
	*outlen = total;
	sa->c.packets++;
	sa->c.bytes += len;
	sa->c.encrypt_or_decrypt++;
	sa->c.digest_or_verify++;	/* GCM too, as IOS counts it */
	sa->c.last_ms = now;
done:
	if (ret != 0)
		esp_sa_drop(sa, ret, now);
	pthread_mutex_unlock(&sa->lock);
	return ret;
}
