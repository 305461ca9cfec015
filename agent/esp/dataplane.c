/*
 * The dataplane (see dataplane.h): TUN queues and routes, the workers that
 * move TUN → ESP → UDP and UDP → ESP → TUN, SA pairs and their peers, and
 * the notes workers post to the loop. The ESP work itself is
 * esp_output()/esp_input(); this file moves bytes and keeps threads apart.
 *
 * Locks: dp->lock (rwlock, writers first) guards the pair list, the SAD's
 * membership and the peers' retired counters; a worker holds it for reading
 * over one batch, the loop for writing to change pairs or read counters.
 * Each SA has its own mutex inside esp_output/esp_input, and each pair an
 * out_lock a worker holds over a batch, so that one SA's datagrams leave in
 * sequence order (hold_pair). What workers share
 * beyond that (a pair's volume bytes and flags, a peer's signal times and
 * NAT port) is atomic.
 */
#include "esp/dataplane.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

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

struct dp_peer {
	uint32_t            peer_be;
	char                map[160];
	struct esp_counters retired_out, retired_in;
	uint64_t            rekeys;
	int64_t             signalled_in, signalled_out;	/* atomic */
};

struct dp_pair {
	/* Held by one worker from its first packet for this pair until its
	 * batch is sent: sequence numbers leave in order, as the peer's replay
	 * window wants, even when flows of one SA reach several workers. */
	pthread_mutex_t out_lock;
	struct dp_pair *next;
	uint32_t        spi_in, spi_out;
	struct esp_sa  *in, *out;	/* owned by the SAD */
	uint64_t        soft_bytes, hard_bytes;	/* volume lifetime, 0 = none */
	uint64_t        bytes[2];		/* atomic: plaintext in, out */
	int             soft_signalled, hard_signalled;	/* atomic */
	uint16_t        peer_port;		/* atomic: follows a NAT */
	struct dp_peer *peer;
	struct esp_net  remote;
};

enum dp_note_kind { NOTE_INBOUND, NOTE_OUTBOUND, NOTE_VOLUME };

struct dp_note {
	enum dp_note_kind kind;
	uint32_t          key;		/* peer (network order) or inbound SPI */
	int               hard;
	int64_t           now;
};

/* A run of the outgoing batch sent as one UDP GSO train. */
struct dp_run {
	unsigned first, count;
	union {			/* UDP_SEGMENT: the size of each datagram but the last */
		char           buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cmsg;
};

/* One packet thread: its TUN queue, its socket, its batches. With UDP
 * GSO/GRO (gso) a run of equal-sized datagrams to one peer leaves in one
 * send, and the kernel hands trains of them back in one receive. */
struct dp_worker {
	struct esp_dp     *dp;
	pthread_t          thread;
	int                running;
	int                tun_fd, udp_fd;
	int                gso, gro;
	uint64_t           carried_out, carried_in;	/* read under the write lock */
	uint8_t            out[DP_BATCH][DP_SLOT];
	struct iovec       iov[DP_BATCH];
	struct sockaddr_in to[DP_BATCH];
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
};

struct esp_dp {
	struct event_base  *base;
	struct esp_dp_hooks hooks;
	struct esp_sad     *sad;
	pthread_rwlock_t    lock;
	char                tun_name[IFNAMSIZ];
	int                 ike_fd, ctl_fd, stop_fd;
	struct dp_pair     *pairs;
	struct dp_peer     *peers;
	size_t              npeers;
	struct dp_worker   *workers;
	int                 nworkers;
	int                 steered;	/* workers have their own 4500 sockets */
	/* ESP that reached IKE's socket is decrypted on the loop, here */
	uint8_t             loop_inner[ESP_PKT_MAX];
	/* notes for the loop */
	pthread_mutex_t     notes_lock;
	struct dp_note      notes[DP_NOTES];
	unsigned            notes_head, notes_count;
	uint64_t            notes_dropped;
	struct event       *notes_ev;
};

/* ---- TUN queues, routes, sockets ---------------------------------------------- */

/* One more queue of the multi-queue TUN device (the first one creates it). */
static int
tun_queue(struct esp_dp *dp, const char *name)
{
	struct ifreq ifr;
	int fd;

	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), name);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		close(fd);
		return -1;
	}
	str_copy(dp->tun_name, sizeof(dp->tun_name), ifr.ifr_name);
	return fd;
}

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

/*
 * Which socket of the port-4500 group a datagram goes to, run by the kernel
 * on the UDP payload: IKE's socket (index 0, bound first) for the non-ESP
 * marker and for anything shorter than 4 bytes (NAT keepalives; a load past
 * the end returns 0), else worker 1 + SPI mod n. An index past the group's
 * size falls back to the kernel's hash, so attaching this before the
 * workers join is safe.
 */
static int
steer_attach(int ike_fd, int nworkers)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),			/* A = SPI or marker */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0),		/* marker: to IKE */
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)nworkers),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_LEN(code), .filter = code };

	return setsockopt(ike_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

/* A worker's socket on IKE's address and port. */
static int
worker_socket(int ike_fd)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd, one = 1, size = DP_SOCKBUF;

	if (getsockname(ike_fd, (struct sockaddr *)&sin, &slen) == -1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- notes to the loop ---------------------------------------------------------- */

/* 0, or -1 when the queue is full (the caller may retry later). */
static int
note_post(struct esp_dp *dp, enum dp_note_kind kind, uint32_t key, int hard, int64_t now)
{
	int wake;

	pthread_mutex_lock(&dp->notes_lock);
	if (dp->notes_count == DP_NOTES) {
		dp->notes_dropped++;
		pthread_mutex_unlock(&dp->notes_lock);
		return -1;
	}
	dp->notes[(dp->notes_head + dp->notes_count) % DP_NOTES] =
	    (struct dp_note){ kind, key, hard, now };
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

		if (t->kind == NOTE_INBOUND && dp->hooks.inbound)
			dp->hooks.inbound(dp->hooks.ctx, t->key, t->now);
		else if (t->kind == NOTE_OUTBOUND && dp->hooks.outbound)
			dp->hooks.outbound(dp->hooks.ctx, t->key, t->now);
		else if (t->kind == NOTE_VOLUME && dp->hooks.volume)
			dp->hooks.volume(dp->hooks.ctx, t->key, t->hard, t->now);
	}
}

/* Liveness and traffic, at most every ESP_DP_SIGNAL_MS per peer and way:
 * whichever worker wins the exchange posts. */
static void
signal_peer(struct esp_dp *dp, struct dp_peer *peer, int inbound, int64_t now)
{
	int64_t *last = inbound ? &peer->signalled_in : &peer->signalled_out;
	int64_t prev = LOAD(last);

	if (now - prev < ESP_DP_SIGNAL_MS ||
	    !__atomic_compare_exchange_n(last, &prev, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	note_post(dp, inbound ? NOTE_INBOUND : NOTE_OUTBOUND, peer->peer_be, 0, now);
}

/* ---- peers and pairs (the loop, under the write lock) -------------------------- */

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
	struct dp_peer *peer;
	struct dp_pair *p;
	char ip[16];

	pthread_rwlock_wrlock(&dp->lock);
	peer = peer_get(dp, pr->peer_be, pr->map ? pr->map : "");
	if (in == NULL || out == NULL || peer == NULL) {
		pthread_rwlock_unlock(&dp->lock);
		esp_sa_free(in);
		esp_sa_free(out);
		log_warnx("ESP: cannot install the SA pair 0x%08x/0x%08x", pr->in.spi, pr->out.spi);
		return -1;
	}
	esp_sad_add(dp->sad, in, 0);
	esp_sad_add(dp->sad, out, 1);
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
	p->peer_port = pr->peer_port;
	p->peer = peer;
	p->remote = pr->out.remote;
	for (struct dp_pair *o = dp->pairs; o != NULL; o = o->next) {
		if (o->peer == peer)
			peer->rekeys++;		/* a pair with this peer already: a rekey */
	}
	p->next = dp->pairs;
	dp->pairs = p;
	pthread_rwlock_unlock(&dp->lock);
	if (route(dp, &p->remote, 1) == -1)
		log_warn("ESP: cannot route %s via %s", ipv4_str(pr->out.remote.addr_be, ip),
			 dp->tun_name);
	return 0;
}

void
esp_dp_remove(struct esp_dp *dp, uint32_t spi_in, uint32_t spi_out)
{
	struct dp_pair **pp, *p = NULL;
	int routed = 0;

	pthread_rwlock_wrlock(&dp->lock);
	for (pp = &dp->pairs; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->spi_in == spi_in && (*pp)->spi_out == spi_out) {
			p = *pp;
			*pp = p->next;
			break;
		}
	}
	if (p == NULL) {
		pthread_rwlock_unlock(&dp->lock);
		return;
	}
	/* Counters are per peer for the life of the process. */
	counters_add(&p->peer->retired_out, esp_sa_counters(p->out));
	counters_add(&p->peer->retired_in, esp_sa_counters(p->in));
	esp_sad_remove_sa(dp->sad, p->in);
	esp_sad_remove_sa(dp->sad, p->out);
	for (struct dp_pair *o = dp->pairs; o != NULL; o = o->next) {
		if (o->remote.addr_be == p->remote.addr_be && o->remote.mask_be == p->remote.mask_be)
			routed = 1;	/* another pair still routes there */
	}
	pthread_rwlock_unlock(&dp->lock);
	if (!routed)
		route(dp, &p->remote, 0);
	pthread_mutex_destroy(&p->out_lock);
	free(p);
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
	pthread_rwlock_unlock(&dp->lock);
}

/* ---- packets (any thread, under the read lock) ------------------------------- */

/* Volume lifetime: the larger direction counts. Returns 1 when the
 * pair is past its hard limit and must not carry the packet (counted on
 * sa); the loop hears of the soft and hard limits once each. */
static int
volume_check(struct esp_dp *dp, struct dp_pair *p, struct esp_sa *sa, int64_t now)
{
	uint64_t in, out, used;

	if (p->hard_bytes == 0)
		return 0;
	in = LOAD(&p->bytes[0]);
	out = LOAD(&p->bytes[1]);
	used = in > out ? in : out;
	if (used >= p->hard_bytes) {
		esp_sa_count_drop(sa, ESP_DROP_EXPIRED);
		if (__atomic_exchange_n(&p->hard_signalled, 1, __ATOMIC_RELAXED) == 0 &&
		    note_post(dp, NOTE_VOLUME, p->spi_in, 1, now) == -1)
			STORE(&p->hard_signalled, 0);
		return 1;
	}
	if (used >= p->soft_bytes &&
	    __atomic_exchange_n(&p->soft_signalled, 1, __ATOMIC_RELAXED) == 0 &&
	    note_post(dp, NOTE_VOLUME, p->spi_in, 0, now) == -1)
		STORE(&p->soft_signalled, 0);
	return 0;
}

static int
same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* Cuts the batch into messages: with GSO, runs to one peer of datagrams of
 * one size (a shorter one may end a run, as UDP_SEGMENT allows); else one
 * datagram each. Returns the number of messages. */
static unsigned
batch_runs(struct dp_worker *w)
{
	unsigned n = 0, k = 0;

	while (k < w->nout) {
		struct dp_run *r = &w->runs[n];
		struct msghdr *h = &w->msgs[n].msg_hdr;
		size_t seg = w->iov[k].iov_len, total = seg;
		unsigned j = k + 1;

		while (w->gso && j < w->nout && j - k < DP_GSO_SEGS &&
		       same_peer(&w->to[j], &w->to[k]) && w->iov[j].iov_len <= seg &&
		       total + w->iov[j].iov_len <= DP_GSO_BYTES) {
			total += w->iov[j].iov_len;
			if (w->iov[j++].iov_len < seg)
				break;
		}
		r->first = k;
		r->count = j - k;
		*h = (struct msghdr){ .msg_name = &w->to[k], .msg_namelen = sizeof(w->to[k]),
				      .msg_iov = &w->iov[k], .msg_iovlen = r->count };
		if (r->count > 1) {
			struct cmsghdr *cm = &r->cmsg.align;
			uint16_t gso_size = (uint16_t)seg;

			h->msg_control = r->cmsg.buf;
			h->msg_controllen = sizeof(r->cmsg.buf);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(gso_size));
			memcpy(CMSG_DATA(cm), &gso_size, sizeof(gso_size));
		}
		n++;
		k = j;
	}
	return n;
}

/* Sends a worker's batch with as few system calls, and trips through the
 * stack, as the kernel allows. */
static void
flush(struct dp_worker *w)
{
	unsigned nmsg = batch_runs(w), sent = 0;

	while (sent < nmsg) {
		int n = sendmmsg(w->udp_fd, w->msgs + sent, nmsg - sent, 0);

		if (n <= 0) {
			/* this message failed; count its datagrams, go on with the rest */
			const struct dp_run *r = &w->runs[sent];

			for (unsigned i = 0; i < r->count; i++)
				esp_sa_count_drop(w->out_sa[r->first + i], ESP_DROP_SEND_ERROR);
			sent++;
			continue;
		}
		sent += (unsigned)n;
	}
	w->nout = 0;
	while (w->nheld > 0)
		pthread_mutex_unlock(&w->held[--w->nheld]->out_lock);
}

/* Takes p's out_lock for the rest of the batch. Never waits while holding
 * another: if p is busy, the batch so far is sent (releasing every lock
 * held) first, so two workers cannot wait on each other. */
static void
hold_pair(struct dp_worker *w, struct dp_pair *p)
{
	for (unsigned i = 0; i < w->nheld; i++) {
		if (w->held[i] == p)
			return;
	}
	if (pthread_mutex_trylock(&p->out_lock) != 0) {
		flush(w);
		pthread_mutex_lock(&p->out_lock);
	}
	w->held[w->nheld++] = p;
}

/* TUN → ESP → (batch) UDP. */
static void
tun_packet(struct dp_worker *w, const uint8_t *pkt, size_t len, int64_t now)
{
	struct esp_dp *dp = w->dp;
	struct esp_sa *sa;
	struct dp_pair *p;
	uint32_t src, dst;
	size_t olen;
	unsigned k;

	if (len < 20 || (pkt[0] >> 4) != 4)
		return;		/* not IPv4 (IPv6 neighbour discovery): nothing of ours */
	memcpy(&src, pkt + 12, 4);
	memcpy(&dst, pkt + 16, 4);
	if ((sa = esp_sad_outbound(dp->sad, src, dst)) == NULL ||
	    (p = esp_sa_owner(sa)) == NULL) {
		esp_sad_count_drop(dp->sad, ESP_DROP_NO_SA);	/* routed here, no SA (yet) */
		return;
	}
	signal_peer(dp, p->peer, 0, now);
	if (volume_check(dp, p, sa, now))
		return;
	hold_pair(w, p);
	k = w->nout;	/* hold_pair may have sent the batch */
	if (esp_output(sa, pkt, len, 4, w->out[k], DP_SLOT, &olen, now) != 0)
		return;		/* counted on the SA */
	__atomic_fetch_add(&p->bytes[1], len, __ATOMIC_RELAXED);
	w->to[k] = (struct sockaddr_in){ .sin_family = AF_INET,
					 .sin_port = htons(LOAD(&p->peer_port)),
					 .sin_addr.s_addr = p->peer->peer_be };
	w->iov[k] = (struct iovec){ w->out[k], olen };
	w->out_sa[k] = sa;
	w->nout++;
	w->carried_out++;
}

/* UDP → ESP → TUN; inner is the caller's scratch buffer. 0 when the
 * packet reached TUN. */
static int
udp_packet(struct esp_dp *dp, int tun_fd, uint32_t src_be, uint16_t src_port, const uint8_t *pkt,
	   size_t len, uint8_t *inner, int64_t now)
{
	struct esp_sa *sa;
	struct dp_pair *p;
	size_t ilen;
	uint8_t nh;

	if (esp_input(dp->sad, pkt, len, inner, ESP_PKT_MAX, &ilen, &nh, &sa, now) != 0)
		return -1;	/* dropped and counted by esp_input */
	if ((p = esp_sa_owner(sa)) != NULL) {
		if (p->peer->peer_be == src_be && LOAD(&p->peer_port) != src_port)
			STORE(&p->peer_port, src_port);	/* follow a NAT's port change */
		signal_peer(dp, p->peer, 1, now);
		if (volume_check(dp, p, sa, now))
			return -1;
		__atomic_fetch_add(&p->bytes[0], ilen, __ATOMIC_RELAXED);
	}
	if (write(tun_fd, inner, ilen) == -1) {
		esp_sa_count_drop(sa, ESP_DROP_RECV_ERROR);
		return -1;
	}
	return 0;
}

static void
tun_batch(struct dp_worker *w, int64_t now)
{
	uint8_t buf[ESP_PKT_MAX];

	for (int i = 0; i < DP_BATCH; i++) {
		ssize_t n = read(w->tun_fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		tun_packet(w, buf, (size_t)n, now);
	}
	flush(w);
}

/* The datagram size of a GRO train, or 0 for a single datagram. */
static size_t
gro_size(struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL; cm = CMSG_NXTHDR(h, cm)) {
		int v;

		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

/* One ESP-in-UDP datagram off a worker's socket. */
static void
udp_datagram(struct dp_worker *w, const struct sockaddr_in *from, const uint8_t *pkt, size_t len,
	     int64_t now)
{
	if (len < 4 || memcmp(pkt, "\0\0\0\0", 4) == 0) {
		/* not ESP (the steering sends those to IKE): nothing for a worker */
		esp_sad_count_drop(w->dp->sad, ESP_DROP_MALFORMED);
		return;
	}
	if (udp_packet(w->dp, w->tun_fd, from->sin_addr.s_addr, ntohs(from->sin_port), pkt, len,
		       w->inner, now) == 0)
		w->carried_in++;
}

static void
udp_batch(struct dp_worker *w, int64_t now)
{
	int n;

	for (unsigned i = 0; i < w->nrx; i++) {
		w->riov[i] = (struct iovec){ w->in + i * w->rx_slot, w->rx_slot };
		w->rmsgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &w->from[i], .msg_namelen = sizeof(w->from[i]),
			.msg_iov = &w->riov[i], .msg_iovlen = 1,
			.msg_control = w->gro ? w->rcmsg[i].buf : NULL,
			.msg_controllen = w->gro ? sizeof(w->rcmsg[i].buf) : 0 } };
	}
	n = recvmmsg(w->udp_fd, w->rmsgs, w->nrx, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &w->rmsgs[i].msg_hdr;
		const uint8_t *p = w->riov[i].iov_base;
		size_t len = w->rmsgs[i].msg_len, seg = w->gro ? gro_size(h) : 0;

		if (h->msg_flags & MSG_TRUNC) {
			esp_sad_count_drop(w->dp->sad, ESP_DROP_MALFORMED);	/* too long */
			continue;
		}
		if (seg == 0 || seg >= len) {
			udp_datagram(w, &w->from[i], p, len, now);
			continue;
		}
		for (size_t off = 0; off < len; off += seg)	/* a train: the last may be short */
			udp_datagram(w, &w->from[i], p + off, len - off < seg ? len - off : seg, now);
	}
}

static void *
worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct esp_dp *dp = w->dp;
	struct pollfd pfd[3] = {
		{ .fd = w->tun_fd, .events = POLLIN },
		/* without steering the socket is IKE's: send only */
		{ .fd = dp->steered ? w->udp_fd : -1, .events = POLLIN },
		{ .fd = dp->stop_fd, .events = POLLIN },
	};

	for (;;) {
		int64_t now;

		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("ESP: worker poll");
			break;
		}
		if (pfd[2].revents != 0)
			break;
		now = now_mono_ms();
		pthread_rwlock_rdlock(&dp->lock);
		if (pfd[0].revents & POLLIN)
			tun_batch(w, now);
		if (pfd[1].revents & POLLIN)
			udp_batch(w, now);
		pthread_rwlock_unlock(&dp->lock);
	}
	return NULL;
}

/* ESP that IKE's socket received (before the workers' sockets joined, or
 * without steering). */
void
esp_dp_udp_input(struct esp_dp *dp, uint32_t src_be, uint16_t src_port, const uint8_t *pkt,
		 size_t len)
{
	pthread_rwlock_rdlock(&dp->lock);
	(void)udp_packet(dp, dp->workers[0].tun_fd, src_be, src_port, pkt, len, dp->loop_inner,
			 now_mono_ms());
	pthread_rwlock_unlock(&dp->lock);
}

/* ---- life cycle ---------------------------------------------------------------- */

static int
workers_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > ESP_DP_WORKERS_MAX ? ESP_DP_WORKERS_MAX : (int)n;
}

/* Each worker's TUN queue; their sockets too when the steering program is
 * on the port group (else ESP stays on IKE's socket, decrypted on the
 * loop, and workers only read TUN, sending from IKE's socket). */
static int
workers_open(struct esp_dp *dp, const char *tun_name)
{
	const char *name = tun_name;

	for (int i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];

		w->dp = dp;
		w->udp_fd = -1;
		if ((w->tun_fd = tun_queue(dp, name)) == -1)
			return -1;
		name = dp->tun_name;	/* the first queue fixed the name */
	}
	if (steer_attach(dp->ike_fd, dp->nworkers) == -1) {
		log_warn("ESP: no SO_REUSEPORT steering; ESP is decrypted on the main loop");
	} else {
		dp->steered = 1;
		for (int i = 0; i < dp->nworkers; i++) {
			if ((dp->workers[i].udp_fd = worker_socket(dp->ike_fd)) == -1)
				return -1;
		}
	}
	for (int i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];
		int zero = 0, one = 1;

		if (w->udp_fd == -1 && (w->udp_fd = dup(dp->ike_fd)) == -1)
			return -1;	/* sending only: IKE's socket reads */
		/* UDP_SEGMENT 0 is "per message": accepted where GSO exists */
		w->gso = setsockopt(w->udp_fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
		w->gro = dp->steered &&
		    setsockopt(w->udp_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
		w->rx_slot = w->gro ? DP_RX_GRO : DP_RX_SLOT;
		w->nrx = w->gro ? DP_RX_TRAINS : DP_BATCH;
		w->in = xmalloc(w->rx_slot * w->nrx);
	}
	return 0;
}

struct esp_dp *
esp_dp_new(struct event_base *base, const char *tun_name, int udp_fd, int workers,
	   const struct esp_dp_hooks *hooks)
{
	struct esp_dp *dp = xcalloc(1, sizeof(*dp));
	pthread_rwlockattr_t attr;

	dp->base = base;
	dp->ike_fd = udp_fd;
	dp->ctl_fd = dp->stop_fd = -1;
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
		dp->workers[i].tun_fd = dp->workers[i].udp_fd = -1;
	if ((dp->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    workers_open(dp, tun_name) == -1 || tun_up(dp) == -1) {
		log_warn("ESP: cannot set up TUN device %s", tun_name);
		esp_dp_free(dp);
		return NULL;
	}
	for (int i = 0; i < dp->nworkers; i++) {
		if (pthread_create(&dp->workers[i].thread, NULL, worker_main, &dp->workers[i]) != 0) {
			log_warnx("ESP: cannot start worker %d", i);
			esp_dp_free(dp);
			return NULL;
		}
		dp->workers[i].running = 1;
	}
	log_info("ESP: dataplane on %s (MTU %d), %d worker%s, ESP-in-UDP on port 4500%s%s%s",
		 dp->tun_name, ESP_DP_MTU, dp->nworkers, dp->nworkers == 1 ? "" : "s",
		 dp->steered ? " (steered by SPI)" : " (decrypted on the main loop)",
		 dp->workers[0].gso ? ", UDP GSO" : "", dp->workers[0].gro ? "/GRO" : "");
	return dp;
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
	for (int i = 0; i < dp->nworkers; i++) {
		if (dp->workers[i].running)
			pthread_join(dp->workers[i].thread, NULL);
	}
	while (dp->pairs != NULL)
		esp_dp_remove(dp, dp->pairs->spi_in, dp->pairs->spi_out);
	for (int i = 0; i < dp->nworkers; i++) {
		if (dp->workers[i].tun_fd != -1)
			close(dp->workers[i].tun_fd);
		if (dp->workers[i].udp_fd != -1)
			close(dp->workers[i].udp_fd);
		free(dp->workers[i].in);
	}
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
	free(dp->peers);
	free(dp);
}
