# libFuzzer target of the IOS translator behind `vpnctl import-ios`
# (agent/cli/ios_*.c): text in, objects and diagnostics out, no HTTP.
# Seeds: tests/fuzz/corpus/ios_import/.
IOS_IMPORT_SRC := agent/cli/ios_import.c agent/cli/ios_isakmp.c agent/cli/ios_map.c \
                  agent/cli/ios_client.c agent/cli/ios_pki.c agent/cli/ios_tunnel.c agent/cli/ios_emit.c agent/core/config.c \
                  agent/core/util.c agent/core/log.c agent/core/strbuf.c

build/fuzz/fuzz_ios_import: tests/fuzz/fuzz_ios_import.c $(IOS_IMPORT_SRC)
build/fuzz/fuzz_ios_import: agent/cli/ios_import.h agent/cli/ios_int.h
build/fuzz/fuzz_ios_import: FUZZ_LIBS = -ljansson -lssl -lcrypto
build/fuzz/fuzz_ios_import: FUZZ_CFLAGS += -Wall -Wextra -Werror -Wvla -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
