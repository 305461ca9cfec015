/*
 * Bounded reader and writer for packets (STYLE practice 1): every get checks
 * the length and fails cleanly; nothing indexes raw packet bytes by hand.
 * Multi-byte values are network order. A failed get sets b->err and every
 * later get fails too, so a parser may check once at the end.
 */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	const uint8_t *p;
	size_t         len;	/* bytes in the view */
	size_t         off;	/* next byte to read */
	int            err;	/* a get ran past the end */
};

void   buf_init(struct buf *b, const void *p, size_t len);
size_t buf_left(const struct buf *b);
int    buf_get_u8(struct buf *b, uint8_t *v);
int    buf_get_u16(struct buf *b, uint16_t *v);
int    buf_get_u32(struct buf *b, uint32_t *v);
int    buf_get_bytes(struct buf *b, void *out, size_t n);
/* A pointer to the next n bytes (no copy). */
int    buf_get_ref(struct buf *b, const uint8_t **out, size_t n);
int    buf_skip(struct buf *b, size_t n);
/* The next n bytes as their own reader; b moves past them. */
int    buf_sub(struct buf *b, size_t n, struct buf *sub);

/* Writer into a growable buffer with a hard cap (max). */
struct wbuf {
	uint8_t *p;
	size_t   len, cap, max;
	int      err;		/* a put would have passed max */
};

void     wbuf_init(struct wbuf *w, size_t max);
void     wbuf_free(struct wbuf *w);
int      wbuf_put_u8(struct wbuf *w, uint8_t v);
int      wbuf_put_u16(struct wbuf *w, uint16_t v);
int      wbuf_put_u32(struct wbuf *w, uint32_t v);
int      wbuf_put_bytes(struct wbuf *w, const void *p, size_t n);
int      wbuf_put_zero(struct wbuf *w, size_t n);
/* Overwrite already written bytes (length fields filled in later). */
int      wbuf_patch_u8(struct wbuf *w, size_t off, uint8_t v);
int      wbuf_patch_u16(struct wbuf *w, size_t off, uint16_t v);
int      wbuf_patch_u32(struct wbuf *w, size_t off, uint32_t v);

#endif
