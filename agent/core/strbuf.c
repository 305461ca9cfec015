/*
 * Capped text buffer (see strbuf.h).
 */
#include "core/strbuf.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_init(struct strbuf *sb, size_t max)
{
	memset(sb, 0, sizeof(*sb));
	sb->max = max;
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	memset(sb, 0, sizeof(*sb));
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->overflow = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

static int
strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1, cap;

	if (sb->overflow || want > sb->max) {
		sb->overflow = 1;
		return -1;
	}
	if (want <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 256;
	while (cap < want)
		cap *= 2;
	if (cap > sb->max)
		cap = sb->max;
	sb->data = xreallocarray(sb->data, cap, 1);
	sb->cap = cap;
	return 0;
}

void
strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
	if (strbuf_reserve(sb, n) == -1)
		return;
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;
	int n;

	if (sb->overflow)
		return;
	/* Format straight into the spare room; only a miss formats twice. */
	va_start(ap, fmt);
	n = vsnprintf(room ? sb->data + sb->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		if (strbuf_reserve(sb, (size_t)n) == -1) {
			if (sb->data)
				sb->data[sb->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}
