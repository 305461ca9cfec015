/*
 * The SA table (agent/ike/ike_satab.c): thousands of SAs found by their
 * cookies and by peer through the growth of both hash tables, removals in
 * any order, and chains that stay short even when every SA has the same
 * peer address or the initiator cookies are chosen to be alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
		ike_sa_delete(sas[i], 0, 0);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_through_growth_and_removal),
		cmocka_unit_test(test_one_peer_many_sas),
	};

	return cmocka_run_group_tests_name("ike SA table", tests, NULL, NULL);
}
