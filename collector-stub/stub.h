/*
 * collector-stub internals shared by its files: the named capacities, the
 * device record (guarded by the one state mutex, stub_lock), and each
 * file's entry points. main.c wires them together; server.c is the only
 * file that calls gRPC, protocol.c decides what to say on its calls, and
 * http.c is the only file that speaks HTTP.
 */
#ifndef COLLECTOR_STUB_H
#define COLLECTOR_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "telemetry.pb-c.h"

#define STUB_DEVICES_MAX	4096	/* device records kept */
#define STUB_HISTORY_MAX	1000	/* control requests and batches kept per device */
#define STUB_LIST_MAX		64	/* subscriptions, capabilities */
#define STUB_FIELD_MAX		256	/* uuid, hostname, version, cert CN, list items */
#define STUB_SERIES_MAX		200000	/* last-value series over all devices */
#define STUB_LABELS_MAX		32	/* labels per series */
#define STUB_SENDQ_MAX		1024	/* queued messages per call */
#define STUB_CERT_MAX		(64 * 1024)
#define STUB_HTTP_BODY_MAX	(64 * 1024)
#define STUB_PROM_MAX		(256 * 1024 * 1024)	/* rendered /metrics */

struct str_list {
	size_t	 n;
	char	**v;
};

/* What a device is told in its ControlRequest. */
struct settings {
	int64_t		interval;
	char		*version;
	struct str_list	 subs;
};

struct ctl_record {
	int64_t		t_mono_ms;
	int64_t		interval;
	char		*version;
	struct str_list	 subs;
	int		 cancel;
};

struct batch_record {
	int64_t		t_mono_ms;
	size_t		count;
	struct str_list	families;	/* distinct, sorted */
};

struct device {
	char		uuid[STUB_FIELD_MAX];
	char		hostname[STUB_FIELD_MAX];
	char		version[STUB_FIELD_MAX];	/* as the device reported it */
	char		cert_cn[STUB_FIELD_MAX];
	char		peer[STUB_FIELD_MAX];
	int		init_streaming;
	struct str_list	caps;
	struct settings	settings;		/* sent on its next ControlRequest */

	unsigned	control_active, data_active;	/* live calls linked to it */
	uint64_t	control_streams, data_streams;
	uint64_t	cancel_acks, stop_requests;
	uint64_t	batches_received, metrics_received;

	struct ctl_record	*ctl;
	size_t			 nctl;
	struct batch_record	*batches;
	size_t			 nbatches;

	struct device	*next;
};

/* devices.c: the registry and the one mutex over all shared state. */
void	stub_lock(void);
void	stub_unlock(void);
void	devices_init(const struct settings *defaults);
void	devices_free(void);
/* The calls below need stub_lock held. */
struct device	*device_find(const char *uuid);
struct device	*device_get(const char *uuid);	/* find or add; NULL at the cap */
struct device	*devices_first(void);
const struct settings *devices_defaults(void);
void	devices_set_defaults(const struct settings *s);
void	device_note_request(struct device *d, const struct settings *s, int cancel);
void	device_note_batch(struct device *d, const Proto__DataResponse *msg);
char	*devices_json(void);			/* malloc'd JSON text */
void	devices_prom_render(struct strbuf *out);

void	str_list_add(struct str_list *l, const char *s);
void	str_list_copy(struct str_list *dst, char *const *v, size_t n);
void	str_list_free(struct str_list *l);
int	str_list_split(struct str_list *l, const char *csv);
void	str_list_join(const struct str_list *l, char *out, size_t size);
void	settings_copy(struct settings *dst, const struct settings *src);
void	settings_free(struct settings *s);

/* series.c: the last value of every series, as Prometheus text. */
int	series_update(const char *uuid, const Proto__Metric *m);
void	series_render(struct strbuf *out);
uint64_t series_dropped(void);
size_t	utf8_len(const unsigned char *p);	/* valid sequence length, 0: invalid */
void	label_value_escape(struct strbuf *out, const char *v);	/* escaped, UTF-8 safe */
void	series_free(void);

/* gotext.c: the text forms the reference (Go) collector logs. */
void	go_duration(int64_t seconds, char *out, size_t size);
void	go_metric_text(struct strbuf *out, const Proto__Metric *m);
void	go_float(struct strbuf *out, double v);	/* strconv 'g', -1: also Prometheus' form */

/* server.c: the gRPC server, the only file that calls gRPC. protocol.c
 * sees its calls through this narrow interface (stub_lock held). */
enum call_kind { CALL_CONTROL, CALL_DATA, CALL__COUNT };
enum call_end { CALL_END_OK, CALL_END_BAD_MESSAGE, CALL_END_FULL, CALL_END_DENIED };
extern const char *const call_kind_names[CALL__COUNT];
struct call;
struct server_opts {
	const char	*listen;
	const char	*certs_dir;
};
int	server_start(const struct server_opts *o, int *port);
void	server_stop(void);
struct call	*calls_first(void);
struct call	*call_next(const struct call *c);
enum call_kind	 call_kind(const struct call *c);
const char	*call_peer(const struct call *c);
const char	*call_cert_cn(const struct call *c);
struct device	*call_dev(const struct call *c);
void		 call_set_dev(struct call *c, struct device *d);
int		 call_open(const struct call *c);	/* not ending: may still send */
int		 call_send(struct call *c, const ProtobufCMessage *m);
void		 call_finish(struct call *c, enum call_end end, const char *reason);

/* protocol.c: what the collector says, called by server.c (stub_lock held)... */
void	proto_init(void);
const char *proto_collector_uuid(void);
void	proto_call_started(struct call *c);
void	proto_call_ended(struct call *c);
void	proto_control(struct call *c, const Proto__ControlResponse *m);
void	proto_data(struct call *c, const Proto__DataResponse *m);
/* ...and from the HTTP thread (each takes stub_lock itself). */
struct interval_change {
	const char	*device;	/* NULL: every device and the default */
	int64_t		 interval;
	int		 has_subs;
	struct str_list	 subs;
	const char	*version;	/* NULL: unchanged */
};
int	proto_set_interval(const struct interval_change *c, int *sent);	/* -1: unknown device */
int	proto_cancel(const char *uuid);		/* requests sent; 0: not connected */

/* http.c: /metrics and the control API on their own thread. */
int	http_start(const char *listen);
void	http_stop(void);

#endif
