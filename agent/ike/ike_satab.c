/*
 * The ISAKMP SA table: every SA on one list (views, timers,
 * configuration) and hashed twice, by initiator cookie (each inbound
 * message) and by peer address (liveness, siblings, INITIAL-CONTACT,
 * Delete), so no per-message lookup walks the SAs. An initiator cookie may
 * be the peer's choice, so the hash is keyed with a secret of the process;
 * the responder bounds (ike_guard.c) cap what a flood can put in a chain.
 */
#include "ike/ike_int.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define SATAB_FIRST_BITS 6	/* 64 buckets each to start; doubled as SAs come */

/* A keyed 64-bit finaliser (MurmurHash3's) over key ^ secret. */
static size_t
slot(const struct ike_satab *t, uint64_t key)
{
	uint64_t x = key ^ t->secret;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (size_t)(x & (((uint64_t)1 << t->bits) - 1));
}

static uint64_t
cookie_key(const uint8_t icookie[IKE_COOKIE_LEN])
{
	uint64_t k;

	memcpy(&k, icookie, sizeof(k));
	return k;
}

static void
link_sa(struct ike_satab *t, struct ike_sa *sa)
{
	size_t c = slot(t, cookie_key(sa->icookie)), p = slot(t, sa->peer_be);

	sa->cookie_next = t->by_cookie[c];
	t->by_cookie[c] = sa;
	sa->peer_next = t->by_peer[p];
	t->by_peer[p] = sa;
}

/* Twice the buckets once there are more SAs than buckets. */
static void
grow(struct ike_satab *t, struct ike_sa *all)
{
	size_t n = (size_t)1 << ++t->bits;

	free(t->by_cookie);
	free(t->by_peer);
	t->by_cookie = xcalloc(n, sizeof(*t->by_cookie));
	t->by_peer = xcalloc(n, sizeof(*t->by_peer));
	for (struct ike_sa *sa = all; sa != NULL; sa = sa->next)
		link_sa(t, sa);
}

void
ike_satab_init(struct ike *ike)
{
	struct ike_satab *t = &ike->satab;

	t->bits = SATAB_FIRST_BITS;
	t->by_cookie = xcalloc((size_t)1 << t->bits, sizeof(*t->by_cookie));
	t->by_peer = xcalloc((size_t)1 << t->bits, sizeof(*t->by_peer));
	ike_random(&t->secret, sizeof(t->secret));
}

void
ike_satab_free(struct ike *ike)
{
	free(ike->satab.by_cookie);
	free(ike->satab.by_peer);
	memset(&ike->satab, 0, sizeof(ike->satab));
}

void
ike_satab_add(struct ike *ike, struct ike_sa *sa)
{
	struct ike_satab *t = &ike->satab;

	sa->next = ike->sas;
	sa->pprev = &ike->sas;
	if (ike->sas != NULL)
		ike->sas->pprev = &sa->next;
	ike->sas = sa;
	if (++t->n > ((size_t)1 << t->bits))
		grow(t, ike->sas);
	else
		link_sa(t, sa);
}

void
ike_satab_remove(struct ike *ike, struct ike_sa *sa)
{
	struct ike_satab *t = &ike->satab;
	struct ike_sa **pp;

	*sa->pprev = sa->next;
	if (sa->next != NULL)
		sa->next->pprev = sa->pprev;
	for (pp = &t->by_cookie[slot(t, cookie_key(sa->icookie))]; *pp != sa;
	     pp = &(*pp)->cookie_next)
		;
	*pp = sa->cookie_next;
	for (pp = &t->by_peer[slot(t, sa->peer_be)]; *pp != sa; pp = &(*pp)->peer_next)
		;
	*pp = sa->peer_next;
	t->n--;
}

struct ike_sa *
ike_sa_find(struct ike *ike, const struct ike_hdr *h)
{
	static const uint8_t zero[IKE_COOKIE_LEN];
	struct ike_satab *t = &ike->satab;

	for (struct ike_sa *sa = t->by_cookie[slot(t, cookie_key(h->icookie))]; sa != NULL;
	     sa = sa->cookie_next) {
		if (memcmp(sa->icookie, h->icookie, IKE_COOKIE_LEN) != 0)
			continue;
		if (memcmp(sa->rcookie, h->rcookie, IKE_COOKIE_LEN) == 0)
			return sa;
		/* Our MM1 went out before we knew the responder's cookie. */
		if (sa->initiator && sa->state == SA_MM_I1 &&
		    memcmp(sa->rcookie, zero, IKE_COOKIE_LEN) == 0)
			return sa;
		/* The initiator did not get our MM2 and sends its MM1 again. */
		if (!sa->initiator && sa->state == SA_MM_R1 &&
		    memcmp(h->rcookie, zero, IKE_COOKIE_LEN) == 0)
			return sa;
	}
	return NULL;
}

struct ike_sa *
ike_sa_of_peer(struct ike *ike, uint32_t peer_be)
{
	struct ike_satab *t = &ike->satab;
	struct ike_sa *sa = t->by_peer[slot(t, peer_be)];

	while (sa != NULL && sa->peer_be != peer_be)
		sa = sa->peer_next;
	return sa;
}

struct ike_sa *
ike_sa_next_of_peer(struct ike_sa *sa)
{
	uint32_t peer_be = sa->peer_be;

	for (sa = sa->peer_next; sa != NULL && sa->peer_be != peer_be; sa = sa->peer_next)
		;
	return sa;
}
