/*
 * The dataplane's tables: SA pairs found by inbound and outbound
 * SPI through the growth of their hash tables and removals in any order;
 * a rekey counted when a peer already has a pair that sends; a remote net
 * routed through the TUN device while any pair uses it. A real TUN device
 * and one worker, in a network namespace of the test's own (unshare), so
 * nothing it routes reaches the host's tables. Needs root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "esp/dataplane.h"

#define PAIRS 300	/* past two doublings of the 64-chain tables */

static struct event_base *base;
static int                ike_fd = -1;

static int
setup(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };	/* any port, this namespace only */
	int one = 1;

	if (unshare(CLONE_NEWNET) == -1) {
		print_error("unshare(CLONE_NEWNET): %m (the test needs root)\n");
		return -1;
	}
	base = event_base_new();
	ike_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	setsockopt(ike_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	return base == NULL || ike_fd == -1 ||
	    bind(ike_fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	if (ike_fd != -1)
		close(ike_fd);
	event_base_free(base);
	return 0;
}

static uint32_t
peer_of(int i)
{
	return htonl(0xc6336400u + 1 + (uint32_t)(i % 100));	/* 100 peers, 3 pairs each */
}

static struct esp_dp_pair
pair(int i, uint32_t spi_in, uint32_t spi_out, int later)
{
	struct esp_dp_pair p;

	memset(&p, 0, sizeof(p));
	p.in.spi = spi_in;
	p.out.spi = spi_out;
	p.in.cipher = p.out.cipher = ESP_CIPHER_AES_GCM16;
	p.in.key_len = p.out.key_len = 16;
	p.in.auth_key_len = p.out.auth_key_len = 4;
	/* one remote net per peer: its pairs share the route */
	p.in.local = p.out.local = (struct esp_net){ htonl(0xac100000), htonl(0xffff0000) };
	p.in.remote = p.out.remote = (struct esp_net){ htonl(0x0a000000u + ((uint32_t)(i % 100) << 8)),
						       htonl(0xffffff00) };
	p.peer_be = peer_of(i);
	p.peer_port = 4500;
	p.map = "hub 1";
	p.outbound_later = later;
	return p;
}

/* Whether the TUN device routes 10.0.N.0/24 (/proc/net/route, this namespace). */
static int
routed(const struct esp_dp *dp, int n)
{
	char line[256], want[16], dev[32];
	unsigned dst;
	int found = 0;
	FILE *f = fopen("/proc/net/route", "r");

	assert_non_null(f);
	snprintf(want, sizeof(want), "%08X", htonl(0x0a000000u + ((uint32_t)n << 8)));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%31s %x", dev, &dst) == 2 && strcmp(dev, esp_dp_tun_name(dp)) == 0) {
			char got[16];

			snprintf(got, sizeof(got), "%08X", dst);
			found |= strcmp(got, want) == 0;
		}
	}
	fclose(f);
	return found;
}

struct peer_sums {
	uint64_t rekeys;
	int      live;
	size_t   peers;
};

static void
sum_peer(void *ctx, const struct esp_dp_peer_view *v)
{
	struct peer_sums *s = ctx;

	s->rekeys += v->rekeys;
	s->live += v->live_pairs;
	s->peers++;
}

static struct peer_sums
peers(struct esp_dp *dp)
{
	struct peer_sums s = { 0 };

	esp_dp_peers(dp, sum_peer, &s);
	return s;
}

static void
test_pairs_found_counted_and_routed(void **state)
{
	struct esp_dp *dp = esp_dp_new(base, "dptest%d", ike_fd, 1, 1, NULL);
	struct esp_counters c;
	int order[PAIRS], users[100];

	assert_non_null(dp);
	/* 300 pairs, 3 per peer; the first of each peer sends at once, the
	 * other two only when activated (as a responder's do) */
	for (int i = 0; i < PAIRS; i++) {
		struct esp_dp_pair p = pair(i, 0x1000u + (uint32_t)i, 0x9000u + (uint32_t)i, i >= 100);

		assert_int_equal(esp_dp_install(dp, &p), 0);
	}
	for (int i = 0; i < PAIRS; i++) {
		assert_int_equal(esp_dp_sa_counters(dp, 0x1000u + (uint32_t)i, 0, &c), 0);
		assert_int_equal(esp_dp_sa_counters(dp, 0x9000u + (uint32_t)i, 1, &c), 0);
	}
	assert_int_equal(esp_dp_sa_counters(dp, 0x9000u, 0, &c), -1);	/* an outbound SPI */
	assert_int_equal(esp_dp_sa_counters(dp, 0x1000u + PAIRS, 0, &c), -1);
	assert_true(routed(dp, 7));
	assert_int_equal(peers(dp).rekeys, 0);
	assert_int_equal(peers(dp).live, PAIRS);
	assert_int_equal(peers(dp).peers, 100);
	/* the second pair of each peer starts sending: a rekey each; an
	 * activate twice or for an unknown SPI changes nothing */
	for (int i = 100; i < 200; i++)
		esp_dp_activate(dp, 0x1000u + (uint32_t)i);
	esp_dp_activate(dp, 0x1000u + 150);
	esp_dp_activate(dp, 0x7777);
	assert_int_equal(peers(dp).rekeys, 100);

	/* removals in a scattered order; a pair named with the wrong
	 * outbound SPI stays */
	for (int i = 0; i < PAIRS; i++)
		order[i] = (i * 7) % PAIRS;	/* 7 and 300 are coprime */
	for (int n = 0; n < 100; n++)
		users[n] = PAIRS / 100;
	esp_dp_remove(dp, 0x1000u + 7, 0x9000u + 8);
	assert_int_equal(esp_dp_sa_counters(dp, 0x1000u + 7, 0, &c), 0);
	for (int k = 0; k < PAIRS; k++) {
		int i = order[k];

		esp_dp_remove(dp, 0x1000u + (uint32_t)i, 0x9000u + (uint32_t)i);
		assert_int_equal(esp_dp_sa_counters(dp, 0x1000u + (uint32_t)i, 0, &c), -1);
		assert_int_equal(esp_dp_sa_counters(dp, 0x9000u + (uint32_t)i, 1, &c), -1);
		/* routed while any of its three pairs is left */
		assert_int_equal(routed(dp, i % 100), --users[i % 100] > 0);
	}
	assert_int_equal(peers(dp).live, 0);
	/* an active pair installed after its peer had none is not a rekey */
	{
		struct esp_dp_pair p = pair(5, 0x5555, 0x6666, 0);

		assert_int_equal(esp_dp_install(dp, &p), 0);
		assert_int_equal(peers(dp).rekeys, 100);
	}
	esp_dp_free(dp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_found_counted_and_routed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
