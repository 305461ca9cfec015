# VPN health agent: one GNU Makefile for the whole tree.
#
#   make            build/vpn-agent, build/vpnctl, build/collector-stub
#   make test       install missing packages, build with ASan+UBSan into
#                   build/san/ and run unit, fuzz-smoke and integration tests
#   make run        the demo: two sites in network namespaces, tunnel up,
#                   metrics at a collector-stub (DEMO=dpd: DPD failover too;
#                   DEMO=remote-access: a headend with clients behind a NAT;
#                   DEMO=gre: two routers, GRE Tunnel0 in transport-mode ESP,
#                   bird2 RIP over it)
#   make bench      benchmarks          make fuzz    long libFuzzer runs
#   make lint       include rules and banned functions
#
# SAN=1 builds the sanitizer variant into build/san (make test does this).

SAN      ?= 0
ifeq ($(SAN),1)
BUILD    ?= build/san
OPT      := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
else
BUILD    ?= build
OPT      := -O2
endif
GEN      := $(BUILD)/gen

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wvla -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iagent -I$(GEN) -Itests/lib -MMD -MP
CFLAGS   += -std=c11 -g $(OPT) $(WARN)
LDFLAGS  += $(filter -fsanitize=%,$(OPT))

LIBS_GRPC  := -lgrpc -lgpr -lprotobuf-c
LIBS_EVENT := -levent -levent_pthreads
LIBS_SSL   := -lssl -lcrypto
LIBS_JSON  := -ljansson

CORE_SRC      := $(wildcard agent/core/*.c)
ESP_SRC       := $(wildcard agent/esp/*.c)
IKE_SRC       := $(wildcard agent/ike/*.c)
METRICS_SRC   := $(wildcard agent/metrics/*.c)
# the registry and encoders without the engine-backed sources (for the
# collector-stub, benchmarks and unit tests)
METRICS_BASE_SRC := $(filter-out agent/metrics/vpn.c,$(METRICS_SRC))
TEL_SRC       := $(wildcard agent/telemetry/*.c)
API_SRC       := $(wildcard agent/api/*.c)
CLI_SRC       := $(wildcard agent/cli/*.c)
COLLECTOR_SRC := $(wildcard collector-stub/*.c)
PROTO_C       := $(GEN)/telemetry.pb-c.c

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

AGENT_OBJ     := $(call obj,agent/main.c agent/views.c $(CORE_SRC) $(ESP_SRC) $(IKE_SRC) $(METRICS_SRC) $(TEL_SRC) $(API_SRC) $(PROTO_C))
VPNCTL_OBJ    := $(call obj,$(CLI_SRC) $(CORE_SRC))
COLLECTOR_OBJ := $(call obj,$(COLLECTOR_SRC) $(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C))

PROGRAMS := $(BUILD)/vpn-agent $(BUILD)/vpnctl $(BUILD)/collector-stub

.PHONY: all test unit-bins fuzz-bins fuzz bench bench-scale bench-api bench-daemon run lint clean deps install uninstall
.SECONDARY:
all: $(PROGRAMS)

$(GEN)/telemetry.pb-c.c $(GEN)/telemetry.pb-c.h &: proto/telemetry.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -Iproto $<

# every object may include the generated header
$(BUILD)/obj/%.o: %.c $(GEN)/telemetry.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/$(GEN)/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -Wmissing-prototypes,$(CFLAGS)) -c -o $@ $<

$(BUILD)/vpn-agent: $(AGENT_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_GRPC) $(LIBS_EVENT) $(LIBS_JSON) $(LIBS_SSL) -lpthread

$(BUILD)/vpnctl: $(VPNCTL_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ -lcurl $(LIBS_JSON) $(LIBS_SSL)

$(BUILD)/collector-stub: $(COLLECTOR_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_GRPC) $(LIBS_EVENT) $(LIBS_JSON) $(LIBS_SSL) -lpthread

# ---- unit tests: one cmocka program per tests/unit/test_*.c -------------
# Each test links the module objects it names in a tests/unit/*.mk file.
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
-include $(wildcard tests/unit/*.mk)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LIBS_GRPC) $(LIBS_EVENT) $(LIBS_JSON) $(LIBS_SSL) -lpthread

# ---- fuzz targets: clang + libFuzzer, one per parser ---------------------
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
               -Iagent -Ibuild/fuzz/gen -DFUZZING
-include $(wildcard tests/fuzz/*.mk)

build/fuzz/gen/telemetry.pb-c.c build/fuzz/gen/telemetry.pb-c.h &: proto/telemetry.proto
	@mkdir -p build/fuzz/gen
	protoc-c --c_out=build/fuzz/gen -Iproto $<

build/fuzz/%: tests/fuzz/%.c build/fuzz/gen/telemetry.pb-c.h
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(FUZZ_LIBS)

deps:
	@tests/lib/install-deps.sh

test: deps
	$(MAKE) SAN=1 all unit-bins
	$(MAKE) fuzz-bins
	tests/run-all.sh build/san

unit-bins: $(UNIT_BIN)
fuzz-bins: $(FUZZ_BIN)

fuzz: deps fuzz-bins
	tests/fuzz/run.sh 300

$(BUILD)/bench/bench_metrics: $(call obj,bench/bench_metrics.c $(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_GRPC) $(LIBS_EVENT) $(LIBS_SSL) -lpthread -lm

$(BUILD)/bench/bench_ike: $(call obj,bench/bench_ike.c tests/lib/ike_pair.c tests/lib/test_pki.c $(filter-out agent/ike/ike_io.c agent/ike/ike_conf.c,$(IKE_SRC)) $(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SSL) -lpthread

# Remote-access connections: the clients' side is the tests' (ike_sim_client.c,
# cmocka's asserts).
$(BUILD)/bench/bench_remote: $(call obj,bench/bench_remote.c tests/lib/ike_sim.c tests/lib/ike_sim_client.c $(filter-out agent/ike/ike_io.c agent/ike/ike_conf.c,$(IKE_SRC)) $(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SSL) -lcmocka -lpthread

$(BUILD)/bench/bench_ike_loopback: $(call obj,bench/bench_ike_loopback.c tests/lib/ike_pair.c $(filter-out agent/ike/ike_io.c agent/ike/ike_conf.c,$(IKE_SRC)) $(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SSL) -lpthread

$(BUILD)/bench/bench_scale: $(call obj,bench/bench_scale.c $(filter-out agent/ike/ike_io.c agent/ike/ike_conf.c,$(IKE_SRC)) $(CORE_SRC) $(ESP_SRC) $(METRICS_SRC) $(PROTO_C))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_GRPC) $(LIBS_EVENT) $(LIBS_SSL) -lpthread -lm

# Headend scale (R-14): the engine with 1,000 / 10,000 / 100,000 tunnels
# (several minutes and about 2 GB at 100,000; a benchmark, not a test).
bench-scale: deps $(BUILD)/bench/bench_scale
	$(BUILD)/bench/bench_scale $(SCALE)

$(BUILD)/bench/loadgen: $(call obj,bench/loadgen.c $(filter-out agent/ike/ike_io.c agent/ike/ike_conf.c,$(IKE_SRC)) $(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EVENT) $(LIBS_SSL) -lpthread

# The whole daemon with TUNNELS tunnels from bench/loadgen over real UDP, in
# network namespaces (root; several minutes at 10,000).
bench-daemon: deps all $(BUILD)/bench/loadgen
	BIN_DIR=$(BUILD) python3 bench/daemon_scale.py $(TUNNELS)

# The configuration API and store with ENTRIES crypto-map entries, one POST
# at a time, then a restart (needs root for nothing; loopback only).
bench-api: deps all
	BIN_DIR=$(BUILD) python3 bench/api_scale.py $(ENTRIES)

bench: deps all $(BUILD)/bench/bench_metrics $(BUILD)/bench/bench_ike $(BUILD)/bench/bench_dh \
		$(BUILD)/bench/bench_remote \
		$(BUILD)/bench/bench_ike_loopback $(BUILD)/bench/bench_esp \
		$(BUILD)/bench/bench_dpd
	BUILD=$(BUILD) bench/run.sh

-include bench/bench.mk

run: deps all
	BIN=$(BUILD) DEMO="$(DEMO)" tools/demo.py

lint:
	@tests/lint.sh

clean:
	rm -rf build

include install.mk

-include $(shell find build -name '*.d' 2>/dev/null)
