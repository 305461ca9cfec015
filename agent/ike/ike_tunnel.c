/*
 * Tunnels, one per crypto map entry with its ordered peer list: the
 * configuration that makes them (incremental: a surviving entry keeps its
 * tunnel, found by name and sequence in a hash, not by comparing every old
 * entry with every new one), the indexes that find them by peer address
 * and the keys by peer, their pairs, and the UP/DOWN transitions
 * with failover down the peer list.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ---- indexes (rebuilt with each configuration) --------------------------------- */

static size_t
tidx_slot(uint32_t key, size_t cap)
{
	return hash32(key) & (cap - 1);
}

/* The slot of key, or the empty one where it would go. */
static struct ike_tidx_slot *
tidx_find(const struct ike_tidx *x, uint32_t key)
{
	size_t i = tidx_slot(key, x->cap);

	while (x->slots[i].first != 0 && x->slots[i].key != key)
		i = (i + 1) & (x->cap - 1);
	return &x->slots[i];
}

/* Appends value under key (entries of a key keep the order they came in). */
static void
tidx_add(struct ike_tidx *x, uint32_t key, uint32_t value)
{
	struct ike_tidx_slot *s = tidx_find(x, key);
	uint32_t e = (uint32_t)x->nent++;

	x->ent[e].value = value;
	x->ent[e].next = 0;
	if (s->first == 0) {
		s->key = key;
		s->first = e + 1;
	} else {
		x->ent[s->last - 1].next = e + 1;
	}
	s->last = e + 1;
}

static void
tidx_reset(struct ike_tidx *x, size_t entries)
{
	size_t cap = 16;

	while (cap < 2 * entries)
		cap *= 2;
	free(x->slots);
	free(x->ent);
	x->slots = xcalloc(cap, sizeof(*x->slots));
	x->ent = xcalloc(entries ? entries : 1, sizeof(*x->ent));
	x->cap = cap;
	x->nent = 0;
}

/* Tunnels by each peer of their list; keys for single addresses (/32) by
 * address, the others (subnets, the wild card) on a short list. */
static void
indexes_build(struct ike *ike)
{
	size_t npeers = 0, nwide = 0;

	for (size_t i = 0; i < ike->ntunnels; i++)
		npeers += ike->tunnels[i].conf->npeers;
	tidx_reset(&ike->tidx, npeers);
	for (size_t i = 0; i < ike->ntunnels; i++) {
		const struct ike_map_conf *m = ike->tunnels[i].conf;

		for (size_t p = 0; p < m->npeers; p++) {
			if (ike_tunnel_peer(&ike->tunnels[i], m->peers_be[p]) == (int)p)
				tidx_add(&ike->tidx, m->peers_be[p], (uint32_t)i);
		}
	}
	tidx_reset(&ike->pskidx, ike->conf.npsks);
	for (size_t i = 0; i < ike->conf.npsks; i++) {
		const struct ike_psk_conf *k = &ike->conf.psks[i];

		if (k->mask_be == 0xffffffffu)
			tidx_add(&ike->pskidx, k->addr_be, (uint32_t)i);
		else
			ike->psk_wide[nwide++] = (uint32_t)i;
	}
	ike->npsk_wide = nwide;
}

/* ---- configuration ------------------------------------------------------------ */

void
ike_conf_free(struct ike_conf *c)
{
	if (c->psks) {
		OPENSSL_cleanse(c->psks, c->npsks * sizeof(*c->psks));
		free(c->psks);
	}
	free(c->maps);
	free(c->pools);
	free(c->dynmaps);
	if (c->users != NULL) {
		OPENSSL_cleanse(c->users, c->nusers * sizeof(*c->users));
		free(c->users);
	}
	free(c->cert_pem);
	free_secret(c->key_pem);
	free(c->cas_pem);
	free(c->crls_pem);
	c->psks = NULL;
	c->maps = NULL;
	c->pools = NULL;
	c->dynmaps = NULL;
	c->users = NULL;
	c->cert_pem = c->key_pem = c->cas_pem = c->crls_pem = NULL;
}

static void *
array_copy(const void *src, size_t n, size_t size)
{
	void *dst = xcalloc(n ? n : 1, size);

	if (n > 0)
		memcpy(dst, src, n * size);
	return dst;
}

static int
map_same_peers(const struct ike_map_conf *a, const struct ike_map_conf *b)
{
	return a->npeers == b->npeers &&
	    memcmp(a->peers_be, b->peers_be, a->npeers * sizeof(a->peers_be[0])) == 0;
}

static uint32_t
map_key(const char *name, unsigned seq)
{
	uint32_t h = 2166136261u ^ seq;		/* FNV-1a */

	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The old tunnel a new entry continues (same name, sequence and peers)
 * and that no other entry took; NULL when none. */
static struct ike_tunnel *
old_tunnel(struct ike_tidx *byname, struct ike_tunnel *old, const uint8_t *taken,
	   const struct ike_map_conf *m)
{
	const struct ike_tidx_slot *s = tidx_find(byname, map_key(m->name, m->seq));

	for (uint32_t e = s->first; e != 0; e = byname->ent[e - 1].next) {
		uint32_t j = byname->ent[e - 1].value;
		const struct ike_map_conf *o = old[j].conf;

		if (!taken[j] && o->seq == m->seq && strcmp(o->name, m->name) == 0 &&
		    map_same_peers(o, m))
			return &old[j];
	}
	return NULL;
}

/* A tunnel that goes with its crypto map entry: its pairs leave the
 * dataplane (with a Delete), then its SA. */
static void
tunnel_gone(struct ike *ike, struct ike_tunnel *t, int64_t now)
{
	while (t->nchildren > 0)
		ike_child_remove(ike, t, t->nchildren - 1, IKE_TELL_PEER, now);
	ike_tunnel_timers_cancel(t);
	free(t->children);
	if (t->sa != NULL)
		ike_sa_delete(t->sa, IKE_TELL_PEER, now);
	free(t->ps);
}

void
ike_configure(struct ike *ike, const struct ike_conf *conf, int64_t now)
{
	struct ike_tunnel *old = ike->tunnels, *nt;
	struct ike_map_conf *old_maps = ike->conf.maps;	/* the old tunnels' entries */
	size_t nold = ike->ntunnels;
	struct ike_tidx byname = { 0 };
	uint8_t *taken = xcalloc(nold ? nold : 1, 1);

	ike->conf.maps = NULL;
	ike_conf_free(&ike->conf);
	ike->conf = *conf;
	ike->conf.psks = xcalloc(conf->npsks ? conf->npsks : 1, sizeof(*conf->psks));
	if (conf->npsks > 0)
		memcpy(ike->conf.psks, conf->psks, conf->npsks * sizeof(*conf->psks));
	ike->conf.maps = xcalloc(conf->nmaps ? conf->nmaps : 1, sizeof(*conf->maps));
	if (conf->nmaps > 0)
		memcpy(ike->conf.maps, conf->maps, conf->nmaps * sizeof(*conf->maps));
	ike->conf.pools = array_copy(conf->pools, conf->npools, sizeof(*conf->pools));
	ike->conf.dynmaps = array_copy(conf->dynmaps, conf->ndynmaps, sizeof(*conf->dynmaps));
	ike->conf.users = array_copy(conf->users, conf->nusers, sizeof(*conf->users));
	ike->conf.cert_pem = conf->cert_pem ? xstrdup(conf->cert_pem) : NULL;
	ike->conf.key_pem = conf->key_pem ? xstrdup(conf->key_pem) : NULL;
	ike->conf.cas_pem = conf->cas_pem ? xstrdup(conf->cas_pem) : NULL;
	ike->conf.crls_pem = conf->crls_pem ? xstrdup(conf->crls_pem) : NULL;
	ike_pki_free(ike->pki);		/* parsed once per configuration */
	ike->pki = ike_pki_new(&ike->conf);
	ike_guard_configure(ike);

	/* Tunnels whose map (name, sequence, peers) survives keep their state;
	 * the array moves, so their timers are armed again where it lands. */
	for (size_t j = 0; j < nold; j++)
		ike_tunnel_timers_cancel(&old[j]);
	tidx_reset(&byname, nold);
	for (size_t j = 0; j < nold; j++)
		tidx_add(&byname, map_key(old[j].conf->name, old[j].conf->seq), (uint32_t)j);
	nt = xcalloc(conf->nmaps, sizeof(*nt));
	for (size_t i = 0; i < conf->nmaps; i++) {
		const struct ike_map_conf *m = &ike->conf.maps[i];
		struct ike_tunnel *o = old_tunnel(&byname, old, taken, m);

		if (o != NULL) {
			nt[i] = *o;
			taken[o - old] = 1;
		} else {
			nt[i].ps = xcalloc(m->npeers ? m->npeers : 1, sizeof(*nt[i].ps));
		}
		nt[i].conf = m;
		if (nt[i].sa == NULL && m->initiate && m->npeers > 0)
			nt[i].retry_ms = now;
	}
	free(byname.slots);
	free(byname.ent);
	/* SAs of tunnels that went away lose them; the kept ones move. */
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->tunnel != NULL && sa->tunnel >= old && sa->tunnel < old + nold)
			sa->tunnel = NULL;
	}
	for (size_t i = 0; i < conf->nmaps; i++) {
		if (nt[i].sa != NULL)
			nt[i].sa->tunnel = &nt[i];
		ike_tunnel_timers_init(ike, &nt[i]);
	}
	for (size_t j = 0; j < nold; j++) {
		if (!taken[j])
			tunnel_gone(ike, &old[j], now);
	}
	free(taken);
	free(old);
	free(old_maps);
	ike->tunnels = nt;
	ike->ntunnels = conf->nmaps;
	free(ike->psk_wide);
	ike->psk_wide = xcalloc(conf->npsks ? conf->npsks : 1, sizeof(*ike->psk_wide));
	indexes_build(ike);
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->state == SA_ESTABLISHED) {
			dpd_reconfigure(&sa->dpd, &ike->conf.dpd, now);
			ike_sa_established_timers(sa, now);
		}
	}
	ike_clients_configure(ike, now);
}

/* ---- lookups ------------------------------------------------------------------ */

const struct ike_psk_conf *
ike_psk_for(const struct ike *ike, uint32_t peer_be)
{
	const struct ike_psk_conf *best = NULL;
	const struct ike_tidx_slot *s;

	if (ike->pskidx.cap != 0 && (s = tidx_find(&ike->pskidx, peer_be))->first != 0)
		return &ike->conf.psks[ike->pskidx.ent[s->first - 1].value];
	/* Else the most specific subnet key; 0.0.0.0/0 is the wild card. */
	for (size_t w = 0; w < ike->npsk_wide; w++) {
		const struct ike_psk_conf *p = &ike->conf.psks[ike->psk_wide[w]];

		if ((peer_be & p->mask_be) != (p->addr_be & p->mask_be))
			continue;
		if (best == NULL || ntohl(p->mask_be) > ntohl(best->mask_be))
			best = p;
	}
	return best;
}

/* The tunnels that list peer_be: the first entry, then each next. */
static uint32_t
tunnels_of(const struct ike *ike, uint32_t peer_be)
{
	return ike->tidx.cap == 0 ? 0 : tidx_find(&ike->tidx, peer_be)->first;
}

struct ike_tunnel *
ike_tunnel_for_peer(struct ike *ike, uint32_t peer_be)
{
	uint32_t first = tunnels_of(ike, peer_be);

	/* One whose active peer it is, else the first that lists it. */
	for (uint32_t e = first; e != 0; e = ike->tidx.ent[e - 1].next) {
		struct ike_tunnel *t = &ike->tunnels[ike->tidx.ent[e - 1].value];

		if (t->conf->peers_be[t->active] == peer_be)
			return t;
	}
	return first != 0 ? &ike->tunnels[ike->tidx.ent[first - 1].value] : NULL;
}

struct ike_tunnel *
ike_tunnel_each_of_peer(struct ike *ike, uint32_t peer_be, uint32_t *cursor)
{
	uint32_t e = *cursor == 0 ? tunnels_of(ike, peer_be) : ike->tidx.ent[*cursor - 1].next;

	*cursor = e;
	return e != 0 ? &ike->tunnels[ike->tidx.ent[e - 1].value] : NULL;
}

int
ike_selector_equal(const struct ike_selector *a, const struct ike_selector *b)
{
	return a->src_be == b->src_be && a->src_mask_be == b->src_mask_be &&
	    a->dst_be == b->dst_be && a->dst_mask_be == b->dst_mask_be &&
	    a->proto == b->proto && a->src_port == b->src_port && a->dst_port == b->dst_port;
}

struct ike_tunnel *
ike_tunnel_for_selector(struct ike *ike, uint32_t peer_be, const struct ike_selector *sel)
{
	for (uint32_t e = tunnels_of(ike, peer_be); e != 0; e = ike->tidx.ent[e - 1].next) {
		struct ike_tunnel *t = &ike->tunnels[ike->tidx.ent[e - 1].value];

		for (size_t s = 0; s < t->conf->nsel; s++) {
			if (ike_selector_equal(&t->conf->sel[s], sel))
				return t;
		}
	}
	return NULL;
}

int
ike_tunnel_peer(const struct ike_tunnel *t, uint32_t peer_be)
{
	for (size_t i = 0; i < t->conf->npeers; i++) {
		if (t->conf->peers_be[i] == peer_be)
			return (int)i;
	}
	return -1;
}

/* ---- pairs and transitions ------------------------------------------------------ */

/* Counters are per configured peer for the life of the process: an SA's
 * DPD totals move into its tunnel when it goes. */
void
ike_tunnel_retire_sa(struct ike_tunnel *t, struct ike_sa *sa)
{
	int p = ike_tunnel_peer(t, sa->peer_be);

	if (p < 0)
		return;
	dpd_counters_add(&t->ps[p].retired_dpd, &sa->dpd.c);
	memset(&sa->dpd.c, 0, sizeof(sa->dpd.c));
	if (sa->dpd.last_rtt_ms >= 0 && sa->dpd.last_ack_ms != 0) {
		t->ps[p].last_rtt_ms = sa->dpd.last_rtt_ms;
		t->ps[p].last_ack_ms = sa->dpd.last_ack_ms;
	}
}

void
ike_child_remove(struct ike *ike, struct ike_tunnel *t, size_t k, enum ike_tell tell,
		 int64_t now)
{
	struct ike_child *c = &t->children[k];

	if (tell == IKE_TELL_PEER && t->sa != NULL && t->sa->state == SA_ESTABLISHED) {
		uint8_t spi[4] = { (uint8_t)(c->sa.spi_in >> 24), (uint8_t)(c->sa.spi_in >> 16),
				   (uint8_t)(c->sa.spi_in >> 8), (uint8_t)c->sa.spi_in };

		ike_info_send_delete(t->sa, IKE_PROTO_IPSEC_ESP, spi, 4, 1, now);
	}
	if (ike->dp.remove)
		ike->dp.remove(ike->dp.ctx, c->sa.spi_in, c->sa.spi_out);
	OPENSSL_cleanse(c, sizeof(*c));
	memmove(c, c + 1, (t->nchildren - k - 1) * sizeof(*c));
	t->nchildren--;
}

void
ike_tunnel_up(struct ike_tunnel *t, int64_t now)
{
	char ip[16];

	if (t->up)
		return;
	t->up = 1;
	t->transitions_up++;
	t->ps[t->active].up++;
	ipv4_str(t->conf->peers_be[t->active], ip);
	log_info("%%CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP. Peer %s:%d Id: %s (map %s %u)",
		 ip, t->client != NULL ? t->client->port : IKE_PORT, ip, t->conf->name, t->conf->seq);
}

void
ike_tunnel_down(struct ike *ike, struct ike_tunnel *t, enum ike_down why, int64_t now)
{
	static const enum ike_failover_reason failover[] = {
		[IKE_DOWN_DPD] = IKE_FAILOVER_DPD,
		[IKE_DOWN_NEGOTIATION] = IKE_FAILOVER_IKE,
	};
	char ip[16], next[16];

	if (t->client != NULL) {
		if (t->client->going)
			return;
		t->client->going = 1;	/* its SA's deletion must not come back here */
	}
	ipv4_str(t->conf->peers_be[t->active], ip);
	while (t->nchildren > 0)
		ike_child_remove(ike, t, t->nchildren - 1, IKE_QUIET, now);
	ike_tunnel_children_arm(t);
	if (t->sa != NULL)
		ike_sa_delete(t->sa, why == IKE_DOWN_CLEARED ? IKE_TELL_PEER : IKE_QUIET, now);
	if (t->up) {
		t->up = 0;
		t->transitions_down++;
		t->ps[t->active].down++;
		log_info("%%CRYPTO-5-SESSION_STATUS: Crypto tunnel is DOWN. Peer %s:%d Id: %s",
			 ip, t->client != NULL ? t->client->port : IKE_PORT, ip);
	}
	if ((why == IKE_DOWN_DPD || why == IKE_DOWN_NEGOTIATION) && t->conf->npeers > 1) {
		t->active = (t->active + 1) % t->conf->npeers;
		t->failovers[failover[why]]++;
		log_info("crypto map %s %u: failing over (%s) from peer %s to peer %s", t->conf->name,
			 t->conf->seq, ike_failover_reason_names[failover[why]], ip,
			 ipv4_str(t->conf->peers_be[t->active], next));
	}
	if (t->client != NULL) {	/* a client does not come back: it reconnects */
		ike_client_free(t->client);
		return;
	}
	t->retry_ms = t->conf->initiate ? now : 0;
	ike_tunnel_retry_arm(t);
}
