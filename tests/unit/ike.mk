# The IKE engine with two/three in-process peers (fake transport, fake clock).
$(BUILD)/tests/test_ike_peers: $(call obj,$(IKE_SRC) $(CORE_SRC))
