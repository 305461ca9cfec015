/*
 * The dataplane's packet threads (see dataplane.h): each worker reads its
 * TUN queue, its UDP socket on port 4500 and its raw ESP socket, runs ESP
 * output and input on batches under the dataplane's read lock, and sends
 * and receives UDP GSO / GRO trains. The UDP socket group is steered by a
 * classic BPF program so that IKE keeps its messages and each inbound SA
 * stays on one worker; each raw socket has a program that keeps its share
 * of SPIs.
 */
#include "esp/dp_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- TUN queues and sockets --------------------------------------------------- */

/* The offloads the device takes (its first queue asks): TSO4 and USO
 * with partial checksums, else TSO4, else none (one packet per read, still
 * with a virtio-net header), logged once. The device carries IPv4 only, so
 * an IPv6 super-packet (USO6 comes with USO4) is dropped as malformed. */
static void
tun_offloads(struct esp_dp *dp, int fd)
{
	static const unsigned tries[] = { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_USO4 | TUN_F_USO6,
					  TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM };

	for (size_t i = 0; i < ARRAY_LEN(tries); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0) {
			dp->offloads = tries[i];
			if (!(tries[i] & TUN_F_USO4))
				log_info("ESP: the kernel has no USO for TUN devices: UDP one "
					 "packet per read%s", tries[i] & TUN_F_TSO4 ? "" :
					 ", and no TSO either: TCP one packet per read");
			return;
		}
	}
	log_warn("ESP: TUN offloads refused: one packet per read and write");
	dp->offloads = 0;
}

/* One more queue of the multi-queue TUN device (the first one creates it). */
static int
tun_queue(struct esp_dp *dp, const char *name)
{
	struct ifreq ifr;
	int fd, hdr = TUNOFF_VNET_LEN;

	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (dp->vnet ? IFF_VNET_HDR : 0);
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), name);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1 ||
	    (dp->vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr) == -1)) {
		close(fd);
		return -1;
	}
	if (dp->vnet && dp->tun_name[0] == '\0')
		tun_offloads(dp, fd);
	str_copy(dp->tun_name, sizeof(dp->tun_name), ifr.ifr_name);
	return fd;
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
	int fd, one = 1, size = DP_SOCKBUF, mark = ESP_DP_FWMARK;

	if (getsockname(ike_fd, (struct sockaddr *)&sin, &slen) == -1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));	/* never into the tunnel */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A worker's raw ESP socket (plain ESP, RFC 4303 over IP protocol 50) on
 * IKE's address. The kernel gives every raw socket a copy of each packet,
 * so each keeps its share, run on the IP packet: the SPI after the header
 * mod n is the worker's index, and worker 0 also takes what is too short
 * to hold an SPI (to count it malformed).
 */
static int
raw_socket(const struct esp_dp *dp, int index)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),			/* X = IP header length */
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 4, 1, 0),		/* room for an SPI? */
		BPF_STMT(BPF_RET | BPF_K, index == 0 ? 0xffffffffu : 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0),			/* A = SPI */
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)dp->nworkers),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)index, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_LEN(code), .filter = code };
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd, size = DP_SOCKBUF, mark = ESP_DP_FWMARK;

	if (getsockname(dp->ike_fd, (struct sockaddr *)&sin, &slen) == -1 ||
	    (fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP)) == -1)
		return -1;
	sin.sin_port = 0;
	setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));	/* never into the tunnel */
	/* Each packet is its own buffer here (no GRO trains): past rmem_max
	 * where we may (CAP_NET_ADMIN), so a burst is not dropped unseen. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Each worker's TUN queue; their sockets too when the steering program is
 * on the port group (else ESP stays on IKE's socket, decrypted on the
 * loop, and workers only read TUN, sending from IKE's socket). */
int
dp_workers_open(struct esp_dp *dp, const char *tun_name)
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
		if (dp->vnet) {
			w->frame = xmalloc(TUNOFF_FRAME_MAX);
			w->segs = xmalloc(DP_SEGS_CAP);
			w->rx_arena = xmalloc(DP_RX_ARENA);
			tunoff_gro_init(&w->merge);
		}
	}
	dp->plain = 1;
	for (int i = 0; i < dp->nworkers && dp->plain; i++)
		dp->plain = (dp->workers[i].raw_fd = raw_socket(dp, i)) != -1;
	if (!dp->plain) {
		log_warn("ESP: no raw ESP socket; ESP travels in UDP 4500 only");
		for (int i = 0; i < dp->nworkers; i++) {
			if (dp->workers[i].raw_fd != -1)
				close(dp->workers[i].raw_fd);
			dp->workers[i].raw_fd = -1;
		}
	}
	/* the loop's batch sends on the first worker's sockets */
	dp->loop_w = xcalloc(1, sizeof(*dp->loop_w));
	dp->loop_w->dp = dp;
	dp->loop_w->tun_fd = -1;
	dp->loop_w->udp_fd = dp->workers[0].udp_fd;
	dp->loop_w->raw_fd = dp->workers[0].raw_fd;
	dp->loop_w->gso = dp->workers[0].gso;
	return 0;
}

/* ---- packets (any thread, under the read lock) ------------------------------- */

/* A packet for the peer: posted to the loop only if the engine watches
 * for it (on-demand DPD with nothing to ask yet). */
static void
record_out(struct esp_dp *dp, struct dp_host *h, int64_t now)
{
	if (dp_record_out(&h->rec, now) && dp_note_post(dp, NOTE_OUTBOUND, h->peer_be, h->client_port, 0, 0, now) == -1)
		dp_record_watch(&h->rec);	/* the queue is full: the next packet tries */
}

/* Tells the loop of a limit once per pair (again only if the note queue
 * was full). */
static void
signal_limit(struct esp_dp *dp, struct dp_pair *p, int *flag, enum esp_dp_limit what,
	     int64_t now)
{
	if (LOAD(flag) || __atomic_exchange_n(flag, 1, __ATOMIC_RELAXED) != 0)
		return;
	if (dp_note_post(dp, NOTE_LIMIT, p->peer->peer_be, p->peer->client_port, p->spi_in, what,
			 now) == -1)
		STORE(flag, 0);
}

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
		signal_limit(dp, p, &p->hard_signalled, ESP_DP_VOLUME_HARD, now);
		return 1;
	}
	if (used >= p->soft_bytes)
		signal_limit(dp, p, &p->soft_signalled, ESP_DP_VOLUME_SOFT, now);
	return 0;
}

/* a pair whose sequence numbers run towards 2^32 is renewed
 * whatever its lifetimes say (the loop hears of it once): by the sender
 * first, by the receiver if the sender lets them run further. */
static void
seq_check(struct esp_dp *dp, struct dp_pair *p, const struct esp_sa *sa, uint32_t soft,
	  int64_t now)
{
	if (esp_sa_seq_high(sa) >= soft)
		signal_limit(dp, p, &p->seq_signalled, ESP_DP_SEQ_SOFT, now);
}

static int
same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* Cuts the batch into messages: with GSO, runs to one peer of datagrams of
 * one size (a shorter one may end a run, as UDP_SEGMENT allows); else, and
 * for plain ESP, one packet each. Returns the number of messages. */
static unsigned
batch_runs(struct dp_worker *w)
{
	unsigned n = 0, k = 0;

	while (k < w->nout) {
		struct dp_run *r = &w->runs[n];
		struct msghdr *h = &w->msgs[n].msg_hdr;
		size_t seg = w->iov[k].iov_len, total = seg;
		unsigned j = k + 1;

		while (w->gso && !w->raw[k] && j < w->nout && j - k < DP_GSO_SEGS &&
		       !w->raw[j] && same_peer(&w->to[j], &w->to[k]) && w->iov[j].iov_len <= seg &&
		       total + w->iov[j].iov_len <= DP_GSO_BYTES) {
			total += w->iov[j].iov_len;
			if (w->iov[j++].iov_len < seg)
				break;
		}
		r->first = k;
		r->count = j - k;
		r->raw = w->raw[k];
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
 * stack, as the kernel allows: each stretch of messages for one socket in
 * one call. */
void
dp_flush(struct dp_worker *w)
{
	unsigned nmsg = batch_runs(w), sent = 0;

	while (sent < nmsg) {
		unsigned end = sent + 1;
		int n;

		while (end < nmsg && w->runs[end].raw == w->runs[sent].raw)
			end++;
		n = sendmmsg(w->runs[sent].raw ? w->raw_fd : w->udp_fd, w->msgs + sent, end - sent,
			     0);

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
		dp_flush(w);
		pthread_mutex_lock(&p->out_lock);
	}
	w->held[w->nheld++] = p;
}

/* The outbound SA a flow leaves by; NULL (counted) when none covers it. */
static struct esp_sa *
outbound_sa(struct esp_dp *dp, const struct esp_flow *f)
{
	struct esp_sa *sa = esp_sad_outbound(dp->sad, f);

	if (sa == NULL || esp_sa_owner(sa) == NULL) {
		esp_sad_count_drop(dp->sad, ESP_DROP_NO_SA);	/* routed here, no SA (yet) */
		return NULL;
	}
	return sa;
}

/* Packet → ESP on sa → the batch: tunnel mode carries the whole packet
 * (next header 4), transport mode its payload (next header proto, its
 * protocol; the outer header is the socket's). */
static int
seal(struct dp_worker *w, struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t proto,
     int64_t now)
{
	struct esp_dp *dp = w->dp;
	struct dp_pair *p = esp_sa_owner(sa);
	size_t olen, hlen = (pkt[0] & 0x0fu) * 4u;
	unsigned k;
	int ret;

	if (w->nout == DP_BATCH)
		dp_flush(w);	/* a super-packet's segments filled it */
	if (esp_sa_params(sa)->transport && ((pkt[6] << 8 | pkt[7]) & 0x3fff) != 0) {
		/* a fragment: transport mode carries no fragment offset */
		esp_sa_count_drop(sa, ESP_DROP_POLICY);
		return ESP_DROP_POLICY;
	}
	record_out(dp, p->peer->host, now);
	if (volume_check(dp, p, sa, now))
		return ESP_DROP_EXPIRED;
	hold_pair(w, p);
	k = w->nout;	/* hold_pair may have sent the batch */
	ret = esp_sa_params(sa)->transport ?
	    esp_output(sa, pkt + hlen, len - hlen, proto, w->out[k], DP_SLOT, &olen, now) :
	    esp_output(sa, pkt, len, IPPROTO_IPIP, w->out[k], DP_SLOT, &olen, now);
	if (ret != 0)
		return ret;	/* counted on the SA */
	seq_check(dp, p, sa, ESP_SEQ_SOFT_OUT, now);
	__atomic_fetch_add(&p->bytes[1], len, __ATOMIC_RELAXED);
	w->raw[k] = !p->udp_encap;
	w->to[k] = (struct sockaddr_in){ .sin_family = AF_INET,
					 .sin_port = p->udp_encap ? htons(LOAD(&p->peer_port)) : 0,
					 .sin_addr.s_addr = p->peer->peer_be };
	w->iov[k] = (struct iovec){ w->out[k], olen };
	w->out_sa[k] = sa;
	w->nout++;
	w->carried_out++;
	return 0;
}

int
dp_output(struct dp_worker *w, const uint8_t *pkt, size_t len, int64_t now)
{
	struct esp_flow f;
	struct esp_sa *sa;

	if (esp_flow_of(pkt, len, &f) == -1)
		return ESP_DROP_MALFORMED;	/* not IPv4 (IPv6 neighbour discovery): not ours */
	if ((sa = outbound_sa(w->dp, &f)) == NULL)
		return ESP_DROP_NO_SA;
	return seal(w, sa, pkt, len, f.proto, now);
}

/* RFC 3948 4: a NAT's new port is taken from an authenticated
 * packet, and only from the newest: a delayed one (reordered, or held back
 * by someone on the path) must not move the pair back. esp_input has
 * checked the header is there. */
static int
newest(const uint8_t *pkt, const struct esp_sa *sa)
{
	struct buf b;
	uint32_t spi, seq;

	buf_init(&b, pkt, ESP_HDR_LEN);
	buf_get_u32(&b, &spi);
	buf_get_u32(&b, &seq);
	return !b.err && seq == esp_sa_seq_high(sa);
}

/* A decrypted packet's frame (virtio-net header and packet, or a merged
 * run) to the worker's TUN queue; what the device refuses is counted, per
 * packet, as the SAs' receive errors are. */
static void
frame_write(void *ctx, const struct iovec *iov, int cnt, size_t len, int segs)
{
	struct dp_worker *w = ctx;

	if (writev(w->tun_fd, iov, cnt) == -1)
		for (int i = 0; i < segs; i++)
			esp_sad_count_drop(w->dp->sad, ESP_DROP_RECV_ERROR);
	else if (segs > 1)
		w->tun_merged++;
}

/* The decrypted packet to the TUN device: merged with its flow's
 * neighbours when the device takes offloads and a worker delivers (its
 * arena keeps the packet until the batch ends), else written alone. */
static int
deliver(struct esp_dp *dp, struct dp_worker *w, int fd, struct esp_sa *sa, const uint8_t *pkt,
	size_t len)
{
	static const uint8_t no_offload[TUNOFF_VNET_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)no_offload, .iov_len = sizeof(no_offload) },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};

	if (w != NULL && dp->vnet) {
		tunoff_gro_add(&w->merge, pkt, len, frame_write, w);
		w->rx_off += len;
		return 0;
	}
	if ((dp->vnet ? writev(fd, iov, 2) : write(fd, pkt, len)) == -1) {
		esp_sa_count_drop(sa, ESP_DROP_RECV_ERROR);
		return -1;
	}
	return 0;
}

/* Where a worker decrypts the next packet: its scratch, or with offloads
 * the free end of its arena (the run so far written out when it is full). */
static uint8_t *
rx_buf(struct dp_worker *w)
{
	if (!w->dp->vnet)
		return w->inner;
	if (DP_RX_ARENA - w->rx_off < ESP_PKT_MAX) {
		tunoff_gro_flush(&w->merge, frame_write, w);
		w->rx_off = 0;
	}
	return w->rx_arena + w->rx_off;
}

/* The end of a worker's receive batch: the run it merged goes out. */
static void
rx_done(struct dp_worker *w)
{
	if (w->dp->vnet) {
		tunoff_gro_flush(&w->merge, frame_write, w);
		w->rx_off = 0;
	}
}

/* ESP (in UDP from src_port, or plain: port 0) → the TUN device, or a GRE
 * tunnel interface; w is the worker (NULL: the loop, with fd its TUN
 * queue), inner where to decrypt. 0 when the packet was delivered. */
static int
esp_packet(struct esp_dp *dp, struct dp_worker *w, int fd, uint32_t src_be, uint16_t src_port,
	   const uint8_t *pkt, size_t len, uint8_t *inner, int64_t now)
{
	struct esp_sa *sa;
	struct dp_pair *p;
	size_t ilen;
	uint8_t nh;

	if (esp_input(dp->sad, pkt, len, inner, ESP_PKT_MAX, &ilen, &nh, &sa, now) != 0)
		return -1;	/* dropped and counted by esp_input */
	if ((p = esp_sa_owner(sa)) != NULL) {
		if (p->udp_encap && src_port != 0 && p->peer->peer_be == src_be &&
		    LOAD(&p->peer_port) != src_port && newest(pkt, sa))
			STORE(&p->peer_port, src_port);	/* follow a NAT's port change */
		dp_record_in(&p->peer->host->rec, now);
		seq_check(dp, p, sa, ESP_SEQ_SOFT_IN, now);
		if (volume_check(dp, p, sa, now))
			return -1;
		__atomic_fetch_add(&p->bytes[0], ilen, __ATOMIC_RELAXED);
	}
	if (dp->tunnels != NULL && inner[9] == IPPROTO_GRE && dp_gre_input(dp, inner, ilen))
		return 0;
	return deliver(dp, w, fd, sa, inner, ilen);
}

/* One read with offloads: a packet, or a super-packet cut into the
 * packets ESP carries, in order, the SA looked up once for them all. */
static void
tun_frame(struct dp_worker *w, size_t n, int64_t now)
{
	int k = tunoff_split(w->frame, n, w->segs, DP_SEGS_CAP, w->seg, w->seg_len,
			     TUNOFF_SEGS_MAX);
	struct esp_flow f;
	struct esp_sa *sa;

	if (k < 0) {
		esp_sad_count_drop(w->dp->sad, ESP_DROP_MALFORMED);
		return;
	}
	if (((const uint8_t *)w->frame)[1] == 0) {	/* gso_type: one packet */
		(void)dp_output(w, w->seg[0], w->seg_len[0], now);
		return;
	}
	/* A super-packet's segments are one flow: one SA for them all. */
	w->tun_cut++;
	if (esp_flow_of(w->seg[0], w->seg_len[0], &f) == -1) {
		for (int i = 0; i < k; i++)	/* not IPv4 (tunoff_split cuts IPv4 only) */
			esp_sad_count_drop(w->dp->sad, ESP_DROP_MALFORMED);
		return;
	}
	if ((sa = outbound_sa(w->dp, &f)) == NULL) {
		for (int i = 1; i < k; i++)	/* each segment counted, as one packet is */
			esp_sad_count_drop(w->dp->sad, ESP_DROP_NO_SA);
		return;
	}
	for (int i = 0; i < k; i++)
		(void)seal(w, sa, w->seg[i], w->seg_len[i], f.proto, now);
}

static void
tun_batch(struct dp_worker *w, int64_t now)
{
	uint8_t buf[ESP_PKT_MAX];

	for (int i = 0; i < DP_BATCH; i++) {
		ssize_t n = w->dp->vnet ? read(w->tun_fd, w->frame, TUNOFF_FRAME_MAX) :
		    read(w->tun_fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (w->dp->vnet)
			tun_frame(w, (size_t)n, now);
		else
			(void)dp_output(w, buf, (size_t)n, now);
	}
	dp_flush(w);
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
	if (esp_packet(w->dp, w, w->tun_fd, from->sin_addr.s_addr, ntohs(from->sin_port), pkt, len,
		       rx_buf(w), now) == 0)
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
	rx_done(w);
}

/* Plain ESP off a worker's raw socket: IP packets, one per message (the
 * kernel has reassembled fragments). */
static void
raw_batch(struct dp_worker *w, int64_t now)
{
	int n;

	for (unsigned i = 0; i < DP_BATCH; i++) {
		w->riov[i] = (struct iovec){ w->in + i * DP_RX_SLOT, DP_RX_SLOT };
		w->rmsgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &w->from[i], .msg_namelen = sizeof(w->from[i]),
			.msg_iov = &w->riov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(w->raw_fd, w->rmsgs, DP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = w->riov[i].iov_base;
		size_t len = w->rmsgs[i].msg_len, hlen = len > 0 ? (p[0] & 0x0fu) * 4u : 0;

		if ((w->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) || hlen < 20 || len < hlen + 4) {
			esp_sad_count_drop(w->dp->sad, ESP_DROP_MALFORMED);
			continue;
		}
		if (esp_packet(w->dp, w, w->tun_fd, w->from[i].sin_addr.s_addr, 0, p + hlen,
			       len - hlen, rx_buf(w), now) == 0)
			w->carried_in++;
	}
	rx_done(w);
}

static void *
worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct esp_dp *dp = w->dp;
	struct pollfd pfd[4] = {
		{ .fd = w->tun_fd, .events = POLLIN },
		/* without steering the socket is IKE's: send only */
		{ .fd = dp->steered ? w->udp_fd : -1, .events = POLLIN },
		{ .fd = dp->stop_fd, .events = POLLIN },
		{ .fd = w->raw_fd, .events = POLLIN },
	};

	for (;;) {
		int64_t now;

		if (poll(pfd, ARRAY_LEN(pfd), -1) == -1) {
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
		if (pfd[3].revents & POLLIN)
			raw_batch(w, now);
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
	(void)esp_packet(dp, NULL, dp->workers[0].tun_fd, src_be, src_port, pkt, len,
			 dp->loop_inner, now_mono_ms());
	pthread_rwlock_unlock(&dp->lock);
}

/* ---- life cycle ---------------------------------------------------------------- */

int
dp_workers_start(struct esp_dp *dp)
{
	for (int i = 0; i < dp->nworkers; i++) {
		if (pthread_create(&dp->workers[i].thread, NULL, worker_main, &dp->workers[i]) != 0) {
			log_warnx("ESP: cannot start worker %d", i);
			return -1;
		}
		dp->workers[i].running = 1;
	}
	return 0;
}

void
dp_workers_join(struct esp_dp *dp)
{
	for (int i = 0; i < dp->nworkers; i++) {
		if (dp->workers[i].running)
			pthread_join(dp->workers[i].thread, NULL);
		dp->workers[i].running = 0;
	}
}

void
dp_workers_close(struct esp_dp *dp)
{
	for (int i = 0; i < dp->nworkers; i++) {
		if (dp->workers[i].tun_fd != -1)
			close(dp->workers[i].tun_fd);
		if (dp->workers[i].udp_fd != -1)
			close(dp->workers[i].udp_fd);
		if (dp->workers[i].raw_fd != -1)
			close(dp->workers[i].raw_fd);
		free(dp->workers[i].in);
		free(dp->workers[i].frame);
		free(dp->workers[i].segs);
		free(dp->workers[i].rx_arena);
	}
	free(dp->loop_w);	/* its sockets are the first worker's */
	dp->loop_w = NULL;
}
