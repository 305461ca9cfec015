/*
 * A hashed timer wheel for many coarse timers (one DPD timer per IKE SA).
 * Timers live inside their owner (no allocation per timer) and are
 * cancelled in the owner's *_free(); add and cancel are O(1). With at least
 * as many slots as ticks in the longest usual period, each timer is visited
 * about once per expiry. Times are monotonic milliseconds.
 */
#ifndef CORE_WHEEL_H
#define CORE_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#define WHEEL_SLOTS_MAX (1u << 22)	/* 4 M list heads, 64 MB: far beyond any use */

struct wheel_timer;
typedef void wheel_fn(struct wheel_timer *t, int64_t now);

/* Embed in the owner; zero it or wheel_timer_init() it before first use. */
struct wheel_timer {
	struct wheel_timer *next, *prev;	/* NULL when not pending */
	int64_t             deadline;
	wheel_fn           *fn;
};

/* The owner of an embedded timer, as in `wheel_owner(t, struct sa, dpd_timer)`. */
#define wheel_owner(t, type, member) \
	((type *)(void *)((char *)(t) - offsetof(type, member)))

struct wheel {
	int64_t             start_ms;	/* time of tick 0 */
	int64_t             tick_ms;
	int64_t             cur;	/* first tick whose slot is not done */
	int64_t             now;	/* last time given to wheel_advance */
	size_t              mask;	/* slots - 1 (a power of two) */
	struct wheel_timer *slots;	/* list heads */
	struct wheel_timer  late;	/* added for a time already passed */
};

/* nslots is rounded up to a power of two; -1 on a bad tick or size. The
 * wheel holds list heads pointing at itself: it must not move afterwards. */
int     wheel_init(struct wheel *w, int64_t tick_ms, size_t nslots, int64_t start_ms);
/* Detaches every pending timer (their owners may still cancel them) and
 * frees the slots. Not from inside a timer callback. */
void    wheel_free(struct wheel *w);

void    wheel_timer_init(struct wheel_timer *t, wheel_fn *fn);
/* Arms (or re-arms) t; a deadline already passed fires at the next advance. */
void    wheel_add(struct wheel *w, struct wheel_timer *t, int64_t deadline);
/* Safe on a timer that is not pending, and from any callback. */
void    wheel_cancel(struct wheel_timer *t);
int     wheel_pending(const struct wheel_timer *t);

/*
 * Fires, once each, every timer whose deadline <= now: tick by tick, and in
 * deadline order within a tick (FIFO on equal deadlines). Callbacks get
 * `now` and may add and cancel any timer; one armed for a time <= now
 * fires at the next call, never in the same one, so a callback cannot spin
 * the loop. `now` below the last one counts as the last. Returns how many
 * fired.
 */
size_t  wheel_advance(struct wheel *w, int64_t now);
/* When the loop must call wheel_advance next: the earliest deadline when it
 * is within one turn of the wheel, else the start of the next turn (before
 * any deadline); INT64_MAX when no timer is pending. O(slots) at worst. */
int64_t wheel_next_deadline(const struct wheel *w);

#endif
