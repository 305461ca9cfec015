/*
 * The configuration model: plain structs, no JSON. The API builds a whole
 * new config, validates it, persists it and hands it to main.c, which swaps
 * it in on the loop thread and frees the old one (STYLE practice 11).
 * Later issues add the VPN objects (IKE policies, crypto maps, DPD) here.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define CFG_NAME_MAX     128
#define CFG_VERSION_LEN  16
#define CFG_HOST_MAX     256
#define CFG_PEM_MAX      (64 * 1024)

/* Every API object: id (UUID), unique name, version (changes on update). */
struct cfg_meta {
	char id[UUID_STR_LEN];
	char name[CFG_NAME_MAX];
	char version[CFG_VERSION_LEN];
	char *description;		/* optional, may be NULL */
};

/* A reference {id, name, type} to another object, resolved by id. */
struct cfg_ref {
	char id[UUID_STR_LEN];
};

enum cfg_net_subtype { CFG_NET_HOST, CFG_NET_FQDN, CFG_NET__COUNT };
extern const char *const cfg_net_subtype_names[CFG_NET__COUNT];	/* "HOST", "FQDN" */

struct cfg_network {
	struct cfg_meta      meta;
	enum cfg_net_subtype subtype;
	char                 value[CFG_HOST_MAX];	/* IPv4 address or FQDN */
};

struct cfg_internal_cert {
	struct cfg_meta meta;
	char           *cert_pem;
	char           *key_pem;	/* secret: never returned, wiped on free */
};

struct cfg_ca_cert {
	struct cfg_meta meta;
	char           *cert_pem;
};

struct cfg_telemetry {
	struct cfg_meta meta;
	uint16_t        port;
	struct cfg_ref  target_host;	/* cfg_network */
	struct cfg_ref  client_cert;	/* cfg_internal_cert */
	struct cfg_ref  ca_cert;	/* cfg_ca_cert */
	unsigned        retry_interval_s;	/* default 300 */
	unsigned        min_interval_s;		/* default 60; lower only for tests */
};

struct config {
	struct cfg_network       *networks;
	size_t                    n_networks;
	struct cfg_internal_cert *internal_certs;
	size_t                    n_internal_certs;
	struct cfg_ca_cert       *ca_certs;
	size_t                    n_ca_certs;
	struct cfg_telemetry     *telemetry;	/* NULL: streaming not configured */
};

struct config *config_new(void);
struct config *config_dup(const struct config *cfg);
void config_free(struct config *cfg);

const struct cfg_network *config_network_by_id(const struct config *cfg, const char *id);
const struct cfg_internal_cert *config_internal_cert_by_id(const struct config *cfg,
							   const char *id);
const struct cfg_ca_cert *config_ca_cert_by_id(const struct config *cfg, const char *id);

#endif
