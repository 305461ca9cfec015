/*
 * A growable text buffer with a hard cap, for rendering (Prometheus text,
 * JSON bodies, CLI output). Once the cap is hit the buffer is marked
 * overflowed and further appends are ignored; the caller checks once.
 */
#ifndef CORE_STRBUF_H
#define CORE_STRBUF_H

#include <stddef.h>

#include "core/log.h"

struct strbuf {
	char  *data;
	size_t len, cap, max;
	int    overflow;
};

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) LOG_PRINTF(2, 3);

#endif
