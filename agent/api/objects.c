/*
 * The object types of the API: one field
 * table per cfg_* struct plus the checks a table cannot express (a HOST
 * value is an IPv4 address, a certificate parses, a private key matches its
 * certificate, GCM takes no auth, IKE policy priorities are unique, address
 * pools do not overlap, Mode Config settings need a pool, the IKE
 * certificate can sign and its CAs are CAs, match lines have ports only for
 * tcp and udp). The GRE tunnel interfaces have a file of their own
 * (tunnel_if.c). Adding an object type is a struct in core/config.h and a
 * table here.
 */
#include "api/api_int.h"
#include "core/dpd_range.h"
#include "core/x509.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static_assert(sizeof(enum cfg_net_subtype) == sizeof(int), "enums are stored as int");
static_assert(sizeof(((struct cfg_telemetry *)0)->port) == 2, "port is 16 bits");
static_assert(sizeof(unsigned) == 4, "interval fields are 32 bits");

/* ---- syntax checks ------------------------------------------------------ */

/* ---- certificates ------------------------------------------------------- */

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	return 0;	/* encrypted keys are refused, never prompted for */
}

/* One or more certificates and nothing else that looks like PEM. */
int
api_pem_certs_check(const char *pem, const char *field, struct api_err *err)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0, rc = -1;
	unsigned long e;

	if (bio == NULL) {
		api_errf(err, 500, field, "%s: out of memory", field);
		goto done;
	}
	if (strstr(pem, "PRIVATE KEY-----") != NULL) {
		/* it would be returned to every reader of the object */
		api_errf(err, 400, field, "%s must not contain a private key", field);
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	e = ERR_peek_last_error();
	if (n == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		api_errf(err, 400, field, "%s is not a PEM certificate%s%s", field,
			 n ? " list" : "", n ? " (a later block does not parse)" : "");
		goto done;
	}
	rc = 0;
done:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

int
api_pem_key_check(const char *cert_pem, const char *key_pem, struct api_err *err)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (cb == NULL || kb == NULL) {
		api_errf(err, 500, "privateKey", "out of memory");
		goto done;
	}
	if ((x = PEM_read_bio_X509(cb, NULL, no_password, NULL)) == NULL) {
		api_errf(err, 400, "cert", "cert is not a PEM certificate");
		goto done;
	}
	if ((k = PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL)) == NULL) {
		api_errf(err, 400, "privateKey", "privateKey is not an unencrypted PEM "
			 "private key");
		goto done;
	}
	if (X509_check_private_key(x, k) != 1) {
		api_errf(err, 400, "privateKey", "privateKey does not match the public key "
			 "of cert");
		goto done;
	}
	rc = 0;
done:
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

/* ---- per-type checks ---------------------------------------------------- */

static int
network_check(const void *obj, struct api_err *err)
{
	const struct cfg_network *n = obj;

	if (n->subtype == CFG_NET_HOST && !ipv4_valid(n->value))
		return api_errf(err, 400, "value", "value \"%s\" is not an IPv4 address "
				"(a HOST takes a dotted IPv4 address)", n->value);
	if (n->subtype == CFG_NET_FQDN && !hostname_valid(n->value))
		return api_errf(err, 400, "value", "value \"%s\" is not a valid host name "
				"(an FQDN takes a DNS name; use HOST for addresses)",
				n->value);
	return 0;
}

static int
internal_cert_check(const void *obj, struct api_err *err)
{
	const struct cfg_internal_cert *c = obj;

	if (api_pem_certs_check(c->cert_pem, "cert", err) == -1)
		return -1;
	if (c->key_pem == NULL)
		return api_errf(err, 400, "privateKey", "privateKey is required");
	return api_pem_key_check(c->cert_pem, c->key_pem, err);
}

static int
ca_cert_check(const void *obj, struct api_err *err)
{
	const struct cfg_ca_cert *c = obj;

	return api_pem_certs_check(c->cert_pem, "cert", err);
}

/* A change to the certificate the ike settings sign with keeps it able to
 * sign (the ike settings were checked against the old one). */
static int
internal_cert_in_use(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_internal_cert *c = obj;
	char why[X509_WHY_MAX];

	if (c->meta.id[0] == '\0' || strcmp(cfg->ike.certificate.id, c->meta.id) != 0 ||
	    x509_check_cert_key(c->cert_pem, c->key_pem, why, sizeof(why)) == 0)
		return 0;
	return api_errf(err, 409, "cert", "cert: the ike settings (\"%s\") sign with this "
			"certificate, and IKE could not: %s; change their certificate first",
			cfg->ike.meta.name, why);
}

/* Likewise a CA the ike settings trust stays a CA. */
static int
ca_cert_in_use(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_ca_cert *c = obj;
	char why[X509_WHY_MAX];

	for (size_t i = 0; i < cfg->ike.n_trusted_cas && i < CFG_IKE_CAS_MAX; i++) {
		if (c->meta.id[0] == '\0' || strcmp(cfg->ike.trusted_cas[i].id, c->meta.id) != 0 ||
		    x509_check_ca(c->cert_pem, why, sizeof(why)) == 0)
			continue;
		return api_errf(err, 409, "cert", "cert: the ike settings (\"%s\") trust this "
				"certificate as a CA (trustedCAs[%zu]), and it is not one: %s",
				cfg->ike.meta.name, i, why);
	}
	return 0;
}

/* ---- VPN checks --------------------------------------------------------- */

static int
psk_check(const void *obj, struct api_err *err)
{
	const struct cfg_psk *p = obj;
	char a[16], m[16], want[16];

	ipv4_text(p->addr, a);
	ipv4_text(p->mask, m);
	if (p->key == NULL)
		return api_errf(err, 400, "key", "key is required");
	if (ipv4_mask_len(p->mask) == -1)
		return api_errf(err, 400, "mask", "mask %s is not contiguous (a netmask such "
				"as 255.255.255.0)", m);
	if ((p->addr & ~p->mask) != 0) {
		ipv4_text(p->addr & p->mask, want);
		return api_errf(err, 400, "address", "address %s has bits outside mask %s "
				"(did you mean %s?)", a, m, want);
	}
	if (p->addr == 0 && p->mask != 0)
		return api_errf(err, 400, "mask", "mask %s with address 0.0.0.0 matches no "
				"peer; the wild card is address 0.0.0.0 with mask 0.0.0.0", m);
	return 0;
}

/* Two keys for the same peers: which one applies would be a guess. */
static int
psk_conflict(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_psk *p = obj;
	char a[16], m[16];

	for (size_t i = 0; i < cfg->n_psks; i++) {
		const struct cfg_psk *o = &cfg->psks[i];

		if (strcmp(o->meta.id, p->meta.id) == 0 || o->addr != p->addr ||
		    o->mask != p->mask)
			continue;
		ipv4_text(p->addr, a);
		ipv4_text(p->mask, m);
		return api_errf(err, 409, "address", "presharedkey \"%s\" has address %s mask "
				"%s already", o->meta.name, a, m);
	}
	return 0;
}

/* Policies are proposed in priority order: two with one priority have none. */
static int
ike_policy_conflict(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_ike_policy *p = obj;

	for (size_t i = 0; i < cfg->n_ike_policies; i++) {
		const struct cfg_ike_policy *o = &cfg->ike_policies[i];

		if (strcmp(o->meta.id, p->meta.id) != 0 && o->priority == p->priority)
			return api_errf(err, 409, "priority", "priority %u is taken by "
					"ikepolicy \"%s\"", p->priority, o->meta.name);
	}
	return 0;
}

static int
transform_set_check(const void *obj, struct api_err *err)
{
	const struct cfg_transform_set *t = obj;
	int gcm = t->esp == CFG_ESP_GCM || t->esp == CFG_ESP_GCM256;

	if ((unsigned)t->esp >= CFG_ESP_ENC__COUNT || (unsigned)t->auth >= CFG_ESP_AUTH__COUNT)
		return api_errf(err, 400, "esp", "esp is not a known transform");
	if (gcm && t->auth != CFG_ESP_AUTH_NONE)
		return api_errf(err, 400, "auth", "auth must be null with %s (GCM authenticates "
				"by itself)", cfg_esp_enc_names[t->esp]);
	if (!gcm && t->auth == CFG_ESP_AUTH_NONE)
		return api_errf(err, 400, "auth", "auth is required with %s (\"esp-sha-hmac\" "
				"or \"esp-sha256-hmac\")", cfg_esp_enc_names[t->esp]);
	return 0;
}

static int
peer_check(const char *peer, size_t i, struct api_err *err)
{
	char field[32];
	uint32_t a;

	snprintf(field, sizeof(field), "peers[%zu]", i);
	if (ipv4_parse(peer, &a) == 0) {
		if (a == 0 || a == UINT32_MAX || (a >> 28) == 0xe)
			return api_errf(err, 400, field, "%s \"%s\" is not a unicast address",
					field, peer);
		return 0;
	}
	if (!hostname_valid(peer))
		return api_errf(err, 400, field, "%s \"%s\" is neither an IPv4 address nor a "
				"host name", field, peer);
	return 0;
}

/* A crypto map's (static or dynamic) transform sets: no one twice. */
static int
xforms_check(const struct cfg_ref *xs, size_t n, struct api_err *err)
{
	char field[40];

	for (size_t i = 0; i < n && i < CFG_MAP_XFORMS_MAX; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(xs[j].id, xs[i].id) != 0)
				continue;
			snprintf(field, sizeof(field), "transformSets[%zu]", i);
			return api_errf(err, 400, field, "%s: transformset %s is listed already "
					"(transformSets[%zu])", field, xs[i].id, j);
		}
	}
	return 0;
}

/* Match lines (static or dynamic): a port only where there are ports. */
static int
match_check(const struct cfg_match *lines, size_t n, struct api_err *err)
{
	char field[48];

	for (size_t i = 0; i < n && i < CFG_MATCH_MAX; i++) {
		const struct cfg_match *l = &lines[i];
		const char *which = l->src_port ? "sourcePort" : "destinationPort";
		const char *name = cfg_proto_name(l->proto);
		char proto[24];

		if ((l->src_port == 0 && l->dst_port == 0) || l->proto == 6 || l->proto == 17)
			continue;
		snprintf(field, sizeof(field), "matchAddress[%zu].%s", i, which);
		if (name != NULL)
			snprintf(proto, sizeof(proto), "\"%s\" (%u)", name, l->proto);
		else
			snprintf(proto, sizeof(proto), "%u", l->proto);
		return api_errf(err, 400, field, "%s needs protocol \"tcp\" or \"udp\"; "
				"protocol %s has no ports%s", field, proto, l->proto == 0 ?
				" (\"ip\" is every protocol)" : "");
	}
	return 0;
}

static int
crypto_map_check(const void *obj, struct api_err *err)
{
	const struct cfg_crypto_map *m = obj;
	char field[40];

	if (match_check(m->match, m->n_match, err) == -1)
		return -1;
	for (size_t i = 0; i < m->n_peers && i < CFG_PEERS_MAX; i++) {
		if (peer_check(m->peers[i], i, err) == -1)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(m->peers[j], m->peers[i]) != 0)
				continue;
			snprintf(field, sizeof(field), "peers[%zu]", i);
			return api_errf(err, 400, field, "%s \"%s\" is listed already (peers[%zu])",
					field, m->peers[i], j);
		}
	}
	return xforms_check(m->transform_sets, m->n_transform_sets, err);
}

/* ---- remote access checks (R-15) --------------------------------------- */

/* What a pool may hand out: no "this network", loopback, multicast or
 * reserved address (the size cap keeps a range from spanning 127/8). */
static int
pool_addr_check(uint32_t a, const char *field, struct api_err *err)
{
	char text[16];

	ipv4_text(a, text);
	if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xe0000000)
		return api_errf(err, 400, field, "%s %s cannot be given to a client (in "
				"0.0.0.0/8, 127.0.0.0/8 or 224.0.0.0 and above)", field, text);
	return 0;
}

static int
ip_pool_check(const void *obj, struct api_err *err)
{
	const struct cfg_ip_pool *p = obj;
	char a[16], b[16];

	if (pool_addr_check(p->start, "start", err) == -1 ||
	    pool_addr_check(p->end, "end", err) == -1)
		return -1;
	ipv4_text(p->start, a);
	ipv4_text(p->end, b);
	if (p->end < p->start)
		return api_errf(err, 400, "end", "end %s is below start %s", b, a);
	if (p->end - p->start >= CFG_POOL_SIZE_MAX)
		return api_errf(err, 400, "end", "end: %s - %s holds %llu addresses, more than "
				"%d", a, b, (unsigned long long)(p->end - p->start) + 1,
				CFG_POOL_SIZE_MAX);
	ipv4_text(p->netmask, a);
	if (ipv4_mask_len(p->netmask) < 1)
		return api_errf(err, 400, "netmask", "netmask %s is not a netmask (contiguous, "
				"such as 255.255.255.0; 0.0.0.0 is not one)", a);
	return 0;
}

/* One address could go to two clients: a pool's range is its own. */
static int
ip_pool_conflict(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_ip_pool *p = obj;
	char a[16], b[16];

	for (size_t i = 0; i < cfg->n_ip_pools; i++) {
		const struct cfg_ip_pool *o = &cfg->ip_pools[i];

		if (strcmp(o->meta.id, p->meta.id) == 0 || o->end < p->start || p->end < o->start)
			continue;
		ipv4_text(o->start, a);
		ipv4_text(o->end, b);
		return api_errf(err, 409, "start", "start: the addresses overlap ippool \"%s\" "
				"(%s - %s)", o->meta.name, a, b);
	}
	return 0;
}

/* A DNS server pushed to clients: a unicast address, once. */
static int
dns_check(const struct cfg_dynamic_map *m, struct api_err *err)
{
	char field[32], text[16];

	for (size_t i = 0; i < m->n_dns && i < CFG_DNS_MAX; i++) {
		snprintf(field, sizeof(field), "dnsServers[%zu]", i);
		ipv4_text(m->dns[i], text);
		if (m->dns[i] == 0 || m->dns[i] == UINT32_MAX || (m->dns[i] >> 28) == 0xe)
			return api_errf(err, 400, field, "%s %s is not a unicast address", field,
					text);
		for (size_t j = 0; j < i; j++)
			if (m->dns[j] == m->dns[i])
				return api_errf(err, 400, field, "%s %s is listed already "
						"(dnsServers[%zu])", field, text, j);
	}
	return 0;
}

static int
split_check(const struct cfg_dynamic_map *m, struct api_err *err)
{
	char field[32];

	for (size_t i = 0; i < m->n_split && i < CFG_SPLIT_MAX; i++) {
		for (size_t j = 0; j < i; j++) {
			if (m->split[j].addr != m->split[i].addr ||
			    m->split[j].len != m->split[i].len)
				continue;
			snprintf(field, sizeof(field), "splitTunnel[%zu]", i);
			return api_errf(err, 400, field, "%s is listed already (splitTunnel[%zu])",
					field, j);
		}
	}
	return 0;
}

/* Mode Config (address, DNS, split tunnel) hands out an address from the
 * pool: without one there is nothing to push or answer. */
static int
mode_config_check(const struct cfg_dynamic_map *m, struct api_err *err)
{
	if (m->address_pool.id[0] != '\0') {
		if (!m->config_initiate && !m->config_respond)
			return api_errf(err, 400, "clientConfiguration", "clientConfiguration: "
					"with an addressPool, initiate or respond (or both) "
					"must be true, or no client gets an address");
		return 0;
	}
	if (m->config_initiate)
		return api_errf(err, 400, "clientConfiguration.initiate",
				"clientConfiguration.initiate needs an addressPool (Mode Config "
				"hands out its addresses)");
	if (!m->config_respond)
		return api_errf(err, 400, "clientConfiguration.respond",
				"clientConfiguration.respond false needs an addressPool (without "
				"one there is no Mode Config: leave clientConfiguration out)");
	if (m->n_dns > 0)
		return api_errf(err, 400, "dnsServers", "dnsServers need an addressPool (Mode "
				"Config sends them with an address from it)");
	if (m->n_split > 0)
		return api_errf(err, 400, "splitTunnel", "splitTunnel needs an addressPool (Mode "
				"Config sends it with an address from it)");
	return 0;
}

static int
dynamic_map_check(const void *obj, struct api_err *err)
{
	const struct cfg_dynamic_map *m = obj;

	if (xforms_check(m->transform_sets, m->n_transform_sets, err) == -1 ||
	    match_check(m->match, m->n_match, err) == -1 || dns_check(m, err) == -1 ||
	    split_check(m, err) == -1)
		return -1;
	return mode_config_check(m, err);
}

/* Dynamic entries are tried in sequence order: one sequence, one entry. */
static int
dynamic_map_conflict(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_dynamic_map *m = obj;

	for (size_t i = 0; i < cfg->n_dynamic_maps; i++) {
		const struct cfg_dynamic_map *o = &cfg->dynamic_maps[i];

		if (strcmp(o->meta.id, m->meta.id) != 0 && o->sequence == m->sequence)
			return api_errf(err, 409, "sequence", "sequence %u is taken by "
					"dynamiccryptomap \"%s\"", m->sequence, o->meta.name);
	}
	return 0;
}

static int
local_user_check(const void *obj, struct api_err *err)
{
	const struct cfg_local_user *u = obj;

	if (u->password_hash[0] == '\0')
		return api_errf(err, 400, "password", "password is required");
	return 0;
}

/* ---- certificate authentication (R-16) --------------------------------- */

static int
ike_settings_check(const void *obj, struct api_err *err)
{
	const struct cfg_ike_settings *s = obj;
	char field[40], why[X509_WHY_MAX];
	size_t bad;

	if (s->identity == CFG_IKE_ID_DN && s->certificate.id[0] == '\0')
		return api_errf(err, 400, "identity", "identity \"dn\" is the subject of our "
				"certificate: set certificate too");
	for (size_t i = 0; i < s->n_trusted_cas && i < CFG_IKE_CAS_MAX; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->trusted_cas[j].id, s->trusted_cas[i].id) != 0)
				continue;
			snprintf(field, sizeof(field), "trustedCAs[%zu]", i);
			return api_errf(err, 400, field, "%s: externalcacertificate %s is listed "
					"already (trustedCAs[%zu])", field, s->trusted_cas[i].id,
					j);
		}
	}
	if (x509_check_crls(s->crls_pem, &bad, why, sizeof(why)) == -1) {
		snprintf(field, sizeof(field), "crls[%zu]", bad);
		return api_errf(err, 400, field, "%s: %s", field, why);
	}
	return 0;
}

/* What the references name: a certificate and key IKE can sign with
 * (RSA >= 2048 or EC P-256), CAs that are CAs. */
static int
ike_settings_certs_check(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_ike_settings *s = obj;
	const struct cfg_internal_cert *c = config_internal_cert_by_id(cfg, s->certificate.id);
	const struct cfg_ca_cert *ca;
	char field[40], why[X509_WHY_MAX];

	if (c != NULL && x509_check_cert_key(c->cert_pem, c->key_pem, why, sizeof(why)) == -1)
		return api_errf(err, 400, "certificate", "certificate: internalcertificate \"%s\" "
				"cannot sign for IKE: %s", c->meta.name, why);
	for (size_t i = 0; i < s->n_trusted_cas && i < CFG_IKE_CAS_MAX; i++) {
		if ((ca = config_ca_cert_by_id(cfg, s->trusted_cas[i].id)) == NULL ||
		    x509_check_ca(ca->cert_pem, why, sizeof(why)) == 0)
			continue;
		snprintf(field, sizeof(field), "trustedCAs[%zu].id", i);
		return api_errf(err, 400, field, "%s: externalcacertificate \"%s\" is not a CA: "
				"%s", field, ca->meta.name, why);
	}
	return 0;
}

static int
dpd_check(const void *obj, struct api_err *err)
{
	const struct cfg_dpd *d = obj;

	if (d->keepalive_s != 0 && d->keepalive_s < DPD_KEEPALIVE_MIN)
		return api_errf(err, 400, "keepaliveSeconds", "keepaliveSeconds must be 0 (DPD "
				"off) or between %d and %d", DPD_KEEPALIVE_MIN, DPD_KEEPALIVE_MAX);
	return 0;
}

/* ---- tables ------------------------------------------------------------- */

#define F_PEM(T, m, j, k, fl) { .json = j, .kind = k, .flags = fl, \
	.offset = offsetof(T, m), .min = 1, .max = CFG_PEM_MAX }
#define F_REF(T, m, j, target) { .json = j, .kind = API_F_REF, .flags = API_REQUIRED, \
	.offset = offsetof(T, m), .ref = target }

static const struct api_field network_fields[] = {
	F_NAME(struct cfg_network),
	F_DESCRIPTION(struct cfg_network),
	{ .json = "subType", .kind = API_F_ENUM, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_network, subtype), .names = cfg_net_subtype_names,
	  .n_names = CFG_NET__COUNT },
	{ .json = "value", .kind = API_F_STR, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_network, value), .size = CFG_HOST_MAX, .min = 1,
	  .max = 254 },
};

static const struct api_field internal_cert_fields[] = {
	F_NAME(struct cfg_internal_cert),
	F_DESCRIPTION(struct cfg_internal_cert),
	F_PEM(struct cfg_internal_cert, cert_pem, "cert", API_F_PEM, API_REQUIRED),
	F_PEM(struct cfg_internal_cert, key_pem, "privateKey", API_F_SECRET,
	      API_REQUIRED | API_KEEP),
};

static const struct api_field ca_cert_fields[] = {
	F_NAME(struct cfg_ca_cert),
	F_DESCRIPTION(struct cfg_ca_cert),
	F_PEM(struct cfg_ca_cert, cert_pem, "cert", API_F_PEM, API_REQUIRED),
};

static const char *const connection_modes[] = { "DIAL_OUT" };

static const struct api_field telemetry_fields[] = {
	F_NAME(struct cfg_telemetry),
	F_DESCRIPTION(struct cfg_telemetry),
	{ .json = "connectionMode", .kind = API_F_CONST, .names = connection_modes,
	  .n_names = ARRAY_LEN(connection_modes) },
	F_UINT(struct cfg_telemetry, port, "port", API_REQUIRED | API_NUMSTR, 1, 65535, 0),
	F_REF(struct cfg_telemetry, target_host, "targetHost", API_OBJ_NETWORK),
	F_REF(struct cfg_telemetry, client_cert, "clientCertificate", API_OBJ_INTERNAL_CERT),
	F_REF(struct cfg_telemetry, ca_cert, "caCertificate", API_OBJ_CA_CERT),
	F_UINT(struct cfg_telemetry, retry_interval_s, "retryIntervalSeconds", API_NUMSTR, 1,
	       86400, 300),
	F_UINT(struct cfg_telemetry, min_interval_s, "minIntervalSeconds", API_NUMSTR, 1,
	       86400, 60),
};

/* ---- VPN tables --------------------------------------------------------- */

#define LEGACY(l) .legacy = l, .n_legacy = ARRAY_LEN(l)
/* PUT on a singleton may leave the name out. */
#define F_SINGLE_NAME(T) { .json = "name", .kind = API_F_STR, \
	.flags = API_REQUIRED | API_KEEP, .offset = offsetof(T, meta.name), \
	.size = CFG_NAME_MAX, .min = 1, .max = CFG_NAME_MAX - 1 }

static const char *const permit[] = { "permit" };
static const long long dh_groups[] = { 2, 14, 19 };

static const struct api_legacy ike_enc_legacy[] = {
	{ "des", "DES/3DES are insecure and not supported; use aes or aes-256" },
	{ "3des", "DES/3DES are insecure and not supported; use aes or aes-256" },
};
/* IOS's rsa-encr encrypts the nonces to the peer's public key, which is
 * configured by hand (`crypto key pubkey-chain rsa`): not taken. */
static const struct api_legacy ike_auth_legacy[] = {
	{ "rsa-encr", "rsa-encr (RSA-encrypted nonces) needs the peers' public keys "
	  "exchanged by hand and is not supported; use rsa-sig with certificates (the ike "
	  "settings' certificate and trustedCAs)" },
};
static const struct api_legacy ike_hash_legacy[] = {
	{ "md5", "MD5 is insecure and not supported; use sha256 (or sha)" },
};
static const struct api_legacy dh_legacy[] = {
	{ "1", "DH group 1 (768-bit MODP) is insecure and not supported; use 14 or 19" },
	{ "5", "DH group 5 (1536-bit MODP) is too weak and not supported; use 14 or 19" },
};
static const struct api_legacy esp_legacy[] = {
	{ "esp-des", "DES/3DES are insecure and not supported; use esp-aes, esp-aes-256, "
	  "esp-gcm or esp-gcm-256" },
	{ "esp-3des", "DES/3DES are insecure and not supported; use esp-aes, esp-aes-256, "
	  "esp-gcm or esp-gcm-256" },
	{ "esp-null", "esp-null does not encrypt and is not supported; use esp-aes-256 or "
	  "esp-gcm-256" },
};
static const struct api_legacy esp_auth_legacy[] = {
	{ "esp-md5-hmac", "MD5 is insecure and not supported; use esp-sha256-hmac (or "
	  "esp-sha-hmac)" },
};
static const struct api_legacy pfs_legacy[] = {
	{ "group1", "DH group 1 is insecure and not supported; use group14 or group19" },
	{ "group2", "DH group 2 is too weak for PFS here; use group14 or group19" },
	{ "group5", "DH group 5 is too weak and not supported; use group14 or group19" },
};

static const struct api_field ike_policy_fields[] = {
	F_NAME(struct cfg_ike_policy),
	F_DESCRIPTION(struct cfg_ike_policy),
	F_UINT(struct cfg_ike_policy, priority, "priority", API_REQUIRED, 1, 10000, 0),
	{ .json = "encryption", .kind = API_F_ENUM, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_ike_policy, encryption), .names = cfg_ike_enc_names,
	  .n_names = CFG_IKE_ENC__COUNT, LEGACY(ike_enc_legacy) },
	{ .json = "hash", .kind = API_F_ENUM, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_ike_policy, hash), .names = cfg_ike_hash_names,
	  .n_names = CFG_IKE_HASH__COUNT, LEGACY(ike_hash_legacy) },
	{ .json = "authentication", .kind = API_F_ENUM,
	  .offset = offsetof(struct cfg_ike_policy, authentication), .names = cfg_ike_auth_names,
	  .n_names = CFG_IKE_AUTH__COUNT, .def = CFG_IKE_AUTH_PSK, LEGACY(ike_auth_legacy) },
	{ .json = "group", .kind = API_F_UINT, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_ike_policy, group), .size = sizeof(unsigned),
	  .min = 0, .max = 65535, .choices = dh_groups, .n_choices = ARRAY_LEN(dh_groups),
	  LEGACY(dh_legacy) },
	F_UINT(struct cfg_ike_policy, lifetime_s, "lifetimeSeconds", 0, 60, 86400, 86400),
};

static const struct api_field psk_fields[] = {
	F_NAME(struct cfg_psk),
	F_DESCRIPTION(struct cfg_psk),
	{ .json = "key", .kind = API_F_SECRET, .flags = API_REQUIRED | API_KEEP | API_ONELINE,
	  .offset = offsetof(struct cfg_psk, key), .min = 1, .max = CFG_PSK_MAX },
	{ .json = "address", .kind = API_F_IPV4, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_psk, addr) },
	{ .json = "mask", .kind = API_F_IPV4, .offset = offsetof(struct cfg_psk, mask),
	  .def = 0xffffffffLL },
};

static const struct api_field transform_set_fields[] = {
	F_NAME(struct cfg_transform_set),
	F_DESCRIPTION(struct cfg_transform_set),
	{ .json = "esp", .kind = API_F_ENUM, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_transform_set, esp), .names = cfg_esp_enc_names,
	  .n_names = CFG_ESP_ENC__COUNT, LEGACY(esp_legacy) },
	{ .json = "auth", .kind = API_F_ENUM,
	  .offset = offsetof(struct cfg_transform_set, auth), .names = cfg_esp_auth_names,
	  .n_names = CFG_ESP_AUTH__COUNT, .def = CFG_ESP_AUTH_NONE, LEGACY(esp_auth_legacy) },
	{ .json = "mode", .kind = API_F_ENUM,
	  .offset = offsetof(struct cfg_transform_set, mode), .names = cfg_esp_mode_names,
	  .n_names = CFG_ESP_MODE__COUNT, .def = CFG_ESP_TUNNEL },
};

/* One matchAddress line; offsets within struct cfg_match. Ports (`eq PORT`)
 * read back only when set. */
static const struct api_field match_fields[] = {
	{ .json = "action", .kind = API_F_CONST, .names = permit, .n_names = ARRAY_LEN(permit) },
	{ .json = "protocol", .kind = API_F_PROTO, .offset = offsetof(struct cfg_match, proto),
	  .min = 0, .max = 255, .def = 0 },
	{ .json = "source", .kind = API_F_PREFIX, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_match, src) },
	F_UINT(struct cfg_match, src_port, "sourcePort", API_SPARSE, 1, 65535, 0),
	{ .json = "destination", .kind = API_F_PREFIX, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_match, dst) },
	F_UINT(struct cfg_match, dst_port, "destinationPort", API_SPARSE, 1, 65535, 0),
};

/* List elements: offset 0 within one array slot. */
static const struct api_field peer_elem = { .json = "peers", .kind = API_F_STR,
	.size = CFG_HOST_MAX, .min = 1, .max = 253 };
static const struct api_field xform_elem = { .json = "transformSets", .kind = API_F_REF,
	.ref = API_OBJ_TRANSFORM_SET };
static const struct api_field match_elem = { .json = "matchAddress", .kind = API_F_OBJECT,
	.sub = match_fields, .n_sub = ARRAY_LEN(match_fields) };

#define F_LIST(T, m, c, j, elem, hi) { .json = j, .kind = API_F_LIST, .flags = API_REQUIRED, \
	.offset = offsetof(T, m), .count_off = offsetof(T, c), .size = sizeof(((T *)0)->m[0]), \
	.min = 1, .max = hi, .sub = &elem }

static const struct api_field crypto_map_fields[] = {
	F_NAME(struct cfg_crypto_map),
	F_DESCRIPTION(struct cfg_crypto_map),
	F_UINT(struct cfg_crypto_map, sequence, "sequence", API_REQUIRED, 1, 65535, 0),
	F_LIST(struct cfg_crypto_map, peers, n_peers, "peers", peer_elem, CFG_PEERS_MAX),
	F_LIST(struct cfg_crypto_map, transform_sets, n_transform_sets, "transformSets",
	       xform_elem, CFG_MAP_XFORMS_MAX),
	F_LIST(struct cfg_crypto_map, match, n_match, "matchAddress", match_elem,
	       CFG_MATCH_MAX),
	{ .json = "pfs", .kind = API_F_ENUM, .offset = offsetof(struct cfg_crypto_map, pfs),
	  .names = cfg_pfs_names, .n_names = CFG_PFS__COUNT, .def = CFG_PFS_NONE,
	  LEGACY(pfs_legacy) },
	F_UINT(struct cfg_crypto_map, lifetime_s, "lifetimeSeconds", 0, 120, 86400, 3600),
	F_UINT(struct cfg_crypto_map, lifetime_kb, "lifetimeKilobytes", 0, 2560, UINT32_MAX,
	       4608000),
	F_BOOL(struct cfg_crypto_map, force_encap, "forceEncapsulation", 0),
	F_BOOL(struct cfg_crypto_map, initiate, "initiate", 1),
};

/* ---- remote access tables (R-15) --------------------------------------- */

static const struct api_field ip_pool_fields[] = {
	F_NAME(struct cfg_ip_pool),
	F_DESCRIPTION(struct cfg_ip_pool),
	{ .json = "start", .kind = API_F_IPV4, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_ip_pool, start) },
	{ .json = "end", .kind = API_F_IPV4, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_ip_pool, end) },
	{ .json = "netmask", .kind = API_F_IPV4, .offset = offsetof(struct cfg_ip_pool, netmask),
	  .def = 0xffffffffLL },
};

/* clientConfiguration: offsets within the whole entry (the object is at 0). */
static const struct api_field client_config_fields[] = {
	F_BOOL(struct cfg_dynamic_map, config_initiate, "initiate", 0),
	F_BOOL(struct cfg_dynamic_map, config_respond, "respond", 1),
};

static const struct api_field dns_elem = { .json = "dnsServers", .kind = API_F_IPV4 };
static const struct api_field split_elem = { .json = "splitTunnel", .kind = API_F_PREFIX };

/* A list that may be left out or empty: [] by default. */
#define F_LIST_OPT(T, m, c, j, elem, hi) { .json = j, .kind = API_F_LIST, \
	.offset = offsetof(T, m), .count_off = offsetof(T, c), .size = sizeof(((T *)0)->m[0]), \
	.min = 0, .max = hi, .sub = &elem }

static const struct api_field dynamic_map_fields[] = {
	F_NAME(struct cfg_dynamic_map),
	F_DESCRIPTION(struct cfg_dynamic_map),
	F_UINT(struct cfg_dynamic_map, sequence, "sequence", API_REQUIRED, 1, 65535, 0),
	F_LIST(struct cfg_dynamic_map, transform_sets, n_transform_sets, "transformSets",
	       xform_elem, CFG_MAP_XFORMS_MAX),
	F_LIST_OPT(struct cfg_dynamic_map, match, n_match, "matchAddress", match_elem,
		   CFG_MATCH_MAX),
	{ .json = "pfs", .kind = API_F_ENUM, .offset = offsetof(struct cfg_dynamic_map, pfs),
	  .names = cfg_pfs_names, .n_names = CFG_PFS__COUNT, .def = CFG_PFS_NONE,
	  LEGACY(pfs_legacy) },
	F_UINT(struct cfg_dynamic_map, lifetime_s, "lifetimeSeconds", 0, 120, 86400, 3600),
	F_UINT(struct cfg_dynamic_map, lifetime_kb, "lifetimeKilobytes", 0, 2560, UINT32_MAX,
	       4608000),
	{ .json = "addressPool", .kind = API_F_REF,
	  .offset = offsetof(struct cfg_dynamic_map, address_pool), .ref = API_OBJ_IP_POOL },
	{ .json = "clientConfiguration", .kind = API_F_OBJECT, .offset = 0,
	  .sub = client_config_fields, .n_sub = ARRAY_LEN(client_config_fields) },
	F_LIST_OPT(struct cfg_dynamic_map, dns, n_dns, "dnsServers", dns_elem, CFG_DNS_MAX),
	F_LIST_OPT(struct cfg_dynamic_map, split, n_split, "splitTunnel", split_elem,
		   CFG_SPLIT_MAX),
	F_BOOL(struct cfg_dynamic_map, xauth, "xauth", 0),
};

/* The password is hashed on arrival; only the hash is kept, and neither is
 * ever returned. A hash may be given instead (provisioning without the
 * password); config.json and the journal hold the hash. */
static const struct api_field local_user_fields[] = {
	F_NAME(struct cfg_local_user),
	F_DESCRIPTION(struct cfg_local_user),
	{ .json = "password", .kind = API_F_PASSWORD, .flags = API_REQUIRED | API_KEEP,
	  .offset = offsetof(struct cfg_local_user, password_hash),
	  .size = sizeof(((struct cfg_local_user *)0)->password_hash), .min = 1,
	  .max = CFG_PASSWORD_MAX, .either = "passwordHash" },
	{ .json = "passwordHash", .kind = API_F_PWHASH, .flags = API_REQUIRED | API_KEEP,
	  .offset = offsetof(struct cfg_local_user, password_hash),
	  .size = sizeof(((struct cfg_local_user *)0)->password_hash), .either = "password" },
};

static const struct api_field dpd_fields[] = {
	F_SINGLE_NAME(struct cfg_dpd),
	F_DESCRIPTION(struct cfg_dpd),
	F_UINT(struct cfg_dpd, keepalive_s, "keepaliveSeconds", 0, 0, DPD_KEEPALIVE_MAX, 0),
	F_UINT(struct cfg_dpd, retry_s, "retrySeconds", 0, DPD_RETRY_MIN, DPD_RETRY_MAX,
	       DPD_RETRY_DEFAULT),
	F_UINT(struct cfg_dpd, retries, "retries", 0, 1, DPD_RETRIES_MAX, DPD_RETRIES_DEFAULT),
	F_ENUM(struct cfg_dpd, mode, "mode", 0, cfg_dpd_mode_names, CFG_DPD_MODE__COUNT,
	       CFG_DPD_ON_DEMAND),
};

static const struct api_field ca_elem = { .json = "trustedCAs", .kind = API_F_REF,
	.ref = API_OBJ_CA_CERT };
static const char *const crl_label[] = { "X509 CRL" };

/* A singleton PUT without certificate, trustedCAs or crls has none. */
static const struct api_field ike_settings_fields[] = {
	F_SINGLE_NAME(struct cfg_ike_settings),
	F_DESCRIPTION(struct cfg_ike_settings),
	F_ENUM(struct cfg_ike_settings, identity, "identity", 0, cfg_ike_identity_names,
	       CFG_IKE_ID__COUNT, CFG_IKE_ID_ADDRESS),
	F_UINT(struct cfg_ike_settings, nat_keepalive_s, "natKeepaliveSeconds", 0, 0, 3600, 20),
	{ .json = "certificate", .kind = API_F_REF,
	  .offset = offsetof(struct cfg_ike_settings, certificate),
	  .ref = API_OBJ_INTERNAL_CERT },
	F_LIST_OPT(struct cfg_ike_settings, trusted_cas, n_trusted_cas, "trustedCAs", ca_elem,
		   CFG_IKE_CAS_MAX),
	{ .json = "crls", .kind = API_F_PEMS, .offset = offsetof(struct cfg_ike_settings, crls_pem),
	  .min = 0, .max = API_CRLS_MAX, .names = crl_label, .n_names = ARRAY_LEN(crl_label) },
};

static_assert(ARRAY_LEN(((struct cfg_crypto_map *)0)->peers) == CFG_PEERS_MAX &&
	      ARRAY_LEN(((struct cfg_crypto_map *)0)->transform_sets) == CFG_MAP_XFORMS_MAX &&
	      ARRAY_LEN(((struct cfg_crypto_map *)0)->match) == CFG_MATCH_MAX,
	      "list caps are the array sizes");
static_assert(ARRAY_LEN(((struct cfg_dynamic_map *)0)->transform_sets) == CFG_MAP_XFORMS_MAX &&
	      ARRAY_LEN(((struct cfg_dynamic_map *)0)->match) == CFG_MATCH_MAX &&
	      ARRAY_LEN(((struct cfg_dynamic_map *)0)->dns) == CFG_DNS_MAX &&
	      ARRAY_LEN(((struct cfg_dynamic_map *)0)->split) == CFG_SPLIT_MAX,
	      "dynamic map list caps are the array sizes");
static_assert(ARRAY_LEN(((struct cfg_ike_settings *)0)->trusted_cas) == CFG_IKE_CAS_MAX,
	      "the trusted CAs' cap is the array size");
static_assert(sizeof(((struct cfg_local_user *)0)->password_hash) == CFG_PWHASH_MAX,
	      "passwd_hash writes CFG_PWHASH_MAX bytes");
static_assert(sizeof(((struct cfg_psk *)0)->addr) == 4, "IPv4 fields are 32 bits");
static_assert(sizeof(enum cfg_pfs) == sizeof(int) && sizeof(enum cfg_esp_auth) == sizeof(int) &&
	      sizeof(enum cfg_dpd_mode) == sizeof(int) &&
	      sizeof(enum cfg_ike_identity) == sizeof(int) &&
	      sizeof(enum cfg_ike_auth) == sizeof(int), "enums are stored as int");

#define LIST(m, c) .list_off = offsetof(struct config, m), .count_off = offsetof(struct config, c)

const struct api_type api_types[API_OBJ__COUNT] = {
	[API_OBJ_NETWORK] = {
		.obj = API_OBJ_NETWORK, .type = "networkobject", .path = API_PATH_NETWORKS,
		.size = sizeof(struct cfg_network), LIST(networks, n_networks),
		.max_items = API_OBJECTS_MANY, .fields = network_fields,
		.n_fields = ARRAY_LEN(network_fields), .check = network_check,
	},
	[API_OBJ_INTERNAL_CERT] = {
		.obj = API_OBJ_INTERNAL_CERT, .type = "internalcertificate",
		.path = API_PATH_INTERNAL, .size = sizeof(struct cfg_internal_cert),
		LIST(internal_certs, n_internal_certs), .max_items = API_OBJECTS_MANY,
		.fields = internal_cert_fields, .n_fields = ARRAY_LEN(internal_cert_fields),
		.check = internal_cert_check, .check_cfg = internal_cert_in_use,
	},
	[API_OBJ_CA_CERT] = {
		.obj = API_OBJ_CA_CERT, .type = "externalcacertificate", .path = API_PATH_CA,
		.size = sizeof(struct cfg_ca_cert), LIST(ca_certs, n_ca_certs),
		.max_items = API_OBJECTS_MANY, .fields = ca_cert_fields,
		.n_fields = ARRAY_LEN(ca_cert_fields), .check = ca_cert_check,
		.check_cfg = ca_cert_in_use,
	},
	[API_OBJ_TELEMETRY] = {
		.obj = API_OBJ_TELEMETRY, .type = "telemetrystreamingconfig",
		.path = API_PATH_TELEMETRY, .size = sizeof(struct cfg_telemetry),
		.list_off = offsetof(struct config, telemetry), .count_off = API_SINGLE,
		.max_items = 1, .fields = telemetry_fields,
		.n_fields = ARRAY_LEN(telemetry_fields),
	},
	[API_OBJ_IKE_POLICY] = {
		.obj = API_OBJ_IKE_POLICY, .type = "ikepolicy", .path = API_PATH_IKE_POLICIES,
		.size = sizeof(struct cfg_ike_policy), LIST(ike_policies, n_ike_policies),
		.max_items = CFG_IKE_POLICIES_MAX, .fields = ike_policy_fields,
		.n_fields = ARRAY_LEN(ike_policy_fields), .conflict = ike_policy_conflict,
	},
	[API_OBJ_PSK] = {
		.obj = API_OBJ_PSK, .type = "presharedkey", .path = API_PATH_PSKS,
		.size = sizeof(struct cfg_psk), LIST(psks, n_psks), .max_items = API_OBJECTS_MANY,
		.fields = psk_fields, .n_fields = ARRAY_LEN(psk_fields), .check = psk_check,
		.conflict = psk_conflict,
	},
	[API_OBJ_TRANSFORM_SET] = {
		.obj = API_OBJ_TRANSFORM_SET, .type = "transformset", .path = API_PATH_XFORM_SETS,
		.size = sizeof(struct cfg_transform_set), LIST(transform_sets, n_transform_sets),
		.max_items = API_OBJECTS_MANY, .fields = transform_set_fields,
		.n_fields = ARRAY_LEN(transform_set_fields), .check = transform_set_check,
	},
	[API_OBJ_CRYPTO_MAP] = {
		.obj = API_OBJ_CRYPTO_MAP, .type = "cryptomap", .path = API_PATH_CRYPTO_MAPS,
		.size = sizeof(struct cfg_crypto_map), LIST(crypto_maps, n_crypto_maps),
		.max_items = API_OBJECTS_MANY, .fields = crypto_map_fields,
		.n_fields = ARRAY_LEN(crypto_map_fields), .check = crypto_map_check,
	},
	[API_OBJ_IP_POOL] = {
		.obj = API_OBJ_IP_POOL, .type = "ippool", .path = API_PATH_IP_POOLS,
		.size = sizeof(struct cfg_ip_pool), LIST(ip_pools, n_ip_pools),
		.max_items = API_OBJECTS_MANY, .fields = ip_pool_fields,
		.n_fields = ARRAY_LEN(ip_pool_fields), .check = ip_pool_check,
		.conflict = ip_pool_conflict,
	},
	[API_OBJ_DYNAMIC_MAP] = {
		.obj = API_OBJ_DYNAMIC_MAP, .type = "dynamiccryptomap", .path = API_PATH_DYN_MAPS,
		.size = sizeof(struct cfg_dynamic_map), LIST(dynamic_maps, n_dynamic_maps),
		.max_items = API_OBJECTS_MANY, .fields = dynamic_map_fields,
		.n_fields = ARRAY_LEN(dynamic_map_fields), .check = dynamic_map_check,
		.conflict = dynamic_map_conflict,
	},
	[API_OBJ_LOCAL_USER] = {
		.obj = API_OBJ_LOCAL_USER, .type = "localuser", .path = API_PATH_LOCAL_USERS,
		.size = sizeof(struct cfg_local_user), LIST(local_users, n_local_users),
		.max_items = API_OBJECTS_MANY, .fields = local_user_fields,
		.n_fields = ARRAY_LEN(local_user_fields), .check = local_user_check,
	},
	[API_OBJ_TUNNEL_IF] = {
		.obj = API_OBJ_TUNNEL_IF, .type = "tunnelinterface", .path = API_PATH_TUNNEL_IFS,
		.size = sizeof(struct cfg_tunnel_if), LIST(tunnel_ifs, n_tunnel_ifs),
		.max_items = API_OBJECTS_MANY, .fields = api_tunnel_if_fields,
		.n_fields = ARRAY_LEN(api_tunnel_if_fields), .check = api_tunnel_if_check,
		.conflict = api_tunnel_if_conflict,
	},
	[API_OBJ_DPD] = {
		.obj = API_OBJ_DPD, .type = "dpdsettings", .path = API_PATH_DPD,
		.size = sizeof(struct cfg_dpd), .list_off = offsetof(struct config, dpd),
		.count_off = API_FIXED, .max_items = 1, .fields = dpd_fields,
		.n_fields = ARRAY_LEN(dpd_fields), .check = dpd_check,
	},
	[API_OBJ_IKE_SETTINGS] = {
		.obj = API_OBJ_IKE_SETTINGS, .type = "ikesettings", .path = API_PATH_IKE_SETTINGS,
		.size = sizeof(struct cfg_ike_settings), .list_off = offsetof(struct config, ike),
		.count_off = API_FIXED, .max_items = 1, .fields = ike_settings_fields,
		.n_fields = ARRAY_LEN(ike_settings_fields), .check = ike_settings_check,
		.check_cfg = ike_settings_certs_check,
	},
};
static_assert(ARRAY_LEN(api_types) == API_OBJ__COUNT, "one type per api_obj");
static_assert(offsetof(struct cfg_network, meta) == 0 && offsetof(struct cfg_internal_cert, meta) == 0
	      && offsetof(struct cfg_ca_cert, meta) == 0 && offsetof(struct cfg_telemetry, meta) == 0
	      && offsetof(struct cfg_ike_policy, meta) == 0 && offsetof(struct cfg_psk, meta) == 0
	      && offsetof(struct cfg_transform_set, meta) == 0
	      && offsetof(struct cfg_crypto_map, meta) == 0
	      && offsetof(struct cfg_ip_pool, meta) == 0
	      && offsetof(struct cfg_dynamic_map, meta) == 0
	      && offsetof(struct cfg_local_user, meta) == 0
	      && offsetof(struct cfg_tunnel_if, meta) == 0 && offsetof(struct cfg_dpd, meta) == 0
	      && offsetof(struct cfg_ike_settings, meta) == 0,
	      "every object starts with its meta");
