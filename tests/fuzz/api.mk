# libFuzzer targets of the API module: the generic codec and the object
# tables, linked without HTTP or persistence.
API_FUZZ_SRC := agent/api/codec.c agent/api/json.c agent/api/model.c agent/api/objects.c agent/api/tunnel_if.c \
                agent/core/config.c agent/core/util.c agent/core/log.c agent/core/strbuf.c \
                agent/core/passwd.c agent/core/x509.c

build/fuzz/fuzz_api_objects: tests/fuzz/fuzz_api_objects.c tests/lib/test_pki.c $(API_FUZZ_SRC)
build/fuzz/fuzz_api_objects: FUZZ_LIBS = -Itests/lib -ljansson -lssl -lcrypto
