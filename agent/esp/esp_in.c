/*
 * ESP input in the fixed order (STYLE practice 3, strongSwan's): parse,
 * SA lookup, cheap replay pre-check, authenticate and decrypt, commit the
 * replay window, check the padding, check the inner packet against the
 * SA's selectors. Each step either passes or names the drop reason, and
 * esp_input counts it once, on the SA when one is known, else on the SAD.
 */
#include "esp/esp_int.h"
#include "esp/inet.h"
#include "core/buf.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define IPV4_HDR_MIN 20

/* One packet as the steps see it; the pointers come from the reader. */
struct esp_wire {
	uint32_t       spi, seq;
	const uint8_t *hdr;		/* SPI | seq: GCM AAD, start of the HMAC */
	struct buf     body;		/* IV | ciphertext | ICV, not yet split */
	const uint8_t *iv, *ct, *icv;
	size_t         ct_len;
};

/* (1) SPI and sequence number, and room for the smallest body any
 * transform has; the transform's own lengths wait for the SA. */
static int
parse_header(const uint8_t *pkt, size_t len, struct esp_wire *w)
{
	struct buf b;

	buf_init(&b, pkt, len);
	w->hdr = pkt;
	if (len > ESP_PKT_MAX || buf_get_u32(&b, &w->spi) == -1 ||
	    buf_get_u32(&b, &w->seq) == -1 || buf_left(&b) < ESP_BODY_MIN ||
	    buf_sub(&b, buf_left(&b), &w->body) == -1)
		return ESP_DROP_MALFORMED;
	return 0;
}

/* (1, continued) The transform's exact layout: IV, ciphertext of at least
 * one alignment unit and a multiple of it, ICV. */
static int
parse_body(const struct esp_sa *sa, struct esp_wire *w, size_t cap)
{
	size_t left = buf_left(&w->body);

	if (left < sa->iv_len + sa->align + sa->icv_len)
		return ESP_DROP_MALFORMED;
	w->ct_len = left - sa->iv_len - sa->icv_len;
	if (w->ct_len % sa->align != 0 || w->ct_len > cap)
		return ESP_DROP_MALFORMED;
	if (buf_get_ref(&w->body, &w->iv, sa->iv_len) == -1 ||
	    buf_get_ref(&w->body, &w->ct, w->ct_len) == -1 ||
	    buf_get_ref(&w->body, &w->icv, sa->icv_len) == -1)
		return ESP_DROP_MALFORMED;
	return 0;
}

/* (4) HMAC first (constant-time compare), decrypt only what is authentic. */
static int
cbc_open(struct esp_sa *sa, const struct esp_wire *w, uint8_t *out)
{
	uint8_t md[ESP_HMAC_MAX];
	int n;

	if (esp_hmac(sa, w->hdr, ESP_HDR_LEN + ESP_CBC_IV_LEN + w->ct_len, md) == -1)
		return ESP_DROP_RECV_ERROR;
	if (CRYPTO_memcmp(md, w->icv, sa->icv_len) != 0)
		return ESP_DROP_AUTH_FAILED;
	if (!EVP_DecryptInit_ex2(sa->cipher, NULL, NULL, w->iv, NULL) ||
	    !EVP_DecryptUpdate(sa->cipher, out, &n, w->ct, (int)w->ct_len))
		return ESP_DROP_RECV_ERROR;
	return 0;
}

/* (4) GCM decrypts while it authenticates: on a bad tag the plaintext
 * already written is wiped so nothing unauthenticated is left behind. */
static int
gcm_open(struct esp_sa *sa, const struct esp_wire *w, uint8_t *out)
{
	uint8_t tag[ESP_GCM_ICV_LEN];
	int n;

	memcpy(sa->nonce + ESP_GCM_SALT_LEN, w->iv, ESP_GCM_IV_LEN);
	memcpy(tag, w->icv, sizeof(tag));
	if (!EVP_DecryptInit_ex2(sa->cipher, NULL, NULL, sa->nonce, NULL) ||
	    !EVP_DecryptUpdate(sa->cipher, NULL, &n, w->hdr, ESP_HDR_LEN) ||
	    !EVP_DecryptUpdate(sa->cipher, out, &n, w->ct, (int)w->ct_len) ||
	    !EVP_CIPHER_CTX_ctrl(sa->cipher, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag))
		return ESP_DROP_RECV_ERROR;
	if (EVP_DecryptFinal_ex(sa->cipher, out + w->ct_len, &n) <= 0) {
		OPENSSL_cleanse(out, w->ct_len);
		return ESP_DROP_AUTH_FAILED;
	}
	return 0;
}

/* (6) RFC 4303 2.4: pad length fits and the pad bytes run 1, 2, 3, ... */
static int
check_trailer(const uint8_t *pt, size_t pt_len, size_t *payload_len, uint8_t *next_header)
{
	struct buf b;
	uint8_t pad_len, v, bad = 0;
	unsigned i;

	buf_init(&b, pt, pt_len);
	if (buf_skip(&b, pt_len - 2) == -1 || buf_get_u8(&b, &pad_len) == -1 ||
	    buf_get_u8(&b, next_header) == -1 || (size_t)pad_len + 2 > pt_len)
		return ESP_DROP_BAD_PADDING;
	*payload_len = pt_len - 2 - pad_len;
	buf_init(&b, pt, pt_len);
	buf_skip(&b, *payload_len);
	for (i = 1; i <= pad_len; i++) {
		if (buf_get_u8(&b, &v) == -1)
			return ESP_DROP_BAD_PADDING;
		bad |= (uint8_t)(v ^ i);
	}
	return bad == 0 ? 0 : ESP_DROP_BAD_PADDING;
}

/*
 * (7) Tunnel mode (RFC 4303 3.1.2, 5): an IPv4 packet (RFC 791) within the
 * SA's selectors. Bytes after its total length are TFC padding (RFC 4303
 * 2.7) and are trimmed.
 */
static int
check_inner(const struct esp_sa *sa, const uint8_t *pt, size_t len, size_t *inner_len)
{
	struct esp_flow f;
	struct buf b;
	uint8_t vihl;
	uint16_t total;

	buf_init(&b, pt, len);
	buf_get_u8(&b, &vihl);
	buf_skip(&b, 1);
	buf_get_u16(&b, &total);
	if (b.err || total > len || esp_flow_of(pt, total, &f) == -1)
		return ESP_DROP_MALFORMED;
	if (!esp_sa_covers(&sa->p, &f, 0))
		return ESP_DROP_POLICY;
	*inner_len = total;
	return 0;
}

/*
 * (7) Transport mode (RFC 4303 3.1.1): the payload of a packet between the
 * SA's two hosts. Its IP header is rebuilt in front of it from those hosts
 * (remote to local, the next header as protocol), so checksums that cover
 * the addresses hold also where a NAT changed the outer ones (RFC 3948
 * 3.1.2); the packet must then be within the selectors (protocol, ports).
 */
static int
rebuild_header(const struct esp_sa *sa, uint8_t *out, size_t payload_len, uint8_t next_header,
	       size_t *total)
{
	struct esp_flow f;

	*total = ESP_TRANSPORT_HDR + payload_len;
	if (*total > 0xffff)
		return ESP_DROP_MALFORMED;
	memset(out, 0, ESP_TRANSPORT_HDR);
	out[0] = 0x45;
	inet_put16(out + 2, (uint16_t)*total);
	out[8] = 64;
	out[9] = next_header;
	memcpy(out + 12, &sa->p.remote.addr_be, 4);
	memcpy(out + 16, &sa->p.local.addr_be, 4);
	inet_ip_checksum(out, ESP_TRANSPORT_HDR);
	if (esp_flow_of(out, *total, &f) == -1)
		return ESP_DROP_MALFORMED;
	return esp_sa_covers(&sa->p, &f, 0) ? 0 : ESP_DROP_POLICY;
}

/* The documented pipeline, in order; one exit counts the drop. */
int
esp_input(struct esp_sad *sad, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	  size_t *outlen, uint8_t *next_header, struct esp_sa **sa_out, int64_t now)
{
	struct esp_wire w;
	struct esp_sa *sa = NULL;
	size_t payload_len = 0, total = 0, room;
	int ret = ESP_DROP_NONE;

	*outlen = 0;
	*next_header = 0;
	*sa_out = NULL;
	if ((ret = parse_header(pkt, len, &w)) != 0)
		goto done;
	if ((sa = esp_sad_inbound(sad, w.spi)) == NULL) {
		ret = ESP_DROP_NO_SA;
		goto done;
	}
	*sa_out = sa;
	pthread_mutex_lock(&sa->lock);
	room = sa->p.transport ? ESP_TRANSPORT_HDR : 0;
	if (cap < room || (ret = parse_body(sa, &w, cap - room)) != 0) {
		ret = ESP_DROP_MALFORMED;
		goto done;
	}
	if (esp_replay_check(&sa->replay, w.seq) == -1) {
		ret = ESP_DROP_REPLAY;
		goto done;
	}
	ret = sa->p.cipher == ESP_CIPHER_AES_GCM16 ? gcm_open(sa, &w, out + room) :
	    cbc_open(sa, &w, out + room);
	if (ret != 0)
		goto done;
	esp_replay_commit(&sa->replay, w.seq);
	if ((ret = check_trailer(out + room, w.ct_len, &payload_len, next_header)) != 0)
		goto done;
	if (sa->p.transport)
		ret = rebuild_header(sa, out, payload_len, *next_header, &total);
	else if (*next_header != IPPROTO_IPIP)
		ret = ESP_DROP_MALFORMED;
	else
		ret = check_inner(sa, out, payload_len, &total);
	if (ret != 0)
		goto done;
	*outlen = total;
	sa->c.packets++;
	sa->c.bytes += sa->p.transport ? payload_len : total;
	sa->c.encrypt_or_decrypt++;
	sa->c.digest_or_verify++;
	sa->c.last_ms = now;
done:
	if (ret != 0) {
		*next_header = 0;
		if (sa != NULL)
			esp_sa_drop(sa, ret, now);
		else
			esp_sad_drop(sad, ret, now);
	}
	if (sa != NULL)
		pthread_mutex_unlock(&sa->lock);
	return ret;
}
