/*
 * The hashed timer wheel (agent/core/wheel.c) on a fake clock: every timer
 * fires once, never before its deadline and within one tick after it, in
 * deadline order; cancel, re-arm from callbacks, deadlines beyond one turn,
 * long sleeps and 100,000 timers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/wheel.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct item {
	struct wheel_timer t;
	int                id;
	int                fired;
	int64_t            fired_at;
};

/* Fire order of the current test. */
static int    order[256];
static size_t norder;

static void
item_fire(struct wheel_timer *t, int64_t now)
{
	struct item *it = wheel_owner(t, struct item, t);

	it->fired++;
	it->fired_at = now;
	if (norder < sizeof(order) / sizeof(order[0]))
		order[norder++] = it->id;
}

static void
items_init(struct item *it, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		wheel_timer_init(&it[i].t, item_fire);
		it[i].id = (int)i;
		it[i].fired = 0;
		it[i].fired_at = -1;
	}
	norder = 0;
}

static void
test_init_rejects_bad_sizes(void **state)
{
	struct wheel w;

	assert_int_equal(wheel_init(&w, 0, 64, 0), -1);
	assert_int_equal(wheel_init(&w, 10, 0, 0), -1);
	assert_int_equal(wheel_init(&w, 10, (size_t)WHEEL_SLOTS_MAX + 1, 0), -1);
	wheel_free(&w);		/* harmless after a failed init */
	assert_int_equal(wheel_init(&w, 10, 1000, 0), 0);
	assert_int_equal(w.mask, 1023);	/* rounded up to a power of two */
	assert_int_equal(wheel_next_deadline(&w), INT64_MAX);
	assert_int_equal(wheel_advance(&w, 100000), 0);
	wheel_free(&w);
}

/* Advanced every millisecond, each timer fires exactly at its deadline. */
static void
test_fires_once_at_deadline(void **state)
{
	static const int64_t dl[] = { 0, 1, 9, 10, 15, 99, 100, 639, 640, 641, 999 };
	struct item it[sizeof(dl) / sizeof(dl[0])];
	struct wheel w;
	size_t i, fired = 0;
	int64_t now;

	assert_int_equal(wheel_init(&w, 10, 64, 0), 0);
	items_init(it, NELEM(dl));
	for (i = 0; i < NELEM(dl); i++)
		wheel_add(&w, &it[i].t, dl[i]);
	for (now = 0; now <= 1200; now++)
		fired += wheel_advance(&w, now);
	assert_int_equal(fired, NELEM(dl));
	for (i = 0; i < NELEM(dl); i++) {
		assert_int_equal(it[i].fired, 1);
		assert_int_equal(it[i].fired_at, dl[i]);
		assert_false(wheel_pending(&it[i].t));
	}
	wheel_free(&w);
}

/* Advanced tick by tick (or at odd steps), a timer fires at the first call
 * at or after its deadline: never early, less than one step late. */
static void
test_fires_within_one_step(void **state)
{
	static const int64_t steps[] = { 10, 7, 23 };
	struct item it[200];
	struct wheel w;
	size_t s, i;
	int64_t now;

	for (s = 0; s < NELEM(steps); s++) {
		assert_int_equal(wheel_init(&w, 10, 32, 5), 0);
		items_init(it, NELEM(it));
		for (i = 0; i < NELEM(it); i++)
			wheel_add(&w, &it[i].t, 5 + (int64_t)(i * 37 % 1000));
		for (now = 5; now <= 1100; now += steps[s])
			wheel_advance(&w, now);
		for (i = 0; i < NELEM(it); i++) {
			assert_int_equal(it[i].fired, 1);
			assert_true(it[i].fired_at >= it[i].t.deadline);
			assert_true(it[i].fired_at < it[i].t.deadline + steps[s]);
		}
		wheel_free(&w);
	}
}

static void
test_deadline_order_within_tick(void **state)
{
	static const int64_t dl[] = { 19, 11, 15, 11, 10, 19, 12 };
	static const int want[] = { 4, 1, 3, 6, 2, 0, 5 };	/* FIFO on ties */
	struct item it[NELEM(dl)];
	struct wheel w;
	size_t i;

	assert_int_equal(wheel_init(&w, 10, 16, 0), 0);
	items_init(it, NELEM(dl));
	for (i = 0; i < NELEM(dl); i++)
		wheel_add(&w, &it[i].t, dl[i]);
	assert_int_equal(wheel_next_deadline(&w), 10);
	assert_int_equal(wheel_advance(&w, 9), 0);
	assert_int_equal(wheel_advance(&w, 14), 4);	/* 10, 11, 11, 12 */
	assert_int_equal(wheel_next_deadline(&w), 15);
	assert_int_equal(wheel_advance(&w, 25), 3);
	assert_int_equal(norder, NELEM(want));
	for (i = 0; i < NELEM(want); i++)
		assert_int_equal(order[i], want[i]);
	wheel_free(&w);
}

static struct item *victim;

static void
cancel_victim(struct wheel_timer *t, int64_t now)
{
	item_fire(t, now);
	wheel_cancel(&victim->t);
}

static void
test_cancel(void **state)
{
	struct item it[4];
	struct wheel w;

	assert_int_equal(wheel_init(&w, 10, 16, 0), 0);
	items_init(it, 4);
	wheel_cancel(&it[0].t);			/* not pending: no-op */
	wheel_add(&w, &it[0].t, 50);
	wheel_add(&w, &it[1].t, 50);
	wheel_add(&w, &it[2].t, 51);
	assert_true(wheel_pending(&it[1].t));
	wheel_cancel(&it[1].t);
	wheel_cancel(&it[1].t);			/* twice is fine */
	assert_false(wheel_pending(&it[1].t));

	/* a callback cancels a timer due in the same batch */
	it[3].t.fn = cancel_victim;
	victim = &it[2];
	wheel_add(&w, &it[3].t, 50);
	assert_int_equal(wheel_advance(&w, 100), 2);
	assert_int_equal(it[0].fired, 1);
	assert_int_equal(it[1].fired, 0);
	assert_int_equal(it[2].fired, 0);
	assert_int_equal(it[3].fired, 1);
	assert_false(wheel_pending(&it[2].t));

	/* re-arming moves a pending timer */
	wheel_add(&w, &it[0].t, 300);
	wheel_add(&w, &it[0].t, 200);
	assert_int_equal(wheel_advance(&w, 250), 1);
	assert_int_equal(it[0].fired_at, 250);
	assert_int_equal(wheel_advance(&w, 400), 0);
	assert_int_equal(it[0].fired, 2);
	wheel_free(&w);
}

/* A timer that re-arms itself: every 100 ms, or (badly) for `now`. */
static int64_t rearm_every;
static struct wheel *rearm_wheel;

static void
rearm(struct wheel_timer *t, int64_t now)
{
	item_fire(t, now);
	wheel_add(rearm_wheel, t, now + rearm_every);
}

static void
test_rearm_from_callback(void **state)
{
	struct item it[1];
	struct wheel w;
	int64_t now;

	assert_int_equal(wheel_init(&w, 10, 8, 0), 0);
	rearm_wheel = &w;
	items_init(it, 1);
	it[0].t.fn = rearm;
	rearm_every = 100;
	wheel_add(&w, &it[0].t, 100);
	for (now = 0; now <= 1000; now += 10)
		wheel_advance(&w, now);
	assert_int_equal(it[0].fired, 10);
	assert_int_equal(it[0].fired_at, 1000);

	/* re-armed for now: once per call, never a spin */
	rearm_every = 0;
	assert_int_equal(wheel_advance(&w, 1100), 1);
	assert_int_equal(wheel_next_deadline(&w), 1100);
	assert_int_equal(wheel_advance(&w, 1100), 1);
	assert_int_equal(wheel_advance(&w, 1105), 1);
	assert_int_equal(it[0].fired, 13);

	/* re-armed for later in the tick being scanned: fires on time */
	rearm_every = 3;
	wheel_add(&w, &it[0].t, 1203);
	assert_int_equal(wheel_advance(&w, 1203), 1);
	assert_int_equal(wheel_next_deadline(&w), 1206);
	assert_int_equal(wheel_advance(&w, 1205), 0);
	assert_int_equal(wheel_advance(&w, 1206), 1);
	assert_int_equal(it[0].fired_at, 1206);
	wheel_cancel(&it[0].t);
	assert_int_equal(wheel_advance(&w, 2000), 0);
	wheel_free(&w);
}

/* 8 slots of 10 ms: a turn is 80 ms; later deadlines wait for their turn. */
static void
test_deadlines_beyond_one_turn(void **state)
{
	static const int64_t dl[] = { 85, 1000, 5000, 5001, 80, 160 };
	struct item it[NELEM(dl)];
	struct wheel w;
	size_t i;
	int64_t now, next;

	assert_int_equal(wheel_init(&w, 10, 8, 0), 0);
	items_init(it, NELEM(dl));
	for (i = 0; i < NELEM(dl); i++)
		wheel_add(&w, &it[i].t, dl[i]);
	assert_int_equal(wheel_next_deadline(&w), 80);
	for (now = 0; now <= 900; now += 10)
		wheel_advance(&w, now);
	/* only 1000, 5000, 5001 remain: none within a turn, so a bound */
	next = wheel_next_deadline(&w);
	assert_true(next > 900 && next <= 1000);
	for (; now <= 6000; now += 10)
		wheel_advance(&w, now);
	for (i = 0; i < NELEM(dl); i++) {
		assert_int_equal(it[i].fired, 1);
		assert_int_equal(it[i].fired_at, dl[i] - dl[i] % 10 + (dl[i] % 10 ? 10 : 0));
	}
	assert_int_equal(wheel_next_deadline(&w), INT64_MAX);
	wheel_free(&w);
}

/* One call after a long sleep fires everything due, in deadline order, and
 * leaves the rest; the jump over empty turns skips nothing. */
static void
test_long_sleep(void **state)
{
	static const int64_t dl[] = { 3000000, 100, 50001, 50000, 9000000, 10 };
	static const int want[] = { 5, 1, 3, 2, 0 };
	struct item it[NELEM(dl)];
	struct wheel w;
	size_t i;

	assert_int_equal(wheel_init(&w, 10, 64, 0), 0);
	items_init(it, NELEM(dl));
	for (i = 0; i < NELEM(dl); i++)
		wheel_add(&w, &it[i].t, dl[i]);
	assert_int_equal(wheel_advance(&w, 4000000), 5);
	assert_int_equal(norder, 5);
	for (i = 0; i < NELEM(want); i++)
		assert_int_equal(order[i], want[i]);
	assert_true(wheel_pending(&it[4].t));
	assert_int_equal(wheel_advance(&w, 8999999), 0);
	assert_int_equal(wheel_advance(&w, 9000000), 1);
	assert_int_equal(it[4].fired_at, 9000000);
	wheel_free(&w);
}

/* Deadlines already passed fire at the next call, even for the same now. */
static void
test_past_deadline(void **state)
{
	struct item it[3];
	struct wheel w;

	assert_int_equal(wheel_init(&w, 10, 16, 0), 0);
	items_init(it, 3);
	assert_int_equal(wheel_advance(&w, 507), 0);
	wheel_add(&w, &it[0].t, 100);		/* a tick long gone */
	wheel_add(&w, &it[1].t, 503);		/* this tick, already passed */
	wheel_add(&w, &it[2].t, 509);		/* this tick, not yet */
	assert_int_equal(wheel_next_deadline(&w), 100);
	assert_int_equal(wheel_advance(&w, 507), 2);
	assert_int_equal(it[0].fired_at, 507);
	assert_int_equal(it[1].fired_at, 507);
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 0);
	assert_int_equal(wheel_next_deadline(&w), 509);
	assert_int_equal(wheel_advance(&w, 508), 0);
	assert_int_equal(wheel_advance(&w, 300), 0);	/* time does not go back */
	assert_int_equal(wheel_advance(&w, 509), 1);
	wheel_free(&w);
}

static void
test_free_detaches(void **state)
{
	struct item it[2];
	struct wheel w;

	assert_int_equal(wheel_init(&w, 10, 16, 0), 0);
	items_init(it, 2);
	wheel_add(&w, &it[0].t, 10);
	wheel_add(&w, &it[1].t, 1000000);
	wheel_free(&w);
	assert_false(wheel_pending(&it[0].t));
	assert_false(wheel_pending(&it[1].t));
	wheel_cancel(&it[0].t);			/* the owner's *_free() still may */
	wheel_free(&w);
}

/* 100,000 timers over 100 s on 1024 slots of 10 ms (a 10.24 s turn), one
 * in ten cancelled: every other one fires once, in global deadline order,
 * within one tick. Then coarse and 1 ms ticks. */
#define MANY 100000

static int64_t last_fired_deadline;
static int     out_of_order;

static void
many_fire(struct wheel_timer *t, int64_t now)
{
	struct item *it = wheel_owner(t, struct item, t);

	if (t->deadline < last_fired_deadline)
		out_of_order++;
	last_fired_deadline = t->deadline;
	it->fired++;
	it->fired_at = now;
}

static void
many(size_t n, int64_t tick, size_t slots, int64_t span)
{
	struct item *it = calloc(n, sizeof(*it));
	struct wheel w;
	uint64_t x = 88172645463325252ull;
	size_t i, fired = 0;
	int64_t now;

	assert_non_null(it);
	assert_int_equal(wheel_init(&w, tick, slots, 0), 0);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		wheel_timer_init(&it[i].t, many_fire);
		wheel_add(&w, &it[i].t, (int64_t)(x % (uint64_t)span));
	}
	for (i = 0; i < n; i += 10)
		wheel_cancel(&it[i].t);
	last_fired_deadline = INT64_MIN;
	out_of_order = 0;
	for (now = 0; now <= span + tick; now += tick)
		fired += wheel_advance(&w, now);
	assert_int_equal(fired, n - (n + 9) / 10);
	assert_int_equal(out_of_order, 0);
	for (i = 0; i < n; i++) {
		if (i % 10 == 0) {
			assert_int_equal(it[i].fired, 0);
			continue;
		}
		assert_int_equal(it[i].fired, 1);
		assert_true(it[i].fired_at >= it[i].t.deadline);
		assert_true(it[i].fired_at < it[i].t.deadline + tick);
	}
	assert_int_equal(wheel_next_deadline(&w), INT64_MAX);
	wheel_free(&w);
	free(it);
}

static void
test_many_timers(void **state)
{
	many(MANY, 10, 1024, 100000);
	many(5000, 100, 64, 50000);	/* coarse ticks: several ms per bucket */
	many(5000, 1, 4096, 3000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_sizes),
		cmocka_unit_test(test_fires_once_at_deadline),
		cmocka_unit_test(test_fires_within_one_step),
		cmocka_unit_test(test_deadline_order_within_tick),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_rearm_from_callback),
		cmocka_unit_test(test_deadlines_beyond_one_turn),
		cmocka_unit_test(test_long_sleep),
		cmocka_unit_test(test_past_deadline),
		cmocka_unit_test(test_free_detaches),
		cmocka_unit_test(test_many_timers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
