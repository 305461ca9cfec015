# Unit test and benchmark of agent/ike/crypto.c and dh.c (the Makefile's
# test rule adds cmocka and the libraries).
IKE_CRYPTO_OBJ := $(call obj,agent/ike/crypto.c agent/ike/dh.c agent/core/log.c agent/core/util.c)

# With ike_cert.c for the signature answers (and a self-signed certificate
# for the generator's keys from tests/lib/test_ike_pki.c).
$(BUILD)/tests/test_ike_crypto: $(IKE_CRYPTO_OBJ) \
	$(call obj,agent/ike/ike_cert.c tests/lib/test_ike_pki.c)

$(BUILD)/bench/bench_dh: $(call obj,bench/bench_dh.c) $(IKE_CRYPTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lssl -lcrypto
