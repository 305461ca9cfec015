build/fuzz/fuzz_ike_input: tests/fuzz/fuzz_ike_input.c tests/lib/ike_pair.c agent/ike/ike.c agent/ike/ike_mm.c \
	agent/ike/ike_qm.c agent/ike/ike_info.c agent/ike/wire.c agent/ike/wire_build.c \
	agent/ike/crypto.c agent/ike/dh.c agent/ike/dpd.c agent/core/buf.c agent/core/log.c \
	agent/core/util.c
build/fuzz/fuzz_ike_input: FUZZ_LIBS = -Itests/lib -lssl -lcrypto -lpthread
