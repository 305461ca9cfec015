/*
 * The API's generic codec and object tables (agent/api/codec.c, model.c,
 * objects.c) without HTTP: decode/encode round trips for every type, each
 * validation error naming its field, secrets (keys, password hashes) never
 * in the API view, the whole-config invariants and the syntax checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/api_int.h"
#include "core/passwd.h"
#include "test_pki.h"

/* The telemetry module is not linked into this test. */
const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define NET_ID "79ee2ea9-76b7-41ef-9515-f5b34b7d9531"
#define INT_ID "d874dfa3-7423-41ef-b3a0-09429aedc3d3"
#define CA_ID  "c3d925b4-7423-41ef-b3a0-bf815c0136ac"
#define XS_ID  "5a1e3c7d-0b2f-4e8a-9c61-7d3e2f1a0b4c"
#define POOL_ID "3e9c1d85-6f40-41a2-9dc3-4e5f60718293"
#define DYN_ID  "4fad2e96-7051-42b3-8ed4-5f60718293a4"
#define USER_ID "50be3fa7-8162-43c4-9fe5-60718293a4b5"
#define TUN_ID  "61cf40b8-9273-44d5-a0f6-718293a4b5c6"
/* hashlib.scrypt(b"alice-pass", salt=bytes(range(16)), n=1024, r=8, p=1) */
#define ALICE_HASH "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$" \
	"QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAA"

static char *cert_a, *key_a, *cert_b, *key_b;

static int
group_setup(void **state)
{
	assert_int_equal(test_pki_pair("agent", &cert_a, &key_a), 0);
	assert_int_equal(test_pki_pair("other", &cert_b, &key_b), 0);
	return 0;
}

static int
group_teardown(void **state)
{
	free(cert_a);
	free(key_a);
	free(cert_b);
	free(key_b);
	return 0;
}

/* One object of each VPN collection (the singletons are always there). */
static void
base_config_vpn(struct config *c)
{
	struct cfg_ike_policy ip = { .priority = 10, .encryption = CFG_IKE_ENC_AES256,
				     .hash = CFG_IKE_HASH_SHA256, .group = 14,
				     .lifetime_s = 86400 };
	struct cfg_psk psk = { .addr = 0x0a010101, .mask = 0xffffffff };
	struct cfg_transform_set xs = { .esp = CFG_ESP_GCM256, .auth = CFG_ESP_AUTH_NONE };
	struct cfg_crypto_map map = { .sequence = 10, .n_peers = 1, .n_transform_sets = 1,
				      .n_match = 1, .lifetime_s = 3600,
				      .lifetime_kb = 4608000, .force_encap = true,
				      .initiate = true };

	str_copy(ip.meta.id, sizeof(ip.meta.id), "0b6f8a52-3c1d-4e7f-8a90-1b2c3d4e5f60");
	str_copy(ip.meta.name, sizeof(ip.meta.name), "policy10");
	str_copy(ip.meta.version, sizeof(ip.meta.version), "a1b2c3d4e5f6");
	api_coll_add(&api_types[API_OBJ_IKE_POLICY], c, &ip);
	str_copy(psk.meta.id, sizeof(psk.meta.id), "1c7a9b63-4d2e-4f80-9ba1-2c3d4e5f6071");
	str_copy(psk.meta.name, sizeof(psk.meta.name), "peer1");
	str_copy(psk.meta.version, sizeof(psk.meta.version), "b1b2c3d4e5f6");
	psk.key = xstrdup("s3cret-key");
	api_coll_add(&api_types[API_OBJ_PSK], c, &psk);
	str_copy(xs.meta.id, sizeof(xs.meta.id), XS_ID);
	str_copy(xs.meta.name, sizeof(xs.meta.name), "GCM");
	str_copy(xs.meta.version, sizeof(xs.meta.version), "c1b2c3d4e5f6");
	api_coll_add(&api_types[API_OBJ_TRANSFORM_SET], c, &xs);
	str_copy(map.meta.id, sizeof(map.meta.id), "2d8b0c74-5e3f-4091-8cb2-3d4e5f607182");
	str_copy(map.meta.name, sizeof(map.meta.name), "MAP-10");
	str_copy(map.meta.version, sizeof(map.meta.version), "d1b2c3d4e5f6");
	str_copy(map.peers[0], CFG_HOST_MAX, "10.1.1.1");
	str_copy(map.transform_sets[0].id, UUID_STR_LEN, XS_ID);
	map.match[0].src = (struct cfg_prefix){ 0x0a000000, 24 };
	map.match[0].dst = (struct cfg_prefix){ 0x0a000100, 24 };
	api_coll_add(&api_types[API_OBJ_CRYPTO_MAP], c, &map);
}

/* One pool, dynamic map and user: a remote-access setup. */
static void
base_config_ra(struct config *c)
{
	struct cfg_ip_pool pool = { .start = 0x0a020101, .end = 0x0a0201fe,
				    .netmask = 0xffffffff };
	struct cfg_dynamic_map dyn = { .sequence = 10, .n_transform_sets = 1, .lifetime_s = 3600,
				       .lifetime_kb = 4608000, .config_initiate = true,
				       .config_respond = true, .dns = { 0x0a020201 }, .n_dns = 1,
				       .split = { { 0x0a020200, 24 } }, .n_split = 1,
				       .xauth = true };
	struct cfg_local_user user = { 0 };

	str_copy(pool.meta.id, sizeof(pool.meta.id), POOL_ID);
	str_copy(pool.meta.name, sizeof(pool.meta.name), "ourpool");
	str_copy(pool.meta.version, sizeof(pool.meta.version), "e1b2c3d4e5f6");
	api_coll_add(&api_types[API_OBJ_IP_POOL], c, &pool);
	str_copy(dyn.meta.id, sizeof(dyn.meta.id), DYN_ID);
	str_copy(dyn.meta.name, sizeof(dyn.meta.name), "dynmap-10");
	str_copy(dyn.meta.version, sizeof(dyn.meta.version), "f1b2c3d4e5f6");
	str_copy(dyn.transform_sets[0].id, UUID_STR_LEN, XS_ID);
	str_copy(dyn.address_pool.id, UUID_STR_LEN, POOL_ID);
	api_coll_add(&api_types[API_OBJ_DYNAMIC_MAP], c, &dyn);
	str_copy(user.meta.id, sizeof(user.meta.id), USER_ID);
	str_copy(user.meta.name, sizeof(user.meta.name), "alice");
	str_copy(user.meta.version, sizeof(user.meta.version), "g1b2c3d4e5f6");
	str_copy(user.password_hash, sizeof(user.password_hash), ALICE_HASH);
	api_coll_add(&api_types[API_OBJ_LOCAL_USER], c, &user);
}

/* GRE over IPsec: a tunnel interface, a crypto map line for its GRE. */
static void
base_config_gre(struct config *c)
{
	struct cfg_tunnel_if tun = { .addr = 0x0a0a0a02, .prefix_len = 30,
				     .source = 0x14010102, .destination = 0x14010101,
				     .mtu = 1420 };
	struct cfg_crypto_map *map = &c->crypto_maps[0];

	str_copy(tun.meta.id, sizeof(tun.meta.id), TUN_ID);
	str_copy(tun.meta.name, sizeof(tun.meta.name), "Tunnel0");
	str_copy(tun.meta.version, sizeof(tun.meta.version), "h1b2c3d4e5f6");
	api_coll_add(&api_types[API_OBJ_TUNNEL_IF], c, &tun);
	map->match[1] = (struct cfg_match){ .src = { .addr = 0x14010102, .len = 32 },
					    .dst = { .addr = 0x14010101, .len = 32 },
					    .proto = 47 };
	map->match[2] = (struct cfg_match){ .src = { .addr = 0x0a000000, .len = 24 },
					    .dst = { .addr = 0x0a000100, .len = 24 },
					    .proto = 6, .dst_port = 443 };
	map->n_match = 3;
}

/* A config holding one object of each referable type, with fixed ids. */
static struct config *
base_config(void)
{
	struct config *c = config_new();
	struct cfg_network n = { .subtype = CFG_NET_HOST };
	struct cfg_internal_cert ic = { 0 };
	struct cfg_ca_cert ca = { 0 };

	str_copy(n.meta.id, sizeof(n.meta.id), NET_ID);
	str_copy(n.meta.name, sizeof(n.meta.name), "TelemetryCollector");
	str_copy(n.meta.version, sizeof(n.meta.version), "p4qjmqtn5c5e");
	str_copy(n.value, sizeof(n.value), "10.1.1.1");
	api_coll_add(&api_types[API_OBJ_NETWORK], c, &n);
	str_copy(ic.meta.id, sizeof(ic.meta.id), INT_ID);
	str_copy(ic.meta.name, sizeof(ic.meta.name), "FTD1Cert");
	str_copy(ic.meta.version, sizeof(ic.meta.version), "gr573izgdsj2o");
	ic.cert_pem = xstrdup(cert_a);
	ic.key_pem = xstrdup(key_a);
	api_coll_add(&api_types[API_OBJ_INTERNAL_CERT], c, &ic);
	str_copy(ca.meta.id, sizeof(ca.meta.id), CA_ID);
	str_copy(ca.meta.name, sizeof(ca.meta.name), "TelemetryCollectorCert");
	str_copy(ca.meta.version, sizeof(ca.meta.version), "fkry47nobvcnu");
	ca.cert_pem = xstrdup(cert_b);
	api_coll_add(&api_types[API_OBJ_CA_CERT], c, &ca);
	base_config_vpn(c);
	base_config_ra(c);
	base_config_gre(c);
	return c;
}

static json_t *
valid_body(enum api_obj type)
{
	switch (type) {
	case API_OBJ_NETWORK:
		return json_pack("{s:s, s:s, s:s}", "name", "n1", "subType", "HOST", "value",
				 "10.1.1.1");
	case API_OBJ_INTERNAL_CERT:
		return json_pack("{s:s, s:s, s:s}", "name", "c1", "cert", cert_a, "privateKey",
				 key_a);
	case API_OBJ_CA_CERT:
		return json_pack("{s:s, s:s}", "name", "ca1", "cert", cert_b);
	case API_OBJ_IKE_POLICY:
		return json_pack("{s:s, s:i, s:s, s:s, s:s, s:i}", "name", "p20", "priority", 20,
				 "encryption", "aes-256", "hash", "sha256", "authentication",
				 "pre-share", "group", 19);
	case API_OBJ_PSK:
		return json_pack("{s:s, s:s, s:s}", "name", "k2", "key", "k", "address",
				 "10.2.2.2");
	case API_OBJ_TRANSFORM_SET:
		return json_pack("{s:s, s:s, s:s}", "name", "CBC", "esp", "esp-aes-256", "auth",
				 "esp-sha256-hmac");
	case API_OBJ_CRYPTO_MAP:
		return json_pack("{s:s, s:i, s:[s], s:[{s:s}], s:[{s:s, s:s}]}", "name", "MAP-20",
				 "sequence", 20, "peers", "vpn.example.com", "transformSets",
				 "id", XS_ID, "matchAddress", "source", "10.0.0.0/24",
				 "destination", "10.0.2.0/24");
	case API_OBJ_IP_POOL:
		return json_pack("{s:s, s:s, s:s}", "name", "pool2", "start", "10.3.0.1", "end",
				 "10.3.0.254");
	case API_OBJ_DYNAMIC_MAP:
		return json_pack("{s:s, s:i, s:[{s:s}], s:{s:s}, s:{s:b}, s:[s], s:[s], s:b}",
				 "name", "dyn20", "sequence", 20, "transformSets", "id", XS_ID,
				 "addressPool", "id", POOL_ID, "clientConfiguration", "initiate", 1,
				 "dnsServers", "10.2.2.1", "splitTunnel", "10.2.2.0/24", "xauth", 1);
	case API_OBJ_LOCAL_USER:
		return json_pack("{s:s, s:s}", "name", "bob", "password", "bob-pass");
	case API_OBJ_TUNNEL_IF:
		return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", "Tunnel1", "address",
				 "10.10.20.1/30", "tunnelSource", "20.1.1.1", "tunnelDestination",
				 "20.1.1.3", "mtu", 1400);
	case API_OBJ_DPD:
		return json_pack("{s:s, s:i}", "name", "dpd", "keepaliveSeconds", 10);
	case API_OBJ_IKE_SETTINGS:
		return json_pack("{s:s, s:s}", "name", "ike", "identity", "hostname");
	default:
		return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:{s:s}, s:s}",
				 "name", "YourCompanyTelemetry", "connectionMode", "DIAL_OUT",
				 "port", "50051", "targetHost", "name", "TelemetryCollector", "id",
				 NET_ID, "type", "networkobject", "clientCertificate", "id", INT_ID,
				 "type", "internalcertificate", "caCertificate", "id", CA_ID, "type",
				 "telemetrystreamingconfig");
	}
}

/* decode + the type's check, as POST runs them. */
static int
decode_checked(enum api_obj type, json_t *in, const struct config *cfg, void *obj,
	       struct api_err *err)
{
	const struct api_type *t = &api_types[type];
	struct api_dec d = { .mode = API_DEC_CREATE, .cfg = cfg };

	if (api_obj_decode(t, in, &d, obj, err) == -1)
		return -1;
	if (t->check != NULL && t->check(obj, err) == -1) {
		api_obj_clear(t, obj);
		return -1;
	}
	return 0;
}

static void
test_valid_bodies_decode(void **state)
{
	struct config *cfg = base_config();

	for (int type = 0; type < API_OBJ__COUNT; type++) {
		const struct api_type *t = &api_types[type];
		json_t *in = valid_body(type);
		void *obj = xcalloc(1, t->size);
		struct api_err err = { 0 };

		if (decode_checked(type, in, cfg, obj, &err) == -1)
			fail_msg("%s: %s (%s)", t->type, err.message, err.field);
		api_obj_clear(t, obj);
		free(obj);
		json_decref(in);
	}
	config_free(cfg);
}

struct bad_case {
	enum api_obj type;
	const char  *key;	/* changed in the valid body */
	const char  *value;	/* JSON text, NULL: delete the key */
	const char  *field;	/* expected err.field */
};

static const struct bad_case bad_cases[] = {
	{ API_OBJ_NETWORK, "name", NULL, "name" },
	{ API_OBJ_NETWORK, "name", "\"\"", "name" },
	{ API_OBJ_NETWORK, "name", "5", "name" },
	{ API_OBJ_NETWORK, "name", "\"a\\u0000b\"", "name" },
	{ API_OBJ_NETWORK, "name", "\"a\\tb\"", "name" },
	{ API_OBJ_NETWORK, "subType", "\"RANGE\"", "subType" },
	{ API_OBJ_NETWORK, "subType", NULL, "subType" },
	{ API_OBJ_NETWORK, "value", "\"10.1.1\"", "value" },
	{ API_OBJ_NETWORK, "value", "\"10.1.1.256\"", "value" },
	{ API_OBJ_NETWORK, "value", "\"collector.example.com\"", "value" },
	{ API_OBJ_NETWORK, "description", "7", "description" },
	{ API_OBJ_NETWORK, "colour", "\"red\"", "colour" },
	{ API_OBJ_NETWORK, "type", "\"internalcertificate\"", "type" },
	{ API_OBJ_INTERNAL_CERT, "cert", "\"not a certificate\"", "cert" },
	{ API_OBJ_INTERNAL_CERT, "cert", NULL, "cert" },
	{ API_OBJ_INTERNAL_CERT, "privateKey", "\"not a key\"", "privateKey" },
	{ API_OBJ_INTERNAL_CERT, "privateKey", NULL, "privateKey" },
	{ API_OBJ_CA_CERT, "cert", "\"-----BEGIN CERTIFICATE-----\\nAAAA\\n\"", "cert" },
	{ API_OBJ_CA_CERT, "cert", "[]", "cert" },
	{ API_OBJ_TELEMETRY, "port", "0", "port" },
	{ API_OBJ_TELEMETRY, "port", "65536", "port" },
	{ API_OBJ_TELEMETRY, "port", "\"abc\"", "port" },
	{ API_OBJ_TELEMETRY, "port", "\"-1\"", "port" },
	{ API_OBJ_TELEMETRY, "port", "50051.5", "port" },
	{ API_OBJ_TELEMETRY, "port", "true", "port" },
	{ API_OBJ_TELEMETRY, "port", NULL, "port" },
	{ API_OBJ_TELEMETRY, "connectionMode", "\"DIAL_IN\"", "connectionMode" },
	{ API_OBJ_TELEMETRY, "targetHost", NULL, "targetHost" },
	{ API_OBJ_TELEMETRY, "targetHost", "\"" NET_ID "\"", "targetHost" },
	{ API_OBJ_TELEMETRY, "targetHost", "{}", "targetHost.id" },
	{ API_OBJ_TELEMETRY, "targetHost", "{\"id\": 5}", "targetHost.id" },
	{ API_OBJ_TELEMETRY, "targetHost", "{\"id\": \"79ee2ea9-0000-41ef-9515-f5b34b7d9531\"}",
	  "targetHost.id" },
	{ API_OBJ_TELEMETRY, "targetHost", "{\"id\": \"" INT_ID "\"}", "targetHost.id" },
	{ API_OBJ_TELEMETRY, "targetHost", "{\"id\": \"" NET_ID "\", \"name\": \"Other\"}",
	  "targetHost.name" },
	{ API_OBJ_TELEMETRY, "targetHost", "{\"id\": \"" NET_ID "\", \"type\": \"x\"}",
	  "targetHost.type" },
	{ API_OBJ_TELEMETRY, "targetHost", "{\"id\": \"" NET_ID "\", \"colour\": 1}",
	  "targetHost.colour" },
	{ API_OBJ_TELEMETRY, "clientCertificate", "{\"id\": \"" CA_ID "\"}",
	  "clientCertificate.id" },
	{ API_OBJ_TELEMETRY, "caCertificate", "{\"id\": \"" INT_ID "\"}", "caCertificate.id" },
	{ API_OBJ_TELEMETRY, "retryIntervalSeconds", "0", "retryIntervalSeconds" },
	{ API_OBJ_TELEMETRY, "minIntervalSeconds", "86401", "minIntervalSeconds" },
	{ API_OBJ_TELEMETRY, "minIntervalSeconds", "\"x\"", "minIntervalSeconds" },
	{ API_OBJ_IP_POOL, "start", NULL, "start" },
	{ API_OBJ_IP_POOL, "start", "\"10.3.0\"", "start" },
	{ API_OBJ_IP_POOL, "start", "\"0.1.2.3\"", "start" },
	{ API_OBJ_IP_POOL, "start", "\"127.0.0.1\"", "start" },
	{ API_OBJ_IP_POOL, "end", NULL, "end" },
	{ API_OBJ_IP_POOL, "end", "\"10.2.255.255\"", "end" },	/* below start */
	{ API_OBJ_IP_POOL, "end", "\"10.4.0.1\"", "end" },		/* 65537 addresses */
	{ API_OBJ_IP_POOL, "end", "\"224.0.0.1\"", "end" },
	{ API_OBJ_IP_POOL, "netmask", "\"255.0.255.0\"", "netmask" },
	{ API_OBJ_IP_POOL, "netmask", "\"0.0.0.0\"", "netmask" },
	{ API_OBJ_IP_POOL, "netmask", "24", "netmask" },
	{ API_OBJ_IP_POOL, "size", "10", "size" },
	{ API_OBJ_DYNAMIC_MAP, "sequence", "0", "sequence" },
	{ API_OBJ_DYNAMIC_MAP, "sequence", NULL, "sequence" },
	{ API_OBJ_DYNAMIC_MAP, "transformSets", NULL, "transformSets" },
	{ API_OBJ_DYNAMIC_MAP, "transformSets", "[]", "transformSets" },
	{ API_OBJ_DYNAMIC_MAP, "transformSets", "[{\"id\": \"" XS_ID "\"}, {\"id\": \"" XS_ID
	  "\"}]", "transformSets[1]" },
	{ API_OBJ_DYNAMIC_MAP, "transformSets", "[{\"id\": \"" POOL_ID "\"}]",
	  "transformSets[0].id" },
	{ API_OBJ_DYNAMIC_MAP, "matchAddress", "[{\"source\": \"10.2.2.0/24\"}]",
	  "matchAddress[0].destination" },
	{ API_OBJ_DYNAMIC_MAP, "matchAddress", "{}", "matchAddress" },
	{ API_OBJ_DYNAMIC_MAP, "pfs", "\"group2\"", "pfs" },
	{ API_OBJ_DYNAMIC_MAP, "lifetimeSeconds", "119", "lifetimeSeconds" },
	{ API_OBJ_DYNAMIC_MAP, "lifetimeKilobytes", "2559", "lifetimeKilobytes" },
	{ API_OBJ_DYNAMIC_MAP, "addressPool", "\"" POOL_ID "\"", "addressPool" },
	{ API_OBJ_DYNAMIC_MAP, "addressPool", "{}", "addressPool.id" },
	{ API_OBJ_DYNAMIC_MAP, "addressPool", "{\"id\": \"\"}", "addressPool.id" },
	{ API_OBJ_DYNAMIC_MAP, "addressPool", "{\"id\": \"" XS_ID "\"}", "addressPool.id" },
	{ API_OBJ_DYNAMIC_MAP, "addressPool", "{\"id\": \"" POOL_ID "\", \"type\": "
	  "\"transformset\"}", "addressPool.type" },
	{ API_OBJ_DYNAMIC_MAP, "clientConfiguration", "true", "clientConfiguration" },
	{ API_OBJ_DYNAMIC_MAP, "clientConfiguration", "{\"initiate\": 1}",
	  "clientConfiguration.initiate" },
	{ API_OBJ_DYNAMIC_MAP, "clientConfiguration", "{\"respond\": \"yes\"}",
	  "clientConfiguration.respond" },
	{ API_OBJ_DYNAMIC_MAP, "clientConfiguration", "{\"push\": true}",
	  "clientConfiguration.push" },
	{ API_OBJ_DYNAMIC_MAP, "clientConfiguration", "{\"respond\": false}",
	  "clientConfiguration" },	/* a pool, and neither way to hand it out */
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "\"10.2.2.1\"", "dnsServers" },
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "[\"10.2.2.1\", \"10.2.2.2\", \"10.2.2.3\"]",
	  "dnsServers" },
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "[\"10.2.2\"]", "dnsServers[0]" },
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "[\"0.0.0.0\"]", "dnsServers[0]" },
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "[\"10.2.2.1\", \"224.0.0.251\"]",
	  "dnsServers[1]" },
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "[\"10.2.2.1\", \"10.2.2.1\"]", "dnsServers[1]" },
	{ API_OBJ_DYNAMIC_MAP, "dnsServers", "[\"10.2.2.1\", null]", "dnsServers[1]" },
	{ API_OBJ_DYNAMIC_MAP, "splitTunnel", "[\"10.2.2.1/24\"]", "splitTunnel[0]" },
	{ API_OBJ_DYNAMIC_MAP, "splitTunnel", "[\"10.2.2.0/33\"]", "splitTunnel[0]" },
	{ API_OBJ_DYNAMIC_MAP, "splitTunnel", "[\"10.2.2.0/24\", \"10.2.2.0/24\"]",
	  "splitTunnel[1]" },
	{ API_OBJ_DYNAMIC_MAP, "splitTunnel", "[\"10.0.0.0/8\", 8]", "splitTunnel[1]" },
	{ API_OBJ_DYNAMIC_MAP, "xauth", "\"yes\"", "xauth" },
	{ API_OBJ_DYNAMIC_MAP, "peers", "[\"192.0.2.1\"]", "peers" },
	{ API_OBJ_LOCAL_USER, "password", NULL, "password" },
	{ API_OBJ_LOCAL_USER, "password", "\"\"", "password" },
	{ API_OBJ_LOCAL_USER, "password", "\"two\\nlines\"", "password" },
	{ API_OBJ_LOCAL_USER, "password", "\"tab\\there\"", "password" },
	{ API_OBJ_LOCAL_USER, "password", "\"a\\u0000b\"", "password" },
	{ API_OBJ_LOCAL_USER, "password", "42", "password" },
	{ API_OBJ_LOCAL_USER, "passwordHash", "\"" ALICE_HASH "\"", "password" },	/* both */
	{ API_OBJ_LOCAL_USER, "name", "\"\"", "name" },
};

static const char *
leaf(const char *field)
{
	const char *dot = strrchr(field, '.');

	return dot ? dot + 1 : field;
}

static void
test_errors_name_the_field(void **state)
{
	struct config *cfg = base_config();

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		const struct api_type *t = &api_types[bc->type];
		json_t *in = valid_body(bc->type), *v;
		void *obj = xcalloc(1, t->size);
		struct api_err err = { 0 };
		json_error_t jerr;

		if (bc->value == NULL) {
			json_object_del(in, bc->key);
		} else {
			v = json_loads(bc->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
			if (v == NULL)
				fail_msg("case %zu: bad JSON %s: %s", i, bc->value, jerr.text);
			json_object_set_new(in, bc->key, v);
		}
		if (decode_checked(bc->type, in, cfg, obj, &err) == 0)
			fail_msg("case %zu (%s %s=%s) was accepted", i, t->type, bc->key,
				 bc->value ? bc->value : "(absent)");
		if (strcmp(err.field, bc->field) != 0 || err.status != 400 ||
		    strstr(err.message, leaf(bc->field)) == NULL)
			fail_msg("case %zu (%s %s): got %d field \"%s\" message \"%s\"", i, t->type,
				 bc->key, err.status, err.field, err.message);
		free(obj);
		json_decref(in);
	}
	config_free(cfg);
}

static void
test_not_an_object(void **state)
{
	struct api_dec d = { .mode = API_DEC_CREATE };
	struct cfg_network n = { 0 };
	struct api_err err = { 0 };
	json_t *in = json_pack("[i]", 1);

	assert_int_equal(api_obj_decode(&api_types[API_OBJ_NETWORK], in, &d, &n, &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.field, "");
	json_decref(in);
}

static void
test_long_name(void **state)
{
	struct api_dec d = { .mode = API_DEC_CREATE };
	struct cfg_network n = { 0 };
	struct api_err err = { 0 };
	char name[CFG_NAME_MAX + 1];
	json_t *in;

	memset(name, 'a', CFG_NAME_MAX);
	name[CFG_NAME_MAX] = '\0';
	in = json_pack("{s:s, s:s, s:s}", "name", name, "subType", "HOST", "value", "1.2.3.4");
	assert_int_equal(api_obj_decode(&api_types[API_OBJ_NETWORK], in, &d, &n, &err), -1);
	assert_string_equal(err.field, "name");
	name[CFG_NAME_MAX - 1] = '\0';
	json_object_set_new(in, "name", json_string(name));
	assert_int_equal(api_obj_decode(&api_types[API_OBJ_NETWORK], in, &d, &n, &err), 0);
	assert_string_equal(n.meta.name, name);
	api_obj_clear(&api_types[API_OBJ_NETWORK], &n);
	json_decref(in);
}

static void
test_network_api_view(void **state)
{
	struct config *cfg = base_config();
	const struct api_type *t = &api_types[API_OBJ_NETWORK];
	json_t *j = api_obj_encode(t, &cfg->networks[0], cfg, "http://ftd1:9276/api/v1");
	const char *keys[] = { "version", "name", "description", "subType", "value", "id",
			       "type", "links" };
	void *iter = json_object_iter(j);

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++, iter =
	     json_object_iter_next(j, iter)) {
		assert_non_null(iter);
		assert_string_equal(json_object_iter_key(iter), keys[i]);
	}
	assert_null(iter);
	assert_true(json_is_null(json_object_get(j, "description")));
	assert_string_equal(json_string_value(json_object_get(j, "subType")), "HOST");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "networkobject");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "links"),
							      "self")),
			    "http://ftd1:9276/api/v1/object/networks/" NET_ID);
	json_decref(j);
	config_free(cfg);
}

static void
test_telemetry_decode_encode(void **state)
{
	struct config *cfg = base_config();
	const struct api_type *t = &api_types[API_OBJ_TELEMETRY];
	struct cfg_telemetry tel = { 0 };
	struct api_err err = { 0 };
	json_t *in = valid_body(API_OBJ_TELEMETRY), *out, *ref;

	assert_int_equal(decode_checked(API_OBJ_TELEMETRY, in, cfg, &tel, &err), 0);
	assert_int_equal(tel.port, 50051);	/* a numeric string, as the template shows */
	assert_int_equal(tel.retry_interval_s, 300);
	assert_int_equal(tel.min_interval_s, 60);
	assert_string_equal(tel.target_host.id, NET_ID);
	assert_string_equal(tel.client_cert.id, INT_ID);
	assert_string_equal(tel.ca_cert.id, CA_ID);

	out = api_obj_encode(t, &tel, cfg, "http://h/api/v1");
	assert_int_equal(json_integer_value(json_object_get(out, "port")), 50051);
	assert_string_equal(json_string_value(json_object_get(out, "connectionMode")), "DIAL_OUT");
	assert_int_equal(json_integer_value(json_object_get(out, "retryIntervalSeconds")), 300);
	ref = json_object_get(out, "targetHost");
	assert_string_equal(json_string_value(json_object_get(ref, "version")), "p4qjmqtn5c5e");
	assert_string_equal(json_string_value(json_object_get(ref, "name")), "TelemetryCollector");
	assert_string_equal(json_string_value(json_object_get(ref, "id")), NET_ID);
	assert_string_equal(json_string_value(json_object_get(ref, "type")), "networkobject");
	ref = json_object_get(out, "caCertificate");
	assert_string_equal(json_string_value(json_object_get(ref, "type")),
			    "externalcacertificate");
	assert_string_equal(json_string_value(json_object_get(ref, "version")), "fkry47nobvcnu");

	/* An integer port and explicit intervals. */
	json_object_set_new(in, "port", json_integer(1));
	json_object_set_new(in, "minIntervalSeconds", json_integer(1));
	json_object_set_new(in, "retryIntervalSeconds", json_string("86400"));
	api_obj_clear(t, &tel);
	assert_int_equal(decode_checked(API_OBJ_TELEMETRY, in, cfg, &tel, &err), 0);
	assert_int_equal(tel.port, 1);
	assert_int_equal(tel.min_interval_s, 1);
	assert_int_equal(tel.retry_interval_s, 86400);
	json_decref(out);
	json_decref(in);
	config_free(cfg);
}

static void
test_secrets_never_in_api_view(void **state)
{
	struct config *cfg = base_config();
	const struct api_type *t = &api_types[API_OBJ_INTERNAL_CERT];
	json_t *api = api_obj_encode(t, &cfg->internal_certs[0], cfg, "http://h/api/v1");
	json_t *stored = api_obj_encode(t, &cfg->internal_certs[0], cfg, NULL);
	char *text = api_json_text(api);

	assert_null(json_object_get(api, "privateKey"));
	assert_null(strstr(text, "PRIVATE KEY"));
	assert_null(strstr(text, "privateKey"));
	assert_non_null(json_object_get(api, "cert"));
	/* The stored view keeps it (config.json is 0600), without links. */
	assert_string_equal(json_string_value(json_object_get(stored, "privateKey")), key_a);
	assert_null(json_object_get(stored, "links"));
	free(text);
	json_decref(api);
	json_decref(stored);
	config_free(cfg);
}

/* encode(stored) → decode(store mode) → encode again: the same JSON. */
static void
test_store_round_trip(void **state)
{
	struct config *cfg = base_config();
	struct api_err err = { 0 };
	struct cfg_telemetry tel = { 0 };
	json_t *in = valid_body(API_OBJ_TELEMETRY);

	assert_int_equal(decode_checked(API_OBJ_TELEMETRY, in, cfg, &tel, &err), 0);
	str_copy(tel.meta.id, sizeof(tel.meta.id), "b6dc6f28-76c1-41ef-9515-8ff976794f92");
	api_version_new(tel.meta.version);
	tel.meta.description = xstrdup("multi\nline");
	api_coll_add(&api_types[API_OBJ_TELEMETRY], cfg, &tel);

	for (int type = 0; type < API_OBJ__COUNT; type++) {
		const struct api_type *t = &api_types[type];
		const void *obj = api_coll_at(t, cfg, 0);
		json_t *a = api_obj_encode(t, obj, cfg, NULL), *b;
		struct api_dec d = { .mode = API_DEC_STORE };
		void *copy = xcalloc(1, t->size);

		if (api_obj_decode(t, a, &d, copy, &err) == -1)
			fail_msg("%s: %s (%s)", t->type, err.message, err.field);
		b = api_obj_encode(t, copy, cfg, NULL);
		assert_true(json_equal(a, b));
		assert_string_equal(api_cmeta(copy)->id, api_cmeta(obj)->id);
		assert_string_equal(api_cmeta(copy)->version, api_cmeta(obj)->version);
		api_obj_clear(t, copy);
		free(copy);
		json_decref(a);
		json_decref(b);
	}
	json_decref(in);
	config_free(cfg);
}

static void
test_store_needs_id_and_version(void **state)
{
	const struct api_type *t = &api_types[API_OBJ_NETWORK];
	struct api_dec d = { .mode = API_DEC_STORE };
	struct cfg_network n = { 0 };
	struct api_err err = { 0 };
	json_t *in = valid_body(API_OBJ_NETWORK);

	assert_int_equal(api_obj_decode(t, in, &d, &n, &err), -1);
	assert_string_equal(err.field, "id");
	json_object_set_new(in, "id", json_string("not-a-uuid"));
	assert_int_equal(api_obj_decode(t, in, &d, &n, &err), -1);
	assert_string_equal(err.field, "id");
	json_object_set_new(in, "id", json_string(NET_ID));
	assert_int_equal(api_obj_decode(t, in, &d, &n, &err), -1);
	assert_string_equal(err.field, "version");
	json_object_set_new(in, "version", json_string("abc"));
	assert_int_equal(api_obj_decode(t, in, &d, &n, &err), 0);
	json_decref(in);
}

static void
test_put_keeps_private_key(void **state)
{
	struct config *cfg = base_config();
	const struct api_type *t = &api_types[API_OBJ_INTERNAL_CERT];
	struct api_dec d = { .mode = API_DEC_UPDATE, .cfg = cfg, .old = &cfg->internal_certs[0] };
	struct cfg_internal_cert c = { 0 };
	struct api_err err = { 0 };
	json_t *in = json_pack("{s:s, s:s, s:s}", "name", "renamed", "cert", cert_a, "version",
			       "gr573izgdsj2o");

	assert_int_equal(api_obj_decode(t, in, &d, &c, &err), 0);
	assert_string_equal(c.key_pem, key_a);
	assert_ptr_not_equal(c.key_pem, cfg->internal_certs[0].key_pem);
	assert_int_equal(t->check(&c, &err), 0);
	api_obj_clear(t, &c);

	/* null keeps it too; a new cert with the old key does not match. */
	json_object_set_new(in, "privateKey", json_null());
	json_object_set_new(in, "cert", json_string(cert_b));
	assert_int_equal(api_obj_decode(t, in, &d, &c, &err), 0);
	assert_int_equal(t->check(&c, &err), -1);
	assert_string_equal(err.field, "privateKey");
	api_obj_clear(t, &c);

	/* POST has no old key: required. */
	d.mode = API_DEC_CREATE;
	d.old = NULL;
	assert_int_equal(api_obj_decode(t, in, &d, &c, &err), -1);
	assert_string_equal(err.field, "privateKey");
	json_decref(in);
	config_free(cfg);
}

/* A password is hashed as it arrives; the hash is in the stored view only,
 * and neither is ever in the API view. */
static void
test_local_user_password(void **state)
{
	struct config *cfg = base_config();
	const struct api_type *t = &api_types[API_OBJ_LOCAL_USER];
	struct api_dec d = { .mode = API_DEC_CREATE, .cfg = cfg };
	struct cfg_local_user u = { 0 };
	struct api_err err = { 0 };
	json_t *api = api_obj_encode(t, &cfg->local_users[0], cfg, "http://h/api/v1");
	json_t *stored = api_obj_encode(t, &cfg->local_users[0], cfg, NULL), *in;
	char *text = api_json_text(api);

	assert_null(json_object_get(api, "password"));
	assert_null(json_object_get(api, "passwordHash"));
	assert_null(strstr(text, "$scrypt$"));
	assert_null(strstr(text, "assword"));
	assert_string_equal(json_string_value(json_object_get(stored, "passwordHash")),
			    ALICE_HASH);
	assert_null(json_object_get(stored, "password"));
	free(text);

	/* POST: the password becomes a fresh hash of it */
	in = json_pack("{s:s, s:s}", "name", "bob", "password", "bob-pass");
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), 0);
	assert_int_equal(passwd_verify("bob-pass", u.password_hash), 1);
	assert_int_equal(passwd_verify("bob-pasS", u.password_hash), 0);
	api_obj_clear(t, &u);
	assert_int_equal(u.password_hash[0], '\0');	/* wiped */
	json_decref(in);
	/* ...or a hash made elsewhere, taken as it is */
	in = json_pack("{s:s, s:s}", "name", "bob", "passwordHash", ALICE_HASH);
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), 0);
	assert_string_equal(u.password_hash, ALICE_HASH);
	api_obj_clear(t, &u);
	json_object_set_new(in, "passwordHash", json_string("$scrypt$ln=9,r=8,p=1$"
							    "AAECAwQFBgcICQoLDA0ODw$x"));
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), -1);
	assert_string_equal(err.field, "passwordHash");
	assert_null(strstr(err.message, "AAECAwQFBgcICQoLDA0ODw"));	/* not echoed */
	json_decref(in);

	/* PUT: left out keeps the stored hash; a new password replaces it */
	d.mode = API_DEC_UPDATE;
	d.old = &cfg->local_users[0];
	in = json_pack("{s:s, s:s}", "name", "alice", "version", "g1b2c3d4e5f6");
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), 0);
	assert_string_equal(u.password_hash, ALICE_HASH);
	api_obj_clear(t, &u);
	json_object_set_new(in, "password", json_null());
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), 0);
	assert_string_equal(u.password_hash, ALICE_HASH);
	api_obj_clear(t, &u);
	json_object_set_new(in, "password", json_string("new-pass"));
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), 0);
	assert_string_not_equal(u.password_hash, ALICE_HASH);
	assert_int_equal(passwd_verify("new-pass", u.password_hash), 1);
	api_obj_clear(t, &u);
	json_decref(in);

	/* config.json holds hashes only: a password there is refused */
	d.mode = API_DEC_STORE;
	d.old = NULL;
	in = json_pack("{s:s, s:s, s:s, s:s}", "id", USER_ID, "version", "v1", "name", "carol",
		       "password", "carol-pass");
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), -1);
	assert_string_equal(err.field, "password");
	assert_non_null(strstr(err.message, "passwordHash"));
	json_object_del(in, "password");
	assert_int_equal(api_obj_decode(t, in, &d, &u, &err), -1);
	assert_string_equal(err.field, "password");
	assert_non_null(strstr(err.message, "passwordHash"));
	json_decref(in);

	json_decref(api);
	json_decref(stored);
	config_free(cfg);
}

static void
test_key_in_ca_cert_refused(void **state)
{
	struct cfg_ca_cert ca = { 0 };
	struct api_err err = { 0 };
	size_t n = strlen(cert_b) + strlen(key_b) + strlen(cert_a) + 1;
	char *both = xmalloc(n);

	snprintf(both, n, "%s%s", cert_b, key_b);
	ca.cert_pem = both;
	assert_int_equal(api_types[API_OBJ_CA_CERT].check(&ca, &err), -1);
	assert_string_equal(err.field, "cert");
	assert_non_null(strstr(err.message, "private key"));
	snprintf(both, n, "%s%s", cert_b, cert_a);	/* a bundle is fine */
	assert_int_equal(api_types[API_OBJ_CA_CERT].check(&ca, &err), 0);
	free(both);
}

static void
test_config_validate(void **state)
{
	struct config *cfg = base_config();
	struct cfg_network dup = { .subtype = CFG_NET_HOST };
	struct cfg_telemetry tel = { .port = 1 };
	struct api_err err = { 0 };

	assert_int_equal(api_config_validate(cfg, 1, &err), 0);

	str_copy(tel.meta.id, sizeof(tel.meta.id), "b6dc6f28-76c1-41ef-9515-8ff976794f92");
	str_copy(tel.meta.name, sizeof(tel.meta.name), "tel");
	str_copy(tel.target_host.id, sizeof(tel.target_host.id), NET_ID);
	str_copy(tel.client_cert.id, sizeof(tel.client_cert.id), INT_ID);
	str_copy(tel.ca_cert.id, sizeof(tel.ca_cert.id), INT_ID);	/* wrong type */
	api_coll_add(&api_types[API_OBJ_TELEMETRY], cfg, &tel);
	assert_int_equal(api_config_validate(cfg, 0, &err), -1);
	assert_string_equal(err.field, "telemetrystreamingconfig[0].caCertificate.id");
	assert_non_null(strstr(err.message, INT_ID));
	str_copy(cfg->telemetry->ca_cert.id, UUID_STR_LEN, CA_ID);
	assert_int_equal(api_config_validate(cfg, 1, &err), 0);

	/* Who refers to the network: the telemetry config, by name. */
	assert_int_equal(api_referrers_check(cfg, &api_types[API_OBJ_NETWORK], NET_ID, &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "\"tel\""));
	assert_non_null(strstr(err.message, "targetHost"));
	assert_int_equal(api_referrers_check(cfg, &api_types[API_OBJ_CA_CERT], "x", &err), 0);

	str_copy(dup.meta.id, sizeof(dup.meta.id), "00000000-0000-4000-8000-000000000000");
	str_copy(dup.meta.name, sizeof(dup.meta.name), "TelemetryCollector");
	str_copy(dup.value, sizeof(dup.value), "10.0.0.1");
	api_coll_add(&api_types[API_OBJ_NETWORK], cfg, &dup);
	assert_int_equal(api_config_validate(cfg, 0, &err), -1);
	assert_int_equal(err.status, 409);
	assert_string_equal(err.field, "networks[1].name");
	assert_non_null(api_name_find(&api_types[API_OBJ_NETWORK], cfg, "TelemetryCollector",
				      NET_ID));
	assert_null(api_name_find(&api_types[API_OBJ_NETWORK], cfg, "nope", NULL));

	/* Removing from the middle and the single telemetry pointer. */
	api_coll_remove(&api_types[API_OBJ_NETWORK], cfg, 0);
	assert_int_equal(cfg->n_networks, 1);
	assert_string_equal(cfg->networks[0].value, "10.0.0.1");
	api_coll_remove(&api_types[API_OBJ_TELEMETRY], cfg, 0);
	assert_null(cfg->telemetry);
	config_free(cfg);
}

static void
test_ipv4_and_hostnames(void **state)
{
	const char *good4[] = { "10.1.1.1", "0.0.0.0", "255.255.255.255", "192.168.97.90" };
	const char *bad4[] = { "", "10.1.1", "10.1.1.1.1", "256.1.1.1", "01.1.1.1", "1..1.1",
			       "1.1.1.1 ", "a.b.c.d", "1.1.1.-1", "1234.1.1.1" };
	const char *goodh[] = { "telemetry.domain.com", "localhost", "a-b.example.", "x1",
				"ftd1.domain.com" };
	const char *badh[] = { "", "-a.com", "a-.com", "a..com", ".a.com", "a_b.com", "a b",
			       "10.1.1.1", "exa$mple.com" };

	for (size_t i = 0; i < sizeof(good4) / sizeof(good4[0]); i++)
		assert_true(ipv4_valid(good4[i]));
	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		if (ipv4_valid(bad4[i]))
			fail_msg("\"%s\" accepted as IPv4", bad4[i]);
	for (size_t i = 0; i < sizeof(goodh) / sizeof(goodh[0]); i++)
		if (!hostname_valid(goodh[i]))
			fail_msg("\"%s\" refused as a host name", goodh[i]);
	for (size_t i = 0; i < sizeof(badh) / sizeof(badh[0]); i++)
		if (hostname_valid(badh[i]))
			fail_msg("\"%s\" accepted as a host name", badh[i]);
}

static void
test_versions(void **state)
{
	char a[CFG_VERSION_LEN], b[CFG_VERSION_LEN];

	for (int i = 0; i < 200; i++) {
		size_t n;

		api_version_new(a);
		n = strlen(a);
		assert_true(n == 12 || n == 13);
		assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789"), n);
	}
	api_version_new(b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_bodies_decode),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_network_api_view),
		cmocka_unit_test(test_telemetry_decode_encode),
		cmocka_unit_test(test_secrets_never_in_api_view),
		cmocka_unit_test(test_store_round_trip),
		cmocka_unit_test(test_store_needs_id_and_version),
		cmocka_unit_test(test_put_keeps_private_key),
		cmocka_unit_test(test_local_user_password),
		cmocka_unit_test(test_key_in_ca_cert_refused),
		cmocka_unit_test(test_config_validate),
		cmocka_unit_test(test_ipv4_and_hostnames),
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
