/*
 * The handlers every collection shares: list (with ?filter=name:X), read,
 * create, update (optimistic locking on "version") and delete (refused
 * while referenced). A change is checked against the live config (syntax,
 * references, unique names and keys), written to the journal, then made
 * in the live config in place and handed to main.c: its cost is what it
 * changes, not the size of the configuration.
 */
#include "api/api_int.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_QUERY_MAX 2048

struct list_query {
	const char *name;	/* filter=name:X, or NULL */
	long long   offset, limit;
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* In place: %XX and '+' as a space. -1 on a bad escape or an encoded NUL. */
static int
url_decode(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s == '+') {
			*out++ = ' ';
		} else if (*s == '%') {
			int hi = hexval((unsigned char)s[1]), lo;

			if (hi < 0 || (lo = hexval((unsigned char)s[2])) < 0 || (hi | lo) == 0)
				return -1;
			*out++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
	return 0;
}

static int
query_number(const char *key, const char *v, long long *out, struct api_err *err)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno || end == v || *end != '\0' || *out < 0)
		return api_errf(err, 400, key, "%s must be a non-negative integer", key);
	return 0;
}

/* buf holds a copy of the query that lq's strings point into. */
static int
query_parse(const char *query, char *buf, size_t size, struct list_query *lq,
	    struct api_err *err)
{
	char *p = buf, *next, *v;

	lq->name = NULL;
	lq->offset = 0;
	lq->limit = -1;
	if (query == NULL || *query == '\0')
		return 0;
	if (str_copy(buf, size, query) == -1)
		return api_errf(err, 400, "", "the query string is longer than %zu bytes", size);
	for (; p != NULL; p = next) {
		if ((next = strchr(p, '&')) != NULL)
			*next++ = '\0';
		if (*p == '\0')
			continue;
		if ((v = strchr(p, '=')) != NULL)
			*v++ = '\0';
		if (url_decode(p) == -1 || (v != NULL && url_decode(v) == -1))
			return api_errf(err, 400, "", "bad %%-escape in the query string");
		if (v == NULL)
			return api_errf(err, 400, p, "query parameter %s needs a value", p);
		if (strcmp(p, "filter") == 0) {
			if (strncmp(v, "name:", 5) != 0)
				return api_errf(err, 400, "filter", "only filter=name:<name> is "
						"supported");
			lq->name = v + 5;
		} else if (strcmp(p, "offset") == 0) {
			if (query_number(p, v, &lq->offset, err) == -1)
				return -1;
		} else if (strcmp(p, "limit") == 0) {
			if (query_number(p, v, &lq->limit, err) == -1)
				return -1;
		} else {
			return api_errf(err, 400, p, "unknown query parameter %s (filter, offset "
					"and limit are known)", p);
		}
	}
	return 0;
}

int
api_h_list(struct api_call *c)
{
	const struct config *cur = c->api->hooks.config_current(c->api->hooks.ctx);
	struct list_query lq;
	char buf[API_QUERY_MAX];
	json_t *items;
	size_t n = api_coll_count(c->t, cur);
	long long seen = 0;

	if (query_parse(c->req->query, buf, sizeof(buf), &lq, &c->err) == -1)
		return -1;
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		const void *obj = api_coll_at(c->t, cur, i);

		if (lq.name != NULL && strcmp(api_cmeta(obj)->name, lq.name) != 0)
			continue;
		if (seen++ < lq.offset)
			continue;
		if (lq.limit >= 0 && (long long)json_array_size(items) >= lq.limit)
			break;
		json_array_append_new(items, api_obj_encode(c->t, obj, cur, c->self_base));
	}
	c->out = json_object();
	json_object_set_new(c->out, "items", items);
	return 0;
}

static void *
find_or_404(struct api_call *c, const struct config *cfg, size_t *index)
{
	void *obj = api_coll_find(c->t, cfg, c->id, index);

	if (obj == NULL)
		api_errf(&c->err, 404, "", "no %s with id %s", c->t->type, c->id);
	return obj;
}

int
api_h_get(struct api_call *c)
{
	const struct config *cur = c->api->hooks.config_current(c->api->hooks.ctx);
	const void *obj = find_or_404(c, cur, NULL);

	if (obj == NULL)
		return -1;
	c->out = api_obj_encode(c->t, obj, cur, c->self_base);
	return 0;
}

static int
body_parse(struct api_call *c, json_t **out)
{
	json_error_t jerr;

	if (c->req->body == NULL || c->req->body_len == 0)
		return api_errf(&c->err, 400, "", "a JSON body (a %s) is required", c->t->type);
	*out = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL)
		return api_errf(&c->err, 400, "", "the body is not valid JSON (line %d, column "
				"%d: %s)", jerr.line, jerr.column, jerr.text);
	return 0;
}

/* A change the handler checked against the live config is in the journal
 * and made in place: the reply (the object at slot, if any) is rendered,
 * the journal folded when due, and main.c applies the config. */
static void
changed(struct api_call *c, struct config *cur, const void *slot, const char *what,
	const char *name)
{
	struct api *api = c->api;

	if (slot != NULL)
		c->out = api_obj_encode(c->t, slot, cur, c->self_base);
	log_info("api: %s %s \"%s\" (id %s)", what, c->t->type, name,
		 slot != NULL ? api_cmeta(slot)->id : c->id);
	api_journal_fold(api, cur);
	api->hooks.config_changed(api->hooks.ctx);
}

/* The object's own checks, then those against the objects around it. */
static int
obj_check(struct api_call *c, const struct config *cur, const void *obj)
{
	if (c->t->check != NULL && c->t->check(obj, &c->err) == -1)
		return -1;
	if (c->t->check_cfg != NULL)
		return c->t->check_cfg(cur, obj, &c->err);
	return 0;
}

/* The name, then what else the type wants unique (obj's id is its own,
 * or empty on create). */
static int
name_conflict(struct api_call *c, const struct config *cur, const void *obj, const char *self_id)
{
	const struct cfg_meta *o = api_name_find(c->t, cur, api_cmeta(obj)->name, self_id);

	if (o != NULL)
		return api_errf(&c->err, 409, "name", "a %s named \"%s\" exists already (id %s)",
				c->t->type, o->name, o->id);
	if (c->t->conflict != NULL)
		return c->t->conflict(cur, obj, &c->err);
	return 0;
}

int
api_h_create(struct api_call *c)
{
	struct config *cur = c->api->hooks.config_current(c->api->hooks.ctx);
	struct api_dec d = { .mode = API_DEC_CREATE, .cfg = cur };
	char id[UUID_STR_LEN];
	const void *slot;
	json_t *in = NULL;
	void *obj = xcalloc(1, c->t->size);
	int rc = -1;

	if (body_parse(c, &in) == -1)
		goto done;
	if (api_coll_count(c->t, cur) >= api_max_items(c->t)) {
		if (api_max_items(c->t) == 1)
			api_errf(&c->err, 409, "", "a %s exists already (id %s); PUT to %s/<id> "
				 "changes it", c->t->type, api_cmeta(api_coll_at(c->t, cur, 0))->id,
				 c->t->path);
		else
			api_errf(&c->err, 409, api_store_key(c->t), "%s: there are %zu %s "
				 "objects already, the most allowed (vpn-agent --max-objects); "
				 "delete one first", api_store_key(c->t), api_max_items(c->t),
				 c->t->type);
		goto done;
	}
	if (api_obj_decode(c->t, in, &d, obj, &c->err) == -1)
		goto done;
	if (name_conflict(c, cur, obj, NULL) == -1 || obj_check(c, cur, obj) == -1) {
		api_obj_clear(c->t, obj);
		goto done;
	}
	uuid_v4(id);
	str_copy(api_meta(obj)->id, sizeof(api_meta(obj)->id), id);
	api_version_new(api_meta(obj)->version);
	if (api_journal_put(c->api, c->t, obj, cur, &c->err) == -1) {
		api_obj_clear(c->t, obj);
		goto done;
	}
	api_coll_add(c->t, cur, obj);	/* takes what obj holds; the last one */
	slot = api_coll_at(c->t, cur, api_coll_count(c->t, cur) - 1);
	changed(c, cur, slot, "created", api_cmeta(slot)->name);
	rc = 0;
done:
	api_husk_free(c->t, obj);
	json_decref(in);
	return rc;
}

/* PUT carries the version it read: missing is a 400, stale a 409. */
static int
version_check(struct api_call *c, json_t *in, const struct cfg_meta *old)
{
	json_t *v = json_object_get(in, "version");

	if (!json_is_object(in))
		return api_errf(&c->err, 400, "", "the body must be a JSON object (a %s)",
				c->t->type);
	if (v == NULL || json_is_null(v))
		return api_errf(&c->err, 400, "version", "version is required: send the version "
				"of the %s you read (GET it first)", c->t->type);
	if (!json_is_string(v))
		return api_errf(&c->err, 400, "version", "version must be a string");
	if (strcmp(json_string_value(v), old->version) != 0)
		return api_errf(&c->err, 409, "version", "version \"%s\" is stale: the %s was "
				"changed since (GET it again)", json_string_value(v),
				c->t->type);
	return 0;
}

int
api_h_update(struct api_call *c)
{
	struct config *cur = c->api->hooks.config_current(c->api->hooks.ctx);
	const void *old;
	struct api_dec d = { .mode = API_DEC_UPDATE, .cfg = cur };
	struct cfg_meta *m;
	json_t *in = NULL;
	void *obj = xcalloc(1, c->t->size), *slot;
	size_t idx;
	int rc = -1;

	if ((old = find_or_404(c, cur, &idx)) == NULL || body_parse(c, &in) == -1 ||
	    version_check(c, in, api_cmeta(old)) == -1)
		goto done;
	d.old = old;
	if (api_obj_decode(c->t, in, &d, obj, &c->err) == -1)
		goto done;
	m = api_meta(obj);
	if (m->id[0] != '\0' && strcmp(m->id, api_cmeta(old)->id) != 0) {
		api_errf(&c->err, 400, "id", "id %s does not match the id in the path (%s)",
			 m->id, api_cmeta(old)->id);
		api_obj_clear(c->t, obj);
		goto done;
	}
	str_copy(m->id, sizeof(m->id), api_cmeta(old)->id);
	if (name_conflict(c, cur, obj, api_cmeta(old)->id) == -1 ||
	    obj_check(c, cur, obj) == -1) {
		api_obj_clear(c->t, obj);
		goto done;
	}
	do
		api_version_new(m->version);
	while (strcmp(m->version, api_cmeta(old)->version) == 0);
	if (api_journal_put(c->api, c->t, obj, cur, &c->err) == -1) {
		api_obj_clear(c->t, obj);
		goto done;
	}
	slot = api_coll_at(c->t, cur, idx);
	api_obj_clear(c->t, slot);
	memcpy(slot, obj, c->t->size);	/* takes what obj holds */
	changed(c, cur, slot, "updated", api_cmeta(slot)->name);
	rc = 0;
done:
	api_husk_free(c->t, obj);
	json_decref(in);
	return rc;
}

int
api_h_delete(struct api_call *c)
{
	struct config *cur = c->api->hooks.config_current(c->api->hooks.ctx);
	const void *old;
	char name[CFG_NAME_MAX];
	size_t idx;

	if ((old = find_or_404(c, cur, &idx)) == NULL ||
	    api_referrers_check(cur, c->t, c->id, &c->err) == -1 ||
	    api_journal_delete(c->api, c->t, c->id, &c->err) == -1)
		return -1;
	str_copy(name, sizeof(name), api_cmeta(old)->name);
	api_coll_remove(c->t, cur, idx);
	changed(c, cur, NULL, "deleted", name);
	c->status = 204;
	return 0;
}
