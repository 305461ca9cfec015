/*
 * The anti-replay window (agent/esp/replay.c) against RFC 4303 3.4.3 and
 * Appendix A: first packets, duplicates, in-window reordering, the exact
 * left edge, slides by one and by more than the window, large jumps, the
 * top of the 32-bit space, sequence number 0, sizes 32/64/1024/4096, and a
 * long random walk compared with a naive model of the RFC's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esp/esp.h"

static const unsigned sizes[] = { 32, 64, 1024, 4096 };

/* check, then commit when it passes: what esp_input does for a packet
 * that authenticates. */
static int
accept(struct esp_replay *r, uint32_t seq)
{
	if (esp_replay_check(r, seq) == -1)
		return -1;
	esp_replay_commit(r, seq);
	return 0;
}

static void
test_init(void **state)
{
	struct esp_replay r;

	esp_replay_init(&r, 0);
	assert_int_equal(r.window, ESP_REPLAY_DEFAULT);
	assert_int_equal(r.window, 64);
	assert_int_equal(r.top, 0);
	esp_replay_init(&r, ESP_REPLAY_MAX + 1);
	assert_int_equal(r.window, ESP_REPLAY_MAX);
	assert_true(ESP_REPLAY_MAX >= 1024);
	esp_replay_init(&r, 32);
	assert_int_equal(r.window, 32);
}

static void
test_seq_zero_never_valid(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct esp_replay r;

		esp_replay_init(&r, sizes[i]);
		assert_int_equal(esp_replay_check(&r, 0), -1);
		esp_replay_commit(&r, 0);	/* ignored */
		assert_int_equal(r.top, 0);
		assert_int_equal(accept(&r, 5), 0);
		assert_int_equal(esp_replay_check(&r, 0), -1);
	}
}

/* Before any packet every number from 1 is new; after one, numbers below
 * it inside the window are still new once, then duplicates. */
static void
test_first_packets_and_duplicates(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned w = sizes[i];
		struct esp_replay r;

		esp_replay_init(&r, w);
		assert_int_equal(esp_replay_check(&r, 1), 0);
		assert_int_equal(esp_replay_check(&r, UINT32_MAX), 0);
		assert_int_equal(accept(&r, 1), 0);
		assert_int_equal(accept(&r, 1), -1);
		assert_int_equal(accept(&r, w), 0);
		for (uint32_t s = 2; s < w; s++)
			assert_int_equal(accept(&r, s), 0);
		for (uint32_t s = 1; s <= w; s++)
			assert_int_equal(esp_replay_check(&r, s), -1);
	}
}

/* With top T, T - (w - 1) is the last number inside, T - w the first out. */
static void
test_left_edge(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned w = sizes[i];
		uint32_t top = 100000;
		struct esp_replay r;

		esp_replay_init(&r, w);
		assert_int_equal(accept(&r, top), 0);
		assert_int_equal(esp_replay_check(&r, top - w), -1);
		assert_int_equal(esp_replay_check(&r, top - w + 1), 0);
		assert_int_equal(accept(&r, top - w + 1), 0);
		assert_int_equal(accept(&r, top - w + 1), -1);
		/* one more packet on the right pushes that edge out */
		assert_int_equal(accept(&r, top + 1), 0);
		assert_int_equal(esp_replay_check(&r, top - w + 1), -1);
		assert_int_equal(esp_replay_check(&r, top - w + 2), 0);
		/* small top: the window reaches past 1, numbers from 1 count */
		esp_replay_init(&r, w);
		assert_int_equal(accept(&r, w - 1), 0);
		assert_int_equal(esp_replay_check(&r, 1), 0);
	}
}

static void
test_in_window_reordering(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned w = sizes[i];
		struct esp_replay r;
		uint32_t base = 1000000;

		esp_replay_init(&r, w);
		assert_int_equal(accept(&r, base + w), 0);
		/* every other number, newest to oldest, then the rest */
		for (uint32_t s = base + w - 1; s > base; s -= 2)
			assert_int_equal(accept(&r, s), 0);
		for (uint32_t s = base + w - 2; s > base; s -= 2)
			assert_int_equal(accept(&r, s), 0);
		for (uint32_t s = base + 1; s <= base + w; s++)
			assert_int_equal(esp_replay_check(&r, s), -1);
		assert_int_equal(r.top, base + w);
	}
}

/* A slide by one forgets exactly one number; a slide by the window or
 * more forgets all of them, and the bits left behind must not reappear
 * when the ring comes round again. */
static void
test_slides(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned w = sizes[i];
		struct esp_replay r;
		uint32_t s;

		esp_replay_init(&r, w);
		for (s = 1; s <= 3 * ESP_REPLAY_MAX; s++) {
			assert_int_equal(accept(&r, s), 0);
			assert_int_equal(esp_replay_check(&r, s), -1);
			if (s > w)
				assert_int_equal(esp_replay_check(&r, s - w), -1);
		}
		/* jump by exactly w: the old top falls just out */
		s = r.top;
		assert_int_equal(accept(&r, s + w), 0);
		assert_int_equal(esp_replay_check(&r, s), -1);
		for (uint32_t k = 1; k < w; k++)
			assert_int_equal(esp_replay_check(&r, s + k), 0);
		/* jumps around the window and the ring size: what lies between
		 * the old and the new top is new, the old top is seen or out,
		 * the new left edge - 1 is out */
		static const uint32_t jumps[] = { 1, 63, 64, 65, ESP_REPLAY_MAX - 1, ESP_REPLAY_MAX,
						  ESP_REPLAY_MAX + 1, 3 * ESP_REPLAY_MAX + 7 };
		for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
			uint32_t old = r.top, top = old + jumps[j];

			assert_int_equal(accept(&r, top), 0);
			assert_int_equal(accept(&r, top), -1);
			assert_int_equal(esp_replay_check(&r, old), -1);
			assert_int_equal(esp_replay_check(&r, top - w), -1);
			for (uint32_t q = old + 1; q < top; q++)
				assert_int_equal(esp_replay_check(&r, q), top - q < w ? 0 : -1);
		}
	}
}

static void
test_large_jumps_and_top_of_space(void **state)
{
	struct esp_replay r;

	esp_replay_init(&r, 64);
	assert_int_equal(accept(&r, 1), 0);
	assert_int_equal(accept(&r, 0x80000001u), 0);
	assert_int_equal(esp_replay_check(&r, 1), -1);
	assert_int_equal(esp_replay_check(&r, 0x80000000u), 0);
	assert_int_equal(esp_replay_check(&r, 0x80000001u - 64), -1);
	assert_int_equal(accept(&r, UINT32_MAX - 1), 0);
	assert_int_equal(accept(&r, UINT32_MAX), 0);
	assert_int_equal(accept(&r, UINT32_MAX), -1);
	assert_int_equal(accept(&r, UINT32_MAX - 1), -1);
	assert_int_equal(accept(&r, UINT32_MAX - 2), 0);
	assert_int_equal(esp_replay_check(&r, UINT32_MAX - 64), -1);
	assert_int_equal(esp_replay_check(&r, UINT32_MAX - 63), 0);
	assert_int_equal(r.top, UINT32_MAX);
}

/* A commit for a number the check would refuse changes nothing. */
static void
test_stale_commit_ignored(void **state)
{
	struct esp_replay r;

	esp_replay_init(&r, 32);
	assert_int_equal(accept(&r, 5000), 0);
	esp_replay_commit(&r, 5000 - ESP_REPLAY_MAX);	/* same ring slot as 5000 */
	esp_replay_commit(&r, 5000 - 32);
	assert_int_equal(r.top, 5000);
	assert_int_equal(esp_replay_check(&r, 5000 - 31), 0);
	assert_int_equal(esp_replay_check(&r, 5000 + ESP_REPLAY_MAX), 0);
}

#define WALK_MAX (1u << 25)

/* The RFC's rules on a plain set of accepted numbers. */
struct model {
	uint32_t top;
	unsigned w;
	uint8_t *seen;	/* by sequence number, up to WALK_MAX */
};

static int
model_check(const struct model *m, uint32_t seq)
{
	if (seq == 0)
		return -1;
	if (seq > m->top)
		return 0;
	if (m->top - seq >= m->w)
		return -1;
	return m->seen[seq] ? -1 : 0;
}

static uint32_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

/* Mostly in order with reordering, duplicates, old packets, jumps, and
 * packets that pass the check but fail authentication (no commit). */
static void
test_random_walk_against_model(void **state)
{
	static const unsigned walk_sizes[] = { 1, 32, 64, 100, 1000, 1024, 4095, 4096 };
	static uint8_t seen[WALK_MAX + 1];
	const uint32_t steps = 100000;

	for (size_t i = 0; i < sizeof(walk_sizes) / sizeof(walk_sizes[0]); i++) {
		struct model m = { 0, walk_sizes[i], seen };
		struct esp_replay r;
		uint64_t x = 0x9e3779b97f4a7c15ULL + i;
		uint32_t next = 1, step;

		memset(seen, 0, sizeof(seen));
		esp_replay_init(&r, walk_sizes[i]);
		for (step = 0; step < steps; step++) {
			uint32_t v = rnd(&x), seq;
			int ok;

			switch (v % 64) {
			case 0: case 1: case 2: case 3:	/* reordered */
				seq = next > 50 ? next - 1 - rnd(&x) % 50 : next;
				break;
			case 4: case 5:			/* around the left edge */
				seq = m.top > m.w ? m.top - m.w + rnd(&x) % 3 - 1 : next;
				break;
			case 6:				/* a jump, up to 3 windows */
				seq = next + rnd(&x) % (3 * m.w + 3);
				break;
			case 7: case 8:			/* old */
				seq = next > 5000 ? next - rnd(&x) % 5000 : next;
				break;
			case 9:				/* zero, or the top again */
				seq = rnd(&x) % 3 == 0 ? 0 : m.top;
				break;
			default:
				seq = next++;
				break;
			}
			assert_true(seq <= WALK_MAX);
			ok = esp_replay_check(&r, seq);
			assert_int_equal(ok, model_check(&m, seq));
			if (ok == 0 && v % 7 != 0) {	/* 1 in 7 fails authentication */
				esp_replay_commit(&r, seq);
				m.seen[seq] = 1;
				if (seq > m.top)
					m.top = seq;
				if (seq >= next)
					next = seq + 1;
			}
			assert_int_equal(r.top, m.top);
		}
		assert_int_equal(step, steps);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_seq_zero_never_valid),
		cmocka_unit_test(test_first_packets_and_duplicates),
		cmocka_unit_test(test_left_edge),
		cmocka_unit_test(test_in_window_reordering),
		cmocka_unit_test(test_slides),
		cmocka_unit_test(test_large_jumps_and_top_of_space),
		cmocka_unit_test(test_stale_commit_ignored),
		cmocka_unit_test(test_random_walk_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
