/*
 * REST-like JSON configuration API on libevent's evhttp:
 * bearer-token auth, objects with id/name/version/type/links, validation
 * errors naming the field, atomic persistence. main.c owns the live config;
 * the API builds a whole new one and hands it over through the hooks.
 */
#ifndef API_API_H
#define API_API_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "telemetry/tel.h"

struct event_base;

#define API_BODY_MAX   (256 * 1024)
#define API_BASE_PATH  "/api/v1"
#define API_CONFIG_FILE "config.json"
#define API_JOURNAL_FILE "config.journal"	/* changes since config.json */
#define API_TOKEN_FILE  "api-token"
#define API_ROWS_MAX     65536	/* items in one operational view */
#define API_ROW_KEYS_MAX 64	/* keys in one item of a view */

/* The read-only operational views. */
enum api_vpn_view {
	API_VIEW_IKE_SAS,	/* GET /operational/ikesas, items of type "ikesa" */
	API_VIEW_IPSEC_SAS,	/* GET /operational/ipsecsas, "ipsecsa" */
	API_VIEW_TUNNELS,	/* GET /operational/tunnels, "tunnel" */
	API_VIEW_IKE_STATS,	/* GET /operational/ikestatistics, one "ikestatistics" */
	API_VIEW_IP_POOLS,	/* GET /operational/ippools, "ippoolstatus" */
	API_VIEW__COUNT
};

/*
 * Rows of a view, filled by hooks.vpn_view without any JSON: each item is
 * begin, flat key/value pairs, end; it becomes one object of "items". An
 * item gets "type" (above) unless the hook sets one. Keys are copied; a
 * key set twice keeps the last value; a NULL key is ignored; a NULL string
 * or a non-finite double is JSON null, and so is a string that is not
 * UTF-8. Values outside begin/end are ignored. At most API_ROWS_MAX items
 * and API_ROW_KEYS_MAX keys per item are kept (the rest is dropped and
 * logged). Only valid during the hook call.
 */
struct api_rows;
void api_rows_begin_item(struct api_rows *rows);
void api_rows_str(struct api_rows *rows, const char *key, const char *value);
void api_rows_int(struct api_rows *rows, const char *key, int64_t value);
void api_rows_uint(struct api_rows *rows, const char *key, uint64_t value);	/* clamped to INT64_MAX */
void api_rows_bool(struct api_rows *rows, const char *key, bool value);
void api_rows_double(struct api_rows *rows, const char *key, double value);

void api_rows_end_item(struct api_rows *rows);

struct api_hooks {
	void *ctx;
	/* The live config (never NULL). A change is checked against it,
	 * written to the journal, then made in it, in place. */
	struct config *(*config_current)(void *ctx);
	/* The live config changed (validated and persisted): apply it. */
	void (*config_changed)(void *ctx);
	/* Streaming status for /operational/telemetrystreamingstatuses. */
	void (*telemetry_status)(void *ctx, struct tel_status *out);
	/* Fills the rows of one view (NULL: every view is {"items": []}). */
	void (*vpn_view)(void *ctx, enum api_vpn_view which, struct api_rows *rows);
	/* GET /operational/tunnelinterfaces: one item per GRE tunnel interface
	 * of type "tunnelinterfacestatus", with the keys docs/api.md
	 * lists (name, state, packets and bytes in and out...). NULL: {"items": []}. */
	void (*tunnel_if_view)(void *ctx, struct api_rows *rows);
	/* `clear crypto session [remote A.B.C.D]`: remote is a dotted
	 * IPv4 address, or NULL for every session. Returns how many sessions
	 * were cleared, or -1 (a 500). NULL: nothing to clear, {"cleared": 0}. */
	int (*clear_sessions)(void *ctx, const char *remote);
};

/* Objects per collection (crypto-map entries, keys, ...) the API takes:
 * set once at start (vpn-agent --max-objects), CFG_OBJECTS_DEFAULT else.
 * Memory grows with what is used, not with the limit. */
void api_set_objects_max(size_t n);

/* The agent's own TUN device (vpn-agent --tun-name, "vpn0" unless set):
 * no tunnel interface may take its name. Set once at start. */
void api_set_tun_name(const char *name);

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
