/*
 * The VPN routes that are not plain collections: the
 * singleton settings (dpd, ike), read and replaced at their own path; the
 * operational views, which the IKE engine fills through hooks.vpn_view (and
 * the tunnel interfaces' through hooks.tunnel_if_view) as flat rows (so no
 * JSON leaves agent/api/); and clear sessions.
 */
#include "api/api_int.h"
#include "core/log.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rows of an operational view ---------------------------------------- */

struct api_rows {
	json_t     *items;
	json_t     *item;		/* the open item, or NULL */
	const char *type;		/* "ikesa", set on items without a type */
	size_t      dropped_items;	/* over API_ROWS_MAX */
	size_t      dropped_keys;	/* over API_ROW_KEYS_MAX, or a key not UTF-8 */
};

static const char *const view_types[API_VIEW__COUNT] = {
	[API_VIEW_IKE_SAS] = "ikesa",
	[API_VIEW_IPSEC_SAS] = "ipsecsa",
	[API_VIEW_TUNNELS] = "tunnel",
	[API_VIEW_IKE_STATS] = "ikestatistics",
	[API_VIEW_IP_POOLS] = "ippoolstatus",
};
static_assert(ARRAY_LEN(view_types) == API_VIEW__COUNT, "one item type per view");

void
api_rows_end_item(struct api_rows *rows)
{
	if (rows == NULL || rows->item == NULL)
		return;
	if (json_object_get(rows->item, "type") == NULL)
		json_object_set_new(rows->item, "type", json_string(rows->type));
	json_array_append_new(rows->items, rows->item);
	rows->item = NULL;
}

void
api_rows_begin_item(struct api_rows *rows)
{
	if (rows == NULL)
		return;
	api_rows_end_item(rows);	/* one left open is closed, not lost */
	if (json_array_size(rows->items) >= API_ROWS_MAX) {
		rows->dropped_items++;
		return;
	}
	rows->item = json_object();
}

/* Takes v (NULL: JSON null, e.g. a string that is not UTF-8). */
static void
row_set(struct api_rows *rows, const char *key, json_t *v)
{
	if (v == NULL)
		v = json_null();
	if (rows == NULL || rows->item == NULL || key == NULL) {
		json_decref(v);
		return;
	}
	if (json_object_get(rows->item, key) == NULL &&
	    json_object_size(rows->item) >= API_ROW_KEYS_MAX) {
		rows->dropped_keys++;
		json_decref(v);
		return;
	}
	if (json_object_set_new(rows->item, key, v) == -1)	/* v is taken even then */
		rows->dropped_keys++;
}

void
api_rows_str(struct api_rows *rows, const char *key, const char *value)
{
	row_set(rows, key, value ? json_string(value) : json_null());
}

void
api_rows_int(struct api_rows *rows, const char *key, int64_t value)
{
	row_set(rows, key, json_integer((json_int_t)value));
}

void
api_rows_uint(struct api_rows *rows, const char *key, uint64_t value)
{
	row_set(rows, key, json_integer(value > INT64_MAX ? INT64_MAX : (json_int_t)value));
}

void
api_rows_bool(struct api_rows *rows, const char *key, bool value)
{
	row_set(rows, key, json_boolean(value));
}

void
api_rows_double(struct api_rows *rows, const char *key, double value)
{
	row_set(rows, key, isfinite(value) ? json_real(value) : json_null());
}

/* The rows a hook filled (or none) as {"items": [...]}. */
static int
rows_answer(struct api_call *c, struct api_rows *rows)
{
	api_rows_end_item(rows);	/* a hook that forgot the last end */
	if (rows->dropped_items > 0 || rows->dropped_keys > 0)
		log_warnx("api: %s view: dropped %zu items and %zu values over the caps (%d "
			  "items, %d keys each)", rows->type, rows->dropped_items,
			  rows->dropped_keys, API_ROWS_MAX, API_ROW_KEYS_MAX);
	c->out = json_object();
	json_object_set_new(c->out, "items", rows->items);
	return 0;
}

static int
view(struct api_call *c, enum api_vpn_view which)
{
	const struct api_hooks *h = &c->api->hooks;
	struct api_rows rows = { .items = json_array(), .type = view_types[which] };

	if (h->vpn_view != NULL)
		h->vpn_view(h->ctx, which, &rows);
	return rows_answer(c, &rows);
}

int
api_h_ike_sas(struct api_call *c)
{
	return view(c, API_VIEW_IKE_SAS);
}

int
api_h_ipsec_sas(struct api_call *c)
{
	return view(c, API_VIEW_IPSEC_SAS);
}

int
api_h_tunnels(struct api_call *c)
{
	return view(c, API_VIEW_TUNNELS);
}

int
api_h_ike_stats(struct api_call *c)
{
	return view(c, API_VIEW_IKE_STATS);
}

int
api_h_ip_pools(struct api_call *c)
{
	return view(c, API_VIEW_IP_POOLS);
}

/* Its own hook rather than a vpn_view: the engine fills it when it has
 * tunnel interfaces. */
int
api_h_tunnel_ifs(struct api_call *c)
{
	const struct api_hooks *h = &c->api->hooks;
	struct api_rows rows = { .items = json_array(), .type = "tunnelinterfacestatus" };

	if (h->tunnel_if_view != NULL)
		h->tunnel_if_view(h->ctx, &rows);
	return rows_answer(c, &rows);
}

/* ---- singleton settings ------------------------------------------------- */

/* The path names the object: its fixed id stands in for {id}. */
static void
single_id(struct api_call *c)
{
	const struct config *cur = c->api->hooks.config_current(c->api->hooks.ctx);

	str_copy(c->id, sizeof(c->id), api_cmeta(api_coll_at(c->t, cur, 0))->id);
}

int
api_h_single_get(struct api_call *c)
{
	single_id(c);
	return api_h_get(c);
}

int
api_h_single_update(struct api_call *c)
{
	single_id(c);
	return api_h_update(c);
}

/* ---- clear crypto session [remote A.B.C.D] ------------------------------ */

/* No body, {} or {"remote": null}: every session. */
static int
clear_body(struct api_call *c, json_t **in, const char **remote)
{
	const char *key;
	json_error_t jerr;
	json_t *v;

	*remote = NULL;
	if (c->req->body == NULL || c->req->body_len == 0)
		return 0;
	*in = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (*in == NULL)
		return api_errf(&c->err, 400, "", "the body is not valid JSON (line %d, column "
				"%d: %s)", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(*in))
		return api_errf(&c->err, 400, "", "the body must be a JSON object: "
				"{\"remote\": \"A.B.C.D\"}, or {} for every session");
	json_object_foreach(*in, key, v) {
		if (strcmp(key, "remote") != 0)
			return api_errf(&c->err, 400, key, "unknown field %s (remote is the only "
					"one)", key);
	}
	v = json_object_get(*in, "remote");
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    !ipv4_valid(json_string_value(v)))
		return api_errf(&c->err, 400, "remote", "remote must be a dotted IPv4 address "
				"(the peer), or left out for every session");
	*remote = json_string_value(v);
	return 0;
}

int
api_h_clear_sessions(struct api_call *c)
{
	const struct api_hooks *h = &c->api->hooks;
	const char *remote;
	json_t *in = NULL;
	int n = 0, rc = -1;

	if (clear_body(c, &in, &remote) == -1)
		goto done;
	if (h->clear_sessions != NULL && (n = h->clear_sessions(h->ctx, remote)) < 0) {
		api_errf(&c->err, 500, "", "the sessions could not be cleared");
		goto done;
	}
	log_info("api: cleared %d session%s%s%s", n, n == 1 ? "" : "s",
		 remote ? " with " : "", remote ? remote : "");
	c->out = json_object();
	json_object_set_new(c->out, "cleared", json_integer(n));
	rc = 0;
done:
	json_decref(in);
	return rc;
}
