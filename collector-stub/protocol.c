/*
 * What the collector says on the two streams (the FTD telemetry protocol):
 * a ControlResponse with init_streaming is answered with the device's
 * ControlRequest, an ack ends both of its calls with OK, every DataResponse
 * is recorded and acked. Also ties calls to device records (a device is
 * its client certificate's CN, whatever ftd_uuid it claims), and applies
 * the control API's interval and cancel requests. No gRPC calls here.
 */
#include "stub.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static char collector_uuid[UUID_STR_LEN];

void
proto_init(void)
{
	uuid_v4(collector_uuid);
}

const char *
proto_collector_uuid(void)
{
	return collector_uuid;
}

static void
active_count(struct call *c, int delta)
{
	struct device *d = call_dev(c);

	if (d == NULL)
		return;
	if (call_kind(c) == CALL_CONTROL)
		d->control_active += (unsigned)delta;
	else
		d->data_active += (unsigned)delta;
}

static void
call_link(struct call *c, struct device *d)
{
	if (call_dev(c) == d)
		return;
	active_count(c, -1);
	call_set_dev(c, d);
	active_count(c, +1);
	if (call_kind(c) == CALL_CONTROL) {
		d->control_streams++;
		str_copy(d->peer, sizeof(d->peer), call_peer(c));
		if (call_cert_cn(c)[0] != '\0')
			str_copy(d->cert_cn, sizeof(d->cert_cn), call_cert_cn(c));
		return;
	}
	d->data_streams++;
	for (struct call *o = calls_first(); o != NULL; o = call_next(o)) {
		if (call_kind(o) == CALL_CONTROL && call_dev(o) == d && call_open(o))
			log_info("RPC context={device:%s controlStream:%p dataStream:%p}",
			    d->uuid, (void *)o, (void *)c);
	}
}

/* The ControlStream of a device on the same connection as c, if any. */
static struct device *
peer_device(const struct call *c)
{
	for (struct call *o = calls_first(); o != NULL; o = call_next(o)) {
		if (call_kind(o) == CALL_CONTROL && call_dev(o) != NULL && call_open(o) &&
		    strcmp(call_peer(o), call_peer(c)) == 0)
			return call_dev(o);
	}
	return NULL;
}

/* A device's calls: linked to it, or (a DataStream that has sent nothing
 * yet) on the same connection as one of its ControlStreams. */
static int
call_of_device(const struct call *c, const struct device *d)
{
	if (call_dev(c) == d)
		return 1;
	return call_dev(c) == NULL && call_kind(c) == CALL_DATA && peer_device(c) == d;
}

/* A DataStream on the connection of a known ControlStream belongs to that
 * device before its first batch (a cancel must reach it). */
void
proto_call_started(struct call *c)
{
	struct device *d;

	if (call_kind(c) == CALL_DATA && (d = peer_device(c)) != NULL)
		call_link(c, d);
}

void
proto_call_ended(struct call *c)
{
	active_count(c, -1);
	call_set_dev(c, NULL);
}

static int
send_control_request(struct call *c, int cancel)
{
	Proto__ControlRequest req = PROTO__CONTROL_REQUEST__INIT;
	Proto__StreamCancellationMessage cm = PROTO__STREAM_CANCELLATION_MESSAGE__INIT;
	struct device *d = call_dev(c);
	char subs[1024];

	req.version = d->settings.version;
	if (cancel) {
		cm.collector_uuid = collector_uuid;
		cm.cancel_stream = 1;
		req.cancellation_message = &cm;
	} else {
		req.interval = d->settings.interval;
		req.n_metric_subscriptions = d->settings.subs.n;
		req.metric_subscriptions = d->settings.subs.v;
	}
	if (call_send(c, &req.base) == -1)
		return -1;
	device_note_request(d, &d->settings, cancel);
	str_list_join(&d->settings.subs, subs, sizeof(subs));
	if (cancel)
		log_info("ControlRequest to device=%s: cancel stream (collector_uuid=%s)",
		    d->uuid, collector_uuid);
	else
		log_info("ControlRequest to device=%s: version=%s interval=%lld subscriptions=%s",
		    d->uuid, d->settings.version, (long long)d->settings.interval, subs);
	return 0;
}

/* Untrusted text for a log line: printable ASCII, '?' for the rest. */
static const char *
printable(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
	return out;
}

/* The device a message is from: the CN of the client certificate its
 * connection presented (agents' CNs are their device UUIDs). A claimed
 * ftd_uuid must be that CN: a device with a valid certificate of its own
 * cannot pose as another. A refused call ends PERMISSION_DENIED and
 * nothing is stored for it. NULL when refused or at the device cap. */
static struct device *
message_device(struct call *c, const char *ftd_uuid)
{
	const char *cn = call_cert_cn(c);
	char claim[STUB_FIELD_MAX], cert[STUB_FIELD_MAX];
	struct device *d;

	if (cn[0] == '\0' || (ftd_uuid[0] != '\0' && strcmp(ftd_uuid, cn) != 0)) {
		log_warnx("%s from peer=%s: device claims ftd_uuid %s but its certificate CN "
		    "is %s; refused", call_kind_names[call_kind(c)], call_peer(c),
		    ftd_uuid[0] != '\0' ? printable(ftd_uuid, claim, sizeof(claim)) : "(none)",
		    cn[0] != '\0' ? printable(cn, cert, sizeof(cert)) : "(none)");
		call_finish(c, CALL_END_DENIED, "ftd_uuid is not the client certificate's CN");
		return NULL;
	}
	if ((d = device_get(cn)) == NULL) {
		log_warnx("device table full (%d), refusing device=%s", STUB_DEVICES_MAX, cn);
		call_finish(c, CALL_END_FULL, "collector device table full");
		return NULL;
	}
	call_link(c, d);
	return d;
}

static void
control_init(struct call *c, struct device *d, const Proto__ControlResponse *m)
{
	char caps[512];

	str_copy(d->hostname, sizeof(d->hostname), m->hostname);
	str_copy(d->version, sizeof(d->version), m->version);
	str_list_copy(&d->caps, m->capabilities, m->n_capabilities);
	d->init_streaming = 1;
	str_list_join(&d->caps, caps, sizeof(caps));
	log_info("Receiving metrics from device=%s", d->uuid);
	log_debug("ControlResponse from device=%s: version=%s hostname=%s capabilities=%s "
	    "cert_cn=%s peer=%s", d->uuid, m->version, m->hostname, caps, call_cert_cn(c),
	    call_peer(c));
	for (struct call *o = calls_first(); o != NULL; o = call_next(o)) {
		if (call_kind(o) == CALL_DATA && call_dev(o) == NULL &&
		    strcmp(call_peer(o), call_peer(c)) == 0)
			call_link(o, d);
	}
	send_control_request(c, 0);
}

void
proto_control(struct call *c, const Proto__ControlResponse *m)
{
	struct device *d;

	if ((d = message_device(c, m->ftd_uuid)) == NULL)
		return;
	if (m->init_streaming) {
		control_init(c, d, m);
	} else if (m->ack) {
		d->cancel_acks++;
		log_info("ControlStream - cancel acknowledged by device=%s", d->uuid);
		for (struct call *o = calls_first(); o != NULL; o = call_next(o)) {
			if (call_of_device(o, d))
				call_finish(o, CALL_END_OK, "cancel acknowledged");
		}
	} else {
		/* Not in the proto: read as the device asking to stop (notes
		 * §2.9), answered with the cancellation message as its ack. */
		d->stop_requests++;
		log_info("ControlStream - device=%s sent init_streaming=false: stop request",
		    d->uuid);
		send_control_request(c, 1);
	}
}

void
proto_data(struct call *c, const Proto__DataResponse *m)
{
	Proto__DataRequest ack = PROTO__DATA_REQUEST__INIT;
	struct device *d;
	size_t dropped = 0;

	if ((d = message_device(c, m->ftd_uuid)) == NULL)
		return;
	device_note_batch(d, m);
	for (size_t i = 0; i < m->n_metrics; i++) {
		if (series_update(d->uuid, m->metrics[i]) == -1)
			dropped++;
	}
	log_info("received metric batch of count=%zu from device=%s", m->n_metrics, d->uuid);
	if (dropped > 0)
		log_warnx("%zu series from device=%s over the series cap (%d), not kept", dropped,
		    d->uuid, STUB_SERIES_MAX);
	ack.ack = 1;
	call_send(c, &ack.base);
}

static void
settings_apply(struct settings *s, const struct interval_change *chg)
{
	s->interval = chg->interval;
	if (chg->has_subs)
		str_list_copy(&s->subs, chg->subs.v, chg->subs.n);
	if (chg->version != NULL) {
		free(s->version);
		s->version = xstrdup(chg->version);
	}
}

int
proto_set_interval(const struct interval_change *chg, int *sent)
{
	struct device *target = NULL;

	*sent = 0;
	stub_lock();
	if (chg->device != NULL) {
		if ((target = device_find(chg->device)) == NULL) {
			stub_unlock();
			return -1;
		}
		settings_apply(&target->settings, chg);
	} else {
		struct settings def = { 0, NULL, { 0, NULL } };

		settings_copy(&def, devices_defaults());
		settings_apply(&def, chg);
		devices_set_defaults(&def);
		settings_free(&def);
		for (struct device *d = devices_first(); d != NULL; d = d->next)
			settings_apply(&d->settings, chg);
	}
	for (struct call *c = calls_first(); c != NULL; c = call_next(c)) {
		struct device *d = call_dev(c);

		if (call_kind(c) != CALL_CONTROL || d == NULL || !d->init_streaming ||
		    (target != NULL && d != target))
			continue;
		if (send_control_request(c, 0) == 0)
			(*sent)++;
	}
	stub_unlock();
	return 0;
}

int
proto_cancel(const char *uuid)
{
	struct device *d;
	int sent = 0;

	stub_lock();
	if ((d = device_find(uuid)) != NULL) {
		for (struct call *c = calls_first(); c != NULL; c = call_next(c)) {
			if (call_kind(c) == CALL_CONTROL && call_dev(c) == d &&
			    send_control_request(c, 1) == 0)
				sent++;
		}
	}
	stub_unlock();
	return sent;
}
