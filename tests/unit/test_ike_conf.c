/*
 * From the config model to the engine (agent/ike/ike_conf.c), R-13.7:
 * every value the API accepts reaches the engine whole. A 128-character
 * key for one peer beside a wild card, crypto maps and IKE policies at
 * the API's caps, names and the host name at their longest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <limits.h>

#include <cmocka.h>

#include "ike/ike_conf.h"
#include "ike/ike_int.h"

static int
no_send(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	const uint8_t *msg, size_t len)
{
	return 0;
}

static void
add_psk(struct config *cfg, const char *name, const char *key, uint32_t addr, uint32_t mask)
{
	struct cfg_psk *p;

	cfg->psks = xreallocarray(cfg->psks, cfg->n_psks + 1, sizeof(*cfg->psks));
	p = &cfg->psks[cfg->n_psks++];
	memset(p, 0, sizeof(*p));
	snprintf(p->meta.id, sizeof(p->meta.id), "00000000-0000-4000-8000-%012zu", cfg->n_psks);
	str_copy(p->meta.name, CFG_NAME_MAX, name);
	p->key = xstrdup(key);
	p->addr = addr;
	p->mask = mask;
}

/* A name of exactly len characters: prefix then 'n's. */
static void
long_name(char *out, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	memset(out + n, 'n', len - n);
	out[len] = '\0';
}

/* A key of the most characters the API takes, for one peer, beside a
 * wild card: the engine must answer that peer with the long key, not fall
 * back to the wild card. */
static void
test_psk_full_length(void **state)
{
	struct config *cfg = config_new();
	char key[CFG_PSK_MAX + 1];
	struct ike_transport tr = { NULL, no_send };
	struct ike *ike = ike_new(&tr, NULL);
	const struct ike_psk_conf *k;
	struct ike_conf c;

	memset(key, 'K', CFG_PSK_MAX);
	key[0] = 'a';
	key[CFG_PSK_MAX - 1] = 'z';	/* the last character counts too */
	key[CFG_PSK_MAX] = '\0';
	add_psk(cfg, "psk-any", "wild-card-key", 0, 0);
	add_psk(cfg, "psk-192.0.2.1", key, 0xc0000201, 0xffffffff);

	assert_int_equal(ike_conf_from_config(cfg, htonl(0xc0000264), "gw", &c), 0);
	assert_int_equal(c.npsks, 2);
	ike_configure(ike, &c, 0);
	k = ike_psk_for(ike, htonl(0xc0000201));
	assert_non_null(k);
	assert_int_equal(k->key_len, CFG_PSK_MAX);
	assert_memory_equal(k->key, key, CFG_PSK_MAX);
	/* another peer still gets the wild card */
	k = ike_psk_for(ike, htonl(0xc0000202));
	assert_non_null(k);
	assert_int_equal(k->key_len, strlen("wild-card-key"));
	ike_conf_release(&c);
	ike_free(ike);
	config_free(cfg);
}

/* A crypto map entry at every list cap, names at their longest: all of it
 * arrives, in order. */
static void
test_map_at_caps(void **state)
{
	struct config *cfg = config_new();
	struct cfg_crypto_map *m;
	struct ike_conf c;
	char host[HOST_NAME_MAX + 1];

	cfg->n_transform_sets = CFG_MAP_XFORMS_MAX;
	cfg->transform_sets = xcalloc(CFG_MAP_XFORMS_MAX, sizeof(*cfg->transform_sets));
	cfg->n_crypto_maps = 1;
	cfg->crypto_maps = xcalloc(1, sizeof(*cfg->crypto_maps));
	m = &cfg->crypto_maps[0];
	long_name(m->meta.name, CFG_NAME_MAX - 1, "MAP-");
	m->sequence = 10;
	for (size_t i = 0; i < CFG_MAP_XFORMS_MAX; i++) {
		struct cfg_transform_set *t = &cfg->transform_sets[i];

		snprintf(t->meta.id, sizeof(t->meta.id), "00000000-0000-4000-8000-%012zu", i);
		long_name(t->meta.name, CFG_NAME_MAX - 1, i % 2 ? "GCM-" : "CBC-");
		t->meta.name[4] = (char)('0' + i);
		t->esp = i % 2 ? CFG_ESP_GCM256 : CFG_ESP_AES256;
		t->auth = i % 2 ? CFG_ESP_AUTH_NONE : CFG_ESP_AUTH_SHA256;
		str_copy(m->transform_sets[i].id, UUID_STR_LEN, t->meta.id);
	}
	m->n_transform_sets = CFG_MAP_XFORMS_MAX;
	for (size_t i = 0; i < CFG_PEERS_MAX; i++)
		snprintf(m->peers[i], CFG_HOST_MAX, "192.0.2.%zu", i + 1);
	m->n_peers = CFG_PEERS_MAX;
	for (size_t i = 0; i < CFG_MATCH_MAX; i++) {
		m->match[i].src = (struct cfg_prefix){ 0x0a000000 | (uint32_t)i << 8, 24 };
		m->match[i].dst = (struct cfg_prefix){ 0x0a800000 | (uint32_t)i << 8, 24 };
	}
	m->n_match = CFG_MATCH_MAX;
	m->lifetime_s = 3600;
	m->lifetime_kb = UINT32_MAX;
	m->force_encap = m->initiate = true;
	long_name(host, HOST_NAME_MAX, "gw-");

	assert_int_equal(ike_conf_from_config(cfg, htonl(0xc0000264), host, &c), 0);
	assert_string_equal(c.hostname, host);
	assert_int_equal(c.nmaps, 1);
	assert_string_equal(c.maps[0].name, m->meta.name);
	assert_int_equal(c.maps[0].npeers, CFG_PEERS_MAX);
	assert_int_equal(c.maps[0].peers_be[CFG_PEERS_MAX - 1], htonl(0xc0000200 | CFG_PEERS_MAX));
	assert_int_equal(c.maps[0].nxforms, CFG_MAP_XFORMS_MAX);
	for (size_t i = 0; i < CFG_MAP_XFORMS_MAX; i++)
		assert_string_equal(c.maps[0].xforms[i].name, cfg->transform_sets[i].meta.name);
	assert_int_equal(c.maps[0].nsel, CFG_MATCH_MAX);
	assert_int_equal(c.maps[0].sel[CFG_MATCH_MAX - 1].dst_be,
			 htonl(0x0a800000 | (CFG_MATCH_MAX - 1) << 8));
	assert_int_equal(c.maps[0].lifetime_kb, UINT32_MAX);
	ike_conf_release(&c);
	config_free(cfg);
}

/* As many IKE policies as the API takes: every one is proposed. */
static void
test_policies_at_cap(void **state)
{
	struct config *cfg = config_new();
	struct ike_conf c;

	cfg->n_ike_policies = CFG_IKE_POLICIES_MAX;
	cfg->ike_policies = xcalloc(CFG_IKE_POLICIES_MAX, sizeof(*cfg->ike_policies));
	for (size_t i = 0; i < CFG_IKE_POLICIES_MAX; i++) {
		struct cfg_ike_policy *p = &cfg->ike_policies[i];

		p->priority = 10000 - (unsigned)i;
		p->encryption = CFG_IKE_ENC_AES256;
		p->hash = CFG_IKE_HASH_SHA256;
		p->group = 14;
		p->lifetime_s = 86400;
	}
	assert_int_equal(ike_conf_from_config(cfg, htonl(0xc0000264), "gw", &c), 0);
	assert_int_equal(c.npolicies, CFG_IKE_POLICIES_MAX);
	assert_int_equal(c.policies[CFG_IKE_POLICIES_MAX - 1].priority,
			 10000 - (CFG_IKE_POLICIES_MAX - 1));
	ike_conf_release(&c);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_full_length),
		cmocka_unit_test(test_map_at_caps),
		cmocka_unit_test(test_policies_at_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
