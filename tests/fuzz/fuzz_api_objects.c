/*
 * libFuzzer: arbitrary bytes as the body of a POST or PUT through decode
 * and the type's check, as the API runs them. Byte 0 picks the type, the
 * method, and whether the rest is the whole body or (byte 1 picks a key)
 * one JSON value put into a valid body, to get past the first field from an
 * empty corpus. Every type is covered, the VPN ones (lists, nested match
 * lines, prefixes, legacy refusals, singletons) and the remote-access ones
 * (pools, dynamic maps with their optional pool reference and nested
 * clientConfiguration, users with a password or a password hash), the
 * ike settings' certificate, trusted CAs and CRLs (R-16: real certificates,
 * so the checks against the objects around, check_cfg, parse them) and GRE
 * over IPsec (R-17: match lines with protocols and ports, tunnel interfaces
 * checked against a stored one) included.
 * What is accepted must survive the stored view unchanged; the API view
 * never shows a secret (key, password, password hash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/api_int.h"
#include "test_pki.h"
#include "core/log.h"

#define NET_ID "79ee2ea9-76b7-41ef-9515-f5b34b7d9531"
#define INT_ID "d874dfa3-7423-41ef-b3a0-09429aedc3d3"
#define CA_ID  "c3d925b4-7423-41ef-b3a0-bf815c0136ac"
#define TEL_ID "b6dc6f28-76c1-41ef-9515-8ff976794f92"
#define POL_ID "0b6f8a52-3c1d-4e7f-8a90-1b2c3d4e5f60"
#define PSK_ID "1c7a9b63-4d2e-4f80-9ba1-2c3d4e5f6071"
#define XS_ID  "5a1e3c7d-0b2f-4e8a-9c61-7d3e2f1a0b4c"
#define MAP_ID "2d8b0c74-5e3f-4091-8cb2-3d4e5f607182"
#define POOL_ID "3e9c1d85-6f40-41a2-9dc3-4e5f60718293"
#define DYN_ID  "4fad2e96-7051-42b3-8ed4-5f60718293a4"
#define USER_ID "50be3fa7-8162-43c4-9fe5-60718293a4b5"
#define TUN_ID  "61cf40b8-9273-44d5-a0f6-718293a4b5c6"
#define USER_HASH "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$" \
	"QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAA"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;
static json_t *templates[API_OBJ__COUNT];
/* The internal certificate (EC P-256, can sign for IKE) and the CA the
 * stored objects hold, and a CRL of that CA. */
static char *cert, *key, *ca_pem, *crl;

static void
pki_init(void)
{
	struct test_pki_ca *ca = test_pki_ca_new("fuzz CA");

	if (ca == NULL || test_pki_leaf(ca, "fuzz", TEST_PKI_EC_P256, &cert, &key) == -1 ||
	    (ca_pem = test_pki_ca_pem(ca)) == NULL || (crl = test_pki_crl(ca, 1000)) == NULL)
		abort();
	test_pki_ca_free(ca);
}

/* One valid body per object type: the fuzzer mutates one value of it. */
static void
templates_init(void)
{
	templates[API_OBJ_NETWORK] = json_pack("{s:s, s:s, s:s}", "name", "n", "subType",
					       "HOST", "value", "10.1.1.1");
	templates[API_OBJ_INTERNAL_CERT] = json_pack("{s:s, s:s, s:s}", "name", "c", "cert",
						     cert, "privateKey", key);
	templates[API_OBJ_CA_CERT] = json_pack("{s:s, s:s}", "name", "ca", "cert", ca_pem);
	templates[API_OBJ_TELEMETRY] = json_pack(
	    "{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s}, s:s}", "name", "t",
	    "connectionMode", "DIAL_OUT", "port", "50051", "targetHost", "name",
	    "TelemetryCollector", "id", NET_ID, "type", "networkobject", "clientCertificate",
	    "id", INT_ID, "caCertificate", "id", CA_ID, "type", "telemetrystreamingconfig");
	templates[API_OBJ_IKE_POLICY] = json_pack(
	    "{s:s, s:i, s:s, s:s, s:s, s:i, s:i}", "name", "p", "priority", 20, "encryption",
	    "aes", "hash", "sha", "authentication", "pre-share", "group", 19, "lifetimeSeconds",
	    3600);
	templates[API_OBJ_PSK] = json_pack("{s:s, s:s, s:s, s:s}", "name", "k", "key", "secret",
					   "address", "10.0.0.0", "mask", "255.0.0.0");
	templates[API_OBJ_TRANSFORM_SET] = json_pack("{s:s, s:s, s:s, s:s}", "name", "x", "esp",
						     "esp-aes", "auth", "esp-sha-hmac", "mode",
						     "tunnel");
	templates[API_OBJ_CRYPTO_MAP] = json_pack(
	    "{s:s, s:i, s:[s, s], s:[{s:s}], s:[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s}, "
	    "{s:s, s:s, s:i, s:s, s:i}], s:s, s:i, s:i, s:b, s:b}",
	    "name", "m", "sequence", 20, "peers", "192.0.2.1", "vpn.example.com",
	    "transformSets", "id", XS_ID, "matchAddress", "action", "permit", "protocol", "ip",
	    "source", "10.0.0.0/24", "destination", "10.1.0.0/16", "protocol", "gre", "source",
	    "20.1.1.2", "destination", "20.1.1.1", "protocol", "tcp", "source", "10.0.0.0/24",
	    "sourcePort", 179, "destination", "10.1.0.0/16", "destinationPort", 443, "pfs",
	    "group14", "lifetimeSeconds", 3600, "lifetimeKilobytes", 4608000,
	    "forceEncapsulation", 0, "initiate", 1);
	templates[API_OBJ_IP_POOL] = json_pack("{s:s, s:s, s:s, s:s}", "name", "pool", "start",
					       "10.2.1.1", "end", "10.2.1.254", "netmask",
					       "255.255.255.0");
	templates[API_OBJ_DYNAMIC_MAP] = json_pack(
	    "{s:s, s:i, s:[{s:s}], s:[{s:s, s:s}], s:s, s:{s:s}, s:{s:b, s:b}, s:[s, s], s:[s], "
	    "s:b}", "name", "dyn", "sequence", 20, "transformSets", "id", XS_ID, "matchAddress",
	    "source", "10.2.2.0/24", "destination", "10.2.1.0/24", "pfs", "group19",
	    "addressPool", "id", POOL_ID, "clientConfiguration", "initiate", 1, "respond", 1,
	    "dnsServers", "10.2.2.53", "10.2.2.54", "splitTunnel", "10.2.2.0/24", "xauth", 1);
	templates[API_OBJ_LOCAL_USER] = json_pack("{s:s, s:s}", "name", "alice", "password",
						  "alice-pass");
	templates[API_OBJ_TUNNEL_IF] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "name",
						 "Tunnel1", "description", "to 101", "address",
						 "10.10.20.2/30", "tunnelSource", "20.1.1.2",
						 "tunnelDestination", "20.1.2.1", "mtu", 1420,
						 "shutdown", 0);
	templates[API_OBJ_DPD] = json_pack("{s:s, s:i, s:i, s:i, s:s}", "name", "dpd",
					   "keepaliveSeconds", 10, "retrySeconds", 2, "retries",
					   5, "mode", "PERIODIC");
	templates[API_OBJ_IKE_SETTINGS] = json_pack(
	    "{s:s, s:s, s:i, s:{s:s, s:s}, s:[{s:s}], s:[s]}", "name", "ike", "identity", "dn",
	    "natKeepaliveSeconds", 20, "certificate", "id", INT_ID, "type",
	    "internalcertificate", "trustedCAs", "id", CA_ID, "crls", crl);
	for (size_t i = 0; i < API_OBJ__COUNT; i++)
		if (templates[i] == NULL)
			abort();	/* a type without a template */
}

static void
meta(struct cfg_meta *m, const char *id, const char *name)
{
	str_copy(m->id, sizeof(m->id), id);
	str_copy(m->name, sizeof(m->name), name);
	str_copy(m->version, sizeof(m->version), "p4qjmqtn5c5e");
}

/* One object of each VPN collection (the singletons are always there). */
static void
vpn_init(void)
{
	struct cfg_ike_policy pol = { .priority = 10, .group = 14, .lifetime_s = 86400 };
	struct cfg_psk psk = { .addr = 0xc0000201, .mask = 0xffffffff };
	struct cfg_transform_set xs = { .esp = CFG_ESP_GCM };
	struct cfg_crypto_map map = { .sequence = 10, .n_peers = 1, .n_transform_sets = 1,
				      .n_match = 1, .lifetime_s = 3600, .lifetime_kb = 4608000,
				      .force_encap = true, .initiate = true };

	meta(&pol.meta, POL_ID, "p10");
	api_coll_add(&api_types[API_OBJ_IKE_POLICY], cfg, &pol);
	meta(&psk.meta, PSK_ID, "peer");
	psk.key = xstrdup("old-key");
	api_coll_add(&api_types[API_OBJ_PSK], cfg, &psk);
	meta(&xs.meta, XS_ID, "GCM");
	api_coll_add(&api_types[API_OBJ_TRANSFORM_SET], cfg, &xs);
	meta(&map.meta, MAP_ID, "MAP-10");
	str_copy(map.peers[0], CFG_HOST_MAX, "192.0.2.1");
	str_copy(map.transform_sets[0].id, UUID_STR_LEN, XS_ID);
	map.match[0].src = (struct cfg_prefix){ 0x0a000000, 8 };
	map.match[0].dst = (struct cfg_prefix){ 0xc0a80000, 16 };
	api_coll_add(&api_types[API_OBJ_CRYPTO_MAP], cfg, &map);
}

/* One pool, dynamic map and user: PUT has an old one, references resolve. */
static void
ra_init(void)
{
	struct cfg_ip_pool pool = { .start = 0x0a020101, .end = 0x0a0201fe,
				    .netmask = 0xffffffff };
	struct cfg_dynamic_map dyn = { .sequence = 10, .n_transform_sets = 1, .lifetime_s = 3600,
				       .lifetime_kb = 4608000, .config_respond = true };
	struct cfg_local_user user = { 0 };

	meta(&pool.meta, POOL_ID, "ourpool");
	api_coll_add(&api_types[API_OBJ_IP_POOL], cfg, &pool);
	meta(&dyn.meta, DYN_ID, "dynmap-10");
	str_copy(dyn.transform_sets[0].id, UUID_STR_LEN, XS_ID);
	str_copy(dyn.address_pool.id, UUID_STR_LEN, POOL_ID);
	api_coll_add(&api_types[API_OBJ_DYNAMIC_MAP], cfg, &dyn);
	meta(&user.meta, USER_ID, "bob");
	str_copy(user.password_hash, sizeof(user.password_hash), USER_HASH);
	api_coll_add(&api_types[API_OBJ_LOCAL_USER], cfg, &user);
}

/* One GRE tunnel interface: a PUT has an old one, conflicts are checked. */
static void
gre_init(void)
{
	struct cfg_tunnel_if tun = { .addr = 0x0a0a0a02, .prefix_len = 30,
				     .source = 0x14010102, .destination = 0x14010101,
				     .mtu = CFG_TUNNEL_MTU_DEFAULT };

	meta(&tun.meta, TUN_ID, "Tunnel0");
	api_coll_add(&api_types[API_OBJ_TUNNEL_IF], cfg, &tun);
}

/* One object of each type, so references resolve and PUT has an old one. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cfg_network n = { .subtype = CFG_NET_HOST };
	struct cfg_internal_cert ic = { 0 };
	struct cfg_ca_cert ca = { 0 };
	struct cfg_telemetry tel = { .port = 50051, .retry_interval_s = 300,
				     .min_interval_s = 60 };

	log_init("fuzz", LOG_LEVEL_WARN);
	cfg = config_new();
	meta(&n.meta, NET_ID, "TelemetryCollector");
	str_copy(n.value, sizeof(n.value), "10.1.1.1");
	api_coll_add(&api_types[API_OBJ_NETWORK], cfg, &n);
	pki_init();
	meta(&ic.meta, INT_ID, "FTD1Cert");
	ic.cert_pem = xstrdup(cert);
	ic.key_pem = xstrdup(key);
	api_coll_add(&api_types[API_OBJ_INTERNAL_CERT], cfg, &ic);
	meta(&ca.meta, CA_ID, "TelemetryCollectorCert");
	ca.cert_pem = xstrdup(ca_pem);
	api_coll_add(&api_types[API_OBJ_CA_CERT], cfg, &ca);
	/* the ike settings use both: a PUT of either is checked against them */
	str_copy(cfg->ike.certificate.id, UUID_STR_LEN, INT_ID);
	str_copy(cfg->ike.trusted_cas[0].id, UUID_STR_LEN, CA_ID);
	cfg->ike.n_trusted_cas = 1;
	cfg->ike.crls_pem = xstrdup(crl);
	meta(&tel.meta, TEL_ID, "YourCompanyTelemetry");
	str_copy(tel.target_host.id, sizeof(tel.target_host.id), NET_ID);
	str_copy(tel.client_cert.id, sizeof(tel.client_cert.id), INT_ID);
	str_copy(tel.ca_cert.id, sizeof(tel.ca_cert.id), CA_ID);
	api_coll_add(&api_types[API_OBJ_TELEMETRY], cfg, &tel);
	vpn_init();
	ra_init();
	gre_init();
	templates_init();
	return 0;
}

/* One JSON value from the fuzzer under one key of a valid body. */
static json_t *
injected(const struct api_type *t, const uint8_t *data, size_t size)
{
	static const char *const extra[] = { "id", "version", "type", "links", "unknown" };
	size_t nkeys = t->n_fields + ARRAY_LEN(extra), k;
	json_t *body, *v;

	if (size < 1)
		return NULL;
	k = data[0] % nkeys;
	v = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (v == NULL)
		return NULL;
	body = json_deep_copy(templates[t->obj]);
	json_object_set_new(body, k < t->n_fields ? t->fields[k].json : extra[k - t->n_fields],
			    v);
	return body;
}

static void
round_trip(const struct api_type *t, void *obj)
{
	struct api_dec d = { .mode = API_DEC_STORE, .cfg = cfg };
	struct api_err err;
	json_t *a, *b, *view;
	void *copy = calloc(1, t->size);

	if (copy == NULL)
		abort();
	str_copy(api_meta(obj)->id, UUID_STR_LEN, "00000000-0000-4000-8000-000000000000");
	api_version_new(api_meta(obj)->version);
	a = api_obj_encode(t, obj, cfg, NULL);
	if (api_obj_decode(t, a, &d, copy, &err) == -1)
		abort();	/* accepted once, refused from config.json */
	b = api_obj_encode(t, copy, cfg, NULL);
	if (!json_equal(a, b))
		abort();
	view = api_obj_encode(t, obj, cfg, "http://h/api/v1");
	for (size_t i = 0; i < t->n_fields; i++)
		if (api_field_secret(t->fields[i].kind) &&
		    json_object_get(view, t->fields[i].json) != NULL)
			abort();	/* a secret in the API view */
	api_obj_clear(t, copy);
	free(copy);
	json_decref(a);
	json_decref(b);
	json_decref(view);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct api_type *t;
	struct api_dec d = { .cfg = NULL };
	struct api_err err;
	json_error_t jerr;
	json_t *in;
	void *obj;

	if (size < 1 || size - 1 > API_BODY_MAX)
		return 0;
	t = &api_types[data[0] % API_OBJ__COUNT];
	d.mode = (data[0] >> 2) & 1 ? API_DEC_UPDATE : API_DEC_CREATE;
	d.cfg = cfg;
	d.old = d.mode == API_DEC_UPDATE ? api_coll_at(t, cfg, 0) : NULL;
	if (data[0] & 8)
		in = injected(t, data + 1, size - 1);
	else
		in = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (in == NULL)
		return 0;
	if ((obj = calloc(1, t->size)) == NULL)
		abort();
	if (api_obj_decode(t, in, &d, obj, &err) == 0) {
		if (t->check != NULL)
			t->check(obj, &err);	/* certificates, addresses: must not crash */
		if (t->conflict != NULL)
			t->conflict(cfg, obj, &err);
		if (t->check_cfg != NULL)
			t->check_cfg(cfg, obj, &err);	/* parses what obj refers to */
		round_trip(t, obj);
		api_obj_clear(t, obj);
	} else if (err.status == 0 || err.message[0] == '\0') {
		abort();	/* every refusal says why */
	}
	free(obj);
	json_decref(in);
	return 0;
}
