/*
 * `vpnctl import-ios FILE [--dry-run]`: reads FILE, translates it with
 * ios_import() and, only when every line could be honoured, sends the
 * objects in dependency order. If the agent refuses one midway, what this
 * run changed is undone in reverse order (objects deleted, the singletons
 * put back), so the agent ends with the configuration it started with.
 */
#include "cli/ios_import.h"
#include "cli/vpnctl.h"
#include "core/strbuf.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define OUTPUT_MAX (16 * 1024 * 1024)	/* what we render for the terminal */
#define ID_MAX     64

/* One change this run made, so it can be undone. */
struct change {
	const struct ios_object *obj;
	char                     id[ID_MAX];	/* created object; "" for a singleton */
	char                     name[160];
	json_t                  *before;	/* singleton as it was, for the undo PUT */
};

static void
print_buf(FILE *f, struct strbuf *sb)
{
	if (sb->data != NULL)
		fputs(sb->data, f);
	if (sb->overflow)
		fprintf(f, "... (output cut at %d bytes)\n", OUTPUT_MAX);
}

/* One request with a JSON body (or none). Returns the 2xx answer (an empty
 * object for 204), or NULL with *rc set after the reason is printed, the
 * request named by `what` (when not NULL) first. */
static json_t *
call(struct vpnctl *v, const char *method, const char *path, const json_t *body,
     const char *what, int *rc)
{
	struct vpnctl_resp resp;
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_t *answer = NULL;

	*rc = vpnctl_call(v, method, path, text, &resp);
	free_secret(text);	/* it may carry a pre-shared key or a password */
	if (*rc != VPNCTL_OK)
		return NULL;
	if (resp.status < 200 || resp.status > 299) {
		if (what != NULL)
			fprintf(stderr, "vpnctl: import-ios: %s was refused:\n", what);
		*rc = vpnctl_api_error(v, &resp);
	} else if (resp.len == 0) {
		answer = json_object();
	} else if ((answer = json_loadb(resp.body, resp.len, 0, NULL)) == NULL) {
		fprintf(stderr, "vpnctl: %s %s: the agent's answer is not JSON\n", method, path);
		*rc = VPNCTL_EAPI;
	}
	vpnctl_resp_free(&resp);
	return answer;
}

static const char *
name_of(const json_t *j, const char *fallback)
{
	const char *n = json_string_value(json_object_get(j, "name"));

	return n ? n : fallback;
}

/* The singleton as it is now, with the fields IOS sets laid over it:
 * everything the file does not mention keeps its value. */
static int
apply_put(struct vpnctl *v, const struct ios_object *o, const char *what, struct change *c)
{
	json_t *body, *answer;
	int rc;

	if ((c->before = call(v, "GET", o->path, NULL, NULL, &rc)) == NULL)
		return rc;
	body = json_deep_copy(c->before);
	json_object_update(body, o->body);
	answer = call(v, "PUT", o->path, body, what, &rc);
	json_decref(body);
	if (answer == NULL)
		return rc;
	snprintf(c->name, sizeof(c->name), "%s", name_of(answer, ios_kind_names[o->kind]));
	json_decref(answer);
	return VPNCTL_OK;
}

/* A crypto map's transform sets and address pool get the ids the agent
 * gave them. */
static int
apply_post(struct vpnctl *v, const struct ios_result *res, const struct ios_object *o,
	   const char *what, const struct change *done, size_t n_done, struct change *c)
{
	json_t *body = json_deep_copy(o->body), *answer;
	const char *id;
	int rc;

	for (size_t i = 0; i < o->n_refs; i++) {
		const struct ios_objref *ref = &o->refs[i];
		const struct ios_object *target = &res->objs[ref->obj];
		json_t *field = json_object_get(body, ref->field);
		json_t *slot = ref->index < 0 ? field : json_array_get(field, (size_t)ref->index);
		const char *ref_id = NULL;

		for (size_t k = 0; k < n_done; k++)
			if (done[k].obj == target)
				ref_id = done[k].id;
		/* the translator orders objects and builds the slots: a bug */
		if (ref_id == NULL || !json_is_object(slot)) {
			fprintf(stderr, "vpnctl: import-ios: %s \"%s\" of %s was not created "
				"first\n", ios_kind_names[target->kind], name_of(target->body, "?"),
				name_of(o->body, "?"));
			json_decref(body);
			return VPNCTL_EAPI;
		}
		json_object_set_new(slot, "id", json_string(ref_id));
	}
	answer = call(v, "POST", o->path, body, what, &rc);
	json_decref(body);
	if (answer == NULL)
		return rc;
	id = json_string_value(json_object_get(answer, "id"));
	if (id == NULL || strlen(id) >= ID_MAX) {
		fprintf(stderr, "vpnctl: POST %s: the agent's answer has no id\n", o->path);
		json_decref(answer);
		return VPNCTL_EAPI;
	}
	str_copy(c->id, sizeof(c->id), id);
	snprintf(c->name, sizeof(c->name), "%s", name_of(answer, "?"));
	json_decref(answer);
	return VPNCTL_OK;
}

/* Puts back a singleton as it was (with its current version). */
static int
undo_put(struct vpnctl *v, const struct change *c)
{
	json_t *now, *body, *answer;
	int rc;

	if ((now = call(v, "GET", c->obj->path, NULL, NULL, &rc)) == NULL)
		return -1;
	body = json_deep_copy(c->before);
	json_object_set(body, "version", json_object_get(now, "version"));
	answer = call(v, "PUT", c->obj->path, body, NULL, &rc);
	json_decref(body);
	json_decref(now);
	json_decref(answer);
	return answer ? 0 : -1;
}

static int
undo(struct vpnctl *v, struct change *done, size_t n)
{
	char path[VPNCTL_URL_MAX];
	int failed = 0;

	if (n > 0)
		fprintf(stderr, "vpnctl: import-ios: undoing the %zu change%s made so far\n", n,
			n == 1 ? "" : "s");
	while (n-- > 0) {
		const struct change *c = &done[n];
		const char *kind = ios_kind_names[c->obj->kind];
		json_t *answer = NULL;
		int rc;

		if (c->id[0] == '\0') {
			if (undo_put(v, c) == 0)
				continue;
			fprintf(stderr, "vpnctl: import-ios: could not put %s back as it was\n",
				c->obj->path);
			failed = 1;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", c->obj->path, c->id);
		if ((answer = call(v, "DELETE", path, NULL, NULL, &rc)) == NULL) {
			fprintf(stderr, "vpnctl: import-ios: could not delete %s \"%s\" (id %s): "
				"delete it by hand\n", kind, c->name, c->id);
			failed = 1;
		}
		json_decref(answer);
	}
	fprintf(stderr, "vpnctl: import-ios: %s\n", failed ? "the agent's configuration is NOT "
		"as it was: see above" : "nothing was changed");
	return failed;
}

static int
apply(struct vpnctl *v, const struct ios_result *res, const char *file)
{
	struct change *done = xcalloc(res->n_objs + 1, sizeof(*done));
	struct strbuf out;
	size_t n = 0;
	int rc = VPNCTL_OK;

	strbuf_init(&out, OUTPUT_MAX);
	for (; n < res->n_objs; n++) {
		const struct ios_object *o = &res->objs[n];
		char what[512];

		snprintf(what, sizeof(what), "%s:%u: %s %s (%s \"%s\")", file, o->line,
			 o->method, o->path, ios_kind_names[o->kind],
			 name_of(o->body, ios_kind_names[o->kind]));
		done[n].obj = o;
		rc = strcmp(o->method, "PUT") == 0 ? apply_put(v, o, what, &done[n]) :
		     apply_post(v, res, o, what, done, n, &done[n]);
		if (rc != VPNCTL_OK) {
			if (rc != VPNCTL_EAPI)
				fprintf(stderr, "vpnctl: import-ios: %s failed\n", what);
			json_decref(done[n].before);	/* not changed: nothing to undo */
			done[n].before = NULL;
			undo(v, done, n);
			break;
		}
		if (done[n].id[0])
			strbuf_printf(&out, "created %s \"%s\" id %s\n", ios_kind_names[o->kind],
				      done[n].name, done[n].id);
		else
			strbuf_printf(&out, "updated %s \"%s\" (%s)\n", ios_kind_names[o->kind],
				      done[n].name, o->path);
	}
	if (rc == VPNCTL_OK)
		print_buf(stdout, &out);
	for (size_t i = 0; i < n; i++)
		json_decref(done[i].before);
	strbuf_free(&out);
	free(done);
	return rc;
}

int
cmd_import_ios(struct vpnctl *v, char **args, int nargs)
{
	const char *file = args[0];
	struct ios_result res;
	struct strbuf sb;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (file_read_all(file, IOS_TEXT_MAX, &text, &len) == -1) {
		fprintf(stderr, "vpnctl: cannot read %s: %s\n", file, errno == EFBIG ?
			"larger than 4 MiB; is it a configuration?" : strerror(errno));
		return VPNCTL_EUSAGE;
	}
	ios_import(text, len, file, &res);
	free_secret(text);	/* it holds the pre-shared keys */
	strbuf_init(&sb, OUTPUT_MAX);
	ios_format_diags(&res, &sb);
	print_buf(stderr, &sb);
	strbuf_reset(&sb);
	if (v->dry_run) {
		ios_format_objects(&res, &sb);
		print_buf(stdout, &sb);
	}
	if (res.n_errors > 0) {
		fprintf(stderr, "vpnctl: import-ios: %zu error%s in %s: nothing %s sent to the "
			"agent\n", res.n_errors, res.n_errors == 1 ? "" : "s", file,
			v->dry_run ? "would be" : "was");
		rc = VPNCTL_EAPI;
	} else if (res.n_objs == 0) {
		fprintf(stderr, "vpnctl: import-ios: %s holds no crypto configuration to import\n",
			file);
		rc = VPNCTL_OK;
	} else if (v->dry_run) {
		fprintf(stderr, "vpnctl: import-ios: dry run: %zu request%s shown, nothing sent\n",
			res.n_objs, res.n_objs == 1 ? "" : "s");
		rc = VPNCTL_OK;
	} else {
		rc = apply(v, &res, file);
	}
	strbuf_free(&sb);
	ios_result_free(&res);
	return rc;
}
