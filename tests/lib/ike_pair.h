/*
 * Two IKE engines configured as each other's peer (site i protects
 * 10.i.0.0/16), for the in-process benchmark and the fuzzer.
 */
#ifndef TESTS_IKE_PAIR_H
#define TESTS_IKE_PAIR_H

#include "ike/ike.h"

/* Fills c (and m, psk, which c points to) for engine i of the pair;
 * engine 0 initiates. */
void ike_pair_conf(int i, const uint32_t addr_be[2], int group, int hash,
		   struct ike_conf *c, struct ike_map_conf *m, struct ike_psk_conf *psk);

#endif
