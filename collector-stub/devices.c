/*
 * The device registry: one record per ftd_uuid seen, with what it said
 * about itself, what it was told (bounded history of ControlRequests) and
 * what it sent (bounded history of batches), rendered as the /api/devices
 * JSON and the collector's own Prometheus metrics. Records live until exit.
 */
#include "stub.h"
#include "core/util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t stub_mu = PTHREAD_MUTEX_INITIALIZER;

static struct {
	struct device	*head, *tail;
	size_t		 n;
	struct settings	 defaults;
} reg;

void
stub_lock(void)
{
	pthread_mutex_lock(&stub_mu);
}

void
stub_unlock(void)
{
	pthread_mutex_unlock(&stub_mu);
}

void
str_list_add(struct str_list *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void
str_list_copy(struct str_list *dst, char *const *v, size_t n)
{
	str_list_free(dst);
	for (size_t i = 0; i < n && i < STUB_LIST_MAX; i++)
		str_list_add(dst, v[i] != NULL ? v[i] : "");
}

void
str_list_free(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* "a,b,c" into a list; -1 on an empty item, an over-long one, or too many. */
int
str_list_split(struct str_list *l, const char *csv)
{
	const char *p = csv, *comma;
	char item[STUB_FIELD_MAX];
	size_t len;

	str_list_free(l);
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(item) || l->n >= STUB_LIST_MAX) {
			str_list_free(l);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		str_list_add(l, item);
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

void
str_list_join(const struct str_list *l, char *out, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, size > 0 ? size : 1);
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			strbuf_append(&sb, ",", 1);
		strbuf_puts(&sb, l->v[i]);
	}
	str_copy(out, size, sb.data != NULL ? sb.data : "");
	strbuf_free(&sb);
}

void
settings_copy(struct settings *dst, const struct settings *src)
{
	char *version = xstrdup(src->version);

	free(dst->version);
	dst->version = version;
	dst->interval = src->interval;
	if (&dst->subs != &src->subs)
		str_list_copy(&dst->subs, src->subs.v, src->subs.n);
}

void
settings_free(struct settings *s)
{
	free(s->version);
	s->version = NULL;
	str_list_free(&s->subs);
}

void
devices_init(const struct settings *defaults)
{
	memset(&reg, 0, sizeof(reg));
	settings_copy(&reg.defaults, defaults);
}

static void
device_free(struct device *d)
{
	for (size_t i = 0; i < d->nctl; i++) {
		free(d->ctl[i].version);
		str_list_free(&d->ctl[i].subs);
	}
	free(d->ctl);
	for (size_t i = 0; i < d->nbatches; i++)
		str_list_free(&d->batches[i].families);
	free(d->batches);
	str_list_free(&d->caps);
	settings_free(&d->settings);
	free(d);
}

void
devices_free(void)
{
	struct device *d, *next;

	for (d = reg.head; d != NULL; d = next) {
		next = d->next;
		device_free(d);
	}
	settings_free(&reg.defaults);
	memset(&reg, 0, sizeof(reg));
}

struct device *
device_find(const char *uuid)
{
	for (struct device *d = reg.head; d != NULL; d = d->next) {
		if (strcmp(d->uuid, uuid) == 0)
			return d;
	}
	return NULL;
}

struct device *
device_get(const char *uuid)
{
	struct device *d = device_find(uuid);

	if (d != NULL)
		return d;
	if (reg.n >= STUB_DEVICES_MAX)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	str_copy(d->uuid, sizeof(d->uuid), uuid);
	settings_copy(&d->settings, &reg.defaults);
	if (reg.tail != NULL)
		reg.tail->next = d;
	else
		reg.head = d;
	reg.tail = d;
	reg.n++;
	return d;
}

struct device *
devices_first(void)
{
	return reg.head;
}

const struct settings *
devices_defaults(void)
{
	return &reg.defaults;
}

void
devices_set_defaults(const struct settings *s)
{
	settings_copy(&reg.defaults, s);
}

/* Both histories drop their oldest entry at STUB_HISTORY_MAX. */
void
device_note_request(struct device *d, const struct settings *s, int cancel)
{
	struct ctl_record *r;

	if (d->nctl == STUB_HISTORY_MAX) {
		free(d->ctl[0].version);
		str_list_free(&d->ctl[0].subs);
		memmove(d->ctl, d->ctl + 1, (d->nctl - 1) * sizeof(*d->ctl));
		d->nctl--;
	} else if (d->ctl == NULL) {
		d->ctl = xcalloc(STUB_HISTORY_MAX, sizeof(*d->ctl));
	}
	r = &d->ctl[d->nctl++];
	memset(r, 0, sizeof(*r));
	r->t_mono_ms = now_mono_ms();
	r->interval = cancel ? 0 : s->interval;
	r->version = xstrdup(s->version);
	r->cancel = cancel;
	if (!cancel)
		str_list_copy(&r->subs, s->subs.v, s->subs.n);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
device_note_batch(struct device *d, const Proto__DataResponse *msg)
{
	struct batch_record *r;
	struct str_list fam = { 0, NULL };
	size_t keep = 0;

	d->batches_received++;
	d->metrics_received += msg->n_metrics;
	if (d->nbatches == STUB_HISTORY_MAX) {
		str_list_free(&d->batches[0].families);
		memmove(d->batches, d->batches + 1, (d->nbatches - 1) * sizeof(*d->batches));
		d->nbatches--;
	} else if (d->batches == NULL) {
		d->batches = xcalloc(STUB_HISTORY_MAX, sizeof(*d->batches));
	}
	/* Distinct families: sort a borrowed pointer array, copy the uniques. */
	if (msg->n_metrics > 0) {
		char **names = xcalloc(msg->n_metrics, sizeof(*names));

		for (size_t i = 0; i < msg->n_metrics; i++)
			names[i] = msg->metrics[i]->metricfamily;
		qsort(names, msg->n_metrics, sizeof(*names), str_cmp);
		for (size_t i = 0; i < msg->n_metrics; i++) {
			if (keep == 0 || strcmp(names[i], fam.v[keep - 1]) != 0) {
				str_list_add(&fam, names[i]);
				keep++;
			}
		}
		free(names);
	}
	r = &d->batches[d->nbatches++];
	r->t_mono_ms = now_mono_ms();
	r->count = msg->n_metrics;
	r->families = fam;
}

/* Device-supplied strings need not be UTF-8, which jansson refuses: such
 * bytes are shown as '?' rather than losing the whole record. */
static json_t *
jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = xstrdup(s);
	for (unsigned char *p = (unsigned char *)copy; *p != '\0'; ) {
		size_t n = utf8_len(p);

		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *
json_str_list(const struct str_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, jstr(l->v[i]));
	return a;
}

static json_t *
device_json(const struct device *d)
{
	json_t *o, *ctl = json_array(), *batches = json_array();

	for (size_t i = 0; i < d->nctl; i++) {
		const struct ctl_record *r = &d->ctl[i];

		json_array_append_new(ctl, json_pack("{s:I, s:I, s:o, s:o, s:b}",
		    "t_mono_ms", (json_int_t)r->t_mono_ms, "interval", (json_int_t)r->interval,
		    "version", jstr(r->version), "subscriptions", json_str_list(&r->subs),
		    "cancel", r->cancel));
	}
	for (size_t i = 0; i < d->nbatches; i++) {
		const struct batch_record *r = &d->batches[i];

		json_array_append_new(batches, json_pack("{s:I, s:I, s:o}",
		    "t_mono_ms", (json_int_t)r->t_mono_ms, "count", (json_int_t)r->count,
		    "families", json_str_list(&r->families)));
	}
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:b, s:b}",
	    "uuid", jstr(d->uuid), "hostname", jstr(d->hostname), "version", jstr(d->version),
	    "cert_cn", jstr(d->cert_cn), "peer", jstr(d->peer), "init_streaming", d->init_streaming,
	    "capabilities", json_str_list(&d->caps), "connected", d->control_active > 0,
	    "data_connected", d->data_active > 0);
	json_object_set_new(o, "control_streams", json_integer((json_int_t)d->control_streams));
	json_object_set_new(o, "data_streams", json_integer((json_int_t)d->data_streams));
	json_object_set_new(o, "cancel_acks", json_integer((json_int_t)d->cancel_acks));
	json_object_set_new(o, "stop_requests", json_integer((json_int_t)d->stop_requests));
	json_object_set_new(o, "batches_received", json_integer((json_int_t)d->batches_received));
	json_object_set_new(o, "metrics_received", json_integer((json_int_t)d->metrics_received));
	json_object_set_new(o, "interval", json_integer((json_int_t)d->settings.interval));
	json_object_set_new(o, "subscriptions", json_str_list(&d->settings.subs));
	json_object_set_new(o, "proto_version", jstr(d->settings.version));
	json_object_set_new(o, "control_requests", ctl);
	json_object_set_new(o, "batches", batches);
	return o;
}

char *
devices_json(void)
{
	json_t *root, *list = json_array();
	char *text;

	for (const struct device *d = reg.head; d != NULL; d = d->next)
		json_array_append_new(list, device_json(d));
	root = json_pack("{s:o}", "devices", list);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		fatalx("devices_json: out of memory");
	return text;
}

static void
self_metric(struct strbuf *out, const char *name, const char *type, const char *help,
	    size_t offset)
{
	strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (const struct device *d = reg.head; d != NULL; d = d->next) {
		uint64_t v;

		if (offset == (size_t)-1)
			v = d->control_active > 0;
		else
			memcpy(&v, (const char *)d + offset, sizeof(v));
		strbuf_printf(out, "%s{uuid=\"", name);
		label_value_escape(out, d->uuid);
		strbuf_printf(out, "\"} %llu\n", (unsigned long long)v);
	}
}

void
devices_prom_render(struct strbuf *out)
{
	if (reg.head != NULL) {
		self_metric(out, "collector_batches_received_total", "counter",
		    "DataResponse messages received from the device",
		    offsetof(struct device, batches_received));
		self_metric(out, "collector_metrics_received_total", "counter",
		    "Metrics received from the device", offsetof(struct device, metrics_received));
		self_metric(out, "collector_device_connected", "gauge",
		    "1 while the device has a live ControlStream", (size_t)-1);
	}
	strbuf_puts(out, "# HELP collector_series_dropped_total Series refused by the "
	    "collector's series cap\n# TYPE collector_series_dropped_total counter\n");
	strbuf_printf(out, "collector_series_dropped_total %llu\n",
	    (unsigned long long)series_dropped());
}
