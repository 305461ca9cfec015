/*
 * REST-like JSON configuration API on libevent's evhttp:
 * bearer-token auth, objects with id/name/version/type/links, validation
 * errors naming the field, atomic persistence. main.c owns the live config;
 * the API builds a whole new one and hands it over through the hooks.
 */
#ifndef API_API_H
#define API_API_H

#include "core/config.h"
#include "telemetry/tel.h"

struct event_base;

#define API_BODY_MAX   (256 * 1024)
#define API_BASE_PATH  "/api/v1"
#define API_CONFIG_FILE "config.json"
#define API_TOKEN_FILE  "api-token"

struct api_hooks {
	void *ctx;
	/* The live config (never NULL). */
	const struct config *(*config_current)(void *ctx);
	/* A validated, persisted config; main swaps it in and owns it. */
	void (*config_apply)(void *ctx, struct config *cfg);
	/* Streaming status for /operational/telemetrystreamingstatuses. */
	void (*telemetry_status)(void *ctx, struct tel_status *out);
};

struct api;

/* Loads STATE_DIR/config.json (an empty config when absent). -1 with a
 * logged reason when the file exists but is broken. */
int api_config_load(const char *state_dir, struct config **out);

/* Creates STATE_DIR/api-token (0600) when missing and listens on
 * listen_addr ("127.0.0.1:9276"). NULL with a logged reason on failure. */
struct api *api_new(struct event_base *base, const char *state_dir, const char *listen_addr,
		    const struct api_hooks *hooks);
void api_free(struct api *api);

#endif
