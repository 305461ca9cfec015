/*
 * libFuzzer: arbitrary bytes as an IOS configuration through ios_import()
 * and both renderers, as `vpnctl import-ios --dry-run` runs them. Beyond
 * not crashing: diagnostics are sorted by line and printable, objects come
 * in dependency order, a crypto map's references name transform sets sent
 * before it, and every body encodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ios_import.h"
#include "core/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_diags(const struct ios_result *r)
{
	size_t errors = 0;

	for (size_t i = 0; i < r->n_diags; i++) {
		const struct ios_diag *d = &r->diags[i];

		if (i > 0 && r->diags[i - 1].line > d->line)
			abort();
		for (const char *c = d->msg; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				abort();
		errors += d->severity == IOS_ERROR;
	}
	if (errors > r->n_errors || (errors == 0 && r->n_errors > 0 &&
				     r->n_diags < IOS_DIAGS_MAX))
		abort();
}

static void
check_objects(const struct ios_result *r)
{
	for (size_t i = 0; i < r->n_objs; i++) {
		const struct ios_object *o = &r->objs[i];
		json_t *xs = json_object_get(o->body, "transformSets");
		char *text = json_dumps(o->body, JSON_COMPACT);

		if (text == NULL || (i > 0 && r->objs[i - 1].kind > o->kind))
			abort();
		free(text);
		if (o->kind != IOS_CRYPTO_MAP)
			continue;
		if (o->n_refs == 0 || json_array_size(xs) != o->n_refs)
			abort();
		for (size_t k = 0; k < o->n_refs; k++) {
			const struct ios_object *t = &r->objs[o->refs[k]];

			if (o->refs[k] >= i || t->kind != IOS_TRANSFORM_SET ||
			    !json_equal(json_object_get(t->body, "name"),
					json_object_get(json_array_get(xs, k), "name")))
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ios_result res;
	struct strbuf sb;

	ios_import((const char *)data, size, "fuzz.cfg", &res);
	check_diags(&res);
	check_objects(&res);
	strbuf_init(&sb, 1 << 24);
	ios_format_diags(&res, &sb);
	ios_format_objects(&res, &sb);
	if (sb.overflow)
		abort();
	strbuf_free(&sb);
	ios_result_free(&res);
	return 0;
}
