/* SPDX-License-Identifier: MIT */
/* Hex dump parsing and the JSON rendering of a snapshot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bms_json.h"
#include "codec.h"
#include "hex.h"
#include "test_util.h"

static void test_hex_parse(void **state)
{
	uint8_t b[8];
	size_t bad = 99;

	(void)state;
	assert_int_equal(hex_parse((const uint8_t *)"4E 57\n0a:ff", 11, b, sizeof(b), NULL), 4);
	assert_int_equal(b[0], 0x4E);
	assert_int_equal(b[3], 0xFF);
	assert_int_equal(hex_parse((const uint8_t *)"4e570013", 8, b, sizeof(b), NULL), 4);
	assert_int_equal(b[3], 0x13);
	assert_int_equal(hex_parse((const uint8_t *)"0x4E,0x57", 9, b, sizeof(b), NULL), 2);
	assert_int_equal(b[1], 0x57);
	assert_int_equal(hex_parse((const uint8_t *)"4E 5", 4, b, sizeof(b), &bad), -EINVAL);
	assert_int_equal(bad, 3);
	assert_int_equal(hex_parse((const uint8_t *)"4E zz", 5, b, sizeof(b), &bad), -EINVAL);
	assert_int_equal(bad, 3);
	assert_int_equal(hex_parse((const uint8_t *)"4 E", 3, b, sizeof(b), &bad), -EINVAL);
	assert_int_equal(hex_parse((const uint8_t *)"00 11 22", 8, b, 2, NULL), -ENOSPC);

	assert_true(hex_is_text((const uint8_t *)"4E 57 00", 8));
	assert_false(hex_is_text((const uint8_t *)"NW\x01", 3));
	assert_false(hex_is_text((const uint8_t *)"  ", 2));

	char out[16];

	assert_int_equal(hex_format(b, 2, out, sizeof(out)), 5);
	assert_string_equal(out, "00 11");
	assert_int_equal(hex_format((const uint8_t *)"\x4E\x57\x00\x13", 4, out, 8), 5);
	assert_string_equal(out, "4E 57");
}

static void test_json(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len = test_load_frame("jk-14s-h6-6.1.3S.hex", f, sizeof(f));
	struct bms_snapshot s;
	struct codec_error e;
	char json[BMS_JSON_MAX];

	(void)state;
	assert_int_equal(codec_decode(f, len, &s, &e), 0);
	int n = bms_json_format(&s, json, sizeof(json));

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(json));
	static const char *const want[] = {
		"{\"cells_mv\":[3821,3834,3831,3820,3832,3834,3825,3832,3811,3834,3825,3835,3835,3826],",
		"\"voltage_v\":53.59,",
		"\"current_a\":2.08,",
		"\"power_w\":111.47,",
		"\"soc_pct\":15,",
		"\"temperatures_c\":{\"mosfet\":29,\"t1\":30,\"t2\":28}",
		"\"alarms\":0,",
		"\"status\":7,",
		"\"charge_fet\":true,\"discharge_fet\":true,\"balancing\":true,",
		"\"protocol_version\":1,",
		"\"software_version\":\"H6.X__S6.1.3S\"",
		"\"cell_ovp_v\":4.050,",
		"\"cell_ovp_recovery_v\":4.000,",
		"\"charge_utp_c\":-20,",
		"\"pack_ovp_v\":56.70,",
		"\"capacity_ah\":14,",
		"\"charge_ocp_a\":5,",
		"\"runtime_min\":57856,",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(json, want[i]))
			fail_msg("JSON lacks %s:\n%s", want[i], json);
	}
	assert_null(strstr(json, "123456"));
	assert_int_equal(json[n - 1], '}');
	assert_non_null(strstr(json, ",\"protocol\":\"4e57\"}"));

	/* Missing cells are null; alarm names are listed; quotes escaped. */
	s.cell_mv[0] = 0;
	s.alarms = BMS_ALARM_LOW_TEMP | BMS_ALARM_CELL_OVER_VOLTAGE;
	strcpy(s.device_id, "a\"b\\c");
	assert_true(bms_json_format(&s, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, "\"cells_mv\":[null,3834,"));
	assert_non_null(strstr(json, "\"alarm_names\":[\"low_temperature\",\"cell_over_voltage\"]"));
	assert_non_null(strstr(json, "\"device_id\":\"a\\\"b\\\\c\""));

	/* Too small a buffer is reported, not overrun. */
	assert_int_equal(bms_json_format(&s, json, 100), -ENOSPC);
	assert_int_equal(strlen(json), 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_parse),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("misc", tests, NULL, NULL);
}
