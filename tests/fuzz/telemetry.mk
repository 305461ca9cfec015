build/fuzz/fuzz_control: tests/fuzz/fuzz_control.c agent/telemetry/tel_control.c build/fuzz/gen/telemetry.pb-c.c
build/fuzz/fuzz_control: FUZZ_LIBS = -lprotobuf-c
