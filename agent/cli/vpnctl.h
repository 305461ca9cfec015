/*
 * Private to vpnctl: the client state, the HTTP call to the agent's API
 * (libcurl stays in client.c) and the commands the table in vpnctl.c
 * dispatches to. Exit codes are part of the operator contract.
 */
#ifndef CLI_VPNCTL_H
#define CLI_VPNCTL_H

#include <stddef.h>

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

#endif
