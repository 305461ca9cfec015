# The engine without its sockets (ike_io.c) and config translation
# (ike_conf.c), for the targets that drive whole engines.
IKE_ENGINE_SRC := $(filter-out agent/ike/ike_io.c agent/ike/ike_conf.c,$(wildcard agent/ike/*.c)) \
	agent/core/buf.c agent/core/config.c agent/core/log.c agent/core/passwd.c agent/core/util.c \
	agent/core/wheel.c

build/fuzz/fuzz_ike_input: tests/fuzz/fuzz_ike_input.c tests/lib/ike_pair.c $(IKE_ENGINE_SRC)
build/fuzz/fuzz_ike_input: FUZZ_LIBS = -Itests/lib -lssl -lcrypto -lpthread

build/fuzz/fuzz_ike_invariant: tests/fuzz/fuzz_ike_invariant.c tests/lib/ike_pair.c $(IKE_ENGINE_SRC)
build/fuzz/fuzz_ike_invariant: FUZZ_LIBS = -Itests/lib -lssl -lcrypto -lpthread

# The attribute payload (wire.c: ike_cfg_parse) and a headend's transaction
# exchange (ike_cfg.c); seeds: tests/fuzz/corpus/ike_cfg/.
build/fuzz/fuzz_ike_cfg: tests/fuzz/fuzz_ike_cfg.c $(IKE_ENGINE_SRC)
build/fuzz/fuzz_ike_cfg: FUZZ_LIBS = -lssl -lcrypto -lpthread
build/fuzz/fuzz_ike_cfg: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter

# Main Mode with signatures (R-16): CERT, CERTREQ and SIG payloads of
# messages 3-6 rewritten in flight (5/6 re-encrypted) between two engines
# with the PKI of tests/lib/test_ike_pki.c; seeds: tests/fuzz/corpus/ike_certs/
# (FUZZ_IKE_CERTS_SEEDS=dir build/fuzz/fuzz_ike_certs writes them).
build/fuzz/fuzz_ike_certs: tests/fuzz/fuzz_ike_certs.c tests/lib/ike_pair.c tests/lib/test_ike_pki.c \
	$(IKE_ENGINE_SRC)
build/fuzz/fuzz_ike_certs: FUZZ_LIBS = -Itests/lib -lssl -lcrypto -lpthread
build/fuzz/fuzz_ike_certs: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
