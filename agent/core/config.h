/*
 * The configuration model: plain structs, no JSON. The API builds a whole
 * new config, validates it, persists it and hands it to main.c, which swaps
 * it in on the loop thread and frees the old one (STYLE practice 11).
 * The VPN objects follow the telemetry ones: addresses
 * are host-byte-order uint32_t, lists are fixed arrays with a named cap.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "core/xform.h"

#define CFG_NAME_MAX     128
#define CFG_VERSION_LEN  16
#define CFG_HOST_MAX     256
#define CFG_PEM_MAX      (64 * 1024)
#define CFG_OBJECTS_DEFAULT 100000	/* objects per collection (vpn-agent --max-objects) */

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

/* ---- VPN: IKE policies, pre-shared keys, transform sets, crypto maps ---- */

#define CFG_IKE_POLICIES_MAX 16	/* IKE policies: the engine proposes them all in one SA payload */
#define CFG_PSK_MAX        128	/* pre-shared key characters */
#define CFG_PEERS_MAX      10	/* peers of one crypto map entry */
#define CFG_MAP_XFORMS_MAX 6	/* transform sets of one crypto map entry */
#define CFG_MATCH_MAX      16	/* match-address lines of one crypto map entry */

/* `crypto isakmp policy N`. */
enum cfg_ike_enc { CFG_IKE_ENC_AES, CFG_IKE_ENC_AES256, CFG_IKE_ENC__COUNT };
extern const char *const cfg_ike_enc_names[CFG_IKE_ENC__COUNT];	/* "aes", "aes-256" */
enum cfg_ike_hash { CFG_IKE_HASH_SHA, CFG_IKE_HASH_SHA256, CFG_IKE_HASH__COUNT };
extern const char *const cfg_ike_hash_names[CFG_IKE_HASH__COUNT];	/* "sha", "sha256" */

/* `authentication pre-share | rsa-sig`, and ECDSA P-256 signatures (RFC 4754). */
enum cfg_ike_auth { CFG_IKE_AUTH_PSK, CFG_IKE_AUTH_RSA_SIG, CFG_IKE_AUTH_ECDSA_SIG,
		    CFG_IKE_AUTH__COUNT };
/* "pre-share", "rsa-sig", "ecdsa-sig" */
extern const char *const cfg_ike_auth_names[CFG_IKE_AUTH__COUNT];

struct cfg_ike_policy {
	struct cfg_meta   meta;
	enum cfg_ike_auth authentication;	/* default pre-share */
	unsigned          priority;	/* 1..10000, unique; lowest is proposed first */
	enum cfg_ike_enc  encryption;	/* AES-CBC-128 / AES-CBC-256 */
	enum cfg_ike_hash hash;		/* HMAC-SHA1 / HMAC-SHA-256 */
	unsigned          group;	/* DH group 2, 14 or 19 */
	unsigned          lifetime_s;	/* 60..86400, default 86400 */
};

/* `crypto isakmp key KEY address A MASK`; 0.0.0.0/0.0.0.0 is the wild card. */
struct cfg_psk {
	struct cfg_meta meta;
	char           *key;	/* secret: never returned, wiped on free */
	uint32_t        addr;	/* host byte order, no bits outside mask */
	uint32_t        mask;	/* contiguous; default 255.255.255.255 */
};

enum cfg_esp_enc { CFG_ESP_AES, CFG_ESP_AES256, CFG_ESP_GCM, CFG_ESP_GCM256, CFG_ESP_ENC__COUNT };
/* "esp-aes", "esp-aes-256", "esp-gcm", "esp-gcm-256" */
extern const char *const cfg_esp_enc_names[CFG_ESP_ENC__COUNT];
enum cfg_esp_auth { CFG_ESP_AUTH_NONE, CFG_ESP_AUTH_SHA1, CFG_ESP_AUTH_SHA256,
		    CFG_ESP_AUTH__COUNT };
/* NULL (JSON null: GCM), "esp-sha-hmac", "esp-sha256-hmac" */
extern const char *const cfg_esp_auth_names[CFG_ESP_AUTH__COUNT];
/* The transform an esp/auth pair names, and the names of a transform
 * (auth NONE: NULL). One vocabulary for IKE, the dataplane and views. */
void        cfg_esp_xform(enum cfg_esp_enc esp, enum cfg_esp_auth auth, enum esp_cipher *cipher,
			  unsigned *key_len, enum esp_auth *out_auth);
const char *cfg_esp_cipher_name(enum esp_cipher cipher, unsigned key_len);
const char *cfg_esp_auth_name(enum esp_auth auth);
enum cfg_esp_mode { CFG_ESP_TUNNEL, CFG_ESP_TRANSPORT, CFG_ESP_MODE__COUNT };
extern const char *const cfg_esp_mode_names[CFG_ESP_MODE__COUNT];	/* "tunnel", "transport" */

/* `crypto ipsec transform-set`: auth is NONE exactly when enc is GCM. */
struct cfg_transform_set {
	struct cfg_meta   meta;
	enum cfg_esp_enc  esp;
	enum cfg_esp_auth auth;
	enum cfg_esp_mode mode;		/* default tunnel */
};

/* An IPv4 prefix, host byte order, no host bits set: 10.1.0.0/16. */
struct cfg_prefix {
	uint32_t addr;
	unsigned len;			/* 0..32 */
};

/* One `permit PROTO SRC [eq PORT] DST [eq PORT]` line of the match-address
 * ACL: `permit ip` carries everything between the networks,
 * `permit gre host A host B` only GRE between the two gateways. */
struct cfg_match {
	struct cfg_prefix src;		/* local protected network */
	struct cfg_prefix dst;		/* remote protected network */
	uint8_t           proto;	/* IP protocol number; 0 = ip (every protocol) */
	uint16_t          src_port;	/* tcp/udp only (`eq PORT`); 0 = any */
	uint16_t          dst_port;
};

/* The protocols a match line names (IOS's keywords): "ip" 0 (every
 * protocol), "icmp" 1, "tcp" 6, "udp" 17, "gre" 47; other numbers have
 * no name. */
const char *cfg_proto_name(unsigned proto);	/* NULL: a number without a name */
int         cfg_proto_parse(const char *name);	/* the number, or -1 */

enum cfg_pfs { CFG_PFS_NONE, CFG_PFS_GROUP14, CFG_PFS_GROUP19, CFG_PFS__COUNT };
extern const char *const cfg_pfs_names[CFG_PFS__COUNT];	/* NULL (JSON null), "group14", "group19" */

/* One crypto map entry (`crypto map NAME SEQ ipsec-isakmp`): entries are
 * tried in sequence order, then name order. */
struct cfg_crypto_map {
	struct cfg_meta  meta;
	unsigned         sequence;	/* 1..65535 */
	char             peers[CFG_PEERS_MAX][CFG_HOST_MAX];	/* IPv4 or host name, failover order */
	size_t           n_peers;	/* 1..CFG_PEERS_MAX, no duplicates */
	struct cfg_ref   transform_sets[CFG_MAP_XFORMS_MAX];	/* cfg_transform_set, in order */
	size_t           n_transform_sets;	/* 1..CFG_MAP_XFORMS_MAX, no duplicates */
	struct cfg_match match[CFG_MATCH_MAX];
	size_t           n_match;	/* 1..CFG_MATCH_MAX */
	enum cfg_pfs     pfs;		/* default none */
	unsigned         lifetime_s;	/* 120..86400, default 3600 */
	unsigned         lifetime_kb;	/* 2560..4294967295, default 4608000 */
	bool             force_encap;	/* ESP-in-UDP even without NAT; default false:
					 * plain ESP (IP protocol 50) unless NAT-D sees NAT */
	bool             initiate;	/* bring the tunnel up ourselves; default true */
};

/* `interface TunnelN`: a GRE tunnel interface (`tunnel mode gre ip`,
 * RFC 2784, no key or checksum) the agent provides as a TUN device of that
 * name. What the host routes into it leaves GRE-encapsulated from source to
 * destination, which a crypto map's `permit gre host SOURCE host
 * DESTINATION` line then protects, as on an IOS router. */
#define CFG_TUNNEL_IF_NAME_MAX 15	/* a Linux interface name (IFNAMSIZ - 1) */
#define CFG_TUNNEL_MTU_MIN     576
#define CFG_TUNNEL_MTU_MAX     1476	/* 1500 less the outer IP and GRE headers */
#define CFG_TUNNEL_MTU_DEFAULT 1400	/* room for ESP (and UDP) around it in 1500 */
struct cfg_tunnel_if {
	struct cfg_meta meta;		/* name: the device, [A-Za-z][A-Za-z0-9_.-]{0,14} */
	uint32_t        addr;		/* `ip address A M`: host order, host bits kept */
	unsigned        prefix_len;	/* 1..32 (31 and 32 allowed, as IOS) */
	uint32_t        source;		/* `tunnel source`: one of our addresses */
	uint32_t        destination;	/* `tunnel destination`: the peer gateway */
	unsigned        mtu;		/* `ip mtu`; CFG_TUNNEL_MTU_MIN..MAX, default 1400 */
	bool            shutdown;	/* `shutdown`: administratively down */
};

/* ---- remote access: address pools, dynamic crypto maps, users ---- */

#define CFG_POOL_SIZE_MAX  65536	/* addresses in one pool */
#define CFG_DNS_MAX        2	/* DNS servers pushed to a client (INTERNAL_IP4_DNS) */
#define CFG_SPLIT_MAX      16	/* split-tunnel networks (UNITY_SPLIT_INCLUDE) */
#define CFG_PASSWORD_MAX   128	/* XAUTH password characters */
#define CFG_PWHASH_MAX     192	/* the stored hash string (core/passwd.h) */

/* `ip local pool NAME START END`: the addresses Mode Config hands out.
 * Pools do not overlap. */
struct cfg_ip_pool {
	struct cfg_meta meta;
	uint32_t        start, end;	/* host byte order, start <= end, at most
					 * CFG_POOL_SIZE_MAX addresses */
	uint32_t        netmask;	/* INTERNAL_IP4_NETMASK sent with an address;
					 * default 255.255.255.255 */
};

/* `crypto dynamic-map NAME SEQ` bound by `crypto map MAP SEQ ipsec-isakmp
 * dynamic NAME`, with the map's `client configuration address
 * initiate|respond` and `client authentication` lines: answers any peer
 * that authenticates. Tried after every static crypto map, in sequence
 * order, then name order. */
struct cfg_dynamic_map {
	struct cfg_meta   meta;
	unsigned          sequence;	/* 1..65535 */
	struct cfg_ref    transform_sets[CFG_MAP_XFORMS_MAX];	/* cfg_transform_set */
	size_t            n_transform_sets;	/* 1..CFG_MAP_XFORMS_MAX, no duplicates */
	struct cfg_match  match[CFG_MATCH_MAX];	/* src: local networks clients may reach,
						 * dst: client addresses allowed */
	size_t            n_match;	/* 0..CFG_MATCH_MAX; 0 = what the client proposes */
	enum cfg_pfs      pfs;		/* default none */
	unsigned          lifetime_s;	/* 120..86400, default 3600 */
	unsigned          lifetime_kb;	/* 2560..4294967295, default 4608000 */
	struct cfg_ref    address_pool;	/* cfg_ip_pool; id "" = none (no Mode Config) */
	bool              config_initiate;	/* push: SET/ACK; default false */
	bool              config_respond;	/* pull: REQUEST/REPLY; default true */
	uint32_t          dns[CFG_DNS_MAX];	/* host byte order */
	size_t            n_dns;
	struct cfg_prefix split[CFG_SPLIT_MAX];	/* pushed as UNITY_SPLIT_INCLUDE */
	size_t            n_split;
	bool              xauth;	/* clients must pass XAUTH (localusers); default false */
};

/* `username NAME secret ...`: an XAUTH user; meta.name is the user name. */
struct cfg_local_user {
	struct cfg_meta meta;
	char            password_hash[CFG_PWHASH_MAX];	/* core/passwd.h format; secret:
							 * never returned */
};

/* ---- singletons: always present, fixed id, defaults until changed ------ */

#define CFG_DPD_ID          "6f1c2f0a-8c36-4d1e-9a51-0d3f5b7e2a01"
#define CFG_IKE_SETTINGS_ID "6f1c2f0a-8c36-4d1e-9a51-0d3f5b7e2a02"
#define CFG_VERSION_DEFAULT "000000000000"	/* version of the untouched defaults */

/* Same order as agent/ike/dpd.h's enum dpd_mode. */
enum cfg_dpd_mode { CFG_DPD_ON_DEMAND, CFG_DPD_PERIODIC, CFG_DPD_MODE__COUNT };
extern const char *const cfg_dpd_mode_names[CFG_DPD_MODE__COUNT];	/* "ON_DEMAND", "PERIODIC" */

/* `crypto isakmp keepalive SECONDS [RETRY] [periodic|on-demand]`. */
struct cfg_dpd {
	struct cfg_meta   meta;
	unsigned          keepalive_s;	/* 0 = off (default), else 10..3600 */
	unsigned          retry_s;	/* 2..60, default 2 */
	unsigned          retries;	/* 1..10, default 5 */
	enum cfg_dpd_mode mode;		/* default ON_DEMAND */
};

enum cfg_ike_identity { CFG_IKE_ID_ADDRESS, CFG_IKE_ID_HOSTNAME, CFG_IKE_ID_DN,
			CFG_IKE_ID__COUNT };
/* "address", "hostname", "dn" (the subject of our certificate, R-16.1) */
extern const char *const cfg_ike_identity_names[CFG_IKE_ID__COUNT];

#define CFG_IKE_CAS_MAX 16	/* trusted CAs for IKE certificates */

struct cfg_ike_settings {
	struct cfg_meta       meta;
	enum cfg_ike_identity identity;	/* default address */
	unsigned              nat_keepalive_s;	/* 0 = off, ..3600, default 20 */
	/* Certificate authentication: our certificate and key, the CAs
	 * that sign peers' certificates, and revocation lists. */
	struct cfg_ref        certificate;	/* cfg_internal_cert; id "" = none */
	struct cfg_ref        trusted_cas[CFG_IKE_CAS_MAX];	/* cfg_ca_cert */
	size_t                n_trusted_cas;
	char                 *crls_pem;	/* PEM X509 CRLs, concatenated; NULL = none */
};

struct config {
	struct cfg_network       *networks;
	size_t                    n_networks;
	struct cfg_internal_cert *internal_certs;
	size_t                    n_internal_certs;
	struct cfg_ca_cert       *ca_certs;
	size_t                    n_ca_certs;
	struct cfg_telemetry     *telemetry;	/* NULL: streaming not configured */

	struct cfg_ike_policy    *ike_policies;
	size_t                    n_ike_policies;
	struct cfg_psk           *psks;
	size_t                    n_psks;
	struct cfg_transform_set *transform_sets;
	size_t                    n_transform_sets;
	struct cfg_crypto_map    *crypto_maps;
	size_t                    n_crypto_maps;
	struct cfg_ip_pool       *ip_pools;
	size_t                    n_ip_pools;
	struct cfg_dynamic_map   *dynamic_maps;
	size_t                    n_dynamic_maps;
	struct cfg_local_user    *local_users;
	size_t                    n_local_users;
	struct cfg_tunnel_if     *tunnel_ifs;
	size_t                    n_tunnel_ifs;
	struct cfg_dpd            dpd;		/* always there */
	struct cfg_ike_settings   ike;		/* always there */
};

struct config *config_new(void);
struct config *config_dup(const struct config *cfg);
void config_free(struct config *cfg);

const struct cfg_network *config_network_by_id(const struct config *cfg, const char *id);
const struct cfg_internal_cert *config_internal_cert_by_id(const struct config *cfg,
							   const char *id);
const struct cfg_ca_cert *config_ca_cert_by_id(const struct config *cfg, const char *id);
const struct cfg_ike_policy *config_ike_policy_by_id(const struct config *cfg, const char *id);
const struct cfg_psk *config_psk_by_id(const struct config *cfg, const char *id);
const struct cfg_transform_set *config_transform_set_by_id(const struct config *cfg,
							   const char *id);
const struct cfg_crypto_map *config_crypto_map_by_id(const struct config *cfg, const char *id);
const struct cfg_ip_pool *config_ip_pool_by_id(const struct config *cfg, const char *id);
const struct cfg_dynamic_map *config_dynamic_map_by_id(const struct config *cfg, const char *id);
const struct cfg_local_user *config_local_user_by_id(const struct config *cfg, const char *id);
const struct cfg_tunnel_if *config_tunnel_if_by_id(const struct config *cfg, const char *id);
/* The key for a peer address (host byte order): the longest mask that
 * covers it, the wild card last; NULL when none does. */
const struct cfg_psk *config_psk_for(const struct config *cfg, uint32_t addr);
/* Defaults of the singletons (what config_new holds). */
void config_dpd_default(struct cfg_dpd *d);
void config_ike_settings_default(struct cfg_ike_settings *s);

#endif
