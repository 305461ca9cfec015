/*
 * ControlRequest validation: the proto major version must
 * be 1, the interval within [min, 24 h]; a cancellation wins over both.
 */
#include "telemetry/tel_control.h"
#include "core/util.h"

#include <assert.h>
#include <string.h>

const char *const tel_ctrl_verdict_names[TEL_CTRL__COUNT] = {
	[TEL_CTRL_ACCEPT] = "accept",
	[TEL_CTRL_CANCEL] = "cancel",
	[TEL_CTRL_BAD_VERSION] = "bad_version",
	[TEL_CTRL_BAD_INTERVAL] = "bad_interval",
};
static_assert(ARRAY_LEN(tel_ctrl_verdict_names) == TEL_CTRL__COUNT, "verdict names");

Proto__ControlRequest *
tel_control_decode(const uint8_t *buf, size_t len)
{
	return proto__control_request__unpack(NULL, len, buf);
}

/* "1" and "1.x" are ours; anything else (including none) is not. */
static int
version_ok(const char *v)
{
	return v != NULL && (strcmp(v, "1") == 0 || strncmp(v, "1.", 2) == 0);
}

enum tel_ctrl_verdict
tel_control_check(const Proto__ControlRequest *req, unsigned min_interval_s)
{
	if (req->cancellation_message != NULL && req->cancellation_message->cancel_stream)
		return TEL_CTRL_CANCEL;
	if (!version_ok(req->version))
		return TEL_CTRL_BAD_VERSION;
	if (req->interval < (int64_t)min_interval_s || req->interval > TEL_MAX_INTERVAL_S)
		return TEL_CTRL_BAD_INTERVAL;
	return TEL_CTRL_ACCEPT;
}
