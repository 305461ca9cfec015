/*
 * Telemetry client, the side the loop thread sees: start/stop of the
 * streaming thread, its retry schedule, status and counters,
 * the snapshot hand-off from the loop thread and the bounded send buffer.
 * The gRPC session itself is in tel_grpc.c.
 */
#include "telemetry/tel_int.h"
#include "core/log.h"
#include "core/util.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

const char *const tel_state_names[TEL_STATE__COUNT] = {
	[TEL_STATE_DISCONNECTED] = "DISCONNECTED",
	[TEL_STATE_CONNECTED] = "CONNECTED",
};
static_assert(ARRAY_LEN(tel_state_names) == TEL_STATE__COUNT, "state names");

const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	[TEL_ERR_ABORT] = "AbortErrors",
	[TEL_ERR_SYSTEM] = "SystemErrors",
	[TEL_ERR_BUFFER] = "BufferErrors",
	[TEL_ERR_AUTH] = "AuthErrors",
	[TEL_ERR_STREAMING] = "StreamingErrors",
	[TEL_ERR_INVALID_ARGUMENT] = "InvalidArgumentErrors",
};
static_assert(ARRAY_LEN(tel_err_type_names) == TEL_ERR__COUNT, "error type names");

const char *const tel_err_type_labels[TEL_ERR__COUNT] = {
	[TEL_ERR_ABORT] = "abort",
	[TEL_ERR_SYSTEM] = "system",
	[TEL_ERR_BUFFER] = "buffer",
	[TEL_ERR_AUTH] = "auth",
	[TEL_ERR_STREAMING] = "streaming",
	[TEL_ERR_INVALID_ARGUMENT] = "invalid_argument",
};
static_assert(ARRAY_LEN(tel_err_type_labels) == TEL_ERR__COUNT, "error type labels");

#define TEL_SNAPSHOT_WAIT_MS 2000	/* the loop thread answers in micro- to milliseconds */

static void tel_snapshot_cb(evutil_socket_t fd, short what, void *arg);
static void *tel_thread_main(void *arg);

struct tel *
tel_new(struct event_base *base, tel_snapshot_fn snapshot, void *ctx)
{
	struct tel *tel = xcalloc(1, sizeof(*tel));
	pthread_condattr_t ca;

	tel->base = base;
	tel->snapshot_fn = snapshot;
	tel->snapshot_ctx = ctx;
	tel->snap_ev = event_new(base, -1, 0, tel_snapshot_cb, tel);
	if (tel->snap_ev == NULL)
		fatalx("telemetry: event_new failed");
	pthread_mutex_init(&tel->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tel->cond, &ca);
	pthread_condattr_destroy(&ca);
	return tel;
}

void
tel_free(struct tel *tel)
{
	if (tel == NULL)
		return;
	tel_stop(tel);
	if (tel->grpc_ready)
		tel_grpc_shutdown();
	event_free(tel->snap_ev);
	metrics_snapshot_free(tel->snap_ready);
	tel_settings_free(&tel->settings);
	pthread_cond_destroy(&tel->cond);
	pthread_mutex_destroy(&tel->mu);
	free(tel);
}

void
tel_settings_copy(struct tel_settings *dst, const struct tel_settings *src)
{
	*dst = *src;
	dst->target_host = xstrdup(src->target_host ? src->target_host : "");
	dst->client_cert_pem = xstrdup(src->client_cert_pem ? src->client_cert_pem : "");
	dst->client_key_pem = xstrdup(src->client_key_pem ? src->client_key_pem : "");
	dst->ca_pem = xstrdup(src->ca_pem ? src->ca_pem : "");
	dst->device_uuid = xstrdup(src->device_uuid ? src->device_uuid : "");
	dst->hostname = xstrdup(src->hostname ? src->hostname : "");
	if (dst->retry_interval_s == 0)
		dst->retry_interval_s = TEL_DEFAULT_RETRY_S;
	if (dst->min_interval_s == 0)
		dst->min_interval_s = TEL_DEFAULT_MIN_INTERVAL;
	if (dst->max_message_bytes == 0)
		dst->max_message_bytes = TEL_MESSAGE_MAX;
	if (dst->buffer_max_metrics == 0)
		dst->buffer_max_metrics = TEL_BUFFER_MAX;
}

void
tel_settings_free(struct tel_settings *s)
{
	free(s->target_host);
	free(s->client_cert_pem);
	free_secret(s->client_key_pem);
	free(s->ca_pem);
	free(s->device_uuid);
	free(s->hostname);
	memset(s, 0, sizeof(*s));
}

int
tel_start(struct tel *tel, const struct tel_settings *settings)
{
	tel_stop(tel);
	if (!tel->grpc_ready) {
		tel_grpc_init();
		tel->grpc_ready = 1;
	}
	tel_settings_free(&tel->settings);
	tel_settings_copy(&tel->settings, settings);
	pthread_mutex_lock(&tel->mu);
	tel->stop = 0;
	tel->status.configured = 1;
	tel->status.state = TEL_STATE_DISCONNECTED;
	tel->status.interval_s = 0;
	snprintf(tel->status.collector, sizeof(tel->status.collector), "%s:%u",
		 tel->settings.target_host, (unsigned)tel->settings.port);
	pthread_mutex_unlock(&tel->mu);
	tel->interval_s = 0;
	tel->next_due_ms = 0;
	tel->had_session = 0;
	if (pthread_create(&tel->thread, NULL, tel_thread_main, tel) != 0) {
		log_warnx("telemetry: cannot start the streaming thread");
		return -1;
	}
	tel->running = 1;
	log_info("telemetry: streaming to %s (retry every %us)", tel->status.collector,
		 tel->settings.retry_interval_s);
	return 0;
}

void
tel_stop(struct tel *tel)
{
	if (!tel->running)
		return;
	pthread_mutex_lock(&tel->mu);
	tel->stop = 1;
	if (tel->session != NULL)
		tel_session_cancel(tel->session);
	pthread_cond_broadcast(&tel->cond);
	pthread_mutex_unlock(&tel->mu);
	pthread_join(tel->thread, NULL);
	tel->running = 0;
	tel_queue_clear(&tel->queue);
	metrics_filter_clear(&tel->filter);
	pthread_mutex_lock(&tel->mu);
	tel->status.configured = 0;
	tel->status.state = TEL_STATE_DISCONNECTED;
	tel->status.interval_s = 0;
	tel->stats.buffered_metrics = 0;
	pthread_mutex_unlock(&tel->mu);
	log_info("telemetry: streaming stopped");
}

int
tel_stopping(struct tel *tel)
{
	int stop;

	pthread_mutex_lock(&tel->mu);
	stop = tel->stop;
	pthread_mutex_unlock(&tel->mu);
	return stop;
}

int
tel_wait_until(struct tel *tel, int64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000,
			       .tv_nsec = (deadline_ms % 1000) * 1000000 };
	int stop;

	pthread_mutex_lock(&tel->mu);
	while (!tel->stop && now_mono_ms() < deadline_ms) {
		if (pthread_cond_timedwait(&tel->cond, &tel->mu, &ts) == ETIMEDOUT)
			break;
	}
	stop = tel->stop;
	pthread_mutex_unlock(&tel->mu);
	return stop;
}

void
tel_status_get(struct tel *tel, struct tel_status *out)
{
	pthread_mutex_lock(&tel->mu);
	*out = tel->status;
	pthread_mutex_unlock(&tel->mu);
}

void
tel_stats_get(struct tel *tel, struct tel_stats *out)
{
	pthread_mutex_lock(&tel->mu);
	*out = tel->stats;
	pthread_mutex_unlock(&tel->mu);
}

void
tel_stat_add(struct tel *tel, size_t offset, uint64_t n)
{
	pthread_mutex_lock(&tel->mu);
	*(uint64_t *)((char *)&tel->stats + offset) += n;
	pthread_mutex_unlock(&tel->mu);
}

void
tel_set_state(struct tel *tel, enum tel_state state, int64_t interval_s)
{
	pthread_mutex_lock(&tel->mu);
	if (tel->status.state != state)
		log_info("telemetry: %s %s", tel_state_names[state], tel->status.collector);
	tel->status.state = state;
	tel->status.interval_s = interval_s;
	pthread_mutex_unlock(&tel->mu);
}

void
tel_error(struct tel *tel, enum tel_err_type type, int code, const char *fmt, ...)
{
	char text[TEL_ERR_MSG_MAX - 72], stamp[64];
	int64_t now = now_real_ns();
	struct tel_error *e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	time_format_utc(now, stamp, sizeof(stamp));
	pthread_mutex_lock(&tel->mu);
	e = &tel->status.errors[type];
	e->count++;
	e->code = code;
	e->last_ns = now;
	snprintf(e->message, sizeof(e->message), "%s : %s", stamp, text);
	tel->stats.errors[type]++;
	pthread_mutex_unlock(&tel->mu);
	log_warnx("telemetry: %s (code %d): %s", tel_err_type_names[type], code, text);
}

/* ---- snapshot hand-off ------------------------------------------------ */

static void
tel_snapshot_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tel *tel = arg;
	struct metrics_snapshot *snap;
	int wanted;

	pthread_mutex_lock(&tel->mu);
	wanted = tel->snap_wanted && tel->snap_ready == NULL;
	pthread_mutex_unlock(&tel->mu);
	if (!wanted)
		return;
	snap = tel->snapshot_fn(tel->snapshot_ctx);
	pthread_mutex_lock(&tel->mu);
	if (tel->snap_wanted && tel->snap_ready == NULL) {
		tel->snap_ready = snap;
		snap = NULL;
	}
	tel->snap_wanted = 0;
	pthread_cond_broadcast(&tel->cond);
	pthread_mutex_unlock(&tel->mu);
	metrics_snapshot_free(snap);
}

struct metrics_snapshot *
tel_snapshot_request(struct tel *tel)
{
	int64_t deadline = now_mono_ms() + TEL_SNAPSHOT_WAIT_MS;
	struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };
	struct metrics_snapshot *snap;

	pthread_mutex_lock(&tel->mu);
	metrics_snapshot_free(tel->snap_ready);
	tel->snap_ready = NULL;
	tel->snap_wanted = 1;
	pthread_mutex_unlock(&tel->mu);
	event_active(tel->snap_ev, EV_READ, 0);
	pthread_mutex_lock(&tel->mu);
	while (tel->snap_ready == NULL && !tel->stop) {
		if (pthread_cond_timedwait(&tel->cond, &tel->mu, &ts) == ETIMEDOUT)
			break;
	}
	snap = tel->snap_ready;
	tel->snap_ready = NULL;
	tel->snap_wanted = 0;
	pthread_mutex_unlock(&tel->mu);
	if (snap == NULL && !tel_stopping(tel))
		tel_error(tel, TEL_ERR_BUFFER, TEL_CODE_ENCODE,
			  "no metric snapshot from the main loop within %d ms", TEL_SNAPSHOT_WAIT_MS);
	return snap;
}

/* ---- the bounded message queue --------------------------------------- */

struct tel_msg *
tel_queue_pop(struct tel_queue *q)
{
	struct tel_msg *m = q->head;

	if (m == NULL)
		return NULL;
	q->head = m->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->nmsgs--;
	q->nmetrics -= m->nmetrics;
	m->next = NULL;
	return m;
}

void
tel_msg_free(struct tel_msg *m)
{
	if (m == NULL)
		return;
	free(m->buf);
	free(m);
}

void
tel_queue_clear(struct tel_queue *q)
{
	struct tel_msg *m;

	while ((m = tel_queue_pop(q)) != NULL)
		tel_msg_free(m);
}

struct enqueue_ctx {
	struct tel     *tel;
	struct tel_msg *last;
};

static int
enqueue_sink(void *arg, uint8_t *buf, size_t len, size_t nmetrics)
{
	struct enqueue_ctx *ec = arg;
	struct tel_queue *q = &ec->tel->queue;
	struct tel_msg *m = xcalloc(1, sizeof(*m));

	m->buf = buf;
	m->len = len;
	m->nmetrics = nmetrics;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->nmsgs++;
	q->nmetrics += nmetrics;
	ec->last = m;
	return 0;
}

void
tel_batch_enqueue(struct tel *tel, const struct metrics_snapshot *snap)
{
	struct enqueue_ctx ec = { .tel = tel };
	struct tel_queue *q = &tel->queue;
	uint64_t dropped = 0;
	long n;

	n = metrics_pb_encode(snap, tel->settings.device_uuid, &tel->filter,
			      tel->settings.max_message_bytes, enqueue_sink, &ec);
	if (n < 0) {
		tel_error(tel, TEL_ERR_BUFFER, TEL_CODE_ENCODE, "cannot encode a metric batch");
		return;
	}
	if (ec.last)
		ec.last->last_of_batch = 1;
	/* Keep the newest: drop whole messages from the head beyond the cap,
	 * but never the batch just added. */
	while (q->nmetrics > tel->settings.buffer_max_metrics && q->head != NULL &&
	       q->head != ec.last && q->nmsgs > 1) {
		struct tel_msg *m = tel_queue_pop(q);

		dropped += m->nmetrics;
		tel_msg_free(m);
	}
	pthread_mutex_lock(&tel->mu);
	tel->stats.buffered_metrics = q->nmetrics;
	tel->stats.dropped_buffer_full += dropped;
	pthread_mutex_unlock(&tel->mu);
	if (dropped)
		tel_error(tel, TEL_ERR_BUFFER, TEL_CODE_BUFFER_FULL,
			  "send buffer full (%zu metrics max): dropped the %llu oldest metrics",
			  tel->settings.buffer_max_metrics, (unsigned long long)dropped);
}

/* ---- the streaming thread --------------------------------------------- */

/* While disconnected, keep sampling at the last interval the collector
 * asked for, so the gap is filled once it is back (bounded by the cap). */
static int
tel_retry_wait(struct tel *tel)
{
	int64_t retry_at = now_mono_ms() + (int64_t)tel->settings.retry_interval_s * 1000;

	for (;;) {
		int64_t deadline = retry_at, now;

		if (tel->interval_s > 0 && tel->next_due_ms > 0 && tel->next_due_ms < deadline)
			deadline = tel->next_due_ms;
		if (tel_wait_until(tel, deadline))
			return -1;
		now = now_mono_ms();
		if (tel->interval_s > 0 && tel->next_due_ms > 0 && now >= tel->next_due_ms) {
			struct metrics_snapshot *snap = tel_snapshot_request(tel);

			if (snap != NULL)
				tel_batch_enqueue(tel, snap);
			metrics_snapshot_free(snap);
			tel->next_due_ms += tel->interval_s * 1000;
		}
		if (now >= retry_at)
			return 0;
	}
}

static void *
tel_thread_main(void *arg)
{
	struct tel *tel = arg;
	char msg[TEL_ERR_MSG_MAX / 2];

	while (!tel_stopping(tel)) {
		if (tel->settings.device_uuid[0] == '\0' || tel->settings.hostname[0] == '\0') {
			tel_error(tel, TEL_ERR_SYSTEM, TEL_CODE_NO_IDENTITY,
				  "no device UUID or hostname configured");
		} else {
			int code = tel_preflight(&tel->settings, msg, sizeof(msg));

			if (code == TEL_CODE_BAD_SETTINGS)
				tel_error(tel, TEL_ERR_SYSTEM, code, "%s", msg);
			else
				tel_session_run(tel, code, msg);
		}
		if (tel_retry_wait(tel) == -1)
			break;
	}
	return NULL;
}

/* ---- certificate pre-flight ------------------------------------------ */

static X509 *
pem_to_x509(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return x;
}

static int
ca_store_load(X509_STORE *store, const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0;

	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(store, x);
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	return n;
}

int
tel_preflight(const struct tel_settings *s, char *msg, size_t size)
{
	X509 *cert = pem_to_x509(s->client_cert_pem);
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int code = 0;

	msg[0] = '\0';
	if (cert == NULL) {
		snprintf(msg, size, "client certificate is not a PEM X.509 certificate");
		code = TEL_CODE_BAD_SETTINGS;
		goto done;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		snprintf(msg, size, "client certificate has expired");
		code = TEL_CODE_CERT_EXPIRED;
		goto done;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
		snprintf(msg, size, "client certificate is not yet valid");
		code = TEL_CODE_CERT_EXPIRED;
		goto done;
	}
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL || ca_store_load(store, s->ca_pem) == 0) {
		snprintf(msg, size, "CA certificate is not a PEM X.509 certificate");
		code = TEL_CODE_BAD_SETTINGS;
		goto done;
	}
	if (X509_STORE_CTX_init(ctx, store, cert, NULL) != 1 || X509_verify_cert(ctx) != 1) {
		snprintf(msg, size, "client certificate does not verify against the configured CA: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		code = TEL_CODE_UNKNOWN_CA;
	}
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cert);
	return code;
}

/* ---- metrics source --------------------------------------------------- */

static const struct metric_field tel_fields[] = {
	{ M_TELEMETRY_BATCHES_SENT, offsetof(struct tel_stats, batches_sent) },
	{ M_TELEMETRY_MESSAGES_SENT, offsetof(struct tel_stats, messages_sent) },
	{ M_TELEMETRY_METRICS_SENT, offsetof(struct tel_stats, metrics_sent) },
	{ M_TELEMETRY_ACKS_RECEIVED, offsetof(struct tel_stats, acks_received) },
	{ M_TELEMETRY_CONNECT_ATTEMPTS, offsetof(struct tel_stats, connect_attempts) },
	{ M_TELEMETRY_RECONNECTS, offsetof(struct tel_stats, reconnects) },
	{ M_TELEMETRY_CANCELLATIONS, offsetof(struct tel_stats, cancellations) },
	{ M_TELEMETRY_BUFFERED_METRICS, offsetof(struct tel_stats, buffered_metrics) },
};

void
tel_metrics_source(void *arg, struct metrics_snapshot *snap)
{
	struct tel *tel = arg;
	struct tel_stats st;
	struct tel_status status;

	tel_stats_get(tel, &st);
	tel_status_get(tel, &status);
	metrics_add(snap, M_TELEMETRY_CONNECTED, status.state == TEL_STATE_CONNECTED, NULL);
	metrics_add(snap, M_TELEMETRY_INTERVAL, (double)status.interval_s, NULL);
	metrics_add_fields(snap, tel_fields, ARRAY_LEN(tel_fields), &st, NULL);
	for (int i = 0; i < TEL_ERR__COUNT; i++)
		metrics_add(snap, M_TELEMETRY_ERRORS, (double)st.errors[i],
			    (const char *[]){ tel_err_type_labels[i] });
	metrics_add(snap, M_TELEMETRY_DROPPED_METRICS, (double)st.dropped_buffer_full,
		    (const char *[]){ "buffer_full" });
	metrics_add(snap, M_TELEMETRY_DROPPED_METRICS, (double)st.dropped_send_failed,
		    (const char *[]){ "send_failed" });
}
