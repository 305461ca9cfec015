/*
 * Private to agent/telemetry: the state shared between the public side
 * (tel.c, loop thread) and the streaming thread (tel_grpc.c). Everything
 * under `mu` unless marked thread-owned.
 */
#ifndef TELEMETRY_TEL_INT_H
#define TELEMETRY_TEL_INT_H

#include <pthread.h>

#include "telemetry/tel.h"

/* Error codes inside the reference's ranges. */
enum tel_err_code {
	TEL_CODE_ABORT_CALL	= 0,	/* a gRPC call could not be started */
	TEL_CODE_NO_IDENTITY	= 1,	/* no hostname or device UUID */
	TEL_CODE_BAD_SETTINGS	= 2,	/* certificate or key unusable */
	TEL_CODE_BUFFER_FULL	= 11,	/* oldest buffered metrics dropped */
	TEL_CODE_ENCODE		= 12,
	TEL_CODE_TLS_HANDSHAKE	= 21,
	TEL_CODE_CERT_EXPIRED	= 22,
	TEL_CODE_UNKNOWN_CA	= 23,
	TEL_CODE_PEER_NAME	= 24,
	TEL_CODE_CONNECT	= 31,	/* refused, unreachable, closed */
	TEL_CODE_TIMEOUT	= 32,
	TEL_CODE_DNS		= 33,
	TEL_CODE_STREAM_LOST	= 34,
	TEL_CODE_STREAM_OTHER	= 35,
	TEL_CODE_BAD_INTERVAL	= 41,
	TEL_CODE_BAD_VERSION	= 42,
};

/* One packed DataResponse waiting to be sent (or buffered while down). */
struct tel_msg {
	struct tel_msg *next;
	uint8_t        *buf;
	size_t          len;
	size_t          nmetrics;
	int             last_of_batch;
};

struct tel_queue {
	struct tel_msg *head, *tail;
	size_t          nmsgs, nmetrics;
};

struct tel_session;

struct tel {
	struct event_base *base;
	struct event      *snap_ev;		/* loop-thread side of snapshot requests */
	tel_snapshot_fn    snapshot_fn;
	void              *snapshot_ctx;

	pthread_mutex_t    mu;
	pthread_cond_t     cond;
	pthread_t          thread;
	int                running;		/* thread started and not joined */
	int                stop;
	struct tel_settings settings;		/* owned copy; read-only while running */
	struct tel_status  status;
	struct tel_stats   stats;
	int                snap_wanted;
	struct metrics_snapshot *snap_ready;
	struct tel_session *session;		/* live calls, for tel_stop to cancel */
	int                grpc_ready;

	/* Owned by the streaming thread. */
	struct tel_queue   queue;		/* unsent messages, capped */
	struct metrics_filter filter;
	int64_t            interval_s;		/* last valid interval, 0 = none yet */
	int64_t            next_due_ms;		/* monotonic; 0 = nothing scheduled */
	int64_t            last_batch_ms;
	int                had_session;		/* for the reconnects counter */
};

/* tel.c, callable from the streaming thread. */
void tel_error(struct tel *tel, enum tel_err_type type, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tel_set_state(struct tel *tel, enum tel_state state, int64_t interval_s);
void tel_stat_add(struct tel *tel, size_t offset, uint64_t n);
#define TEL_STAT(tel, field, n) tel_stat_add((tel), offsetof(struct tel_stats, field), (n))
/* Asks the loop thread for a snapshot and waits (bounded); NULL on stop. */
struct metrics_snapshot *tel_snapshot_request(struct tel *tel);
/* Encodes a snapshot into the queue, dropping the oldest beyond the cap. */
void tel_batch_enqueue(struct tel *tel, const struct metrics_snapshot *snap);
struct tel_msg *tel_queue_pop(struct tel_queue *q);
void tel_msg_free(struct tel_msg *m);
void tel_queue_clear(struct tel_queue *q);
/* Waits on the condition until deadline (monotonic ms) or stop; 1 if stopping. */
int  tel_wait_until(struct tel *tel, int64_t deadline_ms);
int  tel_stopping(struct tel *tel);
/* Checks the client certificate before dialling: expired, not yet valid,
 * not issued by the configured CA. Returns an AuthErrors code and fills msg,
 * or 0. Only recorded if the connection then fails: a collector may trust
 * more CAs than we know of. */
int  tel_preflight(const struct tel_settings *s, char *msg, size_t size);

/* tel_grpc.c: the only file that calls grpc_*. */
void tel_grpc_init(void);
void tel_grpc_shutdown(void);
/* Runs one session (connect, stream, until it ends or stop). */
void tel_session_run(struct tel *tel, int preflight_code, const char *preflight_msg);
/* Cancels the live calls of a session; safe from any thread (mu held). */
void tel_session_cancel(struct tel_session *s);

#endif
