/*
 * Two or three IKE engines in one cmocka test process, over a fake wire
 * and a fake clock: what the engine tests (test_ike_peers.c, the hostile
 * ones in test_ike_hostile.c) share. Packets queue until deliver(); time
 * moves only through run_until(), deadline by deadline, so every check is
 * exact. A frozen peer neither receives nor runs its timers (SIGSTOP).
 */
#ifndef TESTS_IKE_SIM_H
#define TESTS_IKE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "ike/ike_int.h"

#define NPEERS  3
#define QMAX    256
#define PKT_MAX IKE_MSG_MAX	/* messages 5/6 with an RSA chain exceed 2 KB */

struct pkt {
	int      to, from;		/* peers (to: -1 when nobody is there) */
	uint16_t dport, sport;
	uint32_t src_be;
	size_t   len;
	uint8_t  data[PKT_MAX];
};

/* The dataplane's traffic record of one remote peer, as esp/worker.c
 * keeps it (the engine reads it through the traffic hook): a peer is an
 * address and, for a remote-access client, its IKE port (clients behind
 * one NAT share the address). */
struct sim_record {
	int64_t  last_in, first_out;
	int      watch;
	uint32_t watch_be;		/* what the engine asked to watch, */
	uint16_t watch_port;		/* posted back as it was asked */
};

struct peer {
	struct ike    *ike;
	struct sim_record rec[NPEERS];	/* by remote peer (address, client port) */
	int            outbound_calls;	/* watched first packets posted to the engine */
	uint32_t       addr_be;
	int            frozen;		/* SIGSTOP: neither receives nor runs timers */
	uint64_t       sent;
	struct ike_child_sa last_installed;	/* its keys point to the two below */
	uint8_t        last_key_in[IKE_KEYMAT_MAX], last_key_out[IKE_KEYMAT_MAX];
	int            installed, activated, removed;	/* dataplane calls */
	struct {			/* the pairs its dataplane holds */
		uint32_t in, out;
		int      sends;		/* the outbound half is active */
	}              pairs[16];
	int            npairs;
};

extern struct peer peers[NPEERS];	/* 192.0.2.1, .2, .3 */
extern struct pkt  queue[QMAX];	/* packets in flight: queue[qhead..qtail) mod QMAX */
extern size_t      qhead, qtail;
extern int64_t     now_ms;
extern uint64_t    keepalives_seen;
/* Per-test options of setup_peers (teardown_peers resets them). */
extern int         test_pfs, test_fqdn, test_force_encap;
/* Peer i's crypto-map selector instead of its site's networks (when its
 * src_mask_be is set), and transport mode for every transform set. */
extern struct ike_selector test_sel[NPEERS];
extern int         test_transport;
extern unsigned    test_ike_life, test_child_life;
extern int         test_initiator;	/* the peer that initiates: 0, or 1 (to peer 0) */
extern int         test_both_initiate;	/* peers 0 and 1 both initiate, at once */
/* Main Mode with signatures: peer i's policy method, certificates
 * and identity; setup_peers hands them to the engine, which copies them. */
struct sim_auth {
	int   auth;			/* enum ike_auth_method of its policy; 0: PSK */
	int   auth2;			/* a second policy's (priority 20); 0: none */
	char *cert, *key, *cas, *crls;	/* PEM; NULL: none */
	int   identity_dn;
	char *fqdn;			/* identity hostname, with this name */
};
extern struct sim_auth test_auth[NPEERS];
/* Sees every packet as it is sent; returning 1 loses it on the wire. */
extern int       (*sim_tap)(const struct pkt *p);
/* A NAT in front of peer i: what it sends leaves from port nat_port[i],
 * what comes back to that port reaches the port it was sent from. With
 * nat_addr[i] set it also leaves from that address, and what is sent to
 * nat_addr[i]:nat_port[i] reaches peer i: peers behind one NAT share the
 * address and differ by port. */
extern uint16_t    nat_port[NPEERS];
extern uint32_t    nat_addr[NPEERS];

/* Peer 0 initiates to peer 1 (and with a_failover, then to peer 2); the
 * others answer it (with test_initiator 1, peer 1 initiates to peer 0). Site 0 protects 10.1.0.0/16, the others 10.2.0.0/16. */
void     setup_peers(int n, enum dpd_mode mode, int a_failover);
int      teardown_peers(void **state);
/* Delivers everything in flight (packets may cause more packets). */
void     deliver(void);
/* Runs every peer's timers at now_ms; returns the earliest deadline. */
int64_t  timers(void);
/* Advances the clock event by event until `until` (inclusive). */
void     run_until(int64_t until);
uint32_t ip(const char *s);
int      peer_of(uint32_t be);
/* The peer an engine sees at address be and, for a client, IKE port
 * client_port (0: by address alone), or -1. */
int      peer_at(uint32_t be, uint16_t client_port);
/* ESP as the dataplane records it, at now_ms: peer i verified a packet
 * from peer j; peer i sent one to peer j (posted to the engine only when
 * watched, as the dataplane does). Neither calls the engine otherwise. */
void     esp_from(int i, int j);
void     esp_to(int i, int j);
/* Peer i's tunnel's ISAKMP SA when established, else NULL. */
struct ike_sa *established_sa(int i);
/* Every message peer i dropped, whatever the reason. */
uint64_t drops(int i);

#endif
