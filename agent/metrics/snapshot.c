/*
 * Snapshots and the registry of sources. A snapshot is built on the loop
 * thread and never changed afterwards, so other threads (the gRPC client)
 * may encode it freely. Label values live in a chunked arena owned by it.
 */
#include "metrics/metrics.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192

struct metrics_arena {
	struct metrics_arena *next;
	size_t                used, size;
	char                  data[];
};

struct registry_source {
	metrics_source_fn fn;
	void             *ctx;
};

struct metrics_registry {
	struct registry_source *sources;
	size_t                  n;
	uint64_t                series_dropped;	/* over all snapshots: a counter */
};

struct metrics_snapshot *
metrics_snapshot_new(int64_t timestamp_ms)
{
	struct metrics_snapshot *snap = xcalloc(1, sizeof(*snap));

	snap->timestamp_ms = timestamp_ms;
	return snap;
}

void
metrics_snapshot_free(struct metrics_snapshot *snap)
{
	struct metrics_arena *a, *next;

	if (snap == NULL)
		return;
	for (a = snap->arena; a != NULL; a = next) {
		next = a->next;
		free(a);
	}
	free(snap->samples);
	free(snap);
}

static const char *
arena_strdup(struct metrics_snapshot *snap, const char *s)
{
	size_t n = strlen(s) + 1;
	struct metrics_arena *a = snap->arena;
	char *p;

	if (a == NULL || a->size - a->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		a = xmalloc(sizeof(*a) + size);
		a->used = 0;
		a->size = size;
		a->next = snap->arena;
		snap->arena = a;
	}
	p = a->data + a->used;
	memcpy(p, s, n);
	a->used += n;
	return p;
}

void
metrics_add(struct metrics_snapshot *snap, enum metric_id id, double value,
	    const char *const *labels)
{
	size_t nl = metric_def_nlabels(&metric_defs[id]);
	struct metric_sample *s;

	if (snap->n >= METRICS_SERIES_MAX && id != M_METRICS_SERIES_DROPPED) {
		snap->dropped++;
		return;
	}
	if (snap->n == snap->cap) {
		snap->cap = snap->cap ? snap->cap * 2 : 64;
		snap->samples = xreallocarray(snap->samples, snap->cap, sizeof(*snap->samples));
	}
	s = &snap->samples[snap->n++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->value = value;
	for (size_t i = 0; i < nl; i++)
		s->labels[i] = arena_strdup(snap, labels[i] ? labels[i] : "");
}

void
metrics_add_fields(struct metrics_snapshot *snap, const struct metric_field *fields, size_t n,
		   const void *stats, const char *const *labels)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)stats + fields[i].offset, sizeof(v));
		metrics_add(snap, fields[i].id, (double)v, labels);
	}
}

void
metrics_left_out(struct metrics_snapshot *snap, size_t nseries)
{
	snap->dropped += nseries;
}

struct metrics_registry *
metrics_registry_new(void)
{
	return xcalloc(1, sizeof(struct metrics_registry));
}

void
metrics_registry_free(struct metrics_registry *reg)
{
	if (reg == NULL)
		return;
	free(reg->sources);
	free(reg);
}

void
metrics_registry_add(struct metrics_registry *reg, metrics_source_fn fn, void *ctx)
{
	reg->sources = xreallocarray(reg->sources, reg->n + 1, sizeof(*reg->sources));
	reg->sources[reg->n].fn = fn;
	reg->sources[reg->n].ctx = ctx;
	reg->n++;
}

struct metrics_snapshot *
metrics_registry_collect(struct metrics_registry *reg)
{
	struct metrics_snapshot *snap = metrics_snapshot_new(now_real_ms());

	for (size_t i = 0; i < reg->n; i++)
		reg->sources[i].fn(reg->sources[i].ctx, snap);
	/* Exported as a counter, so cumulative: a per-snapshot count would
	 * stay flat (rate 0) while the cap keeps dropping series. */
	reg->series_dropped += snap->dropped;
	if (reg->series_dropped)
		metrics_add(snap, M_METRICS_SERIES_DROPPED, (double)reg->series_dropped, NULL);
	return snap;
}

int
metrics_filter_match(const struct metrics_filter *f, const char *family)
{
	if (f == NULL || f->n == 0)
		return 1;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->families[i], "all") == 0 || strcmp(f->families[i], family) == 0)
			return 1;
	}
	return 0;
}

void
metrics_filter_clear(struct metrics_filter *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->families[i]);
	free(f->families);
	f->families = NULL;
	f->n = 0;
}

void
metrics_filter_set(struct metrics_filter *f, char *const *families, size_t n)
{
	metrics_filter_clear(f);
	if (n == 0)
		return;
	f->families = xcalloc(n, sizeof(*f->families));
	for (size_t i = 0; i < n; i++)
		f->families[i] = xstrdup(families[i]);
	f->n = n;
}
