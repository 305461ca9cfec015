/*
 * `vpnctl show ...`: operational views rendered as the tables network
 * engineers read, from the same JSON the API returns (--json prints that
 * JSON as is). For now: show telemetry status.
 */
#include "cli/vpnctl.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* The API's errorType values, in the reference's order; listed
 * even when zero so the table always has the same rows. */
static const char *const error_types[] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define MSG_COLUMN_MAX 400	/* a message longer than this is cut */

static void
print_message(const char *s)
{
	size_t n = 0;

	for (; *s && n < MSG_COLUMN_MAX; s++, n++)
		putchar((unsigned char)*s < 0x20 ? ' ' : *s);
	if (*s)
		fputs("...", stdout);
}

static void
print_error_row(const char *type, json_t *e)
{
	json_t *code = json_object_get(e, "errorCode");
	const char *msg = json_string_value(json_object_get(e, "errorMessage"));

	printf("%-22s %8lld  ", type, (long long)json_integer_value(json_object_get(e,
										"errorCount")));
	if (json_is_integer(code))
		printf("%4lld  ", (long long)json_integer_value(code));
	else
		printf("%4s  ", "-");
	print_message(msg && *msg ? msg : "-");
	putchar('\n');
}

static json_t *
error_of_type(json_t *errors, const char *type)
{
	size_t i;
	json_t *e;

	json_array_foreach(errors, i, e) {
		const char *t = json_string_value(json_object_get(e, "errorType"));

		if (t != NULL && strcmp(t, type) == 0)
			return e;
	}
	return NULL;
}

static int
known_type(const char *t)
{
	for (size_t i = 0; i < ARRAY_LEN(error_types); i++)
		if (t != NULL && strcmp(error_types[i], t) == 0)
			return 1;
	return 0;
}

static int
render_status(json_t *root)
{
	json_t *item = json_array_get(json_object_get(root, "items"), 0);
	json_t *errors = json_object_get(item, "errors"), *e;
	const char *state = json_string_value(json_object_get(item, "state"));
	size_t i;

	if (state == NULL) {
		fprintf(stderr, "vpnctl: the agent's status has no state\n");
		return VPNCTL_EAPI;
	}
	printf("State: %s\n\n", state);
	printf("%-22s %8s  %4s  %s\n", "Error type", "Count", "Code", "Last message");
	for (i = 0; i < ARRAY_LEN(error_types); i++) {
		if ((e = error_of_type(errors, error_types[i])) != NULL)
			print_error_row(error_types[i], e);
		else
			printf("%-22s %8d  %4s  -\n", error_types[i], 0, "-");
	}
	json_array_foreach(errors, i, e) {
		const char *t = json_string_value(json_object_get(e, "errorType"));

		if (!known_type(t))
			print_error_row(t ? t : "?", e);	/* a newer agent's type */
	}
	return VPNCTL_OK;
}

int
cmd_show_telemetry_status(struct vpnctl *v, char **args, int nargs)
{
	struct vpnctl_resp resp;
	json_t *root;
	int rc;

	if ((rc = vpnctl_call(v, "GET", "/operational/telemetrystreamingstatuses", NULL,
			      &resp)) != VPNCTL_OK)
		return rc;
	if (v->json || resp.status < 200 || resp.status > 299) {
		rc = vpnctl_print(v, &resp);
	} else if ((root = json_loadb(resp.body, resp.len, 0, NULL)) == NULL) {
		fprintf(stderr, "vpnctl: the agent's answer is not JSON\n");
		rc = VPNCTL_EAPI;
	} else {
		rc = render_status(root);
		json_decref(root);
	}
	vpnctl_resp_free(&resp);
	return rc;
}
