/*
 * The last value of every series the devices sent, for GET /metrics. A
 * series is its Prometheus name (metrics_prom_name, as the agent names it)
 * plus its tags as labels, "description" left out and "uuid" always kept;
 * its identity is the rendered sample text before the value, so rendering
 * is a sort and a copy. Guarded by stub_lock; capped at STUB_SERIES_MAX.
 */
#include "stub.h"
#include "core/util.h"
#include "metrics/metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERIES_KEY_MAX	4096

struct series {
	char		*key;		/* name{labels} */
	size_t		 name_len;
	enum metric_type type;
	double		 value;
	uint64_t	 hash;
	struct series	*next;
};

static struct {
	struct series	**buckets;
	size_t		  nbuckets, n;
	uint64_t	  dropped;
} tab;

struct label {
	char		 key[128];
	const char	*value;
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Tag keys become label names: [a-z0-9_], camelCase split to snake_case
 * (promtool's lint rejects camelCase), no leading digit, no "__" prefix. */
static int
label_name(char *out, size_t size, const char *key)
{
	size_t o = 0;

	if (key[0] == '\0')
		return -1;
	if (isdigit((unsigned char)key[0]) || (key[0] == '_' && key[1] == '_'))
		out[o++] = 't';
	for (const char *p = key; *p && o + 2 < size; p++) {
		unsigned char c = (unsigned char)*p;

		if (isupper(c)) {
			if (p > key && (islower((unsigned char)p[-1]) ||
			    isdigit((unsigned char)p[-1])))
				out[o++] = '_';
			out[o++] = (char)tolower(c);
		} else if (isalnum(c) || c == '_') {
			out[o++] = (char)c;
		} else {
			out[o++] = '_';
		}
	}
	out[o] = '\0';
	return 0;
}

static int
label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->key, ((const struct label *)b)->key);
}

/* Length of the valid UTF-8 sequence at p, 0 when it is not one (overlong
 * forms and surrogates included, as Go's utf8.ValidString decides). */
size_t
utf8_len(const unsigned char *p)
{
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

/* Label values must be UTF-8: invalid bytes are written as '?'. */
void
label_value_escape(struct strbuf *out, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	while (*p) {
		size_t len = utf8_len(p);

		if (len == 0) {
			strbuf_append(out, "?", 1);
			p++;
		} else if (len == 1) {
			char one[2] = { (char)*p, '\0' };

			metrics_prom_escape(out, one);
			p++;
		} else {
			strbuf_append(out, (const char *)p, len);
			p += len;
		}
	}
}

static void
key_build(struct strbuf *key, const char *name, const char *uuid, const Proto__Metric *m)
{
	struct label labels[STUB_LABELS_MAX];
	size_t n = 0, have_uuid = 0;

	for (size_t i = 0; i < m->n_tags && n < STUB_LABELS_MAX; i++) {
		const Proto__Tag *t = m->tags[i];

		if (strcmp(t->key, "description") == 0 ||
		    label_name(labels[n].key, sizeof(labels[n].key), t->key) == -1)
			continue;
		labels[n].value = t->value;
		if (strcmp(labels[n].key, "uuid") == 0)
			have_uuid = 1;
		n++;
	}
	if (!have_uuid && n < STUB_LABELS_MAX) {
		str_copy(labels[n].key, sizeof(labels[n].key), "uuid");
		labels[n++].value = uuid;
	}
	/* A repeated label name keeps its first occurrence in tag order. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (strcmp(labels[i].key, labels[j].key) == 0) {
				labels[j--] = labels[--n];
			}
		}
	}
	qsort(labels, n, sizeof(labels[0]), label_cmp);
	strbuf_puts(key, name);
	strbuf_append(key, "{", 1);
	for (size_t i = 0; i < n; i++) {
		strbuf_printf(key, "%s%s=\"", i ? "," : "", labels[i].key);
		label_value_escape(key, labels[i].value);
		strbuf_append(key, "\"", 1);
	}
	strbuf_append(key, "}", 1);
}

static void
tab_grow(void)
{
	size_t nb = tab.nbuckets ? tab.nbuckets * 2 : 1024;
	struct series **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < tab.nbuckets; i++) {
		struct series *s, *next;

		for (s = tab.buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = b[s->hash & (nb - 1)];
			b[s->hash & (nb - 1)] = s;
		}
	}
	free(tab.buckets);
	tab.buckets = b;
	tab.nbuckets = nb;
}

int
series_update(const char *uuid, const Proto__Metric *m)
{
	const char *desc = "";
	char name[256];
	enum metric_type type;
	struct strbuf key;
	struct series *s;
	uint64_t h;
	int rc = -1;

	for (size_t i = 0; i < m->n_tags; i++) {
		if (strcmp(m->tags[i]->key, "description") == 0)
			desc = m->tags[i]->value;
	}
	type = strcasecmp(m->metrictype, "Counter") == 0 ? METRIC_COUNTER : METRIC_GAUGE;
	metrics_prom_name(m->metricfamily, desc, type, name, sizeof(name));
	strbuf_init(&key, SERIES_KEY_MAX);
	key_build(&key, name, uuid, m);
	if (key.overflow)
		goto done;
	h = fnv1a(key.data);
	for (s = tab.nbuckets ? tab.buckets[h & (tab.nbuckets - 1)] : NULL; s; s = s->next) {
		if (s->hash == h && strcmp(s->key, key.data) == 0) {
			s->value = m->value;
			rc = 0;
			goto done;
		}
	}
	if (tab.n >= STUB_SERIES_MAX)
		goto done;
	if (tab.n >= tab.nbuckets)
		tab_grow();
	s = xcalloc(1, sizeof(*s));
	s->key = xstrdup(key.data);
	s->name_len = strlen(name);
	s->type = type;
	s->value = m->value;
	s->hash = h;
	s->next = tab.buckets[h & (tab.nbuckets - 1)];
	tab.buckets[h & (tab.nbuckets - 1)] = s;
	tab.n++;
	rc = 0;
done:
	if (rc == -1)
		tab.dropped++;
	strbuf_free(&key);
	return rc;
}

uint64_t
series_dropped(void)
{
	return tab.dropped;
}

/* By name first, so that every sample of a name is contiguous. */
static int
series_cmp(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void
value_render(struct strbuf *out, double v)
{
	if (isnan(v))
		strbuf_puts(out, "NaN");
	else if (isinf(v))
		strbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else
		go_float(out, v);
}

void
series_render(struct strbuf *out)
{
	struct series **all;
	size_t k = 0;

	if (tab.n == 0)
		return;
	all = xcalloc(tab.n, sizeof(*all));
	for (size_t i = 0; i < tab.nbuckets; i++) {
		for (struct series *s = tab.buckets[i]; s != NULL; s = s->next)
			all[k++] = s;
	}
	qsort(all, k, sizeof(*all), series_cmp);
	for (size_t i = 0; i < k; i++) {
		const struct series *s = all[i];

		if (i == 0 || all[i - 1]->name_len != s->name_len ||
		    memcmp(all[i - 1]->key, s->key, s->name_len) != 0) {
			strbuf_append(out, "# HELP ", 7);
			strbuf_append(out, s->key, s->name_len);
			strbuf_puts(out, " Last value received from devices\n# TYPE ");
			strbuf_append(out, s->key, s->name_len);
			strbuf_puts(out, s->type == METRIC_COUNTER ? " counter\n" : " gauge\n");
		}
		strbuf_puts(out, s->key);
		strbuf_append(out, " ", 1);
		value_render(out, s->value);
		strbuf_append(out, "\n", 1);
	}
	free(all);
}

void
series_free(void)
{
	for (size_t i = 0; i < tab.nbuckets; i++) {
		struct series *s, *next;

		for (s = tab.buckets[i]; s != NULL; s = next) {
			next = s->next;
			free(s->key);
			free(s);
		}
	}
	free(tab.buckets);
	memset(&tab, 0, sizeof(tab));
}
