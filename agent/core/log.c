/*
 * Line-oriented logging to stderr in the collector style the reference
 * documents use ("2024/08/19 11:08:58 D! [grpc_client] ..."). One fprintf
 * per line under the stdio lock so threads never interleave.
 */
#include "core/log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const log_level_names[LOG_LEVEL__COUNT] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
};
static_assert(sizeof(log_level_names) / sizeof(log_level_names[0]) == LOG_LEVEL__COUNT,
	      "log level names");

static const char *log_component = "vpn-agent";
static enum log_level log_min = LOG_LEVEL_INFO;

void
log_init(const char *component, enum log_level level)
{
	log_component = component;
	log_min = level;
}

void
log_set_level(enum log_level level)
{
	log_min = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < LOG_LEVEL__COUNT; i++) {
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level >= log_min;
}

static void __attribute__((format(printf, 3, 0)))
log_vline(enum log_level level, char tag, const char *fmt, va_list ap, int errnum)
{
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm);
	flockfile(stderr);
	if (errnum)
		fprintf(stderr, "%s %c! [%s] %s: %s\n", stamp, tag, log_component, msg,
			strerror(errnum));
	else
		fprintf(stderr, "%s %c! [%s] %s\n", stamp, tag, log_component, msg);
	fflush(stderr);
	funlockfile(stderr);
}

#define LOG_BODY(level, tag, errnum)                   \
	do {                                           \
		va_list ap;                            \
		va_start(ap, fmt);                     \
		log_vline(level, tag, fmt, ap, errnum); \
		va_end(ap);                            \
	} while (0)

void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, 'D', 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, 'I', 0); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, 'W', 0); }

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_WARN, 'W', saved);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_WARN, 'E', saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 'E', 0);
	exit(1);
}
