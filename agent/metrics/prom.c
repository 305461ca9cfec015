/*
 * Prometheus text exposition format 0.0.4: HELP and TYPE once per metric,
 * samples of one metric together, label values escaped, no timestamps.
 */
#include "metrics/metrics.h"
#include "core/util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
metrics_prom_escape(struct strbuf *out, const char *value)
{
	const char *p = value;

	/* Copy runs of plain characters at once; escape the three specials. */
	for (;;) {
		size_t run = strcspn(p, "\\\"\n");

		strbuf_append(out, p, run);
		p += run;
		switch (*p) {
		case '\0': return;
		case '\\': strbuf_append(out, "\\\\", 2); break;
		case '"':  strbuf_append(out, "\\\"", 2); break;
		case '\n': strbuf_append(out, "\\n", 2); break;
		}
		p++;
	}
}

static void
help_escape(struct strbuf *out, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			strbuf_append(out, "\\\\", 2);
		else if (*p == '\n')
			strbuf_append(out, "\\n", 2);
		else
			strbuf_append(out, p, 1);
	}
}

/* The shortest of %.15g/%.17g that reads back as the same double. */
static void
shortest_double(struct strbuf *out, double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	strbuf_puts(out, buf);
}

static void
value_format(struct strbuf *out, double v)
{
	if (isnan(v))
		strbuf_puts(out, "NaN");
	else if (isinf(v))
		strbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		strbuf_printf(out, "%lld", (long long)v);
	else
		shortest_double(out, v);
}

static void
sample_render(struct strbuf *out, const char *name, const char *const *keys,
	      const char *const *values, size_t nlabels, double value)
{
	strbuf_puts(out, name);
	if (nlabels > 0) {
		strbuf_append(out, "{", 1);
		for (size_t i = 0; i < nlabels; i++) {
			if (i)
				strbuf_append(out, ",", 1);
			strbuf_puts(out, keys[i]);
			strbuf_append(out, "=\"", 2);
			metrics_prom_escape(out, values[i]);
			strbuf_append(out, "\"", 1);
		}
		strbuf_append(out, "}", 1);
	}
	strbuf_append(out, " ", 1);
	value_format(out, value);
	strbuf_append(out, "\n", 1);
}

void
metrics_prom_render(const struct metrics_snapshot *snap, struct strbuf *out)
{
	/* Sources add samples in any order; group them by metric, keeping the
	 * catalogue order and each metric's sample order. */
	size_t count[M__COUNT] = { 0 }, start[M__COUNT], *order;

	for (size_t i = 0; i < snap->n; i++)
		count[snap->samples[i].id]++;
	for (size_t id = 0, pos = 0; id < M__COUNT; id++) {
		start[id] = pos;
		pos += count[id];
	}
	order = xcalloc(snap->n, sizeof(*order));
	{
		size_t fill[M__COUNT];

		memcpy(fill, start, sizeof(fill));
		for (size_t i = 0; i < snap->n; i++)
			order[fill[snap->samples[i].id]++] = i;
	}
	for (size_t id = 0; id < M__COUNT; id++) {
		const struct metric_def *def = &metric_defs[id];

		if (count[id] == 0)
			continue;
		strbuf_printf(out, "# HELP %s ", def->prom_name);
		help_escape(out, def->help);
		strbuf_printf(out, "\n# TYPE %s %s\n", def->prom_name,
			      def->type == METRIC_COUNTER ? "counter" : "gauge");
		for (size_t k = start[id]; k < start[id] + count[id]; k++) {
			const struct metric_sample *s = &snap->samples[order[k]];

			sample_render(out, def->prom_name, def->labels, s->labels,
				      metric_def_nlabels(def), s->value);
		}
	}
	free(order);
}

void
metrics_prom_name(const char *family, const char *description, enum metric_type type,
		  char *out, size_t size)
{
	const struct metric_def *def = metric_def_lookup(family, description);
	size_t flen = strlen(family);
	int n;

	if (def != NULL) {
		str_copy(out, size, def->prom_name);
		return;
	}
	if (strncmp(description, family, flen) == 0 && description[flen] == '_')
		description += flen + 1;
	n = snprintf(out, size, "vpnagent_%s_%s%s", family, description,
		     type == METRIC_COUNTER ? "_total" : "");
	if (n < 0 || (size_t)n >= size)
		out[size - 1] = '\0';
	for (char *p = out; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != ':')
			*p = '_';
	}
}
