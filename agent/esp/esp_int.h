/*
 * Private to agent/esp/: the SA as the packet paths see it (EVP contexts
 * prepared once, sequence, replay window, counters, SAD links) and the
 * helpers the files share. Nothing outside agent/esp/ includes this.
 */
#ifndef ESP_ESP_INT_H
#define ESP_ESP_INT_H

#include "esp/esp.h"

#include <pthread.h>

#include <openssl/evp.h>

#define ESP_CBC_IV_LEN   16
#define ESP_GCM_IV_LEN   8
#define ESP_GCM_SALT_LEN 4
#define ESP_GCM_NONCE    (ESP_GCM_SALT_LEN + ESP_GCM_IV_LEN)
#define ESP_GCM_ICV_LEN  16
#define ESP_ICV_MAX      16
#define ESP_HMAC_MAX     32	/* untruncated HMAC-SHA-256 */
#define ESP_IV_BATCH     32	/* CBC IVs made per generator call */
#define ESP_LOG_EVERY_MS 1000	/* drop log lines, per SA and per SAD */
#define ESP_SEQ_LAST     UINT32_MAX	/* no ESN: the SA ends here */
/* Smallest body after SPI and sequence of any transform: GCM's 8-byte IV,
 * 4 bytes (pad length, next header, 2 bytes of padding) and the tag. */
#define ESP_BODY_MIN     (ESP_GCM_IV_LEN + 4 + ESP_GCM_ICV_LEN)

enum { ESP_LINK_SPI, ESP_LINK_POLICY, ESP_LINK__COUNT };

struct esp_sa {
	/* Held by esp_output and esp_input (from the SA lookup on) for the
	 * whole packet: dataplane workers may share an SA. */
	pthread_mutex_t  lock;
	struct esp_sa_params p;		/* copy; selectors normalised; wiped */
	int              outbound;
	size_t           iv_len, icv_len;
	size_t           align;		/* ciphertext multiple: 16 CBC, 4 GCM */
	EVP_CIPHER_CTX  *cipher;	/* keyed once; only the IV per packet */
	EVP_MAC_CTX     *mac;		/* keyed HMAC (CBC), re-initialised per packet */
	uint8_t          nonce[ESP_GCM_NONCE];	/* GCM: salt | IV */

	/* output */
	uint64_t         seq_next;	/* > ESP_SEQ_LAST: exhausted */
	EVP_CIPHER_CTX  *ivgen;		/* CBC: AES-CTR under a random key */
	uint8_t          iv_pool[ESP_IV_BATCH * ESP_CBC_IV_LEN];
	unsigned         iv_left;
	int              test_iv_set, test_raw;
	uint8_t          test_iv[ESP_CBC_IV_LEN];

	/* input */
	struct esp_replay replay;

	struct esp_counters c;
	int64_t          log_next_ms;	/* drop log rate limit */
	void            *owner;		/* the dataplane's pair, found per packet in O(1) */

	/* SAD membership */
	struct esp_sa   *next[ESP_LINK__COUNT];
	uint64_t         add_seq;	/* newer SAs have larger values */
	int              in_sad;
};

/* Counts a drop on the SA and logs it, at most once a second per SA;
 * the caller holds sa->lock. */
void esp_sa_drop(struct esp_sa *sa, int why, int64_t now);
/* Same for drops before an SA is known. */
void esp_sad_drop(struct esp_sad *sad, int why, int64_t now);
/* The next CBC IV: the test IV if set, else the generator's. */
int  esp_iv_next(struct esp_sa *sa, uint8_t iv[static ESP_CBC_IV_LEN]);
/* The HMAC of n bytes into md[ESP_HMAC_MAX]. */
int  esp_hmac(struct esp_sa *sa, const uint8_t *p, size_t n, uint8_t md[static ESP_HMAC_MAX]);
/* Network-order selector membership. */
int  esp_net_has(const struct esp_net *net, uint32_t addr_be);

#endif
