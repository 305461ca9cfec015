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

const char *const cfg_net_subtype_names[CFG_NET__COUNT] = {
	[CFG_NET_HOST] = "HOST",
	[CFG_NET_FQDN] = "FQDN",
};
static_assert(ARRAY_LEN(cfg_net_subtype_names) == CFG_NET__COUNT, "network subtype names");

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

struct config *
config_new(void)
{
	return xcalloc(1, sizeof(struct config));
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
