/*
 * The API core in a cmocka test: a temporary state directory, a config
 * the fake hooks hand out, and requests through api_dispatch whose status
 * and error shape are checked. For the API tests of the remote-access and
 * certificate objects (test_api_ra.c, test_api_certs.c).
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
};

/* cmocka setup/teardown: *state is the env, its directory /tmp/<tag>.XXXXXX. */
int  api_env_setup(void **state, const char *tag);
int  api_env_teardown(void **state);

/* One request (query may be NULL); the status must be want, an error has
 * the API's error shape, a 204 no body. The parsed answer (NULL without a
 * body); its text goes to *text when asked (caller frees). */
json_t *call_text(struct env *e, const char *method, const char *path, const char *query,
		  const char *body, int want, char **text);
json_t *call(struct env *e, const char *method, const char *path, const char *body, int want);
/* The same with a JSON body built by the caller (consumed). */
json_t *callj(struct env *e, const char *method, const char *path, json_t *body, int want);
const char *str(json_t *j, const char *key);
const char *err_field(json_t *j);	/* "" when none */
const char *err_message(json_t *j);

#endif
