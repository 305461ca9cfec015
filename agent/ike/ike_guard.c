/*
 * What the responder lets in: anyone can send a first Main Mode
 * message from any address, so half-open SAs are bounded per source and in
 * total, sources that are no crypto-map peer share only part of the table,
 * and answers to them are rate-limited so the agent is no amplifier. Like a SYN
 * cache, a full table makes room by evicting the oldest SA that has not
 * answered our SA payload yet: a peer that has (it receives our packets)
 * keeps its place, so a spoofed flood cannot stop a real negotiation.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define SRC_BITS 10		/* buckets: 1024, chains stay short at the default cap */

/* A source address with half-open responder SAs. */
struct ike_src {
	struct ike_src    *next;
	uint32_t           addr_be;
	unsigned           halfopen;
	struct ike_bucket  reply;
	struct ike_sa_fifo r1;			/* its evictable SAs, oldest first */
};

/* ---- token buckets ---------------------------------------------------------- */

/* Takes one token if there is one; refills at `rate` per second up to
 * `burst`. A rate of 0 means no limit. */
int
ike_bucket_take(struct ike_bucket *b, unsigned rate, unsigned burst, int64_t now)
{
	if (rate == 0)
		return 1;
	if (b->at_ms == 0 || now < b->at_ms) {
		b->tokens = burst;
		b->at_ms = now;
	} else {
		b->tokens += (double)(now - b->at_ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
		b->at_ms = now;
	}
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

/* Bursts: a second's worth, and at least what one source may hold open. */
static unsigned
reply_burst(const struct ike *ike)
{
	return ike->conf.reply_rate > ike->conf.halfopen_per_source ? ike->conf.reply_rate :
	    ike->conf.halfopen_per_source;
}

static unsigned
source_burst(const struct ike *ike)
{
	return ike->conf.halfopen_per_source > ike->conf.reply_rate_source ?
	    ike->conf.halfopen_per_source : ike->conf.reply_rate_source;
}

/* ---- crypto-map peers --------------------------------------------------------- */

static size_t
addr_slot(uint32_t addr_be, size_t cap)
{
	return hash32(addr_be) & (cap - 1);
}

static void
known_add(struct ike_guard *g, uint32_t addr_be)
{
	size_t i = addr_slot(addr_be, g->known_cap);

	while (g->known[i] != 0 && g->known[i] != addr_be)
		i = (i + 1) & (g->known_cap - 1);
	g->known[i] = addr_be;
}

void
ike_guard_configure(struct ike *ike)
{
	struct ike_guard *g = &ike->guard;
	size_t n = 0, cap = 16;

	for (size_t i = 0; i < ike->conf.nmaps; i++)
		n += ike->conf.maps[i].npeers;
	while (cap < 2 * n)
		cap *= 2;
	free(g->known);
	g->known = xcalloc(cap, sizeof(*g->known));
	g->known_cap = cap;
	for (size_t i = 0; i < ike->conf.nmaps; i++) {
		for (size_t p = 0; p < ike->conf.maps[i].npeers; p++) {
			if (ike->conf.maps[i].peers_be[p] != 0)
				known_add(g, ike->conf.maps[i].peers_be[p]);
		}
	}
}

int
ike_guard_known(const struct ike *ike, uint32_t addr_be)
{
	const struct ike_guard *g = &ike->guard;
	size_t i;

	if (g->known_cap == 0 || addr_be == 0)
		return 0;
	for (i = addr_slot(addr_be, g->known_cap); g->known[i] != 0;
	     i = (i + 1) & (g->known_cap - 1)) {
		if (g->known[i] == addr_be)
			return 1;
	}
	return 0;
}

/* ---- sources -------------------------------------------------------------------- */

static struct ike_src **
src_ref(struct ike_guard *g, uint32_t addr_be)
{
	struct ike_src **pp = &g->bucket[hash32(addr_be) & (((uint32_t)1 << g->bits) - 1)];

	while (*pp != NULL && (*pp)->addr_be != addr_be)
		pp = &(*pp)->next;
	return pp;
}

void
ike_guard_init(struct ike *ike)
{
	struct ike_guard *g = &ike->guard;

	memset(g, 0, sizeof(*g));
	g->bits = SRC_BITS;
	g->bucket = xcalloc((size_t)1 << g->bits, sizeof(*g->bucket));
	TAILQ_INIT(&g->unknown_r1);
}

/* Called after every SA is gone (ike_free): no source is left. */
void
ike_guard_free(struct ike *ike)
{
	struct ike_guard *g = &ike->guard;

	for (size_t i = 0; i < ((size_t)1 << g->bits); i++) {
		while (g->bucket[i] != NULL) {
			struct ike_src *s = g->bucket[i];

			g->bucket[i] = s->next;
			free(s);
		}
	}
	free(g->bucket);
	free(g->known);
	memset(g, 0, sizeof(*g));
}

static void
unlink_evictable(struct ike_sa *sa)
{
	struct ike_guard *g = &sa->ike->guard;

	if (!sa->evictable)
		return;
	TAILQ_REMOVE(&sa->src->r1, sa, src_link);
	if (!sa->known)
		TAILQ_REMOVE(&g->unknown_r1, sa, unknown_link);
	sa->evictable = 0;
}

static void
evict(struct ike *ike, struct ike_sa *victim, const char *why, int64_t now)
{
	char ip[16];

	log_debug("ISAKMP: half-open SA of %s evicted (%s)", ipv4_str(victim->peer_be, ip), why);
	ike_sa_delete(victim, IKE_QUIET, now);
}

int
ike_guard_admit(struct ike *ike, uint32_t src_be, int64_t now)
{
	struct ike_guard *g = &ike->guard;
	const struct ike_conf *c = &ike->conf;
	struct ike_src *s = *src_ref(g, src_be);
	int known = ike_guard_known(ike, src_be);
	size_t unknown_max = c->halfopen_max > c->halfopen_reserve ?
	    c->halfopen_max - c->halfopen_reserve : 0;

	/* Budgets first: a refused message leaves no trace. A crypto-map
	 * peer's address has none: a flood spoofed from it must not starve
	 * the real peer, which eviction protects once it answers. */
	if (!known && s != NULL &&
	    !ike_bucket_take(&s->reply, c->reply_rate_source, source_burst(ike), now))
		return IKE_DROP_RATE_LIMITED;
	if (!known && !ike_bucket_take(&g->reply, c->reply_rate, reply_burst(ike), now))
		return IKE_DROP_RATE_LIMITED;
	if (c->halfopen_per_source == 0 || c->halfopen_max == 0)
		return IKE_DROP_HALFOPEN_LIMIT;
	if (s != NULL && s->halfopen >= c->halfopen_per_source) {
		if (TAILQ_EMPTY(&s->r1))
			return IKE_DROP_HALFOPEN_LIMIT;
		evict(ike, TAILQ_FIRST(&s->r1), "per-source limit", now);
	}
	if (!known && g->halfopen_unknown >= unknown_max) {
		if (TAILQ_EMPTY(&g->unknown_r1))
			return IKE_DROP_HALFOPEN_LIMIT;
		evict(ike, TAILQ_FIRST(&g->unknown_r1), "unknown sources' share", now);
	}
	if (g->halfopen >= c->halfopen_max) {
		/* only a known source gets here: unknown ones hit their share */
		if (TAILQ_EMPTY(&g->unknown_r1))
			return IKE_DROP_HALFOPEN_LIMIT;
		evict(ike, TAILQ_FIRST(&g->unknown_r1), "total limit", now);
	}
	return 0;
}

void
ike_guard_track(struct ike *ike, struct ike_sa *sa)
{
	struct ike_guard *g = &ike->guard;
	struct ike_src **pp = src_ref(g, sa->peer_be), *s = *pp;

	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->addr_be = sa->peer_be;
		TAILQ_INIT(&s->r1);
		/* the first answer was paid from the source's fresh budget */
		s->reply.tokens = (double)source_burst(ike) - 1.0;
		s->reply.at_ms = sa->created_ms;
		*pp = s;
		g->nsrc++;
	}
	sa->src = s;
	sa->known = ike_guard_known(ike, sa->peer_be);
	s->halfopen++;
	g->halfopen++;
	if (!sa->known)
		g->halfopen_unknown++;
	TAILQ_INSERT_TAIL(&s->r1, sa, src_link);
	if (!sa->known)
		TAILQ_INSERT_TAIL(&g->unknown_r1, sa, unknown_link);
	sa->evictable = 1;
}

void
ike_guard_progress(struct ike_sa *sa)
{
	unlink_evictable(sa);
}

void
ike_guard_release(struct ike_sa *sa)
{
	struct ike_guard *g = &sa->ike->guard;
	struct ike_src *s = sa->src, **pp;

	if (s == NULL)
		return;
	unlink_evictable(sa);
	g->halfopen--;
	if (!sa->known)
		g->halfopen_unknown--;
	sa->src = NULL;
	if (--s->halfopen > 0)
		return;
	pp = src_ref(g, s->addr_be);
	*pp = s->next;
	free(s);
	g->nsrc--;
}

int
ike_guard_reply_ok(struct ike_sa *sa, int64_t now)
{
	struct ike *ike = sa->ike;

	if (sa->known)
		return 1;
	if (sa->src != NULL &&
	    !ike_bucket_take(&sa->src->reply, ike->conf.reply_rate_source, source_burst(ike), now))
		return 0;
	return ike_bucket_take(&ike->guard.reply, ike->conf.reply_rate, reply_burst(ike), now);
}

int
ike_guard_notify_ok(struct ike *ike, int64_t now)
{
	return ike_bucket_take(&ike->guard.notify, ike->conf.notify_rate, ike->conf.notify_rate, now);
}
