/*
 * GRE (RFC 2784) as the tunnel interfaces carry it (gre.c): the outer IPv4
 * and GRE headers put in front of an inner packet, and taken off again.
 * Pure functions over buffers, so the parser is fuzzed alone (fuzz_gre).
 */
#ifndef ESP_GRE_H
#define ESP_GRE_H

#include <stddef.h>
#include <stdint.h>

#define GRE_OUTER 24	/* outer IPv4 header (20, no options) and GRE header (4) */

/* buf holds the inner packet at buf + GRE_OUTER (IPv4 or IPv6, inner_len
 * bytes); the headers are written in front of it, from src to dst (network
 * order), protocol type after the inner version, the inner ToS copied (as
 * IOS does), TTL 255, the given IP identification. Returns the total. */
size_t gre_encap(uint8_t *buf, size_t inner_len, uint32_t src_be, uint32_t dst_be, uint16_t id);

/* pkt is an IPv4 packet of protocol GRE (its header checked by whoever
 * made it). 0 and the inner packet's offset, or -1: a fragment, too short,
 * reserved bits, key or sequence (RFC 2890, not configured), a version
 * other than 0, a bad checksum, a protocol type other than IPv4 and IPv6,
 * or nothing inside. */
int gre_decap(const uint8_t *pkt, size_t len, size_t *inner_off);

#endif
