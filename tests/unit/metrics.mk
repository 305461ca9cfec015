# Unit tests of agent/metrics/: link deps (the rule in the Makefile adds
# cmocka and the libraries).
$(BUILD)/tests/test_metrics: $(call obj,$(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C) tests/lib/metrics_env.c)
$(BUILD)/tests/test_sysstat: $(call obj,$(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C) tests/lib/metrics_env.c)
# The VPN families from the engine's view, and the per-peer series cap (R-14.4).
$(BUILD)/tests/test_vpn_metrics: $(call obj,agent/metrics/vpn.c $(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C) $(IKE_SRC) $(ESP_SRC))
# The certificate family over configs of test_pki certificates (R-16.3).
$(BUILD)/tests/test_cert_metrics: $(call obj,$(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C) tests/lib/test_pki.c)
# The interface and disk families: their three parsers alone, and the
# source over a fake procfs tree.
$(BUILD)/tests/test_procfs_tables: $(call obj,$(CORE_SRC) agent/metrics/procfs.c tests/lib/metrics_env.c)
$(BUILD)/tests/test_hoststat: $(call obj,$(CORE_SRC) $(METRICS_BASE_SRC) $(PROTO_C) tests/lib/metrics_env.c)
