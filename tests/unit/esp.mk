# Unit tests of the ESP packet core (agent/esp/: SAs, output, input, the
# replay window, the SAD) and its benchmark: link deps only; the Makefile's
# test rule adds cmocka and the libraries. The core is listed by name: the
# dataplane files beside it (TUN, UDP, libevent) are not needed here.
ESP_CORE_SRC := agent/esp/sa.c agent/esp/esp_out.c agent/esp/esp_in.c agent/esp/replay.c \
                agent/esp/sad.c
ESP_TEST_OBJ := $(call obj,$(ESP_CORE_SRC) agent/core/log.c agent/core/util.c agent/core/buf.c)

$(BUILD)/tests/test_esp: $(ESP_TEST_OBJ)
$(BUILD)/tests/test_replay: $(call obj,agent/esp/replay.c)

$(BUILD)/bench/bench_esp: $(call obj,bench/bench_esp.c) $(ESP_TEST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lssl -lcrypto -lpthread
# The dataplane's pair and route tables, on a real TUN device in a private
# network namespace (root).
$(BUILD)/tests/test_dataplane: $(call obj,$(ESP_SRC) $(CORE_SRC))
# TUN offloads: super-packets cut, segments merged (pure functions).
$(BUILD)/tests/test_tunoff: $(call obj,agent/esp/tunoff.c)
