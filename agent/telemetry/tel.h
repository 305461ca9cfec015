/*
 * Telemetry dial-out client: one thread speaks gRPC (mTLS) to the collector,
 * asks the loop thread for immutable metric snapshots when a batch is due,
 * and publishes its status and counters. This header is all other
 * modules see; <grpc/...> stays inside agent/telemetry/.
 */
#ifndef TELEMETRY_TEL_H
#define TELEMETRY_TEL_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"

struct event_base;

enum tel_state { TEL_STATE_DISCONNECTED, TEL_STATE_CONNECTED, TEL_STATE__COUNT };
extern const char *const tel_state_names[TEL_STATE__COUNT];	/* "DISCONNECTED", "CONNECTED" */

/* Error types of the reference's status categories, with their code ranges. */
enum tel_err_type {
	TEL_ERR_ABORT,		   /* code 0 */
	TEL_ERR_SYSTEM,		   /* 1-10: no hostname/UUID, bad settings */
	TEL_ERR_BUFFER,		   /* 11-20: buffer overflow, encoding */
	TEL_ERR_AUTH,		   /* 21-30: certificates, TLS handshake */
	TEL_ERR_STREAMING,	   /* 31-40: connect, timeouts, DNS, stream loss */
	TEL_ERR_INVALID_ARGUMENT,  /* 41-50: bad version or interval */
	TEL_ERR__COUNT
};
extern const char *const tel_err_type_names[TEL_ERR__COUNT];	/* "AbortErrors", ... */
extern const char *const tel_err_type_labels[TEL_ERR__COUNT];	/* "abort", ... */

#define TEL_ERR_MSG_MAX   512
#define TEL_COLLECTOR_MAX 300

struct tel_error {
	uint64_t count;
	int      code;			/* code of the last error */
	int64_t  last_ns;		/* realtime of the last error */
	char     message[TEL_ERR_MSG_MAX];	/* "<timestamp> : <text>" as the reference */
};

struct tel_status {
	int               configured;
	enum tel_state    state;
	char              collector[TEL_COLLECTOR_MAX];
	int64_t           interval_s;	/* 0 until a valid ControlRequest */
	struct tel_error  errors[TEL_ERR__COUNT];
};

struct tel_stats {
	uint64_t batches_sent;
	uint64_t messages_sent;
	uint64_t metrics_sent;
	uint64_t acks_received;
	uint64_t connect_attempts;
	uint64_t reconnects;
	uint64_t cancellations;
	uint64_t dropped_buffer_full;
	uint64_t dropped_send_failed;
	uint64_t buffered_metrics;
	uint64_t errors[TEL_ERR__COUNT];
};

/* Everything one streaming session needs, resolved from the config. */
struct tel_settings {
	char    *target_host;		/* IPv4 address or DNS name */
	uint16_t port;
	char    *client_cert_pem;
	char    *client_key_pem;	/* wiped on free */
	char    *ca_pem;
	char    *device_uuid;
	char    *hostname;
	unsigned retry_interval_s;	/* default 300 */
	unsigned min_interval_s;	/* default 60 */
	size_t   max_message_bytes;	/* DataResponse size cap; default 4 MiB - slack */
	size_t   buffer_max_metrics;	/* while disconnected; default TEL_BUFFER_MAX */
};

#define TEL_DEFAULT_RETRY_S      300
#define TEL_DEFAULT_MIN_INTERVAL 60
#define TEL_MESSAGE_MAX          (4 * 1024 * 1024 - 64 * 1024)
#define TEL_BUFFER_MAX           100000	/* metric samples kept while disconnected */

/* Produces a fresh snapshot; called on the loop thread only. */
typedef struct metrics_snapshot *(*tel_snapshot_fn)(void *ctx);

struct tel;
struct tel *tel_new(struct event_base *base, tel_snapshot_fn snapshot, void *ctx);
void tel_free(struct tel *tel);
/* Starts (or restarts with new settings) streaming; copies settings. */
int  tel_start(struct tel *tel, const struct tel_settings *settings);
/* Ends both calls and stops retrying (config deleted). */
void tel_stop(struct tel *tel);
void tel_status_get(struct tel *tel, struct tel_status *out);
void tel_stats_get(struct tel *tel, struct tel_stats *out);
/* Adds the telemetry family to a snapshot (a metrics source). */
void tel_metrics_source(void *tel, struct metrics_snapshot *snap);

/* Deep copy with defaults filled in; free with tel_settings_free. */
void tel_settings_copy(struct tel_settings *dst, const struct tel_settings *src);
void tel_settings_free(struct tel_settings *s);

#endif
