/*
 * The gRPC side of the collector-stub, and the only file that calls gRPC:
 * an mTLS server (client certificates required and verified) for the two
 * bidi streams of GrpcStreamingService, one completion-queue thread, each
 * call's life (its batches counted, unref'd when the last tag is back) and
 * its send queue (at most one SEND_MESSAGE in flight). protocol.c decides
 * what is said; this file moves the bytes.
 */
#include "stub.h"
#include "core/log.h"
#include "core/util.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const call_kind_names[CALL__COUNT] = { "ControlStream", "DataStream" };
static const char *const call_methods[CALL__COUNT] = {
	"/proto.GrpcStreamingService/ControlStream",
	"/proto.GrpcStreamingService/DataStream",
};
static_assert(ARRAY_LEN(call_kind_names) == CALL__COUNT, "call kind names");

/* One tag per kind of batch; each is outstanding at most once per call. */
enum op_kind { OP_ACCEPT, OP_START, OP_RECV, OP_SEND, OP_STATUS, OP__COUNT };

static const char *const status_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};
static_assert(ARRAY_LEN(status_names) == GRPC_STATUS_UNAUTHENTICATED + 1, "status names");

struct call;
struct op_tag {
	struct call	*c;
	enum op_kind	 op;
};

struct sendq_item {
	grpc_byte_buffer	*bb;
	struct sendq_item	*next;
};

struct call {
	enum call_kind		 kind;
	uint64_t		 id;
	grpc_call		*call;
	gpr_timespec		 deadline;
	grpc_metadata_array	 md;
	struct op_tag		 tags[OP__COUNT];
	unsigned		 outstanding;	/* batches started, tag not yet back */
	int			 cancelled;	/* RECV_CLOSE_ON_SERVER's answer */
	int			 closed;
	grpc_byte_buffer	*recv_bb;
	grpc_byte_buffer	*send_bb;	/* the one SEND_MESSAGE in flight */
	struct sendq_item	*q_head, *q_tail;
	size_t			 q_len;
	int			 finishing;	/* status queued behind the sends */
	int			 status_started;
	grpc_status_code	 status;
	grpc_slice		 status_details;
	char			 reason[128];
	struct device		*dev;
	char			 peer[STUB_FIELD_MAX];
	char			 cert_cn[STUB_FIELD_MAX];
	struct call		*prev, *next;	/* live list */
};

static struct {
	grpc_server		*srv;
	grpc_completion_queue	*cq;
	void			*methods[CALL__COUNT];
	struct call		*pending[CALL__COUNT];	/* awaiting a new call */
	struct call		*live;
	int			 shutting_down, shutdown_done;
	struct op_tag		 shutdown_tag;
	pthread_t		 thread;
	uint64_t		 next_id;
} S;

static void pump(struct call *c);

/* gRPC core's own log lines, through ours; mTLS rejections are named. */
static void
core_log(gpr_log_func_args *a)
{
	if (strstr(a->message, "Handshake failed") != NULL)
		log_warnx("mTLS handshake with a client failed: %s", a->message);
	else if (a->severity == GPR_LOG_SEVERITY_ERROR)
		log_warnx("grpc: %s (%s:%d)", a->message, a->file, a->line);
	else
		log_debug("grpc: %s (%s:%d)", a->message, a->file, a->line);
}

static grpc_byte_buffer *
pb_pack(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	grpc_slice s = grpc_slice_malloc(len);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

static ProtobufCMessage *
pb_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc)
{
	grpc_byte_buffer_reader r;
	ProtobufCMessage *m;
	grpc_slice s;

	if (!grpc_byte_buffer_reader_init(&r, bb))
		return NULL;
	s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	return m;
}

static const char *
call_device(const struct call *c)
{
	return c->dev != NULL ? c->dev->uuid : "(unknown)";
}

static int
batch_start(struct call *c, const grpc_op *ops, size_t n, enum op_kind op)
{
	grpc_call_error err = grpc_call_start_batch(c->call, ops, n, &c->tags[op], NULL);

	if (err != GRPC_CALL_OK) {
		log_warnx("%s call %llu: start_batch failed (%d)", call_kind_names[c->kind],
		    (unsigned long long)c->id, (int)err);
		return -1;
	}
	c->outstanding++;
	return 0;
}

/* Queues one message; it goes out when the previous send has completed. */
int
call_send(struct call *c, const ProtobufCMessage *m)
{
	struct sendq_item *it;

	if (c->closed || c->finishing)
		return -1;
	if (c->q_len >= STUB_SENDQ_MAX) {
		log_warnx("%s of device=%s: send queue full (%d), message dropped",
		    call_kind_names[c->kind], call_device(c), STUB_SENDQ_MAX);
		return -1;
	}
	it = xcalloc(1, sizeof(*it));
	it->bb = pb_pack(m);
	if (c->q_tail != NULL)
		c->q_tail->next = it;
	else
		c->q_head = it;
	c->q_tail = it;
	c->q_len++;
	pump(c);
	return 0;
}

static void
sendq_clear(struct call *c)
{
	struct sendq_item *it, *next;

	for (it = c->q_head; it != NULL; it = next) {
		next = it->next;
		grpc_byte_buffer_destroy(it->bb);
		free(it);
	}
	c->q_head = c->q_tail = NULL;
	c->q_len = 0;
}

static void
pump(struct call *c)
{
	grpc_op op;

	if (c->send_bb != NULL || c->status_started || c->closed)
		return;
	memset(&op, 0, sizeof(op));
	if (c->q_head != NULL) {
		struct sendq_item *it = c->q_head;

		c->q_head = it->next;
		if (c->q_head == NULL)
			c->q_tail = NULL;
		c->q_len--;
		c->send_bb = it->bb;
		free(it);
		op.op = GRPC_OP_SEND_MESSAGE;
		op.data.send_message.send_message = c->send_bb;
		if (batch_start(c, &op, 1, OP_SEND) == -1) {
			grpc_byte_buffer_destroy(c->send_bb);
			c->send_bb = NULL;
			sendq_clear(c);
		}
		return;
	}
	if (c->finishing) {
		op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
		op.data.send_status_from_server.trailing_metadata_count = 0;
		op.data.send_status_from_server.status = c->status;
		op.data.send_status_from_server.status_details = &c->status_details;
		c->status_started = 1;
		batch_start(c, &op, 1, OP_STATUS);
	}
}

/* Ends the call with a status once the queued messages are out. */
void
call_finish(struct call *c, enum call_end end, const char *reason)
{
	grpc_status_code code = end == CALL_END_OK ? GRPC_STATUS_OK :
	    end == CALL_END_FULL ? GRPC_STATUS_RESOURCE_EXHAUSTED :
	    end == CALL_END_DENIED ? GRPC_STATUS_PERMISSION_DENIED : GRPC_STATUS_INVALID_ARGUMENT;

	if (c->finishing || c->closed)
		return;
	c->finishing = 1;
	c->status = code;
	c->status_details = grpc_slice_from_copied_string(code == GRPC_STATUS_OK ? "" : reason);
	str_copy(c->reason, sizeof(c->reason), reason);
	pump(c);
}

static void
recv_arm(struct call *c)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	batch_start(c, &op, 1, OP_RECV);
}

static void
call_free(struct call *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (S.live == c)
		S.live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	sendq_clear(c);
	if (c->send_bb != NULL)
		grpc_byte_buffer_destroy(c->send_bb);
	if (c->finishing)
		grpc_slice_unref(c->status_details);
	grpc_metadata_array_destroy(&c->md);
	if (c->call != NULL)
		grpc_call_unref(c->call);
	free(c);
}

static void
op_done(struct call *c)
{
	if (--c->outstanding == 0)
		call_free(c);
}

/* Keeps exactly one request for a new call outstanding per method. */
static void
request_call(enum call_kind kind)
{
	struct call *c = xcalloc(1, sizeof(*c));
	grpc_call_error err;

	c->kind = kind;
	for (int i = 0; i < OP__COUNT; i++) {
		c->tags[i].c = c;
		c->tags[i].op = (enum op_kind)i;
	}
	grpc_metadata_array_init(&c->md);
	err = grpc_server_request_registered_call(S.srv, S.methods[kind], &c->call, &c->deadline,
	    &c->md, NULL, S.cq, S.cq, &c->tags[OP_ACCEPT]);
	if (err != GRPC_CALL_OK) {
		log_warnx("request for a new %s failed (%d)", call_kind_names[kind], (int)err);
		grpc_metadata_array_destroy(&c->md);
		free(c);
		return;
	}
	S.pending[kind] = c;
}

static void
peer_identity(struct call *c)
{
	grpc_auth_context *ctx = grpc_call_auth_context(c->call);
	char *peer = grpc_call_get_peer(c->call);

	str_copy(c->peer, sizeof(c->peer), peer != NULL ? peer : "");
	gpr_free(peer);
	if (ctx != NULL) {
		grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx,
		    GRPC_X509_CN_PROPERTY_NAME);
		const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);

		if (p != NULL && p->value != NULL)
			str_copy(c->cert_cn, sizeof(c->cert_cn), p->value);
		grpc_auth_context_release(ctx);
	}
}

static void
on_accept(struct call *c, int ok)
{
	grpc_op ops[2];

	S.pending[c->kind] = NULL;
	if (!S.shutting_down)
		request_call(c->kind);
	if (!ok) {
		grpc_metadata_array_destroy(&c->md);
		free(c);
		return;
	}
	c->id = ++S.next_id;
	peer_identity(c);
	c->next = S.live;
	if (S.live != NULL)
		S.live->prev = c;
	S.live = c;
	log_info("%s RPC invoked", call_kind_names[c->kind]);
	log_debug("%s call %llu from peer=%s cert_cn=%s", call_kind_names[c->kind],
	    (unsigned long long)c->id, c->peer, c->cert_cn);

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = 0;
	ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[1].data.recv_close_on_server.cancelled = &c->cancelled;
	if (batch_start(c, ops, 2, OP_START) == -1) {
		grpc_call_cancel(c->call, NULL);
		call_free(c);
		return;
	}
	proto_call_started(c);
	recv_arm(c);
	if (S.shutting_down)
		grpc_call_cancel(c->call, NULL);
}

static void
on_closed(struct call *c)
{
	const char *status, *reason;

	c->closed = 1;
	if (c->cancelled) {
		status = "CANCELLED";
		reason = S.shutting_down ? "collector shutting down" :
		    "cancelled by the device or the connection was lost";
	} else {
		status = status_names[c->status];
		reason = c->reason;
	}
	log_info("%s ended: device=%s status=%s reason=%s", call_kind_names[c->kind],
	    call_device(c), status, reason);
	proto_call_ended(c);
	sendq_clear(c);
}

/* Decoding and the per-metric debug lines run outside the lock. */
static ProtobufCMessage *
recv_decode(struct call *c, grpc_byte_buffer *bb)
{
	ProtobufCMessage *m = pb_unpack(bb, c->kind == CALL_CONTROL ?
	    &proto__control_response__descriptor : &proto__data_response__descriptor);

	grpc_byte_buffer_destroy(bb);
	if (m != NULL && c->kind == CALL_DATA && log_enabled(LOG_LEVEL_DEBUG)) {
		const Proto__DataResponse *d = (const Proto__DataResponse *)m;
		struct strbuf sb;

		strbuf_init(&sb, 8192);
		for (size_t i = 0; i < d->n_metrics; i++) {
			strbuf_reset(&sb);
			go_metric_text(&sb, d->metrics[i]);
			log_debug("METRIC=%s", sb.data != NULL ? sb.data : "");
		}
		strbuf_free(&sb);
	}
	return m;
}

static void
on_recv(struct call *c, int ok)
{
	grpc_byte_buffer *bb = c->recv_bb;
	ProtobufCMessage *m = NULL;
	int failed = 0;

	c->recv_bb = NULL;
	if (bb != NULL)
		m = recv_decode(c, bb);
	else if (ok)
		failed = grpc_call_failed_before_recv_message(c->call);
	stub_lock();
	if (bb != NULL && m == NULL) {
		log_warnx("%s of device=%s: undecodable message", call_kind_names[c->kind],
		    call_device(c));
		call_finish(c, CALL_END_BAD_MESSAGE, "cannot decode message");
	} else if (m != NULL && c->closed) {
		log_debug("%s call %llu: message after the call ended, dropped",
		    call_kind_names[c->kind], (unsigned long long)c->id);
	} else if (m != NULL) {
		if (c->kind == CALL_CONTROL)
			proto_control(c, (const Proto__ControlResponse *)m);
		else
			proto_data(c, (const Proto__DataResponse *)m);
		if (!c->finishing && !c->closed)
			recv_arm(c);
	} else if (ok && !failed) {
		log_info("%s - received done signal from device=%s", call_kind_names[c->kind],
		    call_device(c));
		call_finish(c, CALL_END_OK, "half-closed by the device");
	}
	op_done(c);
	stub_unlock();
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

static void
event_handle(struct op_tag *t, int ok)
{
	struct call *c = t->c;

	if (t->op == OP_RECV) {
		on_recv(c, ok);
		return;
	}
	stub_lock();
	switch (t->op) {
	case OP_ACCEPT:
		if (t == &S.shutdown_tag) {
			S.shutdown_done = 1;
			break;
		}
		on_accept(c, ok);
		break;
	case OP_START:
		on_closed(c);
		op_done(c);
		break;
	case OP_SEND:
		grpc_byte_buffer_destroy(c->send_bb);
		c->send_bb = NULL;
		if (!ok)
			sendq_clear(c);
		pump(c);
		op_done(c);
		break;
	case OP_STATUS:
	case OP_RECV:
	case OP__COUNT:
		op_done(c);
		break;
	}
	stub_unlock();
}

static int
cq_done(void)
{
	int done;

	stub_lock();
	done = S.shutdown_done && S.live == NULL && S.pending[CALL_CONTROL] == NULL &&
	    S.pending[CALL_DATA] == NULL;
	stub_unlock();
	return done;
}

static void *
cq_main(void *arg)
{
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(S.cq,
		    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE)
			event_handle(ev.tag, ev.success);
		if (cq_done())
			break;
	}
	return NULL;
}

static grpc_server_credentials *
creds_load(const char *dir)
{
	static const char *const names[] = { "ca.crt", "server.crt", "server.key" };
	char *pem[3] = { NULL, NULL, NULL }, path[4096];
	grpc_server_credentials *creds = NULL;
	grpc_ssl_pem_key_cert_pair pair;
	grpc_ssl_server_certificate_config *cfg;
	size_t len;

	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (file_read_all(path, STUB_CERT_MAX, &pem[i], &len) == -1) {
			log_warn("cannot read %s", path);
			goto done;
		}
	}
	pair.cert_chain = pem[1];
	pair.private_key = pem[2];
	cfg = grpc_ssl_server_certificate_config_create(pem[0], &pair, 1);
	creds = grpc_ssl_server_credentials_create_with_options(
	    grpc_ssl_server_credentials_create_options_using_config(
	    GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, cfg));
	if (creds == NULL)
		log_warnx("cannot build TLS credentials from %s", dir);
done:
	free(pem[0]);
	free(pem[1]);
	free_secret(pem[2]);
	return creds;
}

int
server_start(const struct server_opts *o, int *port)
{
	grpc_arg args[3];
	grpc_channel_args cargs = { ARRAY_LEN(args), args };
	grpc_server_credentials *creds;

	memset(&S, 0, sizeof(S));
	S.shutdown_tag.op = OP_ACCEPT;
	grpc_init();
	gpr_set_log_function(core_log);
	if ((creds = creds_load(o->certs_dir)) == NULL) {
		grpc_shutdown();
		return -1;
	}
	/* Agents' keepalive pings (>= 30 s) must never earn a GOAWAY. */
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
	args[0].value.integer = 10000;
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS;
	args[1].value.integer = 1;
	/* gRPC sets SO_REUSEPORT by default: a second stub on the same port
	 * would bind silently and take half of the agents. */
	args[2].type = GRPC_ARG_INTEGER;
	args[2].key = GRPC_ARG_ALLOW_REUSEPORT;
	args[2].value.integer = 0;
	S.srv = grpc_server_create(&cargs, NULL);
	for (int k = 0; k < CALL__COUNT; k++)
		S.methods[k] = grpc_server_register_method(S.srv, call_methods[k], NULL,
		    GRPC_SRM_PAYLOAD_NONE, 0);
	S.cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(S.srv, S.cq, NULL);
	*port = grpc_server_add_http2_port(S.srv, o->listen, creds);
	grpc_server_credentials_release(creds);
	if (*port == 0) {
		log_warnx("cannot listen at address=%s", o->listen);
		grpc_server_destroy(S.srv);
		grpc_completion_queue_shutdown(S.cq);
		while (grpc_completion_queue_next(S.cq, gpr_inf_future(GPR_CLOCK_REALTIME),
		    NULL).type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(S.cq);
		grpc_shutdown();
		return -1;
	}
	grpc_server_start(S.srv);
	for (int k = 0; k < CALL__COUNT; k++)
		request_call((enum call_kind)k);
	if (pthread_create(&S.thread, NULL, cq_main, NULL) != 0)
		fatalx("cannot start the completion-queue thread");
	return 0;
}

void
server_stop(void)
{
	stub_lock();
	S.shutting_down = 1;
	grpc_server_shutdown_and_notify(S.srv, S.cq, &S.shutdown_tag);
	grpc_server_cancel_all_calls(S.srv);
	stub_unlock();
	pthread_join(S.thread, NULL);
	grpc_server_destroy(S.srv);
	grpc_completion_queue_shutdown(S.cq);
	while (grpc_completion_queue_next(S.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	    GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(S.cq);
	grpc_shutdown();
}

struct call *
calls_first(void)
{
	return S.live;
}

struct call *
call_next(const struct call *c)
{
	return c->next;
}

enum call_kind
call_kind(const struct call *c)
{
	return c->kind;
}

const char *
call_peer(const struct call *c)
{
	return c->peer;
}

const char *
call_cert_cn(const struct call *c)
{
	return c->cert_cn;
}

struct device *
call_dev(const struct call *c)
{
	return c->dev;
}

void
call_set_dev(struct call *c, struct device *d)
{
	c->dev = d;
}

int
call_open(const struct call *c)
{
	return !c->closed && !c->finishing;
}
