/* SPDX-License-Identifier: MIT */
/*
 * Codec tests: the captured frames with every value their sources state,
 * the identifier table and the conversion rules, request builders against
 * known-good frames, and encoder round trips. The deframer's tests are in
 * test_codec_deframer.c, the decoder's rejections in test_codec_rejects.c.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "codec_steps.h"
#include "hex.h"
#include "test_util.h"

/* ---- captured frames --------------------------------------------------- */

static void test_frame_14s(void **state)
{
	static const uint16_t cells[14] = { 3821, 3834, 3831, 3820, 3832, 3834, 3825,
					    3832, 3811, 3834, 3825, 3835, 3835, 3826 };
	uint8_t f[CODEC_FRAME_MAX];
	struct bms_snapshot s;
	size_t len = test_load_frame(F14, f, sizeof(f));

	(void)state;
	assert_int_equal(len, 285);
	decode_ok(f, len, &s);
	assert_int_equal(s.cell_count, 14);
	assert_memory_equal(s.cell_mv, cells, sizeof(cells));
	assert_int_equal(s.voltage_mv, 53590);
	assert_int_equal(s.current_ma, 2080);
	assert_int_equal(s.soc_pct, 15);
	assert_int_equal(s.cycles, 4);
	assert_int_equal(s.settings.capacity_ah, 14);
	assert_int_equal(s.temp_c[BMS_TEMP_MOSFET], 29);
	assert_int_equal(s.temp_c[BMS_TEMP_T1], 30);
	assert_int_equal(s.temp_c[BMS_TEMP_T2], 28);
	assert_int_equal(s.temp_sensor_count, 2);
	assert_int_equal(s.alarms, 0);
	assert_int_equal(s.status, 0x0007);
	assert_int_equal(s.settings.cell_ovp_mv, 4050);
	assert_int_equal(s.settings.cell_ovpr_mv, 4000);
	assert_int_equal(s.settings.cell_ovp_delay_s, 5);
	assert_int_equal(s.settings.cell_uvp_mv, 3050);
	assert_int_equal(s.settings.cell_uvpr_mv, 3100);
	assert_int_equal(s.settings.cell_uvp_delay_s, 5);
	assert_int_equal(s.settings.pack_ovp_mv, 56700);
	assert_int_equal(s.settings.pack_uvp_mv, 42700);
	assert_int_equal(s.settings.discharge_ocp_a, 7);
	assert_int_equal(s.settings.discharge_ocp_delay_s, 3);
	assert_int_equal(s.settings.charge_ocp_a, 5);
	assert_int_equal(s.settings.charge_ocp_delay_s, 5);
	assert_int_equal(s.settings.balance_start_mv, 3300);
	assert_int_equal(s.settings.balance_trigger_mv, 8);
	assert_int_equal(s.settings.mosfet_otp_c, 90);
	assert_int_equal(s.settings.mosfet_otpr_c, 70);
	assert_int_equal(s.settings.charge_otp_c, 70);
	assert_int_equal(s.settings.discharge_otp_c, 70);
	assert_int_equal(s.settings.charge_utp_c, -20);
	assert_int_equal(s.settings.charge_utpr_c, -10);
	assert_int_equal(s.settings.discharge_utp_c, -20);
	assert_int_equal(s.settings.discharge_utpr_c, -10);
	assert_string_equal(s.software_version, "H6.X__S6.1.3S");
	assert_string_equal(s.manufacturer, "BT3072020120000200521001");
	assert_int_equal(s.runtime_min, 57856);
	assert_int_equal(s.protocol_version, 1);
	assert_true(s.has_extended);
	/* The password "123456" is in the frame but nowhere in the snapshot. */
	assert_non_null(memmem(f, len, "123456", 6));
	assert_null(memmem(&s, sizeof(s), "123456", 6));
}

static void test_frame_16s(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	struct bms_snapshot s;
	size_t len = test_load_frame(F16, f, sizeof(f));

	(void)state;
	assert_int_equal(len, 291);
	decode_ok(f, len, &s);
	assert_int_equal(s.cell_count, 16);
	for (unsigned i = 0; i < 16; i++) {
		assert_in_range(s.cell_mv[i], 3185, 3203);
	}
	assert_int_equal(s.cell_mv[6], 3185);
	assert_int_equal(s.voltage_mv, 51210);
	assert_int_equal(s.current_ma, -690);
	assert_int_equal(s.soc_pct, 15);
	assert_int_equal(s.settings.cell_ovp_mv, 3650);
	assert_int_equal(s.settings.cell_ovpr_mv, 3550);
	assert_int_equal(s.settings.cell_uvp_mv, 2650);
	assert_int_equal(s.settings.cell_uvpr_mv, 2750);
	assert_int_equal(s.settings.charge_ocp_a, 30);
	assert_int_equal(s.settings.discharge_ocp_a, 60);
	assert_int_equal(s.settings.charge_utp_c, 0);
	assert_int_equal(s.settings.charge_utpr_c, 5);
	assert_string_equal(s.software_version, "H7.X__S7.1.0H");
}

static void test_frame_20s_vendor_rejected_then_fixed(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	struct bms_snapshot s;
	struct codec_error e;
	size_t len = test_load_frame(F20, f, sizeof(f));

	(void)state;
	assert_int_equal(len, 269);
	/* As published, the stated checksum 0x4923 is wrong (bytes sum to 0x485C). */
	assert_int_equal(codec_decode(f, len, &s, &e), -EBADMSG);
	assert_int_equal(e.reason, CODEC_REJECT_CHECKSUM);
	assert_int_equal(e.offset, 267);
	assert_int_equal(e.actual, 0x4923);
	assert_int_equal(e.expected, 0x485C);

	struct collect c;

	feed_split(f, len, len, &c);
	assert_int_equal(c.frames, 0);
	assert_int_equal(c.rejects[CODEC_REJECT_CHECKSUM], 1);

	f[267] = 0x48;
	f[268] = 0x5C;
	decode_ok(f, len, &s);
	assert_int_equal(s.cell_count, 20);
	assert_int_equal(s.voltage_mv, 76120);
	assert_int_equal(s.current_raw, 10000);
	assert_int_equal(s.current_ma, 0);
	assert_int_equal(s.soc_pct, 71);
	assert_int_equal(s.status, 0x000B);
	assert_int_equal(s.settings.cell_ovp_mv, 4200);
	assert_int_equal(s.settings.charge_ocp_a, 20);
	assert_int_equal(s.settings.discharge_ocp_a, 40);
	assert_int_equal(s.settings.balancer_enabled, 0);
	assert_string_equal(s.software_version, "NW_1_0_0_200428");
	assert_false(s.has_extended);
	assert_int_equal(s.protocol_version, 0);
	assert_string_equal(s.manufacturer, "");
}

/* ---- the identifier table ---------------------------------------------- */

static void test_id_table(void **state)
{
	/* Never in a reply: below 0x79, 0x88, 0x8D, the write-only 0xBB..0xBF. */
	static const uint8_t absent[] = { 0x00, 0x06, 0x78, 0x7A, 0x7F, 0x88, 0x8D, 0xBB, 0xBF, 0xC1, 0xFF };
	size_t full = 0, old = 0;

	(void)state;
	assert_int_equal(codec_ids[0].id, 0x79);
	assert_int_equal(codec_ids[0].kind, CODEC_KIND_CELLS);
	for (size_t i = 0; i < codec_id_count; i++) {
		const struct codec_id *row = &codec_ids[i];

		/* Ascending, as codec_id_find() searches by halves. */
		if (i > 0)
			assert_true(codec_ids[i - 1].id < row->id);
		assert_ptr_equal(codec_id_find(row->id), row);
		assert_true(row->field < sizeof(struct bms_snapshot));
		assert_true(row->scale >= 1);
		if (row->kind == CODEC_KIND_CELLS)
			continue;
		assert_true(row->length >= 1);
		full += 1 + (size_t)row->length;
		if (row->id <= CODEC_ID_LAST_OLD)
			old += 1 + (size_t)row->length;
	}
	/* Around the records: header 11, 0x79 with its length byte 2 + 3n,
	 * record number, end byte and checksum 9; replies are 3n + 243 bytes,
	 * 3n + 209 in the old layout. */
	assert_int_equal(full, 243 - 22);
	assert_int_equal(old, 209 - 22);
	for (size_t i = 0; i < sizeof(absent); i++)
		assert_null(codec_id_find(absent[i]));
}

/* ---- conversions ------------------------------------------------------- */

static void test_temperature_rule(void **state)
{
	int16_t t;

	(void)state;
	for (uint16_t raw = 0; raw <= 99; raw++) {
		assert_int_equal(codec_temp_from_raw(raw, &t), 0);
		assert_int_equal(t, raw);
	}
	assert_int_equal(codec_temp_from_raw(100, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(codec_temp_from_raw(101, &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(codec_temp_from_raw(120, &t), 0);
	assert_int_equal(t, -20);
	assert_int_equal(codec_temp_from_raw(140, &t), 0);
	assert_int_equal(t, -40);
	assert_int_equal(codec_temp_from_raw(141, &t), -ERANGE);
	assert_int_equal(codec_temp_from_raw(0xFFFF, &t), -ERANGE);
	for (int c = -40; c <= 99; c++) {
		assert_int_equal(codec_temp_from_raw(codec_temp_to_raw((int16_t)c), &t), 0);
		assert_int_equal(t, c);
	}
}

static void test_current_rule(void **state)
{
	(void)state;
	/* Protocol version 1: sign-magnitude, bit 15 = charging. */
	assert_int_equal(codec_current_from_raw(0x80D0, 1), 2080);
	assert_int_equal(codec_current_from_raw(0x81C5, 1), 4530);
	assert_int_equal(codec_current_from_raw(0x83F4, 1), 10120);
	assert_int_equal(codec_current_from_raw(0x0370, 1), -8800);
	assert_int_equal(codec_current_from_raw(0x0045, 1), -690);
	assert_int_equal(codec_current_from_raw(0x07D0, 1), -20000);
	assert_int_equal(codec_current_from_raw(0x87D0, 1), 20000);
	assert_int_equal(codec_current_from_raw(0x0000, 1), 0);
	/* Old firmware: offset 10000. */
	assert_int_equal(codec_current_from_raw(11000, 0), -10000);
	assert_int_equal(codec_current_from_raw(9500, 0), 5000);
	assert_int_equal(codec_current_from_raw(10000, 0), 0);
	assert_int_equal(codec_current_to_raw(20000, 1), 0x87D0);
	assert_int_equal(codec_current_to_raw(-20000, 1), 0x07D0);
	assert_int_equal(codec_current_to_raw(-10000, 0), 11000);
}

/* ---- builders and encoder ---------------------------------------------- */

static void expect_bytes(int len, const uint8_t *got, const char *hex)
{
	uint8_t want[64];
	int n = hex_parse((const uint8_t *)hex, strlen(hex), want, sizeof(want), NULL);

	assert_int_equal(len, n);
	assert_memory_equal(got, want, (size_t)n);
}

static void test_request_builders(void **state)
{
	uint8_t b[CODEC_REQUEST_MAX];

	(void)state;
	/* Known-good frames (docs/protocol-4e57.md, "Requests"; source 03 = host). */
	expect_bytes(codec_build_read_all(b, sizeof(b)), b,
		     "4E 57 00 13 00 00 00 00 06 03 00 00 00 00 00 00 68 00 00 01 29");
	expect_bytes(codec_build_read(0x83, b, sizeof(b)), b,
		     "4E 57 00 13 00 00 00 00 03 03 00 83 00 00 00 00 68 00 00 01 A9");
	expect_bytes(codec_build_activate(b, sizeof(b)), b,
		     "4E 57 00 13 00 00 00 00 01 03 00 00 00 00 00 00 68 00 00 01 24");
	expect_bytes(codec_build_password(b, sizeof(b)), b,
		     "4E 57 00 14 00 00 00 00 05 03 00 00 00 00 00 00 00 68 00 00 01 29");
	expect_bytes(codec_build_write(0xAB, 1, CODEC_TYPE_REQUEST, b, sizeof(b)), b,
		     "4E 57 00 14 00 00 00 00 02 03 00 AB 01 00 00 00 00 68 00 00 01 D2");
	expect_bytes(codec_build_write(0xAB, 0, CODEC_TYPE_REQUEST, b, sizeof(b)), b,
		     "4E 57 00 14 00 00 00 00 02 03 00 AB 00 00 00 00 00 68 00 00 01 D1");
	expect_bytes(codec_build_write(0xAC, 1, CODEC_TYPE_REQUEST, b, sizeof(b)), b,
		     "4E 57 00 14 00 00 00 00 02 03 00 AC 01 00 00 00 00 68 00 00 01 D3");
	expect_bytes(codec_build_write(0xAC, 0, CODEC_TYPE_REQUEST, b, sizeof(b)), b,
		     "4E 57 00 14 00 00 00 00 02 03 00 AC 00 00 00 00 00 68 00 00 01 D2");
	expect_bytes(codec_build_write(0xAB, 1, CODEC_TYPE_UPLOAD, b, sizeof(b)), b,
		     "4E 57 00 14 00 00 00 00 02 03 02 AB 01 00 00 00 00 68 00 00 01 D4");
	assert_int_equal(codec_build_read_all(b, 20), -ENOSPC);
	assert_int_equal(codec_build_write(0xAB, 1, 0, b, 21), -ENOSPC);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= BMS_MAX_CELLS; n++) {
		for (unsigned variant = 0; variant < 2; variant++) {
			struct bms_snapshot in, out;
			uint8_t f[CODEC_FRAME_MAX];

			test_make_snapshot(&in, n, n * 31 + variant);
			if (variant == 0) {
				/* Old firmware: no 0xB8..0xC0, offset-10000 current. */
				in.has_extended = false;
				in.protocol_version = 0;
				in.settings.start_current_calibration = 0;
				in.settings.actual_capacity_ah = 0;
				memset(in.manufacturer, 0, sizeof(in.manufacturer));
			}
			int len = codec_encode_read_all(&in, f, sizeof(f));

			assert_int_equal(len, (variant ? 243 : 209) + 3 * (int)n);
			decode_ok(f, (size_t)len, &out);
			in.current_raw = out.current_raw; /* derived on decode */
			assert_memory_equal(&in, &out, sizeof(in));
			assert_int_equal(out.current_ma, in.current_ma);
		}
	}
	struct bms_snapshot s;
	uint8_t f[CODEC_FRAME_MAX];

	test_make_snapshot(&s, 1, 1);
	s.cell_count = 0;
	assert_int_equal(codec_encode_read_all(&s, f, sizeof(f)), -ERANGE);
	s.cell_count = 4;
	assert_int_equal(codec_encode_read_all(&s, f, 100), -ENOSPC);
}

static void test_error_text(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	struct bms_snapshot s;
	struct codec_error e;
	char msg[160];
	size_t len = test_load_frame(F20, f, sizeof(f));

	(void)state;
	assert_true(codec_decode(f, len, &s, &e) < 0);
	codec_error_format(&e, 0, msg, sizeof(msg));
	assert_string_equal(msg, "checksum mismatch at byte 267: frame says 0x4923, bytes sum to 0x485C");
	for (int r = 0; r <= CODEC_REJECT_COUNT; r++)
		assert_non_null(codec_reject_name((enum codec_reject)r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_14s),
		cmocka_unit_test(test_frame_16s),
		cmocka_unit_test(test_frame_20s_vendor_rejected_then_fixed),
		cmocka_unit_test(test_id_table),
		cmocka_unit_test(test_temperature_rule),
		cmocka_unit_test(test_current_rule),
		cmocka_unit_test(test_request_builders),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_error_text),
	};

	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
