/*
 * The remote-access objects of the API through api_dispatch() with
 * fake hooks: address pools, dynamic crypto maps and XAUTH users (CRUD,
 * defaults, every refusal naming its field, overlapping pools, references
 * in use), passwords and their hashes never returned, and the round trip
 * through config.journal and config.json (a restart).
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
#include "api_env.h"
#include "core/passwd.h"

const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define BASE  "/api/v1"
#define XSS   BASE "/object/transformsets"
#define POOLS BASE "/object/ippools"
#define DYNS  BASE "/object/dynamiccryptomaps"
#define USERS BASE "/object/localusers"
#define PASSWORD "Xauth-s3cret-Pw"
/* hashlib.scrypt(b"alice-pass", salt=bytes(range(16)), n=1024, r=8, p=1) */
#define ALICE_HASH "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$" \
	"QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAA"

static int
setup(void **state)
{
	return api_env_setup(state, "test_api_ra");
}

static int
teardown(void **state)
{
	return api_env_teardown(state);
}

/* ---- bodies ------------------------------------------------------------- */

static json_t *
xs_new(struct env *e, const char *name)
{
	return callj(e, "POST", XSS, json_pack("{s:s, s:s, s:s}", "name", name, "esp",
					       "esp-aes-256", "auth", "esp-sha256-hmac"), 200);
}

static json_t *
pool_body(const char *name, const char *start, const char *end)
{
	return json_pack("{s:s, s:s, s:s}", "name", name, "start", start, "end", end);
}

static json_t *
ref(json_t *obj, const char *type)
{
	return json_pack("{s:s, s:s, s:s}", "id", str(obj, "id"), "name", str(obj, "name"), "type",
			 type);
}

/* The documented remote-access entry: pool, both Mode Config ways, DNS,
 * split tunnel, XAUTH. */
static json_t *
dyn_body(const char *name, int seq, json_t *xs, json_t *pool)
{
	json_t *b = json_pack("{s:s, s:i, s:[o], s:{s:b, s:b}, s:[s, s], s:[s], s:b}", "name",
			      name, "sequence", seq, "transformSets", ref(xs, "transformset"),
			      "clientConfiguration", "initiate", 1, "respond", 1, "dnsServers",
			      "10.2.2.53", "10.2.2.54", "splitTunnel", "10.2.2.0/24", "xauth", 1);

	if (pool != NULL)
		json_object_set_new(b, "addressPool", ref(pool, "ippool"));
	return b;
}

/* Only what is required: no pool, every default. */
static json_t *
dyn_min_body(const char *name, int seq, json_t *xs)
{
	return json_pack("{s:s, s:i, s:[o]}", "name", name, "sequence", seq, "transformSets",
			 ref(xs, "transformset"));
}

/* ---- routes ------------------------------------------------------------- */

static void
test_ra_routes(void **state)
{
	static const char *const paths[] = {
		POOLS, POOLS "/{id}", DYNS, DYNS "/{id}", USERS, USERS "/{id}",
	};
	struct env *e = *state;
	json_t *j = call(e, "GET", BASE, NULL, 200), *r;
	size_t i;

	for (size_t p = 0; p < ARRAY_LEN(paths); p++) {
		int found = 0;

		json_array_foreach(json_object_get(j, "routes"), i, r)
			found += strcmp(str(r, "path"), paths[p]) == 0;
		if (found != (strstr(paths[p], "{id}") ? 3 : 2))
			fail_msg("route %s listed %d times", paths[p], found);
	}
	json_decref(j);
	j = call(e, "GET", POOLS "/00000000-0000-4000-8000-000000000000", NULL, 404);
	assert_non_null(strstr(err_message(j), "ippool"));
	json_decref(j);
	json_decref(call(e, "DELETE", USERS "/nope", NULL, 404));
	json_decref(call(e, "PUT", DYNS, "{}", 405));
}

/* ---- address pools ------------------------------------------------------ */

static void
test_pool_crud(void **state)
{
	static const char *const keys[] = { "version", "name", "description", "start", "end",
					    "netmask", "id", "type", "links" };
	struct env *e = *state;
	json_t *p = callj(e, "POST", POOLS, pool_body("ourpool", "10.2.1.1", "10.2.1.254"), 200);
	char *path = item_path(POOLS, p), self[256];
	json_t *j;

	keys_are(p, keys, ARRAY_LEN(keys));
	assert_string_equal(str(p, "type"), "ippool");
	assert_string_equal(str(p, "start"), "10.2.1.1");
	assert_string_equal(str(p, "end"), "10.2.1.254");
	assert_string_equal(str(p, "netmask"), "255.255.255.255");	/* default */
	snprintf(self, sizeof(self), "http://agent.example:9276%s", path);
	assert_string_equal(str(json_object_get(p, "links"), "self"), self);
	assert_int_equal(e->cur->n_ip_pools, 1);
	assert_int_equal(e->cur->ip_pools[0].start, 0x0a020101);
	assert_int_equal(e->cur->ip_pools[0].end, 0x0a0201fe);
	assert_int_equal(e->cur->ip_pools[0].netmask, 0xffffffff);
	assert_ptr_equal(config_ip_pool_by_id(e->cur, str(p, "id")), &e->cur->ip_pools[0]);
	assert_int_equal(e->applied, 1);

	j = call(e, "GET", path, NULL, 200);
	assert_true(json_equal(j, p));
	json_decref(j);
	j = call_text(e, "GET", POOLS, "filter=name:ourpool", NULL, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_true(json_equal(json_array_get(json_object_get(j, "items"), 0), p));
	json_decref(j);
	j = call_text(e, "GET", POOLS, "filter=name:other", NULL, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	free(path);
	json_decref(p);
}

static void
test_pool_put_and_delete(void **state)
{
	struct env *e = *state;
	json_t *p = callj(e, "POST", POOLS, pool_body("ourpool", "10.2.1.1", "10.2.1.254"), 200);
	char *path = item_path(POOLS, p);
	json_t *b, *j;

	/* its own old range is no overlap; 65536 addresses is the most */
	b = put_of(p, "start", "\"10.2.0.0\"");
	json_object_set_new(b, "end", json_string("10.2.255.255"));
	json_object_set_new(b, "netmask", json_string("255.255.255.0"));
	j = callj(e, "PUT", path, b, 200);
	assert_string_equal(str(j, "start"), "10.2.0.0");
	assert_string_equal(str(j, "end"), "10.2.255.255");
	assert_string_equal(str(j, "netmask"), "255.255.255.0");
	assert_string_not_equal(str(j, "version"), str(p, "version"));
	assert_int_equal(e->cur->ip_pools[0].netmask, 0xffffff00);
	/* the old version is stale now */
	refused(e, "PUT", path, put_of(p, "end", "\"10.2.1.200\""), 409, "version", NULL);
	json_decref(j);
	assert_null(call(e, "DELETE", path, NULL, 204));
	assert_int_equal(e->cur->n_ip_pools, 0);
	json_decref(call(e, "GET", path, NULL, 404));
	free(path);
	json_decref(p);
}

static void
test_pool_refusals(void **state)
{
	struct env *e = *state;
	json_t *b = pool_body("p", "10.2.1.1", "10.2.1.254"), *mine, *j;
	char *path;

	refused(e, "POST", POOLS, with(b, "start", NULL), 400, "start", "required");
	refused(e, "POST", POOLS, with(b, "end", NULL), 400, "end", "required");
	refused(e, "POST", POOLS, with(b, "start", "\"10.2.1\""), 400, "start", "IPv4");
	refused(e, "POST", POOLS, with(b, "end", "\"10.2.1.300\""), 400, "end", NULL);
	refused(e, "POST", POOLS, with(b, "start", "167903489"), 400, "start", "string");
	refused(e, "POST", POOLS, with(b, "end", "\"10.2.1.0\""), 400, "end", "below start");
	refused(e, "POST", POOLS, with(b, "end", "\"10.3.1.1\""), 400, "end", "65537");
	refused(e, "POST", POOLS, with(b, "start", "\"0.0.0.1\""), 400, "start", "0.0.0.0/8");
	refused(e, "POST", POOLS, with(b, "start", "\"127.0.0.1\""), 400, "start", "127.0.0.0/8");
	refused(e, "POST", POOLS, with(b, "end", "\"240.0.0.1\""), 400, "end", NULL);
	refused(e, "POST", POOLS, with(b, "netmask", "\"255.255.0.255\""), 400, "netmask",
		"contiguous");
	refused(e, "POST", POOLS, with(b, "netmask", "\"0.0.0.0\""), 400, "netmask", NULL);
	refused(e, "POST", POOLS, with(b, "addresses", "254"), 400, "addresses", "unknown");
	refused(e, "POST", POOLS, with(b, "type", "\"localuser\""), 400, "type", NULL);
	assert_int_equal(e->cur->n_ip_pools, 0);
	assert_int_equal(e->applied, 0);

	/* one address, and a pool right next to it: no overlap */
	mine = callj(e, "POST", POOLS, with(b, "end", "\"10.2.1.1\""), 200);
	json_decref(callj(e, "POST", POOLS, pool_body("next", "10.2.1.2", "10.2.1.9"), 200));
	/* any shared address: 409 naming the other pool, on POST and PUT */
	refused(e, "POST", POOLS, pool_body("q", "10.2.1.9", "10.2.1.20"), 409, "start",
		"\"next\"");
	refused(e, "POST", POOLS, pool_body("q", "10.2.0.0", "10.2.1.1"), 409, "start",
		"\"p\" (10.2.1.1 - 10.2.1.1)");
	refused(e, "POST", POOLS, pool_body("q", "10.2.1.5", "10.2.1.5"), 409, "start", "next");
	refused(e, "POST", POOLS, pool_body("q", "10.2.0.0", "10.2.2.0"), 409, "start", NULL);
	path = item_path(POOLS, mine);
	refused(e, "PUT", path, put_of(mine, "end", "\"10.2.1.3\""), 409, "start", "\"next\"");
	/* a name is unique, as in every collection */
	j = callj(e, "POST", POOLS, pool_body("p", "10.9.0.1", "10.9.0.2"), 409);
	assert_string_equal(err_field(j), "name");
	json_decref(j);
	assert_int_equal(e->cur->n_ip_pools, 2);
	free(path);
	json_decref(mine);
	json_decref(b);
}

/* ---- dynamic crypto maps ------------------------------------------------ */

static void
test_dynamic_map_crud(void **state)
{
	static const char *const keys[] = {
		"version", "name", "description", "sequence", "transformSets", "matchAddress",
		"pfs", "lifetimeSeconds", "lifetimeKilobytes", "addressPool",
		"clientConfiguration", "dnsServers", "splitTunnel", "xauth", "id", "type", "links",
	};
	struct env *e = *state;
	json_t *xs = xs_new(e, "ts1");
	json_t *pool = callj(e, "POST", POOLS, pool_body("ourpool", "10.2.1.1", "10.2.1.254"),
			     200);
	json_t *m = callj(e, "POST", DYNS, dyn_body("dynmap-10", 10, xs, pool), 200), *j, *r, *b;
	char *path = item_path(DYNS, m);
	const struct cfg_dynamic_map *dm;

	keys_are(m, keys, ARRAY_LEN(keys));
	assert_string_equal(str(m, "type"), "dynamiccryptomap");
	assert_int_equal(num(m, "sequence"), 10);
	r = json_array_get(json_object_get(m, "transformSets"), 0);
	assert_string_equal(str(r, "id"), str(xs, "id"));
	assert_string_equal(str(r, "name"), "ts1");
	assert_string_equal(str(r, "type"), "transformset");
	assert_string_equal(str(r, "version"), str(xs, "version"));
	assert_int_equal(json_array_size(json_object_get(m, "matchAddress")), 0);
	assert_true(json_is_null(json_object_get(m, "pfs")));
	assert_int_equal(num(m, "lifetimeSeconds"), 3600);
	assert_int_equal(num(m, "lifetimeKilobytes"), 4608000);
	r = json_object_get(m, "addressPool");
	assert_string_equal(str(r, "id"), str(pool, "id"));
	assert_string_equal(str(r, "name"), "ourpool");
	assert_string_equal(str(r, "type"), "ippool");
	r = json_object_get(m, "clientConfiguration");
	assert_int_equal(json_object_size(r), 2);
	assert_true(json_is_true(json_object_get(r, "initiate")));
	assert_true(json_is_true(json_object_get(r, "respond")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "dnsServers"), 1)),
			    "10.2.2.54");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "splitTunnel"),
							      0)), "10.2.2.0/24");
	assert_true(json_is_true(json_object_get(m, "xauth")));

	dm = config_dynamic_map_by_id(e->cur, str(m, "id"));
	assert_non_null(dm);
	assert_int_equal(dm->sequence, 10);
	assert_int_equal(dm->n_transform_sets, 1);
	assert_string_equal(dm->transform_sets[0].id, str(xs, "id"));
	assert_int_equal(dm->n_match, 0);
	assert_string_equal(dm->address_pool.id, str(pool, "id"));
	assert_true(dm->config_initiate);
	assert_true(dm->config_respond);
	assert_int_equal(dm->n_dns, 2);
	assert_int_equal(dm->dns[0], 0x0a020235);
	assert_int_equal(dm->n_split, 1);
	assert_int_equal(dm->split[0].addr, 0x0a020200);
	assert_int_equal(dm->split[0].len, 24);
	assert_true(dm->xauth);

	/* PUT: match lines (local networks, client addresses), PFS, pull only */
	b = put_of(m, "matchAddress", "[{\"source\": \"10.2.2.0/24\", \"destination\": "
		   "\"10.2.1.0/24\"}, {\"action\": \"permit\", \"protocol\": \"ip\", "
		   "\"source\": \"10.2.3.5\", \"destination\": \"0.0.0.0/0\"}]");
	json_object_set_new(b, "pfs", json_string("group19"));
	json_object_set_new(b, "lifetimeSeconds", json_integer(28800));
	json_object_set_new(b, "lifetimeKilobytes", json_integer(2560));
	json_object_set_new(b, "clientConfiguration", json_pack("{s:b}", "initiate", 0));
	json_object_set_new(b, "dnsServers", json_array());
	json_object_set_new(b, "xauth", json_false());
	json_object_set_new(b, "description", json_string("road warriors"));
	j = callj(e, "PUT", path, b, 200);
	assert_string_equal(str(j, "pfs"), "group19");
	assert_int_equal(num(j, "lifetimeSeconds"), 28800);
	assert_int_equal(num(j, "lifetimeKilobytes"), 2560);
	r = json_object_get(j, "clientConfiguration");
	assert_true(json_is_false(json_object_get(r, "initiate")));
	assert_true(json_is_true(json_object_get(r, "respond")));	/* left out: default */
	assert_int_equal(json_array_size(json_object_get(j, "dnsServers")), 0);
	assert_string_equal(str(json_array_get(json_object_get(j, "matchAddress"), 1), "source"),
			    "10.2.3.5/32");
	assert_string_equal(str(j, "description"), "road warriors");
	dm = &e->cur->dynamic_maps[0];
	assert_int_equal(dm->n_match, 2);
	assert_int_equal(dm->match[0].src.addr, 0x0a020200);
	assert_int_equal(dm->match[0].dst.addr, 0x0a020100);
	assert_int_equal(dm->pfs, CFG_PFS_GROUP19);
	assert_false(dm->config_initiate);
	assert_true(dm->config_respond);
	assert_int_equal(dm->n_dns, 0);
	assert_false(dm->xauth);
	json_decref(j);

	/* PUT without a pool: no Mode Config; addressPool reads back null */
	j = call(e, "GET", path, NULL, 200);
	b = put_of(j, "addressPool", "null");
	json_object_del(b, "clientConfiguration");
	json_object_del(b, "splitTunnel");
	json_decref(j);
	j = callj(e, "PUT", path, b, 200);
	assert_true(json_is_null(json_object_get(j, "addressPool")));
	assert_string_equal(e->cur->dynamic_maps[0].address_pool.id, "");
	json_decref(j);
	assert_null(call(e, "DELETE", path, NULL, 204));
	assert_int_equal(e->cur->n_dynamic_maps, 0);
	free(path);
	json_decref(m);
	json_decref(pool);
	json_decref(xs);
}

/* Only sequence and transformSets: every default, Mode Config off. */
static void
test_dynamic_map_defaults(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e, "ts1");
	json_t *m = callj(e, "POST", DYNS, dyn_min_body("dyn", 65535, xs), 200), *r;
	const struct cfg_dynamic_map *dm = &e->cur->dynamic_maps[0];

	assert_int_equal(json_array_size(json_object_get(m, "matchAddress")), 0);
	assert_true(json_is_null(json_object_get(m, "pfs")));
	assert_true(json_is_null(json_object_get(m, "addressPool")));
	r = json_object_get(m, "clientConfiguration");
	assert_true(json_is_false(json_object_get(r, "initiate")));
	assert_true(json_is_true(json_object_get(r, "respond")));
	assert_int_equal(json_array_size(json_object_get(m, "dnsServers")), 0);
	assert_int_equal(json_array_size(json_object_get(m, "splitTunnel")), 0);
	assert_true(json_is_false(json_object_get(m, "xauth")));
	assert_int_equal(dm->sequence, 65535);
	assert_string_equal(dm->address_pool.id, "");
	assert_false(dm->config_initiate);
	assert_true(dm->config_respond);
	assert_int_equal(dm->lifetime_s, 3600);
	assert_int_equal(dm->lifetime_kb, 4608000);
	assert_int_equal(dm->pfs, CFG_PFS_NONE);
	/* the defaults spelled out, and xauth without any user: taken */
	json_decref(callj(e, "POST", DYNS, json_pack("{s:s, s:i, s:[o], s:n, s:{s:b, s:b}, "
						     "s:[], s:[], s:[], s:b}", "name", "dyn2",
						     "sequence", 1, "transformSets",
						     ref(xs, "transformset"), "addressPool",
						     "clientConfiguration", "initiate", 0,
						     "respond", 1, "matchAddress", "dnsServers",
						     "splitTunnel", "xauth", 1), 200));
	assert_int_equal(e->cur->n_local_users, 0);
	assert_true(e->cur->dynamic_maps[1].xauth);
	json_decref(m);
	json_decref(xs);
}

static void
test_dynamic_map_refusals(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e, "ts1");
	json_t *pool = callj(e, "POST", POOLS, pool_body("ourpool", "10.2.1.1", "10.2.1.254"),
			     200);
	json_t *b = dyn_body("dyn", 10, xs, pool), *bare = dyn_min_body("dyn", 10, xs), *m;
	char refs[1024], lines[2048], *path;
	size_t n;

	refused(e, "POST", DYNS, with(b, "sequence", "0"), 400, "sequence", "1 and 65535");
	refused(e, "POST", DYNS, with(b, "sequence", "65536"), 400, "sequence", NULL);
	refused(e, "POST", DYNS, with(b, "sequence", NULL), 400, "sequence", "required");
	refused(e, "POST", DYNS, with(b, "transformSets", NULL), 400, "transformSets", "required");
	refused(e, "POST", DYNS, with(b, "transformSets", "[]"), 400, "transformSets", "1 to 6");
	snprintf(refs, sizeof(refs), "[{\"id\": \"%s\"}, {\"id\": \"%s\"}]", str(xs, "id"),
		 str(xs, "id"));
	refused(e, "POST", DYNS, with(b, "transformSets", refs), 400, "transformSets[1]",
		"listed already");
	refused(e, "POST", DYNS, with(b, "transformSets",
				      "[{\"id\": \"00000000-0000-4000-8000-000000000000\"}]"),
		400, "transformSets[0].id", "no transformset");
	refused(e, "POST", DYNS, with(b, "peers", "[\"192.0.2.1\"]"), 400, "peers", "unknown");
	refused(e, "POST", DYNS, with(b, "initiate", "true"), 400, "initiate", "unknown");
	refused(e, "POST", DYNS, with(b, "matchAddress", "[{\"source\": \"10.2.2.1/24\", "
				      "\"destination\": \"10.2.1.0/24\"}]"), 400,
		"matchAddress[0].source", "did you mean 10.2.2.0/24");
	n = (size_t)snprintf(lines, sizeof(lines), "[");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(lines + n, sizeof(lines) - n, "%s{\"source\": "
				      "\"10.2.%d.0/24\", \"destination\": \"10.2.1.0/24\"}",
				      i ? ", " : "", i);
	snprintf(lines + n, sizeof(lines) - n, "]");
	refused(e, "POST", DYNS, with(b, "matchAddress", lines), 400, "matchAddress", "0 to 16");
	refused(e, "POST", DYNS, with(b, "pfs", "\"group5\""), 400, "pfs", "DH group 5");
	refused(e, "POST", DYNS, with(b, "lifetimeSeconds", "86401"), 400, "lifetimeSeconds",
		NULL);
	refused(e, "POST", DYNS, with(b, "lifetimeKilobytes", "4294967296"), 400,
		"lifetimeKilobytes", NULL);

	/* the pool reference */
	refused(e, "POST", DYNS, with(b, "addressPool",
				      "{\"id\": \"00000000-0000-4000-8000-000000000000\"}"), 400,
		"addressPool.id", "no ippool");
	snprintf(refs, sizeof(refs), "{\"id\": \"%s\"}", str(xs, "id"));
	refused(e, "POST", DYNS, with(b, "addressPool", refs), 400, "addressPool.id", "no ippool");
	snprintf(refs, sizeof(refs), "{\"id\": \"%s\", \"name\": \"other\"}", str(pool, "id"));
	refused(e, "POST", DYNS, with(b, "addressPool", refs), 400, "addressPool.name",
		"ourpool");
	refused(e, "POST", DYNS, with(b, "addressPool", "\"ourpool\""), 400, "addressPool",
		"reference");

	/* Mode Config settings need a pool */
	refused(e, "POST", DYNS, with(b, "addressPool", NULL), 400, "clientConfiguration.initiate",
		"addressPool");
	refused(e, "POST", DYNS, with(bare, "clientConfiguration", "{\"respond\": false}"), 400,
		"clientConfiguration.respond", "addressPool");
	refused(e, "POST", DYNS, with(bare, "dnsServers", "[\"10.2.2.53\"]"), 400, "dnsServers",
		"addressPool");
	refused(e, "POST", DYNS, with(bare, "splitTunnel", "[\"10.2.2.0/24\"]"), 400,
		"splitTunnel", "addressPool");
	refused(e, "POST", DYNS, with(b, "clientConfiguration", "{\"initiate\": false, "
				      "\"respond\": false}"), 400, "clientConfiguration", NULL);
	refused(e, "POST", DYNS, with(b, "clientConfiguration", "{\"initiate\": \"yes\"}"), 400,
		"clientConfiguration.initiate", "true or false");
	refused(e, "POST", DYNS, with(b, "clientConfiguration", "{\"address\": \"initiate\"}"),
		400, "clientConfiguration.address", "unknown");
	refused(e, "POST", DYNS, with(b, "clientConfiguration", "\"initiate\""), 400,
		"clientConfiguration", "object");

	/* DNS servers and split-tunnel networks */
	refused(e, "POST", DYNS, with(b, "dnsServers", "[\"10.2.2.1\", \"10.2.2.2\", "
				      "\"10.2.2.3\"]"), 400, "dnsServers", "0 to 2");
	refused(e, "POST", DYNS, with(b, "dnsServers", "[\"10.2.2.1\", \"10.2.2\"]"), 400,
		"dnsServers[1]", "IPv4");
	refused(e, "POST", DYNS, with(b, "dnsServers", "[\"255.255.255.255\"]"), 400,
		"dnsServers[0]", "unicast");
	refused(e, "POST", DYNS, with(b, "dnsServers", "[\"10.2.2.1\", \"10.2.2.1\"]"), 400,
		"dnsServers[1]", "listed already");
	refused(e, "POST", DYNS, with(b, "dnsServers", "\"10.2.2.1\""), 400, "dnsServers",
		"array");
	refused(e, "POST", DYNS, with(b, "splitTunnel", "[\"10.2.2.0/24\", \"10.2.3.1/24\"]"),
		400, "splitTunnel[1]", "did you mean 10.2.3.0/24");
	refused(e, "POST", DYNS, with(b, "splitTunnel", "[\"10.2.2.0/24\", \"10.2.2.0/24\"]"),
		400, "splitTunnel[1]", "listed already");
	refused(e, "POST", DYNS, with(b, "splitTunnel", "[\"10.2.0.0/16\", \"any\"]"), 400,
		"splitTunnel[1]", "prefix");
	n = (size_t)snprintf(lines, sizeof(lines), "[");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(lines + n, sizeof(lines) - n, "%s\"10.3.%d.0/24\"",
				      i ? ", " : "", i);
	snprintf(lines + n, sizeof(lines) - n, "]");
	refused(e, "POST", DYNS, with(b, "splitTunnel", lines), 400, "splitTunnel", "0 to 16");
	refused(e, "POST", DYNS, with(b, "xauth", "1"), 400, "xauth", "true or false");
	assert_int_equal(e->cur->n_dynamic_maps, 0);

	/* one sequence, one entry (409, on POST and PUT); its own is no clash */
	m = callj(e, "POST", DYNS, json_deep_copy(b), 200);
	refused(e, "POST", DYNS, with(b, "name", "\"dyn2\""), 409, "sequence", "\"dyn\"");
	refused(e, "POST", DYNS, json_deep_copy(b), 409, "name", NULL);
	json_decref(callj(e, "POST", DYNS, with(bare, "name", "\"dyn20\""), 409));
	json_decref(callj(e, "POST", DYNS, json_pack("{s:s, s:i, s:[o]}", "name", "dyn20",
						     "sequence", 20, "transformSets",
						     ref(xs, "transformset")), 200));
	path = item_path(DYNS, m);
	refused(e, "PUT", path, put_of(m, "sequence", "20"), 409, "sequence", "\"dyn20\"");
	json_decref(callj(e, "PUT", path, put_of(m, "sequence", "10"), 200));
	free(path);
	json_decref(m);
	json_decref(b);
	json_decref(bare);
	json_decref(pool);
	json_decref(xs);
}

/* A pool or a transform set a dynamic map uses cannot be deleted: the 409
 * names the map and the field. */
static void
test_references_in_use(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e, "ts1");
	json_t *pool = callj(e, "POST", POOLS, pool_body("ourpool", "10.2.1.1", "10.2.1.254"),
			     200);
	json_t *m = callj(e, "POST", DYNS, dyn_body("dynmap-10", 10, xs, pool), 200), *j, *b;
	char *ppath = item_path(POOLS, pool), *xpath = item_path(XSS, xs);
	char *mpath = item_path(DYNS, m);

	j = call(e, "DELETE", ppath, NULL, 409);
	assert_non_null(strstr(err_message(j), "ippool \"ourpool\""));
	assert_non_null(strstr(err_message(j), "dynamiccryptomap \"dynmap-10\""));
	assert_non_null(strstr(err_message(j), "addressPool"));
	json_decref(j);
	j = call(e, "DELETE", xpath, NULL, 409);
	assert_non_null(strstr(err_message(j), "dynamiccryptomap \"dynmap-10\""));
	assert_non_null(strstr(err_message(j), "transformSets"));
	json_decref(j);
	assert_int_equal(e->cur->n_ip_pools, 1);
	assert_int_equal(e->cur->n_transform_sets, 1);

	/* a renamed pool reads back with its new name in the reference */
	j = callj(e, "PUT", ppath, put_of(pool, "name", "\"renamed\""), 200);
	json_decref(j);
	j = call(e, "GET", mpath, NULL, 200);
	assert_string_equal(str(json_object_get(j, "addressPool"), "name"), "renamed");

	/* without the pool, it can go */
	b = put_of(j, "addressPool", NULL);
	json_object_del(b, "clientConfiguration");
	json_object_del(b, "dnsServers");
	json_object_del(b, "splitTunnel");
	json_decref(j);
	json_decref(callj(e, "PUT", mpath, b, 200));
	assert_null(call(e, "DELETE", ppath, NULL, 204));
	assert_null(call(e, "DELETE", mpath, NULL, 204));
	assert_null(call(e, "DELETE", xpath, NULL, 204));
	free(ppath);
	free(xpath);
	free(mpath);
	json_decref(m);
	json_decref(pool);
	json_decref(xs);
}

/* ---- XAUTH users -------------------------------------------------------- */

/* Neither the password nor its hash in any answer. */
static void
no_password_in(const char *text)
{
	if (strstr(text, PASSWORD) != NULL || strstr(text, "assword") != NULL ||
	    strstr(text, "$scrypt$") != NULL)
		fail_msg("a password or its hash in an answer: %s", text);
}

static void
test_local_user_crud_and_secrecy(void **state)
{
	static const char *const keys[] = { "version", "name", "description", "id", "type",
					    "links" };
	struct env *e = *state;
	json_t *u, *j, *b;
	char *path, *text, hash[CFG_PWHASH_MAX];
	struct api_req req = { .method = "POST", .path = USERS, .host = "h" };
	struct api_resp resp;
	const char *body = "{\"name\": \"alice\", \"password\": \"" PASSWORD "\"}";

	req.body = body;
	req.body_len = strlen(body);
	api_dispatch(e->api, &req, &resp);
	assert_int_equal(resp.status, 200);
	no_password_in(resp.body);
	u = json_loads(resp.body, 0, NULL);
	api_resp_free(&resp);
	keys_are(u, keys, ARRAY_LEN(keys));
	assert_string_equal(str(u, "type"), "localuser");
	assert_string_equal(str(u, "name"), "alice");
	path = item_path(USERS, u);

	/* only a hash is kept, and it verifies the password alone */
	assert_int_equal(e->cur->n_local_users, 1);
	assert_ptr_equal(config_local_user_by_id(e->cur, str(u, "id")), &e->cur->local_users[0]);
	str_copy(hash, sizeof(hash), e->cur->local_users[0].password_hash);
	assert_int_equal(strncmp(hash, "$scrypt$ln=14,r=8,p=1$", 22), 0);
	assert_null(strstr(hash, PASSWORD));
	assert_int_equal(passwd_verify(PASSWORD, hash), 1);
	assert_int_equal(passwd_verify("xauth-s3cret-Pw", hash), 0);

	/* never in a read, a list or a filtered list */
	j = call_text(e, "GET", path, NULL, NULL, 200, &text);
	no_password_in(text);
	free(text);
	json_decref(j);
	json_decref(callj(e, "POST", USERS, json_pack("{s:s, s:s}", "name", "bob", "passwordHash",
						      ALICE_HASH), 200));
	j = call_text(e, "GET", USERS, NULL, NULL, 200, &text);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	no_password_in(text);
	free(text);
	json_decref(j);
	j = call_text(e, "GET", USERS, "filter=name:alice", NULL, 200, &text);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	no_password_in(text);
	free(text);
	json_decref(j);
	assert_string_equal(e->cur->local_users[1].password_hash, ALICE_HASH);
	assert_int_equal(passwd_verify("alice-pass", e->cur->local_users[1].password_hash), 1);

	/* PUT without a password keeps the hash, byte for byte */
	b = put_of(u, "description", "\"road warrior\"");
	j = callj(e, "PUT", path, json_deep_copy(b), 200);
	assert_string_equal(e->cur->local_users[0].password_hash, hash);
	assert_string_equal(str(j, "description"), "road warrior");
	assert_null(json_object_get(j, "password"));
	json_object_set_new(b, "version", json_string(str(j, "version")));
	json_decref(j);
	/* a new password: a new hash; the old password no longer verifies */
	json_object_set_new(b, "password", json_string("n3w-" PASSWORD));
	j = callj(e, "PUT", path, json_deep_copy(b), 200);
	assert_null(json_object_get(j, "password"));
	assert_string_not_equal(e->cur->local_users[0].password_hash, hash);
	assert_int_equal(passwd_verify("n3w-" PASSWORD, e->cur->local_users[0].password_hash), 1);
	assert_int_equal(passwd_verify(PASSWORD, e->cur->local_users[0].password_hash), 0);
	/* ...or a hash */
	json_object_del(b, "password");
	json_object_set_new(b, "passwordHash", json_string(ALICE_HASH));
	json_object_set_new(b, "version", json_string(str(j, "version")));
	json_decref(j);
	j = callj(e, "PUT", path, b, 200);
	assert_null(json_object_get(j, "passwordHash"));
	assert_string_equal(e->cur->local_users[0].password_hash, ALICE_HASH);
	json_decref(j);

	assert_null(call(e, "DELETE", path, NULL, 204));
	assert_int_equal(e->cur->n_local_users, 1);
	assert_string_equal(e->cur->local_users[0].meta.name, "bob");
	free(path);
	json_decref(u);
}

static void
test_local_user_refusals(void **state)
{
	struct env *e = *state;
	json_t *b = json_pack("{s:s, s:s}", "name", "alice", "password", PASSWORD), *u, *j;
	char longpw[CFG_PASSWORD_MAX + 4], *path;

	refused(e, "POST", USERS, with(b, "password", NULL), 400, "password",
		"password (or passwordHash) is required");
	refused(e, "POST", USERS, with(b, "password", "null"), 400, "password", "required");
	refused(e, "POST", USERS, with(b, "password", "\"\""), 400, "password", "empty");
	refused(e, "POST", USERS, with(b, "password", "\"two\\nlines\""), 400, "password",
		"control");
	refused(e, "POST", USERS, with(b, "password", "\"cr\\rhere\""), 400, "password", NULL);
	/* a NUL cannot even be sent: the body is not JSON to the API's parser */
	j = call(e, "POST", USERS, "{\"name\": \"alice\", \"password\": \"a\\u0000b\"}", 400);
	assert_non_null(strstr(err_message(j), "JSON"));
	json_decref(j);
	refused(e, "POST", USERS, with(b, "password", "12345678"), 400, "password", "string");
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[0] = longpw[sizeof(longpw) - 2] = '"';
	longpw[sizeof(longpw) - 1] = '\0';	/* 129 characters between the quotes */
	refused(e, "POST", USERS, with(b, "password", longpw), 400, "password", "longer than 128");
	longpw[sizeof(longpw) - 3] = '"';
	longpw[sizeof(longpw) - 2] = '\0';	/* 128: taken */
	json_decref(callj(e, "POST", USERS, with(b, "password", longpw), 200));
	json_decref(call(e, "DELETE", USERS "/", NULL, 405));	/* a collection: no DELETE */

	refused(e, "POST", USERS, with(b, "passwordHash", "\"" ALICE_HASH "\""), 400, "password",
		"not both");
	json_object_del(b, "password");
	refused(e, "POST", USERS, with(b, "passwordHash", "\"$scrypt$ln=21,r=8,p=1$"
				       "AAECAwQFBgcICQoLDA0ODw$QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8o"
				       "ee51bAA\""), 400, "passwordHash", "ln=10..16");
	refused(e, "POST", USERS, with(b, "passwordHash", "\"" PASSWORD "\""), 400, "passwordHash",
		NULL);
	refused(e, "POST", USERS, with(b, "passwordHash", "\"\""), 400, "passwordHash", NULL);
	refused(e, "POST", USERS, with(b, "passwordHash", "true"), 400, "passwordHash", "string");
	refused(e, "POST", USERS, with(b, "name", "\"\""), 400, "name", NULL);
	refused(e, "POST", USERS, with(b, "secret", "\"x\""), 400, "secret", "unknown");
	json_object_set_new(b, "password", json_string(PASSWORD));

	/* user names are unique: the name is the object's name */
	refused(e, "POST", USERS, json_deep_copy(b), 409, "name", "\"alice\"");
	u = callj(e, "POST", USERS, with(b, "name", "\"Alice\""), 200);
	path = item_path(USERS, u);
	refused(e, "PUT", path, put_of(u, "name", "\"alice\""), 409, "name", NULL);
	refused(e, "PUT", path, put_of(u, "password", "\"\""), 400, "password", NULL);
	assert_int_equal(e->cur->n_local_users, 2);
	free(path);
	json_decref(u);
	json_decref(b);
}

/* ---- persistence -------------------------------------------------------- */

static char *
state_file(struct env *e, const char *name)
{
	char path[128], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	if (file_read_all(path, API_CONFIG_FILE_MAX, &text, &len) == -1)
		return NULL;
	return text;
}

/* The full setup through the API (journal), a restart (replay and fold
 * into config.json), a change after it, and another restart. */
static void
test_ra_persist_round_trip(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e, "ts1");
	json_t *pool = callj(e, "POST", POOLS, pool_body("ourpool", "10.2.1.1", "10.2.1.254"),
			     200);
	json_t *m = callj(e, "POST", DYNS, dyn_body("dynmap-10", 10, xs, pool), 200), *a, *b, *u;
	struct config *loaded = NULL;
	char *text, *path;

	json_decref(callj(e, "POST", DYNS, dyn_min_body("dynmap-20", 20, xs), 200));
	u = callj(e, "POST", USERS, json_pack("{s:s, s:s}", "name", "alice", "password", PASSWORD),
		  200);
	json_decref(callj(e, "POST", USERS, json_pack("{s:s, s:s}", "name", "bob",
						      "passwordHash", ALICE_HASH), 200));

	/* the journal holds the hash, never the password */
	text = state_file(e, API_JOURNAL_FILE);
	assert_non_null(text);
	assert_null(strstr(text, PASSWORD));
	assert_non_null(strstr(text, "\"passwordHash\""));
	assert_non_null(strstr(text, e->cur->local_users[0].password_hash));
	assert_null(strstr(text, "\"password\""));
	free_secret(text);

	/* restart: replayed, folded into config.json, the same config */
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	a = api_config_encode(e->cur);
	b = api_config_encode(loaded);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	assert_int_equal(loaded->n_ip_pools, 1);
	assert_int_equal(loaded->n_dynamic_maps, 2);
	assert_int_equal(loaded->n_local_users, 2);
	assert_string_equal(loaded->dynamic_maps[0].address_pool.id, str(pool, "id"));
	assert_string_equal(loaded->dynamic_maps[1].address_pool.id, "");
	assert_true(loaded->dynamic_maps[0].config_initiate);
	assert_int_equal(loaded->dynamic_maps[0].split[0].addr, 0x0a020200);
	assert_int_equal(passwd_verify(PASSWORD, loaded->local_users[0].password_hash), 1);
	assert_string_equal(loaded->local_users[1].password_hash, ALICE_HASH);
	text = state_file(e, API_JOURNAL_FILE);
	assert_null(text);	/* folded */
	text = state_file(e, API_CONFIG_FILE);
	assert_non_null(strstr(text, "\"ippools\""));
	assert_non_null(strstr(text, "\"dynamiccryptomaps\""));
	assert_non_null(strstr(text, "\"localusers\""));
	assert_non_null(strstr(text, ALICE_HASH));
	assert_null(strstr(text, PASSWORD));
	free_secret(text);

	/* the restarted agent: a PUT without the password keeps the hash */
	config_free(e->cur);
	e->cur = loaded;
	path = item_path(USERS, u);
	json_decref(u);
	u = call(e, "GET", path, NULL, 200);
	json_decref(callj(e, "PUT", path, put_of(u, "description", "\"kept\""), 200));
	assert_int_equal(passwd_verify(PASSWORD, e->cur->local_users[0].password_hash), 1);
	loaded = NULL;
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	assert_string_equal(loaded->local_users[0].password_hash,
			    e->cur->local_users[0].password_hash);
	assert_string_equal(loaded->local_users[0].meta.description, "kept");
	config_free(loaded);
	free(path);
	json_decref(u);
	json_decref(m);
	json_decref(pool);
	json_decref(xs);
}

static void
load_text(struct env *e, const char *text, int want)
{
	struct config *cfg = load_config_text(e, text, want);

	if (want == 0) {
		assert_int_equal(cfg->n_local_users, 1);
		assert_int_equal(passwd_verify("alice-pass", cfg->local_users[0].password_hash), 1);
	}
	config_free(cfg);
}

#define ITEM(id, name) "{\"id\": \"" id "\", \"version\": \"v1\", \"name\": \"" name "\", "
#define ID1 "11111111-1111-4111-8111-111111111111"
#define ID2 "22222222-2222-4222-8222-222222222222"
#define ID3 "33333333-3333-4333-8333-333333333333"
#define ID4 "44444444-4444-4444-8444-444444444444"
#define ID5 "55555555-5555-4555-8555-555555555555"
#define CFG_HEAD "{\"formatVersion\": 1, \"transformsets\": [" ITEM(ID1, "ts1") "\"esp\": " \
	"\"esp-gcm\"}], \"localusers\": [" ITEM(ID4, "alice") "\"passwordHash\": \"" \
	ALICE_HASH "\"}], "
#define POOL2 "\"ippools\": [" ITEM(ID2, "p") "\"start\": \"10.2.1.1\", \"end\": " \
	"\"10.2.1.254\"}]"
#define DYN(id, name, seq, extra) ITEM(id, name) "\"sequence\": " seq ", \"transformSets\": " \
	"[{\"id\": \"" ID1 "\"}]" extra "}"

static void
test_ra_configs_loaded_or_refused(void **state)
{
	static const char *const broken[] = {
		/* a password in config.json, a hash that is not one of ours */
		"{\"formatVersion\": 1, \"localusers\": [" ITEM(ID4, "alice") "\"password\": "
		"\"alice-pass\"}]}",
		"{\"formatVersion\": 1, \"localusers\": [" ITEM(ID4, "alice") "\"passwordHash\": "
		"\"$scrypt$ln=14,r=8,p=1$AAAA$BBBB\"}]}",
		"{\"formatVersion\": 1, \"localusers\": [{\"id\": \"" ID4 "\", \"version\": "
		"\"v1\", \"name\": \"alice\"}]}",
		/* two users of one name */
		"{\"formatVersion\": 1, \"localusers\": [" ITEM(ID4, "alice") "\"passwordHash\": \""
		ALICE_HASH "\"}, " ITEM(ID3, "alice") "\"passwordHash\": \"" ALICE_HASH "\"}]}",
		/* overlapping pools */
		"{\"formatVersion\": 1, \"ippools\": [" ITEM(ID2, "p") "\"start\": \"10.2.1.1\", "
		"\"end\": \"10.2.1.254\"}, " ITEM(ID3, "q") "\"start\": \"10.2.1.254\", \"end\": "
		"\"10.2.2.10\"}]}",
		/* a pool upside down */
		"{\"formatVersion\": 1, \"ippools\": [" ITEM(ID2, "p") "\"start\": \"10.2.1.9\", "
		"\"end\": \"10.2.1.1\"}]}",
		/* a dynamic map naming a missing pool, DNS without a pool, one sequence twice */
		CFG_HEAD "\"dynamiccryptomaps\": [" DYN(ID3, "d", "10", ", \"addressPool\": "
						      "{\"id\": \"" ID2 "\"}") "]}",
		CFG_HEAD "\"dynamiccryptomaps\": [" DYN(ID3, "d", "10", ", \"dnsServers\": "
						      "[\"10.2.2.53\"]") "]}",
		CFG_HEAD POOL2 ", \"dynamiccryptomaps\": [" DYN(ID3, "d", "10", "") ", "
		DYN(ID5, "e", "10", "") "]}",
	};
	struct env *e = *state;

	for (size_t i = 0; i < ARRAY_LEN(broken); i++)
		load_text(e, broken[i], -1);
	load_text(e, CFG_HEAD POOL2 ", \"dynamiccryptomaps\": [" DYN(ID3, "d", "10",
		  ", \"addressPool\": {\"id\": \"" ID2 "\"}, \"dnsServers\": [\"10.2.2.53\"], "
		  "\"xauth\": true") ", " DYN(ID5, "e", "20", ", \"addressPool\": null") "]}", 0);
}

/* --max-objects applies to each new collection. */
static void
test_ra_objects_limit(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e, "ts1"), *j;

	api_set_objects_max(2);
	json_decref(callj(e, "POST", POOLS, pool_body("a", "10.2.1.1", "10.2.1.9"), 200));
	json_decref(callj(e, "POST", POOLS, pool_body("b", "10.2.2.1", "10.2.2.9"), 200));
	j = callj(e, "POST", POOLS, pool_body("c", "10.2.3.1", "10.2.3.9"), 409);
	assert_string_equal(err_field(j), "ippools");
	assert_non_null(strstr(err_message(j), "--max-objects"));
	json_decref(j);
	json_decref(callj(e, "POST", DYNS, dyn_min_body("d1", 1, xs), 200));
	json_decref(callj(e, "POST", DYNS, dyn_min_body("d2", 2, xs), 200));
	j = callj(e, "POST", DYNS, dyn_min_body("d3", 3, xs), 409);
	assert_string_equal(err_field(j), "dynamiccryptomaps");
	json_decref(j);
	json_decref(callj(e, "POST", USERS, json_pack("{s:s, s:s}", "name", "u1", "passwordHash",
						      ALICE_HASH), 200));
	json_decref(callj(e, "POST", USERS, json_pack("{s:s, s:s}", "name", "u2", "passwordHash",
						      ALICE_HASH), 200));
	j = callj(e, "POST", USERS, json_pack("{s:s, s:s}", "name", "u3", "passwordHash",
					      ALICE_HASH), 409);
	assert_string_equal(err_field(j), "localusers");
	json_decref(j);
	json_decref(xs);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ra_routes),
		T(test_pool_crud),
		T(test_pool_put_and_delete),
		T(test_pool_refusals),
		T(test_dynamic_map_crud),
		T(test_dynamic_map_defaults),
		T(test_dynamic_map_refusals),
		T(test_references_in_use),
		T(test_local_user_crud_and_secrecy),
		T(test_local_user_refusals),
		T(test_ra_persist_round_trip),
		T(test_ra_configs_loaded_or_refused),
		T(test_ra_objects_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
