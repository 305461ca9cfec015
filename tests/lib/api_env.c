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

int
api_env_setup(void **state, const char *tag)
{
	struct env *e = xcalloc(1, sizeof(*e));
	struct api_hooks hooks = { .ctx = e, .config_current = fake_current,
				   .config_changed = fake_changed };

	snprintf(e->dir, sizeof(e->dir), "/tmp/%s.XXXXXX", tag);
	assert_non_null(mkdtemp(e->dir));
	e->cur = config_new();
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
