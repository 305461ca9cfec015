/*
 * The VPN metric families from the engine's view (agent/metrics/vpn.c),
 * and their bound on per-peer series: above --metrics-peer-series
 * peers, only peers that are not up are listed, at most that many, and
 * every other peer is summed under peer="*", so that a sum over a family is
 * the same whatever the cap.
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
#include "metrics/metrics.h"
#include "metrics/vpn.h"

#define PEERS 50
#define UP    40	/* tunnels 0..39 up, 40..49 down */

static int
no_send(void *ctx, uint16_t lp, uint32_t dst, uint16_t dp, const uint8_t *m, size_t len)
{
	return 0;
}

/* PEERS crypto-map entries, one peer each (198.51.100.1...); the first
 * UP of them marked up as an established tunnel would be. */
static struct ike *
engine(void)
{
	struct ike *ike = ike_new(&(struct ike_transport){ NULL, no_send }, NULL);
	struct ike_map_conf *maps = calloc(PEERS, sizeof(*maps));
	struct ike_conf c;

	ike_conf_defaults(&c);
	for (size_t i = 0; i < PEERS; i++) {
		snprintf(maps[i].name, sizeof(maps[i].name), "hub");
		maps[i].seq = (unsigned)i + 1;
		maps[i].peers_be[0] = htonl(0xc6336401u + (uint32_t)i);
		maps[i].npeers = 1;
		maps[i].nsel = 1;
		maps[i].sel[0] = (struct ike_selector){ .src_be = htonl(0xac100000),
							.src_mask_be = htonl(0xffff0000),
							.dst_be = htonl(0x0a000000u + ((uint32_t)i << 8)),
							.dst_mask_be = htonl(0xffffff00) };
	}
	c.maps = maps;
	c.nmaps = PEERS;
	ike_configure(ike, &c, 1000);
	free(maps);
	assert_int_equal(ike->ntunnels, PEERS);
	for (size_t i = 0; i < UP; i++)
		ike->tunnels[i].up = 1;
	return ike;
}

struct family {
	size_t rows, others;	/* rows in all; of them peer="*" */
	double sum, others_value;
};

/* The rows of one family (peer is label 0 but for tunnel_active_peer). */
static struct family
family(const struct metrics_snapshot *snap, enum metric_id id, const char *state)
{
	struct family f = { 0 };
	int peer_label = id == M_TUNNEL_ACTIVE_PEER ? 1 : 0;

	for (size_t i = 0; i < snap->n; i++) {
		const struct metric_sample *s = &snap->samples[i];

		if (s->id != id || (state != NULL && strcmp(s->labels[1], state) != 0))
			continue;
		f.rows++;
		f.sum += s->value;
		if (strcmp(s->labels[peer_label], VPN_METRICS_OTHERS) == 0) {
			f.others++;
			f.others_value += s->value;
		}
	}
	return f;
}

static struct metrics_snapshot *
collect(struct ike *ike, size_t peer_series)
{
	struct vpn_metrics vm = { ike, NULL, peer_series };
	struct metrics_snapshot *snap = metrics_snapshot_new(0);

	vpn_metrics_source(&vm, snap);
	return snap;
}

static void
test_every_peer_listed_up_to_the_cap(void **state)
{
	struct ike *ike = engine();

	for (size_t cap = 0; cap <= PEERS; cap += PEERS) {	/* 0 (all) and exactly PEERS */
		struct metrics_snapshot *snap = collect(ike, cap);
		struct family up = family(snap, M_TUNNEL_UP, NULL);

		assert_int_equal(up.rows, PEERS);
		assert_int_equal(up.others, 0);
		assert_true(up.sum == UP);
		assert_int_equal(family(snap, M_TUNNEL_INITIATOR, NULL).rows, PEERS);
		assert_int_equal(family(snap, M_DPD_RTT, NULL).rows, PEERS);
		metrics_snapshot_free(snap);
	}
	ike_free(ike);
}

static void
test_above_the_cap_down_peers_listed_the_rest_summed(void **state)
{
	struct ike *ike = engine();
	struct metrics_snapshot *all = collect(ike, 0), *snap = collect(ike, 20);
	struct family up = family(snap, M_TUNNEL_UP, NULL);
	struct family down = family(snap, M_IKE_SA_STATE, "down");
	struct family active = family(snap, M_TUNNEL_ACTIVE_PEER, NULL);

	/* the 10 down peers each, the 40 up ones as one row */
	assert_int_equal(up.rows, (PEERS - UP) + 1);
	assert_int_equal(up.others, 1);
	assert_true(up.others_value == UP);
	assert_true(up.sum == family(all, M_TUNNEL_UP, NULL).sum);
	assert_true(down.sum == family(all, M_IKE_SA_STATE, "down").sum);
	assert_true(down.sum == PEERS);	/* nothing negotiated: every ISAKMP SA down */
	assert_true(active.others_value == UP);
	/* per-peer times only for listed peers; the failover and initiator
	 * rows of unlisted entries summed as well */
	assert_int_equal(family(snap, M_DPD_RTT, NULL).others, 0);
	assert_int_equal(family(snap, M_DPD_RTT, NULL).rows, PEERS - UP);
	assert_int_equal(family(snap, M_TUNNEL_INITIATOR, NULL).rows, (PEERS - UP) + 1);
	assert_true(family(snap, M_FAILOVER_FAILOVERS, NULL).sum ==
		    family(all, M_FAILOVER_FAILOVERS, NULL).sum);
	metrics_snapshot_free(all);
	metrics_snapshot_free(snap);
	ike_free(ike);
}

static void
test_down_peers_beyond_the_cap_are_summed_too(void **state)
{
	struct ike *ike = engine();
	struct metrics_snapshot *snap = collect(ike, 4);
	struct family up = family(snap, M_TUNNEL_UP, NULL);
	struct family down = family(snap, M_IKE_SA_STATE, "down");

	assert_int_equal(up.rows, 4 + 1);	/* 4 of the 10 down peers, and "*" */
	assert_true(up.others_value == UP);
	assert_true(down.others_value == PEERS - 4);
	assert_true(down.sum == PEERS);
	metrics_snapshot_free(snap);
	ike_free(ike);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_peer_listed_up_to_the_cap),
		cmocka_unit_test(test_above_the_cap_down_peers_listed_the_rest_summed),
		cmocka_unit_test(test_down_peers_beyond_the_cap_are_summed_too),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
