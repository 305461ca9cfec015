# Link line for the vpnctl show renderers' unit test (tests/unit/
# test_vpnctl_show.c): the pure renderers of agent/cli/show_crypto.c and
# show_interfaces.c, and core only; no libcurl, no API client, no agent.
# The Makefile's test rule adds cmocka and the libraries (jansson among them).
$(BUILD)/tests/test_vpnctl_show: $(call obj,agent/cli/show_crypto.c agent/cli/show_interfaces.c \
                                 $(CORE_SRC))
