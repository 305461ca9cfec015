/*
 * The engine's tables. The SA table (ike_satab.c): thousands of
 * SAs found by their cookies and by peer through the growth of both hash
 * tables, removals in any order, short chains even when every SA has the
 * same peer or the initiator cookies are chosen alike. The tunnel indexes
 * (ike_tunnel.c): tunnels by peer and selector, keys by peer, and a
 * reconfiguration that keeps every surviving tunnel's state.
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

#include "ike/ike_int.h"

#define N 5000

static int
no_send(void *ctx, uint16_t lp, uint32_t dst, uint16_t dp, const uint8_t *m, size_t len)
{
	return 0;
}

static size_t
longest_chain(const struct ike_satab *t, int by_peer)
{
	size_t longest = 0;

	for (size_t b = 0; b < ((size_t)1 << t->bits); b++) {
		size_t n = 0;

		for (struct ike_sa *sa = by_peer ? t->by_peer[b] : t->by_cookie[b]; sa != NULL;
		     sa = by_peer ? sa->peer_next : sa->cookie_next)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}

static struct ike_hdr
hdr_of(const struct ike_sa *sa)
{
	struct ike_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	return h;
}

static void
test_find_through_growth_and_removal(void **state)
{
	struct ike *ike = ike_new(&(struct ike_transport){ NULL, no_send }, NULL);
	static struct ike_sa *sas[N];
	uint8_t icookie[IKE_COOKIE_LEN] = { 0 };

	for (uint32_t i = 0; i < N; i++) {
		/* cookies alike but for one counter, as an attacker may choose them */
		memcpy(icookie, &i, sizeof(i));
		sas[i] = ike_sa_new(ike, (int)(i % 2), htonl(0xc6120000u + i % 700), 500,
				    icookie, 0);
	}
	assert_int_equal(ike->satab.n, N);
	assert_true(((size_t)1 << ike->satab.bits) >= N);
	assert_true(longest_chain(&ike->satab, 0) <= 12);
	for (uint32_t i = 0; i < N; i++) {
		struct ike_hdr h = hdr_of(sas[i]);
		size_t of_peer = 0;

		assert_ptr_equal(ike_sa_find(ike, &h), sas[i]);
		for (struct ike_sa *sa = ike_sa_of_peer(ike, sas[i]->peer_be); sa != NULL;
		     sa = ike_sa_next_of_peer(sa)) {
			assert_int_equal(sa->peer_be, sas[i]->peer_be);
			of_peer++;
		}
		assert_true(of_peer == N / 700 || of_peer == N / 700 + 1);
	}
	for (uint32_t i = 0; i < N; i += 2)
		ike_sa_delete(sas[i], IKE_QUIET, 0);
	assert_int_equal(ike->satab.n, N / 2);
	for (uint32_t i = 0; i < N; i++) {
		struct ike_hdr h;

		if (i % 2 == 0)
			continue;
		h = hdr_of(sas[i]);
		assert_ptr_equal(ike_sa_find(ike, &h), sas[i]);
	}
	ike_free(ike);
}

/* One peer with many SAs: a chain by peer is that peer's SAs, the cookie
 * chains stay short. */
static void
test_one_peer_many_sas(void **state)
{
	struct ike *ike = ike_new(&(struct ike_transport){ NULL, no_send }, NULL);
	size_t n = 0;

	for (int i = 0; i < 1000; i++)
		ike_sa_new(ike, 1, htonl(0xc0000202), 500, NULL, 0);
	assert_true(longest_chain(&ike->satab, 0) <= 10);
	for (struct ike_sa *sa = ike_sa_of_peer(ike, htonl(0xc0000202)); sa != NULL;
	     sa = ike_sa_next_of_peer(sa))
		n++;
	assert_int_equal(n, 1000);
	assert_null(ike_sa_of_peer(ike, htonl(0xc0000203)));
	ike_free(ike);
}

#define MAPS 2000

static void
maps_conf(struct ike_conf *c, struct ike_map_conf *maps, size_t n, int reversed,
	  struct ike_psk_conf *psks)
{
	ike_conf_defaults(c);
	for (size_t k = 0; k < n; k++) {
		size_t i = reversed ? n - 1 - k : k;
		struct ike_map_conf *m = &maps[k];

		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "MAP%zu", i);
		m->seq = 10;
		m->npeers = 2;
		m->peers_be[0] = htonl(0x0a000000u + (uint32_t)i);	/* its own */
		m->peers_be[1] = htonl(0xc0000201);			/* a shared backup */
		m->nsel = 1;
		m->sel[0] = (struct ike_selector){ .src_be = htonl(0x0b000000u),
						   .src_mask_be = htonl(0xffffff00),
						   .dst_be = htonl(0x0c000000u + ((uint32_t)i << 8)),
						   .dst_mask_be = htonl(0xffffff00) };
	}
	c->maps = maps;
	c->nmaps = n;
	memset(psks, 0, 3 * sizeof(*psks));
	psks[0].addr_be = htonl(0x0a000007);		/* one peer's own key */
	psks[0].mask_be = 0xffffffffu;
	memcpy(psks[0].key, "seven", 6);
	psks[1].addr_be = htonl(0x0a000000);		/* its subnet's */
	psks[1].mask_be = htonl(0xffffff00);
	memcpy(psks[1].key, "subnet", 7);
	memcpy(psks[2].key, "any", 4);			/* the wild card */
	c->psks = psks;
	c->npsks = 3;
}

/* How many tunnels list the peer (each counted once, each listing it). */
static size_t
tunnels_listing(struct ike *ike, uint32_t peer_be)
{
	static uint8_t seen[MAPS + 1];
	struct ike_tunnel *t;
	uint32_t cur = 0;
	size_t n = 0;

	memset(seen, 0, sizeof(seen));
	while ((t = ike_tunnel_each_of_peer(ike, peer_be, &cur)) != NULL) {
		assert_true(ike_tunnel_peer(t, peer_be) >= 0);
		assert_false(seen[t - ike->tunnels]);
		seen[t - ike->tunnels] = 1;
		n++;
	}
	return n;
}

static void
test_tunnel_indexes_and_reconfiguration(void **state)
{
	struct ike *ike = ike_new(&(struct ike_transport){ NULL, no_send }, NULL);
	static struct ike_map_conf maps[MAPS + 1];
	struct ike_psk_conf psks[3];
	struct ike_conf c;
	struct ike_selector sel;

	maps_conf(&c, maps, MAPS, 0, psks);
	ike_configure(ike, &c, 0);
	for (size_t i = 0; i < MAPS; i++)
		ike->tunnels[i].transitions_up = 1000 + i;	/* state to keep */
	/* by peer: its own tunnel; the shared backup: the first that lists it */
	assert_string_equal(ike_tunnel_for_peer(ike, htonl(0x0a000000u + 1234))->conf->name,
			    "MAP1234");
	assert_string_equal(ike_tunnel_for_peer(ike, htonl(0xc0000201))->conf->name, "MAP0");
	assert_null(ike_tunnel_for_peer(ike, htonl(0x0a0fffff)));
	/* every tunnel listing a peer, once each (what a volume event searches) */
	assert_int_equal(tunnels_listing(ike, htonl(0xc0000201)), MAPS);
	assert_int_equal(tunnels_listing(ike, htonl(0x0a000000u + 77)), 1);
	assert_int_equal(tunnels_listing(ike, htonl(0x0a0fffff)), 0);
	/* by selector, as Quick Mode sees it from the peer */
	sel = (struct ike_selector){ .src_be = htonl(0x0b000000u), .src_mask_be = htonl(0xffffff00),
				     .dst_be = htonl(0x0c000000u + (77u << 8)), .dst_mask_be = htonl(0xffffff00) };
	assert_string_equal(ike_tunnel_for_selector(ike, htonl(0x0a000000u + 77), &sel)->conf->name,
			    "MAP77");
	assert_string_equal(ike_tunnel_for_selector(ike, htonl(0xc0000201), &sel)->conf->name,
			    "MAP77");
	assert_null(ike_tunnel_for_selector(ike, htonl(0x0a000000u + 78), &sel));
	/* keys: the peer's own, else the most specific subnet, else the wild card */
	assert_string_equal(ike_psk_for(ike, htonl(0x0a000007))->key, "seven");
	assert_string_equal(ike_psk_for(ike, htonl(0x0a000008))->key, "subnet");
	assert_string_equal(ike_psk_for(ike, htonl(0x0a000108))->key, "any");

	/* The same entries in the other order, and one more: every tunnel
	 * keeps its state, found by name, not by position. */
	maps_conf(&c, maps, MAPS + 1, 1, psks);
	ike_configure(ike, &c, 0);
	assert_int_equal(ike->ntunnels, MAPS + 1);
	for (size_t k = 0; k < MAPS + 1; k++) {
		size_t i = MAPS - k;

		assert_int_equal(ike->tunnels[k].transitions_up, i == MAPS ? 0 : 1000 + i);
	}
	assert_string_equal(ike_tunnel_for_peer(ike, htonl(0x0a000000u + 1234))->conf->name,
			    "MAP1234");
	ike_free(ike);
}

/* The longest run of taken slots in x: what a lookup may have to probe. */
static size_t
longest_cluster(const struct ike_tidx *x)
{
	size_t longest = 0, run = 0;

	for (size_t i = 0; i < 2 * x->cap; i++) {	/* twice round: runs that wrap */
		run = x->slots[i & (x->cap - 1)].first != 0 ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	return longest < x->cap ? longest : x->cap;
}

/* A headend's peers are addresses that differ in their last octets, which
 * are the high bits of a network-order key: the indexes must spread them
 * (found with 100.64.x.y: every key in one cluster, lookups and
 * configuration linear in the number of peers). */
static void
test_indexes_spread_real_addresses(void **state)
{
	struct ike *ike = ike_new(&(struct ike_transport){ NULL, no_send }, NULL);
	static struct ike_map_conf maps[4096];
	struct ike_conf c;

	ike_conf_defaults(&c);
	for (size_t i = 0; i < 4096; i++) {
		memset(&maps[i], 0, sizeof(maps[i]));
		snprintf(maps[i].name, sizeof(maps[i].name), "hub");
		maps[i].seq = (unsigned)i + 1;
		maps[i].npeers = 1;
		maps[i].peers_be[0] = htonl(0x64400000u + (uint32_t)i);	/* 100.64.x.y */
		maps[i].nsel = 1;
		maps[i].sel[0] = (struct ike_selector){ .src_be = htonl(0xac100000),
							.src_mask_be = htonl(0xffff0000),
							.dst_be = htonl(0x0a000000u + ((uint32_t)i << 8)),
							.dst_mask_be = htonl(0xffffff00) };
	}
	c.maps = maps;
	c.nmaps = 4096;
	ike_configure(ike, &c, 0);
	if (longest_cluster(&ike->tidx) >= 64)
		fail_msg("a run of %zu taken slots (of %zu) in the peer index",
			 longest_cluster(&ike->tidx), ike->tidx.cap);
	for (size_t i = 0; i < 4096; i += 97)
		assert_int_equal(ike_tunnel_for_peer(ike, htonl(0x64400000u + (uint32_t)i)) -
				 ike->tunnels, i);
	ike_free(ike);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_through_growth_and_removal),
		cmocka_unit_test(test_one_peer_many_sas),
		cmocka_unit_test(test_tunnel_indexes_and_reconfiguration),
		cmocka_unit_test(test_indexes_spread_real_addresses),
	};

	return cmocka_run_group_tests_name("ike tables", tests, NULL, NULL);
}
