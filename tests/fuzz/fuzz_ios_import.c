/*
 * libFuzzer: arbitrary bytes as an IOS configuration through ios_import()
 * and both renderers, as `vpnctl import-ios --dry-run` runs them. Beyond
 * not crashing: diagnostics are sorted by line and printable, objects come
 * in dependency order, a crypto map's (static or dynamic) references name
 * the transform sets and the address pool sent before it, every body
 * encodes, and a tunnel interface is what the API takes (a device name,
 * two different ends, an mtu in range) and refers to nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ios_import.h"
#include "core/config.h"
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

/* ref names an object sent before o, of the kind its field holds. */
static void
check_ref(const struct ios_result *r, size_t i, const struct ios_objref *ref)
{
	const struct ios_object *o = &r->objs[i], *t = &r->objs[ref->obj];
	json_t *field = json_object_get(o->body, ref->field);
	int pool = strcmp(ref->field, "addressPool") == 0;
	json_t *slot = pool ? field : json_array_get(field, (size_t)ref->index);

	if (ref->obj >= i || (pool ? ref->index != -1 || t->kind != IOS_IP_POOL :
			      strcmp(ref->field, "transformSets") != 0 ||
			      t->kind != IOS_TRANSFORM_SET) ||
	    !json_equal(json_object_get(t->body, "name"), json_object_get(slot, "name")))
		abort();
}

/* A tunnel interface body as the API would check it. */
static void
check_tunnel(const struct ios_object *o)
{
	const char *name = json_string_value(json_object_get(o->body, "name"));
	const char *src = json_string_value(json_object_get(o->body, "tunnelSource"));
	const char *dst = json_string_value(json_object_get(o->body, "tunnelDestination"));
	json_t *mtu = json_object_get(o->body, "mtu");

	if (name == NULL || strlen(name) > CFG_TUNNEL_IF_NAME_MAX || strncmp(name, "Tunnel", 6) ||
	    strspn(name + 6, "0123456789") != strlen(name + 6) || src == NULL || dst == NULL ||
	    strcmp(src, dst) == 0 || json_string_value(json_object_get(o->body, "address")) == NULL ||
	    (mtu != NULL && (json_integer_value(mtu) < CFG_TUNNEL_MTU_MIN ||
			     json_integer_value(mtu) > CFG_TUNNEL_MTU_MAX)))
		abort();
}

static void
check_objects(const struct ios_result *r)
{
	for (size_t i = 0; i < r->n_objs; i++) {
		const struct ios_object *o = &r->objs[i];
		json_t *xs = json_object_get(o->body, "transformSets");
		char *text = json_dumps(o->body, JSON_COMPACT);
		size_t n_xs = 0;

		if (text == NULL || (i > 0 && r->objs[i - 1].kind > o->kind))
			abort();
		free(text);
		if (o->kind == IOS_TUNNEL_IF)
			check_tunnel(o);
		if (o->kind != IOS_CRYPTO_MAP && o->kind != IOS_DYNAMIC_MAP) {
			if (o->n_refs != 0)
				abort();
			continue;
		}
		for (size_t k = 0; k < o->n_refs; k++) {
			check_ref(r, i, &o->refs[k]);
			if (strcmp(o->refs[k].field, "transformSets") == 0 &&
			    o->refs[k].index != (int)n_xs++)
				abort();
		}
		if (n_xs == 0 || json_array_size(xs) != n_xs ||
		    (json_object_get(o->body, "addressPool") != NULL) != (o->n_refs > n_xs))
			abort();
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
