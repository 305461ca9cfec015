$(BUILD)/tests/test_telemetry: $(call obj,agent/telemetry/tel_control.c $(CORE_SRC) $(PROTO_C))
