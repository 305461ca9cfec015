/*
 * The config model's lifecycle (agent/core/config.c): empty configs, deep
 * copies that share nothing with the original, frees that cope with every
 * shape, and lookups by id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

static void
fill(struct config *c)
{
	c->n_networks = 2;
	c->networks = xcalloc(2, sizeof(*c->networks));
	str_copy(c->networks[0].meta.id, UUID_STR_LEN, "11111111-1111-4111-8111-111111111111");
	str_copy(c->networks[0].meta.name, CFG_NAME_MAX, "collector");
	c->networks[0].meta.description = xstrdup("the collector");
	str_copy(c->networks[0].value, CFG_HOST_MAX, "10.1.1.1");
	str_copy(c->networks[1].meta.id, UUID_STR_LEN, "22222222-2222-4222-8222-222222222222");
	str_copy(c->networks[1].meta.name, CFG_NAME_MAX, "dns");
	c->networks[1].subtype = CFG_NET_FQDN;
	str_copy(c->networks[1].value, CFG_HOST_MAX, "collector.example.com");

	c->n_internal_certs = 1;
	c->internal_certs = xcalloc(1, sizeof(*c->internal_certs));
	str_copy(c->internal_certs[0].meta.id, UUID_STR_LEN,
		 "33333333-3333-4333-8333-333333333333");
	c->internal_certs[0].cert_pem = xstrdup("-----BEGIN CERTIFICATE-----\n");
	c->internal_certs[0].key_pem = xstrdup("-----BEGIN PRIVATE KEY-----\n");

	c->n_ca_certs = 1;
	c->ca_certs = xcalloc(1, sizeof(*c->ca_certs));
	str_copy(c->ca_certs[0].meta.id, UUID_STR_LEN, "44444444-4444-4444-8444-444444444444");
	c->ca_certs[0].cert_pem = xstrdup("-----BEGIN CERTIFICATE-----\nca\n");

	c->telemetry = xcalloc(1, sizeof(*c->telemetry));
	str_copy(c->telemetry->meta.name, CFG_NAME_MAX, "tel");
	c->telemetry->port = 50051;
	str_copy(c->telemetry->target_host.id, UUID_STR_LEN, c->networks[0].meta.id);
	c->telemetry->retry_interval_s = 300;
	c->telemetry->min_interval_s = 60;
}

static void
test_new_is_empty(void **state)
{
	struct config *c = config_new();

	assert_int_equal(c->n_networks, 0);
	assert_null(c->networks);
	assert_int_equal(c->n_internal_certs, 0);
	assert_int_equal(c->n_ca_certs, 0);
	assert_null(c->telemetry);
	assert_null(config_network_by_id(c, "x"));
	config_free(c);
	config_free(NULL);
}

static void
test_dup_empty(void **state)
{
	struct config *c = config_new(), *d = config_dup(c);

	assert_non_null(d);
	assert_ptr_not_equal(c, d);
	assert_null(d->networks);
	assert_null(d->telemetry);
	config_free(c);
	config_free(d);
}

static void
test_dup_is_deep(void **state)
{
	struct config *c = config_new(), *d;

	fill(c);
	d = config_dup(c);
	assert_int_equal(d->n_networks, 2);
	assert_ptr_not_equal(d->networks, c->networks);
	assert_string_equal(d->networks[0].meta.name, "collector");
	assert_ptr_not_equal(d->networks[0].meta.description, c->networks[0].meta.description);
	assert_string_equal(d->networks[0].meta.description, "the collector");
	assert_null(d->networks[1].meta.description);
	assert_int_equal(d->networks[1].subtype, CFG_NET_FQDN);
	assert_ptr_not_equal(d->internal_certs[0].key_pem, c->internal_certs[0].key_pem);
	assert_string_equal(d->internal_certs[0].key_pem, c->internal_certs[0].key_pem);
	assert_ptr_not_equal(d->ca_certs[0].cert_pem, c->ca_certs[0].cert_pem);
	assert_non_null(d->telemetry);
	assert_ptr_not_equal(d->telemetry, c->telemetry);
	assert_int_equal(d->telemetry->port, 50051);
	assert_string_equal(d->telemetry->target_host.id, c->networks[0].meta.id);

	/* Changing the copy leaves the original alone. */
	d->networks[0].meta.description[0] = 'X';
	str_copy(d->networks[0].value, CFG_HOST_MAX, "10.9.9.9");
	d->telemetry->port = 1;
	assert_string_equal(c->networks[0].meta.description, "the collector");
	assert_string_equal(c->networks[0].value, "10.1.1.1");
	assert_int_equal(c->telemetry->port, 50051);

	config_free(c);	/* the copy outlives the original */
	assert_string_equal(d->internal_certs[0].key_pem, "-----BEGIN PRIVATE KEY-----\n");
	config_free(d);
}

static void
test_lookups(void **state)
{
	struct config *c = config_new();

	fill(c);
	assert_ptr_equal(config_network_by_id(c, "22222222-2222-4222-8222-222222222222"),
			 &c->networks[1]);
	assert_null(config_network_by_id(c, "33333333-3333-4333-8333-333333333333"));
	assert_ptr_equal(config_internal_cert_by_id(c, "33333333-3333-4333-8333-333333333333"),
			 &c->internal_certs[0]);
	assert_null(config_internal_cert_by_id(c, "44444444-4444-4444-8444-444444444444"));
	assert_ptr_equal(config_ca_cert_by_id(c, "44444444-4444-4444-8444-444444444444"),
			 &c->ca_certs[0]);
	assert_null(config_ca_cert_by_id(c, ""));
	config_free(c);
}

static void
test_subtype_names(void **state)
{
	assert_string_equal(cfg_net_subtype_names[CFG_NET_HOST], "HOST");
	assert_string_equal(cfg_net_subtype_names[CFG_NET_FQDN], "FQDN");
}

static void
test_free_partial(void **state)
{
	struct config *c = config_new();

	/* Objects with no heap members at all, as a fresh decode leaves them. */
	c->n_internal_certs = 1;
	c->internal_certs = xcalloc(1, sizeof(*c->internal_certs));
	c->telemetry = xcalloc(1, sizeof(*c->telemetry));
	config_free(config_dup(c));
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_is_empty),
		cmocka_unit_test(test_dup_empty),
		cmocka_unit_test(test_dup_is_deep),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_subtype_names),
		cmocka_unit_test(test_free_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
