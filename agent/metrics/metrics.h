/*
 * The metric registry: one catalogue row per metric (METRICS.md), sources
 * that add samples to an immutable snapshot, and the two encoders that walk
 * a snapshot (Prometheus text 0.0.4 and the protobuf Metric of the proto).
 * Adding a metric is one enum value and one catalogue row.
 */
#ifndef METRICS_METRICS_H
#define METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

#define METRIC_LABELS_MAX   4
#define METRICS_SERIES_MAX  200000	/* hard cap per snapshot; overflow counted */

enum metric_type { METRIC_GAUGE, METRIC_COUNTER };
extern const char *const metric_type_names[2];	/* "Gauge", "Counter" */

enum metric_id {
	M_BUILD_INFO,
	M_CPU_UTILISATION,
	M_CPU_OVERALL_UTILISATION,
	M_CPU_SECONDS,
	M_MEMORY_AVAILABLE,
	M_MEMORY_TOTAL,
	M_INTERFACE_RECEIVE_BYTES,
	M_INTERFACE_RECEIVE_PACKETS,
	M_INTERFACE_RECEIVE_ERRORS,
	M_INTERFACE_RECEIVE_DROPS,
	M_INTERFACE_TRANSMIT_BYTES,
	M_INTERFACE_TRANSMIT_PACKETS,
	M_INTERFACE_TRANSMIT_ERRORS,
	M_INTERFACE_TRANSMIT_DROPS,
	M_INTERFACE_UP,
	M_INTERFACE_MTU,
	M_INTERFACE_STATE_TRANSITIONS,
	M_DISK_SIZE,
	M_DISK_USED,
	M_DISK_FREE,
	M_DISK_READS_COMPLETED,
	M_DISK_WRITES_COMPLETED,
	M_DISK_READ_BYTES,
	M_DISK_WRITTEN_BYTES,
	M_DISK_IO_TIME,
	M_PROCESS_CPU_SECONDS,
	M_PROCESS_RESIDENT_MEMORY,
	M_PROCESS_OPEN_FDS,
	M_PROCESS_START_TIME,
	M_TELEMETRY_CONNECTED,
	M_TELEMETRY_INTERVAL,
	M_TELEMETRY_BATCHES_SENT,
	M_TELEMETRY_MESSAGES_SENT,
	M_TELEMETRY_METRICS_SENT,
	M_TELEMETRY_ACKS_RECEIVED,
	M_TELEMETRY_CONNECT_ATTEMPTS,
	M_TELEMETRY_RECONNECTS,
	M_TELEMETRY_CANCELLATIONS,
	M_TELEMETRY_ERRORS,
	M_TELEMETRY_BUFFERED_METRICS,
	M_TELEMETRY_DROPPED_METRICS,
	M_METRICS_SERIES_DROPPED,
	M_TUNNEL_UP,
	M_TUNNEL_STATE_TRANSITIONS,
	M_TUNNEL_ACTIVE_PEER,
	M_TUNNEL_INITIATOR,
	M_IKE_SA_STATE,
	M_IKE_SA_ESTABLISHED_TIMESTAMP,
	M_IKE_SA_NEGOTIATION_FAILURES,
	M_IKE_SA_REKEYS,
	M_IKE_DROPPED_MESSAGES,
	M_IKE_ERROR_NOTIFIES,
	M_IKE_HALFOPEN_SAS,
	M_RA_CLIENTS,
	M_RA_XAUTH,
	M_RA_POOL_ADDRESSES,
	M_RA_POOL_IN_USE,
	M_RA_POOL_EXHAUSTED,
	M_DPD_R_U_THERE_SENT,
	M_DPD_R_U_THERE_RECEIVED,
	M_DPD_R_U_THERE_ACK_SENT,
	M_DPD_R_U_THERE_ACK_RECEIVED,
	M_DPD_RETRANSMISSIONS,
	M_DPD_PEER_DEAD_EVENTS,
	M_DPD_BAD_SEQUENCE,
	M_DPD_RTT,
	M_DPD_LAST_ACK_TIMESTAMP,
	M_FAILOVER_FAILOVERS,
	M_IPSEC_SA_ENCAPS_PACKETS,
	M_IPSEC_SA_DECAPS_PACKETS,
	M_IPSEC_SA_ENCRYPT_PACKETS,
	M_IPSEC_SA_DIGEST_PACKETS,
	M_IPSEC_SA_DECRYPT_PACKETS,
	M_IPSEC_SA_VERIFY_PACKETS,
	M_IPSEC_SA_ENCAPS_BYTES,
	M_IPSEC_SA_DECAPS_BYTES,
	M_IPSEC_SA_DROPPED_PACKETS,
	M_IPSEC_SA_REKEYS,
	M_ESP_DROPPED_PACKETS,
	M_ESP_WORKER_PACKETS,
	M_ESP_TUN_OFFLOAD_FRAMES,
	M_CERTIFICATE_EXPIRY,
	M__COUNT
};

struct metric_def {
	const char      *family;	/* protobuf metricFamily, e.g. "cpu" */
	const char      *description;	/* protobuf tag "description" */
	const char      *prom_name;	/* full Prometheus name */
	enum metric_type type;
	const char      *help;
	const char      *labels[METRIC_LABELS_MAX + 1];	/* NULL-terminated */
};

extern const struct metric_def metric_defs[M__COUNT];

size_t metric_def_nlabels(const struct metric_def *def);
/* Finds a catalogue row by protobuf identity; NULL when unknown. */
const struct metric_def *metric_def_lookup(const char *family, const char *description);

struct metric_sample {
	enum metric_id id;
	double         value;
	const char    *labels[METRIC_LABELS_MAX];	/* values, in def->labels order */
};

struct metrics_arena;

struct metrics_snapshot {
	int64_t               timestamp_ms;	/* epoch ms at sample time */
	size_t                n, cap;
	struct metric_sample *samples;
	uint64_t              dropped;		/* samples refused by the series cap */
	struct metrics_arena *arena;		/* label value storage */
};

struct metrics_snapshot *metrics_snapshot_new(int64_t timestamp_ms);
void metrics_snapshot_free(struct metrics_snapshot *snap);
/* Adds one sample; labels holds def->labels' count of values (copied). */
void metrics_add(struct metrics_snapshot *snap, enum metric_id id, double value,
		 const char *const *labels);

/* Struct-of-counters walk: each row names a uint64_t field by offset. */
struct metric_field {
	enum metric_id id;
	size_t         offset;
};
void metrics_add_fields(struct metrics_snapshot *snap, const struct metric_field *fields,
			size_t n, const void *stats, const char *const *labels);
/* A source that caps its own series (interfaces, mounts, ...) counts those
 * it left out here; they add to vpnagent_telemetry_series_dropped_total
 * with the ones the snapshot cap refused. */
void metrics_left_out(struct metrics_snapshot *snap, size_t nseries);

/* Sources: each adds its samples to the snapshot being built. */
typedef void (*metrics_source_fn)(void *ctx, struct metrics_snapshot *snap);
struct metrics_registry;
struct metrics_registry *metrics_registry_new(void);
void metrics_registry_free(struct metrics_registry *reg);
void metrics_registry_add(struct metrics_registry *reg, metrics_source_fn fn, void *ctx);
struct metrics_snapshot *metrics_registry_collect(struct metrics_registry *reg);

/* Family filter from the collector's metric_subscriptions. Empty or
 * containing "all" matches everything. */
struct metrics_filter {
	size_t n;
	char **families;
};
int  metrics_filter_match(const struct metrics_filter *f, const char *family);
void metrics_filter_set(struct metrics_filter *f, char *const *families, size_t n);
void metrics_filter_clear(struct metrics_filter *f);

/* Prometheus text exposition 0.0.4. */
#define METRICS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
void metrics_prom_render(const struct metrics_snapshot *snap, struct strbuf *out);
void metrics_prom_escape(struct strbuf *out, const char *value);
/* Name for a (family, description, type) triple: the catalogue's when known,
 * else vpnagent_<family>_<description>[_total], sanitised. */
void metrics_prom_name(const char *family, const char *description, enum metric_type type,
		       char *out, size_t size);

/* Protobuf: DataResponse messages of at most max_bytes each, handed to the
 * sink packed (the sink owns buf and frees it with free()). Returns the
 * number of metrics encoded, or -1 when the sink failed. */
typedef int (*metrics_pb_sink)(void *ctx, uint8_t *buf, size_t len, size_t nmetrics);
long metrics_pb_encode(const struct metrics_snapshot *snap, const char *uuid,
		       const struct metrics_filter *filter, size_t max_bytes,
		       metrics_pb_sink sink, void *ctx);

#endif
