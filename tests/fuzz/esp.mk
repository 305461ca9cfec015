# libFuzzer target for ESP input (agent/esp/): the whole input pipeline
# with real crypto, the SAD and the replay window; the output path is
# linked too, to seal fuzzed plaintexts. Seeds: tests/fuzz/corpus/esp_input/
# (tests/vectors/esp_gen.py --seeds writes them).
build/fuzz/fuzz_esp_input: tests/fuzz/fuzz_esp_input.c agent/esp/sa.c agent/esp/esp_out.c \
	agent/esp/esp_in.c agent/esp/replay.c agent/esp/sad.c agent/core/util.c \
	agent/core/log.c agent/core/buf.c
build/fuzz/fuzz_esp_input: agent/esp/esp.h agent/esp/esp_int.h agent/core/buf.h
build/fuzz/fuzz_esp_input: FUZZ_LIBS = -lssl -lcrypto -lpthread
build/fuzz/fuzz_esp_input: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter

# libFuzzer target for the GRE tunnel interfaces' headers (agent/esp/gre_wire.c).
build/fuzz/fuzz_gre: tests/fuzz/fuzz_gre.c agent/esp/gre_wire.c
build/fuzz/fuzz_gre: agent/esp/gre.h agent/esp/inet.h
build/fuzz/fuzz_gre: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter

# libFuzzer target for the TUN offloads (agent/esp/tunoff.c).
build/fuzz/fuzz_tunoff: tests/fuzz/fuzz_tunoff.c agent/esp/tunoff.c
build/fuzz/fuzz_tunoff: agent/esp/tunoff.h agent/esp/inet.h
build/fuzz/fuzz_tunoff: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
