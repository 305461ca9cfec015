/*
 * Protobuf encoder: a snapshot becomes one or more DataResponse messages
 * (the proto's Metric rows), each kept under the gRPC message size limit.
 * Tags are the metric's labels, then "description" and "uuid", as in the
 * reference example.
 */
#include "metrics/metrics.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#include "telemetry.pb-c.h"

#define PB_TAGS_MAX (METRIC_LABELS_MAX + 2)

struct pb_row {
	Proto__Metric metric;
	Proto__Tag    tags[PB_TAGS_MAX];
	Proto__Tag   *tag_ptrs[PB_TAGS_MAX];
};

static size_t
varint_len(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void
row_fill(struct pb_row *row, const struct metrics_snapshot *snap, const struct metric_sample *s,
	 const char *uuid)
{
	const struct metric_def *def = &metric_defs[s->id];
	size_t nl = metric_def_nlabels(def), nt = 0;

	proto__metric__init(&row->metric);
	row->metric.timestamp = snap->timestamp_ms;
	row->metric.metricfamily = (char *)def->family;
	row->metric.value = s->value;
	row->metric.metrictype = (char *)metric_type_names[def->type];
	for (size_t i = 0; i < nl; i++) {
		proto__tag__init(&row->tags[nt]);
		row->tags[nt].key = (char *)def->labels[i];
		row->tags[nt++].value = (char *)s->labels[i];
	}
	proto__tag__init(&row->tags[nt]);
	row->tags[nt].key = "description";
	row->tags[nt++].value = (char *)def->description;
	proto__tag__init(&row->tags[nt]);
	row->tags[nt].key = "uuid";
	row->tags[nt++].value = (char *)uuid;
	for (size_t i = 0; i < nt; i++)
		row->tag_ptrs[i] = &row->tags[i];
	row->metric.n_tags = nt;
	row->metric.tags = row->tag_ptrs;
}

static int
chunk_emit(Proto__Metric **metrics, size_t n, const char *uuid, metrics_pb_sink sink, void *ctx)
{
	Proto__DataResponse msg = PROTO__DATA_RESPONSE__INIT;
	uint8_t *buf;
	size_t len;

	msg.ftd_uuid = (char *)uuid;
	msg.n_metrics = n;
	msg.metrics = metrics;
	len = protobuf_c_message_get_packed_size(&msg.base);
	buf = xmalloc(len);
	protobuf_c_message_pack(&msg.base, buf);
	return sink(ctx, buf, len, n);
}

long
metrics_pb_encode(const struct metrics_snapshot *snap, const char *uuid,
		  const struct metrics_filter *filter, size_t max_bytes, metrics_pb_sink sink,
		  void *ctx)
{
	struct pb_row *rows = xcalloc(snap->n, sizeof(*rows));
	Proto__Metric **ptrs = xcalloc(snap->n, sizeof(*ptrs));
	size_t header = 1 + varint_len(strlen(uuid)) + strlen(uuid);
	size_t n = 0, first = 0, used = header;
	long rc = 0;

	for (size_t i = 0; i < snap->n; i++) {
		const struct metric_sample *s = &snap->samples[i];

		if (!metrics_filter_match(filter, metric_defs[s->id].family))
			continue;
		row_fill(&rows[n], snap, s, uuid);
		ptrs[n] = &rows[n].metric;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		size_t m = protobuf_c_message_get_packed_size(&ptrs[i]->base);
		size_t cost = 1 + varint_len(m) + m;

		if (i > first && used + cost > max_bytes) {
			if (chunk_emit(ptrs + first, i - first, uuid, sink, ctx) == -1) {
				rc = -1;
				goto done;
			}
			first = i;
			used = header;
		}
		used += cost;
	}
	/* An empty batch is still a batch: the collector sees the device is alive. */
	if (chunk_emit(ptrs + first, n - first, uuid, sink, ctx) == -1) {
		rc = -1;
		goto done;
	}
	rc = (long)n;
done:
	free(ptrs);
	free(rows);
	return rc;
}
