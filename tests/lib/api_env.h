/*
 * The API core in a cmocka test: a temporary state directory, a config
 * the fake hooks hand out, requests through api_dispatch whose status and
 * error shape are checked, and the helpers the API tests share (refusals,
 * item paths, bodies changed one key at a time, config.json loading).
 * For test_api.c, test_api_vpn.c, test_api_ra.c, test_api_certs.c and
 * test_api_gre.c.
 */
#ifndef TESTS_API_ENV_H
#define TESTS_API_ENV_H

#include <jansson.h>

#include "api/api_int.h"

struct env {
	char           dir[64];
	struct config *cur;		/* what config_current hands out */
	int            applied;	/* config_changed calls */
	struct api    *api;
	/* telemetry_status: calls, and what it hands out */
	int            status_calls;
	struct tel_status st;
	/* vpn_view: calls, the last view asked for, what fills its rows */
	int            view_calls;
	enum api_vpn_view last_view;
	void         (*fill)(enum api_vpn_view which, struct api_rows *rows);
	/* tunnel_if_view: calls, what fills its rows */
	int            tunnel_if_calls;
	void         (*fill_tunnel_ifs)(struct api_rows *rows);
	/* clear_sessions: calls, the last remote ("" for every session), the answer */
	int            clear_calls;
	char           clear_remote[32];
	int            clear_result;
};

/* cmocka setup/teardown: *state is the env, its directory /tmp/<tag>.XXXXXX. */
int  api_env_setup(void **state, const char *tag);
int  api_env_teardown(void **state);
/* The fake hooks of e, every one set (for another API core). */
struct api_hooks api_env_hooks(struct env *e);

/* One request (query may be NULL); the status must be want, an error has
 * the API's error shape, a 204 no body. The parsed answer (NULL without a
 * body); its text goes to *text when asked (caller frees). */
json_t *call_text(struct env *e, const char *method, const char *path, const char *query,
		  const char *body, int want, char **text);
json_t *call(struct env *e, const char *method, const char *path, const char *body, int want);
/* The same with a JSON body built by the caller (consumed). */
json_t *callj(struct env *e, const char *method, const char *path, json_t *body, int want);

const char *str(json_t *j, const char *key);
long long   num(json_t *j, const char *key);
const char *err_field(json_t *j);	/* "" when none */
const char *err_message(json_t *j);

/* The error j answered to the body shown: its field is field, its message
 * names named and holds text (unless NULL). */
void refusal_is(json_t *j, const char *shown, const char *field, const char *named,
		const char *text);
/* A refused body (consumed): the status, the field, and the message naming
 * the field's last part and holding text (unless NULL). */
void refused(struct env *e, const char *method, const char *path, json_t *body, int status,
	     const char *field, const char *text);

/* coll/<obj's id> (caller frees). */
char   *item_path(const char *coll, json_t *obj);
/* A copy of body with key set to the JSON text value (NULL: removed). */
json_t *with(json_t *body, const char *key, const char *value);
/* The body of a PUT of obj as read (its version kept, no links), key set
 * to the JSON text value. */
json_t *put_of(json_t *obj, const char *key, const char *value);
/* The keys of j, in order, are exactly keys[]. */
void    keys_are(json_t *j, const char *const *keys, size_t n);

/* text written as the state directory's config.json, then loaded: the
 * loader must return want; the config it loaded (NULL when refused). */
struct config *load_config_text(struct env *e, const char *text, int want);

#endif
