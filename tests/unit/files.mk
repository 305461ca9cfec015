# Link line for the file-safety unit test (tests/unit/test_files.c): the
# core helpers only.
$(BUILD)/tests/test_files: $(call obj,$(CORE_SRC))
