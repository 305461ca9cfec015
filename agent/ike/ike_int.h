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
#include "core/wheel.h"

#include <sys/queue.h>

#define IKE_NONCE_LEN    32	/* the nonces we make */
#define IKE_NONCE_MAX    256	/* the largest a peer may send (RFC 2409 5) */
#define IKE_QM_MAX       4	/* concurrent Quick Modes per ISAKMP SA */
#define IKE_CHILDREN_MAX 8	/* installed SA pairs per tunnel */
#define IKE_MSGIDS       64	/* Phase 2 message IDs remembered per SA and direction */
#define IKE_RESEND_MS    500	/* at most one resend of a stored reply per SA this often */
#define IKE_REKEY_OVERLAP_MS 5000	/* a replaced SA pair carries on this long */

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

struct ike_sa;
struct ike_qm;

/* Something we sent and may have to send again. */
struct ike_out {
	uint8_t  *msg;
	size_t    len;
	uint16_t  local_port;
	uint16_t  peer_port;		/* 0: wherever the SA's peer is now */
	int64_t   next_ms;		/* next retransmission, 0 = a reply (resent on duplicates) */
	unsigned  tries;
	struct wheel_timer timer;	/* at next_ms (ike_expired_retransmit) */
	struct ike_sa *sa;		/* whose it is: the SA's own message, */
	struct ike_qm *qm;		/* or one of its Quick Modes' */
};

enum qm_state { QM_I1, QM_R1, QM_DONE };

/* The nonces and PFS material of a Quick Mode, freed (wiped) once its
 * pair is installed: a finished exchange keeps only what answers a
 * retransmission. */
struct ike_qm_hs {
	uint8_t        ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t         ni_len, nr_len;
	struct ike_dh *dh;			/* PFS */
	uint8_t        gqm[IKE_DH_MAX];	/* PFS shared secret */
	size_t         gqm_len;
};

struct ike_qm {
	uint32_t       msgid;
	int            initiator;
	enum qm_state  state;
	int            dp_installed;		/* responder: its inbound half is in the dataplane */
	int64_t        started_ms;
	uint16_t       local_port, peer_port;	/* responder: where QM1 came from */
	uint8_t        iv[IKE_BLOCK];
	struct ike_qm_hs *k;			/* until the pair is installed */
	uint32_t       spi_in, spi_out;
	int            pfs;			/* a PFS exchange ran */
	int            xform;			/* index into the map's transforms */
	int            transport;		/* the mode agreed on (encapsulation mode) */
	struct ike_selector sel;
	uint8_t        id_type[2];		/* responder: IDci's and IDcr's, echoed */
	struct ike_out out;
	uint8_t        last_in_hash[IKE_HASH_MAX];	/* duplicate detection */
};

struct ike_tunnel;

/* What Main Mode needs until the SA is established; then wiped and freed,
 * so an idle SA holds only its keys (R-14.2: memory per tunnel). */
struct ike_p1_hs {
	struct ike_dh *dh;
	uint8_t        gxi[IKE_DH_MAX], gxr[IKE_DH_MAX];
	size_t         gx_len;
	uint8_t        ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t         ni_len, nr_len;
	uint8_t       *sai_b;			/* initiator's SA payload body */
	size_t         sai_len;
	uint8_t        gxy[IKE_DH_MAX];
	size_t         gxy_len;
};

/* Phase 2 message IDs an ISAKMP SA has used, newest over oldest:
 * the peer's, so that a replayed message is dropped, and ours, so that one
 * of our own messages sent back at us is (both directions share the keys). */
struct ike_msgids {
	uint32_t id[IKE_MSGIDS];
	unsigned next, n;
};

/* An installed SA pair and its lifetime schedule. */
struct ike_child {
	struct ike_child_sa sa;
	int64_t             soft_ms;	/* rekey (initiating side) */
	int64_t             hard_ms;	/* delete */
	int                 initiator;	/* we ran its Quick Mode as initiator */
	int                 rekeying;	/* a new Quick Mode is under way for it */
};

struct ike_sa {
	struct ike_sa     *next, **pprev;	/* ike->sas (ike_satab.c) */
	struct ike_sa     *cookie_next, *peer_next;	/* its hash chains */
	struct ike        *ike;
	struct ike_tunnel *tunnel;		/* NULL for a responder SA until QM picks one */
	uint8_t            icookie[IKE_COOKIE_LEN], rcookie[IKE_COOKIE_LEN];
	int                initiator;
	enum ike_sa_state  state;
	uint32_t           peer_be;
	uint16_t           peer_port, local_port;
	int                peer_natt, peer_dpd, nat_here, nat_there, floated;
	int                natd_seen;	/* the peer sent NAT-D payloads */
	/* negotiated */
	int                policy;		/* index into conf.policies */
	enum ike_hash      hash;
	int                group;
	unsigned           enc_key_len, lifetime_s;
	struct ike_p1_hs  *hs;			/* until established */
	const struct ike_psk_conf *psk;
	struct ike_p1_keys keys;
	uint8_t            iv[IKE_BLOCK];	/* phase-1 CBC chain */
	struct ike_out     out;
	uint8_t            last_in_hash[IKE_HASH_MAX];	/* last Phase 1 message accepted */
	int64_t            resent_ms;		/* last resend of a stored reply */
	struct ike_msgids  seen_in, seen_out;
	struct ike_qm     *qm[IKE_QM_MAX];	/* while an exchange runs; an initiator's
						 * finished one stays, to answer a
						 * retransmitted QM2 */
	struct dpd         dpd;
	int64_t            created_ms, established_ms, expire_ms;
	int                rekeying;		/* a successor is being negotiated */
	int                auth;		/* enum ike_auth_method negotiated */
	int                xauth;		/* negotiated XAUTHInitPreShared */
	int                refused;		/* authenticated, but nothing takes it */
	uint8_t            peer_id[16];		/* fingerprint of its ID payload (INITIAL-CONTACT
						 * and rekeys are per identity: clients behind
						 * one NAT share an address) */
	int                peer_id_set;		/* once the peer's ID verified */
	/* its timers (ike_timers.c); the Main Mode retransmission is out.timer */
	struct wheel_timer t_halfopen, t_dpd, t_keepalive, t_rekey, t_expire;
	/* responder bounds (ike_guard.c), while half-open */
	struct ike_src    *src;			/* its source's entry; NULL when not counted */
	int                known;		/* the source is a crypto-map peer */
	int                evictable;		/* in MM_R1: on the lists below */
	TAILQ_ENTRY(ike_sa) src_link;		/* src->r1, oldest first */
	TAILQ_ENTRY(ike_sa) unknown_link;	/* guard.unknown_r1, oldest first */
};
TAILQ_HEAD(ike_sa_fifo, ike_sa);

/* One crypto map entry: the tunnel to the active peer of its list. */
/* Counters of one configured peer of a tunnel, for the life of the
 * process (those of its retired SAs, failures, rekeys, transitions). */
struct ike_peer_stats {
	struct dpd_counters retired_dpd;
	uint64_t            failures[IKE_FAIL__COUNT];
	uint64_t            rekeys;
	uint64_t            up, down;
	int64_t             last_rtt_ms, last_ack_ms;
	int64_t             dead_ms;		/* when DPD last declared it dead */
	int64_t             dead_last_rx_ms;	/* its last proof of liveness then */
};

struct ike_client;

struct ike_tunnel {
	struct ike         *ike;
	struct ike_client  *client;		/* a remote-access client's, else NULL */
	const struct ike_map_conf *conf;	/* its entry in ike->conf.maps */
	struct ike_peer_stats *ps;		/* conf->npeers of them */
	size_t              active;		/* index into conf->peers_be */
	int                 up;
	struct ike_sa      *sa;			/* current ISAKMP SA, if any */
	struct ike_child   *children;		/* up to IKE_CHILDREN_MAX, grown as needed */
	size_t              nchildren, children_cap;
	int64_t             retry_ms;		/* when to initiate again; 0 = not waiting */
	uint64_t            failovers[IKE_FAILOVER__COUNT];
	uint64_t            transitions_up, transitions_down;
	struct wheel_timer  t_retry, t_children;	/* ike_timers.c; the array moves at
						 * configure: re-armed then */
};

struct ike_stats {
	uint64_t rx_packets, tx_packets, retransmits, established, failures;
	uint64_t nat_keepalives;
	uint64_t drops[IKE_DROP__COUNT];
	uint64_t err_notifies[IKE_ERR__COUNT], err_suppressed;
};

/* The SA table (ike_satab.c): hash chains by initiator cookie and by peer
 * address, 2^bits buckets each, keyed with a secret of the process. */
struct ike_satab {
	struct ike_sa **by_cookie, **by_peer;
	unsigned        bits;
	size_t          n;
	uint64_t        secret;
};

/* A hash from 32-bit keys to lists of 32-bit values (ike_tunnel.c):
 * open addressing over the keys, each list in an entry array. */
struct ike_tidx_slot {
	uint32_t key;
	uint32_t first, last;	/* entry index + 1; 0: an empty slot */
};
struct ike_tidx {
	struct ike_tidx_slot *slots;
	size_t                cap;	/* a power of two */
	struct { uint32_t value, next; } *ent;
	size_t                nent;
};

/* A token bucket: `rate` per second, at most `burst` saved up. */
struct ike_bucket {
	double  tokens;
	int64_t at_ms;
};

/* What the responder lets in (ike_guard.c, R-13.4): half-open SAs per
 * source and in total, the share of sources that are no crypto-map peer,
 * and the answer budgets. */
struct ike_guard {
	struct ike_src    **bucket;		/* sources with half-open SAs, by address */
	unsigned            bits;
	size_t              nsrc;
	struct ike_sa_fifo  unknown_r1;		/* evictable SAs of unknown sources */
	size_t              halfopen, halfopen_unknown;
	struct ike_bucket   reply, notify;
	uint32_t           *known;		/* crypto-map peer addresses, open addressing */
	size_t              known_cap;		/* a power of two, or 0 */
};

/* A transaction exchange (Mode Config, XAUTH) of a client's SA: our
 * request until it is answered, or our answer to the client's. */
struct ike_tx {
	uint32_t       msgid;
	uint8_t        type;			/* what we sent: IKE_CFG_* */
	int            xauth;			/* an XAUTH exchange (else Mode Config) */
	uint8_t        iv[IKE_BLOCK];
	struct ike_out out;
	uint8_t        last_in_hash[IKE_HASH_MAX];	/* of the request answered */
};

/* An address pool's leases (ike_client.c): a bit per address, handed out
 * next-fit; rebuilt from the clients at each configuration. */
struct ike_pool {
	uint64_t *used;
	uint32_t  inuse, cursor;
	uint64_t  exhausted;		/* clients refused: no address left */
};

/* A remote-access client: the tunnel a dynamic crypto map entry
 * makes for one peer that authenticated, with its own copy of the entry
 * (its address as the peer, its pairs' selectors), its lease and where
 * XAUTH and Mode Config stand. Freed when its tunnel goes down. */
struct ike_client {
	struct ike_tunnel     t;		/* t.client == this */
	struct ike_map_conf   map;
	struct ike_peer_stats ps;
	struct ike_client    *next, *prev;	/* ike->clients, newest first */
	struct ike_client    *hnext;		/* ike->client_hash chain */
	uint32_t              peer_be;
	uint16_t              port;		/* its first IKE source port: tells the
						 * clients behind one NAT apart */
	int                   dynmap;		/* index into conf.dynmaps */
	uint32_t              lease;		/* host order, 0: none */
	int                   lease_outside;	/* a configuration took it out of the pool:
						 * the client keeps it, the pool never gets it */
	int                   xauth_ok;		/* passed XAUTH, or none asked */
	int                   xauth_tried;	/* one attempt per connection */
	int                   cfg_done;		/* address given (and ACKed when pushed) */
	int                   going;		/* its tunnel is going down */
	char                  user[IKE_NAME_MAX];
	struct ike_tx        *tx_out, *tx_in;
	int64_t               connected_ms;
};

/* Engine-wide remote-access counters. */
struct ike_ra_stats {
	uint64_t connected, xauth_ok, xauth_failed, xauth_rate_limited, no_dynmap;
};

struct ike {
	struct ike_transport  tr;
	struct ike_dataplane  dp;
	struct ike_conf       conf;		/* deep copy */
	struct ike_tunnel    *tunnels;	/* one per conf.maps entry */
	size_t                ntunnels;
	struct ike_tidx       tidx;		/* peer address -> tunnels listing it */
	struct ike_tidx       pskidx;		/* /32 key address -> conf.psks index */
	uint32_t             *psk_wide;		/* the other keys (subnets, wild card) */
	size_t                npsk_wide;
	struct wheel          wheel;		/* every timer (ike_timers.c) */
	struct ike_sa        *sas;		/* every SA (ike_satab.c) */
	struct ike_satab      satab;
	struct ike_guard      guard;
	struct ike_stats      st;
	struct ike_client    *clients;		/* remote-access clients */
	struct ike_client   **client_hash;	/* by address and port */
	unsigned              client_bits;
	size_t                nclients;
	struct ike_pki       *pki;		/* certificates, or NULL */
	struct ike_pool      *pools;		/* one per conf.pools entry */
	size_t                npools;
	struct ike_bucket     xauth_bucket;
	struct ike_ra_stats   ra;
};

/* Why a tunnel goes down: the first two move it to the next peer of its
 * list (counted as IKE_FAILOVER_DPD / IKE_FAILOVER_IKE). */
enum ike_down {
	IKE_DOWN_DPD,		/* DPD declared the peer dead */
	IKE_DOWN_NEGOTIATION,	/* an exchange with the peer failed */
	IKE_DOWN_CLEARED,	/* clear crypto session: the peer is told, no failover */
	IKE_DOWN_ENDED,		/* deleted by the peer, INITIAL-CONTACT, lifetime: no failover */
};
/* Whether the peer hears of a deletion (a Delete payload). */
enum ike_tell { IKE_QUIET, IKE_TELL_PEER };
/* A message we send: a request is retransmitted until answered, a reply
 * is kept to answer a retransmission of the request. */
enum ike_msg_kind { IKE_REPLY, IKE_REQUEST };

/* ike_satab.c: the SA table. */
void ike_satab_init(struct ike *ike);
void ike_satab_free(struct ike *ike);	/* once every SA is gone */
void ike_satab_add(struct ike *ike, struct ike_sa *sa);	/* cookies and peer set */
void ike_satab_remove(struct ike *ike, struct ike_sa *sa);
/* The SA an inbound header names (its cookies), or NULL. */
struct ike_sa *ike_sa_find(struct ike *ike, const struct ike_hdr *h);
/* The SAs with one peer: the first, then each next (NULL at the end). A
 * caller that deletes the SA it holds starts again from the first. */
struct ike_sa *ike_sa_of_peer(struct ike *ike, uint32_t peer_be);
struct ike_sa *ike_sa_next_of_peer(struct ike_sa *sa);

/* ike.c: SAs, sending, encryption, logging helpers. */
/* Counts a dropped message under its reason, logs it (debug) with what
 * was wrong; returns -1 so handlers can `return ike_drop(...)`. */
int  ike_drop(struct ike *ike, enum ike_drop why, uint32_t src_be, const char *what);
/* A message that authenticated and is proven new (it answers what we
 * sent, or carries a DPD sequence number newer than any before) came from
 * local_port/src_port: the peer's NAT-T float or a NAT's new port is taken
 * now, never before or from anything less. */
void ike_sa_peer_moved(struct ike_sa *sa, uint16_t local_port, uint16_t src_port);
/* A message's fingerprint, to recognise a retransmission of it. */
void ike_msg_hash(const uint8_t *msg, size_t len, uint8_t h[IKE_HASH_MAX]);
/* Message-ID memory. */
int  ike_msgid_seen(const struct ike_sa *sa, uint32_t msgid);
void ike_msgid_note(struct ike_msgids *m, uint32_t msgid);
/* Sends out's message again (a retransmission, counted). */
void ike_resend(struct ike_sa *sa, struct ike_out *out);
/* Resends a stored reply, at most once per IKE_RESEND_MS (a replayed
 * request cannot make us a reflector). */
void ike_resend_reply(struct ike_sa *sa, struct ike_out *out, int64_t now);
/* An unprotected Informational with one error notify (Phase 1, RFC 2408
 * 5.x), rate-limited by notify_rate. */
void ike_send_error_plain(struct ike *ike, const uint8_t icookie[IKE_COOKIE_LEN],
			  const uint8_t rcookie[IKE_COOKIE_LEN], uint16_t local_port, uint32_t dst_be,
			  uint16_t dst_port, enum ike_err_notify err, int64_t now);
/* The same under an established ISAKMP SA. */
void ike_send_error(struct ike_sa *sa, enum ike_err_notify err, int64_t now);

/* A new SA in the table. The initiator's cookie is random when we
 * initiate; a responder takes icookie (the peer's) from its first message. */
struct ike_sa *ike_sa_new(struct ike *ike, int initiator, uint32_t peer_be, uint16_t peer_port,
			  const uint8_t *icookie, int64_t now);
void ike_sa_delete(struct ike_sa *sa, enum ike_tell tell, int64_t now);

/* Sends msg[0..len) and keeps it in out for retransmission (request) or
 * for answering duplicates (reply). */
void ike_send(struct ike_sa *sa, struct ike_out *out, struct wbuf *w, enum ike_msg_kind kind,
	      int64_t now);
/* The same, to where a request came from: the answer to a message that
 * authenticates but is not proven new (it may be a replay from anywhere)
 * goes back to its source, and the SA's ports stay as they are. */
void ike_send_to(struct ike_sa *sa, struct ike_out *out, struct wbuf *w, enum ike_msg_kind kind,
		 uint16_t local_port, uint16_t peer_port, int64_t now);
/* Sends a message nobody will retransmit (Informational); ports 0 are the
 * SA's. */
void ike_send_once(struct ike_sa *sa, const struct wbuf *w, uint16_t local_port,
		   uint16_t peer_port);
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

/* Frees (and wipes) the Main Mode material; NULL is fine. */
void ike_p1_hs_free(struct ike_p1_hs *hs);
/* Whether two SAs are with the same peer: the same address and, once both
 * have verified it, the same identity (clients behind one NAT differ). */
int  ike_sa_same_peer(const struct ike_sa *a, const struct ike_sa *b);
/* Another established ISAKMP SA with the same peer, or NULL. */
struct ike_sa *ike_sa_sibling(struct ike *ike, const struct ike_sa *sa);
/* Counts a failed negotiation against the tunnel's peer. */
void ike_count_failure(struct ike_sa *sa, enum ike_fail_reason why);

/* The peer's client port (ike_dataplane): its client's, else 0. */
uint16_t ike_sa_client_port(const struct ike_sa *sa);
/* An authenticated message that cannot be old proved the peer alive: DPD
 * takes it, and the dataplane's traffic record (on-demand DPD measures the
 * first packet out from it). */
void ike_sa_alive(struct ike_sa *sa, int64_t now);

/* ike_timers.c: every deadline is a timer on the wheel. */
#define IKE_TIMER_SLOTS 8192	/* of 10 ms: 82 s a turn, DPD and retransmissions in one */
void ike_timers_init(struct ike *ike, size_t slots);
void ike_timers_free(struct ike *ike);	/* once every SA is gone */
/* Arms (deadline) or cancels (0) one of an SA's or tunnel's timers. */
void ike_arm(struct ike *ike, struct wheel_timer *t, int64_t deadline);
void ike_out_init(struct ike_out *out, struct ike_sa *sa, struct ike_qm *qm);
void ike_sa_timers_init(struct ike_sa *sa);
void ike_sa_timers_cancel(struct ike_sa *sa);
/* After a DPD call that may move dpd.next_ms (all but dpd_liveness); with
 * nothing to ask (on-demand, no traffic), it asks the dataplane to watch. */
void ike_sa_dpd_arm(struct ike_sa *sa);
/* The peer's last proof of liveness as of now: DPD's, or newer ESP in the
 * dataplane's record (which DPD takes in only when it decides). */
int64_t ike_sa_last_rx(const struct ike_sa *sa);
/* The SA is established: its DPD, NAT keepalive, rekey and lifetime. */
void ike_sa_established_timers(struct ike_sa *sa, int64_t now);
/* A request went out (or a reply replaced it) through out. */
void ike_out_arm(struct ike_out *out);
void ike_out_done(struct ike_out *out);	/* answered: no more retransmissions */
void ike_tunnel_timers_init(struct ike *ike, struct ike_tunnel *t);
void ike_tunnel_timers_cancel(struct ike_tunnel *t);
/* After retry_ms changed, or the tunnel's pairs or their deadlines. */
void ike_tunnel_retry_arm(struct ike_tunnel *t);
void ike_tunnel_children_arm(struct ike_tunnel *t);

/* ike_tunnel.c: configuration, tunnels, their lookups and transitions. */
void ike_conf_free(struct ike_conf *c);
/* The key for a peer: its own (/32), else the most specific subnet's. */
const struct ike_psk_conf *ike_psk_for(const struct ike *ike, uint32_t peer_be);
/* The tunnel whose active peer it is, else the first that lists it. */
struct ike_tunnel *ike_tunnel_for_peer(struct ike *ike, uint32_t peer_be);
/* Every tunnel that lists peer_be, through the peer index: with *cursor 0
 * the first, then each next; NULL at the end. */
struct ike_tunnel *ike_tunnel_each_of_peer(struct ike *ike, uint32_t peer_be, uint32_t *cursor);
/* The first tunnel listing the peer with exactly this selector. */
struct ike_tunnel *ike_tunnel_for_selector(struct ike *ike, uint32_t peer_be,
					   const struct ike_selector *sel);
/* Index of peer_be in the tunnel's list, or -1. */
int  ike_tunnel_peer(const struct ike_tunnel *t, uint32_t peer_be);
/* An SA of the tunnel goes: its DPD counters stay with the tunnel's peer. */
void ike_tunnel_retire_sa(struct ike_tunnel *t, struct ike_sa *sa);
/* Removes child k (dataplane, optional Delete to the peer). */
void ike_child_remove(struct ike *ike, struct ike_tunnel *t, size_t k, enum ike_tell tell,
		      int64_t now);
void ike_tunnel_up(struct ike_tunnel *t, int64_t now);
void ike_tunnel_down(struct ike *ike, struct ike_tunnel *t, enum ike_down why, int64_t now);

/* A token bucket: takes one token if there is one; refills at `rate` per
 * second up to `burst`. A rate of 0 means no limit. */
int  ike_bucket_take(struct ike_bucket *b, unsigned rate, unsigned burst, int64_t now);

/* ike_guard.c: responder bounds and answer budgets. */
void ike_guard_init(struct ike *ike);
void ike_guard_free(struct ike *ike);
/* Rebuilds the set of crypto-map peers from ike->conf. */
void ike_guard_configure(struct ike *ike);
int  ike_guard_known(const struct ike *ike, uint32_t addr_be);
/* May a first message from src_be open a responder SA? 0, or the drop
 * reason (HALFOPEN_LIMIT, RATE_LIMITED); evicts the oldest unanswered SA
 * of the source (or of unknown sources) to make room when it can. */
int  ike_guard_admit(struct ike *ike, uint32_t src_be, int64_t now);
/* Counts a new responder SA admitted for its source. */
void ike_guard_track(struct ike *ike, struct ike_sa *sa);
/* The initiator answered our SA payload (message 3): no longer evictable. */
void ike_guard_progress(struct ike_sa *sa);
/* The SA is established or gone: its slot is free. */
void ike_guard_release(struct ike_sa *sa);
/* Budget for answering (again) an SA still unauthenticated. 1 = go. */
int  ike_guard_reply_ok(struct ike_sa *sa, int64_t now);
int  ike_guard_notify_ok(struct ike *ike, int64_t now);

/* ike_mm.c */
int  ike_mm_initiate(struct ike *ike, struct ike_tunnel *t, int64_t now);
/* A first message that matches no SA: checked, then maybe a new responder
 * SA (within the guard's bounds). */
void ike_mm_respond(struct ike *ike, const struct ike_hdr *h, const uint8_t *msg, size_t len,
		    uint32_t src_be, uint16_t src_port, uint16_t local_port, int64_t now);
/* A Main Mode message for sa, decrypted into c; iv is the CBC state after
 * it (NULL when it was not encrypted), taken only once it authenticates.
 * 0 when accepted, -1 when dropped (counted). */
int  ike_mm_input(struct ike *ike, struct ike_sa *sa, const struct ike_hdr *h,
		  const struct ike_chain *c, const uint8_t *iv, uint32_t src_be,
		  uint16_t src_port, uint16_t local_port, int64_t now);

/* ike_qm.c */
int  ike_qm_initiate(struct ike_sa *sa, int64_t now);
void ike_qm_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
		  uint16_t local_port, uint16_t src_port, int64_t now);
/* A Quick Mode that ran out of retransmissions: 1 when it was ours to
 * initiate (the caller fails the SA), 0 when it was an answer (dropped). */
int  ike_qm_expired(struct ike_sa *sa, struct ike_qm *qm);
/* Frees a Quick Mode's state (and the dataplane half of an unconfirmed
 * answer); the slot is empty after. */
void ike_qm_free(struct ike_sa *sa, struct ike_qm *qm);

/* ike_cert.c: certificates for Main Mode with signatures. */
#define IKE_SIG_MAX   512	/* RSA up to 4096 bits */
#define IKE_CERTS_MAX 4		/* CERT payloads taken from a peer (leaf, intermediates) */
#define IKE_DN_MAX    1024	/* a DER name */

enum ike_cert_fail {
	IKE_CERT_OK, IKE_CERT_EXPIRED, IKE_CERT_NOT_YET_VALID, IKE_CERT_UNKNOWN_CA,
	IKE_CERT_REVOKED, IKE_CERT_IDENTITY, IKE_CERT_BAD_SIGNATURE, IKE_CERT_INVALID,
	IKE_CERT__COUNT
};
extern const char *const ike_cert_fail_names[IKE_CERT__COUNT];

/* What a peer's message 5/6 brought: its CERT payloads (leaf first) and SIG. */
struct ike_cert_in {
	const uint8_t *der[IKE_CERTS_MAX];
	size_t         len[IKE_CERTS_MAX];
	size_t         n;
	const uint8_t *sig;
	size_t         sig_len;
};

struct ike_pki;
/* Parses the configuration's certificates (NULL when it has none). */
struct ike_pki *ike_pki_new(const struct ike_conf *c);
void     ike_pki_free(struct ike_pki *p);
/* We have a certificate and key for this method (RSA, ECDSA P-256). */
int      ike_pki_can_sign(const struct ike_pki *p, int auth);
/* Our certificate and its chain, DER, for CERT payloads; owned[] are to be
 * freed with OPENSSL_free. Returns how many. */
size_t   ike_pki_certs(const struct ike_pki *p, const uint8_t **der, size_t *len, size_t max,
		       uint8_t **owned);
/* Our subject (ID_DER_ASN1_DN), DER; 0 when none. */
size_t   ike_pki_subject(const struct ike_pki *p, uint8_t *out, size_t max);
/* The trusted CAs' names, for CERTREQ. */
size_t   ike_pki_ca_count(const struct ike_pki *p);
size_t   ike_pki_ca_name(const struct ike_pki *p, size_t i, uint8_t *out, size_t max);
/* SIG of a HASH_I/HASH_R; its length, 0 on failure. */
size_t   ike_pki_sign(const struct ike_pki *p, int auth, const uint8_t *hash, size_t hlen,
		      uint8_t *out, size_t max);
/* A peer's certificate (chain to a trusted CA at real_s, CRLs when given,
 * key usage), its identity against the certificate, and its signature of
 * hash. subject/serial name the leaf for the log. */
enum ike_cert_fail ike_pki_check_peer(const struct ike_pki *p, int auth,
				      const struct ike_cert_in *in, const struct ike_id_pl *id,
				      const uint8_t *hash, size_t hlen, int64_t real_s,
				      char *subject, size_t ssize, char *serial, size_t nsize);

/* ike_client.c: remote-access clients, their pools and selectors. */
/* An SA that authenticated as a responder and whose peer no crypto map
 * names: the first dynamic map entry for it makes it a client (its
 * tunnel), and XAUTH / Mode Config begin. -1 when none takes it. */
int  ike_client_attach(struct ike_sa *sa, int64_t now);
/* The client's tunnel went down: its lease goes back, it is freed. */
void ike_client_free(struct ike_client *cl);
const struct ike_dynmap_conf *ike_client_dynmap(const struct ike_client *cl);
/* Whether a Quick Mode's selector (src ours, dst the client's) is within
 * what the client's entry allows; narrowed to it in place when the entry
 * is narrower. 0 or -1. */
int  ike_client_selector(struct ike_client *cl, struct ike_selector *sel);
/* May the client negotiate IPsec SAs yet (XAUTH passed, address given)? */
int  ike_client_ready(const struct ike_client *cl);
/* Leases: an address of the client's pool, host order: its own older
 * connection's (which hands over its pairs too), else the one asked for
 * when free, else the next free one; 0 when the pool is exhausted
 * (counted). */
uint32_t ike_client_lease(struct ike_client *cl, uint32_t want, int64_t now);
/* A client authenticated again (a new ISAKMP SA of the same peer, old):
 * the new connection cl takes over the old one's address and its IPsec SA
 * pairs, which the client keeps using (IPsec SAs outlive the ISAKMP SA
 * that made them); the old one keeps its ISAKMP SA alone until that goes.
 * Returns the address. */
uint32_t ike_client_take_over(struct ike_client *cl, struct ike_client *old, int64_t now);
void ike_clients_configure(struct ike *ike, int64_t now);
void ike_clients_free(struct ike *ike);
/* The clients at one address: the first, then each next. */
struct ike_client *ike_client_of_peer(struct ike *ike, uint32_t peer_be);
struct ike_client *ike_client_next_of_peer(struct ike_client *cl);

/* ike_cfg.c: the transaction exchange (Mode Config, XAUTH). */
void ike_cfg_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
		   uint16_t local_port, uint16_t src_port, int64_t now);
/* The client's SA is up: XAUTH, then pushed Mode Config, as configured. */
void ike_cfg_start(struct ike_client *cl, int64_t now);
void ike_tx_free(struct ike_tx *tx);

/* ike_info.c */
void ike_info_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
		    uint16_t local_port, uint16_t src_port, int64_t now);
void ike_info_send_notify(struct ike_sa *sa, uint16_t type, const void *data, size_t len,
			  int64_t now);
void ike_info_send_delete(struct ike_sa *sa, uint8_t proto, const void *spis, uint8_t spi_size,
			  uint16_t nspis, int64_t now);

#endif
