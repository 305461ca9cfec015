/*
 * What the metrics unit tests share (test_metrics, test_sysstat,
 * test_hoststat, test_procfs_tables): exact-length copies of sample
 * inputs, files under a fake /proc root, and promtool on an export.
 */
#ifndef TESTS_METRICS_ENV_H
#define TESTS_METRICS_ENV_H

#include <stddef.h>

/* Heap copy of exactly len bytes, no NUL: reads past it trip ASan. */
char *metrics_env_exact(const char *text, size_t len);
/* root/name into path (asserted to fit). */
void  metrics_env_path(const char *root, const char *name, char *path, size_t size);
/* Writes text to root/name. */
void  metrics_env_put(const char *root, const char *name, const char *text);
/* `promtool check metrics` on text: its exit status, what it said in out. */
int   metrics_env_promtool(const char *text, char *out, size_t outsize);

#endif
