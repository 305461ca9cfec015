# Fuzz target for the procfs parsers (agent/metrics/procfs.c).
build/fuzz/fuzz_procfs: tests/fuzz/fuzz_procfs.c agent/metrics/procfs.c agent/core/util.c agent/core/log.c
build/fuzz/fuzz_procfs: agent/metrics/procfs.h
build/fuzz/fuzz_procfs: FUZZ_LIBS = -lssl -lcrypto -lm
build/fuzz/fuzz_procfs: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes
