/*
 * The dataplane: a TUN device for the plaintext side; for the ciphertext
 * side ESP-in-UDP (RFC 3948) on port 4500 or plain ESP (IP protocol 50, a
 * raw socket), as each pair's NAT-T result says; the SA pairs the
 * IKE engine installs, in tunnel or transport mode; per-peer counters that
 * outlive rekeys; and GRE tunnel interfaces (IOS's `interface TunnelN`,
 * ), each a TUN device of its own whose traffic leaves GRE-encapsulated
 * (RFC 2784) for whatever SA covers it.
 *
 * Packet work runs on worker threads, one per core by default, each with
 * its own TUN queue (IFF_MULTI_QUEUE: the kernel keeps a flow on one queue)
 * and its own UDP socket on port 4500 (SO_REUSEPORT, steered by SPI so an
 * inbound SA is decrypted on one worker, in order). IKE keeps its own 4500
 * socket; a classic BPF program on the port group sends it everything with
 * the non-ESP marker. Each worker also has a raw ESP socket whose own
 * program keeps its share of SPIs (the same SPI mod n). GRE tunnel
 * interfaces are read on the loop thread (their traffic is a routing
 * protocol's and a site's, not a headend's bulk); what arrives for them is
 * decapsulated on the workers. The loop thread installs and removes pairs and reads
 * counters under a write lock; workers hold the read lock per batch.
 * Packet work never calls into IKE. Liveness and traffic are a record per
 * peer address, written per packet and read by DPD when it decides
 * (esp_dp_traffic); nothing is posted for them but the first packet out
 * that DPD asked to hear of (esp_dp_watch). Volume lifetimes are posted to
 * the loop and reach the hooks there.
 */
#ifndef ESP_DATAPLANE_H
#define ESP_DATAPLANE_H

#include <stdint.h>

#include "esp/esp.h"

struct event_base;
struct esp_dp;

#define ESP_DP_MTU       1400	/* TUN MTU: room for ESP-in-UDP in 1500 */
/* Policy routing: traffic of a selector with a protocol or ports,
 * or of a transport-mode pair, reaches the TUN device through rules (at
 * ESP_DP_RULE_PRIO) into table ESP_DP_TABLE; the agent's own IKE and ESP
 * carry ESP_DP_FWMARK, which a rule just before them sends to the main
 * table, so they never loop into the tunnel. */
#define ESP_DP_TABLE     4500
#define ESP_DP_RULE_PRIO 4500
#define ESP_DP_FWMARK    0x4500	/* SO_MARK of IKE's and the dataplane's sockets */
#define ESP_DP_WORKERS_MAX 16

/* A limit an SA pair reached (each is reported once per pair). */
enum esp_dp_limit {
	ESP_DP_VOLUME_SOFT,	/* 90 % of its volume lifetime */
	ESP_DP_VOLUME_HARD,	/* all of it: the pair carries nothing more */
	ESP_DP_SEQ_SOFT,	/* sent past ESP_SEQ_SOFT_OUT or received past _IN */
};

/* Called on the loop thread. */
struct esp_dp_hooks {
	void *ctx;
	/* the first packet out that esp_dp_watch asked for */
	void (*outbound)(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t now);
	void (*limit)(void *ctx, uint32_t peer_be, uint16_t client_port, uint32_t spi_in,
		      enum esp_dp_limit what, int64_t now);
};

/* One SA pair as the IKE engine hands it over. */
struct esp_dp_pair {
	struct esp_sa_params in, out;
	uint32_t             peer_be;
	int                  udp_encap;	/* ESP-in-UDP to peer_port; else plain ESP */
	uint16_t             peer_port;	/* 4500, or where a NAT maps it */
	uint16_t             client_port;	/* a remote-access client's IKE port, else 0:
						 * with the address, whose record and counters */
	uint64_t             lifetime_kb;	/* volume lifetime, 0 = none */
	const char          *map;		/* crypto map "NAME SEQ", for counters */
	uint64_t             test_seq_start;	/* test setting: first outbound sequence
						 * number (0 = 1, as RFC 4303 says) */
	int                  outbound_later;	/* inbound only until esp_dp_activate */
};

/* Per peer (and map) totals: live SAs plus every SA that retired. */
struct esp_dp_peer_view {
	uint32_t            peer_be;
	uint16_t            client_port;
	const char         *map;
	struct esp_counters out, in;
	uint64_t            rekeys;
	int                 live_pairs;
};

/* udp_fd: IKE's bound NAT-T socket (port 4500, SO_REUSEPORT), whose
 * address the workers' sockets share. workers: 0 = one per online CPU.
 * tun_offload: the TUN device with IFF_VNET_HDR and TSO4/USO4/CSUM
 * offloads (esp/tunoff.h): super-packets read and cut, TCP segments merged
 * on the way out; where the kernel lacks them, one packet per read. */
struct esp_dp *esp_dp_new(struct event_base *base, const char *tun_name, int udp_fd,
			  int workers, int tun_offload, const struct esp_dp_hooks *hooks);
void esp_dp_free(struct esp_dp *dp);
const char *esp_dp_tun_name(const struct esp_dp *dp);

int  esp_dp_install(struct esp_dp *dp, const struct esp_dp_pair *pair);
/* The outbound SA of a pair installed with outbound_later starts carrying
 * traffic (the newest pair for a selector wins). */
void esp_dp_activate(struct esp_dp *dp, uint32_t spi_in);
void esp_dp_remove(struct esp_dp *dp, uint32_t spi_in, uint32_t spi_out);

/* An ESP datagram that reached IKE's NAT-T socket anyway (no non-ESP
 * marker): handled on the calling thread. */
void esp_dp_udp_input(struct esp_dp *dp, uint32_t src_be, uint16_t src_port, const uint8_t *pkt,
		      size_t len);

/* fn runs with the workers held off: it must not call back into dp. */
void esp_dp_peers(struct esp_dp *dp, void (*fn)(void *ctx, const struct esp_dp_peer_view *v),
		  void *ctx);
/* A copy of one SA direction's counters by SPI; -1 when unknown. */
int  esp_dp_sa_counters(struct esp_dp *dp, uint32_t spi, int outbound, struct esp_counters *out);
int  esp_dp_workers(const struct esp_dp *dp);

/* A peer address's record (monotonic ms, 0 = never): its last proof of
 * liveness (verified ESP, or what esp_dp_alive reported) and the first
 * packet sent to it since (none when first_out <= last_in). */
struct esp_dp_traffic {
	int64_t last_in, first_out;
};
/* These three on the loop thread. -1: nothing recorded for peer_be yet.
 * (The record is made by the first pair, alive or watch: the peers of
 * authenticated SAs only.) */
int  esp_dp_traffic(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port,
		    struct esp_dp_traffic *out);
/* A proof of liveness the dataplane did not see (an IKE message): later
 * packets out are measured from it. */
void esp_dp_alive(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port, int64_t at);
/* The next first packet out to the peer is posted to the outbound hook
 * (once; watch again after it). */
void esp_dp_watch(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port);

/* Whether plain ESP can be sent and received (the raw sockets opened: the
 * process has CAP_NET_RAW); without it every pair must be UDP-encapsulated. */
int  esp_dp_plain_esp(const struct esp_dp *dp);

/* GRE tunnel interfaces, replaced as a set (on the loop thread):
 * a device of a name kept is updated in place, new names are created, the
 * others removed. Returns 0, or -1 when one could not be set up (logged;
 * the rest are applied). A device's carrier is on while an SA covers GRE
 * from its source to its destination: it goes down, and the routes a
 * routing protocol learnt through it go away, when the peer's SAs do. */
struct esp_dp_tunnel_if {
	const char *name;
	uint32_t    addr_be;		/* its own address ... */
	unsigned    prefix_len;		/* ... and prefix */
	uint32_t    source_be, destination_be;	/* the GRE endpoints */
	unsigned    mtu;
	int         shutdown;		/* administratively down */
};
int  esp_dp_tunnels(struct esp_dp *dp, const struct esp_dp_tunnel_if *t, size_t n);

/* A tunnel interface as the views show it. */
struct esp_dp_tunnel_view {
	const char *name;
	uint32_t    addr_be, source_be, destination_be;
	unsigned    prefix_len, mtu;
	int         shutdown, up;	/* up: carrier on (an SA covers it) and not shut */
	uint64_t    out_packets, out_bytes, in_packets, in_bytes;	/* inner packets */
	uint64_t    out_no_sa, in_malformed, in_errors, out_errors;
};
void esp_dp_tunnels_view(struct esp_dp *dp,
			 void (*fn)(void *ctx, const struct esp_dp_tunnel_view *v), void *ctx);

/* What belongs to no peer: each worker's share and the drops before an SA
 * was known. */
struct esp_dp_stats {
	int      workers;
	uint64_t worker_out[ESP_DP_WORKERS_MAX], worker_in[ESP_DP_WORKERS_MAX];
	uint64_t drops[ESP_DROP__COUNT];
	uint64_t tun_cut, tun_merged;	/* TUN offloads: super-packets cut, merged writes */
};
void esp_dp_stats(struct esp_dp *dp, struct esp_dp_stats *out);

#endif
