/*
 * The certificate family (agent/metrics/cert.c, R-16.3) over a config
 * whose certificates have known notAfter times: one row per certificate
 * of the IKE certificate's PEM, each trusted CA and the telemetry pair,
 * exact labels and values counted from the snapshot's timestamp; one
 * series per (use, subject); read at update, not per scrape; the cap;
 * both encoders and the family filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "metrics/cert.h"
#include "metrics/metrics.h"
#include "telemetry.pb-c.h"
#include "test_pki.h"

#define DAY 86400
#define TEST_UUID "6f1e5f2a-3b8c-4d2e-9a41-0c7d5e8f9b10"

#define ID_GW     "10000000-0000-4000-8000-000000000001"
#define ID_CLIENT "10000000-0000-4000-8000-000000000002"
#define ID_ROOT   "20000000-0000-4000-8000-000000000001"
#define ID_BUNDLE "20000000-0000-4000-8000-000000000002"
#define ID_COLL   "20000000-0000-4000-8000-000000000003"
#define ID_NET    "30000000-0000-4000-8000-000000000001"

/* Certificates with known notAfter, relative to now (whole seconds). */
struct pki {
	int64_t now;
	char   *root;		/* "IKE Root", now + 400 days */
	char   *gw_chain;	/* "gw.example.net" (now + 20 days), then "IKE Root" */
	char   *gw_key;
	char   *bundle;		/* "Old CA" expired 2 days ago, "New CA" now + 3 days */
	char   *client;		/* the telemetry client, now + 10 days */
	char   *client_key;
	char   *coll_ca;	/* "Collector CA", now + 1000 days */
};

static char *
concat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	assert_non_null(s);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

static char *
ca_pem_until(const char *cn, int64_t not_after)
{
	struct test_pki_ca *ca = test_pki_ca_new_until(cn, not_after);
	char *pem;

	assert_non_null(ca);
	assert_non_null(pem = test_pki_ca_pem(ca));
	test_pki_ca_free(ca);
	return pem;
}

static int
setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	struct test_pki_ca *root;
	char *gw, *old_ca, *new_ca;

	assert_non_null(p);
	p->now = (int64_t)time(NULL);
	assert_non_null(root = test_pki_ca_new_until("IKE Root", p->now + 400 * DAY));
	assert_non_null(p->root = test_pki_ca_pem(root));
	assert_int_equal(test_pki_leaf_until(root, "gw.example.net", TEST_PKI_EC_P256,
					     p->now + 20 * DAY, &gw, &p->gw_key), 0);
	p->gw_chain = concat(gw, p->root);
	old_ca = ca_pem_until("Old CA", p->now - 2 * DAY);
	new_ca = ca_pem_until("New CA", p->now + 3 * DAY);
	p->bundle = concat(old_ca, new_ca);
	assert_int_equal(test_pki_leaf_until(NULL, TEST_UUID, TEST_PKI_EC_P256,
					     p->now + 10 * DAY, &p->client, &p->client_key), 0);
	p->coll_ca = ca_pem_until("Collector CA", p->now + 1000 * DAY);
	free(gw);
	free(old_ca);
	free(new_ca);
	test_pki_ca_free(root);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pki *p = *state;

	free(p->root);
	free(p->gw_chain);
	free(p->gw_key);
	free(p->bundle);
	free(p->client);
	free(p->client_key);
	free(p->coll_ca);
	free(p);
	return 0;
}

/* ---- building configs -------------------------------------------------- */

static void
add_internal(struct config *c, const char *id, const char *cert, const char *key)
{
	struct cfg_internal_cert *ic;

	c->internal_certs = xreallocarray(c->internal_certs, c->n_internal_certs + 1,
					  sizeof(*c->internal_certs));
	ic = &c->internal_certs[c->n_internal_certs++];
	memset(ic, 0, sizeof(*ic));
	str_copy(ic->meta.id, UUID_STR_LEN, id);
	ic->cert_pem = xstrdup(cert);
	ic->key_pem = xstrdup(key);
}

static void
add_ca(struct config *c, const char *id, const char *cert)
{
	struct cfg_ca_cert *ca;

	c->ca_certs = xreallocarray(c->ca_certs, c->n_ca_certs + 1, sizeof(*c->ca_certs));
	ca = &c->ca_certs[c->n_ca_certs++];
	memset(ca, 0, sizeof(*ca));
	str_copy(ca->meta.id, UUID_STR_LEN, id);
	ca->cert_pem = xstrdup(cert);
}

static void
trust(struct config *c, const char *id)
{
	str_copy(c->ike.trusted_cas[c->ike.n_trusted_cas++].id, UUID_STR_LEN, id);
}

static void
telemetry(struct config *c, const char *client_id, const char *ca_id)
{
	c->telemetry = xcalloc(1, sizeof(*c->telemetry));
	c->telemetry->port = 50051;
	str_copy(c->telemetry->target_host.id, UUID_STR_LEN, ID_NET);
	str_copy(c->telemetry->client_cert.id, UUID_STR_LEN, client_id);
	str_copy(c->telemetry->ca_cert.id, UUID_STR_LEN, ca_id);
}

/* The IKE certificate with its chain, the root and the bundle trusted,
 * telemetry with its client certificate and the collector's CA. */
static struct config *
full_config(const struct pki *p)
{
	struct config *c = config_new();

	add_internal(c, ID_GW, p->gw_chain, p->gw_key);
	add_internal(c, ID_CLIENT, p->client, p->client_key);
	add_ca(c, ID_ROOT, p->root);
	add_ca(c, ID_BUNDLE, p->bundle);
	add_ca(c, ID_COLL, p->coll_ca);
	str_copy(c->ike.certificate.id, UUID_STR_LEN, ID_GW);
	trust(c, ID_ROOT);
	trust(c, ID_BUNDLE);
	telemetry(c, ID_CLIENT, ID_COLL);
	return c;
}

/* ---- checking rows ----------------------------------------------------- */

struct want {
	const char *use, *subject;
	int64_t     days;	/* notAfter - now, in days */
};

/* The snapshot is taken 250 ms after the test's now, so each value is
 * exactly days * 86400 - 0.25. */
static struct metrics_snapshot *
collect(struct cert_metrics *cm, const struct pki *p)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(p->now * 1000 + 250);

	cert_metrics_source(cm, snap);
	return snap;
}

static void
rows_equal(const struct metrics_snapshot *snap, const struct want *want, size_t n)
{
	if (snap->n != n) {
		for (size_t i = 0; i < snap->n; i++)
			print_message("row %zu: use=%s subject=%s %.3f\n", i,
				      snap->samples[i].labels[0], snap->samples[i].labels[1],
				      snap->samples[i].value);
		fail_msg("%zu rows, want %zu", snap->n, n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct metric_sample *s = &snap->samples[i];

		assert_int_equal(s->id, M_CERTIFICATE_EXPIRY);
		assert_string_equal(s->labels[0], want[i].use);
		assert_string_equal(s->labels[1], want[i].subject);
		if (s->value != (double)want[i].days * DAY - 0.25)
			fail_msg("%s %s: %.3f, want %.3f", want[i].use, want[i].subject, s->value,
				 (double)want[i].days * DAY - 0.25);
	}
}

/* ---- tests ------------------------------------------------------------- */

static void
test_rows_exact(void **state)
{
	const struct pki *p = *state;
	struct config *c = full_config(p);
	struct cert_metrics *cm = cert_metrics_new();
	struct metrics_snapshot *snap;
	/* The IKE PEM's chain holds IKE Root, which is also trusted: one row. */
	const struct want want[] = {
		{ "ike", "CN=gw.example.net,O=Example", 20 },
		{ "ike", "CN=IKE Root,O=Example", 400 },
		{ "ike", "CN=Old CA,O=Example", -2 },
		{ "ike", "CN=New CA,O=Example", 3 },
		{ "telemetry", "CN=" TEST_UUID ",O=Example", 10 },
		{ "telemetry", "CN=Collector CA,O=Example", 1000 },
	};

	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	rows_equal(snap, want, ARRAY_LEN(want));
	metrics_snapshot_free(snap);
	cert_metrics_free(cm);
	config_free(c);
}

/* One CA for both uses: a row for each use. Same subject twice in one use:
 * the earlier notAfter, wherever it comes. */
static void
test_same_subject(void **state)
{
	const struct pki *p = *state;
	struct config *c = config_new();
	struct cert_metrics *cm = cert_metrics_new();
	struct metrics_snapshot *snap;
	char *old_root = ca_pem_until("IKE Root", p->now + 30 * DAY), *both;
	const struct want want[] = {
		{ "ike", "CN=IKE Root,O=Example", 30 },
		{ "telemetry", "CN=" TEST_UUID ",O=Example", 10 },
		{ "telemetry", "CN=IKE Root,O=Example", 400 },
	};

	both = concat(p->root, old_root);	/* the renewal first, the old one after */
	add_internal(c, ID_CLIENT, p->client, p->client_key);
	add_ca(c, ID_ROOT, p->root);
	add_ca(c, ID_BUNDLE, both);
	trust(c, ID_ROOT);
	trust(c, ID_BUNDLE);
	telemetry(c, ID_CLIENT, ID_ROOT);
	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	rows_equal(snap, want, ARRAY_LEN(want));
	metrics_snapshot_free(snap);
	cert_metrics_free(cm);
	config_free(c);
	free(both);
	free(old_root);
}

/* Nothing configured, or references that lead nowhere: no rows. */
static void
test_nothing_configured(void **state)
{
	const struct pki *p = *state;
	struct config *c = config_new();
	struct cert_metrics *cm = cert_metrics_new();
	struct metrics_snapshot *snap;

	snap = collect(cm, p);		/* before any update */
	assert_int_equal(snap->n, 0);
	metrics_snapshot_free(snap);

	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	assert_int_equal(snap->n, 0);
	metrics_snapshot_free(snap);

	/* stored certificates nothing uses are not listed */
	add_internal(c, ID_GW, p->gw_chain, p->gw_key);
	add_ca(c, ID_ROOT, p->root);
	str_copy(c->ike.certificate.id, UUID_STR_LEN, ID_CLIENT);
	telemetry(c, ID_CLIENT, ID_BUNDLE);
	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	assert_int_equal(snap->n, 0);
	metrics_snapshot_free(snap);
	cert_metrics_free(cm);
	config_free(c);
}

/* A scrape shows what the last update read: the config changing under it
 * is seen at the next update only (the PEMs are not parsed per scrape). */
static void
test_update_replaces(void **state)
{
	const struct pki *p = *state;
	struct config *c = full_config(p);
	struct cert_metrics *cm = cert_metrics_new();
	struct metrics_snapshot *snap;
	const struct want ike_only[] = {
		{ "ike", "CN=gw.example.net,O=Example", 20 },
		{ "ike", "CN=IKE Root,O=Example", 400 },
		{ "ike", "CN=Old CA,O=Example", -2 },
		{ "ike", "CN=New CA,O=Example", 3 },
	};
	const struct want root_only[] = {
		{ "ike", "CN=IKE Root,O=Example", 400 },
	};

	cert_metrics_update(cm, c);
	free(c->telemetry);
	c->telemetry = NULL;
	snap = collect(cm, p);
	assert_int_equal(snap->n, 6);
	metrics_snapshot_free(snap);

	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	rows_equal(snap, ike_only, ARRAY_LEN(ike_only));
	metrics_snapshot_free(snap);

	c->ike.certificate.id[0] = '\0';
	c->ike.n_trusted_cas = 1;
	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	rows_equal(snap, root_only, ARRAY_LEN(root_only));
	metrics_snapshot_free(snap);
	cert_metrics_free(cm);
	config_free(c);
}

/* 16 trusted bundles of 9 CAs each: the first CERT_METRICS_MAX are listed. */
static void
test_cap(void **state)
{
	const struct pki *p = *state;
	struct config *c = config_new();
	struct cert_metrics *cm = cert_metrics_new();
	struct metrics_snapshot *snap;
	char id[UUID_STR_LEN], cn[64];

	assert_true(CFG_IKE_CAS_MAX * 9 > CERT_METRICS_MAX);
	for (int b = 0; b < CFG_IKE_CAS_MAX; b++) {
		char *bundle = calloc(1, 1);

		assert_non_null(bundle);
		for (int i = 0; i < 9; i++) {
			char *ca, *next;

			snprintf(cn, sizeof(cn), "CA %d.%d", b, i);
			ca = ca_pem_until(cn, p->now + (b * 9 + i + 1) * (int64_t)DAY);
			next = concat(bundle, ca);
			free(bundle);
			free(ca);
			bundle = next;
		}
		snprintf(id, sizeof(id), "20000000-0000-4000-8000-0000000001%02u", (unsigned)b % 100);
		add_ca(c, id, bundle);
		trust(c, id);
		free(bundle);
	}
	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	assert_int_equal(snap->n, CERT_METRICS_MAX);
	for (size_t i = 0; i < snap->n; i++) {
		snprintf(cn, sizeof(cn), "CN=CA %zu.%zu,O=Example", i / 9, i % 9);
		assert_string_equal(snap->samples[i].labels[1], cn);
		assert_true(snap->samples[i].value == (double)(i + 1) * DAY - 0.25);
	}
	metrics_snapshot_free(snap);
	cert_metrics_free(cm);
	config_free(c);
}

/* ---- the two encoders ---------------------------------------------------- */

struct sink {
	size_t               n;
	Proto__DataResponse *msgs[4];
};

static int
sink_collect(void *ctx, uint8_t *buf, size_t len, size_t nmetrics)
{
	struct sink *s = ctx;

	assert_true(s->n < ARRAY_LEN(s->msgs));
	assert_non_null(s->msgs[s->n] = proto__data_response__unpack(NULL, len, buf));
	s->n++;
	free(buf);
	return 0;
}

static void
sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		proto__data_response__free_unpacked(s->msgs[i], NULL);
	s->n = 0;
}

static long
encode(const struct metrics_snapshot *snap, char *family, struct sink *s)
{
	struct metrics_filter f = { 0 };
	long rc;

	metrics_filter_set(&f, &family, 1);
	rc = metrics_pb_encode(snap, TEST_UUID, &f, 65536, sink_collect, s);
	metrics_filter_clear(&f);
	return rc;
}

static void
test_exports(void **state)
{
	const struct pki *p = *state;
	struct config *c = full_config(p);
	struct cert_metrics *cm = cert_metrics_new();
	struct metrics_snapshot *snap;
	struct sink s = { 0 };
	struct strbuf sb;
	const Proto__Metric *m;

	cert_metrics_update(cm, c);
	snap = collect(cm, p);
	metrics_add(snap, M_CPU_OVERALL_UTILISATION, 0.5, NULL);

	strbuf_init(&sb, 1 << 20);
	metrics_prom_render(snap, &sb);
	assert_false(sb.overflow);
	assert_non_null(strstr(sb.data, "# TYPE vpnagent_certificate_expiry_seconds gauge\n"));
	assert_non_null(strstr(sb.data, "\nvpnagent_certificate_expiry_seconds{use=\"ike\","
			       "subject=\"CN=gw.example.net,O=Example\"} 1727999.75\n"));
	assert_non_null(strstr(sb.data, "\nvpnagent_certificate_expiry_seconds{use=\"ike\","
			       "subject=\"CN=Old CA,O=Example\"} -172800.25\n"));
	assert_non_null(strstr(sb.data, "\nvpnagent_certificate_expiry_seconds{use=\"telemetry\","
			       "subject=\"CN=Collector CA,O=Example\"} 86399999.75\n"));
	strbuf_free(&sb);

	/* subscribed to the family: its six rows and nothing else */
	assert_int_equal(encode(snap, "certificate", &s), 6);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.msgs[0]->n_metrics, 6);
	m = s.msgs[0]->metrics[4];
	assert_string_equal(m->metricfamily, "certificate");
	assert_string_equal(m->metrictype, "Gauge");
	assert_int_equal(m->timestamp, p->now * 1000 + 250);
	assert_true(m->value == 10.0 * DAY - 0.25);
	assert_int_equal(m->n_tags, 4);
	assert_string_equal(m->tags[0]->key, "use");
	assert_string_equal(m->tags[0]->value, "telemetry");
	assert_string_equal(m->tags[1]->key, "subject");
	assert_string_equal(m->tags[1]->value, "CN=" TEST_UUID ",O=Example");
	assert_string_equal(m->tags[2]->key, "description");
	assert_string_equal(m->tags[2]->value, "expiry_seconds");
	assert_string_equal(m->tags[3]->key, "uuid");
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(s.msgs[0]->metrics[i]->metricfamily, "certificate");
	sink_clear(&s);

	/* subscribed to another family: none of them */
	assert_int_equal(encode(snap, "cpu", &s), 1);
	assert_string_equal(s.msgs[0]->metrics[0]->metricfamily, "cpu");
	sink_clear(&s);

	metrics_snapshot_free(snap);
	cert_metrics_free(cm);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_exact),
		cmocka_unit_test(test_same_subject),
		cmocka_unit_test(test_nothing_configured),
		cmocka_unit_test(test_update_replaces),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_exports),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
