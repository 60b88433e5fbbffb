/* SPDX-License-Identifier: MIT */
/* Hex dump parsing, the JSON rendering of a snapshot, the rounding of
 * published doubles (units.h), and the battery model's midpoint and
 * temperature-sensor check. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "battery.h"
#include "bms_json.h"
#include "codec.h"
#include "hex.h"
#include "test_util.h"
#include "units.h"

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

/* The shortest decimal that reads back as v has at most `places` places. */
static void assert_places(double v, unsigned places, double from)
{
	char s[40];

	for (int p = 1; p <= 17; p++) {
		snprintf(s, sizeof(s), "%.*g", p, v);
		if (strtod(s, NULL) == v)
			break;
	}
	const char *e = strpbrk(s, "e");
	const char *dot = strchr(s, '.');
	int have = dot ? (int)((e ? e : s + strlen(s)) - dot - 1) : 0;

	if (e)
		have -= atoi(e + 1);
	if (have > (int)places)
		fail_msg("round_decimals(%.17g, %u) = %s", from, places, s);
}

static void test_round_decimals(void **state)
{
	(void)state;
	/* The numbers, as round(v / step) * step made them. */
	assert_true(round_decimals(45.660000000000004, 2) == 45.66);
	assert_true(round_decimals(159.60000000000002, 1) == 159.6);
	assert_true(round_decimals(1331.3000000000002, 0) == 1331);
	assert_true(round_decimals(3.8000000000000003, 1) == 3.8);
	assert_true(round_decimals(-0.04, 1) == 0 && !signbit(round_decimals(-0.04, 1)));
	assert_true(round_decimals(2.675, 2) == 2.68 || round_decimals(2.675, 2) == 2.67);
	/* Every integer over 10^k, with noise: the nearest double to a decimal
	 * of at most k places, and the one strtod reads for it. */
	for (unsigned k = 0; k <= 4; k++) {
		for (long n = -200000; n <= 200000; n += 97) {
			double exact = (double)n / pow(10, k);
			double noisy[] = { exact, exact * (1 + 3e-16), exact * (1 - 3e-16), exact + 0.4 / pow(10, k) };

			for (size_t j = 0; j < sizeof(noisy) / sizeof(noisy[0]); j++) {
				double r = round_decimals(noisy[j], k);
				char text[40];

				assert_places(r, k, noisy[j]);
				snprintf(text, sizeof(text), "%.*f", (int)k, r);
				assert_true(strtod(text, NULL) == r);
			}
		}
	}
	/* Each unit at its resolution; too large or not finite: unchanged. */
	assert_true(unit_round(53.2149, UNIT_V) == 53.21);
	assert_true(unit_round(3.3334, UNIT_CELL_V) == 3.333);
	assert_true(unit_round(0.26, UNIT_KWH) == 0.26);
	assert_true(unit_round(1e300, UNIT_A) == 1e300);
	assert_true(isnan(unit_round(NAN, UNIT_W)));
	for (unsigned u = UNIT_NONE + 1; u < UNIT_COUNT; u++) {
		char want[16];

		snprintf(want, sizeof(want), "%%.%uf", units[u].decimals);
		assert_true(strncmp(units[u].text, want, strlen(want)) == 0); /* the text shows the resolution */
	}
}

/* The cell names of /System/Min|MaxVoltageCellId: as snprintf("C%u")
 * would write them, from one digit to ten. */
static void test_cell_name(void **state)
{
	char out[BATTERY_CELL_NAME_MAX], want[16];

	(void)state;
	assert_string_equal(battery_cell_name(7, out), "C7");
	assert_string_equal(battery_cell_name(16, out), "C16");
	assert_string_equal(battery_cell_name(0, out), "C0");
	assert_string_equal(battery_cell_name(4294967295u, out), "C4294967295");
	for (unsigned n = 0; n < 2000; n++) {
		snprintf(want, sizeof(want), "C%u", n);
		assert_string_equal(battery_cell_name(n, out), want);
	}
}

static void test_midpoint_and_sensors(void **state)
{
	static const uint16_t cells[] = { 3000, 3100, 3200, 3300 };
	struct bms_snapshot s;
	struct battery b;

	(void)state;
	memset(&s, 0, sizeof(s));
	battery_init(&b, 10);
	/* Three cells: the lower one and half the middle one, 3.0 + 1.55 V;
	 * deviation 100 x (4.75 - 4.55) / 9.3. */
	s.cell_count = 3;
	memcpy(s.cell_mv, cells, sizeof(cells));
	s.voltage_mv = 9300;
	battery_update(&b, &s, 0);
	assert_true(b.show.have_mid);
	assert_true(fabs(b.show.mid_v - 4.55) < 1e-9);
	assert_true(fabs(b.show.mid_dev_pct - 100.0 * 0.2 / 9.3) < 1e-9);
	/* Four: the lower two, 6.1 V of 12.6 V; the upper half is higher. */
	s.cell_count = 4;
	s.voltage_mv = 12600;
	battery_update(&b, &s, 0);
	assert_true(fabs(b.show.mid_v - 6.1) < 1e-9);
	assert_true(fabs(b.show.mid_dev_pct - 100.0 * 0.4 / 12.6) < 1e-9);
	/* One unmeasured (0 mV), or a single cell: no midpoint. */
	s.cell_mv[1] = 0;
	battery_update(&b, &s, 0);
	assert_false(b.show.have_mid);
	s.cell_count = 1;
	s.voltage_mv = 3000;
	battery_update(&b, &s, 0);
	assert_false(b.show.have_mid);
	/* Sensors: only the ones 0x86 counts, of T1 and T2, -40..100 C. */
	s.temp_sensor_count = 2;
	s.temp_c[BMS_TEMP_T1] = -40, s.temp_c[BMS_TEMP_T2] = 100;
	assert_false(battery_temp_sensor_bad(&s));
	s.temp_c[BMS_TEMP_T2] = 101;
	assert_true(battery_temp_sensor_bad(&s));
	s.temp_sensor_count = 1; /* T2 is not the BMS's */
	assert_false(battery_temp_sensor_bad(&s));
	s.temp_c[BMS_TEMP_T1] = -41;
	assert_true(battery_temp_sensor_bad(&s));
	s.temp_c[BMS_TEMP_T1] = 20;
	s.temp_missing = 1u << BMS_TEMP_T1;
	assert_true(battery_temp_sensor_bad(&s));
	s.temp_sensor_count = 0;
	assert_false(battery_temp_sensor_bad(&s));
	s.temp_c[BMS_TEMP_MOSFET] = 120; /* not a battery sensor */
	s.temp_sensor_count = 2, s.temp_missing = 0, s.temp_c[BMS_TEMP_T2] = 30;
	assert_false(battery_temp_sensor_bad(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_parse),      cmocka_unit_test(test_json),
		cmocka_unit_test(test_round_decimals), cmocka_unit_test(test_midpoint_and_sensors),
		cmocka_unit_test(test_cell_name),
	};

	return cmocka_run_group_tests_name("misc", tests, NULL, NULL);
}
