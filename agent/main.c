/*
 * vpn-agent: wires the modules together and runs the libevent loop. The
 * only file that sees them all: it owns the live config, swaps in the new
 * one the API hands over, and turns it into telemetry settings.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "api/api.h"
#include "core/config.h"
#include "core/files.h"
#include "core/log.h"
#include "core/util.h"
#include "core/version.h"
#include "esp/dataplane.h"
#include "ike/ike.h"
#include "ike/ike_conf.h"
#include "ike/ike_io.h"
#include "metrics/cert.h"
#include "metrics/hoststat.h"
#include "metrics/http.h"
#include "metrics/metrics.h"
#include "metrics/sysstat.h"
#include "metrics/vpn.h"
#include "telemetry/tel.h"
#include "views.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#define DEFAULT_STATE_DIR      "/var/lib/vpn-agent"
#define DEFAULT_API_LISTEN     "127.0.0.1:9276"
#define DEFAULT_METRICS_LISTEN "127.0.0.1:9273"
#define DEVICE_UUID_FILE       "device-uuid"
#define CONFIG_APPLY_GAP_MS    250	/* changes closer than this are applied together */

struct options {
	const char *state_dir;
	const char *api_listen;
	const char *metrics_listen;
	const char *ike_address;
	const char *tun_name;
	int dp_workers;			/* 0: one per online CPU */
	int no_tun_offload;		/* the TUN device one packet per read and write */
	size_t peer_series;		/* peers listed in /metrics; 0: all */
	size_t max_objects;		/* per API collection */
	enum log_level log_level;
	size_t tel_max_message;		/* test setting: force batch splitting */
	size_t tel_buffer_max;		/* test setting: small disconnected buffer */
	int no_ipsec_rekey;		/* test setting: IPsec SAs expire unrenewed */
	uint64_t esp_seq_start;		/* test setting: first outbound ESP sequence number */
	const char *key_log;		/* test setting: ESP keys for tshark */
};

struct agent {
	struct options           opt;
	struct event_base       *base;
	struct event            *sigterm, *sigint, *sample_timer;
	struct config           *config;
	struct metrics_registry *registry;
	struct metrics_http     *metrics_http;
	struct sysstat          *sysstat;
	struct hoststat         *hoststat;	/* interfaces and disks, sampled with sysstat */
	struct tel              *tel;
	struct tel_settings      tel_current;	/* what the streaming thread runs with */
	struct api              *api;
	struct ike              *ike;
	struct ike_io           *ike_io;	/* NULL without --ike-address */
	struct esp_dp           *dp;		/* the ESP dataplane, with ike_io */
	struct vpn_metrics       vpn_metrics;	/* their metrics sources' context */
	struct cert_metrics     *cert_metrics;	/* the config's certificates, read at apply */
	int                      config_dirty;	/* changed since it was last applied */
	int64_t                  config_applied_ms;
	struct event            *apply_timer;
	uint32_t                 ike_addr_be;
	char                     uuid[UUID_STR_LEN];
	char                     hostname[HOST_NAME_MAX + 1];
};

static const struct option long_opts[] = {
	{ "state-dir", required_argument, NULL, 's' },
	{ "api-listen", required_argument, NULL, 'a' },
	{ "metrics-listen", required_argument, NULL, 'm' },
	{ "ike-address", required_argument, NULL, 'i' },
	{ "tun-name", required_argument, NULL, 't' },
	{ "dp-workers", required_argument, NULL, 'w' },
	{ "no-tun-offload", no_argument, NULL, 'N' },
	{ "metrics-peer-series", required_argument, NULL, 'P' },
	{ "max-objects", required_argument, NULL, 'O' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "tel-max-message-bytes", required_argument, NULL, 'M' },
	{ "tel-buffer-max-metrics", required_argument, NULL, 'B' },
	{ "test-no-ipsec-rekey", no_argument, NULL, 'R' },
	{ "test-esp-seq-start", required_argument, NULL, 'S' },
	{ "test-key-log", required_argument, NULL, 'K' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vpn-agent [--state-dir DIR] [--api-listen ADDR:PORT]\n"
		"                 [--metrics-listen ADDR:PORT] [--ike-address ADDR]\n"
		"                 [--log-level debug|info|warn]\n"
		"\n"
		"  --state-dir DIR          config, device UUID and api-token (default %s)\n"
		"  --api-listen ADDR:PORT   JSON configuration API (default %s)\n"
		"  --metrics-listen ADDR:PORT  Prometheus /metrics (default %s)\n"
		"  --ike-address ADDR       IKE on ADDR:500/4500, ESP plain or in UDP (IPsec is off\n"
		"                           without)\n"
		"  --tun-name NAME          TUN device for the plaintext side (default vpn0)\n"
		"  --dp-workers N           ESP worker threads (default: one per CPU, at most %d)\n"
		"  --no-tun-offload         TUN device without TSO/USO/GRO: one packet per read\n"
		"  --max-objects N          crypto-map entries, keys, ... per API collection\n"
		"                           (default %d; memory grows with what is used)\n"
		"  --metrics-peer-series N|all  with more peers, metrics list N of them (those not\n"
		"                           up first) and sum the rest under peer=\"*\" (default %d)\n"
		"  --log-level LEVEL        debug, info or warn (default info)\n"
		"Test settings:\n"
		"  --tel-max-message-bytes N   split telemetry batches above N bytes\n"
		"  --tel-buffer-max-metrics N  metrics kept while the collector is down\n"
		"  --test-no-ipsec-rekey       let IPsec SAs reach their hard lifetime\n"
		"  --test-esp-seq-start N      outbound ESP sequence numbers start at N (sequence\n"
		"                              number rekeys without 3 billion packets)\n"
		"  --test-key-log FILE         append ESP SA keys to FILE (for tshark; secret!)\n",
		DEFAULT_STATE_DIR, DEFAULT_API_LISTEN, DEFAULT_METRICS_LISTEN, ESP_DP_WORKERS_MAX,
		CFG_OBJECTS_DEFAULT, VPN_METRICS_PEER_SERIES);
}

static size_t
parse_size(const char *name, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v == 0 || v > (1ULL << 32))
		fatalx("--%s: want a positive number, got '%s'", name, s);
	return (size_t)v;
}

static void
options_parse(struct options *o, int argc, char **argv)
{
	int c;

	*o = (struct options){
		.state_dir = DEFAULT_STATE_DIR,
		.api_listen = DEFAULT_API_LISTEN,
		.metrics_listen = DEFAULT_METRICS_LISTEN,
		.tun_name = "vpn0",
		.log_level = LOG_LEVEL_INFO,
		.peer_series = VPN_METRICS_PEER_SERIES,
		.max_objects = CFG_OBJECTS_DEFAULT,
	};
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's': o->state_dir = optarg; break;
		case 'a': o->api_listen = optarg; break;
		case 'm': o->metrics_listen = optarg; break;
		case 'i': o->ike_address = optarg; break;
		case 't': o->tun_name = optarg; break;
		case 'w':
			o->dp_workers = (int)parse_size("dp-workers", optarg);
			if (o->dp_workers > ESP_DP_WORKERS_MAX)
				fatalx("--dp-workers: at most %d, got '%s'", ESP_DP_WORKERS_MAX, optarg);
			break;
		case 'N': o->no_tun_offload = 1; break;
		case 'O': o->max_objects = parse_size("max-objects", optarg); break;
		case 'P':
			o->peer_series = strcmp(optarg, "all") == 0 ? 0 :
			    parse_size("metrics-peer-series", optarg);
			break;
		case 'l':
			if (log_level_parse(optarg, &o->log_level) == -1)
				fatalx("--log-level: want debug, info or warn, got '%s'", optarg);
			break;
		case 'M': o->tel_max_message = parse_size("tel-max-message-bytes", optarg); break;
		case 'B': o->tel_buffer_max = parse_size("tel-buffer-max-metrics", optarg); break;
		case 'R': o->no_ipsec_rekey = 1; break;
		case 'S': o->esp_seq_start = parse_size("test-esp-seq-start", optarg); break;
		case 'K': o->key_log = optarg; break;
		case 'V': printf("vpn-agent %s\n", VPN_AGENT_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* The state dir holds private keys: checked (made 0700 if missing) before
 * anything is read or written there, then rid of the temp files that a
 * crash during a save left behind. */
static void
state_dir_setup(const struct agent *ag)
{
	char why[FILE_WHY_MAX];

	if (state_dir_prepare(ag->opt.state_dir, why, sizeof(why)) == -1)
		fatalx("refusing to start: state dir %s %s", ag->opt.state_dir, why);
	if (file_temp_sweep(ag->opt.state_dir) == -1)
		fatal("cannot read the state dir %s", ag->opt.state_dir);
}

/* The device UUID is made once, at first start, and kept in the state dir. */
static void
device_uuid_load(struct agent *ag)
{
	char path[PATH_MAX], *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", ag->opt.state_dir, DEVICE_UUID_FILE);
	if (file_read_all(path, 256, &text, NULL) == 0) {
		text[strcspn(text, " \r\n")] = '\0';
		if (!uuid_valid(text))
			fatalx("%s does not hold a UUID", path);
		str_copy(ag->uuid, sizeof(ag->uuid), text);
		free(text);
		return;
	}
	if (errno != ENOENT)
		fatal("cannot read %s", path);
	uuid_v4(ag->uuid);
	char line[UUID_STR_LEN + 1];
	snprintf(line, sizeof(line), "%s\n", ag->uuid);
	if (file_write_atomic(path, line, strlen(line), 0600) == -1)
		fatal("cannot write %s", path);
	log_info("new device UUID %s", ag->uuid);
}

/* ---- config → telemetry ---------------------------------------------- */

static int
tel_settings_from_config(struct agent *ag, const struct config *cfg, struct tel_settings *out)
{
	const struct cfg_telemetry *t = cfg->telemetry;
	const struct cfg_network *net;
	const struct cfg_internal_cert *ic;
	const struct cfg_ca_cert *ca;

	memset(out, 0, sizeof(*out));
	if (t == NULL)
		return -1;
	net = config_network_by_id(cfg, t->target_host.id);
	ic = config_internal_cert_by_id(cfg, t->client_cert.id);
	ca = config_ca_cert_by_id(cfg, t->ca_cert.id);
	if (net == NULL || ic == NULL || ca == NULL) {
		log_warnx("telemetry config %s has a dangling reference", t->meta.name);
		return -1;
	}
	out->target_host = (char *)net->value;
	out->port = t->port;
	out->client_cert_pem = ic->cert_pem;
	out->client_key_pem = ic->key_pem;
	out->ca_pem = ca->cert_pem;
	out->device_uuid = ag->uuid;
	out->hostname = ag->hostname;
	out->retry_interval_s = t->retry_interval_s;
	out->min_interval_s = t->min_interval_s;
	out->max_message_bytes = ag->opt.tel_max_message;
	out->buffer_max_metrics = ag->opt.tel_buffer_max;
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int
tel_settings_same(const struct tel_settings *a, const struct tel_settings *b)
{
	return str_same(a->target_host, b->target_host) && a->port == b->port &&
	    str_same(a->client_cert_pem, b->client_cert_pem) &&
	    str_same(a->client_key_pem, b->client_key_pem) && str_same(a->ca_pem, b->ca_pem) &&
	    a->retry_interval_s == b->retry_interval_s && a->min_interval_s == b->min_interval_s;
}

/* Telemetry reconnects only when what it dials with has changed. */
static void
telemetry_apply(struct agent *ag)
{
	struct tel_settings next;
	int want = tel_settings_from_config(ag, ag->config, &next) == 0;

	if (!want) {
		if (ag->tel_current.target_host != NULL) {
			tel_stop(ag->tel);
			tel_settings_free(&ag->tel_current);
		}
		return;
	}
	if (ag->tel_current.target_host != NULL && tel_settings_same(&ag->tel_current, &next))
		return;
	tel_settings_free(&ag->tel_current);
	tel_settings_copy(&ag->tel_current, &next);
	tel_start(ag->tel, &ag->tel_current);
}

/* ---- IKE ↔ dataplane ------------------------------------------------------ */

static void
sa_params(const struct ike_child_sa *c, int outbound, struct esp_sa_params *p)
{
	const uint8_t *keys = outbound ? c->key_out : c->key_in;

	memset(p, 0, sizeof(*p));
	p->spi = outbound ? c->spi_out : c->spi_in;
	p->cipher = c->cipher;
	p->auth = c->auth;
	/* KEYMAT: the cipher key first, then the HMAC key or the GCM salt. */
	p->key_len = c->enc_key_len;
	memcpy(p->key, keys, p->key_len);
	p->auth_key_len = c->key_len - c->enc_key_len;
	memcpy(p->auth_key, keys + c->enc_key_len, p->auth_key_len);
	p->transport = c->transport_mode;
	p->local = (struct esp_net){ c->sel.src_be, c->sel.src_mask_be };
	p->remote = (struct esp_net){ c->sel.dst_be, c->sel.dst_mask_be };
	p->proto = c->sel.proto;
	p->local_port = c->sel.src_port;
	p->remote_port = c->sel.dst_port;
}

/* Test setting: one line per SA direction, "spi src dst cipher auth key
 * authkey" (hex), so tshark can decrypt a capture. Off unless asked for.
 * The file holds keys: 0600, never through a symlink, only a regular file
 * of ours (a refusal is logged once, not per SA). */
static void
key_log(const struct agent *ag, const struct esp_sa_params *p, uint32_t src, uint32_t dst)
{
	static int refused_logged;
	char s[16], d[16], key[2 * ESP_KEY_MAX + 1], akey[2 * ESP_AUTH_KEY_MAX + 1];
	char why[FILE_WHY_MAX];
	size_t n;
	FILE *f;
	int fd;

	if (ag->opt.key_log == NULL)
		return;
	if ((fd = file_open_append(ag->opt.key_log, why, sizeof(why))) == -1) {
		if (!refused_logged)
			log_warnx("--test-key-log %s %s; ESP keys are not logged",
				  ag->opt.key_log, why);
		refused_logged = 1;
		return;
	}
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return;
	}
	OPENSSL_buf2hexstr_ex(key, sizeof(key), &n, p->key, p->key_len, '\0');
	OPENSSL_buf2hexstr_ex(akey, sizeof(akey), &n, p->auth_key, p->auth_key_len, '\0');
	fprintf(f, "0x%08x %s %s %s %s %s %s\n", p->spi, ipv4_str(src, s), ipv4_str(dst, d),
		p->cipher == ESP_CIPHER_AES_GCM16 ? "gcm" : "cbc",
		p->auth == ESP_AUTH_HMAC_SHA256_128 ? "sha256" :
		p->auth == ESP_AUTH_HMAC_SHA1_96 ? "sha1" : "none", key, akey);
	fclose(f);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(akey, sizeof(akey));
}

static void
dp_install(void *ctx, const struct ike_child_sa *c)
{
	struct agent *ag = ctx;
	struct esp_dp_pair pair = { .udp_encap = c->udp_encap };
	char map[IKE_NAME_MAX + 16];

	if (ag->dp == NULL)
		return;
	snprintf(map, sizeof(map), "%s %u", c->map ? c->map : "", c->seq);
	sa_params(c, 0, &pair.in);
	sa_params(c, 1, &pair.out);
	pair.peer_be = c->peer_be;
	pair.client_port = c->client_port;
	pair.peer_port = c->peer_port;
	pair.lifetime_kb = c->lifetime_kb;
	pair.map = map;
	pair.test_seq_start = ag->opt.esp_seq_start;
	pair.outbound_later = c->outbound_later;
	key_log(ag, &pair.in, c->peer_be, ag->ike_addr_be);
	key_log(ag, &pair.out, ag->ike_addr_be, c->peer_be);
	esp_dp_install(ag->dp, &pair);
	OPENSSL_cleanse(&pair, sizeof(pair));
}

static void
dp_activate(void *ctx, uint32_t spi_in)
{
	struct agent *ag = ctx;

	if (ag->dp != NULL)
		esp_dp_activate(ag->dp, spi_in);
}

static void
dp_remove(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
	struct agent *ag = ctx;

	if (ag->dp != NULL)
		esp_dp_remove(ag->dp, spi_in, spi_out);
}

/* DPD reads the dataplane's record of a peer when it decides. */
static int
dp_traffic(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t *last_in,
	   int64_t *first_out)
{
	struct agent *ag = ctx;
	struct esp_dp_traffic t;

	if (ag->dp == NULL || esp_dp_traffic(ag->dp, peer_be, client_port, &t) == -1)
		return -1;
	*last_in = t.last_in;
	*first_out = t.first_out;
	return 0;
}

static void
dp_alive(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t at)
{
	struct agent *ag = ctx;

	if (ag->dp != NULL)
		esp_dp_alive(ag->dp, peer_be, client_port, at);
}

static void
dp_watch(void *ctx, uint32_t peer_be, uint16_t client_port)
{
	struct agent *ag = ctx;

	if (ag->dp != NULL)
		esp_dp_watch(ag->dp, peer_be, client_port);
}

/* The first packet out that on-demand DPD watched for: its timer re-arms. */
static void
dp_outbound(void *ctx, uint32_t peer_be, uint16_t client_port, int64_t now)
{
	struct agent *ag = ctx;

	ike_peer_outbound(ag->ike, peer_be, client_port, now);
	ike_io_kick(ag->ike_io);
}

static void
dp_limit(void *ctx, uint32_t peer_be, uint16_t client_port, uint32_t spi_in,
	 enum esp_dp_limit what, int64_t now)
{
	static const enum ike_child_limit to_ike[] = {
		[ESP_DP_VOLUME_SOFT] = IKE_CHILD_SOFT,
		[ESP_DP_VOLUME_HARD] = IKE_CHILD_HARD,
		[ESP_DP_SEQ_SOFT] = IKE_CHILD_SEQ,
	};
	struct agent *ag = ctx;

	ike_child_volume(ag->ike, peer_be, client_port, spi_in, to_ike[what], now);
	ike_io_kick(ag->ike_io);
}

static void
esp_from_udp(void *ctx, uint32_t src_be, uint16_t src_port, const uint8_t *pkt, size_t len)
{
	struct agent *ag = ctx;

	if (ag->dp != NULL)
		esp_dp_udp_input(ag->dp, src_be, src_port, pkt, len);
}

/* ---- config → IKE ------------------------------------------------------ */

/* Without --ike-address the engine still holds the configuration (so every
 * configured peer is visible, down) but has no socket to speak through. */
static int
ike_no_socket(void *ctx, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	      const uint8_t *msg, size_t len)
{
	return -1;
}

/* The GRE tunnel interfaces the configuration names. */
static void
tunnels_apply(struct agent *ag)
{
	const struct config *cfg = ag->config;
	struct esp_dp_tunnel_if *t;

	if (ag->dp == NULL)
		return;
	t = xcalloc(cfg->n_tunnel_ifs + 1, sizeof(*t));
	for (size_t i = 0; i < cfg->n_tunnel_ifs; i++) {
		const struct cfg_tunnel_if *c = &cfg->tunnel_ifs[i];

		t[i] = (struct esp_dp_tunnel_if){ .name = c->meta.name, .addr_be = htonl(c->addr),
						  .prefix_len = c->prefix_len,
						  .source_be = htonl(c->source),
						  .destination_be = htonl(c->destination),
						  .mtu = c->mtu, .shutdown = c->shutdown };
	}
	esp_dp_tunnels(ag->dp, t, cfg->n_tunnel_ifs);
	free(t);
}

static void
ike_apply(struct agent *ag)
{
	struct ike_conf c;

	ike_conf_from_config(ag->config, ag->ike_addr_be, ag->hostname, &c);
	c.no_child_rekey = ag->opt.no_ipsec_rekey;
	c.esp_udp_only = ag->dp == NULL || !esp_dp_plain_esp(ag->dp);	/* no raw socket */
	for (size_t i = 0; ag->ike_io == NULL && i < c.nmaps; i++)
		c.maps[i].initiate = 0;	/* nothing to initiate through */
	ike_configure(ag->ike, &c, now_mono_ms());
	ike_conf_release(&c);
	if (ag->ike_io != NULL)
		ike_io_kick(ag->ike_io);
}

/* ---- API hooks -------------------------------------------------------- */

static struct config *
hook_config_current(void *ctx)
{
	return ((struct agent *)ctx)->config;
}

/*
 * Applying the configuration costs its size (every crypto-map entry is
 * translated and handed to the engine), so a burst of changes (10,000
 * POSTs, an import) is applied together: at once when the last apply is
 * CONFIG_APPLY_GAP_MS old, else when it will be. Whatever reads or acts on
 * the applied state first flushes a pending change: an IKE datagram, an
 * operational view, /metrics, a clear. Each change is validated and on
 * disk before it is answered either way.
 */
static void
config_apply_now(struct agent *ag)
{
	ag->config_dirty = 0;
	ag->config_applied_ms = now_mono_ms();
	event_del(ag->apply_timer);
	telemetry_apply(ag);
	tunnels_apply(ag);
	ike_apply(ag);
	cert_metrics_update(ag->cert_metrics, ag->config);
}

static void
config_flush(void *ctx)
{
	struct agent *ag = ctx;

	if (ag->config_dirty)
		config_apply_now(ag);
}

static void
apply_cb(evutil_socket_t fd, short what, void *arg)
{
	config_flush(arg);
}

/* A metrics source that adds nothing: the families after it see the
 * configuration as the API last answered it. */
static void
config_flush_source(void *ctx, struct metrics_snapshot *snap)
{
	config_flush(ctx);
}

static void
hook_config_changed(void *ctx)
{
	struct agent *ag = ctx;
	int64_t now = now_mono_ms(), at = ag->config_applied_ms + CONFIG_APPLY_GAP_MS;
	struct timeval tv;

	ag->config_dirty = 1;
	if (now >= at) {
		config_apply_now(ag);
		return;
	}
	if (!event_pending(ag->apply_timer, EV_TIMEOUT, NULL)) {
		tv.tv_sec = (at - now) / 1000;
		tv.tv_usec = (at - now) % 1000 * 1000;
		event_add(ag->apply_timer, &tv);
	}
}

static void
hook_telemetry_status(void *ctx, struct tel_status *out)
{
	config_flush(ctx);
	tel_status_get(((struct agent *)ctx)->tel, out);
}

static void
hook_vpn_view(void *ctx, enum api_vpn_view which, struct api_rows *rows)
{
	struct agent *ag = ctx;

	config_flush(ag);
	views_rows(ag->ike, ag->dp, which, rows);
}

static void
hook_tunnel_if_view(void *ctx, struct api_rows *rows)
{
	struct agent *ag = ctx;

	config_flush(ag);
	views_tunnel_ifs(ag->config, ag->dp, rows);
}

static int
hook_clear_sessions(void *ctx, const char *remote)
{
	struct agent *ag = ctx;
	struct in_addr a = { 0 };
	int n;

	if (remote != NULL && inet_pton(AF_INET, remote, &a) != 1)
		return -1;
	config_flush(ag);
	n = ike_clear(ag->ike, a.s_addr, now_mono_ms());
	if (ag->ike_io != NULL)
		ike_io_kick(ag->ike_io);
	log_info("clear crypto session%s%s: %d cleared", remote ? " remote " : "",
		 remote ? remote : "", n);
	return n;
}

/* ---- loop callbacks ---------------------------------------------------- */

static struct metrics_snapshot *
snapshot_for_telemetry(void *ctx)
{
	return metrics_registry_collect(((struct agent *)ctx)->registry);
}

static void
sample_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *ag = arg;

	sysstat_sample(ag->sysstat, now_mono_ms());
	hoststat_sample(ag->hoststat);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct agent *ag = arg;

	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(ag->base);
}

static void
agent_start(struct agent *ag)
{
	struct timeval period = { SYSSTAT_SAMPLE_MS / 1000, (SYSSTAT_SAMPLE_MS % 1000) * 1000 };
	struct api_hooks hooks = {
		.ctx = ag,
		.config_current = hook_config_current,
		.config_changed = hook_config_changed,
		.telemetry_status = hook_telemetry_status,
		.vpn_view = hook_vpn_view,
		.tunnel_if_view = hook_tunnel_if_view,
		.clear_sessions = hook_clear_sessions,
	};
	struct ike_transport tr = { NULL, ike_no_socket };
	struct ike_dataplane dph = { .ctx = ag, .install = dp_install, .activate = dp_activate,
				     .remove = dp_remove, .traffic = dp_traffic,
				     .alive = dp_alive, .watch = dp_watch };

	state_dir_setup(ag);
	device_uuid_load(ag);
	if (gethostname(ag->hostname, sizeof(ag->hostname)) == -1)
		ag->hostname[0] = '\0';
	api_set_objects_max(ag->opt.max_objects);
	api_set_tun_name(ag->opt.tun_name);
	if (api_config_load(ag->opt.state_dir, &ag->config) == -1)
		fatalx("refusing to start with a broken %s/%s", ag->opt.state_dir, API_CONFIG_FILE);

	if (evthread_use_pthreads() == -1 || (ag->base = event_base_new()) == NULL)
		fatalx("cannot set up the event loop");
	ag->registry = metrics_registry_new();
	metrics_registry_add(ag->registry, config_flush_source, ag);	/* first */
	ag->apply_timer = evtimer_new(ag->base, apply_cb, ag);
	ag->sysstat = sysstat_new(VPN_AGENT_VERSION);
	sysstat_sample(ag->sysstat, now_mono_ms());
	ag->tel = tel_new(ag->base, snapshot_for_telemetry, ag);
	metrics_registry_add(ag->registry, sysstat_metrics_source, ag->sysstat);
	ag->hoststat = hoststat_new();
	metrics_registry_add(ag->registry, hoststat_metrics_source, ag->hoststat);
	metrics_registry_add(ag->registry, tel_metrics_source, ag->tel);
	/* before the per-peer families: a headend's series cap never drops these */
	ag->cert_metrics = cert_metrics_new();
	metrics_registry_add(ag->registry, cert_metrics_source, ag->cert_metrics);

	if (ag->opt.ike_address != NULL) {
		struct in_addr a;

		if (inet_pton(AF_INET, ag->opt.ike_address, &a) != 1)
			fatalx("--ike-address: want an IPv4 address, got '%s'", ag->opt.ike_address);
		ag->ike_addr_be = a.s_addr;
		if ((ag->ike_io = ike_io_new(ag->base, a.s_addr, IKE_PORT, IKE_NATT_PORT)) == NULL)
			fatalx("cannot open the IKE ports on %s", ag->opt.ike_address);
		tr = (struct ike_transport){ ag->ike_io, ike_io_send };
	}
	ag->ike = ike_new(&tr, &dph);
	if (ag->ike_io != NULL) {
		struct esp_dp_hooks dp_hooks = { ag, dp_outbound, dp_limit };

		ike_io_attach(ag->ike_io, ag->ike);
		ag->dp = esp_dp_new(ag->base, ag->opt.tun_name, ike_io_natt_fd(ag->ike_io),
				    ag->opt.dp_workers, !ag->opt.no_tun_offload, &dp_hooks);
		if (ag->dp == NULL)
			fatalx("cannot start the ESP dataplane on %s", ag->opt.tun_name);
		ike_io_set_esp(ag->ike_io, esp_from_udp, ag);
		ike_io_set_before_rx(ag->ike_io, config_flush, ag);
	}
	ag->vpn_metrics = (struct vpn_metrics){ ag->ike, ag->dp, ag->opt.peer_series };
	if (ag->dp != NULL)
		metrics_registry_add(ag->registry, ipsec_metrics_source, &ag->vpn_metrics);
	metrics_registry_add(ag->registry, vpn_metrics_source, &ag->vpn_metrics);

	hoststat_sample(ag->hoststat);	/* after the TUN device is made: listed from the start */
	ag->sample_timer = event_new(ag->base, -1, EV_PERSIST, sample_cb, ag);
	event_add(ag->sample_timer, &period);
	ag->sigterm = evsignal_new(ag->base, SIGTERM, signal_cb, ag);
	ag->sigint = evsignal_new(ag->base, SIGINT, signal_cb, ag);
	event_add(ag->sigterm, NULL);
	event_add(ag->sigint, NULL);

	if ((ag->metrics_http = metrics_http_new(ag->base, ag->opt.metrics_listen,
						 ag->registry)) == NULL)
		fatalx("cannot serve metrics on %s", ag->opt.metrics_listen);
	if ((ag->api = api_new(ag->base, ag->opt.state_dir, ag->opt.api_listen, &hooks)) == NULL)
		fatalx("cannot serve the API on %s", ag->opt.api_listen);
	config_apply_now(ag);
	log_info("vpn-agent %s up: device %s (%s), state in %s", VPN_AGENT_VERSION, ag->uuid,
		 ag->hostname, ag->opt.state_dir);
}

static void
agent_stop(struct agent *ag)
{
	api_free(ag->api);
	ike_free(ag->ike);
	esp_dp_free(ag->dp);
	ike_io_free(ag->ike_io);
	tel_free(ag->tel);
	tel_settings_free(&ag->tel_current);
	metrics_http_free(ag->metrics_http);
	metrics_registry_free(ag->registry);
	cert_metrics_free(ag->cert_metrics);
	sysstat_free(ag->sysstat);
	hoststat_free(ag->hoststat);
	config_free(ag->config);
	event_free(ag->sample_timer);
	event_free(ag->apply_timer);
	event_free(ag->sigterm);
	event_free(ag->sigint);
	event_base_free(ag->base);
	libevent_global_shutdown();
}

int
main(int argc, char **argv)
{
	struct agent ag;

	memset(&ag, 0, sizeof(ag));
	options_parse(&ag.opt, argc, argv);
	log_init("vpn-agent", ag.opt.log_level);
	signal(SIGPIPE, SIG_IGN);
	agent_start(&ag);
	event_base_dispatch(ag.base);
	agent_stop(&ag);
	log_info("stopped");
	return 0;
}
