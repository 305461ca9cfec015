/*
 * Anti-replay window (RFC 4303 3.4.3 and Appendix A, no ESN). The bitmap
 * is a ring of ESP_REPLAY_MAX bits indexed by sequence number, so sliding
 * the window clears the bits it passes instead of shifting the array
 * (RFC 6479's idea): in-order traffic touches one word per packet whatever
 * the window size. The window size only decides how far back is accepted.
 */
#include "esp/esp.h"

#include <assert.h>
#include <string.h>

#define RING_BITS ESP_REPLAY_MAX
#define RING_MASK (RING_BITS - 1)

static_assert((RING_BITS & RING_MASK) == 0 && RING_BITS >= 1024,
	       "the replay ring is a power of two of at least 1024 bits");

void
esp_replay_init(struct esp_replay *r, unsigned window)
{
	memset(r, 0, sizeof(*r));
	if (window == 0)
		window = ESP_REPLAY_DEFAULT;
	r->window = window > ESP_REPLAY_MAX ? ESP_REPLAY_MAX : window;
}

static int
ring_test(const struct esp_replay *r, uint32_t seq)
{
	uint32_t pos = seq & RING_MASK;

	return (int)(r->bits[pos / 64] >> (pos % 64) & 1);
}

/* Clears the bits of the n sequence numbers from `from` (n < RING_BITS):
 * they held numbers at least RING_BITS older, now left of any window. */
static void
ring_clear(struct esp_replay *r, uint32_t from, uint32_t n)
{
	while (n > 0) {
		uint32_t pos = from & RING_MASK, bit = pos % 64;
		uint32_t k = 64 - bit < n ? 64 - bit : n;
		uint64_t mask = (k == 64 ? ~0ULL : (1ULL << k) - 1) << bit;

		r->bits[pos / 64] &= ~mask;
		from += k;
		n -= k;
	}
}

/* Cheap and side-effect free: callable before authentication. Sequence
 * number 0 is never sent (RFC 4303 3.3.3: the first packet carries 1). */
int
esp_replay_check(const struct esp_replay *r, uint32_t seq)
{
	if (seq == 0)
		return -1;
	if (seq > r->top)
		return 0;
	if (r->top - seq >= r->window)
		return -1;	/* left of the window */
	return ring_test(r, seq) ? -1 : 0;
}

/* Only after the ICV has verified (RFC 4303 3.4.3). */
void
esp_replay_commit(struct esp_replay *r, uint32_t seq)
{
	uint32_t pos = seq & RING_MASK;

	if (seq == 0 || (seq <= r->top && r->top - seq >= r->window))
		return;	/* never checked: its bit would alias a newer number */
	if (seq > r->top) {
		if (seq - r->top >= RING_BITS)
			memset(r->bits, 0, sizeof(r->bits));
		else
			ring_clear(r, r->top + 1, seq - r->top);
		r->top = seq;
	}
	r->bits[pos / 64] |= 1ULL << (pos % 64);
}
