/*
 * libFuzzer target for the procfs parsers: the same bytes go to the
 * /proc/stat, /proc/meminfo and /proc/<pid>/stat parsers, copied into an
 * exact-size heap buffer so ASan catches any read past len.
 */
#include "metrics/procfs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct procfs_stat stat_out;	/* 70 KB: too big for the stack */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfs_meminfo mi;
	struct procfs_pid_stat ps;
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (procfs_stat_parse(buf, size, &stat_out) == 0) {
		if (stat_out.ncpu > SYSSTAT_CPU_MAX)
			abort();
		for (size_t i = stat_out.ncpu; i < SYSSTAT_CPU_MAX; i++) {
			if (stat_out.present[i])
				abort();
		}
	}
	if (procfs_meminfo_parse(buf, size, &mi) == 0 && mi.total_bytes % 1024 != 0)
		abort();
	(void)procfs_pid_stat_parse(buf, size, &ps);
	free(buf);
	return 0;
}
