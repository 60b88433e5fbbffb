/* SPDX-License-Identifier: MIT */
/*
 * The decoder's rejections: each reason on a captured frame made wrong,
 * the record walk running over its end or missing a record, and a missing
 * cell that must not read as 0 V.
 */
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

/* ---- decoder rejections ------------------------------------------------ */

static size_t load_fixed14(uint8_t *f)
{
	return test_load_frame(F14, f, CODEC_FRAME_MAX);
}

static void expect_reject(uint8_t *f, size_t len, enum codec_reject reason)
{
	struct bms_snapshot s;
	struct codec_error e;

	codec_seal(f, len);
	assert_true(codec_decode(f, len, &s, &e) < 0);
	assert_int_equal(e.reason, reason);
}

static void test_decoder_rejects(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len;
	size_t base = 13 + 3 * 14; /* offset of the 0x80 identifier */

	(void)state;
	len = load_fixed14(f);
	/* Unknown identifier: 0x88 where 0x89 stands. */
	f[base + 22] = 0x88;
	expect_reject(f, len, CODEC_REJECT_UNKNOWN_ID);

	/* Duplicate: 0x81 relabelled as 0x80. */
	len = load_fixed14(f);
	f[base + 3] = 0x80;
	expect_reject(f, len, CODEC_REJECT_DUPLICATE_ID);

	/* Cell block length not a multiple of 3. */
	len = load_fixed14(f);
	f[12] = 41;
	expect_reject(f, len, CODEC_REJECT_CELLS);

	/* Cell indexes out of order. */
	len = load_fixed14(f);
	f[13 + 3] = 5;
	expect_reject(f, len, CODEC_REJECT_CELLS);

	/* A read-all that is not one (write acknowledgement). */
	len = load_fixed14(f);
	f[8] = CODEC_CMD_WRITE;
	expect_reject(f, len, CODEC_REJECT_COMMAND);

	/* Temperature raw 141 is outside the vendor's range. */
	len = load_fixed14(f);
	f[base + 1] = 0x00;
	f[base + 2] = 141;
	expect_reject(f, len, CODEC_REJECT_TEMPERATURE);

	/* SoC above 100. */
	len = load_fixed14(f);
	f[base + 16] = 101;
	expect_reject(f, len, CODEC_REJECT_SOC);

	/* Pack voltage 1 V off the cell sum. */
	len = load_fixed14(f);
	f[base + 10] = 0x14;
	f[base + 11] = 0x87; /* 52.55 V */
	expect_reject(f, len, CODEC_REJECT_VOLTAGE_SUM);
}

static void test_walk_overrun_and_missing(void **state)
{
	struct bms_snapshot s;
	uint8_t f[CODEC_FRAME_MAX];
	int len;

	(void)state;
	/* Old layout frame, then cut the 0xB7 record: 0xB7 is required. */
	test_make_snapshot(&s, 4, 3);
	s.has_extended = false;
	len = codec_encode_read_all(&s, f, sizeof(f));
	assert_true(len > 0);
	/* Relabel the final 0xB7 (15 bytes) as 0xB9 (4 bytes): the walk then
	 * meets the string's bytes as identifiers. */
	size_t b7 = (size_t)len - 9 - 16;

	assert_int_equal(f[b7], 0xB7);
	f[b7] = 0xB9;
	expect_reject(f, (size_t)len, CODEC_REJECT_UNKNOWN_ID);

	/* Relabel 0xB7 as 0xBA (24 bytes): runs past the record number. */
	len = codec_encode_read_all(&s, f, sizeof(f));
	f[b7] = 0xBA;
	expect_reject(f, (size_t)len, CODEC_REJECT_WALK_END);

	/* Shrink the frame so that 0xB7 is gone entirely: missing identifier. */
	len = codec_encode_read_all(&s, f, sizeof(f));
	memmove(f + b7, f + b7 + 16, (size_t)len - b7 - 16);
	len -= 16;
	f[2] = (uint8_t)((len - 2) >> 8);
	f[3] = (uint8_t)(len - 2);
	expect_reject(f, (size_t)len, CODEC_REJECT_MISSING_ID);
}

static void test_missing_cell_is_not_zero_volts(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	struct bms_snapshot s;
	size_t len = load_fixed14(f);

	(void)state;
	/* Cells 1 and 2 read 0 mV (open sense leads, as captured on a real unit): the
	 * frame still counts, the sum check is one-sided. */
	f[14] = f[15] = 0;
	f[17] = f[18] = 0;
	codec_seal(f, len);
	decode_ok(f, len, &s);
	assert_int_equal(s.cell_mv[0], 0);
	assert_int_equal(s.cell_mv[1], 0);
	assert_int_equal(s.cell_mv[2], 3831);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_rejects),
		cmocka_unit_test(test_walk_overrun_and_missing),
		cmocka_unit_test(test_missing_cell_is_not_zero_volts),
	};

	return cmocka_run_group_tests_name("codec_rejects", tests, NULL, NULL);
}
