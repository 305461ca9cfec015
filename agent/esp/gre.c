/*
 * GRE tunnel interfaces: what IOS's `interface TunnelN` with
 * `tunnel mode gre ip` is, on a host whose kernel has no GRE device. Each
 * is a TUN device of its own. What the host routes into it leaves GRE-
 * encapsulated (RFC 2784) from the tunnel source to its destination and
 * goes through ESP like any other packet, so a crypto map's `permit gre
 * host SOURCE host DESTINATION` carries it in transport mode, exactly as an
 * IOS router puts it on the wire; the reverse comes back to the device.
 *
 * The devices are read on the loop thread (dp->loop_w's batch) and written
 * by whichever worker decrypted the GRE packet. A device's carrier follows
 * the SAs: on while an outbound SA covers its GRE, so a routing protocol
 * over it loses its neighbour, and the routes learnt from it, when DPD
 * takes the peer's SAs down.
 */
#include "esp/dp_int.h"
#include "esp/gre.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/event.h>

static size_t
tun_slot(uint32_t source_be, uint32_t destination_be)
{
	return hash32(source_be ^ hash32(destination_be)) % DP_TUN_BUCKETS;
}

/* ---- inbound (workers, under the read lock) ------------------------------------ */

/* A decrypted IPv4 packet from a tunnel's destination to its source,
 * protocol GRE: what it carries goes to the tunnel's device. */
int
dp_gre_input(struct esp_dp *dp, const uint8_t *pkt, size_t len)
{
	uint32_t src, dst;
	struct dp_tunnel *t;
	size_t off;

	memcpy(&src, pkt + 12, 4);
	memcpy(&dst, pkt + 16, 4);
	for (t = dp->tun_hash[tun_slot(dst, src)]; t != NULL; t = t->next_hash) {
		if (t->source_be == dst && t->destination_be == src)
			break;
	}
	if (t == NULL)
		return 0;
	if (gre_decap(pkt, len, &off) == -1)
		__atomic_fetch_add(&t->in_malformed, 1, __ATOMIC_RELAXED);
	else if (write(t->fd, pkt + off, len - off) == -1)
		__atomic_fetch_add(&t->in_errors, 1, __ATOMIC_RELAXED);	/* down, or full */
	else {
		__atomic_fetch_add(&t->in_packets, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->in_bytes, len - off, __ATOMIC_RELAXED);
	}
	return 1;
}

/* ---- outbound (the loop) ------------------------------------------------------- */

/* What the host routed into the device: GRE-encapsulated, then through
 * ESP like anything else (the loop's batch). */
static void
tunnel_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dp_tunnel *t = arg;
	struct esp_dp *dp = t->dp;
	uint8_t *buf = dp->loop_inner;	/* the loop's scratch */
	int64_t now = now_mono_ms();

	pthread_rwlock_rdlock(&dp->lock);
	for (int i = 0; i < DP_BATCH; i++) {
		ssize_t n = read(fd, buf + GRE_OUTER, ESP_PKT_MAX - GRE_OUTER);
		size_t len;

		if (n <= 0)
			break;
		if (buf[GRE_OUTER] >> 4 != 4 && buf[GRE_OUTER] >> 4 != 6) {
			__atomic_fetch_add(&t->out_errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		len = gre_encap(buf, (size_t)n, t->source_be, t->destination_be, t->ip_id++);
		switch (dp_output(dp->loop_w, buf, len, now)) {
		case ESP_DROP_NONE:
			__atomic_fetch_add(&t->out_packets, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&t->out_bytes, (uint64_t)n, __ATOMIC_RELAXED);
			break;
		case ESP_DROP_NO_SA:
			__atomic_fetch_add(&t->out_no_sa, 1, __ATOMIC_RELAXED);
			break;
		default:
			__atomic_fetch_add(&t->out_errors, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	dp_flush(dp->loop_w);
	pthread_rwlock_unlock(&dp->lock);
}

/* ---- the devices (the loop) ---------------------------------------------------- */

static int
set_carrier(struct dp_tunnel *t, int on)
{
	if (ioctl(t->fd, TUNSETCARRIER, &on) == -1)
		return -1;
	t->carrier = on;
	return 0;
}

/* MTU, address and prefix, up/down (shutdown) by the usual ioctls; only
 * what differs from was (NULL: a new device), so that reapplying the
 * configuration does not flap the address under a routing protocol. */
static int
configure(struct esp_dp *dp, struct dp_tunnel *t, const struct dp_tunnel *was)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	uint32_t mask = t->prefix_len == 0 ? 0 : 0xffffffffu << (32 - t->prefix_len);

	memset(&ifr, 0, sizeof(ifr));
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), t->name);
	ifr.ifr_mtu = (int)t->mtu;
	if ((was == NULL || was->mtu != t->mtu) && ioctl(dp->ctl_fd, SIOCSIFMTU, &ifr) == -1)
		return -1;
	if (was == NULL || was->addr_be != t->addr_be || was->prefix_len != t->prefix_len) {
		memset(&ifr.ifr_ifru, 0, sizeof(ifr.ifr_ifru));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = t->addr_be;
		if (ioctl(dp->ctl_fd, SIOCSIFADDR, &ifr) == -1)
			return -1;
		sin->sin_addr.s_addr = htonl(mask);
		if (ioctl(dp->ctl_fd, SIOCSIFNETMASK, &ifr) == -1)
			return -1;
	}
	if (was != NULL && was->shutdown == t->shutdown)
		return 0;
	if (ioctl(dp->ctl_fd, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	if (t->shutdown)
		ifr.ifr_flags &= ~IFF_UP;
	else
		ifr.ifr_flags |= IFF_UP;
	return ioctl(dp->ctl_fd, SIOCSIFFLAGS, &ifr);
}

static struct dp_tunnel *
tunnel_open(struct esp_dp *dp, const char *name)
{
	struct dp_tunnel *t = xcalloc(1, sizeof(*t));
	struct ifreq ifr;

	t->dp = dp;
	str_copy(t->name, sizeof(t->name), name);
	if ((t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), name);
	if (ioctl(t->fd, TUNSETIFF, &ifr) == -1 || strcmp(ifr.ifr_name, name) != 0)
		goto fail;
	if (set_carrier(t, 0) == -1)
		goto fail;
	t->ev = event_new(dp->base, t->fd, EV_READ | EV_PERSIST, tunnel_read_cb, t);
	if (t->ev == NULL || event_add(t->ev, NULL) == -1)
		goto fail;
	return t;
fail:
	log_warn("ESP: cannot create tunnel interface %s", name);
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->fd != -1)
		close(t->fd);
	free(t);
	return NULL;
}

static void
tunnel_close(struct dp_tunnel *t)
{
	event_free(t->ev);
	close(t->fd);	/* not persistent: the device goes with it */
	free(t);
}

/* Links t into the hash by its endpoints, or out of it (write lock). */
static void
tunnel_hash(struct esp_dp *dp, struct dp_tunnel *t, int in)
{
	struct dp_tunnel **pp = &dp->tun_hash[tun_slot(t->source_be, t->destination_be)];

	if (in) {
		t->next_hash = *pp;
		*pp = t;
		return;
	}
	for (; *pp != NULL; pp = &(*pp)->next_hash) {
		if (*pp == t) {
			*pp = t->next_hash;
			return;
		}
	}
}

static const struct esp_dp_tunnel_if *
wanted(const struct esp_dp_tunnel_if *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	}
	return NULL;
}

int
esp_dp_tunnels(struct esp_dp *dp, const struct esp_dp_tunnel_if *list, size_t n)
{
	struct dp_tunnel **tp, *t, *gone = NULL;
	int rc = 0;

	/* Those no longer configured leave the hash first, then close. */
	pthread_rwlock_wrlock(&dp->lock);
	for (tp = &dp->tunnels; (t = *tp) != NULL;) {
		if (wanted(list, n, t->name) != NULL) {
			tp = &t->next;
			continue;
		}
		*tp = t->next;
		tunnel_hash(dp, t, 0);
		t->next = gone;
		gone = t;
	}
	pthread_rwlock_unlock(&dp->lock);
	while ((t = gone) != NULL) {
		gone = t->next;
		log_info("ESP: tunnel interface %s removed", t->name);
		tunnel_close(t);
	}
	for (size_t i = 0; i < n; i++) {
		const struct esp_dp_tunnel_if *w = &list[i];
		struct dp_tunnel was;
		int fresh = 0;

		for (t = dp->tunnels; t != NULL && strcmp(t->name, w->name) != 0; t = t->next)
			;
		if (t == NULL) {
			if ((t = tunnel_open(dp, w->name)) == NULL) {
				rc = -1;
				continue;
			}
			fresh = 1;
		}
		was = (struct dp_tunnel){ .addr_be = t->addr_be, .prefix_len = t->prefix_len,
					  .mtu = t->mtu, .shutdown = t->shutdown };
		pthread_rwlock_wrlock(&dp->lock);
		if (!fresh)
			tunnel_hash(dp, t, 0);
		t->addr_be = w->addr_be;
		t->prefix_len = w->prefix_len;
		t->source_be = w->source_be;
		t->destination_be = w->destination_be;
		t->mtu = w->mtu;
		t->shutdown = w->shutdown;
		tunnel_hash(dp, t, 1);
		if (fresh) {
			t->next = dp->tunnels;
			dp->tunnels = t;
		}
		pthread_rwlock_unlock(&dp->lock);
		if (configure(dp, t, fresh ? NULL : &was) == -1) {
			log_warn("ESP: cannot configure tunnel interface %s", t->name);
			rc = -1;
		} else if (fresh) {
			char a[16], s[16], d[16];

			log_info("ESP: tunnel interface %s: %s/%u, GRE from %s to %s, MTU %u%s",
				 t->name, ipv4_str(t->addr_be, a), t->prefix_len,
				 ipv4_str(t->source_be, s), ipv4_str(t->destination_be, d), t->mtu,
				 t->shutdown ? ", administratively down" : "");
		}
	}
	dp_tunnels_carrier(dp);
	return rc;
}

void
dp_tunnels_carrier(struct esp_dp *dp)
{
	for (struct dp_tunnel *t = dp->tunnels; t != NULL; t = t->next) {
		struct esp_flow f = { .src_be = t->source_be, .dst_be = t->destination_be,
				      .proto = IPPROTO_GRE };
		int on;

		pthread_rwlock_rdlock(&dp->lock);
		on = esp_sad_outbound(dp->sad, &f) != NULL;
		pthread_rwlock_unlock(&dp->lock);
		if (on == t->carrier)
			continue;
		if (set_carrier(t, on) == -1)
			log_warn("ESP: tunnel interface %s: cannot set its carrier", t->name);
		else
			log_info("%%LINEPROTO-5-UPDOWN: Line protocol on Interface %s, changed state "
				 "to %s", t->name, on ? "up" : "down");
	}
}

void
esp_dp_tunnels_view(struct esp_dp *dp, void (*fn)(void *ctx, const struct esp_dp_tunnel_view *v),
		    void *ctx)
{
	for (const struct dp_tunnel *t = dp->tunnels; t != NULL; t = t->next) {
		struct esp_dp_tunnel_view v = {
			.name = t->name, .addr_be = t->addr_be, .source_be = t->source_be,
			.destination_be = t->destination_be, .prefix_len = t->prefix_len,
			.mtu = t->mtu, .shutdown = t->shutdown, .up = t->carrier && !t->shutdown,
			.out_packets = LOAD(&t->out_packets), .out_bytes = LOAD(&t->out_bytes),
			.in_packets = LOAD(&t->in_packets), .in_bytes = LOAD(&t->in_bytes),
			.out_no_sa = LOAD(&t->out_no_sa), .in_malformed = LOAD(&t->in_malformed),
			.in_errors = LOAD(&t->in_errors), .out_errors = LOAD(&t->out_errors),
		};

		fn(ctx, &v);
	}
}

void
dp_tunnels_free(struct esp_dp *dp)
{
	while (dp->tunnels != NULL) {
		struct dp_tunnel *t = dp->tunnels;

		dp->tunnels = t->next;
		tunnel_close(t);
	}
	memset(dp->tun_hash, 0, sizeof(dp->tun_hash));
}
