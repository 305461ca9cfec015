# Link lines for the API and config unit tests (tests/unit/test_api*.c,
# test_config*.c, test_passwd.c). The tests define their own tel_state_names and
# tel_err_type_names: the telemetry module is not linked in.
API_TEST_OBJ := $(call obj,$(API_SRC) $(CORE_SRC))

$(BUILD)/tests/test_config: $(call obj,$(CORE_SRC))
$(BUILD)/tests/test_passwd: $(call obj,agent/core/passwd.c)
$(BUILD)/tests/test_api: $(API_TEST_OBJ) $(call obj,tests/lib/test_pki.c tests/lib/api_env.c)
$(BUILD)/tests/test_api_codec: $(API_TEST_OBJ) $(call obj,tests/lib/test_pki.c)
$(BUILD)/tests/test_api_store: $(API_TEST_OBJ)
$(BUILD)/tests/test_api_http: $(API_TEST_OBJ)
$(BUILD)/tests/test_api_vpn: $(API_TEST_OBJ) $(call obj,tests/lib/api_env.c)
$(BUILD)/tests/test_api_ra: $(API_TEST_OBJ) $(call obj,tests/lib/api_env.c)
$(BUILD)/tests/test_api_gre: $(API_TEST_OBJ) $(call obj,tests/lib/api_env.c)
$(BUILD)/tests/test_api_certs: $(API_TEST_OBJ) $(call obj,tests/lib/test_pki.c tests/lib/api_env.c)
