/*
 * IKE handshake throughput: two engines in one process (fake transport),
 * each iteration a full Main Mode + Quick Mode between a fresh initiator
 * and a responder, for DH groups 14 and 19. Printed beside the key-exchange
 * bound measured in the same run: what two sides must pay for keygen +
 * derive (with the peer value check), i.e. the best any IKE could do on
 * this core.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ike/ike_int.h"
#include "ike_pair.h"

static struct ike_pair_wire w;
static uint64_t installs;

static void
count_install(void *ctx, const struct ike_child_sa *sa)
{
	installs++;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
configure(int group, int64_t now)
{
	static struct ike_psk_conf psk[2];
	static struct ike_map_conf maps[2];

	for (int i = 0; i < 2; i++) {
		struct ike_conf c;

		ike_pair_conf(i, w.addr, group, IKE_HASH_SHA256, &c, &maps[i], &psk[i]);
		ike_configure(w.eng[i], &c, now);
	}
}

/* Full handshakes per CPU second, both sides on this core. */
static double
handshakes(int group, double seconds)
{
	int64_t now = 1000;
	double t0;
	uint64_t n = 0;

	for (int i = 0; i < 2; i++) {
		struct ike_transport tr = { &w, ike_pair_send };
		struct ike_dataplane dp = { .install = count_install };

		w.eng[i] = ike_new(&tr, &dp);
	}
	configure(group, now);
	t0 = cpu_s();
	while (cpu_s() - t0 < seconds) {
		ike_clear(w.eng[0], 0, now);
		ike_clear(w.eng[1], 0, now);
		w.n = 0;
		installs = 0;
		now += 1;
		ike_timer(w.eng[0], now);
		ike_pair_pump(&w, now);
		if (installs != 2) {
			fprintf(stderr, "bench_ike: handshake did not complete\n");
			exit(1);
		}
		n++;
	}
	ike_free(w.eng[0]);
	ike_free(w.eng[1]);
	return (double)n / (cpu_s() - t0);
}

/* The bound: both sides' keygen + derive (peer check included). */
static double
dh_bound(int group, double seconds)
{
	uint8_t pa[IKE_DH_MAX], pb[IKE_DH_MAX], s[IKE_DH_MAX];
	size_t len = ike_dh_pub_len(group), sl;
	double t0 = cpu_s();
	uint64_t n = 0;

	while (cpu_s() - t0 < seconds) {
		struct ike_dh *a = ike_dh_new(group), *b = ike_dh_new(group);

		ike_dh_public(a, pa, len);
		ike_dh_public(b, pb, len);
		if (ike_dh_derive(a, pb, len, s, &sl) == -1 || ike_dh_derive(b, pa, len, s, &sl) == -1)
			exit(1);
		ike_dh_free(a);
		ike_dh_free(b);
		n++;
	}
	return (double)n / (cpu_s() - t0);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	static const int groups[] = { 14, 19 };

	log_init("bench", LOG_LEVEL__COUNT);
	w.addr[0] = htonl(0xc0000201);
	w.addr[1] = htonl(0xc0000202);
	printf("%-8s %18s %22s %8s\n", "group", "handshakes/s", "key-exchange bound/s", "ratio");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		double b = dh_bound(groups[i], secs), h = handshakes(groups[i], secs);

		printf("%-8d %18.0f %22.0f %7.0f%%\n", groups[i], h, b, 100.0 * h / b);
	}
	printf("(both peers on one core; MM + QM each, AES-128/SHA-256, no PFS)\n");
	return 0;
}
