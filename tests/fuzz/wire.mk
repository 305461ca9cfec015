# Fuzz target for the IKEv1 wire parsers (agent/ike/wire.c); the builders
# are linked too, to check that parsed SAs rebuild to the same fields.
# Seeds: tests/fuzz/corpus/ike_payloads/.
build/fuzz/fuzz_ike_payloads: tests/fuzz/fuzz_ike_payloads.c agent/ike/wire.c \
	agent/ike/wire_build.c agent/core/buf.c agent/core/log.c agent/core/util.c
build/fuzz/fuzz_ike_payloads: agent/ike/wire.h agent/core/buf.h
build/fuzz/fuzz_ike_payloads: FUZZ_LIBS = -lssl -lcrypto
build/fuzz/fuzz_ike_payloads: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
