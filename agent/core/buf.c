/*
 * Bounded packet reader and capped packet writer (see buf.h). The reader's
 * error is sticky so a parser may read a whole structure and check once;
 * the writer's error is sticky too, so a message with a hole in it is never
 * mistaken for a whole one. Network byte order throughout.
 */
#include "core/buf.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define WBUF_FIRST_CAP 256

/* The next byte; NULL for an empty view over NULL (no arithmetic on NULL). */
static const uint8_t *
buf_cur(const struct buf *b)
{
	return b->p == NULL ? NULL : b->p + b->off;
}

/* Claims n bytes or marks the reader failed. */
static int
buf_take(struct buf *b, size_t n, const uint8_t **at)
{
	*at = NULL;
	if (b->err || n > b->len - b->off) {
		b->err = 1;
		return -1;
	}
	*at = buf_cur(b);
	b->off += n;
	return 0;
}

void
buf_init(struct buf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p == NULL ? 0 : len;
	b->off = 0;
	b->err = 0;
}

size_t
buf_left(const struct buf *b)
{
	return b->len - b->off;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	const uint8_t *at;

	*v = 0;
	if (buf_take(b, 1, &at) == -1)
		return -1;
	*v = at[0];
	return 0;
}

int
buf_get_u16(struct buf *b, uint16_t *v)
{
	const uint8_t *at;

	*v = 0;
	if (buf_take(b, 2, &at) == -1)
		return -1;
	*v = (uint16_t)(at[0] << 8 | at[1]);
	return 0;
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	const uint8_t *at;

	*v = 0;
	if (buf_take(b, 4, &at) == -1)
		return -1;
	*v = (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
	return 0;
}

int
buf_get_bytes(struct buf *b, void *out, size_t n)
{
	const uint8_t *at;

	if (buf_take(b, n, &at) == -1) {
		if (n > 0)
			memset(out, 0, n);
		return -1;
	}
	if (n > 0)
		memcpy(out, at, n);
	return 0;
}

int
buf_get_ref(struct buf *b, const uint8_t **out, size_t n)
{
	return buf_take(b, n, out);
}

int
buf_skip(struct buf *b, size_t n)
{
	const uint8_t *at;

	return buf_take(b, n, &at);
}

int
buf_sub(struct buf *b, size_t n, struct buf *sub)
{
	const uint8_t *at;

	if (buf_take(b, n, &at) == -1) {
		buf_init(sub, NULL, 0);
		sub->err = 1;
		return -1;
	}
	buf_init(sub, at, n);
	return 0;
}

void
wbuf_init(struct wbuf *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

void
wbuf_free(struct wbuf *w)
{
	free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
	w->err = 0;
}

/* Room for n more bytes: checks the cap before allocating, then grows by
 * doubling (clamped to max). */
static int
wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t cap;

	if (w->err || n > w->max - w->len) {
		w->err = 1;
		return -1;
	}
	if (w->len + n <= w->cap)
		return 0;
	cap = w->cap ? w->cap : WBUF_FIRST_CAP;
	while (cap < w->len + n && cap <= w->max / 2)
		cap *= 2;
	if (cap < w->len + n || cap > w->max)
		cap = w->max;
	w->p = xreallocarray(w->p, cap, 1);
	w->cap = cap;
	return 0;
}

int
wbuf_put_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (wbuf_reserve(w, n) == -1)
		return -1;
	if (n > 0)
		memcpy(w->p + w->len, p, n);
	w->len += n;
	return 0;
}

int
wbuf_put_zero(struct wbuf *w, size_t n)
{
	if (wbuf_reserve(w, n) == -1)
		return -1;
	if (n > 0)
		memset(w->p + w->len, 0, n);
	w->len += n;
	return 0;
}

int
wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	return wbuf_put_bytes(w, &v, 1);
}

int
wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wbuf_put_bytes(w, be, sizeof(be));
}

int
wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return wbuf_put_bytes(w, be, sizeof(be));
}

/* Patching only rewrites bytes already written; anything else is a caller
 * bug that poisons the message. */
static int
wbuf_patch(struct wbuf *w, size_t off, const uint8_t *be, size_t n)
{
	if (off > w->len || n > w->len - off) {
		w->err = 1;
		return -1;
	}
	memcpy(w->p + off, be, n);
	return 0;
}

int
wbuf_patch_u8(struct wbuf *w, size_t off, uint8_t v)
{
	return wbuf_patch(w, off, &v, 1);
}

int
wbuf_patch_u16(struct wbuf *w, size_t off, uint16_t v)
{
	uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wbuf_patch(w, off, be, sizeof(be));
}

int
wbuf_patch_u32(struct wbuf *w, size_t off, uint32_t v)
{
	uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return wbuf_patch(w, off, be, sizeof(be));
}
