/*
 * The IKEv1 engine as main.c sees it: give it a configuration, feed it
 * datagrams and the time, and it sends through the transport it was given.
 * No sockets and no clock of its own, so two engines can talk inside one
 * test process over a fake transport with a fake clock.
 */
#ifndef IKE_IKE_H
#define IKE_IKE_H

#include <stddef.h>
#include <stdint.h>

#include "core/xform.h"
#include "ike/dpd.h"

#define IKE_PORT       500
#define IKE_NATT_PORT  4500
#define IKE_NATT_KEEPALIVE 0xff
#define IKE_PEERS_MAX  10	/* per crypto map entry: CFG_PEERS_MAX */
#define IKE_SELECTORS_MAX 16	/* CFG_MATCH_MAX */
#define IKE_XFORMS_MAX 6	/* CFG_MAP_XFORMS_MAX */
#define IKE_POLICIES_MAX 16	/* CFG_IKE_POLICIES_MAX: the API refuses a 17th */
#define IKE_NAME_MAX   128	/* CFG_NAME_MAX, more than HOST_NAME_MAX */
#define IKE_PSK_MAX    (128 + 1)	/* CFG_PSK_MAX characters and the NUL */

/* ---- configuration (built by main.c from the config model) ------------ */

/* Phase 1 authentication of a policy (its IKE attribute value). */
enum ike_auth_method {
	IKE_AUTH_METHOD_PSK = 1,	/* pre-shared key */
	IKE_AUTH_METHOD_RSA = 3,	/* RSA signatures (RFC 2409 5.1) */
	IKE_AUTH_METHOD_ECDSA_P256 = 9,	/* ECDSA with SHA-256 on P-256 (RFC 4754) */
};

struct ike_policy_conf {		/* crypto isakmp policy N */
	unsigned priority;
	int      auth;			/* enum ike_auth_method */
	unsigned enc_key_len;		/* 16 (aes) or 32 (aes-256) */
	int      hash;			/* enum ike_hash */
	int      group;			/* 2, 14, 19 */
	unsigned lifetime_s;
};

struct ike_psk_conf {			/* crypto isakmp key K address A mask M */
	uint32_t addr_be, mask_be;
	char     key[IKE_PSK_MAX];
	size_t   key_len;
};


struct ike_xform_conf {			/* crypto ipsec transform-set */
	char                name[IKE_NAME_MAX];
	enum esp_cipher cipher;
	unsigned            key_len;	/* 16 or 32 */
	enum esp_auth   auth;
	int                 transport;	/* mode transport */
};

struct ike_selector {			/* access-list permit PROTO SRC [eq P] DST [eq P] */
	uint32_t src_be, src_mask_be;	/* local protected */
	uint32_t dst_be, dst_mask_be;	/* remote protected */
	uint16_t src_port, dst_port;	/* TCP/UDP, host order; 0 = any */
	uint8_t  proto;			/* IP protocol; 0 = any (`permit ip`) */
};
/* Field by field (the struct has padding). */
int ike_selector_equal(const struct ike_selector *a, const struct ike_selector *b);

struct ike_map_conf {			/* crypto map NAME SEQ ipsec-isakmp */
	char                  name[IKE_NAME_MAX];
	unsigned              seq;
	uint32_t              peers_be[IKE_PEERS_MAX];	/* ordered failover list */
	size_t                npeers;
	struct ike_xform_conf xforms[IKE_XFORMS_MAX];
	size_t                nxforms;
	struct ike_selector   sel[IKE_SELECTORS_MAX];
	size_t                nsel;
	int                   pfs_group;	/* 0, 14 or 19 */
	unsigned              lifetime_s;
	uint64_t              lifetime_kb;
	int                   force_encap;
	int                   initiate;
};

/* Remote access. */
#define IKE_DNS_MAX    2	/* CFG_DNS_MAX */
#define IKE_SPLIT_MAX  16	/* CFG_SPLIT_MAX */
#define IKE_PWHASH_MAX 192	/* CFG_PWHASH_MAX */

struct ike_pool_conf {			/* ip local pool NAME START END */
	char     name[IKE_NAME_MAX];
	uint32_t start, end;		/* host order */
	uint32_t netmask_be;
};

struct ike_net {
	uint32_t addr_be, mask_be;
};

/* crypto dynamic-map, bound into the crypto map set: `map` holds its name,
 * sequence, transforms, PFS, lifetimes and the selectors it allows (src:
 * local networks the clients reach, dst: client addresses; none: what the
 * client proposes, within its own lease); no peers, never initiates. */
struct ike_dynmap_conf {
	struct ike_map_conf map;
	int                 pool;		/* index into conf.pools, -1: no Mode Config */
	int                 cfg_push;	/* client configuration address initiate */
	int                 cfg_pull;	/* ... respond */
	int                 xauth;		/* clients must pass XAUTH */
	uint32_t            dns_be[IKE_DNS_MAX];
	size_t              ndns;
	struct ike_net      split[IKE_SPLIT_MAX];
	size_t              nsplit;
};

struct ike_user_conf {			/* username NAME secret ... */
	char name[IKE_NAME_MAX];
	char hash[IKE_PWHASH_MAX];	/* core/passwd.h */
};

struct ike_conf {
	uint32_t               local_be;	/* our IKE address */
	int                    identity_fqdn;	/* crypto isakmp identity hostname */
	int                    identity_dn;	/* crypto isakmp identity dn: our certificate's subject */
	/* Certificates, PEM, owned by the configuration (NULL: none):
	 * ours (its chain after it) and its key, the trusted CAs, CRLs. */
	char                  *cert_pem, *key_pem, *cas_pem, *crls_pem;
	char                   hostname[IKE_NAME_MAX];
	unsigned               nat_keepalive_s;
	struct dpd_settings    dpd;
	struct ike_policy_conf policies[IKE_POLICIES_MAX];
	size_t                 npolicies;
	struct ike_psk_conf   *psks;
	size_t                 npsks;
	struct ike_map_conf   *maps;
	size_t                 nmaps;
	struct ike_pool_conf  *pools;
	size_t                 npools;
	struct ike_dynmap_conf *dynmaps;	/* in the order they are tried */
	size_t                 ndynmaps;
	struct ike_user_conf  *users;
	size_t                 nusers;
	unsigned               xauth_rate;	/* XAUTH attempts per second, all clients
						 * together (default 20); a client gets
						 * one try per connection */
	/* Timers; tests shorten them explicitly, defaults otherwise. */
	unsigned               retransmit_ms;	/* first retransmission, doubles; default 2000 */
	unsigned               retransmit_tries;	/* default 5 */
	/* Responder bounds. A new responder SA is refused (or the
	 * oldest one of its kind that has not yet answered our SA payload
	 * evicted) when the total, the per-source or the unknown-source share
	 * is reached; halfopen_reserve slots only crypto-map peers may take.
	 * Answers to sources that are no crypto-map peer are rate-limited, in
	 * total and per source. */
	unsigned               halfopen_max;	/* default 1024 */
	unsigned               halfopen_per_source;	/* default 16 */
	unsigned               halfopen_reserve;	/* default 256 */
	unsigned               reply_rate;		/* per second, unknown sources; default 200 */
	unsigned               reply_rate_source;	/* per second and unknown source; default 10 */
	unsigned               notify_rate;		/* error notifies per second; default 10 */
	int                    no_child_rekey;	/* test setting: let IPsec SAs expire */
	int                    xauth_client;	/* test setting: propose XAUTHInitPreShared
						 * as a remote-access client does */
	int                    esp_udp_only;	/* the dataplane has no plain ESP: install
						 * UDP-encapsulated pairs only */
};

void ike_conf_defaults(struct ike_conf *c);

/* ---- the environment --------------------------------------------------- */

/* Sends one IKE message from local_port (500 or 4500; the transport adds
 * the non-ESP marker on 4500) to dst_be:dst_port. A one-byte 0xFF message
 * is a NAT-T keepalive (RFC 3948 2.3) and goes out as it is. */
struct ike_transport {
	void *ctx;
	int (*send)(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
		    const uint8_t *msg, size_t len);
};

/* An IPsec SA pair negotiated by Quick Mode, handed to the dataplane. */
struct ike_child_sa {
	uint32_t            spi_in, spi_out;	/* host order */
	uint32_t            peer_be;
	uint16_t            peer_port;		/* 4500 when UDP-encapsulated */
	uint16_t            client_port;	/* a remote-access client's first IKE port
						 * (several share one NAT address); 0 for
						 * a crypto map peer */
	int                 udp_encap;
	struct ike_selector sel;
	enum esp_cipher cipher;
	enum esp_auth   auth;
	unsigned            enc_key_len;
	int                 transport_mode;
	/* enc key | (auth key or GCM salt): the install call's own buffers,
	 * valid during that call only (NULL everywhere else) */
	const uint8_t      *key_in, *key_out;
	size_t              key_len;
	unsigned            lifetime_s;
	uint64_t            lifetime_kb;
	int64_t             created_ms;
	const char         *map;		/* crypto map name (valid during install) */
	unsigned            seq;
	int                 outbound_later;	/* install the inbound SA only; the
						 * outbound one waits for activate */
};

/* Called when a child SA pair is installed, starts sending, or is removed. */
struct ike_dataplane {
	void *ctx;
	void (*install)(void *ctx, const struct ike_child_sa *sa);
	void (*activate)(void *ctx, uint32_t spi_in);	/* after outbound_later */
	void (*remove)(void *ctx, uint32_t spi_in, uint32_t spi_out);
	/* The dataplane's record of a peer address, read when a DPD decision
	 * is due (R-14.1: nothing is posted per packet): its last proof of
	 * liveness and the first packet sent to it since (monotonic ms; none
	 * when first_out <= last_in). -1: no record.
	 * A peer is its address and, for a remote-access client, its first IKE
	 * port (client_port; 0 for a crypto map peer): clients behind one NAT
	 * share the address, and each has a record of its own. */
	int  (*traffic)(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t *last_in,
			int64_t *first_out);
	/* An IKE message proved the peer alive at `at`: the record measures
	 * later packets out from it. */
	void (*alive)(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t at);
	/* On-demand DPD has nothing to ask: call ike_peer_outbound() with the
	 * next first packet out to the peer (once). */
	void (*watch)(void *ctx, uint32_t peer_be, uint16_t client_port);
};

struct ike;
struct ike *ike_new(const struct ike_transport *tr, const struct ike_dataplane *dp);
/* The same with a timer wheel of timer_slots 10 ms slots (ike_new: 8192,
 * 82 s a turn, so DPD and retransmission timers are seen once each). An
 * engine with a few SAs (each peer of a load generator) does well with a
 * few dozen: a longer timer is then looked at once a turn. */
struct ike *ike_new_slots(const struct ike_transport *tr, const struct ike_dataplane *dp,
			  size_t timer_slots);
void ike_free(struct ike *ike);
/* Takes the new configuration (copied); tunnels of removed maps go down,
 * DPD settings apply to live SAs, new initiating maps start now. */
void ike_configure(struct ike *ike, const struct ike_conf *conf, int64_t now);

/* One datagram (non-ESP marker already removed). */
void ike_input(struct ike *ike, uint16_t local_port, uint32_t src_be, uint16_t src_port,
	       const uint8_t *msg, size_t len, int64_t now);
/* Runs the timers that are due (each deadline is an event on a timer wheel,
 * so the cost is what fires, not the number of SAs); returns the next
 * deadline (monotonic ms, 0 = none). */
int64_t ike_timer(struct ike *ike, int64_t now);

/* The first packet out to peer_be since its last proof of liveness, which
 * the dataplane was asked to watch for (on-demand DPD wakes up). */
void ike_peer_outbound(struct ike *ike, uint32_t peer_be, uint16_t client_port, int64_t now);

/* What the dataplane saw of the pair with inbound SPI spi_in. */
enum ike_child_limit {
	IKE_CHILD_SOFT,		/* 90 % of its volume: rekeyed by the side that set it up */
	IKE_CHILD_HARD,		/* all of its volume: deleted */
	IKE_CHILD_SEQ,		/* a sequence number near 2^32: rekeyed by
				 * whichever side sees it, whatever the volume and time */
};
void ike_child_volume(struct ike *ike, uint32_t peer_be, uint16_t client_port, uint32_t spi_in,
		      enum ike_child_limit what, int64_t now);

/* clear crypto session [remote A.B.C.D]: peer_be 0 = all. Returns count. */
int ike_clear(struct ike *ike, uint32_t peer_be, int64_t now);

/* ---- read-only views (metrics, API) ---------------------------------- */

enum ike_sa_view_state {
	IKE_VIEW_DOWN, IKE_VIEW_NEGOTIATING, IKE_VIEW_ESTABLISHED, IKE_VIEW_REKEYING,
	IKE_VIEW_DELETING, IKE_VIEW__COUNT
};
extern const char *const ike_view_state_names[IKE_VIEW__COUNT];	/* "down", ... */

enum ike_fail_reason {
	IKE_FAIL_TIMEOUT, IKE_FAIL_AUTH, IKE_FAIL_NO_PROPOSAL, IKE_FAIL_INVALID, IKE_FAIL_OTHER,
	IKE_FAIL__COUNT
};
extern const char *const ike_fail_reason_names[IKE_FAIL__COUNT];	/* "timeout", ... */

enum ike_failover_reason { IKE_FAILOVER_DPD, IKE_FAILOVER_IKE, IKE_FAILOVER_MANUAL, IKE_FAILOVER__COUNT };
extern const char *const ike_failover_reason_names[IKE_FAILOVER__COUNT];	/* "dpd", ... */

/* Cumulative per configured peer of a crypto map entry: the live SA's
 * counters plus those of every SA that retired. */
struct ike_peer_view {
	uint32_t               peer_be;
	int                    active;		/* the peer the tunnel uses now */
	int                    up;
	enum ike_sa_view_state state;
	int64_t                established_real_ms;	/* 0 when not established */
	struct dpd_counters    dpd;
	int64_t                dpd_rtt_ms;	/* -1 when none */
	int64_t                dpd_last_ack_real_ms;
	uint64_t               failures[IKE_FAIL__COUNT];
	uint64_t               rekeys;
	uint64_t               transitions_up, transitions_down;
	int64_t                last_rx_real_ms;	/* last proof of liveness, 0 = none */
	int64_t                dead_real_ms;		/* when last declared dead, 0 = never */
	int64_t                dead_last_rx_real_ms;	/* its last proof of liveness then */
};

struct ike_tunnel_view {
	const char           *map;		/* for a client: its dynamic crypto map */
	unsigned              seq;
	int                   dynamic;		/* a remote-access client */
	uint16_t              client_port;	/* its IKE port: the peer is address:port */
	uint32_t              client_addr_be;	/* its Mode Config address, 0 = none */
	const char           *user;		/* its XAUTH user, or NULL */
	int                   up;
	int                   initiate;	/* sets its tunnel up itself (not answer-only) */
	size_t                npeers;
	struct ike_peer_view  peers[IKE_PEERS_MAX];
	uint64_t              failovers[IKE_FAILOVER__COUNT];
};

/* One ISAKMP SA as `show crypto isakmp sa detail` shows it. */
struct ike_sa_view {
	uint32_t    peer_be, local_be;
	uint16_t    peer_port, local_port;
	uint8_t     icookie[8], rcookie[8];
	const char *state;		/* IOS names: MM_SA_SETUP, MM_KEY_EXCH, QM_IDLE */
	int         initiator;
	const char *encryption;		/* "aes" / "aes-256" */
	const char *hash;		/* "sha" / "sha256" */
	const char *auth;		/* "psk", "rsig" (RSA), "ecdsa" (IOS's Auth column) */
	int         group;
	int64_t     lifetime_left_s;	/* -1 while negotiating */
	int         dpd;		/* capability D */
	int         nat_t;		/* capability N: floated to 4500, ESP in UDP */
	/* NAT-D (RFC 3947 3.2): NULL when the peer sent none, else "none",
	 * "local" (we are behind NAT), "peer", "both", or "forced"
	 * (forceEncapsulation: NAT assumed) */
	const char *nat_detected;
	const char *map;		/* crypto map name, or NULL */
	unsigned    seq;
};

/* One installed ESP SA pair as `show crypto ipsec sa` shows it. */
struct ike_child_view {
	const char          *map;
	unsigned             seq;
	struct ike_child_sa  sa;	/* keys zeroed */
	int64_t              lifetime_left_s;
};

/* Why an inbound IKE message was dropped; the names are the
 * `reason` label of vpnagent_ike_dropped_messages_total. */
enum ike_drop {
	IKE_DROP_MALFORMED,	/* "malformed": header or payloads do not parse */
	IKE_DROP_NO_SA,		/* "no_sa": cookies (with the source) match no SA */
	IKE_DROP_UNEXPECTED,	/* "unexpected": not what the SA waits for (a Phase 1
				 * message to an established SA, a wrong port...) */
	IKE_DROP_DECRYPT_FAILED,	/* "decrypt_failed": no payload chain after decryption */
	IKE_DROP_BAD_HASH,	/* "bad_hash": HASH or Phase 1 authentication failed */
	IKE_DROP_NO_PROPOSAL,	/* "no_proposal": no IKE policy / transform set matches */
	IKE_DROP_NO_PSK,	/* "no_psk": no pre-shared key for the source */
	IKE_DROP_BAD_KE,	/* "bad_ke": key exchange or nonce refused */
	IKE_DROP_NO_CRYPTO_MAP,	/* "no_crypto_map": Quick Mode identities match no entry */
	IKE_DROP_REPLAY,	/* "replay": message ID or DPD sequence number seen before */
	IKE_DROP_HALFOPEN_LIMIT,	/* "halfopen_limit": responder bound reached */
	IKE_DROP_RATE_LIMITED,	/* "rate_limited": answer budget of the source spent */
	IKE_DROP_UNSUPPORTED,	/* "unsupported": an exchange we do not speak */
	/* Main Mode with signatures: the peer's certificate or signature */
	IKE_DROP_CERT_EXPIRED,	/* "cert_expired" */
	IKE_DROP_CERT_NOT_YET_VALID,	/* "cert_not_yet_valid" */
	IKE_DROP_CERT_UNKNOWN_CA,	/* "cert_unknown_ca": no chain to a trusted CA */
	IKE_DROP_CERT_REVOKED,	/* "cert_revoked": on a CRL */
	IKE_DROP_CERT_IDENTITY,	/* "cert_identity_mismatch": its ID is not the certificate's */
	IKE_DROP_BAD_SIGNATURE,	/* "bad_signature": SIG does not verify */
	IKE_DROP_CERT_INVALID,	/* "cert_invalid": none, unparsable, wrong key or usage */
	IKE_DROP__COUNT
};
extern const char *const ike_drop_names[IKE_DROP__COUNT];

/* Error notifies we send, label `type`. */
enum ike_err_notify {
	IKE_ERR_NO_PROPOSAL_CHOSEN,	/* "no_proposal_chosen" */
	IKE_ERR_INVALID_ID,		/* "invalid_id_information" */
	IKE_ERR_AUTH_FAILED,		/* "authentication_failed" */
	IKE_ERR_INVALID_CERT,		/* "invalid_certificate" */
	IKE_ERR_INVALID_CERT_AUTHORITY,	/* "invalid_cert_authority" */
	IKE_ERR_INVALID_SIGNATURE,	/* "invalid_signature" */
	IKE_ERR__COUNT
};
extern const char *const ike_err_notify_names[IKE_ERR__COUNT];

/* Engine-wide counters (`show crypto isakmp stats`). */
struct ike_stats_view {
	uint64_t rx_packets, tx_packets, retransmits, established, failures;
	uint64_t drops[IKE_DROP__COUNT];
	uint64_t err_notifies[IKE_ERR__COUNT];	/* sent */
	uint64_t err_notifies_suppressed;	/* over notify_rate */
	size_t   halfopen, halfopen_max;
	/* remote access */
	size_t   clients;			/* connected now */
	uint64_t clients_connected;		/* since start */
	uint64_t xauth_ok, xauth_failed, xauth_rate_limited;
};
void ike_stats_view(const struct ike *ike, struct ike_stats_view *out);

typedef void (*ike_sa_fn)(void *ctx, const struct ike_sa_view *v);
typedef void (*ike_child_fn)(void *ctx, const struct ike_child_view *v);
void ike_sas_view(struct ike *ike, int64_t now, ike_sa_fn fn, void *ctx);
void ike_children_view(struct ike *ike, int64_t now, ike_child_fn fn, void *ctx);

typedef void (*ike_tunnel_fn)(void *ctx, const struct ike_tunnel_view *v);
/* Calls fn once per configured crypto map entry, then once per connected
 * remote-access client. now/real_now convert the monotonic times to
 * wall-clock ones. */
void ike_tunnels_view(struct ike *ike, int64_t now, int64_t real_now, ike_tunnel_fn fn,
		      void *ctx);

/* An address pool (`show ip local pool`). */
struct ike_pool_view {
	const char *name;
	uint32_t    start_be, end_be;
	size_t      size, in_use;
	uint64_t    exhausted;		/* clients refused for want of an address */
};
typedef void (*ike_pool_fn)(void *ctx, const struct ike_pool_view *v);
void ike_pools_view(struct ike *ike, ike_pool_fn fn, void *ctx);

#endif
