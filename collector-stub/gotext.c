/*
 * The text forms the reference collector (written in Go) prints, so that
 * our logs read the same: time.Duration strings ("2s", "1m0s", "1h0m0s")
 * and protobuf text of a Metric (fields in number order, zero values left
 * out, doubles in Go's shortest 'g' form).
 */
#include "stub.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
go_duration(int64_t seconds, char *out, size_t size)
{
	uint64_t s = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
	const char *sign = seconds < 0 ? "-" : "";

	if (s == 0)
		snprintf(out, size, "0s");
	else if (s < 60)
		snprintf(out, size, "%s%" PRIu64 "s", sign, s);
	else if (s < 3600)
		snprintf(out, size, "%s%" PRIu64 "m%" PRIu64 "s", sign, s / 60, s % 60);
	else
		snprintf(out, size, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", sign, s / 3600,
		    s / 60 % 60, s % 60);
}

/*
 * strconv.FormatFloat(v, 'g', -1, 64): the fewest significant digits that
 * read back to v, in %e form when the exponent is < -4 or >= 6 (Go uses 6,
 * not the digit count, for the shortest form), else plain decimals.
 */
void
go_float(struct strbuf *out, double v)
{
	char buf[64];
	int digits, exp10;

	if (isnan(v)) {
		strbuf_puts(out, "nan");
		return;
	}
	if (isinf(v)) {
		strbuf_puts(out, v > 0 ? "inf" : "-inf");
		return;
	}
	for (digits = 1; digits < 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*e", digits - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*e", digits - 1, v);
	exp10 = atoi(strchr(buf, 'e') + 1);
	if (exp10 < -4 || exp10 >= 6) {
		strbuf_puts(out, buf);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", digits - 1 - exp10 > 0 ? digits - 1 - exp10 : 0, v);
	strbuf_puts(out, buf);
}

static void
go_quote(struct strbuf *out, const char *s)
{
	strbuf_append(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  strbuf_append(out, "\\\"", 2); break;
		case '\\': strbuf_append(out, "\\\\", 2); break;
		case '\n': strbuf_append(out, "\\n", 2); break;
		case '\r': strbuf_append(out, "\\r", 2); break;
		case '\t': strbuf_append(out, "\\t", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				strbuf_printf(out, "\\x%02x", *p);
			else
				strbuf_append(out, (const char *)p, 1);
		}
	}
	strbuf_append(out, "\"", 1);
}

static void
go_field_str(struct strbuf *out, const char *name, const char *value, int *first)
{
	if (value == NULL || value[0] == '\0')
		return;
	strbuf_printf(out, "%s%s:", *first ? "" : " ", name);
	go_quote(out, value);
	*first = 0;
}

void
go_metric_text(struct strbuf *out, const Proto__Metric *m)
{
	int first = 1;

	if (m->timestamp != 0) {
		strbuf_printf(out, "timestamp:%" PRId64, m->timestamp);
		first = 0;
	}
	go_field_str(out, "metricFamily", m->metricfamily, &first);
	if (m->value != 0 || signbit(m->value)) {
		strbuf_printf(out, "%svalue:", first ? "" : " ");
		go_float(out, m->value);
		first = 0;
	}
	for (size_t i = 0; i < m->n_tags; i++) {
		const Proto__Tag *t = m->tags[i];
		int tfirst = 1;

		strbuf_printf(out, "%stags:{", first ? "" : " ");
		go_field_str(out, "key", t->key, &tfirst);
		go_field_str(out, "value", t->value, &tfirst);
		strbuf_append(out, "}", 1);
		first = 0;
	}
	go_field_str(out, "metricType", m->metrictype, &first);
}
