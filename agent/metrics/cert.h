/*
 * The certificate family: seconds until each configured
 * certificate's notAfter, by use ("ike": our IKE certificate and the chain
 * after it, the trusted CAs; "telemetry": the client certificate and the
 * collector's CA) and subject. PEMs are read when the configuration is
 * applied, never per scrape.
 */
#ifndef METRICS_CERT_H
#define METRICS_CERT_H

#include "core/config.h"
#include "metrics/metrics.h"

#define CERT_METRICS_MAX 128	/* certificates listed; those past it are logged */

struct cert_metrics;

struct cert_metrics *cert_metrics_new(void);
void cert_metrics_free(struct cert_metrics *cm);
/* Reads every certificate cfg uses, replacing what was read before: call
 * when the configuration changes. Certificates of one use with one subject
 * are one series, the earliest notAfter (an old CA left beside its renewal
 * still expires). */
void cert_metrics_update(struct cert_metrics *cm, const struct config *cfg);
/* A metrics_source_fn; ctx: struct cert_metrics. Each value counts from
 * the snapshot's timestamp. */
void cert_metrics_source(void *ctx, struct metrics_snapshot *snap);

#endif
