/*
 * ESP security associations: parameter checks, the EVP contexts prepared
 * once per SA and direction (cipher keyed, HMAC keyed, the CBC IV
 * generator), drop counting, key wiping on free, and the test-only hooks.
 * The algorithms are fetched once per process, never per SA or packet.
 */
#include "esp/esp_int.h"
#include "esp/esp_test.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

const char *const esp_drop_names[ESP_DROP__COUNT] = {
	"none", "malformed", "no_sa", "replay", "auth_failed", "bad_padding", "policy",
	"expired", "send_error", "recv_error",
};
static_assert(ARRAY_LEN(esp_drop_names) == ESP_DROP__COUNT, "ESP drop names");

#define ESP_IVGEN_KEY 16	/* AES-128-CTR key of the CBC IV generator */

/* Fetched once; the contexts hold their own references. */
static struct {
	EVP_CIPHER *cbc128, *cbc256, *gcm128, *gcm256, *ctr128;
	EVP_MAC    *hmac;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void
algs_fetch(void)
{
	algs.cbc128 = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	algs.cbc256 = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	algs.gcm128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	algs.gcm256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	algs.ctr128 = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static int
params_valid(const struct esp_sa_params *p)
{
	const char *why = NULL;

	if (p->spi < 256)
		why = "SPI 0..255 is reserved (RFC 4303 2.1)";
	else if (p->key_len != 16 && p->key_len != 32)
		why = "AES key length must be 16 or 32";
	else if (p->cipher == ESP_CIPHER_AES_CBC && p->auth == ESP_AUTH_HMAC_SHA1_96 &&
	    p->auth_key_len != 20)
		why = "HMAC-SHA1 key length must be 20";
	else if (p->cipher == ESP_CIPHER_AES_CBC && p->auth == ESP_AUTH_HMAC_SHA256_128 &&
	    p->auth_key_len != 32)
		why = "HMAC-SHA-256 key length must be 32";
	else if (p->cipher == ESP_CIPHER_AES_CBC && p->auth != ESP_AUTH_HMAC_SHA1_96 &&
	    p->auth != ESP_AUTH_HMAC_SHA256_128)
		why = "AES-CBC needs HMAC-SHA1-96 or HMAC-SHA-256-128";
	else if (p->cipher == ESP_CIPHER_AES_GCM16 &&
	    (p->auth != ESP_AUTH_NONE || p->auth_key_len != ESP_GCM_SALT_LEN))
		why = "AES-GCM takes no HMAC and a 4-byte salt";
	else if (p->cipher != ESP_CIPHER_AES_CBC && p->cipher != ESP_CIPHER_AES_GCM16)
		why = "unknown cipher";
	else if (p->replay_window > ESP_REPLAY_MAX)
		why = "replay window above ESP_REPLAY_MAX";
	else if (ipv4_mask_len(ntohl(p->local.mask_be)) == -1 ||
		 ipv4_mask_len(ntohl(p->remote.mask_be)) == -1)
		why = "selector mask is not a prefix";
	else if (p->transport && (p->local.mask_be != 0xffffffffu || p->remote.mask_be != 0xffffffffu))
		why = "transport mode is between two hosts: selectors must be /32";
	else if ((p->local_port != 0 || p->remote_port != 0) && p->proto != IPPROTO_TCP &&
		 p->proto != IPPROTO_UDP)
		why = "selector ports need protocol TCP or UDP";
	if (why != NULL) {
		log_warnx("esp: SA %08x: %s", p->spi, why);
		return -1;
	}
	return 0;
}

static EVP_CIPHER *
sa_cipher(const struct esp_sa_params *p)
{
	if (p->cipher == ESP_CIPHER_AES_GCM16)
		return p->key_len == 16 ? algs.gcm128 : algs.gcm256;
	return p->key_len == 16 ? algs.cbc128 : algs.cbc256;
}

/* Keys the cipher (no IV yet: each packet brings its own) and the HMAC. */
static int
sa_keys(struct esp_sa *sa)
{
	const struct esp_sa_params *p = &sa->p;
	EVP_CIPHER *c = sa_cipher(p);
	OSSL_PARAM mp[2];
	int ret = -1;

	if (c == NULL || (sa->cipher = EVP_CIPHER_CTX_new()) == NULL)
		goto done;
	if (!(sa->outbound ? EVP_EncryptInit_ex2(sa->cipher, c, p->key, NULL, NULL) :
	    EVP_DecryptInit_ex2(sa->cipher, c, p->key, NULL, NULL)))
		goto done;
	if (p->cipher == ESP_CIPHER_AES_GCM16) {
		memcpy(sa->nonce, p->auth_key, ESP_GCM_SALT_LEN);
		ret = 0;
		goto done;
	}
	if (!EVP_CIPHER_CTX_set_padding(sa->cipher, 0) || algs.hmac == NULL ||
	    (sa->mac = EVP_MAC_CTX_new(algs.hmac)) == NULL)
		goto done;
	mp[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    p->auth == ESP_AUTH_HMAC_SHA1_96 ? "SHA1" : "SHA256", 0);
	mp[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(sa->mac, p->auth_key, p->auth_key_len, mp))
		ret = 0;
done:
	return ret;
}

/* CBC IVs must be unpredictable (RFC 4303 3.3.2, RFC 3602 2.3): AES-CTR
 * keystream under a random per-SA key, made ESP_IV_BATCH IVs at a time,
 * costs a few ns per packet where RAND_bytes costs hundreds. */
static int
sa_ivgen(struct esp_sa *sa)
{
	uint8_t key[ESP_IVGEN_KEY], ctr[16];
	int ret = -1;

	if (algs.ctr128 == NULL || (sa->ivgen = EVP_CIPHER_CTX_new()) == NULL)
		goto done;
	if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(ctr, sizeof(ctr)) != 1)
		goto done;
	if (!EVP_EncryptInit_ex2(sa->ivgen, algs.ctr128, key, ctr, NULL))
		goto done;
	ret = 0;
done:
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

struct esp_sa *
esp_sa_new(const struct esp_sa_params *p, int outbound)
{
	struct esp_sa *sa = NULL;
	int cbc = p->cipher == ESP_CIPHER_AES_CBC;

	if (params_valid(p) == -1)
		goto fail;
	pthread_once(&algs_once, algs_fetch);
	sa = xcalloc(1, sizeof(*sa));
	pthread_mutex_init(&sa->lock, NULL);
	sa->p = *p;
	sa->p.local.addr_be &= sa->p.local.mask_be;
	sa->p.remote.addr_be &= sa->p.remote.mask_be;
	if (sa->p.replay_window == 0)
		sa->p.replay_window = ESP_REPLAY_DEFAULT;
	sa->outbound = outbound != 0;
	sa->iv_len = cbc ? ESP_CBC_IV_LEN : ESP_GCM_IV_LEN;
	sa->icv_len = !cbc ? ESP_GCM_ICV_LEN : p->auth == ESP_AUTH_HMAC_SHA1_96 ? 12 : 16;
	sa->align = cbc ? 16 : 4;
	sa->seq_next = 1;
	esp_replay_init(&sa->replay, sa->p.replay_window);
	if (sa_keys(sa) == -1 || (cbc && sa->outbound && sa_ivgen(sa) == -1)) {
		log_warnx("esp: SA %08x: cannot prepare the EVP contexts", p->spi);
		goto fail;
	}
	return sa;
fail:
	esp_sa_free(sa);
	return NULL;
}

void
esp_sa_free(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	/* The providers wipe their key schedules when freed. */
	EVP_CIPHER_CTX_free(sa->cipher);
	EVP_CIPHER_CTX_free(sa->ivgen);
	EVP_MAC_CTX_free(sa->mac);
	pthread_mutex_destroy(&sa->lock);
	OPENSSL_cleanse(sa, sizeof(*sa));
	free(sa);
}

uint32_t
esp_sa_spi(const struct esp_sa *sa)
{
	return sa->p.spi;
}

uint32_t
esp_sa_seq_high(const struct esp_sa *sa)
{
	uint64_t next;

	if (!sa->outbound)
		return __atomic_load_n(&sa->replay.top, __ATOMIC_RELAXED);
	next = __atomic_load_n(&sa->seq_next, __ATOMIC_RELAXED);
	return next > ESP_SEQ_LAST ? ESP_SEQ_LAST : (uint32_t)(next - 1);
}

const struct esp_counters *
esp_sa_counters(const struct esp_sa *sa)
{
	return &sa->c;
}

const struct esp_sa_params *
esp_sa_params(const struct esp_sa *sa)
{
	return &sa->p;
}

size_t
esp_payload_offset(const struct esp_sa *sa)
{
	return ESP_HDR_LEN + sa->iv_len;
}

size_t
esp_overhead(const struct esp_sa *sa, size_t len)
{
	size_t body = (len + 2 + sa->align - 1) / sa->align * sa->align;

	return ESP_HDR_LEN + sa->iv_len + (body - len) + sa->icv_len;
}

int
esp_net_has(const struct esp_net *net, uint32_t addr_be)
{
	return (addr_be & net->mask_be) == net->addr_be;
}

/*
 * The IPv4 header (RFC 791) and, in a first fragment of TCP or UDP, the
 * ports that lead its payload.
 *
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  |         Identification        |Flags|      Fragment Offset    |
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  |                       Source Address                          |
 *  |                    Destination Address                        |
 */
int
esp_flow_of(const uint8_t *pkt, size_t len, struct esp_flow *f)
{
	size_t ihl;
	uint16_t frag;

	if (len < 20 || pkt[0] >> 4 != 4 || (ihl = (pkt[0] & 0x0fu) * 4u) < 20 || ihl > len)
		return -1;
	memset(f, 0, sizeof(*f));
	memcpy(&f->src_be, pkt + 12, 4);
	memcpy(&f->dst_be, pkt + 16, 4);
	f->proto = pkt[9];
	frag = (uint16_t)(pkt[6] << 8 | pkt[7]) & 0x1fffu;
	if ((f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) && frag == 0 && len >= ihl + 4) {
		f->sport = (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
		f->dport = (uint16_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]);
		f->ports_known = 1;
	}
	return 0;
}

int
esp_sa_covers(const struct esp_sa_params *p, const struct esp_flow *f, int outbound)
{
	uint32_t local = outbound ? f->src_be : f->dst_be, remote = outbound ? f->dst_be : f->src_be;
	uint16_t lport = outbound ? f->sport : f->dport, rport = outbound ? f->dport : f->sport;

	if (!esp_net_has(&p->local, local) || !esp_net_has(&p->remote, remote))
		return 0;
	if (p->proto != 0 && p->proto != f->proto)
		return 0;
	if (p->local_port == 0 && p->remote_port == 0)
		return 1;
	return f->ports_known && (p->local_port == 0 || p->local_port == lport) &&
	    (p->remote_port == 0 || p->remote_port == rport);
}

int
esp_iv_next(struct esp_sa *sa, uint8_t iv[static ESP_CBC_IV_LEN])
{
	static const uint8_t zero[sizeof(sa->iv_pool)];
	int n;

	if (sa->test_iv_set) {
		memcpy(iv, sa->test_iv, ESP_CBC_IV_LEN);
		sa->test_iv_set = 0;
		return 0;
	}
	if (sa->iv_left == 0) {
		if (!EVP_EncryptUpdate(sa->ivgen, sa->iv_pool, &n, zero, (int)sizeof(zero)))
			return -1;
		sa->iv_left = ESP_IV_BATCH;
	}
	memcpy(iv, sa->iv_pool + (ESP_IV_BATCH - sa->iv_left) * ESP_CBC_IV_LEN, ESP_CBC_IV_LEN);
	sa->iv_left--;
	return 0;
}

/* Re-initialising the keyed context restarts from its stored inner/outer
 * pads; cheaper than EVP_MAC_CTX_dup per packet (no allocation). */
int
esp_hmac(struct esp_sa *sa, const uint8_t *p, size_t n, uint8_t md[static ESP_HMAC_MAX])
{
	size_t mdlen;

	if (!EVP_MAC_init(sa->mac, NULL, 0, NULL) || !EVP_MAC_update(sa->mac, p, n) ||
	    !EVP_MAC_final(sa->mac, md, &mdlen, ESP_HMAC_MAX) || mdlen < sa->icv_len)
		return -1;
	return 0;
}

void
esp_sa_drop(struct esp_sa *sa, int why, int64_t now)
{
	sa->c.drops[why]++;
	if (now < sa->log_next_ms)
		return;
	sa->log_next_ms = now + ESP_LOG_EVERY_MS;
	if (why == ESP_DROP_EXPIRED)
		log_warnx("esp: SA %08x: sequence numbers used up, rekey needed", sa->p.spi);
	else
		log_debug("esp: SA %08x %s: drop %s (%llu so far)", sa->p.spi,
		    sa->outbound ? "out" : "in", esp_drop_names[why],
		    (unsigned long long)sa->c.drops[why]);
}

void
esp_sa_count_drop(struct esp_sa *sa, enum esp_drop why)
{
	if (why <= ESP_DROP_NONE || why >= ESP_DROP__COUNT)
		return;
	pthread_mutex_lock(&sa->lock);
	sa->c.drops[why]++;
	pthread_mutex_unlock(&sa->lock);
}

void
esp_sa_test_set_iv(struct esp_sa *sa, const uint8_t iv[16])
{
	memcpy(sa->test_iv, iv, ESP_CBC_IV_LEN);
	sa->test_iv_set = 1;
}

void
esp_sa_test_set_seq(struct esp_sa *sa, uint64_t next)
{
	sa->seq_next = next;
}

void
esp_sa_test_raw(struct esp_sa *sa, int on)
{
	sa->test_raw = on != 0;
}

void
esp_sa_test_reset_replay(struct esp_sa *sa)
{
	esp_replay_init(&sa->replay, sa->p.replay_window);
}

void
esp_sa_set_owner(struct esp_sa *sa, void *owner)
{
	sa->owner = owner;
}

void *
esp_sa_owner(const struct esp_sa *sa)
{
	return sa->owner;
}

void
esp_counters_add(struct esp_counters *to, const struct esp_counters *c)
{
	to->packets += c->packets;
	to->bytes += c->bytes;
	to->encrypt_or_decrypt += c->encrypt_or_decrypt;
	to->digest_or_verify += c->digest_or_verify;
	for (int i = 0; i < ESP_DROP__COUNT; i++)
		to->drops[i] += c->drops[i];
	if (c->last_ms > to->last_ms)
		to->last_ms = c->last_ms;
}
