/* See metrics_env.h. */
#include "metrics_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

char *
metrics_env_exact(const char *text, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, text, len);
	return p;
}

void
metrics_env_path(const char *root, const char *name, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", root, name);

	assert_true(n > 0 && (size_t)n < size);
}

void
metrics_env_put(const char *root, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	metrics_env_path(root, name, path, sizeof(path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

int
metrics_env_promtool(const char *text, char *out, size_t outsize)
{
	char path[] = "/tmp/test_metrics_promXXXXXX", cmd[256];
	FILE *fp;
	size_t n;
	int fd, rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	n = fread(out, 1, outsize - 1, fp);
	out[n] = '\0';
	rc = pclose(fp);
	unlink(path);
	return rc;
}
