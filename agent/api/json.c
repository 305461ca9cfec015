/*
 * JSON memory, errors and text for agent/api/: a jansson allocator that
 * wipes memory on free (request bodies and config.json carry private
 * keys), the error a handler answers with (status, message, the field's
 * JSON path), and rendering to text under a cap, copies wiped as it grows.
 */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ---- jansson memory that is wiped before it is freed ------------------ */

#define WIPE_HDR 16	/* keeps max_align_t alignment of the user pointer */

static void *
wipe_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - WIPE_HDR || (p = malloc(n + WIPE_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + WIPE_HDR;
}

static void
wipe_free(void *ptr)
{
	unsigned char *p = ptr;
	size_t n;

	if (p == NULL)
		return;
	p -= WIPE_HDR;
	memcpy(&n, p, sizeof(n));
	OPENSSL_cleanse(p, n + WIPE_HDR);
	free(p);
}

/* Before main() and before any JSON exists, so no block ever crosses
 * allocators. */
__attribute__((constructor)) static void
api_json_alloc_init(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

/* ---- errors ------------------------------------------------------------- */

int
api_errf(struct api_err *err, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	str_copy(err->field, sizeof(err->field), field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Rendering target for json_dump_callback: grows by copy-and-wipe so no
 * stale copy of a key is left in freed memory; capped at API_TEXT_OUT_MAX. */
struct textbuf {
	char  *data;
	size_t len, cap;
};

static int
textbuf_add(const char *buf, size_t n, void *arg)
{
	struct textbuf *tb = arg;
	char *grown;
	size_t cap;

	if (n > API_TEXT_OUT_MAX - tb->len - 1)
		return -1;
	if (tb->len + n + 1 > tb->cap) {
		cap = tb->cap ? tb->cap : 1024;
		while (cap < tb->len + n + 1)
			cap *= 2;
		grown = xmalloc(cap);
		if (tb->len)
			memcpy(grown, tb->data, tb->len);
		if (tb->data)
			OPENSSL_cleanse(tb->data, tb->cap);
		free(tb->data);
		tb->data = grown;
		tb->cap = cap;
	}
	memcpy(tb->data + tb->len, buf, n);
	tb->len += n;
	tb->data[tb->len] = '\0';
	return 0;
}

void
api_err_within(struct api_err *err, const char *where)
{
	const char *parts[3] = { where, err->field[0] ? "." : "", err->field };
	char out[API_FIELD_MAX];
	size_t len = 0;

	/* Cut short when too long: still names the object. */
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		size_t n = strlen(parts[i]);

		if (n > sizeof(out) - 1 - len)
			n = sizeof(out) - 1 - len;
		memcpy(out + len, parts[i], n);
		len += n;
	}
	out[len] = '\0';
	memcpy(err->field, out, len + 1);
}

static char *
json_text(json_t *j, size_t flags)
{
	struct textbuf tb = { 0 };

	if (json_dump_callback(j, textbuf_add, &tb, flags | JSON_PRESERVE_ORDER) == -1) {
		if (tb.data)
			OPENSSL_cleanse(tb.data, tb.cap);
		free(tb.data);
		return NULL;
	}
	if (tb.data == NULL)
		tb.data = xstrdup("");
	return tb.data;
}

char *
api_json_text(json_t *j)
{
	return json_text(j, JSON_INDENT(2));
}

char *
api_json_line(json_t *j)
{
	return json_text(j, JSON_COMPACT);
}
