/*
 * Private to the dataplane (dataplane.c: the device, pairs, peers, notes
 * and life cycle; worker.c: the packet threads): the structures both see
 * and the few calls between them. Locking is described in dataplane.c.
 */
#ifndef ESP_DP_INT_H
#define ESP_DP_INT_H

#include "esp/dataplane.h"
#include "esp/record.h"
#include "esp/tunoff.h"

#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

struct event;

#define DP_BATCH   64	/* packets per readiness event and lock hold */
#define DP_SLOT    2048	/* one ESP-in-UDP datagram out (MTU 1400 + ESP) */
#define DP_RX_SLOT 4096	/* one datagram in without GRO; longer ones are malformed */
#define DP_RX_GRO  65536	/* one GRO train in */
#define DP_RX_TRAINS 16	/* GRO trains per receive call */
#define DP_GSO_SEGS  64	/* datagrams per UDP GSO send (the kernel's old cap) */
#define DP_GSO_BYTES 65000	/* and bytes, under the UDP datagram limit */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103		/* linux/udp.h, Linux 4.18 */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104		/* Linux 5.0 */
#endif
#define DP_NOTES   1024	/* notes waiting for the loop; more are dropped */
#define DP_SOCKBUF (4 * 1024 * 1024)

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* A peer address as DPD sees it: its record is written per
 * packet and read by the IKE engine when a DPD decision is due, with no
 * message in between; only a watched first packet out is posted. */
struct dp_host {
	struct dp_host  *next;		/* hash chain (dp->hosts) */
	struct dp_peer  *peers;		/* its (peer, map) entries */
	uint32_t         peer_be;
	uint16_t         client_port;	/* a remote-access client's (esp_dp_pair) */
	struct dp_record rec;		/* esp/record.h */
};

/* Per peer and crypto map: counters that outlive the pairs. Never freed
 * before the dataplane: pairs point to them. */
struct dp_peer {
	struct dp_peer     *next;	/* every peer, oldest first (dp->peers) */
	int                 active_pairs;	/* pairs that send: a new one is a rekey */
	struct dp_peer     *next_of_host;
	struct dp_host     *host;
	uint32_t            peer_be;
	uint16_t            client_port;
	char                map[160];
	struct esp_counters retired_out, retired_in;
	uint64_t            rekeys;
	/* esp_dp_peers' scratch: the live pairs' share */
	struct esp_counters live_out, live_in;
	int                 live_pairs;
};

/* Where the host's traffic for an outbound SA's selector goes into the TUN
 * device, and how many pairs use it: a route to the remote net for every
 * protocol, or, for a selector with a protocol or ports or in transport
 * mode (between the gateways themselves), a policy rule (steer.c). */
struct dp_route {
	struct dp_route *next;
	struct esp_net   net;
	uint8_t          proto;		/* the selector's; 0: any */
	uint16_t         sport, dport;	/* host order; 0: any */
	int              steer;		/* a policy rule, not a route */
	unsigned         pairs;
};

struct dp_pair {
	/* Held by one worker from its first packet for this pair until its
	 * batch is sent: sequence numbers leave in order, as the peer's replay
	 * window wants, even when flows of one SA reach several workers. */
	pthread_mutex_t out_lock;
	struct dp_pair *next, *prev;		/* every pair (dp->pairs) */
	struct dp_pair *next_in, *next_out;	/* hash chains by inbound and outbound SPI */
	uint32_t        spi_in, spi_out;
	struct esp_sa  *in, *out;	/* owned by the SAD */
	uint64_t        soft_bytes, hard_bytes;	/* volume lifetime, 0 = none */
	uint64_t        bytes[2];		/* atomic: plaintext in, out */
	int             soft_signalled, hard_signalled, seq_signalled;	/* atomic */
	uint16_t        peer_port;		/* atomic: follows a NAT */
	int             udp_encap;		/* ESP-in-UDP; else plain ESP */
	struct dp_route path;			/* how its traffic reaches the TUN device */
	int             active;			/* out is in the SAD: the pair sends */
	struct dp_peer *peer;
};

enum dp_note_kind { NOTE_OUTBOUND, NOTE_LIMIT };

struct dp_note {
	enum dp_note_kind kind;
	uint32_t          peer_be;
	uint16_t          client_port;
	uint32_t          spi_in;	/* NOTE_LIMIT */
	enum esp_dp_limit limit;	/* NOTE_LIMIT */
	int64_t           now;
};

/* A run of the outgoing batch sent as one UDP GSO train (or one plain
 * ESP packet). */
struct dp_run {
	unsigned first, count;
	int      raw;
	union {			/* UDP_SEGMENT: the size of each datagram but the last */
		char           buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cmsg;
};

/* One packet thread: its TUN queue, its sockets, its batches. With UDP
 * GSO/GRO (gso) a run of equal-sized datagrams to one peer leaves in one
 * send, and the kernel hands trains of them back in one receive. Plain ESP
 * leaves and arrives on raw_fd, one packet per message. The loop thread
 * has one too (dp->loop_w, no thread, the first worker's sockets) for what
 * GRE tunnel interfaces send. */
struct dp_worker {
	struct esp_dp     *dp;
	pthread_t          thread;
	int                running;
	int                tun_fd, udp_fd, raw_fd;
	int                gso, gro;
	uint64_t           carried_out, carried_in;	/* read under the write lock */
	uint64_t           tun_cut, tun_merged;		/* likewise: offloads at work */
	uint8_t            out[DP_BATCH][DP_SLOT];
	struct iovec       iov[DP_BATCH];
	struct sockaddr_in to[DP_BATCH];
	uint8_t            raw[DP_BATCH];	/* plain ESP: leaves on raw_fd */
	struct esp_sa     *out_sa[DP_BATCH];
	unsigned           nout;
	struct dp_pair    *held[DP_BATCH];	/* out_locks held for this batch */
	unsigned           nheld;
	struct mmsghdr     msgs[DP_BATCH];	/* one per run */
	struct dp_run      runs[DP_BATCH];
	uint8_t           *in;			/* nrx slots of rx_slot bytes */
	size_t             rx_slot;
	unsigned           nrx;
	struct mmsghdr     rmsgs[DP_BATCH];
	struct iovec       riov[DP_BATCH];
	struct sockaddr_in from[DP_BATCH];
	union {
		char           buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rcmsg[DP_BATCH];
	uint8_t            inner[ESP_PKT_MAX];
	/* TUN offloads (dp->vnet): one read with its virtio-net header, the
	 * packets it was cut into; decrypted packets kept for the merge in
	 * rx_arena until the batch ends */
	uint8_t           *frame, *segs;
	const uint8_t     *seg[TUNOFF_SEGS_MAX];
	size_t             seg_len[TUNOFF_SEGS_MAX];
	uint8_t           *rx_arena;
	size_t             rx_off;
	struct tunoff_gro  merge;
};

#define DP_SEGS_CAP  (TUNOFF_FRAME_MAX + TUNOFF_SEGS_MAX * 120)	/* headers repeated */
#define DP_RX_ARENA  (4 * ESP_PKT_MAX)

/* A GRE tunnel interface (esp_dp_tunnels): its TUN device, read on the
 * loop; found by the workers by its endpoints (dp->tun_hash). */
#define DP_TUN_BUCKETS 256
struct dp_tunnel {
	struct dp_tunnel *next, *next_hash;	/* dp->tunnels; dp->tun_hash chain */
	struct esp_dp    *dp;
	char              name[IFNAMSIZ];
	int               fd;
	struct event     *ev;
	uint32_t          addr_be, source_be, destination_be;
	unsigned          prefix_len, mtu;
	int               shutdown, carrier;
	uint16_t          ip_id;		/* outer IP identification (loop only) */
	/* atomic: the workers count what they deliver */
	uint64_t          out_packets, out_bytes, in_packets, in_bytes;
	uint64_t          out_no_sa, in_malformed, in_errors, out_errors;
};

struct esp_dp {
	struct event_base  *base;
	struct esp_dp_hooks hooks;
	struct esp_sad     *sad;
	pthread_rwlock_t    lock;
	char                tun_name[IFNAMSIZ];
	int                 ike_fd, ctl_fd, stop_fd;
	int                 nl_fd;		/* rtnetlink, for policy rules (steer.c) */
	struct dp_pair     *pairs;
	struct dp_pair    **by_spi_in, **by_spi_out;	/* 2^spi_bits chains each */
	unsigned            spi_bits;
	size_t              npairs;
	struct dp_route   **routes;		/* what is routed to the TUN device */
	unsigned            route_bits;
	size_t              nroutes;
	struct dp_peer     *peers, **peers_tail;
	struct dp_host    **hosts;		/* hashed by address; grown as needed */
	size_t              nhosts, hosts_mask;
	struct dp_worker   *workers;
	int                 nworkers;
	int                 steered;	/* workers have their own 4500 sockets */
	int                 plain;	/* workers have raw ESP sockets */
	int                 vnet;	/* TUN queues carry virtio-net headers (offloads) */
	unsigned            offloads;	/* TUN_F_* the kernel took */
	struct dp_worker   *loop_w;	/* the loop's batch (GRE tunnel interfaces) */
	struct dp_tunnel   *tunnels;
	struct dp_tunnel   *tun_hash[DP_TUN_BUCKETS];	/* by (source, destination) */
	/* ESP that reached IKE's socket is decrypted on the loop, here; what a
	 * tunnel interface sends is encapsulated here */
	uint8_t             loop_inner[ESP_PKT_MAX];
	/* notes for the loop */
	pthread_mutex_t     notes_lock;
	struct dp_note      notes[DP_NOTES];
	unsigned            notes_head, notes_count;
	uint64_t            notes_dropped;
	struct event       *notes_ev;
};

/* dataplane.c */
/* Posts a note for the loop; -1 when the queue is full (retry later). */
int   dp_note_post(struct esp_dp *dp, enum dp_note_kind kind, uint32_t peer_be,
		   uint16_t client_port, uint32_t spi_in,
		   enum esp_dp_limit limit, int64_t now);

/* steer.c: policy routing for selectors a route cannot express. */
/* Our table (a default route into the TUN device) and the rule that keeps
 * the agent's own marked packets out of it; stale rules of an earlier run
 * go first. -1 when the kernel will not (logged by the caller). */
int   dp_steer_open(struct esp_dp *dp);
int   dp_steer_rule(struct esp_dp *dp, const struct dp_route *r, int add);
void  dp_steer_close(struct esp_dp *dp);

/* gre.c */
/* A decrypted packet that is GRE for one of the tunnel interfaces: written
 * to it, decapsulated (under the read lock). 1 when it was one of theirs
 * (delivered or dropped and counted), 0 when not. */
int   dp_gre_input(struct esp_dp *dp, const uint8_t *pkt, size_t len);
/* Carriers follow the SAs: after pairs came or went (loop thread). */
void  dp_tunnels_carrier(struct esp_dp *dp);
void  dp_tunnels_free(struct esp_dp *dp);

/* worker.c */
/* One packet to encrypt and queue on w's batch (the read lock held);
 * 0 when queued, else the drop reason (counted). */
int   dp_output(struct dp_worker *w, const uint8_t *pkt, size_t len, int64_t now);
/* Sends w's batch and releases the pairs it holds. */
void  dp_flush(struct dp_worker *w);
/* Opens each worker's TUN queue (the first creates the device, named in
 * dp->tun_name) and socket; -1 on failure (dp_workers_close cleans up). */
int   dp_workers_open(struct esp_dp *dp, const char *tun_name);
int   dp_workers_start(struct esp_dp *dp);
/* Stops and joins the workers (the caller has written dp->stop_fd). */
void  dp_workers_join(struct esp_dp *dp);
void  dp_workers_close(struct esp_dp *dp);

#endif
