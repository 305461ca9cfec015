/*
 * Remote-access clients: a peer that authenticated as a responder
 * and that no crypto map names is taken by the first dynamic crypto map
 * entry that fits it. It gets a tunnel of its own (the entry's transforms,
 * its address as the only peer), so pairs, DPD, counters and views work as
 * for a site-to-site tunnel; the client's lease comes from the entry's
 * pool. Clients are found by address and port (several behind one NAT),
 * never by a walk over all of them.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ---- the table ------------------------------------------------------------------ */

#define CLIENT_FIRST_BITS 6

static size_t
client_slot(const struct ike *ike, uint32_t peer_be)
{
	return hash32(peer_be) & (((size_t)1 << ike->client_bits) - 1);
}

static void
hash_insert(struct ike *ike, struct ike_client *cl)
{
	size_t s = client_slot(ike, cl->peer_be);

	cl->hnext = ike->client_hash[s];
	ike->client_hash[s] = cl;
}

/* Chains average at most one client: the table doubles as clients come. */
static void
client_link(struct ike *ike, struct ike_client *cl)
{
	cl->prev = NULL;
	cl->next = ike->clients;
	if (ike->clients != NULL)
		ike->clients->prev = cl;
	ike->clients = cl;
	if (ike->client_hash == NULL || ike->nclients >= (size_t)1 << ike->client_bits) {
		ike->client_bits = ike->client_hash == NULL ? CLIENT_FIRST_BITS :
		    ike->client_bits + 1;
		free(ike->client_hash);
		ike->client_hash = xcalloc((size_t)1 << ike->client_bits, sizeof(*ike->client_hash));
		for (struct ike_client *o = ike->clients->next; o != NULL; o = o->next)
			hash_insert(ike, o);
	}
	hash_insert(ike, cl);
	ike->nclients++;
}

static void
client_unlink(struct ike *ike, struct ike_client *cl)
{
	struct ike_client **pp;

	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		ike->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	for (pp = &ike->client_hash[client_slot(ike, cl->peer_be)]; *pp != cl; pp = &(*pp)->hnext)
		;
	*pp = cl->hnext;
	ike->nclients--;
}

struct ike_client *
ike_client_of_peer(struct ike *ike, uint32_t peer_be)
{
	struct ike_client *cl;

	if (ike->client_hash == NULL)
		return NULL;
	for (cl = ike->client_hash[client_slot(ike, peer_be)]; cl != NULL; cl = cl->hnext)
		if (cl->peer_be == peer_be)
			return cl;
	return NULL;
}

struct ike_client *
ike_client_next_of_peer(struct ike_client *cl)
{
	uint32_t peer_be = cl->peer_be;

	for (cl = cl->hnext; cl != NULL; cl = cl->hnext)
		if (cl->peer_be == peer_be)
			return cl;
	return NULL;
}

const struct ike_dynmap_conf *
ike_client_dynmap(const struct ike_client *cl)
{
	return &cl->t.ike->conf.dynmaps[cl->dynmap];
}

/* ---- leases ------------------------------------------------------------------------ */

static size_t
pool_size(const struct ike_pool_conf *pc)
{
	return (size_t)(pc->end - pc->start) + 1;
}

static int
lease_taken(const struct ike_pool *p, uint32_t i)
{
	return (p->used[i / 64] >> (i % 64)) & 1;
}

static void
lease_mark(struct ike_pool *p, uint32_t i, int on)
{
	if (on)
		p->used[i / 64] |= (uint64_t)1 << (i % 64);
	else
		p->used[i / 64] &= ~((uint64_t)1 << (i % 64));
	p->inuse = on ? p->inuse + 1 : p->inuse - 1;
}

/* Network and broadcast addresses of the pool's netmask are not handed
 * out: a client with one could not be told apart from the subnet. */
static int
lease_usable(const struct ike_pool_conf *pc, uint32_t a)
{
	uint32_t mask = ntohl(pc->netmask_be);

	if (mask == 0xffffffffu || mask == 0xfffffffeu)
		return 1;
	return (a & ~mask) != 0 && (a & ~mask) != ~mask;
}

/* An older connection of the same peer (its address and identity) on the
 * same entry, holding a lease: the client reauthenticates with a new
 * ISAKMP SA (as strongSwan does in IKEv1, and IOS clients after a
 * lifetime), or reconnects before DPD noticed the old one. NULL if none. */
static struct ike_client *
older_self(struct ike_client *cl)
{
	for (struct ike_client *o = ike_client_of_peer(cl->t.ike, cl->peer_be); o != NULL;
	     o = ike_client_next_of_peer(o)) {
		if (o != cl && o->lease != 0 && o->dynmap == cl->dynmap && o->t.sa != NULL &&
		    cl->t.sa != NULL && ike_sa_same_peer(o->t.sa, cl->t.sa))
			return o;
	}
	return NULL;
}

uint32_t
ike_client_take_over(struct ike_client *cl, struct ike_client *old, int64_t now)
{
	struct ike_tunnel *t = &cl->t, *o = &old->t;
	char ip[16], a[16];

	while (o->nchildren > 0) {
		if (t->nchildren == t->children_cap) {
			t->children_cap = t->children_cap ? 2 * t->children_cap : 1;
			t->children = xreallocarray(t->children, t->children_cap, sizeof(*t->children));
		}
		t->children[t->nchildren++] = o->children[--o->nchildren];
	}
	ike_tunnel_children_arm(o);
	ike_tunnel_children_arm(t);
	if (t->nchildren > 0)
		ike_tunnel_up(t, now);
	cl->lease = old->lease;
	cl->cfg_done = 1;		/* it has its address: it is using it */
	old->lease = 0;
	log_info("ISAKMP: client %s:%u authenticated again: its new SA takes address %s and "
		 "its %zu SA pair(s)", ipv4_str(cl->peer_be, ip), cl->port,
		 ipv4_str(htonl(cl->lease), a), t->nchildren);
	return cl->lease;
}

uint32_t
ike_client_lease(struct ike_client *cl, uint32_t want, int64_t now)
{
	struct ike *ike = cl->t.ike;
	const struct ike_dynmap_conf *dm = ike_client_dynmap(cl);
	const struct ike_pool_conf *pc;
	struct ike_client *old;
	struct ike_pool *p;
	size_t n;
	char ip[16];

	if (cl->lease != 0 || dm->pool < 0)
		return cl->lease;
	pc = &ike->conf.pools[dm->pool];
	p = &ike->pools[dm->pool];
	n = pool_size(pc);
	/* Its own older connection's address (asked for again, or pushed),
	 * else the address it asks for when that one is free, else the next
	 * free one after the last given. */
	if ((old = older_self(cl)) != NULL && (want == 0 || want == old->lease))
		return ike_client_take_over(cl, old, now);
	if (want >= pc->start && want <= pc->end && lease_usable(pc, want) &&
	    !lease_taken(p, want - pc->start)) {
		lease_mark(p, want - pc->start, 1);
		return cl->lease = want;
	}
	for (size_t k = 0; k < n && p->inuse < n; k++) {
		uint32_t i = (uint32_t)((p->cursor + k) % n);

		if (lease_taken(p, i) || !lease_usable(pc, pc->start + i))
			continue;
		lease_mark(p, i, 1);
		p->cursor = (uint32_t)((i + 1) % n);
		return cl->lease = pc->start + i;
	}
	p->exhausted++;
	log_warnx("%%CRYPTO-4-POOL_EXHAUSTED: ip local pool %s has no free address; client %s:%u "
		  "refused (%u of %zu in use)", pc->name, ipv4_str(cl->peer_be, ip), cl->port,
		  p->inuse, n);
	return 0;
}

static void
lease_release(struct ike_client *cl)
{
	struct ike *ike = cl->t.ike;
	const struct ike_dynmap_conf *dm;
	const struct ike_pool_conf *pc;

	if (cl->lease == 0 || cl->lease_outside || (dm = ike_client_dynmap(cl))->pool < 0)
		return;
	pc = &ike->conf.pools[dm->pool];
	if (cl->lease >= pc->start && cl->lease <= pc->end &&
	    lease_taken(&ike->pools[dm->pool], cl->lease - pc->start))
		lease_mark(&ike->pools[dm->pool], cl->lease - pc->start, 0);
	cl->lease = 0;
}

static void
pools_free(struct ike_pool *pools, size_t n)
{
	for (size_t i = 0; pools != NULL && i < n; i++)
		free(pools[i].used);
	free(pools);
}

/* ---- clients ----------------------------------------------------------------------- */

/* The entry for a client: the first (in the order they are tried) whose
 * XAUTH setting is what the client negotiated in Main Mode. */
static int
dynmap_for(const struct ike *ike, const struct ike_sa *sa)
{
	for (size_t i = 0; i < ike->conf.ndynmaps; i++) {
		if (ike->conf.dynmaps[i].xauth == sa->xauth)
			return (int)i;
	}
	return -1;
}

int
ike_client_attach(struct ike_sa *sa, int64_t now)
{
	struct ike *ike = sa->ike;
	struct ike_client *cl;
	int dm = dynmap_for(ike, sa);
	char ip[16];

	if (dm < 0) {
		ike->ra.no_dynmap++;
		if (ike->conf.ndynmaps > 0)
			log_warnx("ISAKMP: %s:%u authenticated %s XAUTH, and no dynamic crypto map "
				  "takes such clients", ipv4_str(sa->peer_be, ip), sa->peer_port,
				  sa->xauth ? "for" : "without");
		return -1;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->peer_be = sa->peer_be;
	cl->port = sa->peer_port;
	cl->dynmap = dm;
	cl->map = ike->conf.dynmaps[dm].map;
	cl->map.peers_be[0] = sa->peer_be;
	cl->map.npeers = 1;
	cl->map.initiate = 0;
	cl->connected_ms = now;
	cl->xauth_ok = !sa->xauth;
	cl->t.ike = ike;
	cl->t.client = cl;
	cl->t.conf = &cl->map;
	cl->t.ps = &cl->ps;
	cl->t.sa = sa;
	sa->tunnel = &cl->t;
	ike_tunnel_timers_init(ike, &cl->t);
	client_link(ike, cl);
	ike->ra.connected++;
	log_info("ISAKMP: remote-access client %s:%u on dynamic crypto map %s %u%s",
		 ipv4_str(sa->peer_be, ip), sa->peer_port, cl->map.name, cl->map.seq,
		 sa->xauth ? " (XAUTH)" : "");
	/* XAUTH and Mode Config begin once the Main Mode message that made
	 * the client is done with (a timer due now). */
	cl->t.retry_ms = now;
	ike_tunnel_retry_arm(&cl->t);
	return 0;
}

void
ike_client_free(struct ike_client *cl)
{
	struct ike *ike = cl->t.ike;
	char ip[16], lease[16];

	cl->going = 1;
	log_info("ISAKMP: remote-access client %s:%u gone%s%s", ipv4_str(cl->peer_be, ip), cl->port,
		 cl->lease ? "; address released: " : "",
		 cl->lease ? ipv4_str(htonl(cl->lease), lease) : "");
	lease_release(cl);
	ike_tx_free(cl->tx_out);
	ike_tx_free(cl->tx_in);
	ike_tunnel_timers_cancel(&cl->t);
	free(cl->t.children);
	client_unlink(ike, cl);
	OPENSSL_cleanse(cl, sizeof(*cl));
	free(cl);
}

int
ike_client_ready(const struct ike_client *cl)
{
	return cl->xauth_ok && (ike_client_dynmap(cl)->pool < 0 || cl->cfg_done);
}

/* ---- selectors ---------------------------------------------------------------------- */

/* a within b (prefixes as address and mask) */
static int
net_within(uint32_t a_be, uint32_t am_be, uint32_t b_be, uint32_t bm_be)
{
	uint32_t am = ntohl(am_be), bm = ntohl(bm_be);

	return (am & bm) == bm && (ntohl(a_be) & bm) == (ntohl(b_be) & bm);
}

/* One side proposed (p) against one side allowed (a): the proposal when it
 * is within, the allowed prefix when the proposal covers it (narrowed). */
static int
side_fit(uint32_t *p_be, uint32_t *pm_be, uint32_t a_be, uint32_t am_be)
{
	if (net_within(*p_be, *pm_be, a_be, am_be))
		return 0;
	if (net_within(a_be, am_be, *p_be, *pm_be)) {
		*p_be = a_be;
		*pm_be = am_be;
		return 0;
	}
	return -1;
}

int
ike_client_selector(struct ike_client *cl, struct ike_selector *sel)
{
	const struct ike_map_conf *m = &ike_client_dynmap(cl)->map;

	/* The client's side is its lease, when it has one. */
	if (cl->lease != 0 &&
	    (sel->dst_be != htonl(cl->lease) || sel->dst_mask_be != 0xffffffffu))
		return -1;
	if (m->nsel == 0)
		return 0;
	for (size_t i = 0; i < m->nsel; i++) {
		struct ike_selector s = *sel;

		if (side_fit(&s.src_be, &s.src_mask_be, m->sel[i].src_be, m->sel[i].src_mask_be) ==
		    0 &&
		    side_fit(&s.dst_be, &s.dst_mask_be, m->sel[i].dst_be, m->sel[i].dst_mask_be) ==
		    0) {
			*sel = s;
			return 0;
		}
	}
	return -1;
}

/* ---- configuration ------------------------------------------------------------------ */

static int
dynmap_index(const struct ike *ike, const char *name, unsigned seq)
{
	for (size_t i = 0; i < ike->conf.ndynmaps; i++) {
		if (ike->conf.dynmaps[i].map.seq == seq &&
		    strcmp(ike->conf.dynmaps[i].map.name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* After a configuration: the pools are made anew and the leases of the
 * clients that stay marked again; a client whose entry went, or whose XAUTH
 * setting changed, goes down (its peer told). The others take the entry's
 * new transforms and lifetimes for their next pairs. Runs once per
 * configuration, not per packet. */
void
ike_clients_configure(struct ike *ike, int64_t now)
{
	struct ike_client *cl, *next;

	pools_free(ike->pools, ike->npools);
	ike->npools = ike->conf.npools;
	ike->pools = xcalloc(ike->conf.npools ? ike->conf.npools : 1, sizeof(*ike->pools));
	for (size_t i = 0; i < ike->conf.npools; i++)
		ike->pools[i].used = xcalloc((pool_size(&ike->conf.pools[i]) + 63) / 64,
					     sizeof(uint64_t));
	for (cl = ike->clients; cl != NULL; cl = next) {
		int dm = dynmap_index(ike, cl->map.name, cl->map.seq);
		const struct ike_dynmap_conf *d;

		next = cl->next;
		if (dm < 0 || ike->conf.dynmaps[dm].xauth != (cl->t.sa ? cl->t.sa->xauth : 0)) {
			cl->lease = 0;	/* its pool may be gone: nothing to give back */
			ike_tunnel_down(ike, &cl->t, IKE_DOWN_CLEARED, now);
			continue;
		}
		cl->dynmap = dm;
		d = &ike->conf.dynmaps[dm];
		memcpy(cl->map.xforms, d->map.xforms, sizeof(cl->map.xforms));
		cl->map.nxforms = d->map.nxforms;
		cl->map.pfs_group = d->map.pfs_group;
		cl->map.lifetime_s = d->map.lifetime_s;
		cl->map.lifetime_kb = d->map.lifetime_kb;
		if (cl->lease != 0 && d->pool >= 0) {
			const struct ike_pool_conf *pc = &ike->conf.pools[d->pool];
			struct ike_pool *p = &ike->pools[d->pool];

			/* Out of the pool (or another's in it now): the client
			 * keeps its address until it goes, the pool does not
			 * get it back. */
			cl->lease_outside = cl->lease < pc->start || cl->lease > pc->end ||
			    lease_taken(p, cl->lease - pc->start);
			if (!cl->lease_outside)
				lease_mark(p, cl->lease - pc->start, 1);
		}
	}
}

void
ike_clients_free(struct ike *ike)
{
	while (ike->clients != NULL) {
		struct ike_client *cl = ike->clients;

		cl->lease = 0;
		ike_client_free(cl);
	}
	free(ike->client_hash);
	ike->client_hash = NULL;
	pools_free(ike->pools, ike->npools);
	ike->pools = NULL;
	ike->npools = 0;
}
