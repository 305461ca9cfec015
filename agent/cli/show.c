/*
 * `vpnctl show ...`: operational views rendered as the tables network
 * engineers read, from the same JSON the API returns (--json prints that
 * JSON as is). show telemetry status; show crypto isakmp sa [detail],
 * ipsec sa, session, isakmp keepalive and clear crypto session fetch here
 * and render in show_crypto.c; show interfaces tunnel in show_interfaces.c.
 */
#include "cli/vpnctl.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- show crypto ... / clear crypto session ------------------------------ */

#define PATH_IKESAS     "/operational/ikesas"
#define PATH_IPSECSAS   "/operational/ipsecsas"
#define PATH_TUNNELS    "/operational/tunnels"
#define PATH_IKESTATS   "/operational/ikestatistics"
#define PATH_POOLS      "/operational/ippools"
#define PATH_TUNNEL_IFS "/operational/tunnelinterfaces"
#define PATH_CRYPTOMAPS "/object/cryptomaps"
#define PATH_DYNMAPS    "/object/dynamiccryptomaps"
#define PATH_DPD        "/devicesettings/default/dpd"
#define PATH_CLEAR      "/operational/clearsessions"
#define FETCH_MAX       5

static int
usage_error(const char *usage, const char *why, const char *arg)
{
	fprintf(stderr, "vpnctl: %s \"%s\"\nusage: vpnctl %s\n", why, arg, usage);
	return VPNCTL_EUSAGE;
}

/* KEYWORD A.B.C.D (peer, remote) or nothing: *addr is the address or NULL. */
static int
address_args(char **args, int nargs, const char *keyword, const char *usage,
	     const char **addr)
{
	struct in_addr a;

	*addr = NULL;
	if (nargs == 0)
		return VPNCTL_OK;
	if (strcmp(args[0], keyword) != 0)
		return usage_error(usage, "unexpected", args[0]);
	if (nargs != 2)
		return usage_error(usage, "an IPv4 address must follow", keyword);
	if (inet_pton(AF_INET, args[1], &a) != 1)
		return usage_error(usage, "not a dotted IPv4 address:", args[1]);
	*addr = args[1];
	return VPNCTL_OK;
}

static void
json_out(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
}

/* GET each path (parsed answers in roots[]); on any failure none is kept
 * and the exit code says why. */
static int
fetch(struct vpnctl *v, const char *const *paths, size_t n, json_t **roots)
{
	struct vpnctl_resp resp;
	int rc = VPNCTL_OK;
	size_t i;

	memset(roots, 0, n * sizeof(*roots));
	for (i = 0; i < n && rc == VPNCTL_OK; i++) {
		if ((rc = vpnctl_call(v, "GET", paths[i], NULL, &resp)) != VPNCTL_OK)
			break;
		if (resp.status < 200 || resp.status > 299) {
			rc = vpnctl_api_error(v, &resp);
		} else if ((roots[i] = json_loadb(resp.body, resp.len, 0, NULL)) == NULL) {
			fprintf(stderr, "vpnctl: the agent's answer to %s is not JSON\n", paths[i]);
			rc = VPNCTL_EAPI;
		}
		vpnctl_resp_free(&resp);
	}
	if (rc != VPNCTL_OK) {
		for (i = 0; i < n; i++)
			json_decref(roots[i]);
		memset(roots, 0, n * sizeof(*roots));
	}
	return rc;
}

/* --json of a command built on several views: {"PATH": answer, ...}. */
static void
json_out_all(const char *const *paths, size_t n, json_t **roots)
{
	json_t *all = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set(all, paths[i], roots[i]);
	json_out(all);
	json_decref(all);
}

static void
decref_all(json_t **roots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(roots[i]);
}

int
cmd_show_isakmp_sa(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[] = { PATH_IKESAS };
	json_t *root;
	int rc;

	if (nargs == 1 && strcmp(args[0], "detail") != 0)
		return usage_error("show crypto isakmp sa [detail]", "unexpected", args[0]);
	if ((rc = fetch(v, paths, 1, &root)) != VPNCTL_OK)
		return rc;
	if (v->json)
		json_out(root);
	else
		show_isakmp_sa(stdout, root, nargs == 1);
	json_decref(root);
	return VPNCTL_OK;
}

/* The items of one peer, in an answer of the same shape. */
static json_t *
only_peer(json_t *root, const char *peer)
{
	json_t *out = json_copy(root), *items = json_array(), *sa;
	size_t i;

	json_array_foreach(json_object_get(root, "items"), i, sa) {
		const char *p = json_string_value(json_object_get(sa, "peer"));

		if (p != NULL && strcmp(p, peer) == 0)
			json_array_append(items, sa);
	}
	json_object_set_new(out, "items", items);
	return out;
}

int
cmd_show_ipsec_sa(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[] = { PATH_IPSECSAS, PATH_IKESAS };
	json_t *roots[ARRAY_LEN(paths)], *shown;
	const char *peer;
	int rc;

	if ((rc = address_args(args, nargs, "peer", "show crypto ipsec sa [peer A.B.C.D]",
			       &peer)) != VPNCTL_OK)
		return rc;
	/* --json is the IPsec view alone; the text adds our IKE address. */
	if ((rc = fetch(v, paths, v->json ? 1 : 2, roots)) != VPNCTL_OK)
		return rc;
	if (v->json) {
		shown = peer ? only_peer(roots[0], peer) : json_incref(roots[0]);
		json_out(shown);
		json_decref(shown);
		json_decref(roots[0]);
		return VPNCTL_OK;
	}
	show_ipsec_sa(stdout, roots[0], roots[1], peer);
	decref_all(roots, ARRAY_LEN(paths));
	return VPNCTL_OK;
}

int
cmd_show_crypto_session(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[FETCH_MAX] = {
		PATH_TUNNELS, PATH_IKESAS, PATH_IPSECSAS, PATH_CRYPTOMAPS, PATH_DYNMAPS,
	};
	json_t *roots[FETCH_MAX];
	int rc;

	if ((rc = fetch(v, paths, FETCH_MAX, roots)) != VPNCTL_OK)
		return rc;
	if (v->json)
		json_out_all(paths, FETCH_MAX, roots);
	else
		show_crypto_session(stdout, roots[0], roots[1], roots[2], roots[3], roots[4]);
	decref_all(roots, FETCH_MAX);
	return VPNCTL_OK;
}

int
cmd_show_isakmp_keepalive(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[] = { PATH_DPD, PATH_TUNNELS };
	json_t *roots[ARRAY_LEN(paths)];
	int rc;

	if ((rc = fetch(v, paths, ARRAY_LEN(paths), roots)) != VPNCTL_OK)
		return rc;
	if (v->json)
		json_out_all(paths, ARRAY_LEN(paths), roots);
	else
		show_isakmp_keepalive(stdout, roots[0], roots[1]);
	decref_all(roots, ARRAY_LEN(paths));
	return VPNCTL_OK;
}

int
cmd_show_isakmp_stats(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[] = { PATH_IKESTATS };
	json_t *root;
	int rc;

	if ((rc = fetch(v, paths, 1, &root)) != VPNCTL_OK)
		return rc;
	if (v->json)
		json_out(root);
	else
		show_isakmp_stats(stdout, root);
	json_decref(root);
	return VPNCTL_OK;
}

int
cmd_show_ip_local_pool(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[] = { PATH_POOLS };
	json_t *root;
	int rc;

	if ((rc = fetch(v, paths, 1, &root)) != VPNCTL_OK)
		return rc;
	if (v->json)
		json_out(root);
	else
		show_ip_local_pool(stdout, root);
	json_decref(root);
	return VPNCTL_OK;
}

int
cmd_show_interfaces_tunnel(struct vpnctl *v, char **args, int nargs)
{
	static const char *const paths[] = { PATH_TUNNEL_IFS };
	const char *name = nargs == 1 ? args[0] : NULL;
	json_t *root, *shown;
	int rc = VPNCTL_OK;

	if ((rc = fetch(v, paths, 1, &root)) != VPNCTL_OK)
		return rc;
	if (v->json) {
		/* the answer's shape, with NAME's item only */
		shown = json_copy(root);
		json_object_set_new(shown, "items", tunnel_ifs_select(root, name));
		if (name != NULL && json_array_size(json_object_get(shown, "items")) == 0) {
			show_no_tunnel_if(stderr, root, name);
			rc = VPNCTL_EAPI;
		} else {
			json_out(shown);
		}
		json_decref(shown);
	} else if (show_interfaces_tunnel(stdout, stderr, root, name) == 0 && name != NULL) {
		rc = VPNCTL_EAPI;	/* the agent has no such interface */
	}
	json_decref(root);
	return rc;
}

int
cmd_clear_crypto_session(struct vpnctl *v, char **args, int nargs)
{
	struct vpnctl_resp resp;
	const char *remote;
	json_t *body, *answer;
	char *text;
	int rc;

	if ((rc = address_args(args, nargs, "remote", "clear crypto session [remote A.B.C.D]",
			       &remote)) != VPNCTL_OK)
		return rc;
	body = remote ? json_pack("{ss}", "remote", remote) : json_object();
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	rc = vpnctl_call(v, "POST", PATH_CLEAR, text, &resp);
	free(text);
	if (rc != VPNCTL_OK)
		return rc;
	if (v->json || resp.status < 200 || resp.status > 299) {
		rc = vpnctl_print(v, &resp);
	} else if ((answer = json_loadb(resp.body, resp.len, 0, NULL)) == NULL) {
		fprintf(stderr, "vpnctl: the agent's answer is not JSON\n");
		rc = VPNCTL_EAPI;
	} else {
		show_cleared(stdout, answer, remote);
		json_decref(answer);
	}
	vpnctl_resp_free(&resp);
	return rc;
}
