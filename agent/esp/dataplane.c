/*
 * The dataplane (see dataplane.h) as the loop sees it: the TUN device and
 * its routes, SA pairs and their peers, counters, the notes workers post to
 * the loop, and the life cycle. The packet threads are worker.c; the ESP
 * work itself is esp_output()/esp_input().
 *
 * Locks: dp->lock (rwlock, writers first) guards the pair list, the SAD's
 * membership and the peers' retired counters; a worker holds it for reading
 * over one batch, the loop for writing to change pairs or read counters.
 * Each SA has its own mutex inside esp_output/esp_input, and each pair an
 * out_lock a worker holds over a batch, so that one SA's datagrams leave in
 * sequence order (hold_pair in worker.c). What workers share beyond that (a
 * pair's volume bytes and flags, a peer's signal times and NAT port) is
 * atomic.
 */
#include "esp/dp_int.h"
#include "esp/esp_test.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <net/route.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/event.h>

/* ---- the TUN device and its routes ----------------------------------------- */

static int
tun_up(struct esp_dp *dp)
{
	struct ifreq ifr;

	if ((dp->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), dp->tun_name);
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

/* ---- notes to the loop ---------------------------------------------------------- */

/* 0, or -1 when the queue is full (the caller may retry later). */
int
dp_note_post(struct esp_dp *dp, enum dp_note_kind kind, uint32_t peer_be, uint16_t client_port,
	     uint32_t spi_in, enum esp_dp_limit limit, int64_t now)
{
	int wake;

	pthread_mutex_lock(&dp->notes_lock);
	if (dp->notes_count == DP_NOTES) {
		dp->notes_dropped++;
		pthread_mutex_unlock(&dp->notes_lock);
		return -1;
	}
	dp->notes[(dp->notes_head + dp->notes_count) % DP_NOTES] =
	    (struct dp_note){ kind, peer_be, client_port, spi_in, limit, now };
	wake = dp->notes_count++ == 0;
	pthread_mutex_unlock(&dp->notes_lock);
	if (wake)
		event_active(dp->notes_ev, EV_READ, 0);
	return 0;
}

/* On the loop: the hooks, with no dataplane lock held (they may remove
 * pairs). */
static void
notes_cb(evutil_socket_t fd, short what, void *arg)
{
	struct esp_dp *dp = arg;
	static struct dp_note batch[DP_NOTES];
	unsigned n;

	pthread_mutex_lock(&dp->notes_lock);
	n = dp->notes_count;
	for (unsigned i = 0; i < n; i++)
		batch[i] = dp->notes[(dp->notes_head + i) % DP_NOTES];
	dp->notes_head = (dp->notes_head + n) % DP_NOTES;
	dp->notes_count = 0;
	pthread_mutex_unlock(&dp->notes_lock);
	for (unsigned i = 0; i < n; i++) {
		const struct dp_note *t = &batch[i];

		if (t->kind == NOTE_OUTBOUND && dp->hooks.outbound)
			dp->hooks.outbound(dp->hooks.ctx, t->peer_be, t->client_port, t->now);
		else if (t->kind == NOTE_LIMIT && dp->hooks.limit)
			dp->hooks.limit(dp->hooks.ctx, t->peer_be, t->client_port, t->spi_in, t->limit,
					t->now);
	}
}

/* ---- peers and pairs (the loop, under the write lock) -------------------------- */

static size_t
host_slot(const struct esp_dp *dp, uint32_t peer_be, uint16_t client_port)
{
	return hash32(peer_be ^ ((uint32_t)client_port << 16)) & dp->hosts_mask;
}

/* The loop thread only: it alone uses the table (workers reach a host
 * through their pair's peer). */
static struct dp_host *
host_find(const struct esp_dp *dp, uint32_t peer_be, uint16_t client_port)
{
	struct dp_host *h;

	if (dp->hosts == NULL)
		return NULL;
	for (h = dp->hosts[host_slot(dp, peer_be, client_port)];
	     h != NULL && (h->peer_be != peer_be || h->client_port != client_port); h = h->next)
		;
	return h;
}

static void
hosts_grow(struct esp_dp *dp)
{
	struct dp_host **old = dp->hosts, *h, *next;
	size_t n = old == NULL ? 0 : dp->hosts_mask + 1;

	dp->hosts_mask = n == 0 ? 63 : 2 * n - 1;
	dp->hosts = xcalloc(dp->hosts_mask + 1, sizeof(*dp->hosts));
	for (size_t i = 0; i < n; i++) {
		for (h = old[i]; h != NULL; h = next) {
			next = h->next;
			h->next = dp->hosts[host_slot(dp, h->peer_be, h->client_port)];
			dp->hosts[host_slot(dp, h->peer_be, h->client_port)] = h;
		}
	}
	free(old);
}

/* Hosts and peers are never removed (pairs point to them, their counters
 * live on): memory grows with the peers ever used, not with a cap. A host
 * may come before its first pair (IKE reports liveness, DPD watches). */
static struct dp_host *
host_get(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port)
{
	struct dp_host *h = host_find(dp, peer_be, client_port);

	if (h != NULL)
		return h;
	if (dp->hosts == NULL || dp->nhosts > dp->hosts_mask)
		hosts_grow(dp);
	h = xcalloc(1, sizeof(*h));
	h->peer_be = peer_be;
	h->client_port = client_port;
	h->next = dp->hosts[host_slot(dp, peer_be, client_port)];
	dp->hosts[host_slot(dp, peer_be, client_port)] = h;
	dp->nhosts++;
	return h;
}

static struct dp_peer *
peer_get(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port, const char *map)
{
	struct dp_host *h = host_get(dp, peer_be, client_port);
	struct dp_peer *p;

	for (p = h->peers; p != NULL; p = p->next_of_host) {
		if (strcmp(p->map, map) == 0)
			return p;
	}
	p = xcalloc(1, sizeof(*p));
	p->host = h;
	p->peer_be = peer_be;
	p->client_port = client_port;
	str_copy(p->map, sizeof(p->map), map);
	p->next_of_host = h->peers;
	h->peers = p;
	*dp->peers_tail = p;
	dp->peers_tail = &p->next;
	return p;
}

/* ---- the pair and route indexes (the loop, under the write lock) --------------- */

#define DP_FIRST_BITS 6

static size_t
spi_slot(uint32_t spi, unsigned bits)
{
	return hash32(spi) & (((uint32_t)1 << bits) - 1);
}

static void
spi_chain_add(struct esp_dp *dp, struct dp_pair *p)
{
	struct dp_pair **in = &dp->by_spi_in[spi_slot(p->spi_in, dp->spi_bits)];
	struct dp_pair **out = &dp->by_spi_out[spi_slot(p->spi_out, dp->spi_bits)];

	p->next_in = *in;
	*in = p;
	p->next_out = *out;
	*out = p;
}

/* Chains average at most one pair: the tables double as pairs come. */
static void
pair_link(struct esp_dp *dp, struct dp_pair *p)
{
	p->prev = NULL;
	p->next = dp->pairs;
	if (dp->pairs != NULL)
		dp->pairs->prev = p;
	dp->pairs = p;
	if (dp->by_spi_in != NULL && dp->npairs < (size_t)1 << dp->spi_bits) {
		spi_chain_add(dp, p);
	} else {
		dp->spi_bits = dp->by_spi_in == NULL ? DP_FIRST_BITS : dp->spi_bits + 1;
		free(dp->by_spi_in);
		free(dp->by_spi_out);
		dp->by_spi_in = xcalloc((size_t)1 << dp->spi_bits, sizeof(*dp->by_spi_in));
		dp->by_spi_out = xcalloc((size_t)1 << dp->spi_bits, sizeof(*dp->by_spi_out));
		for (struct dp_pair *o = dp->pairs; o != NULL; o = o->next)
			spi_chain_add(dp, o);
	}
	dp->npairs++;
}

static void
pair_unlink(struct esp_dp *dp, struct dp_pair *p)
{
	struct dp_pair **pp;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		dp->pairs = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	for (pp = &dp->by_spi_in[spi_slot(p->spi_in, dp->spi_bits)]; *pp != p; pp = &(*pp)->next_in)
		;
	*pp = p->next_in;
	for (pp = &dp->by_spi_out[spi_slot(p->spi_out, dp->spi_bits)]; *pp != p;
	     pp = &(*pp)->next_out)
		;
	*pp = p->next_out;
	dp->npairs--;
}

static struct dp_pair *
pair_by_spi(const struct esp_dp *dp, uint32_t spi, int outbound)
{
	struct dp_pair *p;

	if (dp->by_spi_in == NULL)
		return NULL;
	if (outbound) {
		for (p = dp->by_spi_out[spi_slot(spi, dp->spi_bits)]; p != NULL; p = p->next_out) {
			if (p->spi_out == spi)
				return p;
		}
	} else {
		for (p = dp->by_spi_in[spi_slot(spi, dp->spi_bits)]; p != NULL; p = p->next_in) {
			if (p->spi_in == spi)
				return p;
		}
	}
	return NULL;
}

static size_t
route_slot(const struct esp_dp *dp, const struct dp_route *k)
{
	return hash32(k->net.addr_be ^ hash32(k->net.mask_be ^ hash32((uint32_t)k->proto << 16 ^
	    k->sport ^ (uint32_t)k->dport << 8))) & (((uint32_t)1 << dp->route_bits) - 1);
}

static int
route_same(const struct dp_route *a, const struct dp_route *b)
{
	return a->net.addr_be == b->net.addr_be && a->net.mask_be == b->net.mask_be &&
	    a->proto == b->proto && a->sport == b->sport && a->dport == b->dport &&
	    a->steer == b->steer;
}

/* One more pair sends to k; returns 1 when it is the first. */
static int
route_hold(struct esp_dp *dp, const struct dp_route *k)
{
	struct dp_route *r;

	if (dp->routes == NULL || dp->nroutes >= (size_t)1 << dp->route_bits) {
		struct dp_route **old = dp->routes, *next;
		size_t n = old == NULL ? 0 : (size_t)1 << dp->route_bits;

		dp->route_bits = old == NULL ? DP_FIRST_BITS : dp->route_bits + 1;
		dp->routes = xcalloc((size_t)1 << dp->route_bits, sizeof(*dp->routes));
		for (size_t i = 0; i < n; i++) {
			for (r = old[i]; r != NULL; r = next) {
				next = r->next;
				r->next = dp->routes[route_slot(dp, r)];
				dp->routes[route_slot(dp, r)] = r;
			}
		}
		free(old);
	}
	for (r = dp->routes[route_slot(dp, k)]; r != NULL; r = r->next) {
		if (route_same(r, k)) {
			r->pairs++;
			return 0;
		}
	}
	r = xcalloc(1, sizeof(*r));
	*r = *k;
	r->pairs = 1;
	r->next = dp->routes[route_slot(dp, k)];
	dp->routes[route_slot(dp, k)] = r;
	dp->nroutes++;
	return 1;
}

/* A pair that sent to k goes; returns 1 when it was the last. */
static int
route_release(struct esp_dp *dp, const struct dp_route *k)
{
	struct dp_route **rp, *r;

	for (rp = &dp->routes[route_slot(dp, k)]; (r = *rp) != NULL; rp = &r->next) {
		if (route_same(r, k))
			break;
	}
	if (r == NULL || --r->pairs > 0)
		return 0;
	*rp = r->next;
	free(r);
	dp->nroutes--;
	return 1;
}

/* Into the TUN device or out of it: a route, or a policy rule. */
static void
route_apply(struct esp_dp *dp, const struct dp_route *k, int add)
{
	char ip[16];

	if (k->steer ? dp_steer_rule(dp, k, add) == -1 : route(dp, &k->net, add) == -1)
		log_warn("ESP: cannot %s %s %s/%d%s via %s", add ? "route" : "unroute",
			 k->steer ? "the policy rule to" : "", ipv4_str(k->net.addr_be, ip),
			 __builtin_popcount(k->net.mask_be), k->proto ? " (one protocol)" : "",
			 dp->tun_name);
}

/* The pair starts sending: its outbound SA joins the SAD (under the write
 * lock). */
static void
pair_activate(struct esp_dp *dp, struct dp_pair *p)
{
	if (p->active)
		return;
	esp_sad_add(dp->sad, p->out, 1);
	p->active = 1;
	if (p->peer->active_pairs++ > 0)
		p->peer->rekeys++;	/* a pair with this peer already: a rekey */
}

void
esp_dp_activate(struct esp_dp *dp, uint32_t spi_in)
{
	struct dp_pair *p;

	pthread_rwlock_wrlock(&dp->lock);
	if ((p = pair_by_spi(dp, spi_in, 0)) != NULL)
		pair_activate(dp, p);
	pthread_rwlock_unlock(&dp->lock);
	dp_tunnels_carrier(dp);
}

int
esp_dp_install(struct esp_dp *dp, const struct esp_dp_pair *pr)
{
	struct esp_sa *in = esp_sa_new(&pr->in, 0), *out = esp_sa_new(&pr->out, 1);
	struct dp_peer *peer;
	struct dp_pair *p;
	int first;

	if (!pr->udp_encap && !dp->plain) {
		esp_sa_free(in);
		esp_sa_free(out);
		log_warnx("ESP: SA pair 0x%08x/0x%08x refused: plain ESP needs a raw socket "
			  "(CAP_NET_RAW)", pr->in.spi, pr->out.spi);
		return -1;
	}
	if (out != NULL && pr->test_seq_start > 1)
		esp_sa_test_set_seq(out, pr->test_seq_start);
	if (in == NULL || out == NULL) {
		esp_sa_free(in);
		esp_sa_free(out);
		log_warnx("ESP: cannot install the SA pair 0x%08x/0x%08x", pr->in.spi, pr->out.spi);
		return -1;
	}
	pthread_rwlock_wrlock(&dp->lock);
	peer = peer_get(dp, pr->peer_be, pr->client_port, pr->map ? pr->map : "");
	esp_sad_add(dp->sad, in, 0);
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->out_lock, NULL);
	p->spi_in = pr->in.spi;
	p->spi_out = pr->out.spi;
	p->in = in;
	p->out = out;
	esp_sa_set_owner(in, p);
	esp_sa_set_owner(out, p);
	p->hard_bytes = pr->lifetime_kb * 1024;
	p->soft_bytes = p->hard_bytes / 10 * 9;
	p->peer_port = pr->udp_encap ? pr->peer_port : 0;
	p->udp_encap = pr->udp_encap;
	p->peer = peer;
	/* A route takes every protocol to a network: a selector of one
	 * protocol, or between the gateways themselves (transport mode, whose
	 * own IKE and ESP must stay out of the tunnel), gets a policy rule. */
	p->path = (struct dp_route){ .net = pr->out.remote, .proto = pr->out.proto,
				     .sport = pr->out.local_port, .dport = pr->out.remote_port,
				     .steer = pr->out.transport || pr->out.proto != 0 };
	pair_link(dp, p);
	first = route_hold(dp, &p->path);
	if (!pr->outbound_later)
		pair_activate(dp, p);
	pthread_rwlock_unlock(&dp->lock);
	if (first)
		route_apply(dp, &p->path, 1);
	dp_tunnels_carrier(dp);
	return 0;
}

void
esp_dp_remove(struct esp_dp *dp, uint32_t spi_in, uint32_t spi_out)
{
	struct dp_pair *p;
	int last;

	pthread_rwlock_wrlock(&dp->lock);
	if ((p = pair_by_spi(dp, spi_in, 0)) == NULL || p->spi_out != spi_out) {
		pthread_rwlock_unlock(&dp->lock);
		return;
	}
	pair_unlink(dp, p);
	/* Counters are per peer for the life of the process. */
	esp_counters_add(&p->peer->retired_out, esp_sa_counters(p->out));
	esp_counters_add(&p->peer->retired_in, esp_sa_counters(p->in));
	esp_sad_remove_sa(dp->sad, p->in);
	if (p->active) {
		esp_sad_remove_sa(dp->sad, p->out);
		p->peer->active_pairs--;
	} else {
		esp_sa_free(p->out);	/* never joined the SAD */
	}
	last = route_release(dp, &p->path);	/* another pair may still use it */
	pthread_rwlock_unlock(&dp->lock);
	if (last)
		route_apply(dp, &p->path, 0);
	pthread_mutex_destroy(&p->out_lock);
	free(p);
	dp_tunnels_carrier(dp);
}

int
esp_dp_sa_counters(struct esp_dp *dp, uint32_t spi, int outbound, struct esp_counters *out)
{
	const struct dp_pair *p;

	pthread_rwlock_wrlock(&dp->lock);
	if ((p = pair_by_spi(dp, spi, outbound)) != NULL)
		*out = *esp_sa_counters(outbound ? p->out : p->in);
	pthread_rwlock_unlock(&dp->lock);
	return p != NULL ? 0 : -1;
}

void
esp_dp_peers(struct esp_dp *dp, void (*fn)(void *ctx, const struct esp_dp_peer_view *v),
	     void *ctx)
{
	pthread_rwlock_wrlock(&dp->lock);
	/* one pass over the pairs, one over the peers */
	for (const struct dp_pair *p = dp->pairs; p != NULL; p = p->next) {
		esp_counters_add(&p->peer->live_out, esp_sa_counters(p->out));
		esp_counters_add(&p->peer->live_in, esp_sa_counters(p->in));
		p->peer->live_pairs++;
	}
	for (struct dp_peer *peer = dp->peers; peer != NULL; peer = peer->next) {
		struct esp_dp_peer_view v;

		memset(&v, 0, sizeof(v));
		v.peer_be = peer->peer_be;
		v.client_port = peer->client_port;
		v.map = peer->map;
		v.out = peer->retired_out;
		v.in = peer->retired_in;
		esp_counters_add(&v.out, &peer->live_out);
		esp_counters_add(&v.in, &peer->live_in);
		v.rekeys = peer->rekeys;
		v.live_pairs = peer->live_pairs;
		memset(&peer->live_out, 0, sizeof(peer->live_out));
		memset(&peer->live_in, 0, sizeof(peer->live_in));
		peer->live_pairs = 0;
		fn(ctx, &v);
	}
	pthread_rwlock_unlock(&dp->lock);
}

/* ---- what DPD reads (the loop; the record is atomic) ------------------------- */

int
esp_dp_traffic(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port,
	       struct esp_dp_traffic *out)
{
	const struct dp_host *h = host_find(dp, peer_be, client_port);

	if (h == NULL)
		return -1;
	dp_record_read(&h->rec, &out->last_in, &out->first_out);
	return 0;
}

void
esp_dp_alive(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port, int64_t at)
{
	dp_record_alive(&host_get(dp, peer_be, client_port)->rec, at);
}

void
esp_dp_watch(struct esp_dp *dp, uint32_t peer_be, uint16_t client_port)
{
	dp_record_watch(&host_get(dp, peer_be, client_port)->rec);
}

/* ---- life cycle ---------------------------------------------------------------- */

static int
workers_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > ESP_DP_WORKERS_MAX ? ESP_DP_WORKERS_MAX : (int)n;
}

struct esp_dp *
esp_dp_new(struct event_base *base, const char *tun_name, int udp_fd, int workers,
	   int tun_offload, const struct esp_dp_hooks *hooks)
{
	struct esp_dp *dp = xcalloc(1, sizeof(*dp));
	pthread_rwlockattr_t attr;

	dp->base = base;
	dp->peers_tail = &dp->peers;
	dp->ike_fd = udp_fd;
	dp->vnet = tun_offload;
	dp->ctl_fd = dp->stop_fd = dp->nl_fd = -1;
	if (hooks)
		dp->hooks = *hooks;
	dp->sad = esp_sad_new();
	/* Writers first: a steady stream of worker batches must not keep an
	 * install waiting. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&dp->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&dp->notes_lock, NULL);
	dp->notes_ev = event_new(base, -1, 0, notes_cb, dp);
	dp->nworkers = workers > 0 && workers <= ESP_DP_WORKERS_MAX ? workers : workers_default();
	/* xcalloc: each worker carries its batches (~400 KiB) */
	dp->workers = xcalloc((size_t)dp->nworkers, sizeof(*dp->workers));
	for (int i = 0; i < dp->nworkers; i++)
		dp->workers[i].tun_fd = dp->workers[i].udp_fd = dp->workers[i].raw_fd = -1;
	if ((dp->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    dp_workers_open(dp, tun_name) == -1 || tun_up(dp) == -1) {
		log_warn("ESP: cannot set up TUN device %s", tun_name);
		esp_dp_free(dp);
		return NULL;
	}
	if (dp_steer_open(dp) == -1) {
		log_warn("ESP: no policy routing (rtnetlink) for selectors of one protocol and "
			 "transport mode; only tunnel-mode traffic between networks is routed");
		dp_steer_close(dp);
	}
	if (dp_workers_start(dp) == -1) {
		esp_dp_free(dp);
		return NULL;
	}
	log_info("ESP: dataplane on %s (MTU %d), %d worker%s, ESP-in-UDP on port 4500%s%s%s%s, "
		 "TUN %s", dp->tun_name, ESP_DP_MTU, dp->nworkers, dp->nworkers == 1 ? "" : "s",
		 dp->steered ? " (steered by SPI)" : " (decrypted on the main loop)",
		 dp->workers[0].gso ? ", UDP GSO" : "", dp->workers[0].gro ? "/GRO" : "",
		 dp->plain ? ", plain ESP (steered by SPI)" : "",
		 !dp->vnet ? "one packet per read and write" :
		 dp->offloads & TUN_F_USO4 ? "offloads TSO4, USO4 (super-packets cut, TCP merged)" :
		 dp->offloads & TUN_F_TSO4 ? "offloads TSO4 (super-packets cut, TCP merged)" :
		 "virtio-net header, no offloads (one packet per read)");
	return dp;
}

int
esp_dp_plain_esp(const struct esp_dp *dp)
{
	return dp->plain;
}

const char *
esp_dp_tun_name(const struct esp_dp *dp)
{
	return dp->tun_name;
}

int
esp_dp_workers(const struct esp_dp *dp)
{
	return dp->nworkers;
}

void
esp_dp_stats(struct esp_dp *dp, struct esp_dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_rwlock_wrlock(&dp->lock);
	out->workers = dp->nworkers;
	for (int i = 0; i < dp->nworkers; i++) {
		out->worker_out[i] = dp->workers[i].carried_out;
		out->worker_in[i] = dp->workers[i].carried_in;
		out->tun_cut += dp->workers[i].tun_cut;
		out->tun_merged += dp->workers[i].tun_merged;
	}
	memcpy(out->drops, esp_sad_drops(dp->sad), sizeof(out->drops));
	pthread_rwlock_unlock(&dp->lock);
}

void
esp_dp_free(struct esp_dp *dp)
{
	uint64_t one = 1;

	if (dp == NULL)
		return;
	if (dp->stop_fd != -1 && write(dp->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("ESP: cannot stop the workers");
	dp_workers_join(dp);
	dp_tunnels_free(dp);
	while (dp->pairs != NULL)
		esp_dp_remove(dp, dp->pairs->spi_in, dp->pairs->spi_out);
	dp_steer_close(dp);
	dp_workers_close(dp);
	if (dp->notes_dropped > 0)
		log_info("ESP: %llu notes to the loop were dropped (queue full)",
			 (unsigned long long)dp->notes_dropped);
	if (dp->stop_fd != -1)
		close(dp->stop_fd);
	if (dp->ctl_fd != -1)
		close(dp->ctl_fd);
	if (dp->notes_ev)
		event_free(dp->notes_ev);
	pthread_mutex_destroy(&dp->notes_lock);
	pthread_rwlock_destroy(&dp->lock);
	esp_sad_free(dp->sad);
	free(dp->workers);
	while (dp->peers != NULL) {
		struct dp_peer *next = dp->peers->next;

		free(dp->peers);
		dp->peers = next;
	}
	for (size_t i = 0; dp->hosts != NULL && i <= dp->hosts_mask; i++) {
		for (struct dp_host *h = dp->hosts[i], *next; h != NULL; h = next) {
			next = h->next;
			free(h);
		}
	}
	free(dp->hosts);
	free(dp->by_spi_in);
	free(dp->by_spi_out);
	free(dp->routes);	/* empty: every pair released its route */
	free(dp);
}
