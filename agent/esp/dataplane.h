/*
 * The dataplane on the loop: a TUN device for the plaintext side, ESP-in-UDP
 * (RFC 3948) on the IKE NAT-T socket for the ciphertext side, the SA pairs
 * the IKE engine installs, and per-peer counters that outlive rekeys.
 * Packet work never calls into IKE: liveness and outbound traffic are
 * reported through callbacks, at most every ESP_DP_SIGNAL_MS per peer.
 */
#ifndef ESP_DATAPLANE_H
#define ESP_DATAPLANE_H

#include <stdint.h>

#include "esp/esp.h"

struct event_base;
struct esp_dp;

#define ESP_DP_SIGNAL_MS 50	/* liveness/outbound report granularity */
#define ESP_DP_PEERS_MAX 4096
#define ESP_DP_MTU       1400	/* TUN MTU: room for ESP-in-UDP in 1500 */

struct esp_dp_hooks {
	void *ctx;
	void (*inbound)(void *ctx, uint32_t peer_be, int64_t now);	/* verified ESP */
	void (*outbound)(void *ctx, uint32_t peer_be, int64_t now);	/* traffic to send */
	/* An SA pair reached 90 % (soft) or all (hard) of its volume lifetime. */
	void (*volume)(void *ctx, uint32_t spi_in, int hard, int64_t now);
};

/* One SA pair as the IKE engine hands it over. */
struct esp_dp_pair {
	struct esp_sa_params in, out;
	uint32_t             peer_be;
	uint16_t             peer_port;	/* 4500 */
	uint64_t             lifetime_kb;	/* volume lifetime, 0 = none */
	const char          *map;		/* crypto map "NAME SEQ", for counters */
};

/* Per peer (and map) totals: live SAs plus every SA that retired. */
struct esp_dp_peer_view {
	uint32_t            peer_be;
	const char         *map;
	struct esp_counters out, in;
	uint64_t            rekeys;
	int                 live_pairs;
};

/* udp_fd: the bound NAT-T socket (port 4500) ESP is sent from. */
struct esp_dp *esp_dp_new(struct event_base *base, const char *tun_name, int udp_fd,
			  const struct esp_dp_hooks *hooks);
void esp_dp_free(struct esp_dp *dp);
const char *esp_dp_tun_name(const struct esp_dp *dp);

int  esp_dp_install(struct esp_dp *dp, const struct esp_dp_pair *pair);
void esp_dp_remove(struct esp_dp *dp, uint32_t spi_in, uint32_t spi_out);

/* An ESP datagram from the NAT-T socket (no non-ESP marker). */
void esp_dp_udp_input(struct esp_dp *dp, uint32_t src_be, uint16_t src_port, const uint8_t *pkt,
		      size_t len);

void esp_dp_peers(const struct esp_dp *dp, void (*fn)(void *ctx, const struct esp_dp_peer_view *v),
		  void *ctx);
/* Live counters of one SA direction by SPI (NULL when unknown). */
const struct esp_counters *esp_dp_sa_counters(const struct esp_dp *dp, uint32_t spi, int outbound);

#endif
