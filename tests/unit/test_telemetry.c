/*
 * Unit tests for the telemetry decisions that need no network: the
 * ControlRequest verdict (R-4.3..R-4.5) on encoded and decoded messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "telemetry/tel_control.h"

static enum tel_ctrl_verdict
verdict_of(const char *version, int64_t interval, int cancel, unsigned min)
{
	Proto__ControlRequest req = PROTO__CONTROL_REQUEST__INIT;
	Proto__StreamCancellationMessage c = PROTO__STREAM_CANCELLATION_MESSAGE__INIT;
	Proto__ControlRequest *back;
	enum tel_ctrl_verdict v;
	uint8_t buf[256];
	size_t len;

	req.version = (char *)version;
	req.interval = interval;
	if (cancel) {
		c.cancel_stream = 1;
		req.cancellation_message = &c;
	}
	len = proto__control_request__pack(&req, buf);
	back = tel_control_decode(buf, len);
	assert_non_null(back);
	v = tel_control_check(back, min);
	assert_int_equal(v, tel_control_check(&req, min));
	protobuf_c_message_free_unpacked(&back->base, NULL);
	return v;
}

static void
test_interval_bounds(void **state)
{
	assert_int_equal(verdict_of("1.0", 60, 0, 60), TEL_CTRL_ACCEPT);
	assert_int_equal(verdict_of("1.0", 86400, 0, 60), TEL_CTRL_ACCEPT);
	assert_int_equal(verdict_of("1.0", 59, 0, 60), TEL_CTRL_BAD_INTERVAL);
	assert_int_equal(verdict_of("1.0", 30, 0, 60), TEL_CTRL_BAD_INTERVAL);
	assert_int_equal(verdict_of("1.0", 86401, 0, 60), TEL_CTRL_BAD_INTERVAL);
	assert_int_equal(verdict_of("1.0", 0, 0, 60), TEL_CTRL_BAD_INTERVAL);
	assert_int_equal(verdict_of("1.0", -5, 0, 60), TEL_CTRL_BAD_INTERVAL);
	/* The test setting lowers only the minimum. */
	assert_int_equal(verdict_of("1.0", 2, 0, 1), TEL_CTRL_ACCEPT);
	assert_int_equal(verdict_of("1.0", 86401, 0, 1), TEL_CTRL_BAD_INTERVAL);
}

static void
test_versions(void **state)
{
	assert_int_equal(verdict_of("1", 60, 0, 60), TEL_CTRL_ACCEPT);
	assert_int_equal(verdict_of("1.1", 60, 0, 60), TEL_CTRL_ACCEPT);
	assert_int_equal(verdict_of("0.0.1", 60, 0, 60), TEL_CTRL_BAD_VERSION);
	assert_int_equal(verdict_of("2.0", 60, 0, 60), TEL_CTRL_BAD_VERSION);
	assert_int_equal(verdict_of("10", 60, 0, 60), TEL_CTRL_BAD_VERSION);
	assert_int_equal(verdict_of("", 60, 0, 60), TEL_CTRL_BAD_VERSION);
	/* A bad version is reported before a bad interval. */
	assert_int_equal(verdict_of("0.0.1", 30, 0, 60), TEL_CTRL_BAD_VERSION);
}

static void
test_cancel_wins(void **state)
{
	assert_int_equal(verdict_of("", 0, 1, 60), TEL_CTRL_CANCEL);
	assert_int_equal(verdict_of("1.0", 60, 1, 60), TEL_CTRL_CANCEL);
}

static void
test_garbage_rejected(void **state)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t truncated[] = { 0x0a, 0x10, '1', '.' };

	assert_null(tel_control_decode(junk, sizeof(junk)));
	assert_null(tel_control_decode(truncated, sizeof(truncated)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_bounds),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_cancel_wins),
		cmocka_unit_test(test_garbage_rejected),
	};

	return cmocka_run_group_tests_name("telemetry", tests, NULL, NULL);
}
