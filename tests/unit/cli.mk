# Unit test of the IOS translator behind `vpnctl import-ios`
# (agent/cli/ios_*.c, no libcurl): link deps only; the Makefile's rule adds
# cmocka and the libraries. Golden files: tests/golden/ios/.
IOS_IMPORT_OBJ := $(call obj,agent/cli/ios_import.c agent/cli/ios_isakmp.c \
                  agent/cli/ios_map.c agent/cli/ios_client.c agent/cli/ios_pki.c agent/cli/ios_tunnel.c agent/cli/ios_emit.c \
                  $(CORE_SRC))

$(BUILD)/tests/test_ios_import: $(IOS_IMPORT_OBJ)
