# Throughput benchmark pieces (issue 4, make bench points (c)-(e)); included
# by the Makefile with `-include bench/bench.mk` (after its `bench:` rule).
#
#   $(BUILD)/bench/relay    the no-crypto TUN<->UDP relay, the I/O limit (e)
#   make bench-throughput   bench/throughput.py: the relay (plain, UDP GSO/GRO,
#                           + TUN offloads) and strongSwan (kernel-libipsec)
#                           through the same two-site topology, iperf3 TCP
#                           and UDP (needs root; about 2 minutes)

$(BUILD)/bench/relay: bench/relay.c agent/esp/tunoff.c agent/esp/tunoff.h agent/esp/inet.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ bench/relay.c agent/esp/tunoff.c

bench: $(BUILD)/bench/relay

.PHONY: bench-throughput
bench-throughput: deps $(BUILD)/bench/relay
	BIN_DIR=$(BUILD) python3 bench/throughput.py relay relay-gso relay-offload strongswan
