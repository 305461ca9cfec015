/*
 * Logging for every program in the tree: one line per event on stderr,
 * "2026/11/21 10:50:00 I! [component] message", thread-safe.
 * log_warn appends strerror(errno); the *x variants do not.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL__COUNT };

extern const char *const log_level_names[LOG_LEVEL__COUNT];

void log_init(const char *component, enum log_level level);
void log_set_level(enum log_level level);
int  log_level_parse(const char *s, enum log_level *out);
int  log_enabled(enum log_level level);

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
