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

#include "ike_sim.h"

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
	/* The responder had its inbound half in place when it sent QM2 (the
	 * initiator sends on the pair once it has QM2) and let the outbound
	 * half send only once HASH(3) came. */
	assert_false(peers[0].last_installed.outbound_later);
	assert_true(peers[1].last_installed.outbound_later);
	assert_int_equal(peers[0].activated, 0);
	assert_int_equal(peers[1].activated, 1);
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
	assert_int_equal(drops(0) + drops(1), 0);
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
	ike_peer_outbound(peers[0].ike, peers[1].addr_be, 0, now_ms);
	run_until(now_ms + 1);
	a = established_sa(0);
	assert_non_null(a);
	assert_true(a->dpd.c.r_u_there_sent >= 1);
	run_until(now_ms + 5 * 2000 + 1);
	assert_null(established_sa(0));
	assert_true(now_ms - last_rx > 10000);
}

/* Verified ESP is liveness through the dataplane's record, read when DPD
 * decides: nothing reaches the engine per packet, and the verdict
 * is still exact from the last verified packet. */
static void
test_esp_record_is_liveness(void **state)
{
	struct ike_sa *a;
	int64_t last_esp, dead_at;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	peers[1].frozen = 1;		/* B's IKE is silent, its ESP is not */
	for (int s = 0; s < 60; s++) {
		run_until(now_ms + 1000);
		esp_from(0, 1);
	}
	last_esp = now_ms;
	a = established_sa(0);
	assert_non_null(a);
	assert_int_equal(a->dpd.c.r_u_there_sent, 0);	/* never 10 s without ESP */
	dead_at = last_esp + 10000 + 5 * 2000;
	run_until(last_esp + 10000 - 1);
	assert_int_equal(a->dpd.c.r_u_there_sent, 0);
	run_until(last_esp + 10000);
	assert_int_equal(a->dpd.c.r_u_there_sent, 1);
	run_until(dead_at - 1);
	assert_ptr_equal(established_sa(0), a);
	assert_int_equal(a->dpd.c.r_u_there_sent, 5);
	run_until(dead_at);
	assert_null(established_sa(0));
	assert_int_equal(peers[0].ike->tunnels[0].ps[0].dead_last_rx_ms, last_esp);
	assert_int_equal(peers[0].outbound_calls, 0);	/* periodic: nothing posted */
}

/* On-demand with the record: without traffic nothing is posted and nothing
 * probed; with traffic the engine hears of a first packet out at most once
 * per keepalive (it watches only when it has nothing to ask), and when the
 * peer's ESP stops the probe goes keepalive after the last verified packet,
 * the verdict retries x retry later. */
static void
test_on_demand_reads_the_record(void **state)
{
	struct ike_sa *a;
	int64_t last_in, probe_at;

	setup_peers(2, DPD_MODE_ON_DEMAND, 0);
	run_until(now_ms + 100);
	a = established_sa(0);
	assert_non_null(a);
	peers[1].frozen = 1;
	run_until(now_ms + 120000);
	assert_int_equal(a->dpd.c.r_u_there_sent, 0);
	assert_int_equal(peers[0].outbound_calls, 0);
	/* 30 s of the peer's requests and our answers, one a second (had we
	 * sent first, after two silent minutes, that would have been probed). */
	for (int s = 0; s < 30; s++) {
		esp_from(0, 1);
		run_until(now_ms + 10);
		esp_to(0, 1);
		run_until(now_ms + 990);
	}
	last_in = now_ms - 1000;
	assert_int_equal(a->dpd.c.r_u_there_sent, 0);
	assert_in_range(peers[0].outbound_calls, 1, 4);		/* not 30 */
	/* Its packets stop; ours go on. */
	probe_at = last_in + 10000;
	while (now_ms < probe_at - 1) {
		esp_to(0, 1);
		run_until(now_ms + 1000 < probe_at - 1 ? now_ms + 1000 : probe_at - 1);
	}
	assert_int_equal(a->dpd.c.r_u_there_sent, 0);
	run_until(probe_at);
	assert_int_equal(a->dpd.c.r_u_there_sent, 1);
	run_until(probe_at + 5 * 2000 - 1);
	assert_ptr_equal(established_sa(0), a);
	run_until(probe_at + 5 * 2000);
	assert_null(established_sa(0));
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
		/* the PFS exchange ran */
		assert_true(established_sa(0)->qm[0]->pfs);
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

/* `access-list 101 permit gre host A host B` on both sides, mirrored. */
static void
gre_selectors(uint8_t proto0, uint8_t proto1)
{
	test_sel[0] = (struct ike_selector){ .src_be = ip("192.0.2.1"),
					     .src_mask_be = ip("255.255.255.255"),
					     .dst_be = ip("192.0.2.2"),
					     .dst_mask_be = ip("255.255.255.255"), .proto = proto0 };
	test_sel[1] = (struct ike_selector){ .src_be = ip("192.0.2.2"),
					     .src_mask_be = ip("255.255.255.255"),
					     .dst_be = ip("192.0.2.1"),
					     .dst_mask_be = ip("255.255.255.255"), .proto = proto1 };
}

/* GRE between the gateways in transport mode; without NAT
 * (and without forceEncapsulation) the pair is plain ESP. The responder's
 * selector is what it read from the IDs, so protocol 47 went on the wire. */
static void
test_gre_transport_plain_esp(void **state)
{
	const struct ike_child_sa *a, *b;

	gre_selectors(IPPROTO_GRE, IPPROTO_GRE);
	test_transport = 1;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	assert_int_equal(peers[0].installed, 1);
	assert_int_equal(peers[1].installed, 1);
	a = &peers[0].last_installed;
	b = &peers[1].last_installed;
	assert_true(a->transport_mode && b->transport_mode);
	assert_false(a->udp_encap || b->udp_encap);
	assert_int_equal(established_sa(0)->peer_port, IKE_PORT);	/* no float to 4500 */
	assert_int_equal(a->sel.proto, IPPROTO_GRE);
	assert_int_equal(b->sel.proto, IPPROTO_GRE);
	assert_int_equal(b->sel.src_be, ip("192.0.2.2"));
	assert_int_equal(b->sel.dst_be, ip("192.0.2.1"));
	assert_int_equal(drops(0) + drops(1), 0);
}

/* A protocol the responder's ACL does not name: no crypto map matches the
 * identities, nothing is installed (INVALID-ID-INFORMATION). */
static void
test_protocol_mismatch_refused(void **state)
{
	gre_selectors(IPPROTO_GRE, IPPROTO_UDP);
	test_transport = 1;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	assert_non_null(established_sa(1));
	assert_int_equal(peers[0].installed + peers[1].installed, 0);
	assert_true(peers[1].ike->st.drops[IKE_DROP_NO_CRYPTO_MAP] >= 1);
}

/* `mode transport` between networks is a request IOS does not grant: the
 * pair is negotiated in tunnel mode (a transport-mode pair could carry
 * nothing there). */
static void
test_transport_between_networks_is_tunnel(void **state)
{
	test_transport = 1;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	assert_int_equal(peers[0].installed, 1);
	assert_int_equal(peers[1].installed, 1);
	assert_false(peers[0].last_installed.transport_mode);
	assert_false(peers[1].last_installed.transport_mode);
}

/* `permit udp host A eq 1701 host B`: each side's port in its own ID. */
static void
test_ports_in_identities(void **state)
{
	gre_selectors(IPPROTO_UDP, IPPROTO_UDP);
	test_sel[0].src_port = 1701;
	test_sel[1].dst_port = 1701;
	test_transport = 1;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	assert_int_equal(peers[1].installed, 1);
	assert_int_equal(peers[1].last_installed.sel.dst_port, 1701);
	assert_int_equal(peers[1].last_installed.sel.src_port, 0);
	assert_int_equal(peers[0].last_installed.sel.src_port, 1701);
}

/* Every pair peer i sends on, peer j has (its inbound half at least):
 * nothing sent is lost to a pair only one side knows. */
static void
assert_pairs_agree(int i, int j)
{
	for (int a = 0; a < peers[i].npairs; a++) {
		int found = 0;

		if (!peers[i].pairs[a].sends)
			continue;
		for (int b = 0; b < peers[j].npairs; b++)
			found |= peers[j].pairs[b].in == peers[i].pairs[a].out;
		if (!found)
			fail_msg("peer %d sends on SPI 0x%08x, which peer %d does not have", i,
				 peers[i].pairs[a].out, j);
	}
}

/* Both ends initiate at the same moment (as two IOS routers whose crypto
 * maps both bring the tunnel up): whatever ISAKMP SAs and pairs the race
 * leaves, each side sends only on pairs the other holds, also after the
 * duplicate SAs are sorted out and once a rekey has run. */
static void
test_simultaneous_initiation(void **state)
{
	test_both_initiate = 1;
	test_child_life = 120;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	assert_true(peers[0].ike->tunnels[0].up);
	assert_true(peers[1].ike->tunnels[0].up);
	assert_pairs_agree(0, 1);
	assert_pairs_agree(1, 0);
	run_until(now_ms + 30000);
	assert_pairs_agree(0, 1);
	assert_pairs_agree(1, 0);
	run_until(now_ms + 240000);	/* two rounds of child rekeys */
	assert_true(peers[0].ike->tunnels[0].up && peers[1].ike->tunnels[0].up);
	assert_true(peers[0].removed >= 2 && peers[1].removed >= 2);
	assert_pairs_agree(0, 1);
	assert_pairs_agree(1, 0);
	assert_true(peers[0].npairs >= 1 && peers[1].npairs >= 1);
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
	assert_true(ta->ps[0].rekeys >= 4);		/* ISAKMP SA every ~54 s */
	assert_true(tb->ps[0].rekeys >= 4);
	assert_true(peers[0].installed >= 8);		/* pairs every ~36 s */
	assert_int_equal(ta->nchildren, 1);
	assert_int_equal(tb->nchildren, 1);
	assert_int_equal(peers[0].installed - peers[0].removed, 1);
	assert_int_equal(peers[1].installed - peers[1].removed, 1);
	/* the pair in use is the same on both sides, with the same keys */
	assert_int_equal(ta->children[0].sa.spi_in, tb->children[0].sa.spi_out);
	assert_int_equal(ta->children[0].sa.spi_out, tb->children[0].sa.spi_in);
	assert_null(ta->children[0].sa.key_in);	/* no key kept beyond the install */
	assert_memory_equal(peers[0].last_installed.key_out, peers[1].last_installed.key_in,
			    peers[0].last_installed.key_len);
	/* one ISAKMP SA left on each side; DPD counters survived the rekeys */
	assert_null(peers[0].ike->sas->next);
	assert_null(peers[1].ike->sas->next);
	assert_true(ta->ps[0].retired_dpd.r_u_there_sent + ta->ps[0].retired_dpd.r_u_there_received >= 5);
	assert_int_equal(drops(0) + drops(1), 0);
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
	b->conf.halfopen_per_source = 4;
	b->conf.halfopen_reserve = 1;
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
	/* A is a crypto-map peer: it may use the whole table, and its newest
	 * attempts push out its oldest unanswered ones. */
	assert_int_equal(b->guard.halfopen, 4);
	assert_int_equal(b->st.drops[IKE_DROP_HALFOPEN_LIMIT], 0);
	/* Garbage of every kind is dropped and counted, never a crash. */
	for (size_t n = 0; n < sizeof(junk); n++) {
		memset(junk, (int)n, sizeof(junk));
		ike_input(b, IKE_PORT, peers[0].addr_be, IKE_PORT, junk, n, now_ms);
	}
	assert_true(b->st.drops[IKE_DROP_MALFORMED] >= sizeof(junk) - 1);
	/* Half-open SAs die after 30 s; the slots are free again. */
	qhead = qtail;
	run_until(now_ms + 31000);
	assert_int_equal(b->guard.halfopen, 0);
	assert_int_equal(b->guard.nsrc, 0);
}

/* A crypto map entry removed: its pairs leave the dataplane (and the peer
 * hears of it), its SA goes; nothing of it is left behind. */
static void
test_removed_entry_takes_its_pairs(void **state)
{
	struct ike_conf c;

	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	assert_non_null(established_sa(0));
	assert_int_equal(peers[0].installed, 1);
	ike_conf_defaults(&c);
	c.local_be = peers[0].addr_be;
	ike_configure(peers[0].ike, &c, now_ms);	/* no crypto map left */
	deliver();
	assert_int_equal(peers[0].removed, 1);
	assert_null(peers[0].ike->sas);
	assert_int_equal(peers[1].removed, 1);	/* B took the Deletes */
	assert_int_equal(peers[1].ike->tunnels[0].nchildren, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_main_and_quick_mode, teardown_peers),
		cmocka_unit_test_teardown(test_periodic_probes_idle_tunnel, teardown_peers),
		cmocka_unit_test_teardown(test_silent_peer_dead_on_time, teardown_peers),
		cmocka_unit_test_teardown(test_on_demand_needs_traffic, teardown_peers),
		cmocka_unit_test_teardown(test_esp_record_is_liveness, teardown_peers),
		cmocka_unit_test_teardown(test_on_demand_reads_the_record, teardown_peers),
		cmocka_unit_test_teardown(test_failover_cycles, teardown_peers),
		cmocka_unit_test_teardown(test_pfs_and_hostname_identity, teardown_peers),
		cmocka_unit_test_teardown(test_forced_encap_floats_and_keeps_alive, teardown_peers),
		cmocka_unit_test_teardown(test_gre_transport_plain_esp, teardown_peers),
		cmocka_unit_test_teardown(test_protocol_mismatch_refused, teardown_peers),
		cmocka_unit_test_teardown(test_ports_in_identities, teardown_peers),
		cmocka_unit_test_teardown(test_transport_between_networks_is_tunnel, teardown_peers),
		cmocka_unit_test_teardown(test_simultaneous_initiation, teardown_peers),
		cmocka_unit_test_teardown(test_rekey_make_before_break, teardown_peers),
		cmocka_unit_test_teardown(test_responder_hardening, teardown_peers),
		cmocka_unit_test_teardown(test_removed_entry_takes_its_pairs, teardown_peers),
	};

	return cmocka_run_group_tests_name("ike two peers", tests, NULL, NULL);
}
