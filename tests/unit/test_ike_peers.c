/*
 * Two (or three) IKE engines in one process over a fake transport and a
 * fake clock (issue 3 acceptance): Main Mode + Quick Mode complete; DPD
 * probes an idle tunnel every keepalive; a silent peer is declared dead
 * exactly at keepalive + retries x retry after its last sign of life, with
 * one probe and four retransmissions; on-demand DPD stays quiet without
 * outbound traffic; failover moves down the peer list and cycles.
 * Time advances from one deadline to the next, so every check is exact.
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

#include "ike/ike_int.h"

#define NPEERS  3
#define QMAX    256
#define PKT_MAX 2048

struct pkt {
	int      to;
	uint16_t dport, sport;
	uint32_t src_be;
	size_t   len;
	uint8_t  data[PKT_MAX];
};

struct peer {
	struct ike    *ike;
	uint32_t       addr_be;
	int            frozen;		/* SIGSTOP: neither receives nor runs timers */
	uint64_t       sent;
	struct ike_child_sa last_installed;
	int            installed, removed;
};

static struct peer peers[NPEERS];
static struct pkt  queue[QMAX];
static size_t      qhead, qtail;
static int64_t     now_ms;
static uint64_t    keepalives_seen;

static int
peer_of(uint32_t be)
{
	for (int i = 0; i < NPEERS; i++)
		if (peers[i].addr_be == be)
			return i;
	return -1;
}

static int
fake_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port, const uint8_t *msg,
	  size_t len)
{
	struct peer *from = ctx;
	struct pkt *p = &queue[qtail % QMAX];

	assert_true(len <= PKT_MAX);
	assert_true(qtail - qhead < QMAX);
	from->sent++;
	if (len == 1 && msg[0] == IKE_NATT_KEEPALIVE) {
		assert_int_equal(local_port, IKE_NATT_PORT);
		keepalives_seen++;
		return 0;
	}
	p->to = peer_of(dst_be);
	p->dport = dst_port;
	p->sport = local_port;
	p->src_be = from->addr_be;
	p->len = len;
	memcpy(p->data, msg, len);
	qtail++;
	return 0;
}

static void
dp_install(void *ctx, const struct ike_child_sa *sa)
{
	struct peer *p = ctx;

	p->last_installed = *sa;
	p->installed++;
}

static void
dp_remove(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
	((struct peer *)ctx)->removed++;
}

/* Delivers everything in flight (packets may cause more packets). */
static void
deliver(void)
{
	while (qhead != qtail) {
		struct pkt *p = &queue[qhead % QMAX];

		qhead++;
		if (p->to < 0 || peers[p->to].frozen)
			continue;	/* lost */
		ike_input(peers[p->to].ike, p->dport, p->src_be, p->sport, p->data, p->len, now_ms);
	}
}

/* Runs every peer's timers at now_ms and returns the earliest deadline. */
static int64_t
timers(void)
{
	int64_t next = 0;

	for (int i = 0; i < NPEERS; i++) {
		int64_t n;

		if (peers[i].ike == NULL || peers[i].frozen)
			continue;
		n = ike_timer(peers[i].ike, now_ms);
		if (n != 0 && (next == 0 || n < next))
			next = n;
	}
	return next;
}

/* Advances the clock event by event until `until` (inclusive). */
static void
run_until(int64_t until)
{
	for (;;) {
		int64_t next;

		deliver();
		next = timers();
		deliver();
		next = timers();
		if (next == 0 || next > until)
			break;
		now_ms = next > now_ms ? next : now_ms;
	}
	now_ms = until;
	deliver();
	timers();
	deliver();
}

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct ike_psk_conf psk_any;
static struct ike_map_conf maps[NPEERS];
static int test_pfs, test_fqdn, test_force_encap;	/* per-test options */
static unsigned test_ike_life = 86400, test_child_life = 3600;

static void
conf_for(int i, struct ike_conf *c, const uint32_t *map_peers, size_t npeers, int initiate,
	 enum dpd_mode mode)
{
	struct ike_map_conf *m = &maps[i];

	ike_conf_defaults(c);
	c->local_be = peers[i].addr_be;
	c->dpd.keepalive_s = 10;
	c->dpd.retry_s = 2;
	c->dpd.retries = 5;
	c->dpd.mode = mode;
	c->npolicies = 1;
	c->policies[0] = (struct ike_policy_conf){ .priority = 10, .enc_key_len = 16,
						   .hash = IKE_HASH_SHA256, .group = 14,
						   .lifetime_s = test_ike_life };
	memset(&psk_any, 0, sizeof(psk_any));
	memcpy(psk_any.key, "correct horse battery staple", 28);
	psk_any.key_len = 28;
	c->psks = &psk_any;	/* wild card 0.0.0.0/0 */
	c->npsks = 1;
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "VPN");
	m->seq = 10;
	memcpy(m->peers_be, map_peers, npeers * sizeof(*map_peers));
	m->npeers = npeers;
	m->nxforms = 1;
	m->xforms[0] = (struct ike_xform_conf){ .cipher = IKE_ESP_AES_CBC, .key_len = 16,
						.auth = IKE_ESP_AUTH_SHA256 };
	m->nsel = 1;
	/* Site 0 protects 10.1.0.0/16, the others 10.2.0.0/16. */
	m->sel[0].src_be = ip(i == 0 ? "10.1.0.0" : "10.2.0.0");
	m->sel[0].dst_be = ip(i == 0 ? "10.2.0.0" : "10.1.0.0");
	m->sel[0].src_mask_be = m->sel[0].dst_mask_be = ip("255.255.0.0");
	m->pfs_group = test_pfs;
	m->force_encap = test_force_encap;
	if (test_fqdn && i == 0) {
		c->identity_fqdn = 1;
		snprintf(c->hostname, sizeof(c->hostname), "site-a.example.net");
	}
	m->lifetime_s = test_child_life;
	m->lifetime_kb = 4608000;
	m->initiate = initiate;
	c->maps = m;
	c->nmaps = 1;
}

static void
setup_peers(int n, enum dpd_mode mode, int a_failover)
{
	static const char *addrs[NPEERS] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };

	memset(peers, 0, sizeof(peers));
	qhead = qtail = 0;
	keepalives_seen = 0;
	now_ms = 1000000;
	for (int i = 0; i < n; i++) {
		struct ike_transport tr = { &peers[i], fake_send };
		struct ike_dataplane dp = { &peers[i], dp_install, dp_remove };

		peers[i].addr_be = ip(addrs[i]);
		peers[i].ike = ike_new(&tr, &dp);
	}
	for (int i = 0; i < n; i++) {
		struct ike_conf c;
		uint32_t list[2];
		size_t nl;

		if (i == 0) {
			list[0] = peers[1].addr_be;
			list[1] = peers[2].addr_be;
			nl = a_failover ? 2 : 1;
		} else {
			list[0] = peers[0].addr_be;
			nl = 1;
		}
		conf_for(i, &c, list, nl, i == 0, mode);
		ike_configure(peers[i].ike, &c, now_ms);
	}
}

static int
teardown_peers(void **state)
{
	test_pfs = test_fqdn = test_force_encap = 0;
	test_ike_life = 86400;
	test_child_life = 3600;
	for (int i = 0; i < NPEERS; i++)
		ike_free(peers[i].ike);
	memset(peers, 0, sizeof(peers));
	return 0;
}

static struct ike_sa *
established_sa(int i)
{
	struct ike_tunnel *t = peers[i].ike->ntunnels ? &peers[i].ike->tunnels[0] : NULL;

	return t && t->sa && t->sa->state == SA_ESTABLISHED ? t->sa : NULL;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_main_and_quick_mode(void **state)
{
	struct ike_tunnel *ta, *tb;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	ta = &peers[0].ike->tunnels[0];
	tb = &peers[1].ike->tunnels[0];
	assert_non_null(established_sa(0));
	assert_non_null(established_sa(1));
	assert_true(ta->up);
	assert_true(tb->up);
	assert_int_equal(peers[0].installed, 1);
	assert_int_equal(peers[1].installed, 1);
	/* Each side's inbound SA is the other's outbound, with the same keys. */
	assert_int_equal(peers[0].last_installed.spi_in, peers[1].last_installed.spi_out);
	assert_int_equal(peers[0].last_installed.spi_out, peers[1].last_installed.spi_in);
	assert_memory_equal(peers[0].last_installed.key_in, peers[1].last_installed.key_out,
			    peers[0].last_installed.key_len);
	assert_memory_equal(peers[0].last_installed.key_out, peers[1].last_installed.key_in,
			    peers[0].last_installed.key_len);
	assert_int_equal(peers[0].last_installed.key_len, 16 + 32);
	/* DPD was negotiated through the vendor ids. */
	assert_int_not_equal(established_sa(0)->dpd.state, DPD_DISABLED);
	assert_int_equal(peers[0].ike->st.rx_malformed + peers[1].ike->st.rx_malformed, 0);
	assert_int_equal(peers[0].ike->st.rx_bad_hash + peers[1].ike->st.rx_bad_hash, 0);
}

static void
test_periodic_probes_idle_tunnel(void **state)
{
	struct ike_sa *a;
	int64_t start;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	a = established_sa(0);
	assert_non_null(a);
	start = now_ms;
	/* 35 s of idle: both sides probe every 10 s and get answers. */
	run_until(start + 35000);
	a = established_sa(0);
	assert_non_null(a);
	assert_true(a->dpd.c.r_u_there_sent >= 3);
	assert_int_equal(a->dpd.c.retransmissions, 0);
	assert_int_equal(a->dpd.c.ack_received, a->dpd.c.r_u_there_sent);
	assert_int_equal(a->dpd.c.bad_sequence, 0);
	assert_true(a->dpd.c.ack_sent >= 1);	/* it answered B's probes too */
	assert_true(peers[0].ike->tunnels[0].up);
}

static void
test_silent_peer_dead_on_time(void **state)
{
	struct ike_sa *a;
	int64_t last_rx, dead_at;
	uint64_t sent0;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	run_until(now_ms + 12000);	/* one probe round answered */
	a = established_sa(0);
	assert_non_null(a);
	last_rx = a->dpd.last_rx_ms;
	sent0 = a->dpd.c.r_u_there_sent;
	peers[1].frozen = 1;
	dead_at = last_rx + 10000 + 5 * 2000;
	run_until(dead_at - 1);
	a = established_sa(0);
	assert_non_null(a);		/* not a millisecond early */
	assert_int_equal(a->dpd.c.r_u_there_sent - sent0, 5);	/* 1 probe + 4 retransmissions */
	assert_int_equal(a->dpd.c.retransmissions, 4);
	assert_true(peers[0].ike->tunnels[0].up);
	run_until(dead_at);
	assert_null(established_sa(0));
	assert_false(peers[0].ike->tunnels[0].up);
	assert_int_equal(peers[0].ike->tunnels[0].transitions_down, 1);
	assert_int_equal(peers[0].removed, 1);
}

static void
test_on_demand_needs_traffic(void **state)
{
	struct ike_sa *a;
	int64_t last_rx;

	setup_peers(2, DPD_MODE_ON_DEMAND, 0);
	run_until(now_ms + 100);
	a = established_sa(0);
	assert_non_null(a);
	peers[1].frozen = 1;
	run_until(now_ms + 120000);	/* 2 minutes, no traffic: no probe, no death */
	a = established_sa(0);
	assert_non_null(a);
	assert_int_equal(a->dpd.c.r_u_there_sent, 0);
	last_rx = a->dpd.last_rx_ms;
	/* Outbound traffic, silent peer: probing starts, then death. */
	ike_peer_outbound(peers[0].ike, peers[1].addr_be, now_ms);
	run_until(now_ms + 1);
	a = established_sa(0);
	assert_non_null(a);
	assert_true(a->dpd.c.r_u_there_sent >= 1);
	run_until(now_ms + 5 * 2000 + 1);
	assert_null(established_sa(0));
	assert_true(now_ms - last_rx > 10000);
}

static void
test_failover_cycles(void **state)
{
	struct ike_tunnel *t;

	setup_peers(3, DPD_MODE_PERIODIC, 1);
	run_until(now_ms + 100);
	t = &peers[0].ike->tunnels[0];
	assert_true(t->up);
	assert_int_equal(t->active, 0);
	assert_int_equal(established_sa(0)->peer_be, peers[1].addr_be);
	/* First peer dies: the tunnel moves to the second. */
	peers[1].frozen = 1;
	run_until(now_ms + 10000 + 10000 + 1000);
	assert_int_equal(t->active, 1);
	assert_true(t->up);
	assert_int_equal(established_sa(0)->peer_be, peers[2].addr_be);
	assert_int_equal(t->failovers[0], 1);
	/* The second dies too, the first is back: the list cycles. */
	peers[1].frozen = 0;
	ike_clear(peers[1].ike, 0, now_ms);	/* it lost its state while frozen */
	peers[2].frozen = 1;
	run_until(now_ms + 10000 + 10000 + 1000);
	assert_int_equal(t->active, 0);
	assert_true(t->up);
	assert_int_equal(established_sa(0)->peer_be, peers[1].addr_be);
	assert_int_equal(t->failovers[0], 2);
}

static void
test_pfs_and_hostname_identity(void **state)
{
	for (int g = 0; g < 2; g++) {
		test_pfs = g == 0 ? 14 : 19;
		test_fqdn = 1;
		setup_peers(2, DPD_MODE_PERIODIC, 0);
		run_until(now_ms + 100);
		assert_non_null(established_sa(0));
		assert_int_equal(peers[0].installed, 1);
		assert_int_equal(peers[1].installed, 1);
		assert_memory_equal(peers[0].last_installed.key_in, peers[1].last_installed.key_out,
				    peers[0].last_installed.key_len);
		/* the PFS exchange ran: the QM state kept a shared secret */
		assert_true(established_sa(0)->qm[0].gqm_len > 0);
		teardown_peers(NULL);
		test_fqdn = 1;
	}
}

static void
test_forced_encap_floats_and_keeps_alive(void **state)
{
	struct ike_sa *a;

	test_force_encap = 1;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	a = established_sa(0);
	assert_non_null(a);
	assert_int_equal(a->local_port, IKE_NATT_PORT);
	assert_int_equal(a->peer_port, IKE_NATT_PORT);
	assert_true(peers[0].last_installed.udp_encap);
	assert_true(peers[1].last_installed.udp_encap);
	/* we pretend to be behind NAT, so we keep the mapping alive: 20 s */
	run_until(now_ms + 61000);
	assert_int_equal(keepalives_seen, 3);
}

static void
test_rekey_make_before_break(void **state)
{
	struct ike_tunnel *ta, *tb;
	int64_t end;

	/* ISAKMP SA 60 s, IPsec SA pairs 40 s: five minutes of rekeys. */
	test_ike_life = 60;
	test_child_life = 40;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	ta = &peers[0].ike->tunnels[0];
	tb = &peers[1].ike->tunnels[0];
	assert_true(ta->up && tb->up);
	end = now_ms + 300000;
	while (now_ms < end) {
		run_until(now_ms + 1000);
		/* at every second of it the tunnel has a live SA pair on both sides */
		assert_true(ta->up && tb->up);
		assert_true(ta->nchildren >= 1 && tb->nchildren >= 1);
		assert_non_null(established_sa(0));
	}
	assert_int_equal(ta->transitions_down + tb->transitions_down, 0);
	assert_true(ta->rekeys[0] >= 4);		/* ISAKMP SA every ~54 s */
	assert_true(tb->rekeys[0] >= 4);
	assert_true(peers[0].installed >= 8);		/* pairs every ~36 s */
	assert_int_equal(ta->nchildren, 1);
	assert_int_equal(tb->nchildren, 1);
	assert_int_equal(peers[0].installed - peers[0].removed, 1);
	assert_int_equal(peers[1].installed - peers[1].removed, 1);
	/* the pair in use is the same on both sides */
	assert_int_equal(ta->children[0].sa.spi_in, tb->children[0].sa.spi_out);
	assert_memory_equal(ta->children[0].sa.key_out, tb->children[0].sa.key_in,
			    ta->children[0].sa.key_len);
	/* one ISAKMP SA left on each side; DPD counters survived the rekeys */
	assert_null(peers[0].ike->sas->next);
	assert_null(peers[1].ike->sas->next);
	assert_true(ta->retired_dpd[0].r_u_there_sent + ta->retired_dpd[0].r_u_there_received >= 5);
	assert_int_equal(peers[0].ike->st.rx_bad_hash + peers[1].ike->st.rx_bad_hash, 0);
}

static void
test_responder_hardening(void **state)
{
	struct ike *b;
	struct pkt mm1;
	uint8_t junk[64];

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	b = peers[1].ike;
	b->conf.halfopen_max = 4;
	/* Take A's first message, then replay it with fresh initiator cookies. */
	peers[1].frozen = 1;
	timers();
	assert_true(qtail - qhead >= 1);
	mm1 = queue[qhead % QMAX];
	qhead = qtail;
	peers[1].frozen = 0;
	for (int i = 0; i < 6; i++) {
		mm1.data[0] = (uint8_t)(0xa0 + i);
		ike_input(b, IKE_PORT, peers[0].addr_be, IKE_PORT, mm1.data, mm1.len, now_ms);
	}
	assert_int_equal(b->halfopen, 4);
	assert_int_equal(b->st.rx_halfopen_drop, 2);
	/* Garbage of every kind is dropped and counted, never a crash. */
	for (size_t n = 0; n < sizeof(junk); n++) {
		memset(junk, (int)n, sizeof(junk));
		ike_input(b, IKE_PORT, peers[0].addr_be, IKE_PORT, junk, n, now_ms);
	}
	assert_true(b->st.rx_malformed >= sizeof(junk) - 1);
	/* Half-open SAs die after 30 s; the slots are free again. */
	qhead = qtail;
	run_until(now_ms + 31000);
	assert_int_equal(b->halfopen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_main_and_quick_mode, teardown_peers),
		cmocka_unit_test_teardown(test_periodic_probes_idle_tunnel, teardown_peers),
		cmocka_unit_test_teardown(test_silent_peer_dead_on_time, teardown_peers),
		cmocka_unit_test_teardown(test_on_demand_needs_traffic, teardown_peers),
		cmocka_unit_test_teardown(test_failover_cycles, teardown_peers),
		cmocka_unit_test_teardown(test_pfs_and_hostname_identity, teardown_peers),
		cmocka_unit_test_teardown(test_forced_encap_floats_and_keeps_alive, teardown_peers),
		cmocka_unit_test_teardown(test_rekey_make_before_break, teardown_peers),
		cmocka_unit_test_teardown(test_responder_hardening, teardown_peers),
	};

	return cmocka_run_group_tests_name("ike two peers", tests, NULL, NULL);
}
