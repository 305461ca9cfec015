/*
 * The VPN families (tunnel, ike_sa, dpd, failover) from the IKE engine's
 * read-only view, one series set per configured peer so that a down peer
 * is visible as 0, not as a missing series.
 */
#ifndef METRICS_VPN_H
#define METRICS_VPN_H

#include "metrics/metrics.h"

struct ike;
struct esp_dp;

/* The label value of the sums that stand for the peers not listed. */
#define VPN_METRICS_OTHERS "*"

/*
 * The sources' context. Per-peer series stay bounded: with more
 * than peer_series (peer, crypto map) pairs, the tunnel, ike_sa, dpd and
 * failover families list at most peer_series peers, those not up first
 * (what an operator must see), and the ipsec_sa family the first
 * peer_series; every other peer is summed into one row whose peer and map
 * labels are "*" (counters and the 0/1 gauges sum to counts; timestamps
 * and RTTs are per peer only). peer_series 0: every peer, always.
 */
#define VPN_METRICS_PEER_SERIES 2000	/* the daemon's default: a branch network
					 * is listed whole */
struct vpn_metrics {
	struct ike    *ike;
	struct esp_dp *dp;
	size_t         peer_series;
};

/* The tunnel, ike_sa, dpd and failover families; ctx: struct vpn_metrics. */
void vpn_metrics_source(void *ctx, struct metrics_snapshot *snap);
/* The ipsec_sa family; ctx: struct vpn_metrics. */
void ipsec_metrics_source(void *ctx, struct metrics_snapshot *snap);

#endif
