/*
 * The collector's ControlRequest, decided without any I/O: cancel, refuse
 * (bad version or interval, R-4.4) or accept. Pure, so unit tests and the
 * fuzzer run it on arbitrary bytes.
 */
#ifndef TELEMETRY_TEL_CONTROL_H
#define TELEMETRY_TEL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "telemetry.pb-c.h"

enum tel_ctrl_verdict {
	TEL_CTRL_ACCEPT,
	TEL_CTRL_CANCEL,
	TEL_CTRL_BAD_VERSION,
	TEL_CTRL_BAD_INTERVAL,
	TEL_CTRL__COUNT
};
extern const char *const tel_ctrl_verdict_names[TEL_CTRL__COUNT];

#define TEL_PROTO_VERSION "1.0"
#define TEL_MAX_INTERVAL_S 86400

/* NULL when the bytes are not a ControlRequest. Free with
 * protobuf_c_message_free_unpacked(&req->base, NULL). */
Proto__ControlRequest *tel_control_decode(const uint8_t *buf, size_t len);
enum tel_ctrl_verdict tel_control_check(const Proto__ControlRequest *req, unsigned min_interval_s);

#endif
