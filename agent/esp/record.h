/*
 * A peer address's traffic record: the workers write it per
 * packet, the IKE engine reads it when a DPD decision is due, and nothing
 * passes between them but a watched first packet out. Every field is
 * atomic; any thread may call these.
 */
#ifndef ESP_RECORD_H
#define ESP_RECORD_H

#include <stdint.h>

struct dp_record {
	int64_t last_in;	/* last proof of liveness (verified ESP, or one
				 * IKE reported); monotonic ms, 0 = never */
	int64_t first_out;	/* first packet sent since last_in; none when
				 * <= last_in */
	int     watch;		/* the engine wants to hear of the next first_out */
};

/* Verified ESP from the peer: a store at most once per millisecond. */
static inline void
dp_record_in(struct dp_record *r, int64_t now)
{
	if (__atomic_load_n(&r->last_in, __ATOMIC_RELAXED) < now)
		__atomic_store_n(&r->last_in, now, __ATOMIC_SEQ_CST);
}

/* A packet for the peer: the first since its last proof is recorded.
 * Returns 1 when the engine watched for it (the caller posts it; on
 * failure, dp_record_watch() so the next packet tries). The engine sets
 * watch and then reads first_out; we store first_out and then take watch:
 * one of the two sees the other. */
static inline int
dp_record_out(struct dp_record *r, int64_t now)
{
	if (__atomic_load_n(&r->first_out, __ATOMIC_RELAXED) >
	    __atomic_load_n(&r->last_in, __ATOMIC_RELAXED))
		return 0;	/* recorded already since the last proof */
	__atomic_store_n(&r->first_out, now, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&r->watch, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&r->watch, 0, __ATOMIC_SEQ_CST);
}

/* A proof of liveness the workers did not see (an IKE message at `at`). */
static inline void
dp_record_alive(struct dp_record *r, int64_t at)
{
	int64_t cur = __atomic_load_n(&r->last_in, __ATOMIC_RELAXED);

	while (cur < at &&
	       !__atomic_compare_exchange_n(&r->last_in, &cur, at, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED))
		;
}

static inline void
dp_record_watch(struct dp_record *r)
{
	__atomic_store_n(&r->watch, 1, __ATOMIC_SEQ_CST);
}

static inline void
dp_record_read(const struct dp_record *r, int64_t *last_in, int64_t *first_out)
{
	*last_in = __atomic_load_n(&r->last_in, __ATOMIC_SEQ_CST);
	*first_out = __atomic_load_n(&r->first_out, __ATOMIC_SEQ_CST);
}

#endif
