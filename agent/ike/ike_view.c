/*
 * Read-only views of the engine for metrics, the API and `show` commands:
 * per configured peer (cumulative counters), per ISAKMP SA, per IPsec SA
 * pair, and the engine-wide counters. Times are converted to wall-clock.
 */
#include "ike/ike_int.h"

#include <arpa/inet.h>
#include <string.h>


static enum ike_sa_view_state
view_state(const struct ike_sa *sa)
{
	if (sa == NULL)
		return IKE_VIEW_DOWN;
	switch (sa->state) {
	case SA_ESTABLISHED:
		return IKE_VIEW_ESTABLISHED;
	case SA_DEAD:
		return IKE_VIEW_DELETING;
	default:
		return IKE_VIEW_NEGOTIATING;
	}
}

static void
tunnel_view(const struct ike_tunnel *t, int64_t now, int64_t real_now, ike_tunnel_fn fn,
	    void *ctx)
{
	const struct ike_sa *sa = t->sa;
	struct ike_tunnel_view v;

	memset(&v, 0, sizeof(v));
	if (t->client != NULL) {
		v.dynamic = 1;
		v.client_port = t->client->port;
		v.client_addr_be = htonl(t->client->lease);
		v.user = t->client->user[0] != '\0' ? t->client->user : NULL;
	}
	v.map = t->conf->name;
	v.seq = t->conf->seq;
	v.up = t->up;
	v.initiate = t->conf->initiate;
	v.npeers = t->conf->npeers;
	memcpy(v.failovers, t->failovers, sizeof(v.failovers));
	for (size_t p = 0; p < t->conf->npeers; p++) {
		struct ike_peer_view *pv = &v.peers[p];
		int live = sa != NULL && sa->peer_be == t->conf->peers_be[p];

		pv->peer_be = t->conf->peers_be[p];
		pv->active = p == t->active;
		pv->up = t->up && pv->active;
		pv->state = live ? view_state(sa) : IKE_VIEW_DOWN;
		pv->dpd = t->ps[p].retired_dpd;
		pv->dpd_rtt_ms = t->ps[p].last_ack_ms ? t->ps[p].last_rtt_ms : -1;
		pv->dpd_last_ack_real_ms = t->ps[p].last_ack_ms ?
		    real_now - (now - t->ps[p].last_ack_ms) : 0;
		if (live) {
			dpd_counters_add(&pv->dpd, &sa->dpd.c);
			if (sa->dpd.last_rtt_ms >= 0 && sa->dpd.last_ack_ms != 0) {
				pv->dpd_rtt_ms = sa->dpd.last_rtt_ms;
				pv->dpd_last_ack_real_ms = real_now - (now - sa->dpd.last_ack_ms);
			}
			if (sa->state == SA_ESTABLISHED)
				pv->established_real_ms = real_now - (now - sa->established_ms);
		}
		memcpy(pv->failures, t->ps[p].failures, sizeof(pv->failures));
		if (live && sa->state == SA_ESTABLISHED)
			pv->last_rx_real_ms = real_now - (now - ike_sa_last_rx(sa));
		if (t->ps[p].dead_ms != 0) {
			pv->dead_real_ms = real_now - (now - t->ps[p].dead_ms);
			pv->dead_last_rx_real_ms = real_now - (now - t->ps[p].dead_last_rx_ms);
		}
		pv->rekeys = t->ps[p].rekeys;
		pv->transitions_up = t->ps[p].up;
		pv->transitions_down = t->ps[p].down;
	}
	fn(ctx, &v);
}

/* Every crypto map entry, then every remote-access client. */
void
ike_tunnels_view(struct ike *ike, int64_t now, int64_t real_now, ike_tunnel_fn fn, void *ctx)
{
	for (size_t i = 0; i < ike->ntunnels; i++)
		tunnel_view(&ike->tunnels[i], now, real_now, fn, ctx);
	for (const struct ike_client *cl = ike->clients; cl != NULL; cl = cl->next)
		tunnel_view(&cl->t, now, real_now, fn, ctx);
}

void
ike_pools_view(struct ike *ike, ike_pool_fn fn, void *ctx)
{
	for (size_t i = 0; i < ike->conf.npools && i < ike->npools; i++) {
		const struct ike_pool_conf *pc = &ike->conf.pools[i];
		struct ike_pool_view v;

		v.name = pc->name;
		v.start_be = htonl(pc->start);
		v.end_be = htonl(pc->end);
		v.size = (size_t)(pc->end - pc->start) + 1;
		v.in_use = ike->pools[i].inuse;
		v.exhausted = ike->pools[i].exhausted;
		fn(ctx, &v);
	}
}

void
ike_sas_view(struct ike *ike, int64_t now, ike_sa_fn fn, void *ctx)
{
	for (const struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		struct ike_sa_view v;

		memset(&v, 0, sizeof(v));
		v.peer_be = sa->peer_be;
		v.local_be = ike->conf.local_be;
		v.peer_port = sa->peer_port;
		v.local_port = sa->local_port;
		memcpy(v.icookie, sa->icookie, sizeof(v.icookie));
		memcpy(v.rcookie, sa->rcookie, sizeof(v.rcookie));
		v.state = ike_sa_state_names[sa->state];
		v.initiator = sa->initiator;
		v.encryption = sa->enc_key_len == 32 ? "aes-256" : "aes";
		v.hash = sa->hash == IKE_HASH_SHA256 ? "sha256" : "sha";
		v.auth = sa->auth == IKE_AUTH_METHOD_RSA ? "rsig" :
		    sa->auth == IKE_AUTH_METHOD_ECDSA_P256 ? "ecdsa" : "psk";
		v.group = sa->group;
		v.lifetime_left_s = sa->state == SA_ESTABLISHED ? (sa->expire_ms - now) / 1000 : -1;
		v.dpd = sa->dpd.state != DPD_DISABLED;
		v.nat_t = sa->floated;
		v.nat_detected = !sa->natd_seen ? NULL :
		    sa->tunnel != NULL && sa->tunnel->conf->force_encap ? "forced" :
		    sa->nat_here && sa->nat_there ? "both" : sa->nat_here ? "local" :
		    sa->nat_there ? "peer" : "none";
		if (sa->tunnel != NULL) {
			v.map = sa->tunnel->conf->name;
			v.seq = sa->tunnel->conf->seq;
		}
		fn(ctx, &v);
	}
}

static void
children_view(const struct ike_tunnel *t, int64_t now, ike_child_fn fn, void *ctx)
{
	for (size_t k = 0; k < t->nchildren; k++) {
		struct ike_child_view v;

		v.map = t->conf->name;
		v.seq = t->conf->seq;
		v.sa = t->children[k].sa;
		v.lifetime_left_s = (int64_t)v.sa.lifetime_s - (now - v.sa.created_ms) / 1000;
		fn(ctx, &v);
	}
}

void
ike_children_view(struct ike *ike, int64_t now, ike_child_fn fn, void *ctx)
{
	for (size_t i = 0; i < ike->ntunnels; i++)
		children_view(&ike->tunnels[i], now, fn, ctx);
	for (const struct ike_client *cl = ike->clients; cl != NULL; cl = cl->next)
		children_view(&cl->t, now, fn, ctx);
}

void
ike_stats_view(const struct ike *ike, struct ike_stats_view *out)
{
	memset(out, 0, sizeof(*out));
	out->rx_packets = ike->st.rx_packets;
	out->tx_packets = ike->st.tx_packets;
	out->retransmits = ike->st.retransmits;
	out->established = ike->st.established;
	out->failures = ike->st.failures;
	memcpy(out->drops, ike->st.drops, sizeof(out->drops));
	memcpy(out->err_notifies, ike->st.err_notifies, sizeof(out->err_notifies));
	out->err_notifies_suppressed = ike->st.err_suppressed;
	out->halfopen = ike->guard.halfopen;
	out->halfopen_max = ike->conf.halfopen_max;
	out->clients = ike->nclients;
	out->clients_connected = ike->ra.connected;
	out->xauth_ok = ike->ra.xauth_ok;
	out->xauth_failed = ike->ra.xauth_failed;
	out->xauth_rate_limited = ike->ra.xauth_rate_limited;
}
