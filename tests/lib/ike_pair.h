/*
 * Two IKE engines configured as each other's peer (site i protects
 * 10.i.0.0/16), for the in-process benchmark and the fuzzer, and the
 * in-memory wire between them.
 */
#ifndef TESTS_IKE_PAIR_H
#define TESTS_IKE_PAIR_H

#include "ike/ike.h"
#include "ike/wire.h"

/* Fills c (and m, psk, which c points to) for engine i of the pair;
 * engine 0 initiates. */
void ike_pair_conf(int i, const uint32_t addr_be[2], int group, int hash,
		   struct ike_conf *c, struct ike_map_conf *m, struct ike_psk_conf *psk);

#define IKE_PAIR_QUEUE 64	/* messages in flight; more are dropped, like a full link */

/* The pair's wire: engines send into the queue (ike_pair_send as their
 * transport, the wire as its ctx) and ike_pair_pump delivers. */
struct ike_pair_wire {
	struct ike *eng[2];
	uint32_t    addr[2];	/* network order; engine i has addr[i] */
	size_t      n;
	struct {
		int      to;
		uint16_t dport, sport;
		size_t   len;
		uint8_t  d[IKE_MSG_MAX];	/* messages 5/6 with an RSA chain are over 2 KB */
	} q[IKE_PAIR_QUEUE];
	/* Sees q[i] before it is delivered (NULL: nothing does); it may
	 * rewrite its d and len, or return 1 to lose it. */
	int (*tap)(struct ike_pair_wire *w, size_t i);
};

int    ike_pair_send(void *wire, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
		     const uint8_t *msg, size_t len);
/* Delivers what is queued, in order, and what the engines send meanwhile,
 * until the queue is empty (through the tap, when set); returns the number
 * of messages taken off the queue. */
size_t ike_pair_pump(struct ike_pair_wire *w, int64_t now);

#endif
