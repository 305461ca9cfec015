/*
 * Metrics source for the IKE engine (METRICS.md rows tunnel, ike_sa, dpd,
 * failover). Walks ike_tunnels_view; counters there are already cumulative
 * per configured peer, so nothing here keeps state.
 */
#include "metrics/vpn.h"
#include "core/util.h"
#include "esp/dataplane.h"
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

struct vpn_ctx {
	struct metrics_snapshot *snap;
};

static void
peer_rows(struct metrics_snapshot *snap, const char *map, const struct ike_peer_view *p)
{
	struct in_addr a = { .s_addr = p->peer_be };
	char peer[16];
	const char *pm[2] = { peer, map };

	inet_ntop(AF_INET, &a, peer, sizeof(peer));
	metrics_add(snap, M_TUNNEL_UP, p->up, pm);
	metrics_add(snap, M_TUNNEL_STATE_TRANSITIONS, (double)p->transitions_up,
		    (const char *[]){ peer, map, "up" });
	metrics_add(snap, M_TUNNEL_STATE_TRANSITIONS, (double)p->transitions_down,
		    (const char *[]){ peer, map, "down" });
	metrics_add(snap, M_TUNNEL_ACTIVE_PEER, p->active, (const char *[]){ map, peer });
	for (int s = 0; s < IKE_VIEW__COUNT; s++)
		metrics_add(snap, M_IKE_SA_STATE, p->state == (enum ike_sa_view_state)s,
			    (const char *[]){ peer, ike_view_state_names[s] });
	metrics_add(snap, M_IKE_SA_ESTABLISHED_TIMESTAMP, (double)p->established_real_ms / 1000.0,
		    pm);
	for (int r = 0; r < IKE_FAIL__COUNT; r++)
		metrics_add(snap, M_IKE_SA_NEGOTIATION_FAILURES, (double)p->failures[r],
			    (const char *[]){ peer, ike_fail_reason_names[r] });
	metrics_add(snap, M_IKE_SA_REKEYS, (double)p->rekeys, pm);
	metrics_add_fields(snap, dpd_fields, ARRAY_LEN(dpd_fields), &p->dpd, pm);
	metrics_add(snap, M_DPD_RTT, p->dpd_rtt_ms < 0 ? 0 : (double)p->dpd_rtt_ms / 1000.0, pm);
	metrics_add(snap, M_DPD_LAST_ACK_TIMESTAMP, (double)p->dpd_last_ack_real_ms / 1000.0, pm);
}

static void
tunnel_rows(void *arg, const struct ike_tunnel_view *v)
{
	struct vpn_ctx *c = arg;
	char map[160];

	snprintf(map, sizeof(map), "%s %u", v->map, v->seq);
	metrics_add(c->snap, M_TUNNEL_INITIATOR, v->initiate, (const char *[]){ map });
	for (size_t i = 0; i < v->npeers; i++)
		peer_rows(c->snap, map, &v->peers[i]);
	for (int r = 0; r < IKE_FAILOVER__COUNT; r++)
		metrics_add(c->snap, M_FAILOVER_FAILOVERS, (double)v->failovers[r],
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
}

void
vpn_metrics_source(void *ike, struct metrics_snapshot *snap)
{
	struct vpn_ctx c = { snap };

	ike_tunnels_view(ike, now_mono_ms(), now_real_ms(), tunnel_rows, &c);
	engine_rows(snap, ike);
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
ipsec_rows(void *arg, const struct esp_dp_peer_view *v)
{
	struct metrics_snapshot *snap = arg;
	char peer[16];
	const char *pm[2] = { ipv4_str(v->peer_be, peer), v->map };

	metrics_add_fields(snap, out_fields, ARRAY_LEN(out_fields), &v->out, pm);
	metrics_add_fields(snap, in_fields, ARRAY_LEN(in_fields), &v->in, pm);
	for (int r = ESP_DROP_MALFORMED; r < ESP_DROP__COUNT; r++)
		metrics_add(snap, M_IPSEC_SA_DROPPED_PACKETS,
			    (double)(v->out.drops[r] + v->in.drops[r]),
			    (const char *[]){ peer, v->map, esp_drop_names[r] });
	metrics_add(snap, M_IPSEC_SA_REKEYS, (double)v->rekeys, pm);
}

void
ipsec_metrics_source(void *dp, struct metrics_snapshot *snap)
{
	struct esp_dp_stats st;
	char worker[12];

	esp_dp_peers(dp, ipsec_rows, snap);
	esp_dp_stats(dp, &st);
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
}
