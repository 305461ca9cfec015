/*
 * Remote access (SPEC R-15) between in-process engines: peer 1 is a headend
 * with an address pool, a dynamic crypto map and local users; peers 0 and
 * 2 are its clients, whose crypto map names it (their engines run Main Mode
 * and Quick Mode, ike_sim_client.c their side of XAUTH and Mode Config).
 * Mode Config pulled and pushed, XAUTH and its pace, the R-13 rules for the
 * transaction exchange, leases coming back, an exhausted pool and clients
 * behind one NAT; every check exact: counters, views, install calls, drops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "core/util.h"
#include "ike_sim_client.h"

/* ---- looking at the headend ------------------------------------------------------ */

static struct ike *
he(void)
{
	return peers[RA_HEADEND].ike;
}

static uint64_t
hdrop(enum ike_drop why)
{
	return he()->st.drops[why];
}

struct views {
	size_t                 ntunnels, npools;
	struct ike_tunnel_view t[4];
	char                   user[4][IKE_NAME_MAX], map[4][IKE_NAME_MAX];
	struct ike_pool_view   p[2];
	struct ike_stats_view  st;
};

static void
on_tunnel(void *ctx, const struct ike_tunnel_view *v)
{
	struct views *w = ctx;
	size_t n = w->ntunnels++;

	assert_true(n < 4);
	w->t[n] = *v;
	snprintf(w->map[n], IKE_NAME_MAX, "%s", v->map);
	w->t[n].map = w->map[n];
	if (v->user != NULL) {
		snprintf(w->user[n], IKE_NAME_MAX, "%s", v->user);
		w->t[n].user = w->user[n];
	}
}

static void
on_pool(void *ctx, const struct ike_pool_view *v)
{
	struct views *w = ctx;

	assert_true(w->npools < 2);
	w->p[w->npools++] = *v;
}

static void
views(struct views *w)
{
	memset(w, 0, sizeof(*w));
	ike_tunnels_view(he(), now_ms, now_ms, on_tunnel, w);
	ike_pools_view(he(), on_pool, w);
	ike_stats_view(he(), &w->st);
}

static size_t
in_use(void)
{
	struct views v;

	views(&v);
	assert_int_equal(v.npools, 1);
	return v.p[0].in_use;
}

static const struct ra_attr ask_address[] = { { .type = IKE_CFG_IP4_ADDRESS } };

/* The pair the headend installed for client j with lease_be. */
static void
assert_pair(const struct ike_child_sa *c, uint32_t lease_be, int j)
{
	uint16_t port = nat_port[j] != 0 ? nat_port[j] : IKE_PORT;

	assert_int_equal(c->sel.src_be, ip("10.2.0.0"));
	assert_int_equal(c->sel.src_mask_be, ip("255.255.0.0"));
	assert_int_equal(c->sel.dst_be, lease_be);
	assert_int_equal(c->sel.dst_mask_be, RA_HOST);
	assert_int_equal(c->peer_be, nat_addr[j] != 0 ? nat_addr[j] : peers[j].addr_be);
	assert_int_equal(c->client_port, port);
	assert_int_equal(c->peer_port, nat_port[j] != 0 ? nat_port[j] : IKE_PORT);
	assert_int_equal(c->udp_encap, nat_addr[j] != 0);
}

/* ---- Mode Config ----------------------------------------------------------- */

/* A client asks (REQUEST with empty attributes) and gets what it asked
 * for, no more: the first address of the pool with its mask, the DNS
 * servers, the split networks as 14-byte entries; then Quick Mode for its
 * address installs the pair, and the views show the client. */
static void
test_pull_config_then_quick_mode(void **state)
{
	static const uint8_t split[28] = { 10, 2, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0,
					   172, 16, 0, 0, 255, 240, 0, 0, 0, 0, 0, 0, 0, 0 };
	const struct ra_attr ask[] = {
		{ .type = IKE_CFG_IP4_ADDRESS }, { .type = IKE_CFG_IP4_NETMASK },
		{ .type = IKE_CFG_IP4_DNS }, { .type = IKE_UNITY_SPLIT_INCLUDE },
		{ .type = IKE_CFG_IP4_NBNS },
	};
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m;
	const struct ike_attr *a;
	struct ike_child_sa *c;
	struct ra_sent s;
	struct views v;
	uint32_t be;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_non_null(established_sa(0));
	assert_non_null(ra_hclient(0));
	assert_int_equal(ra_held(0), 0);		/* pull: the headend waits to be asked */
	assert_int_equal(in_use(), 0);
	ra_request(0, ask, ARRAY_LEN(ask), &s);
	assert_int_equal(ra_held(0), 1);
	ra_open(0, &m);
	assert_int_equal(m.cfg.type, IKE_CFG_REPLY);
	assert_int_equal(m.cfg.id, s.id);
	assert_int_equal(m.cfg.nattrs, 5);		/* no NBNS: it has none to give */
	assert_int_equal(m.cfg.attrs[0].type, IKE_CFG_IP4_ADDRESS);
	assert_int_equal(ra_address(&m), ip("10.9.0.1"));
	a = &m.cfg.attrs[1];
	assert_int_equal(a->type, IKE_CFG_IP4_NETMASK);
	assert_int_equal(a->len, 4);
	memcpy(&be, a->data, 4);
	assert_int_equal(be, ip("255.255.255.0"));
	assert_int_equal(ra_count(&m, IKE_CFG_IP4_DNS), 2);
	memcpy(&be, m.cfg.attrs[2].data, 4);
	assert_int_equal(be, ip("10.2.0.53"));
	memcpy(&be, m.cfg.attrs[3].data, 4);
	assert_int_equal(be, ip("10.2.0.54"));
	a = ike_cfg_attr(&m.cfg, IKE_UNITY_SPLIT_INCLUDE);
	assert_non_null(a);
	assert_int_equal(a->len, sizeof(split));
	assert_memory_equal(a->data, split, sizeof(split));
	assert_int_equal(ra_count(&m, IKE_CFG_IP4_NBNS), 0);

	views(&v);
	assert_int_equal(v.npools, 1);
	assert_string_equal(v.p[0].name, "RA-POOL");
	assert_int_equal(v.p[0].size, 3);
	assert_int_equal(v.p[0].in_use, 1);
	assert_int_equal(v.p[0].exhausted, 0);
	assert_int_equal(v.ntunnels, 1);
	assert_true(v.t[0].dynamic);
	assert_string_equal(v.t[0].map, "DYN");
	assert_int_equal(v.t[0].seq, 10);
	assert_int_equal(v.t[0].client_port, IKE_PORT);
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.1"));
	assert_null(v.t[0].user);
	assert_false(v.t[0].up);
	assert_false(v.t[0].initiate);
	assert_int_equal(v.t[0].npeers, 1);
	assert_int_equal(v.t[0].peers[0].peer_be, peers[0].addr_be);
	assert_int_equal(v.st.clients, 1);
	assert_int_equal(v.st.clients_connected, 1);

	ra_client_qm(0, ip("10.9.0.1"));
	assert_int_equal(peers[RA_HEADEND].installed, 1);
	assert_int_equal(peers[RA_HEADEND].activated, 1);
	c = &peers[RA_HEADEND].last_installed;
	assert_pair(c, ip("10.9.0.1"), 0);
	assert_true(c->outbound_later);
	assert_int_equal(c->seq, 10);
	assert_int_equal(peers[0].installed, 1);
	assert_int_equal(peers[0].last_installed.sel.src_be, ip("10.9.0.1"));
	assert_int_equal(peers[0].last_installed.sel.src_mask_be, RA_HOST);
	assert_int_equal(peers[0].last_installed.spi_in, c->spi_out);
	assert_int_equal(peers[0].last_installed.spi_out, c->spi_in);
	views(&v);
	assert_true(v.t[0].up);
	assert_true(v.t[0].peers[0].up);
	assert_int_equal(ra_hclient(0)->t.nchildren, 1);
	assert_int_equal(drops(RA_HEADEND), 0);
}

/* The entry pushes: a SET follows Main Mode. Quick Mode before the client
 * ACKed its address is refused (nothing installed); after, it works. */
static void
test_push_config_before_quick_mode(void **state)
{
	struct ra_opts o = { .push = 1, .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m;
	struct views v;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_held(0), 1);
	ra_open(0, &m);
	assert_int_equal(m.exchange, IKE_XCHG_TRANSACTION);
	assert_int_equal(m.cfg.type, IKE_CFG_SET);
	assert_int_equal(m.cfg.nattrs, 5);		/* everything: address, mask, 2 DNS, split */
	assert_int_equal(ra_address(&m), ip("10.9.0.1"));
	assert_int_equal(ra_count(&m, IKE_CFG_IP4_NETMASK), 1);
	assert_int_equal(ra_count(&m, IKE_CFG_IP4_DNS), 2);
	assert_int_equal(ra_count(&m, IKE_UNITY_SPLIT_INCLUDE), 1);
	assert_int_equal(in_use(), 1);			/* taken when pushed */

	ra_client_qm(0, ip("10.9.0.1"));		/* before the ACK */
	assert_int_equal(hdrop(IKE_DROP_UNEXPECTED), 1);
	assert_int_equal(drops(RA_HEADEND), 1);
	assert_int_equal(peers[RA_HEADEND].installed, 0);
	assert_int_equal(peers[0].installed, 0);

	ra_answer(0, &m, IKE_CFG_ACK, NULL, 0, NULL);
	assert_int_equal(drops(RA_HEADEND), 1);
	ra_client_qm_abandon(0);
	assert_int_equal(ike_qm_initiate(established_sa(0), now_ms), 0);
	run_until(now_ms + 100);
	assert_int_equal(peers[RA_HEADEND].installed, 1);
	assert_int_equal(peers[RA_HEADEND].activated, 1);
	assert_pair(&peers[RA_HEADEND].last_installed, ip("10.9.0.1"), 0);
	assert_int_equal(drops(RA_HEADEND), 1);
	/* the SET was answered: never sent again */
	run_until(now_ms + 5000);
	assert_int_equal(ra_held(0), 0);
	assert_int_equal(he()->st.retransmits, 0);
	views(&v);
	assert_true(v.t[0].up);
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.1"));
}

/* ---- XAUTH -------------------------------------------------------------------- */

/* REQUEST (name, password) -> REPLY -> SET status 1 -> ACK, then the pushed
 * configuration. Mode Config asked for before XAUTH is refused. */
static void
test_xauth_ok(void **state)
{
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m;
	struct ra_sent s;
	struct views v;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(established_sa(0)->xauth, 1);
	assert_int_equal(ra_hclient(0)->t.sa->xauth, 1);
	assert_int_equal(ra_held(0), 1);		/* the XAUTH REQUEST */
	ra_request(0, ask_address, 1, &s);		/* an address first: no */
	assert_int_equal(hdrop(IKE_DROP_UNEXPECTED), 1);
	assert_int_equal(ra_held(0), 1);
	assert_int_equal(in_use(), 0);

	ra_xauth(0, "alice", "wonderland", NULL);
	assert_int_equal(ra_xauth_status(0), 1);
	assert_int_equal(ra_held(0), 1);		/* now the configuration */
	ra_open(0, &m);
	assert_int_equal(m.cfg.type, IKE_CFG_SET);
	assert_int_equal(ra_address(&m), ip("10.9.0.1"));
	ra_answer(0, &m, IKE_CFG_ACK, NULL, 0, NULL);
	views(&v);
	assert_int_equal(v.st.xauth_ok, 1);
	assert_int_equal(v.st.xauth_failed, 0);
	assert_int_equal(v.st.xauth_rate_limited, 0);
	assert_string_equal(v.t[0].user, "alice");
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	assert_int_equal(peers[RA_HEADEND].activated, 1);
	assert_pair(&peers[RA_HEADEND].last_installed, ip("10.9.0.1"), 0);
	assert_int_equal(drops(RA_HEADEND), 1);
}

/* A failed XAUTH: SET status 0; once ACKed, the client is deleted (the
 * peer told) and no address was ever taken. */
static void
xauth_refused(const char *user, const char *pass)
{
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3" };
	struct views v;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	ra_xauth(0, user, pass, NULL);
	assert_non_null(ra_hclient(0));			/* until the status is ACKed */
	assert_int_equal(ra_xauth_status(0), 0);
	assert_null(ra_hclient(0));
	assert_null(he()->sas);
	assert_int_equal(ra_isakmp_deletes[0], 1);
	assert_null(established_sa(0));			/* the client took the Delete */
	assert_int_equal(ra_held(0), 0);		/* no configuration */
	views(&v);
	assert_int_equal(v.st.xauth_failed, 1);
	assert_int_equal(v.st.xauth_ok, 0);
	assert_int_equal(v.st.clients, 0);
	assert_int_equal(v.ntunnels, 0);
	assert_int_equal(v.p[0].in_use, 0);
	assert_int_equal(v.p[0].exhausted, 0);
	assert_int_equal(drops(RA_HEADEND), 0);
}

static void
test_xauth_wrong_password(void **state)
{
	xauth_refused("alice", "builder");
}

static void
test_xauth_unknown_user(void **state)
{
	xauth_refused("mallory", "wonderland");
}

/* One XAUTH check a second: of two clients answering at once, the second
 * is dropped unanswered; its retransmission a second later is checked. */
static void
test_xauth_rate_limited(void **state)
{
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3",
			     .xauth_rate = 1 };
	static struct ra_msg m;
	struct ra_sent reply2;
	struct views v;

	ra_setup(&o, 1);
	run_until(now_ms + 100);
	assert_int_equal(ra_held(0), 1);
	assert_int_equal(ra_held(2), 1);
	ra_xauth(0, "alice", "wonderland", NULL);
	ra_xauth(2, "bob", "builder", &reply2);
	assert_int_equal(hdrop(IKE_DROP_RATE_LIMITED), 1);
	assert_int_equal(ra_held(0), 1);		/* alice's status */
	assert_int_equal(ra_held(2), 0);		/* bob: nothing yet */
	views(&v);
	assert_int_equal(v.st.xauth_ok, 1);
	assert_int_equal(v.st.xauth_rate_limited, 1);
	assert_int_equal(ra_xauth_status(0), 1);

	run_until(now_ms + 1000);
	assert_int_equal(ra_held(2), 0);
	ra_send(2, &reply2);				/* bob's retransmission */
	assert_int_equal(ra_held(2), 1);
	assert_int_equal(ra_xauth_status(2), 1);
	views(&v);
	assert_int_equal(v.st.xauth_ok, 2);
	assert_int_equal(v.st.xauth_rate_limited, 1);
	assert_int_equal(drops(RA_HEADEND), 1);
	ra_open(0, &m);
	assert_int_equal(ra_address(&m), ip("10.9.0.1"));
	ra_open(2, &m);
	assert_int_equal(ra_address(&m), ip("10.9.0.2"));
}

/* A client repeats its answer when the request comes again: over the
 * rate, the headend's XAUTH REQUEST stays outstanding, is sent again after
 * retransmit_ms (the same bytes) and the answer to it is checked. */
static void
test_xauth_over_rate_request_repeated(void **state)
{
	const struct ra_attr creds[] = {
		{ .type = IKE_XAUTH_USER_NAME, .data = "bob", .len = 3 },
		{ .type = IKE_XAUTH_USER_PASSWORD, .data = "builder", .len = 7 },
	};
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3",
			     .xauth_rate = 1 };
	static struct ra_msg req, again, m;
	struct ra_sent reply2;
	struct views v;

	ra_setup(&o, 1);
	run_until(now_ms + 100);
	ra_xauth(0, "alice", "wonderland", NULL);
	ra_open(2, &req);
	ra_answer(2, &req, IKE_CFG_REPLY, creds, 2, &reply2);
	assert_int_equal(hdrop(IKE_DROP_RATE_LIMITED), 1);
	assert_int_equal(ra_xauth_status(0), 1);
	ra_open(0, &m);
	ra_answer(0, &m, IKE_CFG_ACK, NULL, 0, NULL);	/* nothing of client 0's outstanding */
	assert_int_equal(he()->st.retransmits, 0);

	run_until(now_ms + 2000);
	assert_int_equal(ra_held(2), 1);
	ra_open(2, &again);
	assert_int_equal(again.raw.len, req.raw.len);
	assert_memory_equal(again.raw.data, req.raw.data, req.raw.len);
	assert_int_equal(he()->st.retransmits, 1);
	ra_send(2, &reply2);				/* its stored answer, again */
	assert_int_equal(ra_xauth_status(2), 1);
	views(&v);
	assert_int_equal(v.st.xauth_ok, 2);
	assert_int_equal(v.st.xauth_rate_limited, 1);
	assert_int_equal(drops(RA_HEADEND), 1);
	ra_open(2, &m);
	assert_int_equal(ra_address(&m), ip("10.9.0.2"));
}

/* An authentic answer of the wrong type (an ACK to the XAUTH REQUEST) is
 * dropped and moves nothing: the REQUEST stays outstanding with its CBC
 * state, is sent again, and the right answer to it is taken. */
static void
test_wrong_answer_type_keeps_request(void **state)
{
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg req, again;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	ra_open(0, &req);
	assert_int_equal(req.cfg.type, IKE_CFG_REQUEST);
	ra_answer(0, &req, IKE_CFG_ACK, NULL, 0, NULL);
	assert_int_equal(hdrop(IKE_DROP_UNEXPECTED), 1);
	assert_int_equal(he()->st.retransmits, 0);
	run_until(now_ms + 2000);
	assert_int_equal(he()->st.retransmits, 1);
	assert_int_equal(ra_held(0), 1);
	ra_open(0, &again);
	assert_int_equal(again.raw.len, req.raw.len);
	assert_memory_equal(again.raw.data, req.raw.data, req.raw.len);
	ra_answer(0, &again, IKE_CFG_REPLY, (const struct ra_attr[]){
		{ .type = IKE_XAUTH_USER_NAME, .data = "alice", .len = 5 },
		{ .type = IKE_XAUTH_USER_PASSWORD, .data = "wonderland", .len = 10 } }, 2, NULL);
	assert_int_equal(ra_xauth_status(0), 1);
	assert_int_equal(drops(RA_HEADEND), 1);
}

/* A peer that authenticates but that no entry takes (it did not offer the
 * XAUTH the only entry asks for) is told at once (a Delete), not left with
 * an ISAKMP SA that can never carry anything. */
static void
test_peer_no_entry_takes_deleted(void **state)
{
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3" };

	ra_setup(&o, 0);
	ra_client(0, 1, 0, 0);				/* a plain pre-shared key client */
	run_until(now_ms + 100);
	/* it tries again at once each time (an initiating crypto map): stop
	 * it, and count what the headend did with each attempt */
	ra_client(0, 0, 0, 0);
	run_until(now_ms + 100);
	assert_true(he()->ra.no_dynmap >= 1);
	assert_int_equal(ra_isakmp_deletes[0], he()->ra.no_dynmap);
	assert_null(ra_hclient(0));
	assert_null(he()->sas);
	assert_null(established_sa(0));
	assert_int_equal(ra_held(0), 0);
}

/* Reauthentication: a second Main Mode of the same client while the first
 * SA lives. Here the client engine deletes its old ISAKMP SA as soon as the
 * new one is up and renews its pair under it (strongSwan first asks for its
 * address again: test_remote_access.py). The new connection takes the
 * address and the pair; the old one goes; each SA stays its own client's. */
static void
test_reauthentication_takes_over(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	struct ike_client *a, *b;
	struct ike_sa *old;
	struct views v;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	a = ra_hclient(0);
	assert_int_equal(a->t.nchildren, 1);
	old = established_sa(0);
	assert_int_equal(ike_mm_initiate(peers[0].ike, &peers[0].ike->tunnels[0], now_ms), 0);
	run_until(now_ms + 100);
	assert_ptr_not_equal(established_sa(0), old);
	assert_int_equal(he()->nclients, 1);
	b = he()->clients;
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(b->t.sa->tunnel, &b->t);
	assert_int_equal(b->t.sa->state, SA_ESTABLISHED);
	assert_int_equal(b->lease, ntohl(ip("10.9.0.1")));
	assert_true(b->cfg_done);
	assert_true(b->t.nchildren >= 1);		/* the old pair, and its renewal */
	assert_true(b->t.up);
	assert_int_equal(ra_pull(0, ip("10.9.0.1")), ip("10.9.0.1"));
	views(&v);
	assert_int_equal(v.p[0].in_use, 1);
	assert_int_equal(v.ntunnels, 1);
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.1"));
	assert_int_equal(hdrop(IKE_DROP_UNEXPECTED), 0);
}

/* ---- R-13 for the transaction exchange --------------------------------------------------- */

/* A REQUEST sent again (its REPLY lost) gets the stored REPLY, byte for
 * byte, at most once per IKE_RESEND_MS, and no second lease. */
static void
test_request_retransmission_answered_again(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m1, m2;
	struct ra_sent s;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	ra_request(0, ask_address, 1, &s);
	ra_open(0, &m1);
	assert_int_equal(m1.cfg.nattrs, 1);		/* what it asked for */
	assert_int_equal(ra_address(&m1), ip("10.9.0.1"));
	ra_send(0, &s);					/* at once: not answered */
	assert_int_equal(ra_held(0), 0);
	now_ms += IKE_RESEND_MS;
	ra_send(0, &s);
	assert_int_equal(ra_held(0), 1);
	ra_open(0, &m2);
	assert_int_equal(m2.raw.len, m1.raw.len);
	assert_memory_equal(m2.raw.data, m1.raw.data, m1.raw.len);
	assert_int_equal(he()->st.retransmits, 1);
	assert_int_equal(in_use(), 1);
	assert_int_equal(ra_hclient(0)->lease, ntohl(ip("10.9.0.1")));
	assert_int_equal(drops(RA_HEADEND), 0);
}

/* A forged HASH changes nothing (and does not spend the message ID); the
 * ID with other content is a replay. */
static void
test_forged_and_replayed_requests(void **state)
{
	const struct ra_attr ask_more[] = { { .type = IKE_CFG_IP4_ADDRESS },
					    { .type = IKE_CFG_IP4_DNS } };
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m;
	struct ra_sent bad, good, other;
	uint8_t iv[IKE_BLOCK];
	uint32_t msgid = 0x5eed1234;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	ike_iv_phase2(established_sa(0)->hash, established_sa(0)->iv, msgid, iv);
	ra_build(0, msgid, iv, IKE_CFG_REQUEST, 1, ask_address, 1, RA_BAD_HASH, &bad);
	ra_send(0, &bad);
	assert_int_equal(hdrop(IKE_DROP_BAD_HASH), 1);
	assert_int_equal(ra_held(0), 0);
	assert_int_equal(in_use(), 0);
	assert_int_equal(ra_hclient(0)->lease, 0);

	ra_build(0, msgid, iv, IKE_CFG_REQUEST, 1, ask_address, 1, 0, &good);
	ra_send(0, &good);
	assert_int_equal(ra_held(0), 1);
	ra_open(0, &m);
	assert_int_equal(ra_address(&m), ip("10.9.0.1"));

	ra_build(0, msgid, iv, IKE_CFG_REQUEST, 2, ask_more, 2, 0, &other);
	now_ms += IKE_RESEND_MS;
	ra_send(0, &other);
	assert_int_equal(hdrop(IKE_DROP_REPLAY), 1);
	assert_int_equal(ra_held(0), 0);
	assert_int_equal(in_use(), 1);
	assert_int_equal(drops(RA_HEADEND), 2);
}

/* Messages under the IDs of finished exchanges (XAUTH REQUEST, status SET,
 * configuration SET) are replays, whatever they carry. */
static void
test_finished_exchanges_replayed(void **state)
{
	struct ra_opts o = { .xauth = 1, .push = 1, .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg status, set;
	struct ra_sent reply, ack_status, ack_set, other;
	struct views v;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	ra_xauth(0, "alice", "wonderland", &reply);
	ra_open(0, &status);
	ra_answer(0, &status, IKE_CFG_ACK, NULL, 0, &ack_status);
	ra_open(0, &set);
	ra_answer(0, &set, IKE_CFG_ACK, NULL, 0, &ack_set);
	assert_int_equal(drops(RA_HEADEND), 0);

	now_ms += IKE_RESEND_MS;
	ra_send(0, &reply);
	ra_send(0, &ack_status);
	ra_send(0, &ack_set);
	ra_build(0, set.msgid, set.iv, IKE_CFG_REPLY, set.cfg.id, ask_address, 1, 0, &other);
	ra_send(0, &other);
	assert_int_equal(hdrop(IKE_DROP_REPLAY), 4);
	assert_int_equal(drops(RA_HEADEND), 4);
	assert_int_equal(ra_held(0), 0);
	views(&v);
	assert_int_equal(v.st.xauth_ok, 1);
	assert_int_equal(v.p[0].in_use, 1);
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.1"));
}

/* A site-to-site peer is no client: its transaction message is dropped
 * before anything is read, and its tunnel carries on. */
static void
test_transaction_from_non_client(void **state)
{
	struct ra_sent s;
	uint64_t sent;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	ra_start(1);
	run_until(now_ms + 100);
	assert_true(peers[1].ike->tunnels[0].up);
	sent = peers[1].sent;
	ra_request(0, ask_address, 1, &s);
	assert_int_equal(peers[1].ike->st.drops[IKE_DROP_UNSUPPORTED], 1);
	assert_int_equal(drops(1), 1);
	assert_int_equal(peers[1].sent, sent);
	assert_int_equal(ra_held(0), 0);
	assert_true(peers[1].ike->tunnels[0].up);
	assert_int_equal(peers[1].ike->nclients, 0);
}

/* ---- Quick Mode with a host identity ---------------------------------------------- */

/* ID_IPV4_ADDR for the client's side: only its own address, only towards
 * networks its entry allows; a wider proposal is narrowed to the entry and
 * the host identity is echoed. */
static void
test_quick_mode_host_identity(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m;
	const struct ike_child_sa *c;
	struct ra_qm q;
	uint32_t be;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_hold_quick = 1;
	ra_qm1(0, &q, IKE_ID_IPV4_ADDR, ip("10.9.0.2"), RA_HOST, ip("10.2.0.0"), ip("255.255.0.0"));
	assert_int_equal(hdrop(IKE_DROP_NO_CRYPTO_MAP), 1);	/* not its address */
	ra_qm1(0, &q, IKE_ID_IPV4_ADDR, ip("10.9.0.1"), RA_HOST, ip("10.3.0.0"), ip("255.255.0.0"));
	assert_int_equal(hdrop(IKE_DROP_NO_CRYPTO_MAP), 2);	/* not its entry's LAN */
	assert_int_equal(he()->st.err_notifies[IKE_ERR_INVALID_ID], 2);
	assert_int_equal(ra_held(0), 0);
	assert_int_equal(peers[RA_HEADEND].installed, 0);

	ra_qm1(0, &q, IKE_ID_IPV4_ADDR, ip("10.9.0.1"), RA_HOST, ip("0.0.0.0"), ip("0.0.0.0"));
	assert_int_equal(ra_held(0), 1);
	ra_qm2(0, &q, &m);
	assert_int_equal(q.ids[0].type, IKE_ID_IPV4_ADDR);
	assert_int_equal(q.ids[0].len, 4);
	memcpy(&be, q.ids[0].data, 4);
	assert_int_equal(be, ip("10.9.0.1"));
	assert_int_equal(q.ids[1].type, IKE_ID_IPV4_ADDR_SUBNET);
	assert_int_equal(q.ids[1].len, 8);
	memcpy(&be, q.ids[1].data, 4);
	assert_int_equal(be, ip("10.2.0.0"));
	memcpy(&be, q.ids[1].data + 4, 4);
	assert_int_equal(be, ip("255.255.0.0"));
	assert_int_equal(peers[RA_HEADEND].installed, 1);	/* the inbound half */
	assert_int_equal(peers[RA_HEADEND].activated, 0);
	c = &peers[RA_HEADEND].last_installed;
	assert_pair(c, ip("10.9.0.1"), 0);
	assert_int_equal(c->spi_in, q.spi_out);
	assert_int_equal(c->spi_out, q.spi_in);
	assert_false(ra_hclient(0)->t.up);
	ra_qm3(0, &q, &m);
	assert_int_equal(peers[RA_HEADEND].activated, 1);
	assert_true(ra_hclient(0)->t.up);
	assert_int_equal(ra_hclient(0)->t.nchildren, 1);
	assert_int_equal(drops(RA_HEADEND), 2);
}

/* ---- leases come back ---------------------------------------------------------------------- */

/* The client deletes its ISAKMP SA: its pair and lease go; the next
 * client asking for that address gets it (next-fit would give .2). */
static void
test_lease_released_on_delete(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	assert_int_equal(peers[RA_HEADEND].installed, 1);
	ra_client(0, 0, 0, ip("10.9.0.1"));		/* it will not come back */
	assert_int_equal(ike_clear(peers[0].ike, 0, now_ms), 1);
	deliver();
	assert_null(ra_hclient(0));
	assert_int_equal(he()->nclients, 0);
	assert_int_equal(in_use(), 0);
	assert_int_equal(peers[RA_HEADEND].removed, 1);

	ra_client(2, 1, 0, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(2, ip("10.9.0.1")), ip("10.9.0.1"));
	assert_int_equal(in_use(), 1);
	assert_int_equal(drops(RA_HEADEND), 0);
}

/* DPD declares the client dead at its last sign of life + 10 + 5 x 2 s:
 * its only address goes back and the next client gets it. */
static void
test_lease_released_on_dpd_death(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.1" };
	struct ike_sa *sa;
	int64_t dead_at;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	sa = ra_hclient(0)->t.sa;
	dead_at = ike_sa_last_rx(sa) + 10000 + 5 * 2000;
	peers[0].frozen = 1;
	run_until(dead_at - 1);
	assert_ptr_equal(ra_hclient(0)->t.sa, sa);
	assert_int_equal(sa->dpd.c.r_u_there_sent, 5);
	assert_int_equal(in_use(), 1);
	run_until(dead_at);
	assert_null(ra_hclient(0));
	assert_int_equal(in_use(), 0);
	assert_int_equal(peers[RA_HEADEND].removed, 1);

	ra_client(2, 1, 0, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(2, 0), ip("10.9.0.1"));
	assert_int_equal(in_use(), 1);
	assert_int_equal(drops(RA_HEADEND), 0);
}

/* clear crypto session: one client by address, then all; each is told. */
static void
test_lease_released_on_clear(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };

	ra_setup(&o, 1);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	assert_int_equal(ra_pull(2, 0), ip("10.9.0.2"));
	assert_int_equal(in_use(), 2);
	assert_int_equal(ike_clear(he(), peers[0].addr_be, now_ms), 1);
	deliver();
	assert_null(ra_hclient(0));
	assert_non_null(ra_hclient(2));
	assert_int_equal(ra_isakmp_deletes[0], 1);
	assert_int_equal(ra_isakmp_deletes[2], 0);
	assert_int_equal(in_use(), 1);
	assert_int_equal(ike_clear(he(), 0, now_ms), 1);
	deliver();
	assert_null(ra_hclient(2));
	assert_int_equal(ra_isakmp_deletes[2], 1);
	assert_int_equal(in_use(), 0);
	assert_int_equal(he()->nclients, 0);
}

/* A configuration that keeps the entry keeps the client and its lease;
 * one that removes it deletes the client and frees the address. */
static void
test_lease_released_on_reconfiguration(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	struct ike_client *cl;
	struct views v;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	cl = ra_hclient(0);
	ra_headend(&o);
	assert_ptr_equal(ra_hclient(0), cl);
	assert_true(cl->t.up);
	assert_int_equal(in_use(), 1);
	assert_int_equal(peers[RA_HEADEND].removed, 0);
	assert_int_equal(ra_isakmp_deletes[0], 0);

	o.no_dynmap = 1;
	ra_headend(&o);
	deliver();
	assert_null(ra_hclient(0));
	assert_int_equal(ra_isakmp_deletes[0], 1);
	assert_int_equal(peers[RA_HEADEND].removed, 1);
	views(&v);
	assert_int_equal(v.ntunnels, 0);
	assert_int_equal(v.npools, 1);
	assert_int_equal(v.p[0].size, 3);
	assert_int_equal(v.p[0].in_use, 0);
	assert_int_equal(v.st.clients, 0);
}

/* A pool that no longer holds a connected client's address: the client
 * keeps it until it goes (the pool does not: in_use 0, and it is not
 * given back), and it still may claim only that address in Quick Mode. */
static void
test_address_kept_outside_new_pool(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	static struct ra_msg m;
	struct ike_client *cl;
	struct views v;
	struct ra_qm q;

	ra_setup(&o, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	cl = ra_hclient(0);
	o.first = "10.9.0.5";
	o.last = "10.9.0.10";
	ra_headend(&o);
	assert_ptr_equal(ra_hclient(0), cl);
	assert_true(cl->t.up);
	assert_int_equal(ra_isakmp_deletes[0], 0);
	views(&v);
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.1"));
	assert_int_equal(v.p[0].in_use, 0);

	ra_hold_quick = 1;
	ra_qm1(0, &q, IKE_ID_IPV4_ADDR, ip("10.9.0.6"), RA_HOST, ip("10.2.0.0"),
	       ip("255.255.0.0"));
	assert_int_equal(hdrop(IKE_DROP_NO_CRYPTO_MAP), 1);	/* not its address */
	assert_int_equal(ra_held(0), 0);
	ra_qm1(0, &q, IKE_ID_IPV4_ADDR, ip("10.9.0.1"), RA_HOST, ip("10.2.0.0"),
	       ip("255.255.0.0"));
	assert_int_equal(ra_held(0), 1);			/* its own: answered */
	ra_qm2(0, &q, &m);
	assert_int_equal(peers[RA_HEADEND].installed, 2);
	assert_pair(&peers[RA_HEADEND].last_installed, ip("10.9.0.1"), 0);

	assert_int_equal(ike_clear(he(), peers[0].addr_be, now_ms), 1);
	deliver();
	assert_null(ra_hclient(0));
	assert_int_equal(in_use(), 0);
	ra_client(2, 1, 0, 0);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(2, 0), ip("10.9.0.5"));
	assert_int_equal(in_use(), 1);
}

/* ---- an exhausted pool ---------------------------------------------------------------------- */

static void
test_pool_exhausted(void **state)
{
	const struct ra_attr ask[] = { { .type = IKE_CFG_IP4_ADDRESS },
				       { .type = IKE_CFG_IP4_NETMASK },
				       { .type = IKE_CFG_IP4_DNS } };
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.1" };
	static struct ra_msg m;
	struct ra_sent s;
	struct views v;

	ra_setup(&o, 1);
	run_until(now_ms + 100);
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_request(2, ask, ARRAY_LEN(ask), &s);
	assert_int_equal(ra_held(2), 1);
	ra_open(2, &m);
	assert_int_equal(m.cfg.type, IKE_CFG_REPLY);
	assert_int_equal(m.cfg.nattrs, 2);		/* the DNS servers only */
	assert_int_equal(ra_address(&m), 0);
	assert_int_equal(ra_count(&m, IKE_CFG_IP4_NETMASK), 0);
	assert_int_equal(ra_count(&m, IKE_CFG_IP4_DNS), 2);
	assert_int_equal(ra_isakmp_deletes[2], 1);
	assert_null(established_sa(2));
	assert_null(ra_hclient(2));
	assert_non_null(ra_hclient(0));
	views(&v);
	assert_int_equal(v.p[0].size, 1);
	assert_int_equal(v.p[0].in_use, 1);
	assert_int_equal(v.p[0].exhausted, 1);
	assert_int_equal(v.st.clients, 1);
	assert_int_equal(v.st.clients_connected, 2);
	assert_int_equal(drops(RA_HEADEND), 0);
}

/* ---- clients behind one NAT ------------------------------------------------------ */

/* Peers 0 and 2 behind one NAT address (ports 40000, 40001): two clients,
 * two leases, pairs and records of their own. INITIAL-CONTACT replaces the
 * connection of its sender's identity only. A frozen client dies on time
 * while ESP keeps the other's record fresh (it is never even probed). */
static void
test_clients_behind_one_nat(void **state)
{
	struct ra_opts o = { .first = "10.9.0.1", .last = "10.9.0.3" };
	struct ike_client *c0, *c2;
	struct ike_sa *sa0, *sa2;
	struct views v;
	int64_t dead_at;

	nat_addr[0] = nat_addr[2] = ip("198.51.100.1");
	nat_port[0] = 40000;
	nat_port[2] = 40001;
	ra_setup(&o, 0);
	run_until(now_ms + 100);
	c0 = ra_hclient(0);
	assert_non_null(c0);
	assert_true(c0->t.sa->floated);			/* NAT-T */
	assert_int_equal(ra_pull(0, 0), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	assert_pair(&peers[RA_HEADEND].last_installed, ip("10.9.0.1"), 0);

	ra_client(2, 1, 0, 0);				/* with INITIAL-CONTACT */
	run_until(now_ms + 100);
	assert_ptr_equal(ra_hclient(0), c0);
	assert_true(c0->t.up);
	c2 = ra_hclient(2);
	assert_non_null(c2);
	assert_int_equal(ra_pull(2, ip("10.9.0.1")), ip("10.9.0.2"));	/* taken: the next */
	ra_client_qm(2, ip("10.9.0.2"));
	assert_int_equal(peers[RA_HEADEND].activated, 2);
	assert_pair(&peers[RA_HEADEND].last_installed, ip("10.9.0.2"), 2);
	views(&v);
	assert_int_equal(v.ntunnels, 2);		/* newest first */
	assert_int_equal(v.t[0].client_port, 40001);
	assert_int_equal(v.t[0].client_addr_be, ip("10.9.0.2"));
	assert_int_equal(v.t[1].client_port, 40000);
	assert_int_equal(v.t[1].client_addr_be, ip("10.9.0.1"));
	assert_int_equal(v.t[0].peers[0].peer_be, ip("198.51.100.1"));
	assert_int_equal(v.t[1].peers[0].peer_be, ip("198.51.100.1"));
	assert_true(v.t[0].up && v.t[1].up);
	assert_int_equal(v.p[0].in_use, 2);

	/* Client 0 starts over (it lost its state): its INITIAL-CONTACT ends
	 * its own old connection, not client 2's. */
	ra_client(0, 1, 0, 0);
	ike_tunnel_down(peers[0].ike, &peers[0].ike->tunnels[0], IKE_DOWN_ENDED, now_ms);
	run_until(now_ms + 100);
	assert_ptr_equal(ra_hclient(2), c2);
	assert_true(c2->t.up);
	assert_int_equal(he()->nclients, 2);
	assert_int_equal(ra_hclient(0)->lease, 0);		/* a new client */
	assert_int_equal(in_use(), 1);
	assert_int_equal(ra_pull(0, ip("10.9.0.1")), ip("10.9.0.1"));
	ra_client_qm(0, ip("10.9.0.1"));
	assert_true(ra_hclient(0)->t.up);

	sa0 = ra_hclient(0)->t.sa;
	sa2 = c2->t.sa;
	assert_int_equal(sa2->dpd.c.r_u_there_sent, 0);
	dead_at = ike_sa_last_rx(sa0) + 10000 + 5 * 2000;
	peers[0].frozen = 1;
	while (now_ms < dead_at - 1) {
		esp_from(RA_HEADEND, 2);			/* client 2's ESP arrives */
		run_until(now_ms + 1000 < dead_at - 1 ? now_ms + 1000 : dead_at - 1);
	}
	assert_ptr_equal(ra_hclient(0)->t.sa, sa0);
	assert_int_equal(sa0->dpd.c.r_u_there_sent, 5);
	esp_from(RA_HEADEND, 2);
	run_until(dead_at);
	assert_null(ra_hclient(0));
	assert_ptr_equal(ra_hclient(2), c2);
	assert_true(c2->t.up);
	assert_ptr_equal(c2->t.sa, sa2);
	assert_int_equal(sa2->dpd.c.r_u_there_sent, 0);	/* its record was fresh */
	assert_int_equal(in_use(), 1);
	assert_int_equal(he()->nclients, 1);
	assert_int_equal(drops(RA_HEADEND), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pull_config_then_quick_mode, ra_teardown),
		cmocka_unit_test_teardown(test_push_config_before_quick_mode, ra_teardown),
		cmocka_unit_test_teardown(test_xauth_ok, ra_teardown),
		cmocka_unit_test_teardown(test_xauth_wrong_password, ra_teardown),
		cmocka_unit_test_teardown(test_xauth_unknown_user, ra_teardown),
		cmocka_unit_test_teardown(test_xauth_rate_limited, ra_teardown),
		cmocka_unit_test_teardown(test_xauth_over_rate_request_repeated, ra_teardown),
		cmocka_unit_test_teardown(test_wrong_answer_type_keeps_request, ra_teardown),
		cmocka_unit_test_teardown(test_peer_no_entry_takes_deleted, ra_teardown),
		cmocka_unit_test_teardown(test_reauthentication_takes_over, ra_teardown),
		cmocka_unit_test_teardown(test_request_retransmission_answered_again, ra_teardown),
		cmocka_unit_test_teardown(test_forged_and_replayed_requests, ra_teardown),
		cmocka_unit_test_teardown(test_finished_exchanges_replayed, ra_teardown),
		cmocka_unit_test_teardown(test_transaction_from_non_client, ra_teardown),
		cmocka_unit_test_teardown(test_quick_mode_host_identity, ra_teardown),
		cmocka_unit_test_teardown(test_lease_released_on_delete, ra_teardown),
		cmocka_unit_test_teardown(test_lease_released_on_dpd_death, ra_teardown),
		cmocka_unit_test_teardown(test_lease_released_on_clear, ra_teardown),
		cmocka_unit_test_teardown(test_lease_released_on_reconfiguration, ra_teardown),
		cmocka_unit_test_teardown(test_address_kept_outside_new_pool, ra_teardown),
		cmocka_unit_test_teardown(test_pool_exhausted, ra_teardown),
		cmocka_unit_test_teardown(test_clients_behind_one_nat, ra_teardown),
	};

	return cmocka_run_group_tests_name("ike remote access", tests, NULL, NULL);
}
