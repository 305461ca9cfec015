/*
 * Unit tests for the metric registry: catalogue completeness, snapshots and
 * the series cap, the family filter, the Prometheus text renderer (checked
 * by promtool itself) and the protobuf encoder with chunking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "core/strbuf.h"
#include "telemetry.pb-c.h"
#include "metrics_env.h"

#define PROM_MAX (64u << 20)
#define TEST_UUID "6f1e5f2a-3b8c-4d2e-9a41-0c7d5e8f9b10"

static const char *const families[] = {
	"cpu", "memory", "tunnel", "ike", "ike_sa", "ipsec_sa", "dpd", "esp", "failover",
	"telemetry", "process", "build", "remote_access", "certificate", "interface", "disk",
};

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
valid_prom_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_' && *s != ':')
		return 0;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':')
			return 0;
	}
	return 1;
}

static size_t
count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* One sample of every metric, labels "v<i>" in order. */
static struct metrics_snapshot *
snapshot_every_metric(void)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(1700000000123);

	for (int id = 0; id < M__COUNT; id++) {
		const char *vals[METRIC_LABELS_MAX] = { "v0", "v1", "v2", "v3" };

		metrics_add(snap, (enum metric_id)id, (double)id + 0.5, vals);
	}
	return snap;
}

static char *
render(const struct metrics_snapshot *snap)
{
	struct strbuf sb;
	char *text;

	strbuf_init(&sb, PROM_MAX);
	metrics_prom_render(snap, &sb);
	assert_false(sb.overflow);
	text = strdup(sb.data != NULL ? sb.data : "");
	strbuf_free(&sb);
	assert_non_null(text);
	return text;
}

/* ---- catalogue ------------------------------------------------------ */

static void
test_catalog_rows_complete(void **state)
{
	for (int id = 0; id < M__COUNT; id++) {
		const struct metric_def *d = &metric_defs[id];
		int known = 0;

		assert_non_null(d->family);
		assert_non_null(d->description);
		assert_non_null(d->prom_name);
		assert_non_null(d->help);
		assert_true(d->family[0] && d->description[0] && d->prom_name[0] && d->help[0]);
		assert_null(d->labels[METRIC_LABELS_MAX]);
		assert_true(metric_def_nlabels(d) <= METRIC_LABELS_MAX);
		assert_true(d->type == METRIC_GAUGE || d->type == METRIC_COUNTER);
		assert_true(valid_prom_name(d->prom_name));
		if (d->type == METRIC_COUNTER)
			assert_true(ends_with(d->prom_name, "_total"));
		else
			assert_false(ends_with(d->prom_name, "_total"));
		for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
			known |= strcmp(d->family, families[f]) == 0;
		assert_true(known);
		for (size_t i = 0; i < metric_def_nlabels(d); i++) {
			assert_true(valid_prom_name(d->labels[i]));
			/* These two are protobuf tags the encoder adds itself. */
			assert_string_not_equal(d->labels[i], "uuid");
			assert_string_not_equal(d->labels[i], "description");
		}
		assert_ptr_equal(metric_def_lookup(d->family, d->description), d);
	}
	assert_null(metric_def_lookup("cpu", "no_such_metric"));
	assert_string_equal(metric_type_names[METRIC_GAUGE], "Gauge");
	assert_string_equal(metric_type_names[METRIC_COUNTER], "Counter");
}

/* METRICS.md: vpnagent_<family>_..., except the standard process_* names. */
static void
test_catalog_names_follow_family(void **state)
{
	for (int id = 0; id < M__COUNT; id++) {
		const struct metric_def *d = &metric_defs[id];
		char prefix[128];

		if (strcmp(d->family, "process") == 0) {
			assert_int_equal(strncmp(d->prom_name, "process_", 8), 0);
			continue;
		}
		snprintf(prefix, sizeof(prefix), "vpnagent_%s_", d->family);
		if (strncmp(d->prom_name, prefix, strlen(prefix)) != 0)
			fail_msg("%s does not start with %s", d->prom_name, prefix);
		for (int j = id + 1; j < M__COUNT; j++) {
			assert_string_not_equal(d->prom_name, metric_defs[j].prom_name);
			assert_false(strcmp(d->family, metric_defs[j].family) == 0 &&
				     strcmp(d->description, metric_defs[j].description) == 0);
		}
	}
}

/* ---- snapshots, registry, filter ----------------------------------- */

static void
test_snapshot_copies_labels(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(42);
	char cpu[8] = "3";

	metrics_add(snap, M_CPU_SECONDS, 1.5, (const char *[]){ cpu, "user" });
	cpu[0] = '9';
	/* NULL label values become "". */
	metrics_add(snap, M_TELEMETRY_ERRORS, 2, (const char *[]){ NULL });
	assert_int_equal(snap->n, 2);
	assert_int_equal(snap->timestamp_ms, 42);
	assert_string_equal(snap->samples[0].labels[0], "3");
	assert_string_equal(snap->samples[0].labels[1], "user");
	assert_null(snap->samples[0].labels[2]);
	assert_string_equal(snap->samples[1].labels[0], "");
	metrics_snapshot_free(snap);
	metrics_snapshot_free(NULL);
}

static void
test_snapshot_long_label(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	size_t n = 20000;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = '\0';
	metrics_add(snap, M_BUILD_INFO, 1, (const char *[]){ big });
	metrics_add(snap, M_BUILD_INFO, 1, (const char *[]){ "small" });
	assert_int_equal(strlen(snap->samples[0].labels[0]), n);
	assert_string_equal(snap->samples[1].labels[0], "small");
	free(big);
	metrics_snapshot_free(snap);
}

struct counters {
	uint64_t sent, acks;
};

static void
test_add_fields(void **state)
{
	static const struct metric_field fields[] = {
		{ M_TELEMETRY_BATCHES_SENT, offsetof(struct counters, sent) },
		{ M_TELEMETRY_ACKS_RECEIVED, offsetof(struct counters, acks) },
	};
	struct counters c = { 7, 9 };
	struct metrics_snapshot *snap = metrics_snapshot_new(0);

	metrics_add_fields(snap, fields, 2, &c, NULL);
	assert_int_equal(snap->n, 2);
	assert_int_equal(snap->samples[0].id, M_TELEMETRY_BATCHES_SENT);
	assert_true(snap->samples[0].value == 7);
	assert_int_equal(snap->samples[1].id, M_TELEMETRY_ACKS_RECEIVED);
	assert_true(snap->samples[1].value == 9);
	metrics_snapshot_free(snap);
}

static void
source_a(void *ctx, struct metrics_snapshot *snap)
{
	(*(int *)ctx)++;
	metrics_add(snap, M_TELEMETRY_CONNECTED, 1, NULL);
}

static void
source_flood(void *ctx, struct metrics_snapshot *snap)
{
	size_t extra = *(size_t *)ctx;

	for (size_t i = 0; i < METRICS_SERIES_MAX + extra; i++)
		metrics_add(snap, M_TELEMETRY_BUFFERED_METRICS, (double)i, NULL);
}

static void
test_registry_collects_in_order(void **state)
{
	struct metrics_registry *reg = metrics_registry_new();
	struct metrics_snapshot *snap;
	int calls = 0;

	metrics_registry_add(reg, source_a, &calls);
	metrics_registry_add(reg, source_a, &calls);
	snap = metrics_registry_collect(reg);
	assert_int_equal(calls, 2);
	assert_int_equal(snap->n, 2);
	assert_int_equal(snap->dropped, 0);
	assert_true(snap->timestamp_ms > 1600000000000);
	metrics_snapshot_free(snap);
	metrics_registry_free(reg);
	metrics_registry_free(NULL);
}

static void
test_series_cap_counts_drops(void **state)
{
	struct metrics_registry *reg = metrics_registry_new();
	struct metrics_snapshot *snap;
	size_t extra = 5;

	metrics_registry_add(reg, source_flood, &extra);
	snap = metrics_registry_collect(reg);
	assert_int_equal(snap->dropped, 5);
	/* The cap's own counter still gets in, as the last sample. */
	assert_int_equal(snap->n, METRICS_SERIES_MAX + 1);
	assert_int_equal(snap->samples[snap->n - 1].id, M_METRICS_SERIES_DROPPED);
	assert_true(snap->samples[snap->n - 1].value == 5);
	assert_true(snap->samples[METRICS_SERIES_MAX - 1].value == METRICS_SERIES_MAX - 1);
	metrics_snapshot_free(snap);

	/* A counter: the next snapshot's drops add to the total. */
	extra = 2;
	snap = metrics_registry_collect(reg);
	assert_int_equal(snap->dropped, 2);
	assert_int_equal(snap->samples[snap->n - 1].id, M_METRICS_SERIES_DROPPED);
	assert_true(snap->samples[snap->n - 1].value == 7);
	metrics_snapshot_free(snap);
	metrics_registry_free(reg);
}

static void
test_filter_match(void **state)
{
	struct metrics_filter f = { 0 };
	char *cpu[] = { "cpu" }, *all[] = { "memory", "all" }, *two[] = { "cpu", "memory" };

	assert_true(metrics_filter_match(NULL, "cpu"));
	assert_true(metrics_filter_match(&f, "dpd"));
	metrics_filter_set(&f, cpu, 1);
	assert_true(metrics_filter_match(&f, "cpu"));
	assert_false(metrics_filter_match(&f, "memory"));
	assert_false(metrics_filter_match(&f, "cp"));
	metrics_filter_set(&f, all, 2);
	assert_true(metrics_filter_match(&f, "dpd"));
	metrics_filter_set(&f, two, 2);
	assert_true(metrics_filter_match(&f, "memory"));
	assert_false(metrics_filter_match(&f, "dpd"));
	metrics_filter_set(&f, NULL, 0);
	assert_int_equal(f.n, 0);
	assert_true(metrics_filter_match(&f, "dpd"));
	metrics_filter_clear(&f);
}

/* ---- Prometheus text ------------------------------------------------ */

static void
test_prom_groups_by_metric(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	char *text;

	metrics_add(snap, M_CPU_UTILISATION, 0.5, (const char *[]){ "0" });
	metrics_add(snap, M_BUILD_INFO, 1, (const char *[]){ "1.2.3" });
	metrics_add(snap, M_CPU_UTILISATION, 0.25, (const char *[]){ "1" });
	metrics_add(snap, M_TELEMETRY_CONNECTED, 0, NULL);
	metrics_add(snap, M_CPU_UTILISATION, 1, (const char *[]){ "2" });
	text = render(snap);
	assert_string_equal(text,
		"# HELP vpnagent_build_info Build information; always 1.\n"
		"# TYPE vpnagent_build_info gauge\n"
		"vpnagent_build_info{version=\"1.2.3\"} 1\n"
		"# HELP vpnagent_cpu_utilisation_ratio Busy share of one CPU over the last "
		"sample period (0-1).\n"
		"# TYPE vpnagent_cpu_utilisation_ratio gauge\n"
		"vpnagent_cpu_utilisation_ratio{cpu=\"0\"} 0.5\n"
		"vpnagent_cpu_utilisation_ratio{cpu=\"1\"} 0.25\n"
		"vpnagent_cpu_utilisation_ratio{cpu=\"2\"} 1\n"
		"# HELP vpnagent_telemetry_connected 1 while the control and data streams to "
		"the collector are up.\n"
		"# TYPE vpnagent_telemetry_connected gauge\n"
		"vpnagent_telemetry_connected 0\n");
	free(text);
	metrics_snapshot_free(snap);
}

static void
test_prom_empty_snapshot(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	char *text = render(snap);

	assert_string_equal(text, "");
	free(text);
	metrics_snapshot_free(snap);
}

static void
test_prom_escapes_label_values(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	struct strbuf sb;
	char *text;

	metrics_add(snap, M_TELEMETRY_ERRORS, 3, (const char *[]){ "a\\b\"c\nd}e,f=" });
	text = render(snap);
	assert_non_null(strstr(text,
		"vpnagent_telemetry_errors_total{type=\"a\\\\b\\\"c\\nd}e,f=\"} 3\n"));
	assert_int_equal(count_substr(text, "\n"), 3);
	free(text);
	metrics_snapshot_free(snap);

	strbuf_init(&sb, 1024);
	metrics_prom_escape(&sb, "plain");
	metrics_prom_escape(&sb, "\\\"\n");
	assert_string_equal(sb.data, "plain\\\\\\\"\\n");
	strbuf_free(&sb);
}

static void
test_prom_value_format(void **state)
{
	static const struct {
		double      v;
		const char *text;
	} cases[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 42, "42" },
		{ -7, "-7" },
		{ 1e15, "1000000000000000" },
		{ 9007199254740991.0, "9007199254740991" },
		{ 0.5, "0.5" },
		{ 0.25, "0.25" },
		{ -1.5, "-1.5" },
		{ 1e300, "1e+300" },
		{ 0.3, "0.3" },			/* shortest form that reads back exactly */
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ INFINITY, "+Inf" },
		{ -INFINITY, "-Inf" },
		{ NAN, "NaN" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metrics_snapshot *snap = metrics_snapshot_new(0);
		char *text, want[128];

		metrics_add(snap, M_TELEMETRY_INTERVAL, cases[i].v, NULL);
		text = render(snap);
		snprintf(want, sizeof(want), "\nvpnagent_telemetry_interval_seconds %s\n",
			 cases[i].text);
		if (strstr(text, want) == NULL)
			fail_msg("value %g: want \"%s\" in:\n%s", cases[i].v, cases[i].text, text);
		free(text);
		metrics_snapshot_free(snap);
	}
	/* Non-integral values survive the round trip exactly. */
	{
		struct metrics_snapshot *snap = metrics_snapshot_new(0);
		double v = 0.1 + 0.2;
		char *text, *p;

		metrics_add(snap, M_TELEMETRY_INTERVAL, v, NULL);
		text = render(snap);
		p = strstr(text, "\nvpnagent_telemetry_interval_seconds ");
		assert_non_null(p);
		assert_true(strtod(p + strlen("\nvpnagent_telemetry_interval_seconds "), NULL) == v);
		free(text);
		metrics_snapshot_free(snap);
	}
}

static void
test_prom_every_metric_has_help_type(void **state)
{
	struct metrics_snapshot *snap = snapshot_every_metric();
	char *text;

	/* A second sample per metric must not repeat HELP/TYPE. */
	for (int id = 0; id < M__COUNT; id++) {
		const char *vals[METRIC_LABELS_MAX] = { "w0", "w1", "w2", "w3" };

		metrics_add(snap, (enum metric_id)id, 1, vals);
	}
	text = render(snap);
	for (int id = 0; id < M__COUNT; id++) {
		char help[160], type[160];

		snprintf(help, sizeof(help), "# HELP %s ", metric_defs[id].prom_name);
		snprintf(type, sizeof(type), "# TYPE %s %s\n", metric_defs[id].prom_name,
			 metric_defs[id].type == METRIC_COUNTER ? "counter" : "gauge");
		assert_int_equal(count_substr(text, help), 1);
		assert_int_equal(count_substr(text, type), 1);
	}
	assert_int_equal(count_substr(text, "\n"), 4 * M__COUNT);
	free(text);
	metrics_snapshot_free(snap);
}

static void
test_prom_passes_promtool(void **state)
{
	struct metrics_snapshot *snap = snapshot_every_metric();
	char *text, out[8192];
	int rc;

	/* Installed with the project's deps: its absence is a failure. */
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		fail_msg("promtool not found in PATH");
	metrics_add(snap, M_CPU_SECONDS, 12.34, (const char *[]){ "1", "we\"ird\\\nmode" });
	metrics_add(snap, M_TELEMETRY_INTERVAL, NAN, NULL);
	metrics_add(snap, M_TELEMETRY_BUFFERED_METRICS, INFINITY, NULL);
	text = render(snap);
	rc = metrics_env_promtool(text, out, sizeof(out));
	if (rc != 0)
		fail_msg("promtool check metrics failed (%d):\n%s\n--- input ---\n%s", rc, out, text);
	free(text);
	metrics_snapshot_free(snap);

	/* And the checker is not a no-op: an unescaped newline is refused. */
	rc = metrics_env_promtool("# HELP x h\n# TYPE x gauge\nx{a=\"b\nc\"} 1\n", out, sizeof(out));
	assert_int_not_equal(rc, 0);
}

static void
test_prom_name(void **state)
{
	char name[128];

	metrics_prom_name("cpu", "cpu_utilisation", METRIC_GAUGE, name, sizeof(name));
	assert_string_equal(name, "vpnagent_cpu_utilisation_ratio");
	metrics_prom_name("process", "cpu_seconds", METRIC_COUNTER, name, sizeof(name));
	assert_string_equal(name, "process_cpu_seconds_total");
	metrics_prom_name("dpd", "new-thing", METRIC_COUNTER, name, sizeof(name));
	assert_string_equal(name, "vpnagent_dpd_new_thing_total");
	metrics_prom_name("esp", "esp_gauge", METRIC_GAUGE, name, sizeof(name));
	assert_string_equal(name, "vpnagent_esp_gauge");
	metrics_prom_name("tunnel", "a very long description", METRIC_GAUGE, name, 16);
	assert_string_equal(name, "vpnagent_tunnel");
}

/* ---- protobuf ------------------------------------------------------- */

#define SINK_MAX 4096

struct sink {
	size_t               n;
	Proto__DataResponse *msgs[SINK_MAX];
	size_t               lens[SINK_MAX], counts[SINK_MAX];
	size_t               fail_at;	/* fail on this call (1-based); 0 never */
	size_t               calls;
};

static int
sink_collect(void *ctx, uint8_t *buf, size_t len, size_t nmetrics)
{
	struct sink *s = ctx;

	s->calls++;
	if (s->fail_at != 0 && s->calls == s->fail_at) {
		free(buf);
		return -1;
	}
	assert_true(s->n < SINK_MAX);
	s->msgs[s->n] = proto__data_response__unpack(NULL, len, buf);
	assert_non_null(s->msgs[s->n]);
	s->lens[s->n] = len;
	s->counts[s->n] = nmetrics;
	s->n++;
	free(buf);
	return 0;
}

static void
sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		proto__data_response__free_unpacked(s->msgs[i], NULL);
	free(s);
}

static struct sink *
sink_new(void)
{
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

static const char *
tag_at(const Proto__Metric *m, size_t i, const char *key)
{
	assert_true(i < m->n_tags);
	assert_string_equal(m->tags[i]->key, key);
	return m->tags[i]->value;
}

static void
test_pb_fields_and_tags(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(1700000000123);
	struct sink *s = sink_new();
	const Proto__Metric *m;

	metrics_add(snap, M_CPU_SECONDS, 12.5, (const char *[]){ "3", "iowait" });
	metrics_add(snap, M_TELEMETRY_CONNECTED, 1, NULL);
	metrics_add(snap, M_MEMORY_TOTAL, 0, NULL);
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, 65536, sink_collect, s), 3);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->counts[0], 3);
	assert_string_equal(s->msgs[0]->ftd_uuid, TEST_UUID);
	assert_int_equal(s->msgs[0]->n_metrics, 3);

	m = s->msgs[0]->metrics[0];
	assert_int_equal(m->timestamp, 1700000000123);
	assert_string_equal(m->metricfamily, "cpu");
	assert_string_equal(m->metrictype, "Counter");
	assert_true(m->value == 12.5);
	assert_int_equal(m->n_tags, 4);
	assert_string_equal(tag_at(m, 0, "cpu"), "3");
	assert_string_equal(tag_at(m, 1, "mode"), "iowait");
	assert_string_equal(tag_at(m, 2, "description"), "seconds");
	assert_string_equal(tag_at(m, 3, "uuid"), TEST_UUID);

	m = s->msgs[0]->metrics[1];
	assert_int_equal(m->timestamp, 1700000000123);
	assert_string_equal(m->metricfamily, "telemetry");
	assert_string_equal(m->metrictype, "Gauge");
	assert_true(m->value == 1);
	assert_int_equal(m->n_tags, 2);
	assert_string_equal(tag_at(m, 0, "description"), "connected");
	assert_string_equal(tag_at(m, 1, "uuid"), TEST_UUID);

	m = s->msgs[0]->metrics[2];
	assert_string_equal(m->metricfamily, "memory");
	assert_true(m->value == 0);
	assert_string_equal(tag_at(m, 0, "description"), "total_bytes");
	sink_free(s);
	metrics_snapshot_free(snap);
}

static void
test_pb_every_metric_round_trips(void **state)
{
	struct metrics_snapshot *snap = snapshot_every_metric();
	struct sink *s = sink_new();

	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, 1 << 20, sink_collect, s),
			 M__COUNT);
	assert_int_equal(s->n, 1);
	for (int id = 0; id < M__COUNT; id++) {
		const struct metric_def *d = &metric_defs[id];
		const Proto__Metric *m = s->msgs[0]->metrics[id];
		size_t nl = metric_def_nlabels(d);

		assert_string_equal(m->metricfamily, d->family);
		assert_string_equal(m->metrictype, metric_type_names[d->type]);
		assert_true(m->value == (double)id + 0.5);
		assert_int_equal(m->n_tags, nl + 2);
		for (size_t i = 0; i < nl; i++) {
			char want[24];

			snprintf(want, sizeof(want), "v%zu", i);
			assert_string_equal(tag_at(m, i, d->labels[i]), want);
		}
		assert_string_equal(tag_at(m, nl, "description"), d->description);
		assert_string_equal(tag_at(m, nl + 1, "uuid"), TEST_UUID);
		assert_ptr_equal(metric_def_lookup(m->metricfamily, d->description), d);
	}
	sink_free(s);
	metrics_snapshot_free(snap);
}

static long
encode_filtered(const struct metrics_snapshot *snap, char **fams, size_t nfams,
		struct sink *s)
{
	struct metrics_filter f = { 0 };
	long rc;

	metrics_filter_set(&f, fams, nfams);
	rc = metrics_pb_encode(snap, TEST_UUID, &f, 65536, sink_collect, s);
	metrics_filter_clear(&f);
	return rc;
}

static void
test_pb_family_filter(void **state)
{
	struct metrics_snapshot *snap = snapshot_every_metric();
	char *cpu[] = { "cpu" }, *all[] = { "all" }, *none[] = { "no_such_family" };
	char *hostfams[] = { "interface", "disk" };
	size_t ncpu = 0, nhost = 0;
	struct sink *s;

	for (int id = 0; id < M__COUNT; id++) {
		ncpu += strcmp(metric_defs[id].family, "cpu") == 0;
		nhost += strcmp(metric_defs[id].family, "interface") == 0 ||
			 strcmp(metric_defs[id].family, "disk") == 0;
	}
	assert_true(ncpu > 0);
	/* the reference's families: 11 interface and 8 disk metrics */
	assert_int_equal(nhost, 19);

	s = sink_new();
	assert_int_equal(encode_filtered(snap, hostfams, 2, s), nhost);
	for (size_t i = 0; i < s->msgs[0]->n_metrics; i++) {
		const char *fam = s->msgs[0]->metrics[i]->metricfamily;

		assert_true(strcmp(fam, "interface") == 0 || strcmp(fam, "disk") == 0);
	}
	sink_free(s);

	s = sink_new();
	assert_int_equal(encode_filtered(snap, cpu, 1, s), ncpu);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->msgs[0]->n_metrics, ncpu);
	for (size_t i = 0; i < s->msgs[0]->n_metrics; i++)
		assert_string_equal(s->msgs[0]->metrics[i]->metricfamily, "cpu");
	sink_free(s);

	s = sink_new();
	assert_int_equal(encode_filtered(snap, all, 1, s), M__COUNT);
	assert_int_equal(s->msgs[0]->n_metrics, M__COUNT);
	sink_free(s);

	s = sink_new();
	assert_int_equal(encode_filtered(snap, NULL, 0, s), M__COUNT);
	assert_int_equal(s->msgs[0]->n_metrics, M__COUNT);
	sink_free(s);

	/* Nothing matches: still one (empty) message, so the device is seen. */
	s = sink_new();
	assert_int_equal(encode_filtered(snap, none, 1, s), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->msgs[0]->n_metrics, 0);
	assert_string_equal(s->msgs[0]->ftd_uuid, TEST_UUID);
	sink_free(s);
	metrics_snapshot_free(snap);
}

static void
test_pb_chunking(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(1700000000000);
	struct sink *s = sink_new();
	size_t total = 0, max = 64 * 1024;

	for (size_t i = 0; i < 50000; i++) {
		char peer[32];

		snprintf(peer, sizeof(peer), "%zu", i % 512);
		metrics_add(snap, M_CPU_SECONDS, (double)i * 0.01, (const char *[]){ peer, "user" });
	}
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, max, sink_collect, s), 50000);
	assert_true(s->n > 1);
	for (size_t i = 0; i < s->n; i++) {
		assert_true(s->lens[i] <= max);
		assert_int_equal(s->counts[i], s->msgs[i]->n_metrics);
		assert_true(s->msgs[i]->n_metrics > 0);
		/* Chunks are full: the next metric would not have fit. */
		if (i + 1 < s->n)
			assert_true(s->lens[i] > max - 200);
		for (size_t k = 0; k < s->msgs[i]->n_metrics; k++)
			assert_true(s->msgs[i]->metrics[k]->value == (double)(total + k) * 0.01);
		total += s->msgs[i]->n_metrics;
	}
	assert_int_equal(total, 50000);
	sink_free(s);
	metrics_snapshot_free(snap);
}

static void
test_pb_sink_failure(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	struct sink *s;

	for (size_t i = 0; i < 5000; i++)
		metrics_add(snap, M_TELEMETRY_CONNECTED, (double)i, NULL);

	s = sink_new();
	s->fail_at = 1;
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, 4096, sink_collect, s), -1);
	assert_int_equal(s->calls, 1);
	sink_free(s);

	/* A failure mid-way stops the encode there. */
	s = sink_new();
	s->fail_at = 3;
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, 4096, sink_collect, s), -1);
	assert_int_equal(s->calls, 3);
	assert_int_equal(s->n, 2);
	sink_free(s);

	/* The last (or only) chunk failing counts too. */
	s = sink_new();
	s->fail_at = 1;
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, 1 << 20, sink_collect, s), -1);
	sink_free(s);
	metrics_snapshot_free(snap);
}

static void
test_pb_oversized_metric_alone(void **state)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(0);
	struct sink *s = sink_new();
	char big[600];

	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	metrics_add(snap, M_TELEMETRY_ERRORS, 1, (const char *[]){ big });
	metrics_add(snap, M_TELEMETRY_ERRORS, 2, (const char *[]){ big });
	/* Each metric is bigger than the limit: one per message, none lost. */
	assert_int_equal(metrics_pb_encode(snap, TEST_UUID, NULL, 256, sink_collect, s), 2);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->msgs[0]->n_metrics, 1);
	assert_int_equal(s->msgs[1]->n_metrics, 1);
	sink_free(s);
	metrics_snapshot_free(snap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_rows_complete),
		cmocka_unit_test(test_catalog_names_follow_family),
		cmocka_unit_test(test_snapshot_copies_labels),
		cmocka_unit_test(test_snapshot_long_label),
		cmocka_unit_test(test_add_fields),
		cmocka_unit_test(test_registry_collects_in_order),
		cmocka_unit_test(test_series_cap_counts_drops),
		cmocka_unit_test(test_filter_match),
		cmocka_unit_test(test_prom_groups_by_metric),
		cmocka_unit_test(test_prom_empty_snapshot),
		cmocka_unit_test(test_prom_escapes_label_values),
		cmocka_unit_test(test_prom_value_format),
		cmocka_unit_test(test_prom_every_metric_has_help_type),
		cmocka_unit_test(test_prom_passes_promtool),
		cmocka_unit_test(test_prom_name),
		cmocka_unit_test(test_pb_fields_and_tags),
		cmocka_unit_test(test_pb_every_metric_round_trips),
		cmocka_unit_test(test_pb_family_filter),
		cmocka_unit_test(test_pb_chunking),
		cmocka_unit_test(test_pb_sink_failure),
		cmocka_unit_test(test_pb_oversized_metric_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
