/*
 * libFuzzer target for ESP input (agent/esp/esp_in.c): a SAD with one
 * inbound SA of each transform in tunnel mode and two in transport mode
 * (one of them for UDP from port 5 only).
 * Each input is fed as it is, then with its first 4 bytes forced to every
 * known SPI (so the length, replay and crypto steps run), then sealed by
 * an outbound twin (as an inner packet, or raw as the whole plaintext),
 * so that authentic packets reach the padding and inner-packet checks. Output must
 * stay inside the caller's buffer; every call is counted exactly once.
 */
#include "esp/esp.h"
#include "esp/esp_test.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_SA 8

/* Same keys and SPIs as tests/vectors/esp_gen.py, so its packets seed. */
static const struct {
	enum esp_cipher cipher;
	enum esp_auth   auth;
	size_t          key_len, auth_key_len;
	int             transport;
	uint32_t        spi;
} sas[N_SA] = {
	{ ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA1_96, 16, 20, 0, 0x00c0de00 },
	{ ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA1_96, 32, 20, 0, 0x00c0de04 },
	{ ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA256_128, 16, 32, 0, 0x00c0de08 },
	{ ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA256_128, 32, 32, 0, 0x00c0de0c },
	{ ESP_CIPHER_AES_GCM16, ESP_AUTH_NONE, 16, 4, 0, 0x00c0de10 },
	{ ESP_CIPHER_AES_GCM16, ESP_AUTH_NONE, 32, 4, 0, 0x00c0de14 },
	{ ESP_CIPHER_AES_CBC, ESP_AUTH_HMAC_SHA1_96, 16, 20, 1, 0x00c0de03 },
	{ ESP_CIPHER_AES_GCM16, ESP_AUTH_NONE, 16, 4, 1, 0x00c0de13 },
};

static struct esp_sad *sad;
static struct esp_sa *in_sa[N_SA], *out_sa[N_SA];
static uint8_t buf[ESP_PKT_MAX + 64], out[ESP_PKT_MAX], sealed[ESP_PKT_MAX + 64];
static uint64_t calls;

static void
pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 29 * i);
}

static void
setup(void)
{
	sad = esp_sad_new();
	for (int i = 0; i < N_SA; i++) {
		struct esp_sa_params p;

		memset(&p, 0, sizeof(p));
		p.spi = sas[i].spi;
		p.cipher = sas[i].cipher;
		p.auth = sas[i].auth;
		p.key_len = sas[i].key_len;
		p.auth_key_len = sas[i].auth_key_len;
		pattern(p.key, p.key_len, 0x11);
		pattern(p.auth_key, p.auth_key_len, 0x22);
		p.transport = sas[i].transport;
		p.local.addr_be = htonl(0x0a020000);	/* 10.2/16 */
		p.local.mask_be = htonl(0xffff0000);
		p.remote.addr_be = htonl(0x0a010000);	/* 10.1/16 */
		p.remote.mask_be = htonl(0xffff0000);
		if (p.transport) {	/* host to host: 10.1.0.1 -> 10.2.0.1 */
			p.local.addr_be = htonl(0x0a020001);
			p.remote.addr_be = htonl(0x0a010001);
			p.local.mask_be = p.remote.mask_be = htonl(0xffffffff);
		}
		if (sas[i].cipher == ESP_CIPHER_AES_GCM16 && p.transport) {
			p.proto = 17;		/* permit udp host .. eq 5 host .. */
			p.remote_port = 5;
		}
		in_sa[i] = esp_sa_new(&p, 0);
		out_sa[i] = esp_sa_new(&p, 1);
		if (in_sa[i] == NULL || out_sa[i] == NULL || esp_sad_add(sad, in_sa[i], 0) == -1)
			abort();
	}
}

static uint64_t
counted(void)
{
	uint64_t n = 0;

	for (int d = 0; d < ESP_DROP__COUNT; d++) {
		n += esp_sad_drops(sad)[d];
		for (int i = 0; i < N_SA; i++)
			n += esp_sa_counters(in_sa[i])->drops[d];
	}
	for (int i = 0; i < N_SA; i++)
		n += esp_sa_counters(in_sa[i])->packets;
	return n;
}

static void
feed(const uint8_t *p, size_t len)
{
	struct esp_sa *sa = NULL;
	size_t n = 0;
	uint8_t nh = 0;
	int ret;

	ret = esp_input(sad, p, len, out, sizeof(out), &n, &nh, &sa, (int64_t)calls);
	calls++;
	if (ret < 0 || ret >= ESP_DROP__COUNT || counted() != calls)
		abort();
	/* an IPv4 packet (transport mode: its header rebuilt) inside the buffer */
	if (ret == 0 && (sa == NULL || n > len || n < 20 || out[0] >> 4 != 4))
		abort();
	if (ret != 0 && n != 0)
		abort();
}

/* Sealed by the outbound twin of SA sel % N_SA; (sel / N_SA) % 4 says
 * how: raw (the bytes are the whole plaintext, trailer included), padded
 * (they are the inner packet), padded with a sane IPv4 version, header
 * length and total length, and that plus addresses inside the selectors,
 * so that whole packets get through. */
static void
seal_and_feed(uint8_t sel, const uint8_t *p, size_t len)
{
	static const uint8_t addrs[8] = { 10, 1, 0, 1, 10, 2, 0, 1 };
	int i = sel % N_SA, how = sel / N_SA % 4, ret;
	size_t align = sas[i].cipher == ESP_CIPHER_AES_GCM16 ? 4 : 16, n;

	memcpy(buf, p, len);
	if (how == 0)
		len = len / align * align;
	if (how >= 2 && len >= 20) {
		buf[0] = 0x45;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
	}
	if (how == 3 && len >= 20)
		memcpy(buf + 12, addrs, sizeof(addrs));
	esp_sa_test_raw(out_sa[i], how == 0);
	ret = esp_output(out_sa[i], buf, len, sas[i].transport ? 17 : 4, sealed, sizeof(sealed),
	    &n, 0);
	if (ret == 0)
		feed(sealed, n);
	else if (ret != ESP_DROP_MALFORMED)	/* only when too long */
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sad == NULL)
		setup();
	if (size > ESP_PKT_MAX)
		return 0;
	feed(data, size);
	if (size >= 4) {
		memcpy(buf, data, size);
		for (int i = 0; i < N_SA; i++) {
			uint32_t spi = htonl(sas[i].spi);

			memcpy(buf, &spi, 4);
			feed(buf, size);
		}
	}
	if (size >= 1)
		seal_and_feed(data[0], data + 1, size - 1);
	return 0;
}
