/*
 * TUN offloads (IFF_VNET_HDR, TUNSETOFFLOAD): every read from and write to
 * the device carries a virtio-net header, so the kernel hands the
 * dataplane TCP (TSO4) and UDP (USO4) super-packets of up to 64 KB with
 * checksums left partial, and takes merged TCP segments back in one write
 * (GRO on the TUN side). Here: cutting a super-packet into the MTU-sized
 * packets ESP carries (headers, IP IDs and checksums as a NIC's TSO would
 * make them), and merging decrypted in-order segments of one TCP flow.
 * Pure functions over buffers (fuzz_tunoff); the writes are the caller's.
 */
#ifndef ESP_TUNOFF_H
#define ESP_TUNOFF_H

#include <linux/if_tun.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20		/* UDP segmentation offload, Linux 6.2: the */
#define TUN_F_USO6 0x40		/* kernel takes the two together only */
#endif

#define TUNOFF_VNET_LEN  10	/* struct virtio_net_hdr */
#define TUNOFF_SEGS_MAX  64	/* packets one super-packet is cut into, or merged */
#define TUNOFF_FRAME_MAX (TUNOFF_VNET_LEN + 65535)	/* one read */

/*
 * One read (virtio-net header, then the packet) into packets, at pkts[]
 * with lengths in lens[] (max of them): the packet itself, in the frame,
 * its partial checksum completed there; or the segments of a TCP or UDP
 * super-packet, placed back to back at out (cap bytes). Returns how many,
 * or -1 for what the offloads we asked for do not produce (malformed: the
 * caller drops and counts it).
 */
int tunoff_split(uint8_t *frame, size_t len, uint8_t *out, size_t cap, const uint8_t **pkts,
		 size_t *lens, int max);

/* The receive side's run of TCP segments of one flow being merged. */
struct tunoff_gro {
	const uint8_t *first;		/* its first segment (IP header on) */
	size_t         hdr_len, mss, payload;
	uint32_t       next_seq;
	int            n, last_psh, closed;
	uint8_t        hdr[TUNOFF_VNET_LEN + 60 + 60];	/* vnet, IP and TCP headers */
	struct iovec   iov[1 + TUNOFF_SEGS_MAX];
};

/* Writes iov[0..cnt) as one frame to the device: len bytes of packet
 * after the vnet header, standing for segs packets. */
typedef void (*tunoff_write_fn)(void *ctx, const struct iovec *iov, int cnt, size_t len,
				int segs);

void tunoff_gro_init(struct tunoff_gro *g);
/* A decrypted IPv4 packet for the device; it must stay where it is until
 * the next flush. Joins the run, or flushes the run and starts a new one,
 * or (not a TCP segment that can merge) is written alone, in order. */
void tunoff_gro_add(struct tunoff_gro *g, const uint8_t *pkt, size_t len, tunoff_write_fn fn,
		    void *ctx);
/* Writes the run (one GSO frame, or the lone packet as it came). */
void tunoff_gro_flush(struct tunoff_gro *g, tunoff_write_fn fn, void *ctx);

#endif
