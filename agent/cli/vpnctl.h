/*
 * Private to vpnctl: the client state, the HTTP call to the agent's API
 * (libcurl stays in client.c) and the commands the table in vpnctl.c
 * dispatches to. Exit codes are part of the operator contract.
 */
#ifndef CLI_VPNCTL_H
#define CLI_VPNCTL_H

#include <stddef.h>
#include <stdio.h>

#define VPNCTL_DEFAULT_API   "http://127.0.0.1:9276"
#define VPNCTL_DEFAULT_TOKEN "/var/lib/vpn-agent/api-token"
#define VPNCTL_API_BASE      "/api/v1"
#define VPNCTL_BODY_MAX      (256 * 1024)	/* what we send (the agent's cap) */
#define VPNCTL_RESPONSE_MAX  (64 * 1024 * 1024)	/* what we accept */
#define VPNCTL_TOKEN_MAX     4096
#define VPNCTL_URL_MAX       4096
#define VPNCTL_CONNECT_S     3
#define VPNCTL_TOTAL_S       30

enum vpnctl_exit {
	VPNCTL_OK = 0,
	VPNCTL_EAPI = 1,	/* the agent answered 4xx/5xx */
	VPNCTL_EUSAGE = 2,
	VPNCTL_EREACH = 3,	/* no answer from the agent */
	VPNCTL_ETOKEN = 4,	/* token file unreadable */
};

struct vpnctl {
	char       *api;	/* origin, e.g. http://127.0.0.1:9276, no trailing '/' */
	const char *token_file;
	int         json;	/* --json: raw JSON instead of tables */
	int         dry_run;	/* --dry-run: import-ios prints, sends nothing */
	char       *token;	/* read lazily by vpnctl_call */
};

struct vpnctl_resp {
	long   status;
	char  *body;	/* NUL-terminated, may be empty */
	size_t len;
};

void vpnctl_http_init(void);
void vpnctl_http_cleanup(void);
/* One request to API path (relative to /api/v1). Returns VPNCTL_OK with
 * resp filled (any HTTP status), or the exit code after printing why. */
int  vpnctl_call(struct vpnctl *v, const char *method, const char *path, const char *body,
		 struct vpnctl_resp *resp);
void vpnctl_resp_free(struct vpnctl_resp *resp);
/* Prints a 2xx body as indented JSON to stdout, or the API's error to
 * stderr; returns the exit code. */
int  vpnctl_print(struct vpnctl *v, const struct vpnctl_resp *resp);
/* The error of a non-2xx answer, on stderr; returns VPNCTL_EAPI. */
int  vpnctl_api_error(struct vpnctl *v, const struct vpnctl_resp *resp);

int  cmd_show_telemetry_status(struct vpnctl *v, char **args, int nargs);
/* import-ios FILE (import.c): an IOS crypto configuration as API objects. */
int  cmd_import_ios(struct vpnctl *v, char **args, int nargs);
/* show crypto ... and clear crypto session (show.c): fetch, then render. */
int  cmd_show_isakmp_sa(struct vpnctl *v, char **args, int nargs);
int  cmd_show_isakmp_keepalive(struct vpnctl *v, char **args, int nargs);
int  cmd_show_isakmp_stats(struct vpnctl *v, char **args, int nargs);
int  cmd_show_ipsec_sa(struct vpnctl *v, char **args, int nargs);
int  cmd_show_crypto_session(struct vpnctl *v, char **args, int nargs);
int  cmd_show_ip_local_pool(struct vpnctl *v, char **args, int nargs);
int  cmd_show_interfaces_tunnel(struct vpnctl *v, char **args, int nargs);
int  cmd_clear_crypto_session(struct vpnctl *v, char **args, int nargs);

/* Pure renderers (show_crypto.c): the API's parsed answers in, IOS-style
 * text out; "-" where the agent reports no value. */
struct json_t;
void show_isakmp_sa(FILE *out, struct json_t *ikesas, int detail);
/* peer NULL: every SA pair. Returns the pairs shown. */
int  show_ipsec_sa(FILE *out, struct json_t *ipsecsas, struct json_t *ikesas, const char *peer);
void show_crypto_session(FILE *out, struct json_t *tunnels, struct json_t *ikesas,
			 struct json_t *ipsecsas, struct json_t *cryptomaps,
			 struct json_t *dynmaps);
void show_isakmp_keepalive(FILE *out, struct json_t *dpd, struct json_t *tunnels);
void show_isakmp_stats(FILE *out, struct json_t *stats);
void show_ip_local_pool(FILE *out, struct json_t *pools);
void show_cleared(FILE *out, struct json_t *answer, const char *remote);

/* show interfaces tunnel [NAME] (show_interfaces.c). The items of the
 * tunnelinterfaces answer named NAME (exactly; else IOS-style: any case, a
 * bare number N for TunnelN), or all of them for NULL; the caller decrefs. */
struct json_t *tunnel_ifs_select(struct json_t *ifs, const char *name);
/* Returns the interfaces shown; with a NAME the agent does not have, 0
 * and show_no_tunnel_if() on err. */
int  show_interfaces_tunnel(FILE *out, FILE *err, struct json_t *ifs, const char *name);
/* "vpnctl: no tunnel interface "NAME" (the agent has Tunnel0, ...)". */
void show_no_tunnel_if(FILE *err, struct json_t *ifs, const char *name);

#endif
