/*
 * The VPN families (tunnel, ike_sa, dpd, failover) from the IKE engine's
 * read-only view, one series set per configured peer so that a down peer
 * is visible as 0, not as a missing series.
 */
#ifndef METRICS_VPN_H
#define METRICS_VPN_H

#include "metrics/metrics.h"

/* A metrics source; ctx is the struct ike. */
void vpn_metrics_source(void *ike, struct metrics_snapshot *snap);
/* The ipsec_sa family; ctx is the struct esp_dp. */
void ipsec_metrics_source(void *dp, struct metrics_snapshot *snap);

#endif
