/*
 * The client side of remote access for the engines of ike_sim.c: an engine
 * initiates Main Mode as a remote-access client does (xauth_client for
 * XAUTH) but does not speak the transaction exchange (Mode Config, XAUTH),
 * so this takes the headend's transaction messages off the wire, opens them
 * with the client SA's keys and answers them; it also crafts the Quick Mode
 * messages a client sends with a host identity (ID_IPV4_ADDR).
 */
#ifndef TESTS_IKE_SIM_CLIENT_H
#define TESTS_IKE_SIM_CLIENT_H

#include "ike_sim.h"

#define RA_HEADEND  1		/* the headend's peer; 0 and 2 are its clients */
#define RA_HOST     0xffffffffu	/* a /32 mask */
#define RA_HELD_MAX 16		/* held messages per client */
#define RA_SENT_MAX 8		/* our message IDs remembered per client */

/* An attribute to send: TV (tv set, value) or TLV (data, len; a REQUEST's
 * are empty). */
struct ra_attr {
	uint16_t    type;
	int         tv;
	uint16_t    value;
	const void *data;
	size_t      len;
};

/* A message from the headend, decrypted with the client SA's keys as they
 * were when it was sent (its HASH verified for exchange 6). */
struct ra_msg {
	struct pkt        raw;			/* as it crossed the wire */
	uint32_t          msgid;
	uint8_t           exchange;
	uint8_t           iv[IKE_BLOCK];	/* the CBC state after it: an answer continues it */
	uint8_t           body[IKE_MSG_MAX];
	struct ike_chain  c;
	struct ike_cfg_pl cfg;			/* exchange 6: its attribute payload */
};

/* A message a client sent, to send again byte for byte. */
struct ra_sent {
	uint32_t msgid;
	uint16_t id;				/* its attribute payload's identifier */
	uint8_t  msg[PKT_MAX];
	size_t   len;
};

/* A Quick Mode a client crafted (ra_qm1 ... ra_qm3). */
struct ra_qm {
	uint32_t         msgid, spi_in, spi_out;
	uint8_t          ni[IKE_NONCE_LEN], nr[IKE_NONCE_MAX];
	size_t           nr_len;
	struct ike_id_pl ids[2];		/* the answer's IDci, IDcr (into its ra_msg) */
};

extern int      ra_hold_quick;			/* also hold the headend's Quick Mode */
extern unsigned ra_isakmp_deletes[NPEERS];	/* ISAKMP Deletes the headend sent each client */

/* Peer `headend` is the headend: its transaction messages to the others are
 * held from now on (sim_tap; teardown_peers removes it). Resets what the
 * previous test left. */
void     ra_start(int headend);
/* Messages held for client j. */
size_t   ra_held(int j);
/* Takes the oldest message held for client j and opens it (asserts). */
void     ra_open(int j, struct ra_msg *m);
/* Builds a transaction message of client j (HASH, ATTR) under msgid with
 * iv (the CBC chain moves on); RA_BAD_HASH spoils the HASH. Returns its
 * length. It is remembered as ours (its IV opens the answer). */
#define RA_BAD_HASH 1
size_t   ra_build(int j, uint32_t msgid, const uint8_t iv[IKE_BLOCK], uint8_t type, uint16_t id,
		  const struct ra_attr *a, size_t n, int flags, struct ra_sent *out);
/* Sends what client j built (through its NAT, if any) and delivers. */
void     ra_send(int j, const struct ra_sent *s);
/* Client j's REQUEST under a fresh message ID, sent; returns the ID. */
uint32_t ra_request(int j, const struct ra_attr *a, size_t n, struct ra_sent *out);
/* Client j's answer (REPLY, ACK) to the headend's message m, sent. */
void     ra_answer(int j, const struct ra_msg *m, uint8_t type, const struct ra_attr *a,
		   size_t n, struct ra_sent *out);
/* XAUTH as a client does it: opens the held REQUEST, answers user/pass. */
void     ra_xauth(int j, const char *user, const char *pass, struct ra_sent *out);
/* The held XAUTH status (a SET), ACKed; returns the status. */
int      ra_xauth_status(int j);
/* The IPv4 address a Mode Config message carries (network order), 0: none. */
uint32_t ra_address(const struct ra_msg *m);
/* How many attributes of a type m carries. */
size_t   ra_count(const struct ra_msg *m, uint16_t type);

/* Quick Mode by hand: QM1 with IDci (ci_type: ID_IPV4_ADDR or subnet) and
 * IDcr (a subnet), one transform (AES-128, HMAC-SHA256, tunnel); the
 * headend's QM2 (held with ra_hold_quick) opened into m, HASH(2) verified,
 * its nonce, SPI and identities taken; HASH(3). */
void     ra_qm1(int j, struct ra_qm *q, uint8_t ci_type, uint32_t ci_be, uint32_t ci_mask_be,
		uint32_t cr_be, uint32_t cr_mask_be);
void     ra_qm2(int j, struct ra_qm *q, struct ra_msg *m);
void     ra_qm3(int j, const struct ra_qm *q, const struct ra_msg *m);

/* ---- the headend and its clients (ra_setup .. ra_teardown) ---- */

/* The headend's dynamic crypto map entry DYN 10: clients reach the LAN
 * 10.2.0.0/16 from 10.9.0.0/24 and get an address of RA-POOL (/24), DNS
 * 10.2.0.53 and .54, split networks 10.2.0.0/16 and 172.16.0.0/12; users
 * alice/wonderland and bob/builder; the wild-card key; periodic DPD 10 s,
 * 5 x 2 s. */
struct ra_opts {
	int         xauth, push;	/* the entry's XAUTH; Mode Config pushed (else pulled) */
	const char *first, *last;	/* its pool */
	unsigned    xauth_rate;		/* 0: the default */
	int         no_dynmap;		/* the entry removed */
};

/* Three engines: the headend (o) and clients 0 and 2; client 0 connects
 * at the first timers, client 2 too when both is set. */
void     ra_setup(const struct ra_opts *o, int both);
int      ra_teardown(void **state);
/* (Re)configures the headend. */
void     ra_headend(const struct ra_opts *o);
/* (Re)configures client j: its crypto map names the headend; with lease_be
 * its pairs protect lease/32 <-> the LAN, without it proposes none (a real
 * client waits for its address: the test starts Quick Mode). No DPD. */
void     ra_client(int j, int initiate, int xauth, uint32_t lease_be);
/* The headend's client that is peer j (where the headend sees it), or NULL. */
struct ike_client *ra_hclient(int j);
/* Client j pulls its address (asking for want_be when set): the REPLY's. */
uint32_t ra_pull(int j, uint32_t want_be);
/* Client j's engine negotiates a pair for lease/32 <-> the LAN. */
void     ra_client_qm(int j, uint32_t lease_be);
/* Client j's Quick Modes still waiting for an answer are given up. */
void     ra_client_qm_abandon(int j);

#endif
