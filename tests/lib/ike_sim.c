/*
 * The in-process IKE test wire and clock (see ike_sim.h).
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

struct peer peers[NPEERS];
struct pkt  queue[QMAX];
size_t      qhead, qtail;
int64_t     now_ms;
uint64_t    keepalives_seen;
int         test_pfs, test_fqdn, test_force_encap;
struct ike_selector test_sel[NPEERS];
int         test_transport;
unsigned    test_ike_life = 86400, test_child_life = 3600;
int         test_initiator;
int         test_both_initiate;
struct sim_auth test_auth[NPEERS];
int       (*sim_tap)(const struct pkt *p);
uint16_t    nat_port[NPEERS];
uint32_t    nat_addr[NPEERS];
static uint16_t nat_inner[NPEERS];	/* the port behind nat_port */

int
peer_of(uint32_t be)
{
	for (int i = 0; i < NPEERS; i++)
		if (peers[i].addr_be == be)
			return i;
	return -1;
}

int
peer_at(uint32_t be, uint16_t client_port)
{
	for (int i = 0; i < NPEERS; i++)
		if (nat_addr[i] != 0 && nat_addr[i] == be &&
		    (client_port == 0 || nat_port[i] == client_port))
			return i;
	return peer_of(be);
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
	p->to = peer_at(dst_be, dst_port);
	p->from = (int)(from - peers);
	p->dport = dst_port;
	p->sport = local_port;
	p->src_be = from->addr_be;
	p->len = len;
	memcpy(p->data, msg, len);
	if (nat_port[p->from] != 0) {
		nat_inner[p->from] = local_port;
		p->sport = nat_port[p->from];
	}
	if (nat_addr[p->from] != 0)
		p->src_be = nat_addr[p->from];
	if (sim_tap != NULL && sim_tap(p))
		return 0;	/* lost on the wire */
	qtail++;
	return 0;
}

static void
dp_install(void *ctx, const struct ike_child_sa *sa)
{
	struct peer *p = ctx;

	p->last_installed = *sa;
	/* the keys live during the call only: keep a copy */
	memcpy(p->last_key_in, sa->key_in, sa->key_len);
	memcpy(p->last_key_out, sa->key_out, sa->key_len);
	p->last_installed.key_in = p->last_key_in;
	p->last_installed.key_out = p->last_key_out;
	p->installed++;
	if (p->npairs < (int)(sizeof(p->pairs) / sizeof(p->pairs[0]))) {
		p->pairs[p->npairs].in = sa->spi_in;
		p->pairs[p->npairs].out = sa->spi_out;
		p->pairs[p->npairs++].sends = !sa->outbound_later;
	}
}

static void
dp_activate(void *ctx, uint32_t spi_in)
{
	struct peer *p = ctx;

	p->activated++;
	for (int i = 0; i < p->npairs; i++) {
		if (p->pairs[i].in == spi_in)
			p->pairs[i].sends = 1;
	}
}

static void
dp_remove(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
	struct peer *p = ctx;

	p->removed++;
	for (int i = 0; i < p->npairs; i++) {
		if (p->pairs[i].in == spi_in && p->pairs[i].out == spi_out) {
			p->pairs[i] = p->pairs[--p->npairs];
			break;
		}
	}
}

static int
dp_traffic(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t *last_in, int64_t *first_out)
{
	struct peer *p = ctx;
	int j = peer_at(peer_be, client_port);

	if (j < 0)
		return -1;
	*last_in = p->rec[j].last_in;
	*first_out = p->rec[j].first_out;
	return 0;
}

static void
dp_alive(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t at)
{
	struct peer *p = ctx;
	int j = peer_at(peer_be, client_port);

	if (j >= 0 && p->rec[j].last_in < at)
		p->rec[j].last_in = at;
}

static void
dp_watch(void *ctx, uint32_t peer_be, uint16_t client_port)
{
	struct peer *p = ctx;
	int j = peer_at(peer_be, client_port);

	if (j >= 0) {
		p->rec[j].watch = 1;
		p->rec[j].watch_be = peer_be;
		p->rec[j].watch_port = client_port;
	}
}

void
esp_from(int i, int j)
{
	if (peers[i].rec[j].last_in < now_ms)
		peers[i].rec[j].last_in = now_ms;
}

void
esp_to(int i, int j)
{
	struct sim_record *r = &peers[i].rec[j];

	if (r->first_out > r->last_in)
		return;
	r->first_out = now_ms;
	if (r->watch) {
		r->watch = 0;
		peers[i].outbound_calls++;
		ike_peer_outbound(peers[i].ike, r->watch_be, r->watch_port, now_ms);
	}
}

void
deliver(void)
{
	while (qhead != qtail) {
		struct pkt *p = &queue[qhead % QMAX];

		qhead++;
		if (p->to < 0 || peers[p->to].frozen)
			continue;	/* lost */
		if (nat_port[p->to] != 0 && p->dport == nat_port[p->to])
			p->dport = nat_inner[p->to];
		ike_input(peers[p->to].ike, p->dport, p->src_be, p->sport, p->data, p->len, now_ms);
	}
}

int64_t
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

void
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

uint32_t
ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct ike_psk_conf psk_any;
static struct ike_map_conf maps[NPEERS];

static void
auth_conf(const struct sim_auth *a, struct ike_conf *c)
{
	c->policies[0].auth = a->auth;
	if (a->auth2 != 0) {
		c->policies[1] = c->policies[0];
		c->policies[1].priority = 20;
		c->policies[1].auth = a->auth2;
		c->npolicies = 2;
	}
	c->cert_pem = a->cert;
	c->key_pem = a->key;
	c->cas_pem = a->cas;
	c->crls_pem = a->crls;
	c->identity_dn = a->identity_dn;
	if (a->fqdn != NULL) {
		c->identity_fqdn = 1;
		snprintf(c->hostname, sizeof(c->hostname), "%s", a->fqdn);
	}
}

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
	m->xforms[0] = (struct ike_xform_conf){ .cipher = ESP_CIPHER_AES_CBC, .key_len = 16,
						.auth = ESP_AUTH_HMAC_SHA256_128 };
	m->nsel = 1;
	/* Site 0 protects 10.1.0.0/16, the others 10.2.0.0/16. */
	m->sel[0].src_be = ip(i == 0 ? "10.1.0.0" : "10.2.0.0");
	m->sel[0].dst_be = ip(i == 0 ? "10.2.0.0" : "10.1.0.0");
	m->sel[0].src_mask_be = m->sel[0].dst_mask_be = ip("255.255.0.0");
	if (test_sel[i].src_mask_be != 0)
		m->sel[0] = test_sel[i];
	m->xforms[0].transport = test_transport;
	m->pfs_group = test_pfs;
	m->force_encap = test_force_encap;
	if (test_fqdn && i == 0) {
		c->identity_fqdn = 1;
		snprintf(c->hostname, sizeof(c->hostname), "site-a.example.net");
	}
	auth_conf(&test_auth[i], c);
	m->lifetime_s = test_child_life;
	m->lifetime_kb = 4608000;
	m->initiate = initiate;
	c->maps = m;
	c->nmaps = 1;
}

void
setup_peers(int n, enum dpd_mode mode, int a_failover)
{
	static const char *addrs[NPEERS] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };

	memset(peers, 0, sizeof(peers));
	qhead = qtail = 0;
	keepalives_seen = 0;
	now_ms = 1000000;
	for (int i = 0; i < n; i++) {
		struct ike_transport tr = { &peers[i], fake_send };
		struct ike_dataplane dp = { .ctx = &peers[i], .install = dp_install,
					    .activate = dp_activate, .remove = dp_remove,
					    .traffic = dp_traffic, .alive = dp_alive,
					    .watch = dp_watch };

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
		conf_for(i, &c, list, nl, i == test_initiator || (test_both_initiate && i < 2),
			 mode);
		ike_configure(peers[i].ike, &c, now_ms);
	}
}

int
teardown_peers(void **state)
{
	test_pfs = test_fqdn = test_force_encap = test_transport = 0;
	memset(test_sel, 0, sizeof(test_sel));
	test_initiator = test_both_initiate = 0;
	memset(test_auth, 0, sizeof(test_auth));
	sim_tap = NULL;
	memset(nat_port, 0, sizeof(nat_port));
	memset(nat_addr, 0, sizeof(nat_addr));
	test_ike_life = 86400;
	test_child_life = 3600;
	for (int i = 0; i < NPEERS; i++)
		ike_free(peers[i].ike);
	memset(peers, 0, sizeof(peers));
	return 0;
}

struct ike_sa *
established_sa(int i)
{
	struct ike_tunnel *t = peers[i].ike->ntunnels ? &peers[i].ike->tunnels[0] : NULL;

	return t && t->sa && t->sa->state == SA_ESTABLISHED ? t->sa : NULL;
}

uint64_t
drops(int i)
{
	uint64_t n = 0;

	for (int r = 0; r < IKE_DROP__COUNT; r++)
		n += peers[i].ike->st.drops[r];
	return n;
}
