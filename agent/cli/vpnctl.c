/*
 * vpnctl: the operator's client for the agent's JSON API.
 * Global options, then a command from the table below; `vpnctl help` and
 * the usage errors are generated from that table. Exit codes: 0 ok, 1 the
 * API said no, 2 usage, 3 agent unreachable, 4 token file unreadable.
 */
#include "cli/vpnctl.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define CMD_WORDS_MAX 4

struct command {
	const char *words[CMD_WORDS_MAX];	/* NULL-terminated when shorter */
	const char *args;
	int         min_args, max_args;
	int       (*fn)(struct vpnctl *v, char **args, int nargs);
	const char *help;
};

static int cmd_get(struct vpnctl *, char **, int);
static int cmd_post(struct vpnctl *, char **, int);
static int cmd_put(struct vpnctl *, char **, int);
static int cmd_delete(struct vpnctl *, char **, int);
static int cmd_help(struct vpnctl *, char **, int);

static const struct command commands[] = {
	{ { "get" }, "PATH", 1, 1, cmd_get,
	  "GET an API path, e.g. /object/networks?filter=name:X" },
	{ { "post" }, "PATH JSON|@FILE", 2, 2, cmd_post,
	  "create an object (body inline, from FILE, or @- for stdin)" },
	{ { "put" }, "PATH JSON|@FILE", 2, 2, cmd_put,
	  "replace an object; the body carries its current version" },
	{ { "delete" }, "PATH", 1, 1, cmd_delete, "delete an object" },
	{ { "show", "telemetry", "status" }, "", 0, 0, cmd_show_telemetry_status,
	  "streaming state and errors by type (--json: raw)" },
	{ { "show", "crypto", "isakmp", "sa" }, "[detail]", 0, 1, cmd_show_isakmp_sa,
	  "IKE SAs as IOS shows them; detail: algorithms, lifetime" },
	{ { "show", "crypto", "isakmp", "keepalive" }, "", 0, 0, cmd_show_isakmp_keepalive,
	  "DPD settings and per-peer DPD counters" },
	{ { "show", "crypto", "isakmp", "stats" }, "", 0, 0, cmd_show_isakmp_stats,
	  "IKE messages in and out, drops by reason, half-open SAs" },
	{ { "show", "crypto", "ipsec", "sa" }, "[peer A.B.C.D]", 0, 2, cmd_show_ipsec_sa,
	  "IPsec SA pairs: selectors, counters, SPIs, lifetimes" },
	{ { "show", "crypto", "session" }, "", 0, 0, cmd_show_crypto_session,
	  "one session per peer: status, IKE SA, IPsec flows" },
	{ { "show", "ip", "local", "pool" }, "", 0, 0, cmd_show_ip_local_pool,
	  "address pools of remote-access clients: free, in use, refusals" },
	{ { "show", "interfaces", "tunnel" }, "[NAME]", 0, 1, cmd_show_interfaces_tunnel,
	  "GRE tunnel interfaces as IOS shows them: state, counters" },
	{ { "clear", "crypto", "session" }, "[remote A.B.C.D]", 0, 2, cmd_clear_crypto_session,
	  "delete the SAs of every peer, or of one" },
	{ { "import-ios" }, "FILE [--dry-run]", 1, 1, cmd_import_ios,
	  "create the objects of an IOS crypto config; --dry-run: show them" },
	{ { "help" }, "", 0, 0, cmd_help, "this text" },
};

static size_t
command_usage(const struct command *c, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < CMD_WORDS_MAX && c->words[i] != NULL; i++)
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? " " : "",
				      c->words[i]);
	if (c->args[0] != '\0' && n < size)
		n += (size_t)snprintf(out + n, size - n, " %s", c->args);
	return n;
}

static void
usage(FILE *f)
{
	char line[128];
	size_t width = 0;

	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		size_t n = command_usage(&commands[i], line, sizeof(line));

		if (n > width)
			width = n;
	}
	fprintf(f, "usage: vpnctl [--api URL] [--token-file FILE] [--json] COMMAND ...\n\n"
		"commands:\n");
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		command_usage(&commands[i], line, sizeof(line));
		fprintf(f, "  %-*s  %s\n", (int)width, line, commands[i].help);
	}
	fprintf(f, "\nPATH is relative to %s, e.g. vpnctl get /object/networks\n"
		"options and environment:\n"
		"  --api URL          agent origin (VPNCTL_API, default %s)\n"
		"  --token-file FILE  bearer token (VPNCTL_TOKEN_FILE, default %s)\n"
		"  --json             print raw JSON instead of tables\n"
		"  --dry-run          import-ios: print the requests, send nothing\n"
		"exit status: 0 ok, 1 the API returned an error, 2 usage, 3 cannot reach the "
		"agent, 4 token file unreadable\n", VPNCTL_API_BASE, VPNCTL_DEFAULT_API,
		VPNCTL_DEFAULT_TOKEN);
}

/* "vpnctl show": the usage of the commands starting with that word. */
static int
usage_of_word(const char *word)
{
	char line[128];
	int n = 0;

	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(commands[i].words[0], word) != 0)
			continue;
		command_usage(&commands[i], line, sizeof(line));
		fprintf(stderr, "%s vpnctl %s\n", n++ ? "      " : "usage:", line);
	}
	if (n == 0)
		fprintf(stderr, "vpnctl: unknown command \"%s\"\n", word);
	return n > 0;
}

static int
cmd_help(struct vpnctl *v, char **args, int nargs)
{
	usage(stdout);
	return VPNCTL_OK;
}

static int
simple(struct vpnctl *v, const char *method, const char *path, const char *body)
{
	struct vpnctl_resp resp;
	int rc;

	if ((rc = vpnctl_call(v, method, path, body, &resp)) != VPNCTL_OK)
		return rc;
	rc = vpnctl_print(v, &resp);
	vpnctl_resp_free(&resp);
	return rc;
}

static int
cmd_get(struct vpnctl *v, char **args, int nargs)
{
	return simple(v, "GET", args[0], NULL);
}

static int
cmd_delete(struct vpnctl *v, char **args, int nargs)
{
	return simple(v, "DELETE", args[0], NULL);
}

/* JSON inline, @FILE or @- (stdin); checked here so typos are usage
 * errors, not a round trip. Wiped afterwards: it may hold a private key. */
static int
body_arg(const char *arg, char **out)
{
	const char *file = arg[0] == '@' ? (arg[1] == '-' && arg[2] == '\0' ? "/dev/stdin" :
					   arg + 1) : NULL;
	json_error_t jerr;
	json_t *j;
	size_t len;

	if (file != NULL && file_read_all(file, VPNCTL_BODY_MAX, out, &len) == -1) {
		fprintf(stderr, "vpnctl: cannot read %s: %s\n", file,
			errno == EFBIG ? "larger than the API accepts" : strerror(errno));
		return VPNCTL_EUSAGE;
	}
	if (file == NULL)
		*out = xstrdup(arg);
	if ((j = json_loads(*out, 0, &jerr)) == NULL) {
		fprintf(stderr, "vpnctl: the body is not valid JSON (line %d, column %d: %s)\n",
			jerr.line, jerr.column, jerr.text);
		free_secret(*out);
		*out = NULL;
		return VPNCTL_EUSAGE;
	}
	json_decref(j);
	return VPNCTL_OK;
}

static int
with_body(struct vpnctl *v, const char *method, char **args)
{
	char *body = NULL;
	int rc;

	if ((rc = body_arg(args[1], &body)) != VPNCTL_OK)
		return rc;
	rc = simple(v, method, args[0], body);
	free_secret(body);
	return rc;
}

static int
cmd_post(struct vpnctl *v, char **args, int nargs)
{
	return with_body(v, "POST", args);
}

static int
cmd_put(struct vpnctl *v, char **args, int nargs)
{
	return with_body(v, "PUT", args);
}

/* The command whose words start pos[], longest first ("show telemetry
 * status" before a future "show"). */
static const struct command *
command_find(char **pos, int npos, int *nwords)
{
	const struct command *best = NULL;
	int bestn = 0;

	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		int n = 0;

		while (n < CMD_WORDS_MAX && commands[i].words[n] != NULL && n < npos &&
		       strcmp(commands[i].words[n], pos[n]) == 0)
			n++;
		if ((n == CMD_WORDS_MAX || commands[i].words[n] == NULL) && n > bestn) {
			best = &commands[i];
			bestn = n;
		}
	}
	*nwords = bestn;
	return best;
}

/* "127.0.0.1:9276/" → "http://127.0.0.1:9276"; a trailing /api/v1 too. */
static char *
api_origin(const char *url)
{
	size_t n = strlen(url) + 8;
	char *s = xmalloc(n), *end;

	snprintf(s, n, "%s%s", strstr(url, "://") ? "" : "http://", url);
	end = s + strlen(s);
	while (end > s && end[-1] == '/')
		*--end = '\0';
	if ((size_t)(end - s) > strlen(VPNCTL_API_BASE) &&
	    strcmp(end - strlen(VPNCTL_API_BASE), VPNCTL_API_BASE) == 0)
		end[-(long)strlen(VPNCTL_API_BASE)] = '\0';
	return s;
}

static int
option_value(char **argv, int argc, int *i, const char *name, const char **out)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (strcmp(argv[*i], name) != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "vpnctl: %s needs a value\n", name);
		exit(VPNCTL_EUSAGE);
	}
	*out = argv[++*i];
	return 1;
}

int
main(int argc, char **argv)
{
	struct vpnctl v = { 0 };
	const char *api = getenv("VPNCTL_API");
	const struct command *cmd;
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, nwords, nargs, rc, opts = 1;
	char line[128];

	v.token_file = getenv("VPNCTL_TOKEN_FILE");
	if (v.token_file == NULL || *v.token_file == '\0')
		v.token_file = VPNCTL_DEFAULT_TOKEN;
	if (api == NULL || *api == '\0')
		api = VPNCTL_DEFAULT_API;
	for (int i = 1; i < argc; i++) {
		if (!opts || argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
			pos[npos++] = argv[i];
		} else if (strcmp(argv[i], "--") == 0) {
			opts = 0;
		} else if (option_value(argv, argc, &i, "--api", &api) ||
			   option_value(argv, argc, &i, "--token-file", &v.token_file)) {
			continue;
		} else if (strcmp(argv[i], "--json") == 0) {
			v.json = 1;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			v.dry_run = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			pos[0] = "help";
			npos = 1;
			break;
		} else {
			fprintf(stderr, "vpnctl: unknown option %s\n", argv[i]);
			usage(stderr);
			free(pos);
			return VPNCTL_EUSAGE;
		}
	}
	if (npos == 0 || (cmd = command_find(pos, npos, &nwords)) == NULL) {
		if (npos == 0 || !usage_of_word(pos[0]))
			usage(stderr);
		free(pos);
		return VPNCTL_EUSAGE;
	}
	nargs = npos - nwords;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		command_usage(cmd, line, sizeof(line));
		fprintf(stderr, "usage: vpnctl %s\n", line);
		free(pos);
		return VPNCTL_EUSAGE;
	}
	if (v.dry_run && cmd->fn != cmd_import_ios) {	/* never act on a dry run */
		fprintf(stderr, "vpnctl: --dry-run is for import-ios only\n");
		free(pos);
		return VPNCTL_EUSAGE;
	}
	v.api = api_origin(api);
	vpnctl_http_init();
	rc = cmd->fn(&v, pos + nwords, nargs);
	vpnctl_http_cleanup();
	free_secret(v.token);
	free(v.api);
	free(pos);
	return rc;
}
