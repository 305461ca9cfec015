# Dead Peer Detection and the timer wheel (agent/ike/dpd.c,
# agent/core/wheel.c): unit test link lines (the rule in the Makefile adds
# cmocka and the libraries) and the DPD-at-scale benchmark.
$(BUILD)/tests/test_dpd: $(call obj,agent/ike/dpd.c agent/core/wheel.c agent/core/log.c agent/core/util.c)
$(BUILD)/tests/test_wheel: $(call obj,agent/core/wheel.c agent/core/log.c agent/core/util.c)

$(BUILD)/bench/bench_dpd: $(call obj,bench/bench_dpd.c agent/ike/dpd.c agent/core/wheel.c agent/core/log.c agent/core/util.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lssl -lcrypto
