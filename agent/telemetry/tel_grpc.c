/*
 * One streaming session over gRPC C core (the only file that calls grpc_*):
 * a fresh mTLS channel, ControlStream handshake, DataStream batches at the
 * collector's interval, cancellation, and the classification of how the
 * session ended into the status error types. Single thread, one completion
 * queue; the cq deadline is the batch timer (notes/grpc-c-core.md §5.1).
 */
#include "telemetry/tel_control.h"
#include "telemetry/tel_int.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "telemetry.pb-c.h"

#define TEL_CAPABILITY        "metric_streaming"
#define TEL_RECV_MAX          (1024 * 1024)	/* collector messages are tiny */
#define TEL_KEEPALIVE_MS      300000		/* ≥ 5 min: default server ping policy */
#define TEL_CLOSE_GRACE_MS    5000		/* wait for the collector after an ack */
#define TEL_PATH_CONTROL      "/proto.GrpcStreamingService/ControlStream"
#define TEL_PATH_DATA         "/proto.GrpcStreamingService/DataStream"

enum tag_kind {
	TAG_CTRL_SEND, TAG_CTRL_RECV, TAG_CTRL_STATUS, TAG_CTRL_CLOSE,
	TAG_DATA_START, TAG_DATA_SEND, TAG_DATA_RECV, TAG_DATA_STATUS, TAG_DATA_CLOSE,
	TAG__COUNT
};

struct tel_call {
	grpc_call           *call;
	int                  ops;		/* batches started and not completed */
	int                  open;		/* status not received yet */
	int                  sending;
	int                  closed;		/* SEND_CLOSE_FROM_CLIENT started */
	grpc_byte_buffer    *send_bb;
	grpc_byte_buffer    *recv_bb;
	grpc_metadata_array  md_initial, md_trailing;
	grpc_status_code     status;
	grpc_slice           details;
	const char          *error_string;
};

struct tel_session {
	struct tel         *tel;
	grpc_channel       *channel;
	grpc_completion_queue *cq;
	struct tel_call     ctrl, data;
	char                tags[TAG__COUNT];	/* addresses only: tag = &tags[kind] */
	struct tel_msg     *inflight;		/* data message being sent */
	struct tel_queue    ctrl_out;		/* control messages waiting to be sent */
	char                peer[128];
	int                 connected;		/* a ControlRequest arrived */
	int                 streaming;		/* a valid interval is in force */
	int                 ending;		/* tearing down: no new work */
	int                 acked_cancel;	/* collector cancelled; we acked */
	int64_t             close_deadline_ms;
	int                 failed_code;	/* pre-flight AuthErrors code, or 0 */
	const char         *preflight_msg;
};

static const char *const status_names[] = {
	"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated",
};

static void
grpc_log_to_ours(gpr_log_func_args *args)
{
	if (args->severity == GPR_LOG_SEVERITY_ERROR)
		log_warnx("grpc: %s", args->message);
	else
		log_debug("grpc: %s", args->message);
}

void
tel_grpc_init(void)
{
	gpr_set_log_function(grpc_log_to_ours);
	gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
	grpc_init();
}

void
tel_grpc_shutdown(void)
{
	grpc_shutdown();
}

static void *
tag_of(struct tel_session *s, enum tag_kind k)
{
	return &s->tags[k];
}

/* ---- protobuf <-> byte buffer ----------------------------------------- */

static grpc_byte_buffer *
bb_from_bytes(const uint8_t *buf, size_t len)
{
	grpc_slice slice = grpc_slice_from_copied_buffer((const char *)buf, len);
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);

	grpc_slice_unref(slice);
	return bb;
}

static ProtobufCMessage *
bb_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc)
{
	grpc_byte_buffer_reader reader;
	ProtobufCMessage *m = NULL;
	grpc_slice all;

	if (!grpc_byte_buffer_reader_init(&reader, bb))
		return NULL;
	all = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
	grpc_slice_unref(all);
	return m;
}

static struct tel_msg *
control_response(const struct tel *tel, int hello, int ack)
{
	Proto__ControlResponse r = PROTO__CONTROL_RESPONSE__INIT;
	char *caps[] = { TEL_CAPABILITY };
	struct tel_msg *m = xcalloc(1, sizeof(*m));

	r.version = TEL_PROTO_VERSION;
	r.ftd_uuid = tel->settings.device_uuid;
	r.hostname = tel->settings.hostname;
	r.init_streaming = hello;
	if (hello) {
		r.n_capabilities = 1;
		r.capabilities = caps;
	}
	r.ack = ack;
	m->len = protobuf_c_message_get_packed_size(&r.base);
	m->buf = xmalloc(m->len);
	protobuf_c_message_pack(&r.base, m->buf);
	return m;
}

/* ---- call plumbing ----------------------------------------------------- */

static int
start(struct tel_session *s, struct tel_call *c, const grpc_op *ops, size_t n, enum tag_kind k)
{
	grpc_call_error err = grpc_call_start_batch(c->call, ops, n, tag_of(s, k), NULL);

	if (err != GRPC_CALL_OK) {
		tel_error(s->tel, TEL_ERR_ABORT, TEL_CODE_ABORT_CALL,
			  "cannot start a gRPC batch (call error %d)", (int)err);
		return -1;
	}
	c->ops++;
	return 0;
}

static int
call_open(struct tel_session *s, struct tel_call *c, const char *path, enum tag_kind status_tag,
	  enum tag_kind recv_tag)
{
	grpc_op ops[2];

	memset(ops, 0, sizeof(ops));
	pthread_mutex_lock(&s->tel->mu);
	if (!s->tel->stop)
		c->call = grpc_channel_create_call(s->channel, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq,
						   grpc_slice_from_static_string(path), NULL,
						   gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	pthread_mutex_unlock(&s->tel->mu);
	if (c->call == NULL)
		return -1;
	c->open = 1;
	grpc_metadata_array_init(&c->md_initial);
	grpc_metadata_array_init(&c->md_trailing);
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &c->md_trailing;
	ops[0].data.recv_status_on_client.status = &c->status;
	ops[0].data.recv_status_on_client.status_details = &c->details;
	ops[0].data.recv_status_on_client.error_string = &c->error_string;
	if (start(s, c, ops, 1, status_tag) == -1)
		return -1;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[0].data.recv_initial_metadata.recv_initial_metadata = &c->md_initial;
	ops[1].op = GRPC_OP_RECV_MESSAGE;
	ops[1].data.recv_message.recv_message = &c->recv_bb;
	return start(s, c, ops, 2, recv_tag);
}

static int
recv_rearm(struct tel_session *s, struct tel_call *c, enum tag_kind k)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	return start(s, c, &op, 1, k);
}

static int
send_bytes(struct tel_session *s, struct tel_call *c, const uint8_t *buf, size_t len,
	   int with_metadata, enum tag_kind k)
{
	grpc_op ops[2];
	size_t n = 0;

	memset(ops, 0, sizeof(ops));
	if (with_metadata)
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	c->send_bb = bb_from_bytes(buf, len);
	ops[n].op = GRPC_OP_SEND_MESSAGE;
	ops[n++].data.send_message.send_message = c->send_bb;
	c->sending = 1;
	return start(s, c, ops, n, k);
}

static void
half_close(struct tel_session *s, struct tel_call *c, enum tag_kind k)
{
	grpc_op op;

	if (c->call == NULL || c->closed || c->sending || !c->open)
		return;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	c->closed = 1;
	start(s, c, &op, 1, k);
}

/* Ends the session: no new work; cancel whatever is still open. */
static void
session_end(struct tel_session *s)
{
	s->ending = 1;
	s->streaming = 0;
	if (s->ctrl.call && s->ctrl.open)
		grpc_call_cancel(s->ctrl.call, NULL);
	if (s->data.call && s->data.open)
		grpc_call_cancel(s->data.call, NULL);
}

void
tel_session_cancel(struct tel_session *s)
{
	if (s->ctrl.call)
		grpc_call_cancel(s->ctrl.call, NULL);
	if (s->data.call)
		grpc_call_cancel(s->data.call, NULL);
}

/* ---- sending ------------------------------------------------------------ */

static void
ctrl_kick(struct tel_session *s)
{
	struct tel_msg *m;

	if (s->ctrl.sending || s->ctrl.closed || !s->ctrl.open)
		return;
	if ((m = tel_queue_pop(&s->ctrl_out)) != NULL) {
		send_bytes(s, &s->ctrl, m->buf, m->len, 0, TAG_CTRL_SEND);
		tel_msg_free(m);
		return;
	}
	if (s->acked_cancel) {
		/* Our ack is out: close both streams and let the collector finish. */
		half_close(s, &s->ctrl, TAG_CTRL_CLOSE);
		half_close(s, &s->data, TAG_DATA_CLOSE);
	}
}

static void
ctrl_send(struct tel_session *s, struct tel_msg *m)
{
	if (s->ctrl_out.tail)
		s->ctrl_out.tail->next = m;
	else
		s->ctrl_out.head = m;
	s->ctrl_out.tail = m;
	s->ctrl_out.nmsgs++;
	ctrl_kick(s);
}

static void
data_kick(struct tel_session *s)
{
	struct tel *tel = s->tel;

	if (s->ending || s->acked_cancel || !s->data.open || s->data.sending || s->data.closed)
		return;
	if ((s->inflight = tel_queue_pop(&tel->queue)) == NULL)
		return;
	send_bytes(s, &s->data, s->inflight->buf, s->inflight->len, 0, TAG_DATA_SEND);
	pthread_mutex_lock(&tel->mu);
	tel->stats.buffered_metrics = tel->queue.nmetrics;
	pthread_mutex_unlock(&tel->mu);
}

static void
batch_due(struct tel_session *s)
{
	struct tel *tel = s->tel;
	struct metrics_snapshot *snap = tel_snapshot_request(tel);
	int64_t now = now_mono_ms(), step = tel->interval_s * 1000;

	/* Fixed rate: the schedule does not drift with sending time. */
	tel->next_due_ms += step;
	if (tel->next_due_ms <= now)
		tel->next_due_ms = now + step;
	if (snap == NULL)
		return;
	tel->last_batch_ms = now;
	tel_batch_enqueue(tel, snap);
	metrics_snapshot_free(snap);
	data_kick(s);
}

/* ---- the control conversation ------------------------------------------- */

static void
control_request(struct tel_session *s, const Proto__ControlRequest *req)
{
	struct tel *tel = s->tel;
	int64_t iv = req->interval;
	enum tel_ctrl_verdict verdict;
	int first;

	if (!s->connected) {
		s->connected = 1;
		if (tel->had_session)
			TEL_STAT(tel, reconnects, 1);
		tel->had_session = 1;
		tel_set_state(tel, TEL_STATE_CONNECTED, 0);
	}
	verdict = tel_control_check(req, tel->settings.min_interval_s);
	if (verdict == TEL_CTRL_CANCEL) {
		log_info("telemetry: collector %s cancelled the stream; acknowledging",
			 req->cancellation_message->collector_uuid);
		TEL_STAT(tel, cancellations, 1);
		s->streaming = 0;
		s->acked_cancel = 1;
		s->close_deadline_ms = now_mono_ms() + TEL_CLOSE_GRACE_MS;
		ctrl_send(s, control_response(tel, 0, 1));
		return;
	}
	if (verdict != TEL_CTRL_ACCEPT) {
		tel_error(tel, TEL_ERR_INVALID_ARGUMENT,
			  verdict == TEL_CTRL_BAD_VERSION ? TEL_CODE_BAD_VERSION : TEL_CODE_BAD_INTERVAL,
			  "Possible proto version mismatch or invalid streaming interval - "
			  "client=%s, proto version=%s, streaming interval=%llds (valid %u-%ds)",
			  s->peer, req->version && req->version[0] ? req->version : "(none)",
			  (long long)iv, tel->settings.min_interval_s, TEL_MAX_INTERVAL_S);
		s->streaming = 0;
		tel_set_state(tel, TEL_STATE_CONNECTED, 0);
		return;
	}
	first = !s->streaming;
	metrics_filter_set(&tel->filter, req->metric_subscriptions, req->n_metric_subscriptions);
	tel->interval_s = iv;
	if (s->data.call == NULL &&
	    call_open(s, &s->data, TEL_PATH_DATA, TAG_DATA_STATUS, TAG_DATA_RECV) == 0) {
		grpc_op op;

		memset(&op, 0, sizeof(op));
		op.op = GRPC_OP_SEND_INITIAL_METADATA;
		start(s, &s->data, &op, 1, TAG_DATA_START);
	}
	if (first) {
		tel->next_due_ms = now_mono_ms();	/* the initial batch goes at once */
	} else {
		tel->next_due_ms = tel->last_batch_ms + iv * 1000;
	}
	s->streaming = 1;
	tel_set_state(tel, TEL_STATE_CONNECTED, iv);
	log_info("telemetry: streaming interval %llds, %zu subscription(s)", (long long)iv,
		 req->n_metric_subscriptions);
}

/* ---- how a call ended ---------------------------------------------------- */

static void
record_failure(struct tel_session *s, const struct tel_call *c, const char *which)
{
	struct tel *tel = s->tel;
	const char *es = c->error_string ? c->error_string : "";
	const char *name = (size_t)c->status < ARRAY_LEN(status_names) ?
	    status_names[c->status] : "Unknown";
	char details[256];
	int type = TEL_ERR_STREAMING;
	int code = s->connected ? TEL_CODE_STREAM_LOST : TEL_CODE_CONNECT;
	size_t n = GRPC_SLICE_LENGTH(c->details);

	if (n >= sizeof(details))
		n = sizeof(details) - 1;
	memcpy(details, GRPC_SLICE_START_PTR(c->details), n);
	details[n] = '\0';
#define SEEN(word) (strcasestr(details, word) || strcasestr(es, word))
	if (SEEN("Peer name") || SEEN("not in peer certificate")) {
		type = TEL_ERR_AUTH;
		code = TEL_CODE_PEER_NAME;
	} else if (SEEN("certificate verify failed") || SEEN("unknown ca")) {
		type = TEL_ERR_AUTH;
		code = TEL_CODE_UNKNOWN_CA;
	} else if (SEEN("expired")) {
		type = TEL_ERR_AUTH;
		code = TEL_CODE_CERT_EXPIRED;
	} else if (SEEN("handshake") || SEEN("ssl") || SEEN("tls")) {
		type = TEL_ERR_AUTH;
		code = TEL_CODE_TLS_HANDSHAKE;
	} else if (!s->connected && s->failed_code != 0) {
		/* Under TLS 1.3 a collector that rejects our certificate just
		 * closes the socket; the pre-flight check tells us why. */
		type = TEL_ERR_AUTH;
		code = s->failed_code;
	} else if (SEEN("DNS") || SEEN("resolv")) {
		code = TEL_CODE_DNS;
	} else if (SEEN("deadline") || SEEN("timed out") || SEEN("timeout")) {
		code = TEL_CODE_TIMEOUT;
	} else if (c->status == GRPC_STATUS_OK) {
		snprintf(details, sizeof(details), "%s stream closed by the collector", which);
	}
#undef SEEN
	if (type == TEL_ERR_AUTH && !s->connected && s->failed_code != 0)
		tel_error(tel, type, code, "%s; rpc error: code = %s desc = %s",
			  s->preflight_msg, name, details);
	else
		tel_error(tel, type, code, "rpc error: code = %s desc = %s", name, details);
	if (es[0] != '\0')
		log_debug("telemetry: %s stream: %s", which, es);
}

static void
call_finished(struct tel_session *s, struct tel_call *c, const char *which)
{
	c->open = 0;
	if (tel_stopping(s->tel)) {
		/* tel_stop cancelled us: nothing to report. */
	} else if (s->acked_cancel) {
		log_info("telemetry: %s stream ended after cancellation (%s)", which,
			 c->status == GRPC_STATUS_OK ? "OK" : "cancelled");
	} else if (!s->ending) {
		record_failure(s, c, which);
	}
	session_end(s);
}

/* ---- the completion loop ------------------------------------------------- */

static void
handle_event(struct tel_session *s, enum tag_kind k, int ok)
{
	struct tel *tel = s->tel;
	ProtobufCMessage *m;

	switch (k) {
	case TAG_CTRL_SEND:
		s->ctrl.ops--;
		grpc_byte_buffer_destroy(s->ctrl.send_bb);
		s->ctrl.send_bb = NULL;
		s->ctrl.sending = 0;
		if (ok)
			ctrl_kick(s);
		break;
	case TAG_CTRL_RECV:
		s->ctrl.ops--;
		if (!ok || s->ctrl.recv_bb == NULL)
			break;	/* stream over; its status follows */
		m = bb_unpack(s->ctrl.recv_bb, &proto__control_request__descriptor);
		grpc_byte_buffer_destroy(s->ctrl.recv_bb);
		s->ctrl.recv_bb = NULL;
		if (m == NULL)
			tel_error(tel, TEL_ERR_INVALID_ARGUMENT, TEL_CODE_BAD_VERSION,
				  "malformed ControlRequest from client=%s", s->peer);
		else
			control_request(s, (Proto__ControlRequest *)m);
		protobuf_c_message_free_unpacked(m, NULL);
		if (!s->ending)
			recv_rearm(s, &s->ctrl, TAG_CTRL_RECV);
		break;
	case TAG_DATA_SEND:
		s->data.ops--;
		grpc_byte_buffer_destroy(s->data.send_bb);
		s->data.send_bb = NULL;
		s->data.sending = 0;
		pthread_mutex_lock(&tel->mu);
		if (ok) {
			tel->stats.messages_sent++;
			tel->stats.metrics_sent += s->inflight->nmetrics;
			tel->stats.batches_sent += s->inflight->last_of_batch;
		} else {
			tel->stats.dropped_send_failed += s->inflight->nmetrics;
		}
		pthread_mutex_unlock(&tel->mu);
		tel_msg_free(s->inflight);
		s->inflight = NULL;
		if (s->acked_cancel)
			ctrl_kick(s);	/* may now half-close the data stream */
		else
			data_kick(s);
		break;
	case TAG_DATA_RECV:
		s->data.ops--;
		if (!ok || s->data.recv_bb == NULL)
			break;
		m = bb_unpack(s->data.recv_bb, &proto__data_request__descriptor);
		grpc_byte_buffer_destroy(s->data.recv_bb);
		s->data.recv_bb = NULL;
		if (m != NULL && ((Proto__DataRequest *)m)->ack)
			TEL_STAT(tel, acks_received, 1);
		protobuf_c_message_free_unpacked(m, NULL);
		if (!s->ending)
			recv_rearm(s, &s->data, TAG_DATA_RECV);
		break;
	case TAG_CTRL_STATUS:
		s->ctrl.ops--;
		call_finished(s, &s->ctrl, "control");
		break;
	case TAG_DATA_STATUS:
		s->data.ops--;
		call_finished(s, &s->data, "data");
		break;
	case TAG_CTRL_CLOSE:
		s->ctrl.ops--;
		break;
	case TAG_DATA_START:
	case TAG_DATA_CLOSE:
		s->data.ops--;
		break;
	case TAG__COUNT:
		break;
	}
}

static gpr_timespec
deadline_for(struct tel_session *s)
{
	int64_t wake = 0, now;

	if (s->streaming && !s->ending)
		wake = s->tel->next_due_ms;
	if (s->acked_cancel && !s->ending)
		wake = s->close_deadline_ms;
	if (wake == 0)
		return gpr_inf_future(GPR_CLOCK_MONOTONIC);
	now = now_mono_ms();
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			    gpr_time_from_millis(wake > now ? wake - now : 0, GPR_TIMESPAN));
}

static grpc_channel *
channel_new(const struct tel_settings *st)
{
	grpc_ssl_pem_key_cert_pair pair = {
		.private_key = st->client_key_pem,
		.cert_chain = st->client_cert_pem,
	};
	int backoff = (int)st->retry_interval_s * 1000;
	grpc_arg args[] = {
		{ GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, { .integer = TEL_KEEPALIVE_MS } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, { .integer = 20000 } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, { .integer = 0 } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, { .integer = TEL_RECV_MAX } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, { .integer = 0 } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, { .integer = backoff } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, { .integer = backoff } },
		{ GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, { .integer = backoff } },
		{ GRPC_ARG_STRING, GRPC_ARG_PRIMARY_USER_AGENT_STRING, { .string = "vpn-agent" } },
	};
	grpc_channel_args cargs = { ARRAY_LEN(args), args };
	grpc_channel_credentials *creds;
	grpc_channel *ch;
	char target[TEL_COLLECTOR_MAX];

	snprintf(target, sizeof(target), "%s:%u", st->target_host, (unsigned)st->port);
	creds = grpc_ssl_credentials_create_ex(st->ca_pem, &pair, NULL, NULL);
	ch = grpc_channel_create(target, creds, &cargs);
	grpc_channel_credentials_release(creds);
	return ch;
}

static void
call_release(struct tel_call *c)
{
	if (c->call == NULL)
		return;
	grpc_call_unref(c->call);
	grpc_metadata_array_destroy(&c->md_initial);
	grpc_metadata_array_destroy(&c->md_trailing);
	grpc_slice_unref(c->details);
	gpr_free((void *)c->error_string);
	if (c->recv_bb)
		grpc_byte_buffer_destroy(c->recv_bb);
	c->call = NULL;
}

void
tel_session_run(struct tel *tel, int preflight_code, const char *preflight_msg)
{
	struct tel_session *s = xcalloc(1, sizeof(*s));
	struct tel_msg *hello;
	grpc_event ev;

	s->tel = tel;
	s->failed_code = preflight_code;
	s->preflight_msg = preflight_msg;
	s->ctrl.details = grpc_empty_slice();
	s->data.details = grpc_empty_slice();
	str_copy(s->peer, sizeof(s->peer), tel->settings.target_host);
	TEL_STAT(tel, connect_attempts, 1);
	s->channel = channel_new(&tel->settings);
	s->cq = grpc_completion_queue_create_for_next(NULL);
	pthread_mutex_lock(&tel->mu);
	tel->session = s;
	pthread_mutex_unlock(&tel->mu);

	hello = control_response(tel, 1, 0);
	if (call_open(s, &s->ctrl, TEL_PATH_CONTROL, TAG_CTRL_STATUS, TAG_CTRL_RECV) == -1 ||
	    send_bytes(s, &s->ctrl, hello->buf, hello->len, 1, TAG_CTRL_SEND) == -1)
		session_end(s);
	tel_msg_free(hello);

	while (s->ctrl.ops + s->data.ops > 0) {
		ev = grpc_completion_queue_next(s->cq, deadline_for(s), NULL);
		if (ev.type == GRPC_QUEUE_TIMEOUT) {
			if (s->acked_cancel && now_mono_ms() >= s->close_deadline_ms)
				session_end(s);
			else if (s->streaming && now_mono_ms() >= tel->next_due_ms)
				batch_due(s);
			continue;
		}
		if (ev.type != GRPC_OP_COMPLETE)
			break;
		handle_event(s, (enum tag_kind)((char *)ev.tag - s->tags), ev.success);
	}

	pthread_mutex_lock(&tel->mu);
	tel->session = NULL;
	pthread_mutex_unlock(&tel->mu);
	if (s->acked_cancel)
		tel->interval_s = 0;	/* cancelled: nothing to buffer for */
	call_release(&s->ctrl);
	call_release(&s->data);
	tel_queue_clear(&s->ctrl_out);
	tel_msg_free(s->inflight);
	grpc_channel_destroy(s->channel);
	grpc_completion_queue_shutdown(s->cq);
	do {
		ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	} while (ev.type != GRPC_QUEUE_SHUTDOWN);
	grpc_completion_queue_destroy(s->cq);
	tel_set_state(tel, TEL_STATE_DISCONNECTED, 0);
	free(s);
}
