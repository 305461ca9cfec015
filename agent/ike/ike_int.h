/*
 * Private to agent/ike: the engine, its tunnels (one per crypto map entry),
 * ISAKMP SAs and Quick Mode exchanges, and the functions the exchange files
 * (ike_mm.c, ike_qm.c, ike_info.c) share with the core (ike.c).
 */
#ifndef IKE_IKE_INT_H
#define IKE_IKE_INT_H

#include "ike/crypto.h"
#include "ike/dpd.h"
#include "ike/ike.h"
#include "ike/wire.h"

#define IKE_NONCE_LEN    32	/* the nonces we make */
#define IKE_NONCE_MAX    256	/* the largest a peer may send (RFC 2409 5) */
#define IKE_QM_MAX       4	/* concurrent Quick Modes per ISAKMP SA */
#define IKE_CHILDREN_MAX 8	/* installed SA pairs per tunnel */

enum ike_sa_state {
	SA_MM_I1,		/* sent SA, waiting for the responder's SA */
	SA_MM_I2,		/* sent KE, waiting for KE */
	SA_MM_I3,		/* sent ID+HASH, waiting for ID+HASH */
	SA_MM_R1,		/* sent SA, waiting for KE */
	SA_MM_R2,		/* sent KE, waiting for ID+HASH */
	SA_ESTABLISHED,
	SA_DEAD,		/* being removed */
	SA__COUNT
};
extern const char *const ike_sa_state_names[SA__COUNT];	/* IOS-like: MM_SA_SETUP, QM_IDLE... */

/* Something we sent and may have to send again. */
struct ike_out {
	uint8_t  *msg;
	size_t    len;
	uint16_t  local_port;
	int64_t   next_ms;		/* next retransmission, 0 = a reply (resent on duplicates) */
	unsigned  tries;
};

enum qm_state { QM_I1, QM_R1, QM_DONE };

struct ike_qm {
	int            used;
	uint32_t       msgid;
	int            initiator;
	enum qm_state  state;
	uint8_t        iv[IKE_BLOCK];
	uint8_t        ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t         ni_len, nr_len;
	uint32_t       spi_in, spi_out;
	struct ike_dh *dh;			/* PFS */
	uint8_t        gqm[IKE_DH_MAX];	/* PFS shared secret */
	size_t         gqm_len;
	int            xform;			/* index into the map's transforms */
	struct ike_selector sel;
	struct ike_out out;
	uint8_t        last_in_hash[IKE_HASH_MAX];	/* duplicate detection */
};

struct ike_tunnel;

/* An installed SA pair and its lifetime schedule. */
struct ike_child {
	struct ike_child_sa sa;
	int64_t             soft_ms;	/* rekey (initiating side) */
	int64_t             hard_ms;	/* delete */
	int                 initiator;	/* we ran its Quick Mode as initiator */
	int                 rekeying;	/* a new Quick Mode is under way for it */
};

struct ike_sa {
	struct ike_sa     *next;
	struct ike        *ike;
	struct ike_tunnel *tunnel;		/* NULL for a responder SA until QM picks one */
	uint8_t            icookie[IKE_COOKIE_LEN], rcookie[IKE_COOKIE_LEN];
	int                initiator;
	enum ike_sa_state  state;
	uint32_t           peer_be;
	uint16_t           peer_port, local_port;
	int                peer_natt, peer_dpd, nat_here, nat_there, floated;
	/* negotiated */
	int                policy;		/* index into conf.policies */
	enum ike_hash      hash;
	int                group;
	unsigned           enc_key_len, lifetime_s;
	/* exchange material */
	struct ike_dh     *dh;
	uint8_t            gxi[IKE_DH_MAX], gxr[IKE_DH_MAX];
	size_t             gx_len;
	uint8_t            ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t             ni_len, nr_len;
	uint8_t           *sai_b;		/* initiator's SA payload body */
	size_t             sai_len;
	uint8_t            gxy[IKE_DH_MAX];
	size_t             gxy_len;
	const struct ike_psk_conf *psk;
	struct ike_p1_keys keys;
	uint8_t            iv[IKE_BLOCK];	/* phase-1 CBC chain */
	struct ike_out     out;
	uint8_t            last_in_hash[IKE_HASH_MAX];
	struct ike_qm      qm[IKE_QM_MAX];
	struct dpd         dpd;
	int64_t            created_ms, established_ms, expire_ms;
	int64_t            keepalive_ms;		/* next NAT-T keepalive, 0 = none */
	int                rekeying;		/* a successor is being negotiated */
};

/* One crypto map entry: the tunnel to the active peer of its list. */
struct ike_tunnel {
	struct ike_map_conf conf;
	size_t              active;		/* index into conf.peers_be */
	int                 up;
	struct ike_sa      *sa;			/* current ISAKMP SA, if any */
	struct ike_child    children[IKE_CHILDREN_MAX];
	size_t              nchildren;
	int64_t             retry_ms;		/* when to initiate again; 0 = not waiting */
	uint64_t            failovers[IKE_FAILOVER__COUNT];
	uint64_t            transitions_up, transitions_down;
	/* per configured peer: counters of retired SAs, failures, rekeys */
	struct dpd_counters retired_dpd[IKE_PEERS_MAX];
	uint64_t            failures[IKE_PEERS_MAX][IKE_FAIL__COUNT];
	uint64_t            rekeys[IKE_PEERS_MAX];
	uint64_t            peer_up[IKE_PEERS_MAX], peer_down[IKE_PEERS_MAX];
	int64_t             last_rtt_ms[IKE_PEERS_MAX], last_ack_ms[IKE_PEERS_MAX];
	int64_t             dead_ms[IKE_PEERS_MAX];	/* when DPD last declared it dead */
	int64_t             dead_last_rx_ms[IKE_PEERS_MAX];	/* its last proof of liveness then */
};

struct ike_stats {
	uint64_t rx_packets, rx_malformed, rx_no_sa, rx_bad_hash, rx_decrypt_fail;
	uint64_t rx_halfopen_drop, tx_packets, retransmits, established, failures;
	uint64_t nat_keepalives;
};

struct ike {
	struct ike_transport  tr;
	struct ike_dataplane  dp;
	struct ike_conf       conf;		/* deep copy */
	struct ike_tunnel    *tunnels;	/* one per conf.maps entry */
	size_t                ntunnels;
	struct ike_sa        *sas;
	size_t                halfopen;
	struct ike_stats      st;
};

/* ike.c: SA table, sending, encryption, logging helpers. */
struct ike_sa *ike_sa_new(struct ike *ike, int initiator, uint32_t peer_be, uint16_t peer_port,
			  int64_t now);
void ike_sa_delete(struct ike_sa *sa, int notify_peer, int64_t now);
const struct ike_psk_conf *ike_psk_for(const struct ike *ike, uint32_t peer_be);
struct ike_tunnel *ike_tunnel_for_peer(struct ike *ike, uint32_t peer_be);
/* Sends msg[0..len) and keeps it in out for retransmission (request) or
 * for answering duplicates (reply). */
void ike_send(struct ike_sa *sa, struct ike_out *out, struct wbuf *w, int request, int64_t now);
/* Sends a message nobody will retransmit (Informational). */
void ike_send_once(struct ike_sa *sa, const struct wbuf *w);
/* End of the payload chain (padding excluded): where HASH(1) input stops. */
size_t ike_chain_end(const struct ike_chain *c);
/* Decrypts a Quick Mode/Informational body with iv and parses its chain;
 * the first payload must be HASH. -1 if anything is off. */
int ike_p2_open(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
		uint8_t iv[IKE_BLOCK], struct ike_chain *c);
/* Pads, encrypts the body of a built message in place with iv (CBC chain
 * updated) and sets the length. Returns the final length or 0. */
size_t ike_encrypt_msg(struct ike_sa *sa, struct ike_builder *b, uint8_t iv[IKE_BLOCK]);
/* Decrypts the body after the header in place; returns the plaintext
 * length (padding included) or -1. iv is updated to the last cipher block. */
long ike_decrypt_body(struct ike_sa *sa, uint8_t *body, size_t len, uint8_t iv[IKE_BLOCK]);
/* HASH(1)-style message: computes prf(SKEYID_a, M-ID | rest) into the hash
 * payload that starts the body (hash_off = offset of its data). */
void ike_fill_hash1(struct ike_sa *sa, struct wbuf *w, size_t hash_off, uint32_t msgid,
		    const uint8_t *ni, size_t ni_len);
void ike_tunnel_up(struct ike_tunnel *t, int64_t now);
/* Index of peer_be in the tunnel's list, or -1. */
int  ike_tunnel_peer(const struct ike_tunnel *t, uint32_t peer_be);
/* Removes child k (dataplane, optional Delete to the peer). */
void ike_child_remove(struct ike *ike, struct ike_tunnel *t, size_t k, int notify, int64_t now);
/* Another established ISAKMP SA with the same peer, or NULL. */
struct ike_sa *ike_sa_sibling(struct ike *ike, const struct ike_sa *sa);
/* Counts a failed negotiation against the tunnel's peer. */
void ike_count_failure(struct ike_sa *sa, enum ike_fail_reason why);
void ike_tunnel_down(struct ike *ike, struct ike_tunnel *t, int reason, int64_t now);

/* ike_mm.c */
int  ike_mm_initiate(struct ike *ike, struct ike_tunnel *t, int64_t now);
void ike_mm_input(struct ike *ike, struct ike_sa *sa, const struct ike_hdr *h,
		  const struct ike_chain *c, uint32_t src_be, uint16_t src_port,
		  uint16_t local_port, int64_t now);

/* ike_qm.c */
int  ike_qm_initiate(struct ike_sa *sa, int64_t now);
void ike_qm_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
		  int64_t now);

/* ike_info.c */
void ike_info_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
		    int64_t now);
void ike_info_send_notify(struct ike_sa *sa, uint16_t type, const void *data, size_t len,
			  int64_t now);
void ike_info_send_delete(struct ike_sa *sa, uint8_t proto, const void *spis, uint8_t spi_size,
			  uint16_t nspis, int64_t now);

#endif
