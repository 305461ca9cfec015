# Unit tests of agent/metrics/: link deps (the rule in the Makefile adds
# cmocka and the libraries).
$(BUILD)/tests/test_metrics: $(call obj,$(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C))
$(BUILD)/tests/test_sysstat: $(call obj,$(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C))
