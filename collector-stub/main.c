/*
 * collector-stub: a test telemetry collector (SPEC R-9). Parses the
 * command line (a table, usage comes from it), starts the gRPC server and
 * the HTTP thread, then waits for SIGINT/SIGTERM in main and shuts both
 * down in order: HTTP first (it sends on gRPC calls), then gRPC.
 */
#include "stub.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
	OPT_LISTEN, OPT_CERTS, OPT_INTERVAL, OPT_SUBSCRIPTIONS, OPT_METRICS_LISTEN,
	OPT_PROTO_VERSION, OPT_LOG_LEVEL, OPT_HELP, OPT__COUNT
};

static const struct opt_def {
	const char	*name;
	const char	*arg;		/* NULL: a flag */
	const char	*help;
} opt_defs[OPT__COUNT] = {
	[OPT_LISTEN]		= { "listen", "ADDR:PORT", "gRPC address to listen at (required)" },
	[OPT_CERTS]		= { "certs", "DIR", "folder with ca.crt, server.crt, server.key (required)" },
	[OPT_INTERVAL]		= { "interval", "S", "streaming interval sent to devices (default 60)" },
	[OPT_SUBSCRIPTIONS]	= { "subscriptions", "a,b", "metric families sent to devices (default all)" },
	[OPT_METRICS_LISTEN]	= { "metrics-listen", "ADDR:PORT",
				    "/metrics and the unauthenticated control API /api/* "
				    "(default 127.0.0.1:9101)" },
	[OPT_PROTO_VERSION]	= { "proto-version", "V", "version in ControlRequest (default 1.0)" },
	[OPT_LOG_LEVEL]		= { "log-level", "LEVEL", "debug|info|warn (default info)" },
	[OPT_HELP]		= { "help", NULL, "show this text" },
};

struct config {
	const char	*listen;
	const char	*certs;
	const char	*metrics_listen;
	enum log_level	 level;
	struct settings	 defaults;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: collector-stub --listen ADDR:PORT --certs DIR [options]\n\n");
	for (int i = 0; i < OPT__COUNT; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opt_defs[i].name,
		    opt_defs[i].arg != NULL ? " " : "", opt_defs[i].arg != NULL ?
		    opt_defs[i].arg : "");
		fprintf(f, "  %-28s %s\n", left, opt_defs[i].help);
	}
}

static void
bad_option(const char *name, const char *why, const char *value)
{
	fprintf(stderr, "collector-stub: --%s: %s: %s\n", name, why, value);
	exit(2);
}

static void
options_parse(int argc, char **argv, struct config *cfg)
{
	struct option longopts[OPT__COUNT + 1];
	char host[256];
	uint16_t port;
	int ch;

	memset(longopts, 0, sizeof(longopts));
	for (int i = 0; i < OPT__COUNT; i++) {
		longopts[i].name = opt_defs[i].name;
		longopts[i].has_arg = opt_defs[i].arg != NULL ? required_argument : no_argument;
		longopts[i].val = 256 + i;
	}
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *v = optarg;
		char *end;
		long long n;

		switch (ch - 256) {
		case OPT_LISTEN:
			if (addr_port_parse(v, host, sizeof(host), &port) == -1)
				bad_option("listen", "not ADDR:PORT", v);
			cfg->listen = v;
			break;
		case OPT_CERTS:
			cfg->certs = v;
			break;
		case OPT_INTERVAL:
			errno = 0;
			n = strtoll(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || n < 0)
				bad_option("interval", "not a number of seconds", v);
			cfg->defaults.interval = n;
			break;
		case OPT_SUBSCRIPTIONS:
			if (str_list_split(&cfg->defaults.subs, v) == -1)
				bad_option("subscriptions", "not a comma-separated list", v);
			break;
		case OPT_METRICS_LISTEN:
			if (addr_port_parse(v, host, sizeof(host), &port) == -1)
				bad_option("metrics-listen", "not ADDR:PORT", v);
			cfg->metrics_listen = v;
			break;
		case OPT_PROTO_VERSION:
			if (v[0] == '\0' || strlen(v) >= STUB_FIELD_MAX)
				bad_option("proto-version", "empty or too long", v);
			free(cfg->defaults.version);
			cfg->defaults.version = xstrdup(v);
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(v, &cfg->level) == -1)
				bad_option("log-level", "not debug, info or warn", v);
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		bad_option("(none)", "unexpected argument", argv[optind]);
	if (cfg->listen == NULL || cfg->certs == NULL) {
		usage(stderr);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct config cfg = {
		.metrics_listen = "127.0.0.1:9101",
		.level = LOG_LEVEL_INFO,
		.defaults = { 60, NULL, { 0, NULL } },
	};
	struct server_opts so;
	char dur[64], subs[1024];
	sigset_t set;
	int port, sig = 0;

	cfg.defaults.version = xstrdup("1.0");
	options_parse(argc, argv, &cfg);
	if (cfg.defaults.subs.n == 0)
		str_list_add(&cfg.defaults.subs, "all");
	log_init("grpc_client", cfg.level);

	/* Blocked before any thread exists, so only sigwait below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	devices_init(&cfg.defaults);
	proto_init();
	go_duration(cfg.defaults.interval, dur, sizeof(dur));
	str_list_join(&cfg.defaults.subs, subs, sizeof(subs));
	log_info("Streaming interval set to=%s", dur);
	log_info("Metric subscriptions set to=%s, proto version=%s", subs, cfg.defaults.version);
	log_info("Starting listener, attempting to listen at address=%s over tcp", cfg.listen);
	log_info("CERT_PATH: %s", cfg.certs);
	so.listen = cfg.listen;
	so.certs_dir = cfg.certs;
	if (server_start(&so, &port) == -1)
		fatalx("collector server did not start");
	log_info("Collector server started at port=%d (collector_uuid=%s)", port,
	    proto_collector_uuid());
	if (http_start(cfg.metrics_listen) == -1) {
		server_stop();
		fatalx("HTTP server did not start");
	}

	while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
		;
	log_info("signal %s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_stop();
	server_stop();
	stub_lock();
	series_free();
	devices_free();
	stub_unlock();
	settings_free(&cfg.defaults);
	log_info("collector stopped");
	return 0;
}
