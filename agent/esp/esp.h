/*
 * The ESP packet core (RFC 4303, RFC 4106): SAs with their OpenSSL EVP
 * contexts prepared once, output (sequence, padding, encrypt, ICV) and
 * input in the fixed order (parse, SA lookup, replay pre-check,
 * authenticate/decrypt, replay commit, padding check, selector check), the
 * SA database by SPI and the policy lookup by inner destination. No I/O:
 * the dataplane (dataplane.c) moves the bytes.
 */
#ifndef ESP_ESP_H
#define ESP_ESP_H

#include <stddef.h>
#include <stdint.h>

#include "core/xform.h"

#define ESP_HDR_LEN        8		/* SPI + sequence number */
#define ESP_PKT_MAX        65535
#define ESP_REPLAY_DEFAULT 64
#define ESP_REPLAY_MAX     4096	/* bits */
#define ESP_KEY_MAX        32
#define ESP_AUTH_KEY_MAX   32


/* Why a packet was dropped; the names are metric label values. NONE (0)
 * is what the packet functions return on success and is never counted:
 * exporters start at ESP_DROP_MALFORMED. */
enum esp_drop {
	ESP_DROP_NONE,		/* "none": not a drop */
	ESP_DROP_MALFORMED,	/* "malformed": too short, bad lengths, not IPv4 inside */
	ESP_DROP_NO_SA,		/* "no_sa": unknown SPI, or no SA for the policy */
	ESP_DROP_REPLAY,	/* "replay": duplicate or left of the window */
	ESP_DROP_AUTH_FAILED,	/* "auth_failed": ICV / GCM tag mismatch */
	ESP_DROP_BAD_PADDING,	/* "bad_padding": pad bytes not 1, 2, 3, ... */
	ESP_DROP_POLICY,	/* "policy": inner packet outside the SA's selectors */
	ESP_DROP_EXPIRED,	/* "expired": hard lifetime or sequence wrap */
	ESP_DROP_SEND_ERROR,	/* "send_error" (dataplane) */
	ESP_DROP_RECV_ERROR,	/* "recv_error" (dataplane) */
	ESP_DROP__COUNT
};
extern const char *const esp_drop_names[ESP_DROP__COUNT];

/* An IPv4 network, network byte order. */
struct esp_net {
	uint32_t addr_be, mask_be;
};

struct esp_sa_params {
	uint32_t        spi;		/* host order */
	enum esp_cipher cipher;
	enum esp_auth   auth;		/* NONE for GCM */
	uint8_t         key[ESP_KEY_MAX];	/* AES key */
	size_t          key_len;	/* 16 or 32 */
	uint8_t         auth_key[ESP_AUTH_KEY_MAX];	/* HMAC key; GCM: 4-byte salt */
	size_t          auth_key_len;	/* 20 (SHA1), 32 (SHA-256), 4 (GCM salt) */
	int             transport;	/* transport mode (else tunnel): local and
					 * remote are the two hosts (/32) */
	unsigned        replay_window;	/* bits, 0 = default 64; up to ESP_REPLAY_MAX */
	struct esp_net  local, remote;	/* selectors: local protected, remote protected */
	uint8_t         proto;		/* selector's IP protocol, 0 = any */
	uint16_t        local_port, remote_port;	/* TCP/UDP selector ports, host
							 * order, 0 = any */
};

/* A packet as selectors see it (RFC 4301 4.4.1.1): addresses, protocol
 * and, for TCP and UDP, the ports (known only in a first fragment). */
struct esp_flow {
	uint32_t src_be, dst_be;
	uint8_t  proto;
	uint16_t sport, dport;		/* host order */
	int      ports_known;
};
/* The flow of the IPv4 packet pkt[0..len); -1 when it is not one. */
int esp_flow_of(const uint8_t *pkt, size_t len, struct esp_flow *f);
/* Whether the flow is within an SA's selectors, seen from our side
 * (outbound: src local, dst remote; inbound the other way round). */
int esp_sa_covers(const struct esp_sa_params *p, const struct esp_flow *f, int outbound);

/* Per-SA counters as `show crypto ipsec sa` shows them. */
struct esp_counters {
	uint64_t packets, bytes;	/* encaps (out) or decaps (in), plaintext bytes */
	uint64_t encrypt_or_decrypt;	/* #pkts encrypt / decrypt */
	uint64_t digest_or_verify;	/* #pkts digest / verify */
	uint64_t drops[ESP_DROP__COUNT];
	int64_t  last_ms;		/* last packet in this direction (monotonic ms) */
};

struct esp_sa;	/* one direction */

/* Prepares the EVP contexts; NULL on bad parameters. */
struct esp_sa *esp_sa_new(const struct esp_sa_params *p, int outbound);
void           esp_sa_free(struct esp_sa *sa);	/* wipes keys */
uint32_t       esp_sa_spi(const struct esp_sa *sa);
const struct esp_counters *esp_sa_counters(const struct esp_sa *sa);
/* to += c (last_ms: the later one). */
void esp_counters_add(struct esp_counters *to, const struct esp_counters *c);
const struct esp_sa_params *esp_sa_params(const struct esp_sa *sa);
/* An opaque pointer for whoever installed the SA (the dataplane's pair),
 * so the packet path needs no second lookup. */
void           esp_sa_set_owner(struct esp_sa *sa, void *owner);
void          *esp_sa_owner(const struct esp_sa *sa);

/* ESP output for one inner IPv4 packet (tunnel mode: the whole packet,
 * next header 4; transport mode: its payload, next header its protocol,
 * the IP header left to the caller). Writes SPI | seq | IV | ciphertext (payload, padding, pad length,
 * next header) | ICV into out (cap bytes). 0, or a drop reason (EXPIRED on
 * sequence wrap: the SA must be rekeyed, it never wraps). */
int esp_output(struct esp_sa *sa, const uint8_t *inner, size_t len, uint8_t next_header,
	       uint8_t *out, size_t cap, size_t *outlen, int64_t now);
/* Bytes esp_output adds around len bytes of payload. */
size_t esp_overhead(const struct esp_sa *sa, size_t len);

/* The SA database: inbound SAs by SPI, outbound SAs by policy. */
struct esp_sad;
struct esp_sad *esp_sad_new(void);
void            esp_sad_free(struct esp_sad *sad);	/* frees the SAs it holds */
/* Takes ownership. Inbound: found by SPI. Outbound: found by policy
 * (the flow within the SA's selectors: remote ∋ destination, local ∋
 * source, protocol and ports); the newest matching outbound SA wins, so a
 * rekeyed pair takes over at once. */
int             esp_sad_add(struct esp_sad *sad, struct esp_sa *sa, int outbound);
/* Removes and frees; -1 if absent. */
int             esp_sad_remove(struct esp_sad *sad, uint32_t spi, int outbound);
struct esp_sa  *esp_sad_inbound(const struct esp_sad *sad, uint32_t spi);
struct esp_sa  *esp_sad_outbound(const struct esp_sad *sad, const struct esp_flow *f);
/* Visits every SA (for counters and views). */
void            esp_sad_foreach(const struct esp_sad *sad,
				void (*fn)(void *ctx, const struct esp_sa *sa, int outbound), void *ctx);
/* Drops that happened before an SA was known (bad SPI, malformed header). */
const uint64_t *esp_sad_drops(const struct esp_sad *sad);

/* ESP input in the fixed order (STYLE practice 3). On 0 an IPv4 packet
 * within the SA's selectors is in out[0..*outlen) and *sa_out is the SA:
 * tunnel mode, the inner packet; transport mode, the payload behind an IP
 * header rebuilt from the SA's two hosts (ESP_TRANSPORT_HDR bytes, remote
 * to local, protocol the next header). Otherwise a drop reason, counted on
 * the SA (or the SAD when no SA was found). */
#define ESP_TRANSPORT_HDR 20
int esp_input(struct esp_sad *sad, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	      size_t *outlen, uint8_t *next_header, struct esp_sa **sa_out, int64_t now);

/* Anti-replay window (RFC 4303 3.4.3), exposed for tests. */
struct esp_replay {
	uint32_t top;			/* highest sequence number accepted */
	unsigned window;		/* bits */
	uint64_t bits[ESP_REPLAY_MAX / 64];
};
void esp_replay_init(struct esp_replay *r, unsigned window);
int  esp_replay_check(const struct esp_replay *r, uint32_t seq);	/* 0 ok, -1 replay */
void esp_replay_commit(struct esp_replay *r, uint32_t seq);

/*
 * Additions beside the interface above.
 *
 * Threads: packet functions may run on several threads at once, also on
 * one SA: esp_output, esp_input (from its SA lookup on) and
 * esp_sa_count_drop hold the SA's mutex, and the SAD's own drop counters
 * are atomic. The SAD's membership is not locked: the caller keeps
 * esp_sad_add/remove apart from lookups (the dataplane's rwlock), and reads
 * counters (esp_sa_counters, esp_sad_drops) only while no packet function
 * runs.
 *
 * Buffers: esp_output's inner may be out + esp_payload_offset(sa) (in
 * place) or not overlap out at all; esp_input's out must not overlap pkt.
 * On a drop *sa_out is still the SA when one was found (NULL otherwise).
 *
 * esp_sa_new also refuses SPIs 0..255 (reserved, RFC 4303 2.1) and
 * selector masks that are not prefixes; it clears host bits in selectors
 * and stores replay_window 0 as ESP_REPLAY_DEFAULT (esp_sa_params shows it).
 *
 * esp_sad_add: on -1 (direction differs from esp_sa_new's, SA already in
 * a SAD, inbound SPI already present, ESP_SAD_MAX reached) the caller
 * still owns the SA.
 * esp_sad_remove of an outbound SPI that two peers happen to share removes
 * the newest; esp_sad_remove_sa names the SA itself.
 */
#define ESP_SAD_MAX 65536	/* SAs per direction: the SAD's hard cap */

size_t esp_payload_offset(const struct esp_sa *sa);	/* SPI, seq and IV */
int    esp_sad_remove_sa(struct esp_sad *sad, struct esp_sa *sa);
/* Drops the dataplane sees itself (send_error, recv_error, no_sa for a
 * packet no policy covers), counted where esp_input counts its own. */
void   esp_sa_count_drop(struct esp_sa *sa, enum esp_drop why);
void   esp_sad_count_drop(struct esp_sad *sad, enum esp_drop why);

/* an SA pair whose sender passes ESP_SEQ_SOFT_OUT is rekeyed by
 * it, whatever the volume and time lifetimes say: a quarter of the 32-bit
 * space is left for Quick Mode (107 s at 10 million packets a second)
 * before ESP_SEQ_LAST ends the SA. The receiver steps in at
 * ESP_SEQ_SOFT_IN, should the sender not (and not both at once). */
#define ESP_SEQ_SOFT_OUT 0xC0000000u
#define ESP_SEQ_SOFT_IN  0xE0000000u
/* The highest sequence number the SA has sent (outbound) or accepted
 * (inbound). Any thread may read it while packets flow: the value may be a
 * packet behind, which is all the soft limit needs. */
uint32_t esp_sa_seq_high(const struct esp_sa *sa);

#endif
