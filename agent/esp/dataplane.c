/*
 * The dataplane on the libevent loop (see dataplane.h): TUN device and
 * routes, TUN → ESP → UDP and UDP → ESP → TUN, SA pairs and their peers.
 * The ESP work itself is esp_output()/esp_input(); this file moves bytes.
 */
#include "esp/dataplane.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#define DP_BATCH 64	/* packets per readiness event, then back to the loop */
#define DP_SLOT  2048	/* one ESP-in-UDP datagram of the batch (MTU 1400 + ESP) */

struct dp_peer {
	uint32_t            peer_be;
	char                map[160];
	struct esp_counters retired_out, retired_in;
	uint64_t            rekeys;
	int64_t             signalled_in, signalled_out;
};

struct dp_pair {
	struct dp_pair *next;
	uint32_t        spi_in, spi_out;
	struct esp_sa  *in, *out;	/* owned by the SAD */
	uint64_t        soft_bytes, hard_bytes;	/* volume lifetime, 0 = none */
	int             soft_signalled, hard_signalled;
	uint16_t        peer_port;
	struct dp_peer *peer;
	struct esp_net  remote;
};

struct esp_dp {
	struct event_base  *base;
	struct esp_dp_hooks hooks;
	struct esp_sad     *sad;
	char                tun_name[IFNAMSIZ];
	int                 tun_fd, udp_fd, ctl_fd;
	struct event       *tun_ev;
	struct dp_pair     *pairs;
	struct dp_peer     *peers;
	size_t              npeers;
	uint64_t            tun_no_sa, tun_malformed, send_errors, tun_write_errors, expired;
	/* the outgoing batch: one sendmmsg per readiness event */
	uint8_t             out[DP_BATCH][DP_SLOT];
	struct mmsghdr      msgs[DP_BATCH];
	struct iovec        iov[DP_BATCH];
	struct sockaddr_in  to[DP_BATCH];
	struct esp_sa      *out_sa[DP_BATCH];
	unsigned            nout;
};

/* ---- TUN device and routes ------------------------------------------------ */

static int
tun_open(struct esp_dp *dp, const char *name)
{
	struct ifreq ifr;

	if ((dp->tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), name);
	if (ioctl(dp->tun_fd, TUNSETIFF, &ifr) == -1)
		return -1;
	str_copy(dp->tun_name, sizeof(dp->tun_name), ifr.ifr_name);
	if ((dp->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	ifr.ifr_mtu = ESP_DP_MTU;
	if (ioctl(dp->ctl_fd, SIOCSIFMTU, &ifr) == -1)
		return -1;
	if (ioctl(dp->ctl_fd, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(dp->ctl_fd, SIOCSIFFLAGS, &ifr);
}

/* Routes a crypto map's remote selector through the TUN device. */
static int
route(struct esp_dp *dp, const struct esp_net *net, int add)
{
	struct rtentry rt;
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;

	memset(&rt, 0, sizeof(rt));
	dst->sin_family = mask->sin_family = AF_INET;
	dst->sin_addr.s_addr = net->addr_be & net->mask_be;
	mask->sin_addr.s_addr = net->mask_be;
	rt.rt_flags = RTF_UP;
	rt.rt_dev = dp->tun_name;
	if (ioctl(dp->ctl_fd, add ? SIOCADDRT : SIOCDELRT, &rt) == -1 &&
	    errno != (add ? EEXIST : ESRCH))
		return -1;
	return 0;
}

/* ---- peers and pairs ---------------------------------------------------------- */

static struct dp_peer *
peer_get(struct esp_dp *dp, uint32_t peer_be, const char *map)
{
	for (size_t i = 0; i < dp->npeers; i++) {
		if (dp->peers[i].peer_be == peer_be && strcmp(dp->peers[i].map, map) == 0)
			return &dp->peers[i];
	}
	if (dp->npeers == ESP_DP_PEERS_MAX)
		return NULL;
	/* Peers are never removed (their counters live on), so pointers into
	 * the array stay valid only if it never moves: allocate it whole. */
	if (dp->peers == NULL)
		dp->peers = xcalloc(ESP_DP_PEERS_MAX, sizeof(*dp->peers));
	dp->peers[dp->npeers].peer_be = peer_be;
	str_copy(dp->peers[dp->npeers].map, sizeof(dp->peers[0].map), map);
	return &dp->peers[dp->npeers++];
}

static struct dp_pair *
pair_by_spi(const struct esp_dp *dp, uint32_t spi, int outbound)
{
	for (struct dp_pair *p = dp->pairs; p != NULL; p = p->next) {
		if ((outbound ? p->spi_out : p->spi_in) == spi)
			return p;
	}
	return NULL;
}

static void
counters_add(struct esp_counters *to, const struct esp_counters *c)
{
	to->packets += c->packets;
	to->bytes += c->bytes;
	to->encrypt_or_decrypt += c->encrypt_or_decrypt;
	to->digest_or_verify += c->digest_or_verify;
	for (int i = 0; i < ESP_DROP__COUNT; i++)
		to->drops[i] += c->drops[i];
	if (c->last_ms > to->last_ms)
		to->last_ms = c->last_ms;
}

int
esp_dp_install(struct esp_dp *dp, const struct esp_dp_pair *pr)
{
	struct esp_sa *in = esp_sa_new(&pr->in, 0), *out = esp_sa_new(&pr->out, 1);
	struct dp_peer *peer = peer_get(dp, pr->peer_be, pr->map ? pr->map : "");
	struct dp_pair *p;
	char ip[16];

	if (in == NULL || out == NULL || peer == NULL) {
		esp_sa_free(in);
		esp_sa_free(out);
		log_warnx("ESP: cannot install the SA pair 0x%08x/0x%08x", pr->in.spi, pr->out.spi);
		return -1;
	}
	esp_sad_add(dp->sad, in, 0);
	esp_sad_add(dp->sad, out, 1);
	p = xcalloc(1, sizeof(*p));
	p->spi_in = pr->in.spi;
	p->spi_out = pr->out.spi;
	p->in = in;
	p->out = out;
	esp_sa_set_owner(in, p);
	esp_sa_set_owner(out, p);
	p->hard_bytes = pr->lifetime_kb * 1024;
	p->soft_bytes = p->hard_bytes / 10 * 9;
	p->peer_port = pr->peer_port;
	p->peer = peer;
	p->remote = pr->out.remote;
	for (struct dp_pair *o = dp->pairs; o != NULL; o = o->next) {
		if (o->peer == peer)
			peer->rekeys++;		/* a pair with this peer already: a rekey */
	}
	p->next = dp->pairs;
	dp->pairs = p;
	if (route(dp, &p->remote, 1) == -1)
		log_warn("ESP: cannot route %s via %s", ipv4_str(p->remote.addr_be, ip), dp->tun_name);
	return 0;
}

void
esp_dp_remove(struct esp_dp *dp, uint32_t spi_in, uint32_t spi_out)
{
	struct dp_pair **pp, *p = NULL;

	for (pp = &dp->pairs; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->spi_in == spi_in && (*pp)->spi_out == spi_out) {
			p = *pp;
			*pp = p->next;
			break;
		}
	}
	if (p == NULL)
		return;
	/* Counters are per peer for the life of the process. */
	counters_add(&p->peer->retired_out, esp_sa_counters(p->out));
	counters_add(&p->peer->retired_in, esp_sa_counters(p->in));
	esp_sad_remove_sa(dp->sad, p->in);
	esp_sad_remove_sa(dp->sad, p->out);
	for (struct dp_pair *o = dp->pairs; o != NULL; o = o->next) {
		if (o->remote.addr_be == p->remote.addr_be && o->remote.mask_be == p->remote.mask_be)
			goto done;	/* another pair still routes there */
	}
	route(dp, &p->remote, 0);
done:
	free(p);
}

const struct esp_counters *
esp_dp_sa_counters(const struct esp_dp *dp, uint32_t spi, int outbound)
{
	const struct dp_pair *p = pair_by_spi(dp, spi, outbound);

	return p ? esp_sa_counters(outbound ? p->out : p->in) : NULL;
}

void
esp_dp_peers(const struct esp_dp *dp, void (*fn)(void *ctx, const struct esp_dp_peer_view *v),
	     void *ctx)
{
	for (size_t i = 0; i < dp->npeers; i++) {
		const struct dp_peer *peer = &dp->peers[i];
		struct esp_dp_peer_view v;

		memset(&v, 0, sizeof(v));
		v.peer_be = peer->peer_be;
		v.map = peer->map;
		v.out = peer->retired_out;
		v.in = peer->retired_in;
		v.rekeys = peer->rekeys;
		for (const struct dp_pair *p = dp->pairs; p != NULL; p = p->next) {
			if (p->peer != peer)
				continue;
			counters_add(&v.out, esp_sa_counters(p->out));
			counters_add(&v.in, esp_sa_counters(p->in));
			v.live_pairs++;
		}
		fn(ctx, &v);
	}
}

/* ---- packets ---------------------------------------------------------------- */

/* Volume lifetime: the larger direction counts. Returns 1 when the
 * pair is past its hard limit and must not carry the packet; the drop is
 * counted on sa first, because the hook may delete the pair (and sa). */
static int
volume_check(struct esp_dp *dp, struct dp_pair *p, struct esp_sa *sa, int64_t now)
{
	uint64_t in = esp_sa_counters(p->in)->bytes, out = esp_sa_counters(p->out)->bytes;
	uint64_t used = in > out ? in : out;

	if (p->hard_bytes == 0)
		return 0;
	if (used >= p->hard_bytes) {
		dp->expired++;
		esp_sa_count_drop(sa, ESP_DROP_EXPIRED);
		if (!p->hard_signalled && dp->hooks.volume) {
			p->hard_signalled = 1;
			dp->hooks.volume(dp->hooks.ctx, p->spi_in, 1, now);
		}
		return 1;
	}
	if (used >= p->soft_bytes && !p->soft_signalled && dp->hooks.volume) {
		p->soft_signalled = 1;
		dp->hooks.volume(dp->hooks.ctx, p->spi_in, 0, now);
	}
	return 0;
}

static void
signal_peer(struct esp_dp *dp, struct dp_peer *peer, int inbound, int64_t now)
{
	int64_t *last = inbound ? &peer->signalled_in : &peer->signalled_out;

	if (now - *last < ESP_DP_SIGNAL_MS)
		return;
	*last = now;
	if (inbound && dp->hooks.inbound)
		dp->hooks.inbound(dp->hooks.ctx, peer->peer_be, now);
	else if (!inbound && dp->hooks.outbound)
		dp->hooks.outbound(dp->hooks.ctx, peer->peer_be, now);
}

/* Sends the batch with as few system calls as the kernel allows. */
static void
flush(struct esp_dp *dp)
{
	unsigned sent = 0;

	while (sent < dp->nout) {
		int n = sendmmsg(dp->udp_fd, dp->msgs + sent, dp->nout - sent, 0);

		if (n <= 0) {
			/* this datagram failed; count it and go on with the rest */
			dp->send_errors++;
			esp_sa_count_drop(dp->out_sa[sent], ESP_DROP_SEND_ERROR);
			sent++;
			continue;
		}
		sent += (unsigned)n;
	}
	dp->nout = 0;
}

/* TUN → ESP → (batch) UDP. */
static void
tun_packet(struct esp_dp *dp, const uint8_t *pkt, size_t len, int64_t now)
{
	unsigned k = dp->nout;
	struct esp_sa *sa;
	struct dp_pair *p;
	uint32_t src, dst;
	size_t olen;

	if (len < 20 || (pkt[0] >> 4) != 4) {
		dp->tun_malformed++;	/* not IPv4: nothing of ours */
		return;
	}
	memcpy(&src, pkt + 12, 4);
	memcpy(&dst, pkt + 16, 4);
	if ((sa = esp_sad_outbound(dp->sad, src, dst)) == NULL ||
	    (p = esp_sa_owner(sa)) == NULL) {
		dp->tun_no_sa++;	/* routed to us but no SA (yet): counted on the SAD */
		esp_sad_count_drop(dp->sad, ESP_DROP_NO_SA);
		return;
	}
	signal_peer(dp, p->peer, 0, now);
	if (volume_check(dp, p, sa, now))
		return;		/* counted; p and sa may be gone */
	if (esp_output(sa, pkt, len, 4, dp->out[k], DP_SLOT, &olen, now) != 0)
		return;		/* counted on the SA */
	dp->to[k] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(p->peer_port),
					  .sin_addr.s_addr = p->peer->peer_be };
	dp->iov[k] = (struct iovec){ dp->out[k], olen };
	dp->msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = &dp->to[k],
						     .msg_namelen = sizeof(dp->to[k]),
						     .msg_iov = &dp->iov[k], .msg_iovlen = 1 } };
	dp->out_sa[k] = sa;
	dp->nout++;
}

static void
tun_cb(evutil_socket_t fd, short what, void *arg)
{
	struct esp_dp *dp = arg;
	uint8_t buf[ESP_PKT_MAX];
	int64_t now = now_mono_ms();

	for (int i = 0; i < DP_BATCH; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		tun_packet(dp, buf, (size_t)n, now);
	}
	flush(dp);
}

/* UDP → ESP → TUN. */
void
esp_dp_udp_input(struct esp_dp *dp, uint32_t src_be, uint16_t src_port, const uint8_t *pkt,
		 size_t len)
{
	uint8_t inner[ESP_PKT_MAX];
	struct esp_sa *sa;
	struct dp_pair *p;
	size_t ilen;
	uint8_t nh;
	int64_t now = now_mono_ms();

	if (esp_input(dp->sad, pkt, len, inner, sizeof(inner), &ilen, &nh, &sa, now) != 0)
		return;		/* dropped and counted by esp_input */
	if ((p = esp_sa_owner(sa)) != NULL) {
		if (p->peer->peer_be == src_be)
			p->peer_port = src_port;	/* follow a NAT's port change */
		signal_peer(dp, p->peer, 1, now);
		if (volume_check(dp, p, sa, now))
			return;		/* counted; p and sa may be gone */
	}
	if (write(dp->tun_fd, inner, ilen) == -1) {
		dp->tun_write_errors++;
		esp_sa_count_drop(sa, ESP_DROP_RECV_ERROR);
	}
}

/* ---- life cycle ---------------------------------------------------------------- */

struct esp_dp *
esp_dp_new(struct event_base *base, const char *tun_name, int udp_fd,
	   const struct esp_dp_hooks *hooks)
{
	struct esp_dp *dp = xcalloc(1, sizeof(*dp));

	dp->base = base;
	dp->udp_fd = udp_fd;
	dp->tun_fd = dp->ctl_fd = -1;
	if (hooks)
		dp->hooks = *hooks;
	dp->sad = esp_sad_new();
	if (tun_open(dp, tun_name) == -1) {
		log_warn("ESP: cannot set up TUN device %s", tun_name);
		esp_dp_free(dp);
		return NULL;
	}
	dp->tun_ev = event_new(base, dp->tun_fd, EV_READ | EV_PERSIST, tun_cb, dp);
	event_add(dp->tun_ev, NULL);
	log_info("ESP: dataplane on %s (MTU %d), ESP-in-UDP on the NAT-T socket", dp->tun_name,
		 ESP_DP_MTU);
	return dp;
}

const char *
esp_dp_tun_name(const struct esp_dp *dp)
{
	return dp->tun_name;
}

void
esp_dp_free(struct esp_dp *dp)
{
	if (dp == NULL)
		return;
	while (dp->pairs != NULL)
		esp_dp_remove(dp, dp->pairs->spi_in, dp->pairs->spi_out);
	if (dp->tun_ev)
		event_free(dp->tun_ev);
	if (dp->tun_fd != -1)
		close(dp->tun_fd);
	if (dp->ctl_fd != -1)
		close(dp->ctl_fd);
	esp_sad_free(dp->sad);
	free(dp->peers);
	free(dp);
}
