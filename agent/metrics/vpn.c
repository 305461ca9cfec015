/*
 * Metrics source for the IKE engine (METRICS.md rows tunnel, ike_sa, dpd,
 * failover). Walks ike_tunnels_view; counters there are already cumulative
 * per configured peer, so nothing here keeps state.
 */
#include "metrics/vpn.h"
#include "core/util.h"
#include "esp/dataplane.h"
#include "ike/dpd.h"
#include "ike/ike.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>

static const struct metric_field dpd_fields[] = {
	{ M_DPD_R_U_THERE_SENT, offsetof(struct dpd_counters, r_u_there_sent) },
	{ M_DPD_R_U_THERE_RECEIVED, offsetof(struct dpd_counters, r_u_there_received) },
	{ M_DPD_R_U_THERE_ACK_SENT, offsetof(struct dpd_counters, ack_sent) },
	{ M_DPD_R_U_THERE_ACK_RECEIVED, offsetof(struct dpd_counters, ack_received) },
	{ M_DPD_RETRANSMISSIONS, offsetof(struct dpd_counters, retransmissions) },
	{ M_DPD_PEER_DEAD_EVENTS, offsetof(struct dpd_counters, peer_dead) },
	{ M_DPD_BAD_SEQUENCE, offsetof(struct dpd_counters, bad_sequence) },
};

/* One peer's rows, or the sum of the peers not listed. */
struct peer_sums {
	double              up, active, state[IKE_VIEW__COUNT];
	double              transitions_up, transitions_down, rekeys;
	double              failures[IKE_FAIL__COUNT];
	struct dpd_counters dpd;
};

static void
sums_add(struct peer_sums *s, const struct ike_peer_view *p)
{
	s->up += p->up;
	s->active += p->active;
	s->state[p->state]++;
	s->transitions_up += (double)p->transitions_up;
	s->transitions_down += (double)p->transitions_down;
	s->rekeys += (double)p->rekeys;
	for (int r = 0; r < IKE_FAIL__COUNT; r++)
		s->failures[r] += (double)p->failures[r];
	dpd_counters_add(&s->dpd, &p->dpd);
}

/* p: the one peer's view (its timestamps and RTT), NULL for a sum. */
static void
peer_rows(struct metrics_snapshot *snap, const char *peer, const char *map,
	  const struct peer_sums *s, const struct ike_peer_view *p)
{
	const char *pm[2] = { peer, map };

	metrics_add(snap, M_TUNNEL_UP, s->up, pm);
	metrics_add(snap, M_TUNNEL_STATE_TRANSITIONS, s->transitions_up,
		    (const char *[]){ peer, map, "up" });
	metrics_add(snap, M_TUNNEL_STATE_TRANSITIONS, s->transitions_down,
		    (const char *[]){ peer, map, "down" });
	metrics_add(snap, M_TUNNEL_ACTIVE_PEER, s->active, (const char *[]){ map, peer });
	for (int st = 0; st < IKE_VIEW__COUNT; st++)
		metrics_add(snap, M_IKE_SA_STATE, s->state[st],
			    (const char *[]){ peer, ike_view_state_names[st] });
	if (p != NULL)
		metrics_add(snap, M_IKE_SA_ESTABLISHED_TIMESTAMP,
			    (double)p->established_real_ms / 1000.0, pm);
	for (int r = 0; r < IKE_FAIL__COUNT; r++)
		metrics_add(snap, M_IKE_SA_NEGOTIATION_FAILURES, s->failures[r],
			    (const char *[]){ peer, ike_fail_reason_names[r] });
	metrics_add(snap, M_IKE_SA_REKEYS, s->rekeys, pm);
	metrics_add_fields(snap, dpd_fields, ARRAY_LEN(dpd_fields), &s->dpd, pm);
	if (p != NULL) {
		metrics_add(snap, M_DPD_RTT, p->dpd_rtt_ms < 0 ? 0 : (double)p->dpd_rtt_ms / 1000.0,
			    pm);
		metrics_add(snap, M_DPD_LAST_ACK_TIMESTAMP, (double)p->dpd_last_ack_real_ms / 1000.0,
			    pm);
	}
}

struct vpn_walk {
	struct metrics_snapshot *snap;
	size_t                   cap;		/* peers listed at most; 0: all */
	size_t                   peers, listed;
	struct peer_sums         others;
	size_t                   nothers;
	double                   others_initiate, others_failovers[IKE_FAILOVER__COUNT];
};

static void
count_peers(void *arg, const struct ike_tunnel_view *v)
{
	((struct vpn_walk *)arg)->peers += v->npeers;
}

static void
tunnel_rows(void *arg, const struct ike_tunnel_view *v)
{
	struct vpn_walk *w = arg;
	char map[160], peer[PEER_STR_LEN];
	int listed = 0;

	snprintf(map, sizeof(map), "%s %u", v->map, v->seq);
	for (size_t i = 0; i < v->npeers; i++) {
		const struct ike_peer_view *p = &v->peers[i];
		struct peer_sums one = { 0 };

		if (w->cap != 0 && w->peers > w->cap && (p->up || w->listed == w->cap)) {
			sums_add(&w->others, p);
			w->nothers++;
			continue;
		}
		sums_add(&one, p);
		peer_rows(w->snap, peer_str(p->peer_be, v->client_port, peer), map, &one, p);
		w->listed++;
		listed = 1;
	}
	if (!listed && v->npeers > 0) {
		w->others_initiate += v->initiate;
		for (int r = 0; r < IKE_FAILOVER__COUNT; r++)
			w->others_failovers[r] += (double)v->failovers[r];
		return;
	}
	metrics_add(w->snap, M_TUNNEL_INITIATOR, v->initiate, (const char *[]){ map });
	for (int r = 0; r < IKE_FAILOVER__COUNT; r++)
		metrics_add(w->snap, M_FAILOVER_FAILOVERS, (double)v->failovers[r],
			    (const char *[]){ map, ike_failover_reason_names[r] });
}

/* Engine-wide: what the IKE engine dropped and why. */
static void
engine_rows(struct metrics_snapshot *snap, const struct ike *ike)
{
	struct ike_stats_view st;

	ike_stats_view(ike, &st);
	for (int r = 0; r < IKE_DROP__COUNT; r++)
		metrics_add(snap, M_IKE_DROPPED_MESSAGES, (double)st.drops[r],
			    (const char *[]){ ike_drop_names[r] });
	for (int e = 0; e < IKE_ERR__COUNT; e++)
		metrics_add(snap, M_IKE_ERROR_NOTIFIES, (double)st.err_notifies[e],
			    (const char *[]){ ike_err_notify_names[e] });
	metrics_add(snap, M_IKE_HALFOPEN_SAS, (double)st.halfopen, NULL);
	metrics_add(snap, M_RA_CLIENTS, (double)st.clients, NULL);
	metrics_add(snap, M_RA_XAUTH, (double)st.xauth_ok, (const char *[]){ "ok" });
	metrics_add(snap, M_RA_XAUTH, (double)st.xauth_failed, (const char *[]){ "failed" });
	metrics_add(snap, M_RA_XAUTH, (double)st.xauth_rate_limited,
		    (const char *[]){ "rate_limited" });
}

/* Address pools: size, leases, clients refused. */
static void
pool_rows(void *arg, const struct ike_pool_view *v)
{
	struct metrics_snapshot *snap = arg;
	const char *pool[] = { v->name };

	metrics_add(snap, M_RA_POOL_ADDRESSES, (double)v->size, pool);
	metrics_add(snap, M_RA_POOL_IN_USE, (double)v->in_use, pool);
	metrics_add(snap, M_RA_POOL_EXHAUSTED, (double)v->exhausted, pool);
}

void
vpn_metrics_source(void *ctx, struct metrics_snapshot *snap)
{
	const struct vpn_metrics *vm = ctx;
	struct vpn_walk w = { .snap = snap, .cap = vm->peer_series };
	int64_t now = now_mono_ms(), real = now_real_ms();

	if (w.cap != 0)
		ike_tunnels_view(vm->ike, now, real, count_peers, &w);
	ike_tunnels_view(vm->ike, now, real, tunnel_rows, &w);
	if (w.nothers > 0) {
		const char *o = VPN_METRICS_OTHERS;

		peer_rows(snap, o, o, &w.others, NULL);
		metrics_add(snap, M_TUNNEL_INITIATOR, w.others_initiate, (const char *[]){ o });
		for (int r = 0; r < IKE_FAILOVER__COUNT; r++)
			metrics_add(snap, M_FAILOVER_FAILOVERS, w.others_failovers[r],
				    (const char *[]){ o, ike_failover_reason_names[r] });
	}
	engine_rows(snap, vm->ike);
	ike_pools_view(vm->ike, pool_rows, snap);
}

static const struct metric_field out_fields[] = {
	{ M_IPSEC_SA_ENCAPS_PACKETS, offsetof(struct esp_counters, packets) },
	{ M_IPSEC_SA_ENCRYPT_PACKETS, offsetof(struct esp_counters, encrypt_or_decrypt) },
	{ M_IPSEC_SA_DIGEST_PACKETS, offsetof(struct esp_counters, digest_or_verify) },
	{ M_IPSEC_SA_ENCAPS_BYTES, offsetof(struct esp_counters, bytes) },
};

static const struct metric_field in_fields[] = {
	{ M_IPSEC_SA_DECAPS_PACKETS, offsetof(struct esp_counters, packets) },
	{ M_IPSEC_SA_DECRYPT_PACKETS, offsetof(struct esp_counters, encrypt_or_decrypt) },
	{ M_IPSEC_SA_VERIFY_PACKETS, offsetof(struct esp_counters, digest_or_verify) },
	{ M_IPSEC_SA_DECAPS_BYTES, offsetof(struct esp_counters, bytes) },
};

static void
ipsec_peer_rows(struct metrics_snapshot *snap, const char *peer, const char *map,
		const struct esp_dp_peer_view *v)
{
	const char *pm[2] = { peer, map };

	metrics_add_fields(snap, out_fields, ARRAY_LEN(out_fields), &v->out, pm);
	metrics_add_fields(snap, in_fields, ARRAY_LEN(in_fields), &v->in, pm);
	for (int r = ESP_DROP_MALFORMED; r < ESP_DROP__COUNT; r++)
		metrics_add(snap, M_IPSEC_SA_DROPPED_PACKETS,
			    (double)(v->out.drops[r] + v->in.drops[r]),
			    (const char *[]){ peer, map, esp_drop_names[r] });
	metrics_add(snap, M_IPSEC_SA_REKEYS, (double)v->rekeys, pm);
}

struct ipsec_walk {
	struct metrics_snapshot *snap;
	size_t                   cap, listed;
	struct esp_dp_peer_view  others;
	size_t                   nothers;
};

static void
ipsec_rows(void *arg, const struct esp_dp_peer_view *v)
{
	struct ipsec_walk *w = arg;
	char peer[PEER_STR_LEN];

	if (w->cap != 0 && w->listed == w->cap) {
		esp_counters_add(&w->others.out, &v->out);
		esp_counters_add(&w->others.in, &v->in);
		w->others.rekeys += v->rekeys;
		w->nothers++;
		return;
	}
	ipsec_peer_rows(w->snap, peer_str(v->peer_be, v->client_port, peer), v->map, v);
	w->listed++;
}

void
ipsec_metrics_source(void *ctx, struct metrics_snapshot *snap)
{
	const struct vpn_metrics *vm = ctx;
	struct ipsec_walk w = { .snap = snap, .cap = vm->peer_series };
	struct esp_dp_stats st;
	char worker[12];

	esp_dp_peers(vm->dp, ipsec_rows, &w);
	if (w.nothers > 0)
		ipsec_peer_rows(snap, VPN_METRICS_OTHERS, VPN_METRICS_OTHERS, &w.others);
	esp_dp_stats(vm->dp, &st);
	for (int r = ESP_DROP_MALFORMED; r < ESP_DROP__COUNT; r++)
		metrics_add(snap, M_ESP_DROPPED_PACKETS, (double)st.drops[r],
			    (const char *[]){ esp_drop_names[r] });
	for (int i = 0; i < st.workers; i++) {
		snprintf(worker, sizeof(worker), "%d", i);
		metrics_add(snap, M_ESP_WORKER_PACKETS, (double)st.worker_out[i],
			    (const char *[]){ worker, "out" });
		metrics_add(snap, M_ESP_WORKER_PACKETS, (double)st.worker_in[i],
			    (const char *[]){ worker, "in" });
	}
	metrics_add(snap, M_ESP_TUN_OFFLOAD_FRAMES, (double)st.tun_cut, (const char *[]){ "out" });
	metrics_add(snap, M_ESP_TUN_OFFLOAD_FRAMES, (double)st.tun_merged, (const char *[]){ "in" });
}
