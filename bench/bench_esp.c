/*
 * ESP packet cost, no I/O: esp_output (encrypt + encapsulate) and
 * esp_input (decapsulate, SAD lookup, replay, verify, decrypt, checks) on
 * 1400-byte inner packets, AES-128-GCM and AES-128-CBC + HMAC-SHA-256-128,
 * next to the denominator a: the same crypto straight through EVP in this
 * process (one context per SA, IV per packet, as `openssl speed -evp
 * aes-128-gcm -bytes 1400` would do it per packet). One core, thread CPU
 * time, a and b in alternating slices, median of rounds; b/a = a ns / b ns.
 *   usage: bench_esp [seconds per figure] [cpu]
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "esp/esp.h"
#include "esp/esp_test.h"

#define INNER    1400
#define RING     256	/* packets decapsulated before the window is reset */
#define ROUNDS   5
#define BATCH    64

struct bench {
	int             gcm;
	struct esp_sad *tx, *rx;
	struct esp_sa  *out, *in;
	uint8_t         inner[INNER];
	uint8_t         pkts[RING][INNER + 128];
	size_t          pkt_len;
	unsigned        next_b, next_a;	/* packet counters of each side */
	/* the EVP-only side */
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC_CTX    *mac, *mac_tmpl;
	size_t          body;	/* bytes ESP encrypts for INNER */
	uint8_t         src[INNER + 128];	/* plaintext of body bytes */
	uint8_t         hdr[ESP_HDR_LEN + 16];	/* SPI | seq | IV */
	uint8_t         tag[16];
};

static uint8_t scratch[ESP_PKT_MAX];

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_esp: %s\n", what);
	exit(1);
}

static void
setup(struct bench *b, int gcm)
{
	struct esp_sa_params p;
	EVP_CIPHER *c;
	EVP_MAC *hmac;
	OSSL_PARAM mp[2];

	memset(b, 0, sizeof(*b));
	b->gcm = gcm;
	memset(&p, 0, sizeof(p));
	p.spi = 0x1000;
	p.cipher = gcm ? ESP_CIPHER_AES_GCM16 : ESP_CIPHER_AES_CBC;
	p.auth = gcm ? ESP_AUTH_NONE : ESP_AUTH_HMAC_SHA256_128;
	p.key_len = 16;
	p.auth_key_len = gcm ? 4 : 32;
	memset(p.key, 0x42, sizeof(p.key));
	memset(p.auth_key, 0x24, sizeof(p.auth_key));
	p.local.addr_be = htonl(0x0a010000);
	p.local.mask_be = htonl(0xffff0000);
	p.remote.addr_be = htonl(0x0a020000);
	p.remote.mask_be = htonl(0xffff0000);
	b->tx = esp_sad_new();
	b->rx = esp_sad_new();
	if ((b->out = esp_sa_new(&p, 1)) == NULL || esp_sad_add(b->tx, b->out, 1) == -1)
		die("outbound SA");
	p.local.addr_be = htonl(0x0a020000);
	p.remote.addr_be = htonl(0x0a010000);
	if ((b->in = esp_sa_new(&p, 0)) == NULL || esp_sad_add(b->rx, b->in, 0) == -1)
		die("inbound SA");

	/* 10.1.0.1 -> 10.2.0.1, total length 1400 */
	memset(b->inner, 0xab, sizeof(b->inner));
	b->inner[0] = 0x45;
	b->inner[1] = 0;
	b->inner[2] = INNER >> 8;
	b->inner[3] = INNER & 0xff;
	memcpy(b->inner + 12, "\x0a\x01\x00\x01\x0a\x02\x00\x01", 8);
	for (unsigned i = 0; i < RING; i++)
		if (esp_output(b->out, b->inner, INNER, 4, b->pkts[i], sizeof(b->pkts[i]),
		    &b->pkt_len, 0) != 0)
			die("esp_output");
	b->body = b->pkt_len - ESP_HDR_LEN - (gcm ? 8 : 16) - 16;
	memcpy(b->src, b->inner, INNER);
	memcpy(b->src + INNER, "\x01\x02\x03\x04\x05\x06\x02\x04", 8);
	memcpy(b->hdr, b->pkts[0], sizeof(b->hdr));

	/* EVP-only: keyed once, like the SA */
	c = EVP_CIPHER_fetch(NULL, gcm ? "AES-128-GCM" : "AES-128-CBC", NULL);
	b->enc = EVP_CIPHER_CTX_new();
	b->dec = EVP_CIPHER_CTX_new();
	if (c == NULL || !EVP_EncryptInit_ex2(b->enc, c, p.key, NULL, NULL) ||
	    !EVP_DecryptInit_ex2(b->dec, c, p.key, NULL, NULL))
		die("EVP init");
	EVP_CIPHER_free(c);
	if (gcm)
		return;
	EVP_CIPHER_CTX_set_padding(b->enc, 0);
	EVP_CIPHER_CTX_set_padding(b->dec, 0);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	mp[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	mp[1] = OSSL_PARAM_construct_end();
	b->mac = EVP_MAC_CTX_new(hmac);
	b->mac_tmpl = EVP_MAC_CTX_new(hmac);
	if (!EVP_MAC_init(b->mac, p.auth_key, 32, mp) || !EVP_MAC_init(b->mac_tmpl, p.auth_key, 32, mp))
		die("HMAC init");
	EVP_MAC_free(hmac);
}

static void
teardown(struct bench *b)
{
	esp_sad_free(b->tx);
	esp_sad_free(b->rx);
	EVP_CIPHER_CTX_free(b->enc);
	EVP_CIPHER_CTX_free(b->dec);
	EVP_MAC_CTX_free(b->mac);
	EVP_MAC_CTX_free(b->mac_tmpl);
}

/* ---- b: the ESP code ---------------------------------------------------- */

static void
b_output(struct bench *b)
{
	size_t n;

	for (int i = 0; i < BATCH; i++)
		if (esp_output(b->out, b->inner, INNER, 4, scratch, sizeof(scratch), &n, 1) != 0)
			die("esp_output");
}

static void
b_input(struct bench *b)
{
	struct esp_sa *sa;
	size_t n;
	uint8_t nh;

	for (int i = 0; i < BATCH; i++) {
		if (b->next_b == RING) {
			esp_sa_test_reset_replay(b->in);
			b->next_b = 0;
		}
		if (esp_input(b->rx, b->pkts[b->next_b++], b->pkt_len, scratch, sizeof(scratch), &n,
		    &nh, &sa, 1) != 0)
			die("esp_input");
	}
}

/* ---- a: the same crypto through EVP alone ------------------------------- */

static void
a_gcm_seal(struct bench *b)
{
	uint8_t nonce[12] = { 1, 2, 3, 4 };
	int n;

	for (int i = 0; i < BATCH; i++) {
		memcpy(nonce + 4, &b->next_a, sizeof(b->next_a));
		b->next_a++;
		if (!EVP_EncryptInit_ex2(b->enc, NULL, NULL, nonce, NULL) ||
		    !EVP_EncryptUpdate(b->enc, NULL, &n, b->hdr, 8) ||
		    !EVP_EncryptUpdate(b->enc, scratch, &n, b->src, (int)b->body) ||
		    !EVP_EncryptFinal_ex(b->enc, scratch + b->body, &n) ||
		    !EVP_CIPHER_CTX_ctrl(b->enc, EVP_CTRL_AEAD_GET_TAG, 16, b->tag))
			die("EVP GCM seal");
	}
}

/* Decrypts the ESP packets with their real tags, so verification passes. */
static void
a_gcm_open(struct bench *b)
{
	uint8_t nonce[12];
	int n;

	memcpy(nonce, "\x24\x24\x24\x24", 4);
	for (int i = 0; i < BATCH; i++) {
		const uint8_t *p = b->pkts[b->next_a++ % RING];

		memcpy(nonce + 4, p + 8, 8);
		memcpy(b->tag, p + 16 + b->body, 16);
		if (!EVP_DecryptInit_ex2(b->dec, NULL, NULL, nonce, NULL) ||
		    !EVP_DecryptUpdate(b->dec, NULL, &n, p, 8) ||
		    !EVP_DecryptUpdate(b->dec, scratch, &n, p + 16, (int)b->body) ||
		    !EVP_CIPHER_CTX_ctrl(b->dec, EVP_CTRL_AEAD_SET_TAG, 16, b->tag) ||
		    EVP_DecryptFinal_ex(b->dec, scratch + b->body, &n) <= 0)
			die("EVP GCM open");
	}
}

/* CBC, then HMAC over header | IV | ciphertext; dup: the keyed context
 * duplicated per packet (notes/performance.md A2), else re-initialised. */
static void
a_cbc_seal_common(struct bench *b, int dup)
{
	uint8_t md[32];
	size_t mdlen;
	int n;

	for (int i = 0; i < BATCH; i++) {
		EVP_MAC_CTX *m = dup ? EVP_MAC_CTX_dup(b->mac_tmpl) : b->mac;

		memcpy(scratch, b->hdr, 24);
		if (!EVP_EncryptInit_ex2(b->enc, NULL, NULL, b->hdr + 8, NULL) ||
		    !EVP_EncryptUpdate(b->enc, scratch + 24, &n, b->src, (int)b->body) ||
		    m == NULL || (!dup && !EVP_MAC_init(m, NULL, 0, NULL)) ||
		    !EVP_MAC_update(m, scratch, 24 + b->body) ||
		    !EVP_MAC_final(m, md, &mdlen, sizeof(md)))
			die("EVP CBC seal");
		if (dup)
			EVP_MAC_CTX_free(m);
		memcpy(scratch + 24 + b->body, md, 16);
	}
}

static void a_cbc_seal(struct bench *b) { a_cbc_seal_common(b, 0); }
static void a_cbc_seal_dup(struct bench *b) { a_cbc_seal_common(b, 1); }

static void
a_cbc_open(struct bench *b)
{
	uint8_t md[32];
	size_t mdlen;
	int n;

	for (int i = 0; i < BATCH; i++) {
		const uint8_t *p = b->pkts[b->next_a++ % RING];

		if (!EVP_MAC_init(b->mac, NULL, 0, NULL) ||
		    !EVP_MAC_update(b->mac, p, 24 + b->body) ||
		    !EVP_MAC_final(b->mac, md, &mdlen, sizeof(md)) ||
		    CRYPTO_memcmp(md, p + 24 + b->body, 16) != 0 ||
		    !EVP_DecryptInit_ex2(b->dec, NULL, NULL, p + 8, NULL) ||
		    !EVP_DecryptUpdate(b->dec, scratch, &n, p + 24, (int)b->body))
			die("EVP CBC open");
	}
}

/* ---- measurement -------------------------------------------------------- */

typedef void (*run_fn)(struct bench *);

/* ns per packet of fn over about `slice` CPU seconds. */
static double
slice_ns(struct bench *b, run_fn fn, double slice)
{
	double t0 = cpu_ns(), t;
	long pkts = 0;

	do {
		fn(b);
		pkts += BATCH;
		t = cpu_ns();
	} while (t - t0 < slice * 1e9);
	return (t - t0) / (double)pkts;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double
gbps(double ns)
{
	return INNER * 8.0 / ns;
}

static void
figure(struct bench *b, const char *xf, const char *path, run_fn bfn, run_fn afn, double secs)
{
	double bv[ROUNDS], av[ROUNDS], bn, an;

	slice_ns(b, bfn, 0.05);	/* warm up */
	slice_ns(b, afn, 0.05);
	for (int r = 0; r < ROUNDS; r++) {
		bv[r] = slice_ns(b, bfn, secs / (2 * ROUNDS));
		av[r] = slice_ns(b, afn, secs / (2 * ROUNDS));
	}
	bn = median(bv, ROUNDS);
	an = median(av, ROUNDS);
	printf("%-22s %-11s %8.0f %7.2f   %8.0f %7.2f   %5.1f %%\n", xf, path, bn, gbps(bn), an,
	    gbps(an), 100.0 * an / bn);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu = argc > 2 ? atoi(argv[2]) : (int)(ncpu > 1 ? ncpu - 1 : 0);
	struct bench *b = malloc(sizeof(*b));
	cpu_set_t set;
	double d, r;

	log_init("bench_esp", LOG_LEVEL_WARN);
	if (b == NULL || secs <= 0)
		die("usage: bench_esp [seconds per figure] [cpu]");
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		die("cannot pin to the CPU");
	printf("ESP per packet, %d-byte inner IPv4 packets, no I/O, pinned to CPU %d, thread CPU time,\n"
	    "median of %d alternating slices, %.1f s per figure; a = the same crypto via EVP alone\n\n",
	    INNER, cpu, ROUNDS, secs);
	printf("%-22s %-11s %8s %7s   %8s %7s   %7s\n", "transform", "path", "b ns/pkt", "Gbit/s",
	    "a ns/pkt", "Gbit/s", "b/a");

	setup(b, 1);
	figure(b, "aes128gcm16", "esp_output", b_output, a_gcm_seal, secs);
	figure(b, "aes128gcm16", "esp_input", b_input, a_gcm_open, secs);
	teardown(b);

	setup(b, 0);
	figure(b, "aes128-cbc+sha256-128", "esp_output", b_output, a_cbc_seal, secs);
	figure(b, "aes128-cbc+sha256-128", "esp_input", b_input, a_cbc_open, secs);
	/* for reference: the HMAC context duplicated per packet instead */
	d = slice_ns(b, a_cbc_seal_dup, secs / 4);
	r = slice_ns(b, a_cbc_seal, secs / 4);
	printf("\nCBC+HMAC via EVP with EVP_MAC_CTX_dup per packet: %.0f ns/pkt; re-initialised "
	    "keyed context (used above and in agent/esp): %.0f ns/pkt\n", d, r);
	teardown(b);
	free(b);
	return 0;
}
