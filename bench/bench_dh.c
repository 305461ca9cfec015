/*
 * Key-exchange cost of one IKE handshake: for groups 14 and 19, keygen +
 * derive per second through ike_dh_new/ike_dh_derive (our range or curve
 * check, OpenSSL's peer validation off) next to the same exchange done with
 * OpenSSL's default full peer validation, ~2 CPU seconds each, in
 * alternating slices; the PRF too, for scale.  usage: bench_dh [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "ike/crypto.h"

/* CPU seconds of this process: the figures hold on a shared machine. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The peer's public value, made once per group. */
static uint8_t peer_pub[IKE_DH_MAX];

static int
ours_exchange(int group)
{
	uint8_t s[IKE_DH_MAX];
	struct ike_dh *dh = ike_dh_new(group);
	size_t sl = 0;
	int ret = -1;

	if (dh != NULL)
		ret = ike_dh_derive(dh, peer_pub, ike_dh_pub_len(group), s, &sl);
	ike_dh_free(dh);
	return ret;
}

/* Parameter key of the group, made once, as dh.c keeps one. */
static EVP_PKEY *ossl_params;

static EVP_PKEY *
params_new(int group)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *params = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, group == IKE_DH_ECP256 ? "EC" : "DH", NULL);
	if (ctx == NULL || EVP_PKEY_paramgen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, group == IKE_DH_ECP256 ? "P-256" : "modp_2048") <= 0 ||
	    EVP_PKEY_generate(ctx, &params) <= 0)
		fatalx("bench_dh: no parameters for group %d", group);
	EVP_PKEY_CTX_free(ctx);
	return params;
}

/* The same exchange as ours, but with OpenSSL's default peer validation:
 * EVP_PKEY_derive_set_peer() checks the peer key in full. */
static int
ossl_exchange(int group)
{
	uint8_t enc[1 + IKE_DH_MAX], s[IKE_DH_MAX];
	size_t len = ike_dh_pub_len(group), off = group == IKE_DH_ECP256, sl = sizeof(s);
	EVP_PKEY_CTX *kctx = NULL, *dctx = NULL;
	EVP_PKEY *key = NULL, *peer = NULL;
	int ret = -1;

	enc[0] = 0x04;	/* SEC 1 uncompressed point for ECP */
	memcpy(enc + off, peer_pub, len);
	if ((kctx = EVP_PKEY_CTX_new_from_pkey(NULL, ossl_params, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kctx) <= 0 || EVP_PKEY_generate(kctx, &key) <= 0 ||
	    (peer = EVP_PKEY_new()) == NULL || EVP_PKEY_copy_parameters(peer, key) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(peer, enc, off + len) != 1 ||
	    (dctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	    EVP_PKEY_derive_init(dctx) <= 0 ||
	    (group != IKE_DH_ECP256 && EVP_PKEY_CTX_set_dh_pad(dctx, 1) <= 0) ||
	    EVP_PKEY_derive_set_peer(dctx, peer) <= 0 || EVP_PKEY_derive(dctx, s, &sl) <= 0)
		goto done;
	ret = 0;
done:
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(key);
	return ret;
}

/* ops and CPU seconds of one contender. */
struct meter {
	int  (*fn)(int);
	long   n;
	double t;
};

/* Runs each fn(group) for about secs CPU seconds in alternating 0.1 s
 * slices, so that drift in the machine's load hits both alike. */
static void
race(struct meter *m, size_t nm, int group, double secs)
{
	double t0;

	while (m[0].t < secs) {
		for (size_t i = 0; i < nm; i++) {
			t0 = cpu_s();
			do {
				if (m[i].fn(group) == -1)
					fatalx("bench_dh: exchange failed (group %d)", group);
				m[i].n++;
			} while (cpu_s() - t0 < 0.1);
			m[i].t += cpu_s() - t0;
		}
	}
}

static int
prf_once(int unused)
{
	static const uint8_t key[32], msg[64];
	uint8_t out[IKE_HASH_MAX];

	return ike_prf(IKE_HASH_SHA256, key, sizeof(key),
		       (const struct ike_iov[]){ { msg, sizeof(msg) } }, 1, out);
}

int
main(int argc, char **argv)
{
	static const int groups[] = { IKE_DH_MODP2048, IKE_DH_ECP256 };
	double secs = argc > 1 ? atof(argv[1]) : 2.0;

	if (secs <= 0)
		secs = 2.0;
	log_init("bench_dh", LOG_LEVEL_WARN);
	printf("== IKE key exchange: keygen + derive per CPU second, %.1f s each\n", secs);
	printf("%-6s %14s %22s %7s\n", "group", "ours/s", "openssl-validated/s", "ratio");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		struct meter m[] = { { ours_exchange, 0, 0 }, { ossl_exchange, 0, 0 } };
		struct ike_dh *peer = ike_dh_new(groups[i]);
		double ours, ossl;

		if (peer == NULL || ike_dh_public(peer, peer_pub, sizeof(peer_pub)) == -1)
			fatalx("bench_dh: no key for group %d", groups[i]);
		ike_dh_free(peer);
		ossl_params = params_new(groups[i]);
		race(m, 2, groups[i], secs);
		EVP_PKEY_free(ossl_params);
		ours = (double)m[0].n / m[0].t;
		ossl = (double)m[1].n / m[1].t;
		printf("%-6d %14.0f %22.0f %6.2fx\n", groups[i], ours, ossl, ours / ossl);
	}
	{
		struct meter m[] = { { prf_once, 0, 0 } };

		race(m, 1, 0, secs / 4);
		printf("prf hmac-sha256 (64 B): %.0f/s\n", (double)m[0].n / m[0].t);
	}
	return 0;
}
