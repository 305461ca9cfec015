/*
 * ESP output and input (agent/esp/): every transform in tunnel and
 * transport mode through the SAD, known answers from a second
 * implementation (tests/vectors/esp_gen.py), each drop reason with its exact
 * counter (tampering, unknown SPI, padding, every truncation, selectors,
 * replay, sequence exhaustion), in-place output, CBC IV freshness, and the
 * SAD: newest-wins policy lookup, duplicates, removal, growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "esp/esp.h"
#include "esp/esp_test.h"

#define KEY_SEED  0x11
#define AUTH_SEED 0x22
#define IV_SEED   0x33
#define DATA_SEED 0x40
#define BUF_MAX   (ESP_PKT_MAX + 64)

struct xf {
	const char     *name;
	enum esp_cipher cipher;
	enum esp_auth   auth;
	size_t          key_len, auth_key_len, iv_len, icv_len, align;
};

static const struct xf xforms[] = {
	{ "aes128-sha1", ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA1_96, 16, 20, 16, 12, 16 },
	{ "aes256-sha1", ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA1_96, 32, 20, 16, 12, 16 },
	{ "aes128-sha256", ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA256_128, 16, 32, 16, 16, 16 },
	{ "aes256-sha256", ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA256_128, 32, 32, 16, 16, 16 },
	{ "aes128gcm16", ESP_CIPHER_AES_GCM16, ESP_AUTH_NONE, 16, 4, 8, 16, 4 },
	{ "aes256gcm16", ESP_CIPHER_AES_GCM16, ESP_AUTH_NONE, 32, 4, 8, 16, 4 },
};
#define N_XFORMS (sizeof(xforms) / sizeof(xforms[0]))

static uint8_t pkt[BUF_MAX], out[BUF_MAX], inner[BUF_MAX];

/* The filler both this test and esp_gen.py use: byte i = seed + 29 i. */
static void
pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 29 * i);
}

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

static struct esp_net
net(uint32_t addr_be, unsigned plen)
{
	struct esp_net n = { addr_be, htonl(plen == 0 ? 0 : 0xffffffffu << (32 - plen)) };

	return n;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IPv4/UDP-looking packet of total length n (>= 20), as esp_gen.py's. */
static void
ipv4(uint8_t *p, size_t n, uint32_t src_be, uint32_t dst_be)
{
	static const uint8_t head[12] = { 0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0 };

	memcpy(p, head, sizeof(head));
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	memcpy(p + 12, &src_be, 4);
	memcpy(p + 16, &dst_be, 4);
	pattern(p + 20, n - 20, DATA_SEED);
}

/* The one's complement sum of a header: 0 when its checksum is right. */
static uint16_t
ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t
unhex(const char *h, uint8_t *p, size_t cap)
{
	size_t n = strlen(h) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		p[i] = (uint8_t)v;
	}
	return n;
}

/* The sender's view: local 10.1/16, remote 10.2/16; the receiver's is
 * the mirror image. */
static struct esp_sa_params
params(const struct xf *x, uint32_t spi, int transport, int inbound)
{
	struct esp_sa_params p;
	struct esp_net a = net(ip4(10, 1, 0, 0), 16), b = net(ip4(10, 2, 0, 0), 16);

	memset(&p, 0, sizeof(p));
	p.spi = spi;
	p.cipher = x->cipher;
	p.auth = x->auth;
	p.key_len = x->key_len;
	pattern(p.key, x->key_len, KEY_SEED);
	p.auth_key_len = x->auth_key_len;
	pattern(p.auth_key, x->auth_key_len, AUTH_SEED);
	p.transport = transport;
	if (transport) {	/* between two hosts */
		a = net(ip4(10, 1, 2, 3), 32);
		b = net(ip4(10, 2, 3, 4), 32);
	}
	p.local = inbound ? b : a;
	p.remote = inbound ? a : b;
	return p;
}

/* A sender's SAD with one outbound SA and a receiver's with its twin. */
struct pair {
	struct esp_sad *tx, *rx;
	struct esp_sa  *out, *in;	/* owned by the SADs */
};

/* With selectors for one protocol (0: any) and, from the sender's side,
 * its port and the receiver's (0: any). */
static void
pair_make(struct pair *pp, const struct xf *x, uint32_t spi, int transport, unsigned window,
	  uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct esp_sa_params p = params(x, spi, transport, 0);

	pp->tx = esp_sad_new();
	pp->rx = esp_sad_new();
	p.proto = proto, p.local_port = sport, p.remote_port = dport;
	pp->out = esp_sa_new(&p, 1);
	p = params(x, spi, transport, 1);
	p.replay_window = window;
	p.proto = proto, p.local_port = dport, p.remote_port = sport;
	pp->in = esp_sa_new(&p, 0);
	assert_non_null(pp->out);
	assert_non_null(pp->in);
	assert_int_equal(esp_sad_add(pp->tx, pp->out, 1), 0);
	assert_int_equal(esp_sad_add(pp->rx, pp->in, 0), 0);
}

static void
pair_init(struct pair *pp, const struct xf *x, uint32_t spi, int transport, unsigned window)
{
	pair_make(pp, x, spi, transport, window, 0, 0, 0);
}

static void
pair_init_sel(struct pair *pp, const struct xf *x, uint32_t spi, int transport, uint8_t proto,
	      uint16_t sport, uint16_t dport)
{
	pair_make(pp, x, spi, transport, 0, proto, sport, dport);
}

static void
pair_free(struct pair *pp)
{
	esp_sad_free(pp->tx);
	esp_sad_free(pp->rx);
}

static size_t
seal(struct pair *pp, const uint8_t *in, size_t len, uint8_t nh)
{
	size_t n = 0;

	assert_int_equal(esp_output(pp->out, in, len, nh, pkt, sizeof(pkt), &n, 1000), 0);
	assert_int_equal(n, len + esp_overhead(pp->out, len));
	return n;
}

/* The outbound SA for a packet from src to dst of any protocol. */
static struct esp_sa *
outbound(const struct esp_sad *sad, uint32_t src_be, uint32_t dst_be)
{
	struct esp_flow f = { .src_be = src_be, .dst_be = dst_be };

	return esp_sad_outbound(sad, &f);
}

static int
open_pkt(struct pair *pp, const uint8_t *p, size_t len, size_t *outlen, uint8_t *nh)
{
	struct esp_sa *sa = NULL;
	int ret = esp_input(pp->rx, p, len, out, sizeof(out), outlen, nh, &sa, 2000);

	if (ret == 0)
		assert_ptr_equal(sa, pp->in);
	return ret;
}

/* Drop counters before a step, to assert that exactly one moved by one. */
struct snap {
	uint64_t sad[ESP_DROP__COUNT], sa[ESP_DROP__COUNT];
};

static void
snap_take(struct snap *s, const struct pair *pp)
{
	memcpy(s->sad, esp_sad_drops(pp->rx), sizeof(s->sad));
	memcpy(s->sa, esp_sa_counters(pp->in)->drops, sizeof(s->sa));
}

static void
assert_one_drop(const struct snap *s, const struct pair *pp, int on_sa, int why)
{
	const uint64_t *sad = esp_sad_drops(pp->rx), *sa = esp_sa_counters(pp->in)->drops;

	for (int i = 0; i < ESP_DROP__COUNT; i++) {
		assert_int_equal(sad[i] - s->sad[i], !on_sa && i == why);
		assert_int_equal(sa[i] - s->sa[i], on_sa && i == why);
	}
}

/* Feeds p[0..len) from an exact-size copy (ASan sees any over-read) and
 * checks the drop reason and where it was counted. */
static void
expect_drop(struct pair *pp, const uint8_t *p, size_t len, int on_sa, int why)
{
	uint8_t *copy = malloc(len ? len : 1), nh = 0xee;
	struct snap s;
	size_t n = 99;

	assert_non_null(copy);
	memcpy(copy, p, len);
	snap_take(&s, pp);
	assert_int_equal(open_pkt(pp, copy, len, &n, &nh), why);
	assert_int_equal(n, 0);
	assert_int_equal(nh, 0);
	assert_one_drop(&s, pp, on_sa, why);
	free(copy);
}

static void
test_drop_names(void **state)
{
	static const char *const want[] = { "none", "malformed", "no_sa", "replay", "auth_failed",
		"bad_padding", "policy", "expired", "send_error", "recv_error" };
	struct pair pp;

	for (int i = 0; i < ESP_DROP__COUNT; i++)
		assert_string_equal(esp_drop_names[i], want[i]);
	pair_init(&pp, &xforms[0], 0x1000, 0, 0);
	esp_sa_count_drop(pp.in, ESP_DROP_RECV_ERROR);
	esp_sad_count_drop(pp.rx, ESP_DROP_NO_SA);
	assert_int_equal(esp_sa_counters(pp.in)->drops[ESP_DROP_RECV_ERROR], 1);
	assert_int_equal(esp_sad_drops(pp.rx)[ESP_DROP_NO_SA], 1);
	assert_int_equal(esp_payload_offset(pp.out), ESP_HDR_LEN + 16);
	pair_free(&pp);
}

/* Every transform, both modes, many lengths up to the largest that fits
 * ESP_PKT_MAX; the outbound SA found by policy, the inbound by SPI. */
static void
test_roundtrip(void **state)
{
	static const size_t extra[] = { 1400, 1500, 9000 };

	for (size_t x = 0; x < N_XFORMS; x++) {
		for (int transport = 0; transport <= 1; transport++) {
			struct pair pp;
			uint64_t n_pkts = 0, n_bytes = 0;
			size_t lens[80], n_lens = 0, max;

			pair_init(&pp, &xforms[x], 0x2000 + (uint32_t)x, transport, 0);
			for (size_t l = transport ? 0 : 20; l < (transport ? 48u : 68u); l++)
				lens[n_lens++] = l;
			for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
				lens[n_lens++] = extra[i];
			for (max = ESP_PKT_MAX; max + esp_overhead(pp.out, max) > ESP_PKT_MAX; max--)
				;
			lens[n_lens++] = max;
			for (size_t i = 0; i < n_lens; i++) {
				size_t len = lens[i], plen, olen = 0;
				uint8_t nh = 0;
				const struct esp_sa *sa;

				if (transport)
					pattern(inner, len, (uint8_t)(DATA_SEED + i));
				else
					ipv4(inner, len, ip4(10, 1, 2, 3), ip4(10, 2, 3, 4));
				sa = outbound(pp.tx, ip4(10, 1, 2, 3), ip4(10, 2, 3, 4));
				assert_ptr_equal(sa, pp.out);
				plen = seal(&pp, inner, len, transport ? 17 : 4);
				assert_int_equal(be32(pkt), 0x2000 + x);
				assert_int_equal(be32(pkt + 4), i + 1);
				assert_int_equal((plen - ESP_HDR_LEN - xforms[x].iv_len - xforms[x].icv_len) %
				    xforms[x].align, 0);
				assert_int_equal(open_pkt(&pp, pkt, plen, &olen, &nh), 0);
				assert_int_equal(nh, transport ? 17 : 4);
				if (transport) {
					/* the header rebuilt from the SA's hosts, then the payload */
					uint8_t hdr[20];

					ipv4(hdr, 20, ip4(10, 1, 2, 3), ip4(10, 2, 3, 4));
					assert_int_equal(olen, 20 + len);
					assert_int_equal(out[0], 0x45);
					assert_int_equal(out[2] << 8 | out[3], 20 + len);
					assert_int_equal(out[9], 17);
					assert_memory_equal(out + 12, hdr + 12, 8);
					assert_int_equal(ip_checksum(out, 20), 0);
					assert_memory_equal(out + 20, inner, len);
				} else {
					assert_int_equal(olen, len);
					assert_memory_equal(out, inner, len);
				}
				n_pkts++;
				n_bytes += len;
			}
			/* one byte more than fits is refused on output */
			assert_int_equal(esp_output(pp.out, inner, max + 1, 4, pkt, sizeof(pkt), &max, 5),
			    ESP_DROP_MALFORMED);
			assert_int_equal(esp_sa_counters(pp.out)->drops[ESP_DROP_MALFORMED], 1);

			const struct esp_counters *co = esp_sa_counters(pp.out), *ci = esp_sa_counters(pp.in);
			assert_int_equal(co->packets, n_pkts);
			assert_int_equal(co->bytes, n_bytes);
			assert_int_equal(co->encrypt_or_decrypt, n_pkts);
			assert_int_equal(co->digest_or_verify, n_pkts);
			assert_int_equal(co->last_ms, 1000);
			assert_int_equal(ci->packets, n_pkts);
			assert_int_equal(ci->bytes, n_bytes);
			assert_int_equal(ci->encrypt_or_decrypt, n_pkts);
			assert_int_equal(ci->digest_or_verify, n_pkts);
			assert_int_equal(ci->last_ms, 2000);
			for (int d = 0; d < ESP_DROP__COUNT; d++) {
				assert_int_equal(ci->drops[d], 0);
				assert_int_equal(esp_sad_drops(pp.rx)[d], 0);
			}
			pair_free(&pp);
		}
	}
}

struct esp_kat {
	const char     *name;
	enum esp_cipher cipher;
	enum esp_auth   auth;
	size_t          key_len, auth_key_len;
	int             transport;
	uint32_t        spi, seq;
	size_t          inner_len;
	uint8_t         nh;
	const char     *packet;
};

/* The packets esp_gen.py made from the same inputs. */
#include "../vectors/esp_kats.h"

static void
test_known_answers(void **state)
{
	assert_int_equal(sizeof(esp_kats) / sizeof(esp_kats[0]), 24);
	for (size_t k = 0; k < sizeof(esp_kats) / sizeof(esp_kats[0]); k++) {
		const struct esp_kat *t = &esp_kats[k];
		const struct xf *x = NULL;
		uint8_t want[1024], iv[16], nh = 0;
		size_t want_len = unhex(t->packet, want, sizeof(want)), n = 0;
		struct pair pp;

		for (size_t i = 0; i < N_XFORMS; i++)
			if (xforms[i].cipher == t->cipher && xforms[i].auth == t->auth &&
			    xforms[i].key_len == t->key_len)
				x = &xforms[i];
		assert_non_null(x);
		pair_init(&pp, x, t->spi, t->transport, 0);
		if (t->transport)
			pattern(inner, t->inner_len, DATA_SEED);
		else
			ipv4(inner, t->inner_len, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
		esp_sa_test_set_seq(pp.out, t->seq);
		pattern(iv, sizeof(iv), IV_SEED);
		esp_sa_test_set_iv(pp.out, iv);	/* ignored by GCM: its IV is the counter */
		n = seal(&pp, inner, t->inner_len, t->nh);
		if (n != want_len || memcmp(pkt, want, n) != 0)
			fail_msg("%s: output differs from esp_gen.py's", t->name);
		assert_int_equal(open_pkt(&pp, want, want_len, &n, &nh), 0);
		assert_int_equal(nh, t->nh);
		if (t->transport) {	/* behind the header rebuilt from the hosts */
			assert_int_equal(n, 20 + t->inner_len);
			assert_memory_equal(out + 20, inner, t->inner_len);
		} else {
			assert_int_equal(n, t->inner_len);
			assert_memory_equal(out, inner, n);
		}
		pair_free(&pp);
	}
}

/* Any changed byte: SPI bytes find no SA, the rest fail the ICV; none of
 * them moves the replay window, so the genuine packet still gets in. */
static void
test_tampered(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		struct pair pp;
		size_t len, n;
		uint8_t nh;

		pair_init(&pp, &xforms[x], 0x3000, 0, 0);
		ipv4(inner, 77, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
		len = seal(&pp, inner, 77, 4);
		for (size_t i = 0; i < len; i++) {
			pkt[i] ^= 0x80;
			expect_drop(&pp, pkt, len, i >= 4, i < 4 ? ESP_DROP_NO_SA : ESP_DROP_AUTH_FAILED);
			pkt[i] ^= 0x80;
		}
		assert_int_equal(esp_sa_counters(pp.in)->drops[ESP_DROP_AUTH_FAILED], len - 4);
		assert_int_equal(esp_sa_counters(pp.in)->packets, 0);
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		pair_free(&pp);
	}
}

static void
test_unknown_spi(void **state)
{
	struct pair pp;
	size_t len;

	pair_init(&pp, &xforms[4], 0x4000, 0, 0);
	ipv4(inner, 40, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
	len = seal(&pp, inner, 40, 4);
	pkt[3] ^= 1;	/* 0x4001 */
	expect_drop(&pp, pkt, len, 0, ESP_DROP_NO_SA);
	memset(pkt, 0, 4);
	expect_drop(&pp, pkt, len, 0, ESP_DROP_NO_SA);
	memset(pkt, 0xff, 4);
	expect_drop(&pp, pkt, len, 0, ESP_DROP_NO_SA);
	assert_int_equal(esp_sad_drops(pp.rx)[ESP_DROP_NO_SA], 3);
	pair_free(&pp);
}

/* Builds an authentic packet around a hand-made plaintext (raw hook). */
static size_t
seal_raw(struct pair *pp, const uint8_t *pt, size_t len)
{
	size_t n = 0;

	esp_sa_test_raw(pp->out, 1);
	assert_int_equal(esp_output(pp->out, pt, len, 0, pkt, sizeof(pkt), &n, 1000), 0);
	esp_sa_test_raw(pp->out, 0);
	return n;
}

/* payload (a valid inner packet of 20 bytes) | pad | pad length | 4, the
 * pad bytes 1, 2, 3, ... except where `bad` says. */
static size_t
plaintext(uint8_t *pt, size_t align, int bad_at, int pad_len_delta)
{
	size_t body = (20 + 2 + align - 1) / align * align, pad = body - 22;

	ipv4(pt, 20, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
	for (size_t i = 0; i < pad; i++)
		pt[20 + i] = (uint8_t)(i + 1 + ((int)i == bad_at ? 1 : 0));
	pt[20 + pad] = (uint8_t)((int)pad + pad_len_delta);
	pt[21 + pad] = 4;
	return body;
}

static void
test_bad_padding(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		const struct xf *xf = &xforms[x];
		uint8_t pt[64], nh;
		size_t body, len, n;
		struct pair pp;

		pair_init(&pp, xf, 0x5000, 0, 0);
		/* the well-formed one passes: the builder is right */
		body = plaintext(pt, xf->align, -1, 0);
		len = seal_raw(&pp, pt, body);
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		assert_int_equal(n, 20);
		/* each pad byte wrong in turn */
		for (int at = 0; at < (int)(body - 22); at++) {
			plaintext(pt, xf->align, at, 0);
			len = seal_raw(&pp, pt, body);
			expect_drop(&pp, pkt, len, 1, ESP_DROP_BAD_PADDING);
			/* authentic, so the window moved: the same packet is a replay */
			expect_drop(&pp, pkt, len, 1, ESP_DROP_REPLAY);
		}
		/* pad length longer than the plaintext allows */
		plaintext(pt, xf->align, -1, 0);
		pt[body - 2] = (uint8_t)(body - 1);
		len = seal_raw(&pp, pt, body);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_BAD_PADDING);
		pt[body - 2] = 255;
		len = seal_raw(&pp, pt, body);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_BAD_PADDING);
		/* pad length one too many / too few: the byte before is wrong */
		plaintext(pt, xf->align, -1, 1);
		len = seal_raw(&pp, pt, body);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_BAD_PADDING);
		if (body - 22 > 0) {
			plaintext(pt, xf->align, -1, -1);
			len = seal_raw(&pp, pt, body);
			expect_drop(&pp, pkt, len, 1, ESP_DROP_BAD_PADDING);
		}
		pair_free(&pp);
	}
}

/* Every prefix of a valid packet: below SPI + seq + the smallest body of
 * any transform it is malformed before the SA is known; above, malformed
 * on the SA unless the layout happens to fit, then the ICV fails. */
static void
test_truncated(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		const struct xf *xf = &xforms[x];
		size_t len, n, min_any = ESP_HDR_LEN + 8 + 4 + 16;
		struct pair pp;
		uint8_t nh;

		pair_init(&pp, xf, 0x6000, 0, 0);
		ipv4(inner, 100, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
		len = seal(&pp, inner, 100, 4);
		for (size_t l = 0; l < len; l++) {
			size_t body = l - ESP_HDR_LEN, ct;

			if (l < min_any) {
				expect_drop(&pp, pkt, l, 0, ESP_DROP_MALFORMED);
				continue;
			}
			ct = body - xf->iv_len - xf->icv_len;
			if (body < xf->iv_len + xf->align + xf->icv_len || ct % xf->align != 0)
				expect_drop(&pp, pkt, l, 1, ESP_DROP_MALFORMED);
			else
				expect_drop(&pp, pkt, l, 1, ESP_DROP_AUTH_FAILED);
		}
		expect_drop(&pp, pkt, ESP_PKT_MAX + 1, 0, ESP_DROP_MALFORMED);
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		/* a caller's buffer too small for the plaintext */
		assert_int_equal(esp_input(pp.rx, pkt, len, out, 50, &n, &nh, &(struct esp_sa *){ NULL },
		    0), ESP_DROP_MALFORMED);
		pair_free(&pp);
	}
}

/* Tunnel mode: inner source in the SA's remote selector, destination in
 * its local one; transport mode leaves that to the caller. */
static void
test_policy(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		struct pair pp, tp;
		size_t len, n;
		uint8_t nh;

		pair_init(&pp, &xforms[x], 0x7000, 0, 0);
		ipv4(inner, 60, ip4(192, 0, 2, 1), ip4(10, 2, 0, 1));
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_POLICY);
		ipv4(inner, 60, ip4(10, 1, 0, 1), ip4(10, 3, 0, 1));
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_POLICY);
		ipv4(inner, 60, ip4(10, 2, 0, 1), ip4(10, 1, 0, 1));	/* reversed */
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_POLICY);
		ipv4(inner, 60, ip4(10, 1, 255, 255), ip4(10, 2, 255, 255));
		len = seal(&pp, inner, 60, 4);
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		pair_free(&pp);

		/* a tunnel-mode SA for one protocol refuses the others inside */
		pair_init_sel(&tp, &xforms[x], 0x7001, 0, IPPROTO_GRE, 0, 0);
		ipv4(inner, 60, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));	/* UDP */
		len = seal(&tp, inner, 60, 4);
		expect_drop(&tp, pkt, len, 1, ESP_DROP_POLICY);
		inner[9] = IPPROTO_GRE;
		len = seal(&tp, inner, 60, 4);
		assert_int_equal(open_pkt(&tp, pkt, len, &n, &nh), 0);
		pair_free(&tp);
	}
}

/* A transport-mode payload of `proto` whose first four bytes are the
 * ports (UDP, TCP) or a GRE header. */
static size_t
seal_transport(struct pair *pp, uint8_t proto, uint16_t sport, uint16_t dport)
{
	pattern(inner, 40, DATA_SEED);
	inner[0] = (uint8_t)(sport >> 8), inner[1] = (uint8_t)sport;
	inner[2] = (uint8_t)(dport >> 8), inner[3] = (uint8_t)dport;
	return seal(pp, inner, 40, proto);
}

/* transport mode between two hosts carries what the selectors
 * name (protocol, ports), checked on the way in after the header is
 * rebuilt; the outbound lookup takes protocol and ports into account. */
static void
test_transport_selectors(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		struct esp_flow f = { .src_be = ip4(10, 1, 2, 3), .dst_be = ip4(10, 2, 3, 4),
				      .proto = IPPROTO_GRE };
		struct pair gre, l2tp;
		size_t len, n;
		uint8_t nh;

		/* permit gre host 10.1.2.3 host 10.2.3.4 */
		pair_init_sel(&gre, &xforms[x], 0x7100, 1, IPPROTO_GRE, 0, 0);
		assert_ptr_equal(esp_sad_outbound(gre.tx, &f), gre.out);
		f.proto = IPPROTO_UDP;
		assert_null(esp_sad_outbound(gre.tx, &f));
		len = seal_transport(&gre, IPPROTO_GRE, 0, 0x0800);
		assert_int_equal(open_pkt(&gre, pkt, len, &n, &nh), 0);
		assert_int_equal(n, 60);
		assert_int_equal(out[9], IPPROTO_GRE);
		assert_memory_equal(out + 20, inner, 40);
		len = seal_transport(&gre, IPPROTO_UDP, 1701, 1701);
		expect_drop(&gre, pkt, len, 1, ESP_DROP_POLICY);
		pair_free(&gre);

		/* permit udp host 10.1.2.3 eq 1701 host 10.2.3.4 */
		pair_init_sel(&l2tp, &xforms[x], 0x7200, 1, IPPROTO_UDP, 1701, 0);
		f = (struct esp_flow){ .src_be = ip4(10, 1, 2, 3), .dst_be = ip4(10, 2, 3, 4),
				       .proto = IPPROTO_UDP, .sport = 1701, .dport = 9,
				       .ports_known = 1 };
		assert_ptr_equal(esp_sad_outbound(l2tp.tx, &f), l2tp.out);
		f.sport = 1702;
		assert_null(esp_sad_outbound(l2tp.tx, &f));
		f.sport = 1701, f.ports_known = 0;	/* a later fragment */
		assert_null(esp_sad_outbound(l2tp.tx, &f));
		len = seal_transport(&l2tp, IPPROTO_UDP, 1701, 4000);
		assert_int_equal(open_pkt(&l2tp, pkt, len, &n, &nh), 0);
		len = seal_transport(&l2tp, IPPROTO_UDP, 1702, 4000);
		expect_drop(&l2tp, pkt, len, 1, ESP_DROP_POLICY);
		len = seal_transport(&l2tp, IPPROTO_TCP, 1701, 4000);
		expect_drop(&l2tp, pkt, len, 1, ESP_DROP_POLICY);
		pair_free(&l2tp);
	}
}

/* Tunnel mode's inner packet: next header 4, a sane IPv4 header, total
 * length within the plaintext; TFC padding after it is trimmed. */
static void
test_inner_malformed(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		const struct xf *xf = &xforms[x];
		uint8_t pt[64], nh;
		struct pair pp;
		size_t len, n, body;

		pair_init(&pp, xf, 0x8000, 0, 0);
		ipv4(inner, 60, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
		len = seal(&pp, inner, 60, 41);	/* IPv6 */
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		inner[0] = 0x65;		/* version 6 */
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		inner[0] = 0x44;		/* IHL 4 */
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		inner[0] = 0x4f;		/* IHL 15: 60 > total length 40 */
		inner[3] = 40;
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		inner[0] = 0x45;		/* total length 61 > 60 */
		inner[3] = 61;
		len = seal(&pp, inner, 60, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		len = seal(&pp, inner, 19, 4);	/* shorter than a header */
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		/* empty payload, padding only */
		body = plaintext(pt, xf->align, -1, 0);
		memset(pt, 0, 20);
		for (size_t i = 0; i < body - 2; i++)
			pt[i] = (uint8_t)(i + 1);
		pt[body - 2] = (uint8_t)(body - 2);
		len = seal_raw(&pp, pt, body);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_MALFORMED);
		/* TFC padding: 60 bytes given, the header says 44 */
		inner[3] = 44;
		len = seal(&pp, inner, 60, 4);
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		assert_int_equal(n, 44);
		assert_int_equal(esp_sa_counters(pp.in)->bytes, 44);
		pair_free(&pp);
	}
}

static void
test_replay(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		static uint8_t old[BUF_MAX];
		struct pair pp;
		size_t len, old_len, n;
		uint8_t nh;

		pair_init(&pp, &xforms[x], 0x9000, 0, 0);
		ipv4(inner, 48, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
		old_len = seal(&pp, inner, 48, 4);
		memcpy(old, pkt, old_len);
		assert_int_equal(open_pkt(&pp, old, old_len, &n, &nh), 0);
		expect_drop(&pp, old, old_len, 1, ESP_DROP_REPLAY);
		/* 64 newer packets push #1 out of the default window */
		for (int i = 0; i < 64; i++) {
			len = seal(&pp, inner, 48, 4);
			assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		}
		expect_drop(&pp, old, old_len, 1, ESP_DROP_REPLAY);
		/* sequence number 0 is never valid, even when authentic */
		esp_sa_test_set_seq(pp.out, 0);
		len = seal(&pp, inner, 48, 4);
		expect_drop(&pp, pkt, len, 1, ESP_DROP_REPLAY);
		assert_int_equal(esp_sa_counters(pp.in)->drops[ESP_DROP_REPLAY], 3);
		pair_free(&pp);

		/* a 1024-bit window takes a packet 1000 behind, once */
		pair_init(&pp, &xforms[x], 0x9001, 0, 1024);
		old_len = seal(&pp, inner, 48, 4);
		memcpy(old, pkt, old_len);
		esp_sa_test_set_seq(pp.out, 1001);
		len = seal(&pp, inner, 48, 4);
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		assert_int_equal(open_pkt(&pp, old, old_len, &n, &nh), 0);
		expect_drop(&pp, old, old_len, 1, ESP_DROP_REPLAY);
		pair_free(&pp);
	}
}

/* RFC 4303 3.3.3: the counter never wraps; after 2^32 - 1 the SA is done. */
static void
test_sequence_exhausted(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		struct pair pp;
		size_t len, n = 0;
		uint8_t nh;

		pair_init(&pp, &xforms[x], 0xa000, 0, 0);
		ipv4(inner, 48, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
		esp_sa_test_set_seq(pp.out, UINT32_MAX);
		len = seal(&pp, inner, 48, 4);
		assert_int_equal(be32(pkt + 4), UINT32_MAX);
		if (xforms[x].cipher == ESP_CIPHER_AES_GCM16) {
			assert_int_equal(be32(pkt + 8), 0);
			assert_int_equal(be32(pkt + 12), UINT32_MAX);
		}
		assert_int_equal(open_pkt(&pp, pkt, len, &n, &nh), 0);
		for (int i = 1; i <= 2; i++) {
			assert_int_equal(esp_output(pp.out, inner, 48, 4, pkt, sizeof(pkt), &n, 3000),
			    ESP_DROP_EXPIRED);
			assert_int_equal(n, 0);
			assert_int_equal(esp_sa_counters(pp.out)->drops[ESP_DROP_EXPIRED], i);
		}
		assert_int_equal(esp_sa_counters(pp.out)->packets, 1);
		pair_free(&pp);
	}
}

/* In place: the payload already sits at out + esp_payload_offset; the
 * bytes equal an out-of-place encryption with the same IV and sequence. */
static void
test_output_in_place_and_limits(void **state)
{
	for (size_t x = 0; x < N_XFORMS; x++) {
		static uint8_t buf[BUF_MAX];
		uint8_t iv[16];
		size_t off, n1 = 0, n2 = 0;
		struct pair pp;

		pair_init(&pp, &xforms[x], 0xb000, 0, 0);
		off = esp_payload_offset(pp.out);
		assert_int_equal(off, ESP_HDR_LEN + xforms[x].iv_len);
		for (size_t len = 20; len < 120; len += 7) {
			ipv4(inner, len, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
			memcpy(buf + off, inner, len);
			pattern(iv, sizeof(iv), (uint8_t)len);
			esp_sa_test_set_iv(pp.out, iv);
			esp_sa_test_set_seq(pp.out, len);
			assert_int_equal(esp_output(pp.out, buf + off, len, 4, buf, sizeof(buf), &n1, 1), 0);
			esp_sa_test_set_iv(pp.out, iv);
			esp_sa_test_set_seq(pp.out, len);
			assert_int_equal(esp_output(pp.out, inner, len, 4, pkt, sizeof(pkt), &n2, 1), 0);
			assert_int_equal(n1, n2);
			assert_memory_equal(buf, pkt, n1);
			/* one byte short of room */
			assert_int_equal(esp_output(pp.out, inner, len, 4, pkt, n2 - 1, &n2, 1),
			    ESP_DROP_MALFORMED);
			assert_int_equal(n2, 0);
		}
		/* raw plaintext must be aligned */
		esp_sa_test_raw(pp.out, 1);
		assert_int_equal(esp_output(pp.out, inner, xforms[x].align + 1, 4, pkt, sizeof(pkt),
		    &n1, 1), ESP_DROP_MALFORMED);
		esp_sa_test_raw(pp.out, 0);
		/* an inbound SA cannot send */
		assert_int_equal(esp_output(pp.in, inner, 40, 4, pkt, sizeof(pkt), &n1, 1),
		    ESP_DROP_NO_SA);
		pair_free(&pp);
	}
}

/* CBC IVs: all different across several generator batches, and different
 * between two SAs with the same keys. */
static void
test_cbc_iv_fresh(void **state)
{
	static uint8_t ivs[200][16];
	struct pair a, b;
	size_t len;

	pair_init(&a, &xforms[2], 0xc000, 0, 0);
	pair_init(&b, &xforms[2], 0xc000, 0, 0);
	ipv4(inner, 40, ip4(10, 1, 0, 1), ip4(10, 2, 0, 1));
	for (int i = 0; i < 100; i++) {
		seal(&a, inner, 40, 4);
		memcpy(ivs[i], pkt + 8, 16);
		len = seal(&b, inner, 40, 4);
		memcpy(ivs[100 + i], pkt + 8, 16);
		assert_int_equal(len, 8 + 16 + 48 + 16);
	}
	for (int i = 0; i < 200; i++)
		for (int j = i + 1; j < 200; j++)
			assert_memory_not_equal(ivs[i], ivs[j], 16);
	pair_free(&a);
	pair_free(&b);
}

static struct esp_sa *
out_sa(uint32_t spi, struct esp_net local, struct esp_net remote)
{
	struct esp_sa_params p = params(&xforms[4], spi, 0, 0);
	struct esp_sa *sa;

	p.local = local;
	p.remote = remote;
	sa = esp_sa_new(&p, 1);
	assert_non_null(sa);
	return sa;
}

/* Newest wins whatever the prefix length; removal falls back in order;
 * two peers may share an outbound SPI. */
static void
test_sad_policy(void **state)
{
	struct esp_sad *sad = esp_sad_new();
	struct esp_net l16 = net(ip4(10, 1, 0, 0), 16);
	struct esp_sa *a = out_sa(0x100, l16, net(ip4(10, 2, 0, 0), 16));
	struct esp_sa *b = out_sa(0x101, l16, net(ip4(10, 2, 3, 0), 24));
	struct esp_sa *c = out_sa(0x102, l16, net(ip4(10, 2, 0, 0), 16));
	struct esp_sa *d = out_sa(0x100, net(0, 0), net(ip4(172, 16, 0, 0), 12));
	struct esp_sa *e = out_sa(0x104, net(ip4(10, 1, 9, 9), 32), net(ip4(10, 2, 3, 4), 32));
	uint32_t s = ip4(10, 1, 0, 1);

	assert_null(outbound(sad, s, ip4(10, 2, 0, 1)));
	assert_int_equal(esp_sad_add(sad, a, 1), 0);
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 3, 4)), a);
	assert_int_equal(esp_sad_add(sad, b, 1), 0);
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 3, 4)), b);
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 4, 4)), a);
	assert_int_equal(esp_sad_add(sad, c, 1), 0);	/* a rekey of a */
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 3, 4)), c);
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 4, 4)), c);
	assert_int_equal(esp_sad_add(sad, d, 1), 0);	/* another peer, same SPI as a */
	assert_int_equal(esp_sad_add(sad, e, 1), 0);
	assert_ptr_equal(outbound(sad, ip4(10, 1, 9, 9), ip4(10, 2, 3, 4)), e);
	assert_ptr_equal(outbound(sad, ip4(10, 1, 9, 8), ip4(10, 2, 3, 4)), c);
	assert_ptr_equal(outbound(sad, ip4(8, 8, 8, 8), ip4(172, 31, 255, 1)), d);
	assert_null(outbound(sad, ip4(8, 8, 8, 8), ip4(172, 32, 0, 1)));
	assert_null(outbound(sad, ip4(10, 3, 0, 1), ip4(10, 2, 0, 1)));
	assert_null(esp_sad_inbound(sad, 0x100));	/* outbound SAs are not inbound */

	assert_int_equal(esp_sad_remove(sad, 0x102, 1), 0);	/* c */
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 3, 4)), b);
	assert_int_equal(esp_sad_remove(sad, 0x101, 1), 0);	/* b */
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 3, 4)), a);
	assert_int_equal(esp_sad_remove(sad, 0x100, 1), 0);	/* the newest 0x100: d */
	assert_null(outbound(sad, ip4(8, 8, 8, 8), ip4(172, 31, 255, 1)));
	assert_ptr_equal(outbound(sad, s, ip4(10, 2, 3, 4)), a);
	assert_int_equal(esp_sad_remove(sad, 0x101, 1), -1);
	assert_int_equal(esp_sad_remove(sad, 0x104, 0), -1);	/* wrong direction */
	assert_int_equal(esp_sad_remove_sa(sad, a), 0);
	assert_null(outbound(sad, s, ip4(10, 2, 3, 4)));
	esp_sad_free(sad);	/* frees e */
}

static void
count_sa(void *ctx, const struct esp_sa *sa, int outbound)
{
	size_t *n = ctx;

	n[outbound != 0]++;
	assert_true(esp_sa_spi(sa) >= 0x10000);
}

/* Inbound SPIs are unique; additions that fail leave the SA with the
 * caller; thousands of SAs in each direction, the tables grown. */
static void
test_sad_inbound_and_growth(void **state)
{
	struct esp_sad *sad = esp_sad_new();
	struct esp_sa_params p = params(&xforms[4], 0x10000, 0, 1);
	struct esp_sa *in = esp_sa_new(&p, 0), *dup = esp_sa_new(&p, 0), *o = esp_sa_new(&p, 1);
	const size_t many = 2000;
	size_t counted[2] = { 0, 0 };

	assert_int_equal(esp_sad_add(sad, in, 0), 0);
	assert_int_equal(esp_sad_add(sad, in, 0), -1);		/* already in */
	assert_int_equal(esp_sad_add(sad, dup, 0), -1);		/* same SPI */
	assert_int_equal(esp_sad_add(sad, o, 0), -1);		/* outbound SA as inbound */
	assert_int_equal(esp_sad_add(sad, o, 1), 0);		/* same SPI, other way */
	assert_ptr_equal(esp_sad_inbound(sad, 0x10000), in);
	esp_sa_free(dup);

	for (uint32_t i = 1; i <= many; i++) {
		struct esp_sa *sa;

		p = params(&xforms[4], 0x10000 + i * 7919, 0, 1);
		sa = esp_sa_new(&p, 0);
		assert_int_equal(esp_sad_add(sad, sa, 0), 0);
		p = params(&xforms[4], 0x10000 + i, 0, 0);
		p.remote = net(htonl(0x0a000000u + i), 32);
		sa = esp_sa_new(&p, 1);
		assert_int_equal(esp_sad_add(sad, sa, 1), 0);
	}
	for (uint32_t i = 1; i <= many; i++) {
		struct esp_sa *sa = esp_sad_inbound(sad, 0x10000 + i * 7919);

		assert_non_null(sa);
		assert_int_equal(esp_sa_spi(sa), 0x10000 + i * 7919);
		sa = outbound(sad, ip4(10, 1, 0, 1), htonl(0x0a000000u + i));
		assert_non_null(sa);
		assert_int_equal(esp_sa_spi(sa), 0x10000 + i);
	}
	assert_null(esp_sad_inbound(sad, 0x10001));
	esp_sad_foreach(sad, count_sa, counted);
	assert_int_equal(counted[0], many + 1);
	assert_int_equal(counted[1], many + 1);
	for (uint32_t i = 1; i <= many; i += 2)
		assert_int_equal(esp_sad_remove(sad, 0x10000 + i * 7919, 0), 0);
	for (uint32_t i = 1; i <= many; i++)
		assert_true((esp_sad_inbound(sad, 0x10000 + i * 7919) != NULL) == (i % 2 == 0));
	assert_int_equal(esp_sad_remove(sad, 0x10000, 0), 0);
	assert_null(esp_sad_inbound(sad, 0x10000));
	esp_sad_free(sad);
}

static void
test_params_invalid(void **state)
{
	struct esp_sa_params good = params(&xforms[0], 0x1234, 0, 0), p;
	struct esp_sa *sa;

	sa = esp_sa_new(&good, 1);
	assert_non_null(sa);
	assert_int_equal(esp_sa_params(sa)->replay_window, ESP_REPLAY_DEFAULT);
	esp_sa_free(sa);
	esp_sa_free(NULL);

	p = good, p.spi = 255;
	assert_null(esp_sa_new(&p, 1));
	p = good, p.key_len = 24;
	assert_null(esp_sa_new(&p, 1));
	p = good, p.auth_key_len = 32;	/* SHA1 wants 20 */
	assert_null(esp_sa_new(&p, 1));
	p = good, p.auth = ESP_AUTH_NONE;
	assert_null(esp_sa_new(&p, 1));
	p = good, p.cipher = ESP_CIPHER_AES_GCM16;	/* with an HMAC */
	assert_null(esp_sa_new(&p, 1));
	p = good, p.cipher = ESP_CIPHER__COUNT;
	assert_null(esp_sa_new(&p, 1));
	p = good, p.replay_window = ESP_REPLAY_MAX + 1;
	assert_null(esp_sa_new(&p, 0));
	p = good, p.remote.mask_be = htonl(0xff00ff00u);
	assert_null(esp_sa_new(&p, 1));
	p = params(&xforms[4], 0x1234, 0, 0), p.auth_key_len = 5;
	assert_null(esp_sa_new(&p, 1));
	p = good, p.transport = 1;	/* between networks */
	assert_null(esp_sa_new(&p, 1));
	p = good, p.proto = IPPROTO_GRE, p.local_port = 1;	/* ports without TCP/UDP */
	assert_null(esp_sa_new(&p, 1));
	p = good, p.proto = IPPROTO_TCP, p.remote_port = 179;
	sa = esp_sa_new(&p, 1);
	assert_non_null(sa);
	esp_sa_free(sa);
	/* host bits in a selector are masked off */
	p = good, p.remote = net(ip4(10, 2, 3, 4), 16), p.replay_window = ESP_REPLAY_MAX;
	sa = esp_sa_new(&p, 0);
	assert_non_null(sa);
	assert_int_equal(esp_sa_params(sa)->remote.addr_be, ip4(10, 2, 0, 0));
	esp_sa_free(sa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_unknown_spi),
		cmocka_unit_test(test_bad_padding),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_transport_selectors),
		cmocka_unit_test(test_inner_malformed),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_sequence_exhausted),
		cmocka_unit_test(test_output_in_place_and_limits),
		cmocka_unit_test(test_cbc_iv_fresh),
		cmocka_unit_test(test_sad_policy),
		cmocka_unit_test(test_sad_inbound_and_growth),
		cmocka_unit_test(test_params_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
