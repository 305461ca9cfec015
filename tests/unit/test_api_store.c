/*
 * What the API keeps in STATE_DIR (agent/api/store.c): config.json loads
 * back (missing file: empty config; a broken one: -1, never a half config)
 * and the api-token file (made 0600, reused, permissions tightened,
 * garbage refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api_int.h"

const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define NET "{\"id\": \"79ee2ea9-76b7-41ef-9515-f5b34b7d9531\", \"version\": \"p4qjmqtn5c5e\", " \
	"\"name\": \"TelemetryCollector\", \"subType\": \"HOST\", \"value\": \"10.1.1.1\"}"
#define NET_OTHER_ID "{\"id\": \"0b5e2ea9-76b7-41ef-9515-f5b34b7d9532\", \"version\": \"p4qjmqtn5c5e\", " \
	"\"name\": \"TelemetryCollector\", \"subType\": \"HOST\", \"value\": \"10.1.1.2\"}"
#define NET_OTHER_NAME "{\"id\": \"79ee2ea9-76b7-41ef-9515-f5b34b7d9531\", \"version\": " \
	"\"p4qjmqtn5c5e\", \"name\": \"Other\", \"subType\": \"HOST\", \"value\": \"10.1.1.2\"}"

struct dir {
	char path[64];
};

static int
setup(void **state)
{
	struct dir *d = xcalloc(1, sizeof(*d));

	str_copy(d->path, sizeof(d->path), "/tmp/test_api_store.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	*state = d;
	return 0;
}

static void
file_in(const struct dir *d, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", d->path, name);
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char p[128];

	file_in(d, API_CONFIG_FILE, p, sizeof(p));
	unlink(p);
	file_in(d, API_JOURNAL_FILE, p, sizeof(p));
	unlink(p);
	file_in(d, API_TOKEN_FILE, p, sizeof(p));
	unlink(p);
	file_in(d, "victim", p, sizeof(p));	/* test_token_symlink_refused */
	unlink(p);
	rmdir(d->path);
	free(d);
	return 0;
}

static void
write_file(const struct dir *d, const char *name, const char *text, mode_t mode)
{
	char p[128];

	file_in(d, name, p, sizeof(p));
	assert_int_equal(file_write_atomic(p, text, strlen(text), mode), 0);
}

static void
test_missing_config_is_empty(void **state)
{
	struct dir *d = *state;
	struct config *cfg = NULL;

	assert_int_equal(api_config_load(d->path, &cfg), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->n_networks, 0);
	assert_null(cfg->telemetry);
	config_free(cfg);
}

static void
test_valid_config_loads(void **state)
{
	struct dir *d = *state;
	struct config *cfg = NULL;

	write_file(d, API_CONFIG_FILE, "{\"formatVersion\": 1, \"networks\": [" NET "]}", 0600);
	assert_int_equal(api_config_load(d->path, &cfg), 0);
	assert_int_equal(cfg->n_networks, 1);
	assert_string_equal(cfg->networks[0].meta.version, "p4qjmqtn5c5e");
	assert_string_equal(cfg->networks[0].value, "10.1.1.1");
	config_free(cfg);
}

static void
test_save_then_load(void **state)
{
	struct dir *d = *state;
	struct config *cfg = config_new(), *back = NULL;
	struct cfg_network n = { .subtype = CFG_NET_FQDN };
	struct api_err err;
	json_t *a, *b;
	char p[128];
	struct stat st;

	str_copy(n.meta.id, sizeof(n.meta.id), "79ee2ea9-76b7-41ef-9515-f5b34b7d9531");
	str_copy(n.meta.name, sizeof(n.meta.name), "c");
	str_copy(n.meta.version, sizeof(n.meta.version), "abcdefabcdef");
	str_copy(n.value, sizeof(n.value), "collector.example.com");
	n.meta.description = xstrdup("d\u00e9j\u00e0 vu");
	api_coll_add(&api_types[API_OBJ_NETWORK], cfg, &n);
	assert_int_equal(api_config_save(d->path, cfg, &err), 0);
	file_in(d, API_CONFIG_FILE, p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(api_config_load(d->path, &back), 0);
	a = api_config_encode(cfg);
	b = api_config_encode(back);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	config_free(cfg);
	config_free(back);
}

static void
test_broken_configs_refused(void **state)
{
	static const char *const broken[] = {
		"",
		"{",
		"[]",
		"{\"networks\": []}",					/* no formatVersion */
		"{\"formatVersion\": 2}",
		"{\"formatVersion\": 1, \"routers\": []}",
		"{\"formatVersion\": 1, \"networks\": {}}",
		"{\"formatVersion\": 1, \"networks\": [{\"name\": \"x\"}]}",
		"{\"formatVersion\": 1, \"networks\": [" NET ", " NET "]}",	/* duplicate */
		"{\"formatVersion\": 1, \"networks\": [" NET ", " NET_OTHER_ID "]}",	/* name twice */
		"{\"formatVersion\": 1, \"networks\": [" NET ", " NET_OTHER_NAME "]}",	/* id twice */
		"{\"formatVersion\": 1, \"networks\": [" NET "], \"formatVersion\": 1}",
		"{\"formatVersion\": 1, \"externalcacertificates\": [{\"id\": "
		"\"c3d925b4-7423-41ef-b3a0-bf815c0136ac\", \"version\": \"a\", \"name\": \"ca\", "
		"\"cert\": \"not pem\"}]}",
		"{\"formatVersion\": 1, \"telemetrystreamingconfig\": [{\"id\": "
		"\"b6dc6f28-76c1-41ef-9515-8ff976794f92\", \"version\": \"a\", \"name\": \"t\", "
		"\"port\": 1, \"targetHost\": {\"id\": \"79ee2ea9-76b7-41ef-9515-f5b34b7d9531\"}, "
		"\"clientCertificate\": {\"id\": \"d874dfa3-7423-41ef-b3a0-09429aedc3d3\"}, "
		"\"caCertificate\": {\"id\": \"c3d925b4-7423-41ef-b3a0-bf815c0136ac\"}}]}",
	};
	struct dir *d = *state;

	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct config *cfg = (struct config *)&cfg;

		write_file(d, API_CONFIG_FILE, broken[i], 0600);
		if (api_config_load(d->path, &cfg) != -1)
			fail_msg("case %zu loaded: %s", i, broken[i]);
		assert_null(cfg);
	}
}

static void
test_decode_error_names_the_place(void **state)
{
	struct config *cfg = NULL;
	struct api_err err = { 0 };
	json_t *root = json_loads("{\"formatVersion\": 1, \"networks\": [" NET ", {\"id\": "
				  "\"11111111-1111-4111-8111-111111111111\", \"version\": \"v\", "
				  "\"name\": \"b\", \"subType\": \"HOST\", \"value\": 4}]}", 0, NULL);

	assert_non_null(root);
	assert_int_equal(api_config_decode(root, &cfg, &err), -1);
	assert_string_equal(err.field, "networks[1].value");
	assert_null(cfg);
	json_decref(root);
}

static void
test_token_created_0600(void **state)
{
	struct dir *d = *state;
	char tok[API_TOKEN_HEX + 1], again[API_TOKEN_HEX + 1], p[128];
	struct stat st;

	assert_int_equal(api_token_load(d->path, tok), 0);
	assert_int_equal(strlen(tok), API_TOKEN_HEX);
	assert_int_equal(strspn(tok, "0123456789abcdef"), API_TOKEN_HEX);
	file_in(d, API_TOKEN_FILE, p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(api_token_load(d->path, again), 0);
	assert_string_equal(tok, again);
}

static void
test_token_permissions_fixed(void **state)
{
	struct dir *d = *state;
	char tok[API_TOKEN_HEX + 1], p[128], text[API_TOKEN_HEX + 2];
	struct stat st;

	memset(text, '7', API_TOKEN_HEX);
	text[API_TOKEN_HEX] = '\n';
	text[API_TOKEN_HEX + 1] = '\0';
	write_file(d, API_TOKEN_FILE, text, 0644);
	assert_int_equal(api_token_load(d->path, tok), 0);
	text[API_TOKEN_HEX] = '\0';
	assert_string_equal(tok, text);
	file_in(d, API_TOKEN_FILE, p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* A symlink at api-token is refused, not followed: the old stat + chmod
 * made whatever it pointed at 0600 (and read it as the token). */
static void
test_token_symlink_refused(void **state)
{
	struct dir *d = *state;
	char tok[API_TOKEN_HEX + 1], p[128], victim[128], text[API_TOKEN_HEX + 2];
	struct stat st;

	memset(text, '7', API_TOKEN_HEX);
	text[API_TOKEN_HEX] = '\n';
	text[API_TOKEN_HEX + 1] = '\0';
	write_file(d, "victim", text, 0644);
	file_in(d, "victim", victim, sizeof(victim));
	file_in(d, API_TOKEN_FILE, p, sizeof(p));
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(api_token_load(d->path, tok), -1);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

static void
test_token_garbage_refused(void **state)
{
	struct dir *d = *state;
	char tok[API_TOKEN_HEX + 1];

	write_file(d, API_TOKEN_FILE, "short\n", 0600);
	assert_int_equal(api_token_load(d->path, tok), -1);
	write_file(d, API_TOKEN_FILE, "", 0600);
	assert_int_equal(api_token_load(d->path, tok), -1);
	assert_int_equal(api_token_load("/nonexistent/dir", tok), -1);
}

/* ---- the journal ---------------------------------------------------------- */

#define NET_ID  "79ee2ea9-76b7-41ef-9515-f5b34b7d9531"
#define NET2_ID "0b5e2ea9-76b7-41ef-9515-f5b34b7d9532"
#define PUT_NET2 "{\"put\": \"networks\", \"object\": " NET_OTHER_ID "}\n"
#define PUT_NET_RENAMED "{\"put\": \"networks\", \"object\": {\"id\": \"" NET_ID "\", " \
	"\"version\": \"q4qjmqtn5c5e\", \"name\": \"Renamed\", \"subType\": \"HOST\", " \
	"\"value\": \"10.9.9.9\"}}\n"
#define DELETE_NET2 "{\"delete\": \"networks\", \"id\": \"" NET2_ID "\"}\n"

static int
exists(const struct dir *d, const char *name)
{
	char p[128];
	struct stat st;

	file_in(d, name, p, sizeof(p));
	return stat(p, &st) == 0;
}

/* Changes replayed in order over config.json, then folded into it. */
static void
test_journal_replayed_and_folded(void **state)
{
	struct dir *d = *state;
	struct config *cfg = NULL, *again = NULL;

	write_file(d, API_CONFIG_FILE, "{\"formatVersion\": 1, \"networks\": [" NET "]}", 0600);
	write_file(d, API_JOURNAL_FILE, PUT_NET2 PUT_NET_RENAMED DELETE_NET2 PUT_NET2 DELETE_NET2
		   DELETE_NET2, 0600);	/* the last delete: of nothing, harmless */
	assert_int_equal(api_config_load(d->path, &cfg), 0);
	assert_int_equal(cfg->n_networks, 1);
	assert_string_equal(cfg->networks[0].meta.name, "Renamed");
	assert_string_equal(cfg->networks[0].value, "10.9.9.9");
	assert_false(exists(d, API_JOURNAL_FILE));	/* folded */
	assert_int_equal(api_config_load(d->path, &again), 0);
	assert_int_equal(again->n_networks, 1);
	assert_string_equal(again->networks[0].meta.name, "Renamed");
	config_free(cfg);
	config_free(again);
}

/* A stop in the middle of a write leaves a line without its newline: that
 * change was never answered and is dropped; the ones before stay. */
static void
test_journal_cut_line_dropped(void **state)
{
	struct dir *d = *state;
	struct config *cfg = NULL;

	write_file(d, API_JOURNAL_FILE, PUT_NET2 "{\"put\": \"networks\", \"obj", 0600);
	assert_int_equal(api_config_load(d->path, &cfg), 0);	/* no config.json: empty base */
	assert_int_equal(cfg->n_networks, 1);
	assert_string_equal(cfg->networks[0].meta.id, NET2_ID);
	config_free(cfg);
}

/* A whole line that is not a change is refused, and nothing is lost:
 * the journal stays for the operator to fix. */
static void
test_journal_garbage_refused(void **state)
{
	static const char *const bad[] = {
		"{\"put\": \"networks\"\n",
		"{\"put\": \"routers\", \"object\": {}}\n",
		"{\"put\": \"networks\", \"object\": {\"name\": \"no id\"}}\n",
		"{\"delete\": \"networks\"}\n",
		"{\"put\": \"networks\", \"object\": " NET ", \"extra\": 1}\n",
		"{\"put\": \"networks\", \"object\": " NET "}\n" PUT_NET2,	/* a name twice */
	};
	struct dir *d = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *cfg = (struct config *)&cfg;

		write_file(d, API_JOURNAL_FILE, bad[i], 0600);
		if (api_config_load(d->path, &cfg) != -1)
			fail_msg("case %zu loaded: %s", i, bad[i]);
		assert_null(cfg);
		assert_true(exists(d, API_JOURNAL_FILE));
	}
}

/* At run time: each change is a line; once there are more than the
 * configuration has objects (and API_JOURNAL_FOLD), config.json is
 * rewritten and the journal emptied. */
static void
test_journal_folds_when_long(void **state)
{
	struct dir *d = *state;
	struct api_hooks hooks = { 0 };
	struct api *api = api_core_new(d->path, "127.0.0.1:9276", &hooks);
	struct config *cfg = config_new(), *loaded = NULL;
	struct api_err err;
	struct cfg_network n = { 0 };
	struct stat st;
	char p[128];
	size_t i;

	str_copy(n.meta.id, sizeof(n.meta.id), NET_ID);
	str_copy(n.meta.version, sizeof(n.meta.version), "p4qjmqtn5c5e");
	str_copy(n.meta.name, sizeof(n.meta.name), "n");
	str_copy(n.value, sizeof(n.value), "10.1.1.1");
	api_coll_add(&api_types[API_OBJ_NETWORK], cfg, &n);
	for (i = 0; !exists(d, API_CONFIG_FILE); i++) {
		assert_true(i <= API_JOURNAL_FOLD + 16);
		assert_int_equal(api_journal_put(api, &api_types[API_OBJ_NETWORK], &cfg->networks[0],
						 cfg, &err), 0);
		api_journal_fold(api, cfg);
	}
	assert_true(i > API_JOURNAL_FOLD);	/* not before it outgrew the config */
	assert_int_equal(api_journal_put(api, &api_types[API_OBJ_NETWORK], &cfg->networks[0], cfg,
					 &err), 0);
	file_in(d, API_JOURNAL_FILE, p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 0 && st.st_size < 400);	/* ...and one change since */
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(api_journal_delete(api, &api_types[API_OBJ_NETWORK], NET_ID, &err), 0);
	assert_int_equal(api_config_load(d->path, &loaded), 0);
	assert_int_equal(loaded->n_networks, 0);
	config_free(loaded);
	config_free(cfg);
	api_free(api);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_missing_config_is_empty),
		T(test_valid_config_loads),
		T(test_save_then_load),
		T(test_broken_configs_refused),
		T(test_decode_error_names_the_place),
		T(test_token_created_0600),
		T(test_token_permissions_fixed),
		T(test_token_symlink_refused),
		T(test_token_garbage_refused),
		T(test_journal_replayed_and_folded),
		T(test_journal_cut_line_dropped),
		T(test_journal_garbage_refused),
		T(test_journal_folds_when_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
