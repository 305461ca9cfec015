/*
 * Hashed timer wheel (see wheel.h). A timer waits in the slot of its
 * deadline's tick modulo the number of slots; advancing scans the slot of
 * each tick passed, fires what is due and leaves timers of later turns in
 * place. Lists are circular with the head as sentinel, so unlinking needs
 * no wheel and no branch.
 */
#include "core/wheel.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define WHEEL_BUCKETS 16	/* per tick when firing: 1 ms each up to 16 ms ticks */

static void
list_init(struct wheel_timer *head)
{
	head->next = head->prev = head;
}

static int
list_empty(const struct wheel_timer *head)
{
	return head->next == head;
}

static void
list_append(struct wheel_timer *head, struct wheel_timer *t)
{
	t->prev = head->prev;
	t->next = head;
	head->prev->next = t;
	head->prev = t;
}

static void
list_unlink(struct wheel_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static int64_t
tick_of(const struct wheel *w, int64_t t)
{
	return (t - w->start_ms) / w->tick_ms;
}

/* The first millisecond after `tick`. */
static int64_t
tick_end(const struct wheel *w, int64_t tick)
{
	return w->start_ms + (tick + 1) * w->tick_ms;
}

static struct wheel_timer *
slot(const struct wheel *w, int64_t tick)
{
	return &w->slots[(uint64_t)tick & w->mask];
}

int
wheel_init(struct wheel *w, int64_t tick_ms, size_t nslots, int64_t start_ms)
{
	size_t n = 1, i;
	int rc = -1;

	memset(w, 0, sizeof(*w));
	if (tick_ms <= 0 || nslots == 0 || nslots > WHEEL_SLOTS_MAX)
		goto done;
	while (n < nslots)
		n <<= 1;
	w->slots = xcalloc(n, sizeof(*w->slots));
	for (i = 0; i < n; i++)
		list_init(&w->slots[i]);
	list_init(&w->late);
	w->start_ms = w->now = start_ms;
	w->tick_ms = tick_ms;
	w->mask = n - 1;
	rc = 0;
done:
	return rc;
}

static void
detach_all(struct wheel_timer *head)
{
	while (!list_empty(head))
		list_unlink(head->next);
}

void
wheel_free(struct wheel *w)
{
	size_t i;

	if (w->slots == NULL)
		return;
	for (i = 0; i <= w->mask; i++)
		detach_all(&w->slots[i]);
	detach_all(&w->late);
	free(w->slots);
	memset(w, 0, sizeof(*w));
}

void
wheel_timer_init(struct wheel_timer *t, wheel_fn *fn)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
}

int
wheel_pending(const struct wheel_timer *t)
{
	return t->next != NULL;
}

void
wheel_cancel(struct wheel_timer *t)
{
	if (t->next != NULL)
		list_unlink(t);
}

void
wheel_add(struct wheel *w, struct wheel_timer *t, int64_t deadline)
{
	int64_t tick = tick_of(w, deadline);

	wheel_cancel(t);
	t->deadline = deadline;
	if (tick < w->cur || deadline <= w->now)
		list_append(&w->late, t);	/* due: the next wheel_advance */
	else
		list_append(slot(w, tick), t);
}

/* Moves the timers of head due by `now` to due. */
static void
collect(struct wheel_timer *head, int64_t now, struct wheel_timer *due)
{
	struct wheel_timer *t, *next;

	for (t = head->next; t != head; t = next) {
		next = t->next;
		if (t->deadline <= now) {
			list_unlink(t);
			list_append(due, t);
		}
	}
}

static struct wheel_timer *
merge(struct wheel_timer *a, struct wheel_timer *b)
{
	struct wheel_timer head, *tail = &head;

	while (a != NULL && b != NULL) {
		if (b->deadline < a->deadline) {	/* ties keep a first: stable */
			tail->next = b;
			b = b->next;
		} else {
			tail->next = a;
			a = a->next;
		}
		tail = tail->next;
	}
	tail->next = a != NULL ? a : b;
	return head.next;
}

/* Merge sort of a NULL-terminated chain; depth log2(n). */
static struct wheel_timer *
sort_chain(struct wheel_timer *l)
{
	struct wheel_timer *slow = l, *fast, *rest;

	if (l == NULL || l->next == NULL)
		return l;
	for (fast = l->next; fast != NULL && fast->next != NULL; fast = fast->next->next)
		slow = slow->next;
	rest = slow->next;
	slow->next = NULL;
	return merge(sort_chain(l), sort_chain(rest));
}

/* Deadline order within a tick; usually already true, checked first. */
static void
sort_by_deadline(struct wheel_timer *due)
{
	struct wheel_timer *t, *prev;

	for (t = due->next; t != due && t->next != due; t = t->next)
		if (t->next->deadline < t->deadline)
			break;
	if (t == due || t->next == due)
		return;
	due->prev->next = NULL;
	t = sort_chain(due->next);
	for (prev = due; t != NULL; prev = t, t = t->next) {
		prev->next = t;
		t->prev = prev;
	}
	prev->next = due;
	due->prev = prev;
}

/* Moves all of b to the end of due. */
static void
list_splice(struct wheel_timer *b, struct wheel_timer *due)
{
	if (list_empty(b))
		return;
	b->next->prev = due->prev;
	due->prev->next = b->next;
	b->prev->next = due;
	due->prev = b->prev;
	list_init(b);
}

/*
 * The due timers of one tick, in deadline order, without a sort in the
 * usual case: spread by their offset in the tick over a few buckets
 * (appending keeps ties in FIFO order), sort each bucket (one with a single
 * millisecond in it already is), and join them.
 */
static void
collect_tick(struct wheel *w, int64_t tick, int64_t now, struct wheel_timer *due)
{
	struct wheel_timer *head = slot(w, tick), *t, *next, b[WHEEL_BUCKETS];
	int64_t start = w->start_ms + tick * w->tick_ms, end = start + w->tick_ms, off;
	size_t i;

	if (list_empty(head))
		return;
	for (i = 0; i < WHEEL_BUCKETS; i++)
		list_init(&b[i]);
	for (t = head->next; t != head; t = next) {
		next = t->next;
		if (t->deadline > now || t->deadline >= end)
			continue;		/* later in this tick, or a later turn */
		off = t->deadline > start ? t->deadline - start : 0;
		list_unlink(t);
		list_append(&b[off * WHEEL_BUCKETS / w->tick_ms], t);
	}
	for (i = 0; i < WHEEL_BUCKETS; i++) {
		sort_by_deadline(&b[i]);
		list_splice(&b[i], due);
	}
}

static size_t
fire(struct wheel_timer *due, int64_t now)
{
	struct wheel_timer *t;
	size_t n = 0;

	while (!list_empty(due)) {
		t = due->next;
		list_unlink(t);		/* a callback may cancel the others */
		n++;
		if (t->fn != NULL)
			t->fn(t, now);
	}
	return n;
}

/* The earliest tick any slotted timer waits for (INT64_MAX: none). */
static int64_t
first_tick(const struct wheel *w)
{
	const struct wheel_timer *head, *t;
	int64_t best = INT64_MAX, tick;
	size_t i;

	for (i = 0; i <= w->mask; i++) {
		head = &w->slots[i];
		for (t = head->next; t != head; t = t->next) {
			tick = tick_of(w, t->deadline);
			if (tick < best)
				best = tick;
		}
	}
	return best;
}

size_t
wheel_advance(struct wheel *w, int64_t now)
{
	struct wheel_timer due, *t, *next;
	int64_t target, tick, skip;
	size_t fired = 0, quiet = 0;

	if (now < w->now)
		now = w->now;		/* a monotonic clock never goes back */
	w->now = now;
	target = tick_of(w, now);
	if (target < w->cur)
		target = w->cur;	/* before start_ms */
	list_init(&due);

	/* timers added for times already passed are the oldest: first */
	collect(&w->late, now, &due);
	sort_by_deadline(&due);
	fired += fire(&due, now);

	for (tick = w->cur; tick <= target; tick++) {
		w->cur = tick + 1;	/* re-arms for this tick go to the late list */
		collect_tick(w, tick, now, &due);
		if (list_empty(&due)) {
			/* a whole quiet turn after a long sleep: jump to the next timer */
			if (++quiet > w->mask) {
				skip = first_tick(w);
				if (skip > target)
					skip = target + 1;
				if (skip - 1 > tick)
					tick = skip - 1;
				quiet = 0;
			}
			continue;
		}
		quiet = 0;
		fired += fire(&due, now);
	}
	w->cur = target;		/* the tick of now is only done up to now */

	/* back to their slots: late timers not due yet (re-armed for this tick) */
	for (t = w->late.next; t != &w->late; t = next) {
		next = t->next;
		if (t->deadline > now)
			wheel_add(w, t, t->deadline);
	}
	return fired;
}

int64_t
wheel_next_deadline(const struct wheel *w)
{
	const struct wheel_timer *head, *t;
	int64_t best = INT64_MAX, tick, end;
	size_t i;
	int any = 0;

	for (t = w->late.next; t != &w->late; t = t->next)
		if (t->deadline < best)
			best = t->deadline;
	if (best != INT64_MAX)
		return best;
	for (i = 0; i <= w->mask; i++) {
		tick = w->cur + (int64_t)i;
		head = slot(w, tick);
		end = tick_end(w, tick);
		for (t = head->next; t != head; t = t->next) {
			any = 1;
			if (t->deadline < end && t->deadline < best)
				best = t->deadline;
		}
		if (best != INT64_MAX)
			return best;	/* later slots hold later ticks */
	}
	/* only timers of later turns: wake when the next turn begins */
	return any ? tick_end(w, w->cur + (int64_t)w->mask) : INT64_MAX;
}
