# Unit tests of the bounded buffers (agent/core/buf.c) and the IKEv1 wire
# formats (agent/ike/wire.c, wire_build.c): link deps only; the Makefile
# rule adds cmocka and the libraries.
WIRE_TEST_OBJ := $(call obj,agent/ike/wire.c agent/ike/wire_build.c agent/core/buf.c \
                 agent/core/log.c agent/core/util.c)

$(BUILD)/tests/test_buf: $(call obj,agent/core/buf.c agent/core/log.c agent/core/util.c)
$(BUILD)/tests/test_wire: $(WIRE_TEST_OBJ)
