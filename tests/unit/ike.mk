# The IKE engine with two/three in-process peers (fake transport, fake clock).
$(BUILD)/tests/test_ike_peers: $(call obj,tests/lib/ike_sim.c $(IKE_SRC) $(CORE_SRC))
# From the config model to the engine (agent/ike/ike_conf.c): nothing the
# API accepts is cut or dropped on the way (R-13.7).
$(BUILD)/tests/test_ike_conf: $(call obj,$(IKE_SRC) $(CORE_SRC))
# The engine on a hostile network (R-13): spoofed, replayed, reflected and
# flooded messages between in-process peers.
$(BUILD)/tests/test_ike_hostile: $(call obj,tests/lib/ike_sim.c $(IKE_SRC) $(CORE_SRC))
# The engine's tables: SAs by cookie and peer, tunnels by peer and selector (R-14.1).
$(BUILD)/tests/test_ike_tables: $(call obj,$(IKE_SRC) $(CORE_SRC))
# Remote access (R-15): a headend and its clients on the same fake wire,
# the clients' side of XAUTH and Mode Config in tests/lib/ike_sim_client.c.
$(BUILD)/tests/test_ike_remote: $(call obj,tests/lib/ike_sim.c tests/lib/ike_sim_client.c $(IKE_SRC) $(CORE_SRC))
# Main Mode with signatures (R-16): the engines with an in-process PKI
# (tests/lib/test_ike_pki.c): each method, identity and role, CERTREQ,
# and every certificate refusal with its reason, notify and log line.
$(BUILD)/tests/test_ike_certs: $(call obj,tests/lib/ike_sim.c tests/lib/test_ike_pki.c $(IKE_SRC) $(CORE_SRC))
