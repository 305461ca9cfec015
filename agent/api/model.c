/*
 * Generic operations on the collections inside a struct config, driven by
 * the type table: find, add, remove, unique names, who refers to whom, and
 * the whole-config invariants checked before a config is persisted or
 * accepted from disk.
 */
#include "api/api_int.h"
#include "core/log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

static_assert(API_VERSION_CHARS < CFG_VERSION_LEN, "versions fit cfg_meta");

/* The item pointer is read and written with memcpy: the config field is a
 * typed pointer (struct cfg_network *), here seen as bytes. */
static void *
list_get(const struct api_type *t, const struct config *cfg)
{
	void *p;

	memcpy(&p, (const char *)cfg + t->list_off, sizeof(p));
	return p;
}

static void
list_set(const struct api_type *t, struct config *cfg, void *p)
{
	memcpy((char *)cfg + t->list_off, &p, sizeof(p));
}

size_t
api_coll_count(const struct api_type *t, const struct config *cfg)
{
	size_t n;

	if (t->count_off == API_FIXED)
		return 1;
	if (t->count_off == API_SINGLE)
		return list_get(t, cfg) != NULL;
	memcpy(&n, (const char *)cfg + t->count_off, sizeof(n));
	return n;
}

static void
count_set(const struct api_type *t, struct config *cfg, size_t n)
{
	memcpy((char *)cfg + t->count_off, &n, sizeof(n));
}

void *
api_coll_at(const struct api_type *t, const struct config *cfg, size_t i)
{
	if (t->count_off == API_FIXED)
		return (char *)cfg + t->list_off;
	return (char *)list_get(t, cfg) + i * t->size;
}

void *
api_coll_find(const struct api_type *t, const struct config *cfg, const char *id, size_t *index)
{
	size_t n = api_coll_count(t, cfg);

	for (size_t i = 0; i < n; i++) {
		void *obj = api_coll_at(t, cfg, i);

		if (strcmp(api_meta(obj)->id, id) == 0) {
			if (index)
				*index = i;
			return obj;
		}
	}
	return NULL;
}

static size_t objects_max = CFG_OBJECTS_DEFAULT;

void
api_set_objects_max(size_t n)
{
	objects_max = n;
}

size_t
api_max_items(const struct api_type *t)
{
	return t->max_items == API_OBJECTS_MANY ? objects_max : t->max_items;
}

void
api_coll_add(const struct api_type *t, struct config *cfg, void *obj)
{
	size_t n = api_coll_count(t, cfg);
	char *items;

	if (t->count_off == API_FIXED) {
		/* replaces the one there (the defaults, when loading) */
		items = (char *)cfg + t->list_off;
		api_obj_clear(t, items);
		memcpy(items, obj, t->size);
		return;
	}
	if (t->count_off == API_SINGLE) {
		items = xmalloc(t->size);
		memcpy(items, obj, t->size);
		list_set(t, cfg, items);	/* callers checked max_items (1) */
		return;
	}
	items = xreallocarray(list_get(t, cfg), n + 1, t->size);
	memcpy(items + n * t->size, obj, t->size);
	list_set(t, cfg, items);
	count_set(t, cfg, n + 1);
}

void
api_coll_remove(const struct api_type *t, struct config *cfg, size_t i)
{
	size_t n = api_coll_count(t, cfg);
	char *items;

	if (t->count_off == API_FIXED) {
		api_obj_clear(t, (char *)cfg + t->list_off);	/* no route deletes one */
		return;
	}
	items = list_get(t, cfg);
	api_obj_clear(t, items + i * t->size);
	if (t->count_off == API_SINGLE) {
		free(items);
		list_set(t, cfg, NULL);
		return;
	}
	memmove(items + i * t->size, items + (i + 1) * t->size, (n - i - 1) * t->size);
	OPENSSL_cleanse(items + (n - 1) * t->size, t->size);	/* the last one's copy */
	count_set(t, cfg, n - 1);
	if (n - 1 == 0) {
		free(items);
		list_set(t, cfg, NULL);
	}
}

const void *
api_name_find(const struct api_type *t, const struct config *cfg, const char *name,
	      const char *except_id)
{
	size_t n = api_coll_count(t, cfg);

	for (size_t i = 0; i < n; i++) {
		const struct cfg_meta *m = api_cmeta(api_coll_at(t, cfg, i));

		if (strcmp(m->name, name) == 0 && (except_id == NULL ||
						   strcmp(m->id, except_id) != 0))
			return m;
	}
	return NULL;
}

/* The references field f of obj holds: a REF, or a LIST of REF. *n of
 * them, stride bytes apart; NULL when f holds none (an optional REF left
 * out holds none). */
static const char *
field_refs(const struct api_field *f, const char *obj, size_t *n, size_t *stride,
	   enum api_obj *target)
{
	*n = 0;
	*stride = 0;
	if (f->kind == API_F_REF) {
		*n = ((const struct cfg_ref *)(const void *)(obj + f->offset))->id[0] != '\0';
		*target = f->ref;
		return obj + f->offset;
	}
	if (f->kind == API_F_LIST && f->sub->kind == API_F_REF) {
		memcpy(n, obj + f->count_off, sizeof(*n));
		if (*n > (size_t)f->max)
			*n = (size_t)f->max;
		*stride = f->size;
		*target = f->sub->ref;
		return obj + f->offset + f->sub->offset;
	}
	return NULL;
}

static const struct cfg_ref *
ref_at(const char *refs, size_t stride, size_t k)
{
	return (const void *)(refs + k * stride);
}

int
api_referrers_check(const struct config *cfg, const struct api_type *t, const char *id,
		    struct api_err *err)
{
	const struct cfg_meta *target = api_coll_find(t, cfg, id, NULL);

	for (size_t ti = 0; ti < API_OBJ__COUNT; ti++) {
		const struct api_type *rt = &api_types[ti];
		size_t n = api_coll_count(rt, cfg);

		for (size_t fi = 0; fi < rt->n_fields; fi++) {
			const struct api_field *f = &rt->fields[fi];

			for (size_t i = 0; i < n; i++) {
				const char *obj = api_coll_at(rt, cfg, i), *refs;
				size_t nrefs, stride;
				enum api_obj to;

				refs = field_refs(f, obj, &nrefs, &stride, &to);
				for (size_t k = 0; k < nrefs && to == t->obj; k++) {
					if (strcmp(ref_at(refs, stride, k)->id, id) != 0)
						continue;
					return api_errf(err, 409, "", "%s \"%s\" is used by %s "
							"\"%s\" (%s); change or delete that "
							"first", t->type,
							target ? target->name : id, rt->type,
							api_cmeta(obj)->name, f->json);
				}
			}
		}
	}
	return 0;
}

/* Every reference of obj resolves to an object of the right type. */
static int
refs_resolve(const struct api_type *t, const struct config *cfg, const char *obj,
	     struct api_err *err)
{
	char field[API_FIELD_MAX];

	for (size_t fi = 0; fi < t->n_fields; fi++) {
		const struct api_field *f = &t->fields[fi];
		size_t nrefs, stride;
		enum api_obj to;
		const char *refs = field_refs(f, obj, &nrefs, &stride, &to);

		for (size_t k = 0; k < nrefs; k++) {
			const struct cfg_ref *r = ref_at(refs, stride, k);

			if (api_coll_find(&api_types[to], cfg, r->id, NULL) != NULL)
				continue;
			if (f->kind == API_F_LIST)
				snprintf(field, sizeof(field), "%s[%zu].id", f->json, k);
			else
				snprintf(field, sizeof(field), "%s.id", f->json);
			return api_errf(err, 400, field, "no %s with id %s", api_types[to].type,
					r->id);
		}
	}
	return 0;
}

/* Names (and ids) seen so far in one collection: open addressing over
 * string pointers, so that checking N objects is O(N), not O(N^2). */
struct str_set {
	const char **slot;
	size_t       mask;
};

static void
str_set_init(struct str_set *s, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	s->slot = xcalloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
}

/* Adds str; 0, or -1 when it was there already. */
static int
str_set_add(struct str_set *s, const char *str)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	size_t i;

	for (const unsigned char *p = (const unsigned char *)str; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (i = (size_t)h & s->mask; s->slot[i] != NULL; i = (i + 1) & s->mask) {
		if (strcmp(s->slot[i], str) == 0)
			return -1;
	}
	s->slot[i] = str;
	return 0;
}

static int
validate_object(const struct api_type *t, const struct config *cfg, size_t i, int deep,
		struct str_set *names, struct str_set *ids, struct api_err *err)
{
	const char *obj = api_coll_at(t, cfg, i);
	const struct cfg_meta *m = api_cmeta(obj);
	char where[API_FIELD_MAX];

	snprintf(where, sizeof(where), "%s[%zu]", api_store_key(t), i);
	if (str_set_add(names, m->name) == -1) {
		api_errf(err, 409, "name", "another %s is named \"%s\"", t->type, m->name);
		goto fail;
	}
	if (str_set_add(ids, m->id) == -1) {
		api_errf(err, 409, "id", "duplicate id %s", m->id);
		goto fail;
	}
	if (refs_resolve(t, cfg, obj, err) == -1)
		goto fail;
	if (t->conflict != NULL && t->conflict(cfg, obj, err) == -1)
		goto fail;
	if (deep && t->check != NULL && t->check(obj, err) == -1)
		goto fail;
	if (deep && t->check_cfg != NULL && t->check_cfg(cfg, obj, err) == -1)
		goto fail;
	return 0;
fail:
	api_err_within(err, where);
	return -1;
}

int
api_config_validate(const struct config *cfg, int deep, struct api_err *err)
{
	for (size_t ti = 0; ti < API_OBJ__COUNT; ti++) {
		const struct api_type *t = &api_types[ti];
		size_t n = api_coll_count(t, cfg);

		struct str_set names, ids;
		int rc = 0;

		if (n > api_max_items(t))
			return api_errf(err, 409, api_store_key(t), "%s: more than %zu items",
					api_store_key(t), api_max_items(t));
		str_set_init(&names, n);
		str_set_init(&ids, n);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = validate_object(t, cfg, i, deep, &names, &ids, err);
		free(names.slot);
		free(ids.slot);
		if (rc == -1)
			return -1;
	}
	return 0;
}

void
api_version_new(char out[CFG_VERSION_LEN])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[API_VERSION_CHARS];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("RAND_bytes failed");
	/* 12 or 13 characters, as the reference's versions look. */
	size_t len = API_VERSION_CHARS - (raw[0] & 1);
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[raw[i] % 36];
	out[len] = '\0';
}

const char *
api_store_key(const struct api_type *t)
{
	const char *slash = strrchr(t->path, '/');

	return slash ? slash + 1 : t->path;
}
