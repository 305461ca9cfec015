/*
 * libFuzzer: arbitrary bytes as the collector's ControlRequest, through the
 * decoder and the accept/refuse/cancel decision.
 */
#include <stddef.h>
#include <stdint.h>

#include "telemetry/tel_control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Proto__ControlRequest *req = tel_control_decode(data, size);

	if (req == NULL)
		return 0;
	(void)tel_control_check(req, 60);
	(void)tel_control_check(req, 1);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	return 0;
}
