/* See api_env.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_env.h"

static struct config *
fake_current(void *ctx)
{
	return ((struct env *)ctx)->cur;
}

static void
fake_changed(void *ctx)
{
	((struct env *)ctx)->applied++;
}

static void
fake_status(void *ctx, struct tel_status *out)
{
	struct env *e = ctx;

	e->status_calls++;
	*out = e->st;
}

static void
fake_view(void *ctx, enum api_vpn_view which, struct api_rows *rows)
{
	struct env *e = ctx;

	e->view_calls++;
	e->last_view = which;
	if (e->fill != NULL)
		e->fill(which, rows);
}

static void
fake_tunnel_if_view(void *ctx, struct api_rows *rows)
{
	struct env *e = ctx;

	e->tunnel_if_calls++;
	if (e->fill_tunnel_ifs != NULL)
		e->fill_tunnel_ifs(rows);
}

static int
fake_clear(void *ctx, const char *remote)
{
	struct env *e = ctx;

	e->clear_calls++;
	str_copy(e->clear_remote, sizeof(e->clear_remote), remote ? remote : "");
	return e->clear_result;
}

struct api_hooks
api_env_hooks(struct env *e)
{
	return (struct api_hooks){ .ctx = e, .config_current = fake_current,
				   .config_changed = fake_changed, .telemetry_status = fake_status,
				   .vpn_view = fake_view, .tunnel_if_view = fake_tunnel_if_view,
				   .clear_sessions = fake_clear };
}

int
api_env_setup(void **state, const char *tag)
{
	struct env *e = xcalloc(1, sizeof(*e));
	struct api_hooks hooks;

	snprintf(e->dir, sizeof(e->dir), "/tmp/%s.XXXXXX", tag);
	assert_non_null(mkdtemp(e->dir));
	e->cur = config_new();
	hooks = api_env_hooks(e);
	e->api = api_core_new(e->dir, "127.0.0.1:9276", &hooks);
	*state = e;
	return 0;
}

int
api_env_teardown(void **state)
{
	struct env *e = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", e->dir, API_CONFIG_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", e->dir, API_JOURNAL_FILE);
	unlink(path);
	rmdir(e->dir);
	api_free(e->api);
	config_free(e->cur);
	api_set_objects_max(CFG_OBJECTS_DEFAULT);
	api_set_tun_name("vpn0");
	free(e);
	return 0;
}

json_t *
call_text(struct env *e, const char *method, const char *path, const char *query,
	  const char *body, int want, char **text)
{
	struct api_req req = { .method = method, .path = path, .query = query,
			       .host = "agent.example:9276", .body = body,
			       .body_len = body ? strlen(body) : 0 };
	struct api_resp resp;
	json_t *j = NULL, *err;

	api_dispatch(e->api, &req, &resp);
	if (resp.status != want)
		fail_msg("%s %s: got %d, want %d: %s", method, path, resp.status, want,
			 resp.body ? resp.body : "(no body)");
	if (resp.body != NULL && (j = json_loads(resp.body, 0, NULL)) == NULL)
		fail_msg("%s %s: not JSON: %s", method, path, resp.body);
	if (want >= 400) {
		err = json_object_get(j, "error");
		assert_int_equal(json_integer_value(json_object_get(err, "status")), want);
		assert_true(json_string_length(json_object_get(err, "message")) > 0);
	}
	if (want == 204)
		assert_null(resp.body);
	if (text != NULL)
		*text = resp.body ? xstrdup(resp.body) : NULL;
	api_resp_free(&resp);
	return j;
}

json_t *
call(struct env *e, const char *method, const char *path, const char *body, int want)
{
	return call_text(e, method, path, NULL, body, want, NULL);
}

json_t *
callj(struct env *e, const char *method, const char *path, json_t *body, int want)
{
	char *text = api_json_text(body);
	json_t *j = call(e, method, path, text, want);

	free_secret(text);
	json_decref(body);
	return j;
}

const char *
str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

long long
num(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

const char *
err_field(json_t *j)
{
	const char *f = json_string_value(json_object_get(json_object_get(j, "error"), "field"));

	return f ? f : "";
}

const char *
err_message(json_t *j)
{
	const char *m = json_string_value(json_object_get(json_object_get(j, "error"),
							  "message"));

	return m ? m : "";
}

void
refusal_is(json_t *j, const char *shown, const char *field, const char *named,
	   const char *text)
{
	if (strcmp(err_field(j), field) != 0)
		fail_msg("%s: field \"%s\", want \"%s\" (%s)", shown, err_field(j), field,
			 err_message(j));
	if (strstr(err_message(j), named) == NULL)
		fail_msg("%s: message \"%s\" does not name %s", shown, err_message(j), named);
	if (text != NULL && strstr(err_message(j), text) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", shown, err_message(j), text);
}

void
refused(struct env *e, const char *method, const char *path, json_t *body, int status,
	const char *field, const char *text)
{
	char *body_text = api_json_text(body);
	size_t n = strlen(method) + strlen(path) + strlen(body_text) + 3;
	char *shown = xmalloc(n);
	const char *leaf = strrchr(field, '.');
	json_t *j = callj(e, method, path, body, status);

	snprintf(shown, n, "%s %s %s", method, path, body_text);
	refusal_is(j, shown, field, leaf ? leaf + 1 : field, text);
	free_secret(body_text);
	free_secret(shown);
	json_decref(j);
}

char *
item_path(const char *coll, json_t *obj)
{
	size_t n = strlen(coll) + UUID_STR_LEN + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", coll, str(obj, "id"));
	return p;
}

json_t *
with(json_t *body, const char *key, const char *value)
{
	json_t *b = json_deep_copy(body);

	if (value == NULL)
		json_object_del(b, key);
	else
		json_object_set_new(b, key, json_loads(value, JSON_DECODE_ANY, NULL));
	return b;
}

json_t *
put_of(json_t *obj, const char *key, const char *value)
{
	json_t *b = with(obj, key, value);

	json_object_del(b, "links");
	return b;
}

void
keys_are(json_t *j, const char *const *keys, size_t n)
{
	void *iter = json_object_iter(j);

	for (size_t i = 0; i < n; i++, iter = json_object_iter_next(j, iter)) {
		if (iter == NULL)
			fail_msg("key %zu (%s) missing", i, keys[i]);
		if (strcmp(json_object_iter_key(iter), keys[i]) != 0)
			fail_msg("key %zu is %s, want %s", i, json_object_iter_key(iter), keys[i]);
	}
	if (iter != NULL)
		fail_msg("extra key %s", json_object_iter_key(iter));
}

struct config *
load_config_text(struct env *e, const char *text, int want)
{
	char path[128];
	struct config *cfg = NULL;

	snprintf(path, sizeof(path), "%s/%s", e->dir, API_CONFIG_FILE);
	assert_int_equal(file_write_atomic(path, text, strlen(text), 0600), 0);
	if (api_config_load(e->dir, &cfg) != want)
		fail_msg("load %s: not %d", text, want);
	return cfg;
}
