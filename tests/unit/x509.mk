# Link line for the X.509 helpers' unit test (tests/unit/test_x509.c): the
# core helpers and the test PKI.
$(BUILD)/tests/test_x509: $(call obj,$(CORE_SRC) tests/lib/test_pki.c)
