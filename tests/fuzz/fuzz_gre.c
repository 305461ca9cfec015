/*
 * libFuzzer target for GRE (agent/esp/gre_wire.c): gre_decap on arbitrary
 * bytes must stay inside them and leave something inside; and whatever
 * gre_encap wraps (the input as the inner packet) gre_decap unwraps to the
 * same bytes.
 */
#include "esp/gre.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[GRE_OUTER + 65536];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, total;

	if (size > sizeof(buf) - GRE_OUTER)
		return 0;
	if (gre_decap(data, size, &off) == 0 && (off < 24 || off >= size))
		abort();
	memcpy(buf + GRE_OUTER, data, size);
	total = gre_encap(buf, size, 0x0100000a, 0x0200000a, (uint16_t)size);
	if (total != GRE_OUTER + size)
		abort();
	if (gre_decap(buf, total, &off) == 0) {
		if (off != GRE_OUTER || memcmp(buf + off, data, size) != 0)
			abort();
	} else if (size != 0) {
		abort();	/* only an empty inner packet is refused */
	}
	return 0;
}
