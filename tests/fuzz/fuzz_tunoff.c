/*
 * libFuzzer target for the TUN offloads (agent/esp/tunoff.c): any read
 * (virtio-net header and packet) is cut within the caller's buffer or
 * refused; whatever it was cut into, fed to the merge (and the input's own
 * bytes as packets too), leaves as frames whose lengths add up, each
 * packet exactly once.
 */
#include "esp/tunoff.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP (TUNOFF_FRAME_MAX + TUNOFF_SEGS_MAX * 120)

static uint8_t out[CAP + 1];
static size_t lens[TUNOFF_SEGS_MAX];
static const uint8_t *pkts[TUNOFF_SEGS_MAX];
static uint8_t frame[TUNOFF_FRAME_MAX];
static int written;

static void
check_frame(void *ctx, const struct iovec *iov, int cnt, size_t len, int segs)
{
	size_t total = 0;

	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	if (total != TUNOFF_VNET_LEN + len || len > 65535 || segs < 1 || cnt > segs + 1)
		abort();
	written += segs;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tunoff_gro g;
	size_t off = 0;
	int k;

	if (size > TUNOFF_FRAME_MAX)
		return 0;
	out[CAP] = 0xa5;	/* a guard the cut must not reach */
	memcpy(frame, data, size);	/* a lone packet's checksum is completed in place */
	k = tunoff_split(frame, size, out, CAP, pkts, lens, TUNOFF_SEGS_MAX);
	if (k < -1 || k > TUNOFF_SEGS_MAX || out[CAP] != 0xa5)
		abort();
	tunoff_gro_init(&g);
	written = 0;
	for (int i = 0; i < k; i++) {
		int in_frame = pkts[i] >= frame && pkts[i] + lens[i] <= frame + size;
		int in_out = pkts[i] >= out && pkts[i] + lens[i] <= out + CAP;

		if (lens[i] == 0 || !(in_frame || in_out) || (in_out && pkts[i] != out + off))
			abort();
		tunoff_gro_add(&g, pkts[i], lens[i], check_frame, NULL);
		if (in_out)
			off += lens[i];
	}
	if (size > TUNOFF_VNET_LEN)	/* the input as a decrypted packet, too */
		tunoff_gro_add(&g, data + TUNOFF_VNET_LEN, size - TUNOFF_VNET_LEN, check_frame, NULL);
	tunoff_gro_flush(&g, check_frame, NULL);
	if (written != (k > 0 ? k : 0) + (size > TUNOFF_VNET_LEN))
		abort();
	return 0;
}
