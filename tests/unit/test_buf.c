/*
 * The bounded reader and capped writer (agent/core/buf.c): every get past
 * the end fails, zeroes its output and leaves a sticky error; sub-readers
 * never see past their bound; the writer stops at its cap, grows by
 * doubling and patches only bytes it has written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static const uint8_t seq[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

static void
test_get_network_order(void **state)
{
	struct buf b;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	buf_init(&b, seq, sizeof(seq));
	assert_int_equal(buf_left(&b), 8);
	assert_int_equal(buf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(buf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(buf_get_u32(&b, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(buf_left(&b), 1);
	assert_int_equal(b.err, 0);
}

/* For each getter and each start offset: a read that does not fit fails,
 * zeroes the output, sets err and consumes nothing. */
static void
test_get_past_end(void **state)
{
	static const size_t width[] = { 1, 2, 4, 3 };

	for (size_t w = 0; w < sizeof(width) / sizeof(width[0]); w++) {
		for (size_t len = 0; len < width[w]; len++) {
			struct buf b;
			uint8_t u8 = 0xaa, out[3];
			uint16_t u16 = 0xaaaa;
			uint32_t u32 = 0xaaaaaaaa;
			const uint8_t *ref = seq;
			int rc;

			memset(out, 0xaa, sizeof(out));
			buf_init(&b, seq, len);
			switch (w) {
			case 0:
				rc = buf_get_u8(&b, &u8);
				assert_int_equal(u8, 0);
				break;
			case 1:
				rc = buf_get_u16(&b, &u16);
				assert_int_equal(u16, 0);
				break;
			case 2:
				rc = buf_get_u32(&b, &u32);
				assert_int_equal(u32, 0);
				break;
			default:
				rc = buf_get_bytes(&b, out, 3);
				assert_int_equal(out[0] | out[1] | out[2], 0);
				assert_int_equal(buf_get_ref(&b, &ref, 3), -1);
				assert_null(ref);
				break;
			}
			assert_int_equal(rc, -1);
			assert_int_equal(b.err, 1);
			assert_int_equal(b.off, 0);
			assert_int_equal(buf_left(&b), len);
		}
	}
}

static void
test_err_is_sticky(void **state)
{
	struct buf b;
	uint8_t u8;
	uint32_t u32;
	const uint8_t *ref;
	struct buf sub;

	buf_init(&b, seq, 3);
	assert_int_equal(buf_get_u32(&b, &u32), -1);
	/* These would fit, but the reader has already failed. */
	assert_int_equal(buf_get_u8(&b, &u8), -1);
	assert_int_equal(buf_skip(&b, 0), -1);
	assert_int_equal(buf_get_ref(&b, &ref, 0), -1);
	assert_int_equal(buf_sub(&b, 1, &sub), -1);
	assert_int_equal(sub.err, 1);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(b.err, 1);
}

static void
test_bytes_ref_skip(void **state)
{
	struct buf b;
	uint8_t out[2];
	const uint8_t *ref;

	buf_init(&b, seq, sizeof(seq));
	assert_int_equal(buf_skip(&b, 1), 0);
	assert_int_equal(buf_get_bytes(&b, out, 2), 0);
	assert_memory_equal(out, seq + 1, 2);
	assert_int_equal(buf_get_ref(&b, &ref, 3), 0);
	assert_ptr_equal(ref, seq + 3);
	assert_int_equal(buf_get_ref(&b, &ref, 0), 0);
	assert_ptr_equal(ref, seq + 6);
	assert_int_equal(buf_skip(&b, 2), 0);
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(buf_skip(&b, 1), -1);
	assert_int_equal(b.err, 1);
}

static void
test_sub_is_bounded(void **state)
{
	struct buf b, sub, subsub;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	buf_init(&b, seq, sizeof(seq));
	assert_int_equal(buf_skip(&b, 1), 0);
	assert_int_equal(buf_sub(&b, 3, &sub), 0);
	assert_int_equal(buf_left(&b), 4);
	assert_int_equal(buf_left(&sub), 3);
	/* The bytes after the sub-reader exist but are out of its bounds. */
	assert_int_equal(buf_get_u32(&sub, &u32), -1);
	assert_int_equal(sub.err, 1);
	assert_int_equal(b.err, 0);

	buf_init(&b, seq, sizeof(seq));
	assert_int_equal(buf_sub(&b, 4, &sub), 0);
	assert_int_equal(buf_get_u8(&sub, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(buf_sub(&sub, 2, &subsub), 0);
	assert_int_equal(buf_get_u16(&subsub, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(buf_get_u8(&subsub, &u8), -1);
	assert_int_equal(buf_get_u8(&sub, &u8), 0);
	assert_int_equal(u8, 4);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(buf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 5);

	/* Too long: fails, the sub-reader is empty and failed, nothing consumed. */
	buf_init(&b, seq, sizeof(seq));
	assert_int_equal(buf_sub(&b, 9, &sub), -1);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(sub.err, 1);
	assert_int_equal(b.off, 0);
	assert_int_equal(buf_sub(&b, SIZE_MAX, &sub), -1);
}

static void
test_empty_and_null(void **state)
{
	struct buf b, sub;
	uint8_t u8;
	const uint8_t *ref;

	buf_init(&b, NULL, 16);	/* no bytes behind it: an empty view */
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(buf_get_ref(&b, &ref, 0), 0);
	assert_null(ref);
	assert_int_equal(buf_sub(&b, 0, &sub), 0);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(buf_get_u8(&b, &u8), -1);
}

static void
test_wbuf_network_order(void **state)
{
	static const uint8_t want[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x00,
					0xab };
	struct wbuf w;

	wbuf_init(&w, 64);
	assert_int_equal(wbuf_put_u8(&w, 0x01), 0);
	assert_int_equal(wbuf_put_u16(&w, 0x0203), 0);
	assert_int_equal(wbuf_put_u32(&w, 0x04050607), 0);
	assert_int_equal(wbuf_put_zero(&w, 2), 0);
	assert_int_equal(wbuf_put_bytes(&w, "\xab", 1), 0);
	assert_int_equal(wbuf_put_bytes(&w, NULL, 0), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.p, want, sizeof(want));
	assert_int_equal(w.err, 0);
	wbuf_free(&w);
	assert_null(w.p);
	assert_int_equal(w.len, 0);
}

/* A put that would pass max fails whole (nothing partial), sets err, and
 * every later put fails too. */
static void
test_wbuf_cap(void **state)
{
	struct wbuf w;

	wbuf_init(&w, 10);
	assert_int_equal(wbuf_put_zero(&w, 7), 0);
	assert_int_equal(wbuf_put_u32(&w, 1), -1);
	assert_int_equal(w.err, 1);
	assert_int_equal(w.len, 7);
	assert_int_equal(wbuf_put_u8(&w, 1), -1);
	assert_int_equal(w.len, 7);
	wbuf_free(&w);

	/* Exactly max fits. */
	wbuf_init(&w, 10);
	assert_int_equal(wbuf_put_zero(&w, 6), 0);
	assert_int_equal(wbuf_put_u32(&w, 1), 0);
	assert_int_equal(w.len, 10);
	assert_int_equal(w.err, 0);
	assert_int_equal(wbuf_put_bytes(&w, NULL, 0), 0);
	assert_int_equal(wbuf_put_u16(&w, 1), -1);
	wbuf_free(&w);

	/* Sizes that would overflow len + n. */
	wbuf_init(&w, 100);
	assert_int_equal(wbuf_put_u8(&w, 1), 0);
	assert_int_equal(wbuf_put_zero(&w, SIZE_MAX), -1);
	assert_int_equal(w.err, 1);
	wbuf_free(&w);

	wbuf_init(&w, 0);
	assert_int_equal(wbuf_put_u8(&w, 1), -1);
	assert_null(w.p);
	wbuf_free(&w);
}

static void
test_wbuf_growth(void **state)
{
	struct wbuf w;
	size_t prev = 0;

	wbuf_init(&w, 100000);
	for (uint32_t i = 0; i < 20000; i++) {
		assert_int_equal(wbuf_put_u32(&w, i), 0);
		assert_true(w.cap >= w.len);
		assert_true(w.cap <= w.max);
		if (w.cap != prev) {
			/* Doubling, except the last step which is clamped to max. */
			assert_true(prev == 0 || w.cap == 2 * prev || w.cap == w.max);
			prev = w.cap;
		}
	}
	assert_int_equal(w.len, 80000);
	for (uint32_t i = 0; i < 20000; i += 997) {
		const uint8_t *p = w.p + 4 * i;

		assert_int_equal((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3], i);
	}
	assert_int_equal(wbuf_put_zero(&w, 20000), 0);
	assert_int_equal(w.len, w.max);
	assert_int_equal(w.cap, w.max);
	assert_int_equal(wbuf_put_u8(&w, 0), -1);
	wbuf_free(&w);
}

static void
test_wbuf_patch(void **state)
{
	static const uint8_t want[] = { 0xaa, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x00 };
	struct wbuf w;

	wbuf_init(&w, 64);
	/* Nothing written yet: nothing to patch. */
	assert_int_equal(wbuf_patch_u8(&w, 0, 1), -1);
	assert_int_equal(w.err, 1);
	wbuf_free(&w);

	wbuf_init(&w, 64);
	assert_int_equal(wbuf_put_zero(&w, 8), 0);
	assert_int_equal(wbuf_patch_u8(&w, 0, 0xaa), 0);
	assert_int_equal(wbuf_patch_u16(&w, 1, 0x1234), 0);
	assert_int_equal(wbuf_patch_u32(&w, 3, 0xdeadbeef), 0);
	assert_memory_equal(w.p, want, sizeof(want));
	assert_int_equal(w.err, 0);
	/* The last bytes may be patched; one past may not. */
	assert_int_equal(wbuf_patch_u32(&w, 4, 0), 0);
	assert_int_equal(w.err, 0);
	assert_int_equal(wbuf_patch_u32(&w, 5, 0), -1);
	assert_int_equal(w.err, 1);
	assert_int_equal(wbuf_patch_u16(&w, SIZE_MAX, 0), -1);
	assert_int_equal(w.len, 8);
	wbuf_free(&w);
}

static void
test_wbuf_free_reuse(void **state)
{
	struct wbuf w;

	wbuf_init(&w, 4);
	assert_int_equal(wbuf_put_zero(&w, 5), -1);
	wbuf_free(&w);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.max, 4);
	assert_int_equal(wbuf_put_u32(&w, 7), 0);
	assert_int_equal(w.len, 4);
	wbuf_free(&w);
	wbuf_free(&w);	/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_network_order),
		cmocka_unit_test(test_get_past_end),
		cmocka_unit_test(test_err_is_sticky),
		cmocka_unit_test(test_bytes_ref_skip),
		cmocka_unit_test(test_sub_is_bounded),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_wbuf_network_order),
		cmocka_unit_test(test_wbuf_cap),
		cmocka_unit_test(test_wbuf_growth),
		cmocka_unit_test(test_wbuf_patch),
		cmocka_unit_test(test_wbuf_free_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
