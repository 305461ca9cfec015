/*
 * The configuration model's lifecycle: empty configs, deep copies (the API
 * edits a copy and swaps it in whole) and frees that wipe key material.
 * Lookups by id serve reference resolution. No JSON here: encoding and
 * persistence belong to agent/api/.
 */
#include "core/config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

const char *const cfg_net_subtype_names[CFG_NET__COUNT] = {
	[CFG_NET_HOST] = "HOST",
	[CFG_NET_FQDN] = "FQDN",
};
static_assert(ARRAY_LEN(cfg_net_subtype_names) == CFG_NET__COUNT, "network subtype names");

const char *const cfg_ike_enc_names[CFG_IKE_ENC__COUNT] = {
	[CFG_IKE_ENC_AES] = "aes",
	[CFG_IKE_ENC_AES256] = "aes-256",
};
static_assert(ARRAY_LEN(cfg_ike_enc_names) == CFG_IKE_ENC__COUNT, "IKE cipher names");

const char *const cfg_ike_hash_names[CFG_IKE_HASH__COUNT] = {
	[CFG_IKE_HASH_SHA] = "sha",
	[CFG_IKE_HASH_SHA256] = "sha256",
};
static_assert(ARRAY_LEN(cfg_ike_hash_names) == CFG_IKE_HASH__COUNT, "IKE hash names");

const char *const cfg_esp_enc_names[CFG_ESP_ENC__COUNT] = {
	[CFG_ESP_AES] = "esp-aes",
	[CFG_ESP_AES256] = "esp-aes-256",
	[CFG_ESP_GCM] = "esp-gcm",
	[CFG_ESP_GCM256] = "esp-gcm-256",
};
static_assert(ARRAY_LEN(cfg_esp_enc_names) == CFG_ESP_ENC__COUNT, "ESP cipher names");

/* NONE has no name: JSON null. */
const char *const cfg_esp_auth_names[CFG_ESP_AUTH__COUNT] = {
	[CFG_ESP_AUTH_NONE] = NULL,
	[CFG_ESP_AUTH_SHA1] = "esp-sha-hmac",
	[CFG_ESP_AUTH_SHA256] = "esp-sha256-hmac",
};
static_assert(ARRAY_LEN(cfg_esp_auth_names) == CFG_ESP_AUTH__COUNT, "ESP auth names");

void
cfg_esp_xform(enum cfg_esp_enc esp, enum cfg_esp_auth auth, enum esp_cipher *cipher,
	      unsigned *key_len, enum esp_auth *out_auth)
{
	*cipher = esp == CFG_ESP_GCM || esp == CFG_ESP_GCM256 ? ESP_CIPHER_AES_GCM16 :
	    ESP_CIPHER_AES_CBC;
	*key_len = esp == CFG_ESP_AES256 || esp == CFG_ESP_GCM256 ? 32 : 16;
	*out_auth = auth == CFG_ESP_AUTH_SHA256 ? ESP_AUTH_HMAC_SHA256_128 :
	    auth == CFG_ESP_AUTH_SHA1 ? ESP_AUTH_HMAC_SHA1_96 : ESP_AUTH_NONE;
}

const char *
cfg_esp_cipher_name(enum esp_cipher cipher, unsigned key_len)
{
	if (cipher == ESP_CIPHER_AES_GCM16)
		return cfg_esp_enc_names[key_len == 32 ? CFG_ESP_GCM256 : CFG_ESP_GCM];
	return cfg_esp_enc_names[key_len == 32 ? CFG_ESP_AES256 : CFG_ESP_AES];
}

const char *
cfg_esp_auth_name(enum esp_auth auth)
{
	return cfg_esp_auth_names[auth == ESP_AUTH_HMAC_SHA256_128 ? CFG_ESP_AUTH_SHA256 :
				  auth == ESP_AUTH_HMAC_SHA1_96 ? CFG_ESP_AUTH_SHA1 :
				  CFG_ESP_AUTH_NONE];
}

static const struct {
	const char *name;
	unsigned    proto;
} protos[] = {
	{ .name = "ip", .proto = 0 }, { .name = "icmp", .proto = 1 },
	{ .name = "tcp", .proto = 6 }, { .name = "udp", .proto = 17 },
	{ .name = "gre", .proto = 47 },
};

const char *
cfg_proto_name(unsigned proto)
{
	for (size_t i = 0; i < ARRAY_LEN(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return NULL;
}

int
cfg_proto_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(protos); i++)
		if (strcmp(protos[i].name, name) == 0)
			return (int)protos[i].proto;
	return -1;
}

const char *const cfg_esp_mode_names[CFG_ESP_MODE__COUNT] = {
	[CFG_ESP_TUNNEL] = "tunnel",
	[CFG_ESP_TRANSPORT] = "transport",
};
static_assert(ARRAY_LEN(cfg_esp_mode_names) == CFG_ESP_MODE__COUNT, "ESP mode names");

const char *const cfg_pfs_names[CFG_PFS__COUNT] = {
	[CFG_PFS_NONE] = NULL,
	[CFG_PFS_GROUP14] = "group14",
	[CFG_PFS_GROUP19] = "group19",
};
static_assert(ARRAY_LEN(cfg_pfs_names) == CFG_PFS__COUNT, "PFS names");

const char *const cfg_dpd_mode_names[CFG_DPD_MODE__COUNT] = {
	[CFG_DPD_ON_DEMAND] = "ON_DEMAND",
	[CFG_DPD_PERIODIC] = "PERIODIC",
};
static_assert(ARRAY_LEN(cfg_dpd_mode_names) == CFG_DPD_MODE__COUNT, "DPD mode names");

const char *const cfg_ike_identity_names[CFG_IKE_ID__COUNT] = {
	[CFG_IKE_ID_ADDRESS] = "address",
	[CFG_IKE_ID_HOSTNAME] = "hostname",
	[CFG_IKE_ID_DN] = "dn",
};
static_assert(ARRAY_LEN(cfg_ike_identity_names) == CFG_IKE_ID__COUNT, "IKE identity names");

const char *const cfg_ike_auth_names[CFG_IKE_AUTH__COUNT] = {
	[CFG_IKE_AUTH_PSK] = "pre-share",
	[CFG_IKE_AUTH_RSA_SIG] = "rsa-sig",
	[CFG_IKE_AUTH_ECDSA_SIG] = "ecdsa-sig",
};
static_assert(ARRAY_LEN(cfg_ike_auth_names) == CFG_IKE_AUTH__COUNT, "IKE authentication names");

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
meta_clear(struct cfg_meta *m)
{
	free(m->description);
	m->description = NULL;
}

static void
meta_copy(struct cfg_meta *dst, const struct cfg_meta *src)
{
	*dst = *src;
	dst->description = dup_or_null(src->description);
}

static void
cfg_network_clear(struct cfg_network *n)
{
	meta_clear(&n->meta);
}

static void
cfg_internal_cert_clear(struct cfg_internal_cert *c)
{
	meta_clear(&c->meta);
	free(c->cert_pem);
	free_secret(c->key_pem);
	c->cert_pem = c->key_pem = NULL;
}

static void
cfg_ca_cert_clear(struct cfg_ca_cert *c)
{
	meta_clear(&c->meta);
	free(c->cert_pem);
	c->cert_pem = NULL;
}

static void
cfg_telemetry_clear(struct cfg_telemetry *t)
{
	meta_clear(&t->meta);
}

static void
cfg_psk_clear(struct cfg_psk *p)
{
	meta_clear(&p->meta);
	free_secret(p->key);
	p->key = NULL;
}

static void
meta_default(struct cfg_meta *m, const char *id, const char *name)
{
	memset(m, 0, sizeof(*m));
	str_copy(m->id, sizeof(m->id), id);
	str_copy(m->name, sizeof(m->name), name);
	str_copy(m->version, sizeof(m->version), CFG_VERSION_DEFAULT);
}

/* DPD off until a keepalive is configured, as on IOS. */
void
config_dpd_default(struct cfg_dpd *d)
{
	meta_default(&d->meta, CFG_DPD_ID, "dpd");
	d->keepalive_s = 0;
	d->retry_s = 2;
	d->retries = 5;
	d->mode = CFG_DPD_ON_DEMAND;
}

void
config_ike_settings_default(struct cfg_ike_settings *s)
{
	meta_default(&s->meta, CFG_IKE_SETTINGS_ID, "ike");
	s->identity = CFG_IKE_ID_ADDRESS;
	s->nat_keepalive_s = 20;
}

struct config *
config_new(void)
{
	struct config *c = xcalloc(1, sizeof(struct config));

	config_dpd_default(&c->dpd);
	config_ike_settings_default(&c->ike);
	return c;
}

static void *
array_dup(const void *src, size_t n, size_t size)
{
	void *dst;

	if (n == 0)
		return NULL;
	dst = xreallocarray(NULL, n, size);
	memcpy(dst, src, n * size);
	return dst;
}

/* The VPN objects hold no pointers but descriptions and PSK keys. */
static void
config_dup_vpn(struct config *c, const struct config *cfg)
{
	size_t i;

	c->ike_policies = array_dup(cfg->ike_policies, cfg->n_ike_policies,
				    sizeof(*c->ike_policies));
	c->n_ike_policies = cfg->n_ike_policies;
	for (i = 0; i < c->n_ike_policies; i++)
		meta_copy(&c->ike_policies[i].meta, &cfg->ike_policies[i].meta);

	c->psks = array_dup(cfg->psks, cfg->n_psks, sizeof(*c->psks));
	c->n_psks = cfg->n_psks;
	for (i = 0; i < c->n_psks; i++) {
		meta_copy(&c->psks[i].meta, &cfg->psks[i].meta);
		c->psks[i].key = dup_or_null(cfg->psks[i].key);
	}

	c->transform_sets = array_dup(cfg->transform_sets, cfg->n_transform_sets,
				      sizeof(*c->transform_sets));
	c->n_transform_sets = cfg->n_transform_sets;
	for (i = 0; i < c->n_transform_sets; i++)
		meta_copy(&c->transform_sets[i].meta, &cfg->transform_sets[i].meta);

	c->crypto_maps = array_dup(cfg->crypto_maps, cfg->n_crypto_maps,
				   sizeof(*c->crypto_maps));
	c->n_crypto_maps = cfg->n_crypto_maps;
	for (i = 0; i < c->n_crypto_maps; i++)
		meta_copy(&c->crypto_maps[i].meta, &cfg->crypto_maps[i].meta);

	c->ip_pools = array_dup(cfg->ip_pools, cfg->n_ip_pools, sizeof(*c->ip_pools));
	c->n_ip_pools = cfg->n_ip_pools;
	for (i = 0; i < c->n_ip_pools; i++)
		meta_copy(&c->ip_pools[i].meta, &cfg->ip_pools[i].meta);

	c->dynamic_maps = array_dup(cfg->dynamic_maps, cfg->n_dynamic_maps,
				    sizeof(*c->dynamic_maps));
	c->n_dynamic_maps = cfg->n_dynamic_maps;
	for (i = 0; i < c->n_dynamic_maps; i++)
		meta_copy(&c->dynamic_maps[i].meta, &cfg->dynamic_maps[i].meta);

	c->local_users = array_dup(cfg->local_users, cfg->n_local_users,
				   sizeof(*c->local_users));
	c->n_local_users = cfg->n_local_users;
	for (i = 0; i < c->n_local_users; i++)
		meta_copy(&c->local_users[i].meta, &cfg->local_users[i].meta);

	c->tunnel_ifs = array_dup(cfg->tunnel_ifs, cfg->n_tunnel_ifs, sizeof(*c->tunnel_ifs));
	c->n_tunnel_ifs = cfg->n_tunnel_ifs;
	for (i = 0; i < c->n_tunnel_ifs; i++)
		meta_copy(&c->tunnel_ifs[i].meta, &cfg->tunnel_ifs[i].meta);

	c->dpd = cfg->dpd;
	meta_copy(&c->dpd.meta, &cfg->dpd.meta);
	c->ike = cfg->ike;
	meta_copy(&c->ike.meta, &cfg->ike.meta);
	c->ike.crls_pem = dup_or_null(cfg->ike.crls_pem);
}

struct config *
config_dup(const struct config *cfg)
{
	struct config *c = config_new();
	size_t i;

	c->networks = array_dup(cfg->networks, cfg->n_networks, sizeof(*c->networks));
	c->n_networks = cfg->n_networks;
	for (i = 0; i < c->n_networks; i++)
		meta_copy(&c->networks[i].meta, &cfg->networks[i].meta);

	c->internal_certs = array_dup(cfg->internal_certs, cfg->n_internal_certs,
				      sizeof(*c->internal_certs));
	c->n_internal_certs = cfg->n_internal_certs;
	for (i = 0; i < c->n_internal_certs; i++) {
		struct cfg_internal_cert *d = &c->internal_certs[i];
		const struct cfg_internal_cert *s = &cfg->internal_certs[i];

		meta_copy(&d->meta, &s->meta);
		d->cert_pem = dup_or_null(s->cert_pem);
		d->key_pem = dup_or_null(s->key_pem);
	}

	c->ca_certs = array_dup(cfg->ca_certs, cfg->n_ca_certs, sizeof(*c->ca_certs));
	c->n_ca_certs = cfg->n_ca_certs;
	for (i = 0; i < c->n_ca_certs; i++) {
		meta_copy(&c->ca_certs[i].meta, &cfg->ca_certs[i].meta);
		c->ca_certs[i].cert_pem = dup_or_null(cfg->ca_certs[i].cert_pem);
	}

	if (cfg->telemetry != NULL) {
		c->telemetry = xmalloc(sizeof(*c->telemetry));
		*c->telemetry = *cfg->telemetry;
		meta_copy(&c->telemetry->meta, &cfg->telemetry->meta);
	}
	config_dup_vpn(c, cfg);
	return c;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_networks; i++)
		cfg_network_clear(&cfg->networks[i]);
	free(cfg->networks);
	for (i = 0; i < cfg->n_internal_certs; i++)
		cfg_internal_cert_clear(&cfg->internal_certs[i]);
	free(cfg->internal_certs);
	for (i = 0; i < cfg->n_ca_certs; i++)
		cfg_ca_cert_clear(&cfg->ca_certs[i]);
	free(cfg->ca_certs);
	if (cfg->telemetry != NULL) {
		cfg_telemetry_clear(cfg->telemetry);
		free(cfg->telemetry);
	}
	for (i = 0; i < cfg->n_ike_policies; i++)
		meta_clear(&cfg->ike_policies[i].meta);
	free(cfg->ike_policies);
	for (i = 0; i < cfg->n_psks; i++)
		cfg_psk_clear(&cfg->psks[i]);
	free(cfg->psks);
	for (i = 0; i < cfg->n_transform_sets; i++)
		meta_clear(&cfg->transform_sets[i].meta);
	free(cfg->transform_sets);
	for (i = 0; i < cfg->n_crypto_maps; i++)
		meta_clear(&cfg->crypto_maps[i].meta);
	free(cfg->crypto_maps);
	for (i = 0; i < cfg->n_ip_pools; i++)
		meta_clear(&cfg->ip_pools[i].meta);
	free(cfg->ip_pools);
	for (i = 0; i < cfg->n_dynamic_maps; i++)
		meta_clear(&cfg->dynamic_maps[i].meta);
	free(cfg->dynamic_maps);
	for (i = 0; i < cfg->n_local_users; i++) {
		meta_clear(&cfg->local_users[i].meta);
		OPENSSL_cleanse(cfg->local_users[i].password_hash,
				sizeof(cfg->local_users[i].password_hash));
	}
	free(cfg->local_users);
	for (i = 0; i < cfg->n_tunnel_ifs; i++)
		meta_clear(&cfg->tunnel_ifs[i].meta);
	free(cfg->tunnel_ifs);
	meta_clear(&cfg->dpd.meta);
	meta_clear(&cfg->ike.meta);
	free(cfg->ike.crls_pem);
	free(cfg);
}

const struct cfg_network *
config_network_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_networks; i++)
		if (strcmp(cfg->networks[i].meta.id, id) == 0)
			return &cfg->networks[i];
	return NULL;
}

const struct cfg_internal_cert *
config_internal_cert_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_internal_certs; i++)
		if (strcmp(cfg->internal_certs[i].meta.id, id) == 0)
			return &cfg->internal_certs[i];
	return NULL;
}

const struct cfg_ca_cert *
config_ca_cert_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_ca_certs; i++)
		if (strcmp(cfg->ca_certs[i].meta.id, id) == 0)
			return &cfg->ca_certs[i];
	return NULL;
}

const struct cfg_ike_policy *
config_ike_policy_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_ike_policies; i++)
		if (strcmp(cfg->ike_policies[i].meta.id, id) == 0)
			return &cfg->ike_policies[i];
	return NULL;
}

const struct cfg_psk *
config_psk_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_psks; i++)
		if (strcmp(cfg->psks[i].meta.id, id) == 0)
			return &cfg->psks[i];
	return NULL;
}

const struct cfg_transform_set *
config_transform_set_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_transform_sets; i++)
		if (strcmp(cfg->transform_sets[i].meta.id, id) == 0)
			return &cfg->transform_sets[i];
	return NULL;
}

const struct cfg_crypto_map *
config_crypto_map_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_crypto_maps; i++)
		if (strcmp(cfg->crypto_maps[i].meta.id, id) == 0)
			return &cfg->crypto_maps[i];
	return NULL;
}

/* Masks are contiguous, so a larger mask value is a longer prefix. */
const struct cfg_psk *
config_psk_for(const struct config *cfg, uint32_t addr)
{
	const struct cfg_psk *best = NULL;

	for (size_t i = 0; i < cfg->n_psks; i++) {
		const struct cfg_psk *p = &cfg->psks[i];

		if ((addr & p->mask) != p->addr)
			continue;
		if (best == NULL || p->mask > best->mask)
			best = p;
	}
	return best;
}

const struct cfg_ip_pool *
config_ip_pool_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_ip_pools; i++)
		if (strcmp(cfg->ip_pools[i].meta.id, id) == 0)
			return &cfg->ip_pools[i];
	return NULL;
}

const struct cfg_dynamic_map *
config_dynamic_map_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_dynamic_maps; i++)
		if (strcmp(cfg->dynamic_maps[i].meta.id, id) == 0)
			return &cfg->dynamic_maps[i];
	return NULL;
}

const struct cfg_local_user *
config_local_user_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_local_users; i++)
		if (strcmp(cfg->local_users[i].meta.id, id) == 0)
			return &cfg->local_users[i];
	return NULL;
}

const struct cfg_tunnel_if *
config_tunnel_if_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_tunnel_ifs; i++)
		if (strcmp(cfg->tunnel_ifs[i].meta.id, id) == 0)
			return &cfg->tunnel_ifs[i];
	return NULL;
}
