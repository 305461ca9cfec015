/*
 * Sockets and timer for the IKE engine on the libevent loop (see ike_io.c).
 * Create with ike_io_new, build the engine with ike_io_send as transport,
 * then ike_io_attach; call ike_io_kick after ike_configure.
 */
#ifndef IKE_IKE_IO_H
#define IKE_IKE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "ike/ike.h"

struct event_base;
struct ike_io;

#define IKE_IO_DGRAM_MAX 9000

struct ike_io *ike_io_new(struct event_base *base, uint32_t addr_be, uint16_t port,
			  uint16_t natt_port);
/* The transport callback for ike_new (ctx = the ike_io). */
int  ike_io_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
		 const uint8_t *msg, size_t len);
void ike_io_attach(struct ike_io *io, struct ike *ike);
/* ESP datagrams arriving on the NAT-T port (no non-ESP marker) go here. */
typedef void (*ike_io_esp_fn)(void *ctx, uint32_t src_be, uint16_t src_port, const uint8_t *pkt,
			      size_t len);
void ike_io_set_esp(struct ike_io *io, ike_io_esp_fn fn, void *ctx);
/* Called before each batch of datagrams is read (main.c applies a
 * configuration change still pending, so no packet meets an old one). */
void ike_io_set_before_rx(struct ike_io *io, void (*fn)(void *ctx), void *ctx);
/* The NAT-T socket, for sending ESP-in-UDP from port 4500. */
int  ike_io_natt_fd(const struct ike_io *io);
/* Runs due timers now and re-arms for the next deadline. */
void ike_io_kick(struct ike_io *io);
void ike_io_free(struct ike_io *io);

#endif
