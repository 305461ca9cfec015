/*
 * The engine's sockets and clock on the libevent loop: UDP 500 and 4500 on
 * the IKE address, the RFC 3948 non-ESP marker on 4500 (datagrams without
 * it are ESP and go to the dataplane hook; a lone 0xFF is a NAT keepalive),
 * and one timer re-armed at the engine's next deadline.
 */
#include "ike/ike_io.h"
#include "esp/dataplane.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#define NON_ESP_MARKER_LEN 4
#define IKE_IO_SOCKBUF     (4 * 1024 * 1024)

struct ike_io {
	struct event_base *base;
	struct ike        *ike;
	uint32_t           addr_be;
	int                fd[2];		/* 500, 4500 */
	uint16_t           port[2];
	struct event      *rx[2];
	struct event      *timer;
	ike_io_esp_fn      esp_fn;
	void              *esp_ctx;
	void             (*before_rx)(void *ctx);
	void              *before_ctx;
	uint64_t           rx_esp, rx_keepalive, rx_short, tx_errors;
};

void
ike_io_set_esp(struct ike_io *io, ike_io_esp_fn fn, void *ctx)
{
	io->esp_fn = fn;
	io->esp_ctx = ctx;
}

void
ike_io_set_before_rx(struct ike_io *io, void (*fn)(void *ctx), void *ctx)
{
	io->before_rx = fn;
	io->before_ctx = ctx;
}

int
ike_io_natt_fd(const struct ike_io *io)
{
	return io->fd[1];
}

static int
udp_bind(uint32_t addr_be, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = addr_be };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* IKE never goes into the tunnel, whatever a policy rule covers */
	setsockopt(fd, SOL_SOCKET, SO_MARK, &(int){ ESP_DP_FWMARK }, sizeof(int));
	/* The NAT-T socket also carries ESP at line rate: room for bursts, and
	 * SO_REUSEPORT so the dataplane's workers can bind the same port and
	 * take the ESP (esp/dataplane.c steers it). Port 500 is bound first
	 * and exclusively, so a second agent on this address still fails. */
	if (port == IKE_NATT_PORT || port != IKE_PORT) {
		int size = IKE_IO_SOCKBUF;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
rearm(struct ike_io *io, int64_t next)
{
	struct timeval tv;
	int64_t now = now_mono_ms(), wait = next > now ? next - now : 0;

	if (next == 0) {
		event_del(io->timer);
		return;
	}
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	event_add(io->timer, &tv);
}

void
ike_io_kick(struct ike_io *io)
{
	rearm(io, ike_timer(io->ike, now_mono_ms()));
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ike_io_kick(arg);
}

#define RX_BATCH 64

static void
rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ike_io *io = arg;
	int which = fd == io->fd[1];
	static uint8_t bufs[RX_BATCH][IKE_IO_DGRAM_MAX];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in from[RX_BATCH];
	int n;

	/* One recvmmsg drains up to a batch: ESP at line rate shares this
	 * socket with IKE (RFC 3948), so the per-datagram syscall matters. */
	for (int i = 0; i < RX_BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
							 .msg_namelen = sizeof(from[i]),
							 .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	if (io->before_rx != NULL)
		io->before_rx(io->before_ctx);
	n = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const uint8_t *msg = bufs[i], *buf = bufs[i];
		size_t len = msgs[i].msg_len;

		if (which == 1) {
			if (len == 1 && buf[0] == 0xff) {
				io->rx_keepalive++;	/* NAT keepalive: nothing to do */
				continue;
			}
			if (len < NON_ESP_MARKER_LEN) {
				io->rx_short++;
				continue;
			}
			if (buf[0] | buf[1] | buf[2] | buf[3]) {
				io->rx_esp++;		/* ESP: the dataplane's */
				if (io->esp_fn)
					io->esp_fn(io->esp_ctx, from[i].sin_addr.s_addr,
						   ntohs(from[i].sin_port), buf, len);
				continue;
			}
			msg += NON_ESP_MARKER_LEN;
			len -= NON_ESP_MARKER_LEN;
		}
		ike_input(io->ike, io->port[which], from[i].sin_addr.s_addr,
			  ntohs(from[i].sin_port), msg, len, now_mono_ms());
	}
	ike_io_kick(io);
}

int
ike_io_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	    const uint8_t *msg, size_t len)
{
	struct ike_io *io = ctx;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dst_port),
				  .sin_addr.s_addr = dst_be };
	uint8_t buf[IKE_IO_DGRAM_MAX];
	int natt = local_port == io->port[1];
	int keepalive = len == 1 && msg[0] == IKE_NATT_KEEPALIVE;

	if (len + NON_ESP_MARKER_LEN > sizeof(buf))
		return -1;
	if (natt && !keepalive) {
		memset(buf, 0, NON_ESP_MARKER_LEN);
		memcpy(buf + NON_ESP_MARKER_LEN, msg, len);
		msg = buf;
		len += NON_ESP_MARKER_LEN;
	}
	if (sendto(io->fd[natt], msg, len, 0, (struct sockaddr *)&to, sizeof(to)) == -1) {
		io->tx_errors++;
		log_debug("IKE: sendto failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct ike_io *
ike_io_new(struct event_base *base, uint32_t addr_be, uint16_t port, uint16_t natt_port)
{
	struct ike_io *io = xcalloc(1, sizeof(*io));
	char ip[16];

	io->base = base;
	io->addr_be = addr_be;
	io->port[0] = port;
	io->port[1] = natt_port;
	io->fd[0] = io->fd[1] = -1;
	inet_ntop(AF_INET, &addr_be, ip, sizeof(ip));
	for (int i = 0; i < 2; i++) {
		if ((io->fd[i] = udp_bind(addr_be, io->port[i])) == -1) {
			log_warn("IKE: cannot bind %s:%u", ip, io->port[i]);
			ike_io_free(io);
			return NULL;
		}
	}
	log_info("IKE: listening on %s:%u and %s:%u", ip, port, ip, natt_port);
	return io;
}

void
ike_io_attach(struct ike_io *io, struct ike *ike)
{
	io->ike = ike;
	for (int i = 0; i < 2; i++) {
		io->rx[i] = event_new(io->base, io->fd[i], EV_READ | EV_PERSIST, rx_cb, io);
		event_add(io->rx[i], NULL);
	}
	io->timer = event_new(io->base, -1, 0, timer_cb, io);
}

void
ike_io_free(struct ike_io *io)
{
	if (io == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		if (io->rx[i])
			event_free(io->rx[i]);
		if (io->fd[i] != -1)
			close(io->fd[i]);
	}
	if (io->timer)
		event_free(io->timer);
	free(io);
}
