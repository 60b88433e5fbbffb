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

/* Offset of record id in an encoded read-all frame, walking from the
 * information field (offset 11) as the decoder does. */
static size_t record_at(const uint8_t *f, uint8_t id)
{
	size_t pos = 11;

	while (f[pos] != id)
		pos += f[pos] == 0x79 ? 2u + f[pos + 1] : 1u + codec_id_find(f[pos])->length;
	return pos;
}

static void test_records_in_any_order(void **state)
{
	uint8_t f[CODEC_FRAME_MAX], t[3];
	struct bms_snapshot s, in_order, swapped;
	struct codec_error e;

	(void)state;
	test_make_snapshot(&s, 16, 3);
	int len = codec_encode_read_all(&s, f, sizeof(f));

	assert_true(len > 0);
	assert_int_equal(codec_decode(f, (size_t)len, &in_order, &e), 0);
	/* 0x81 before 0x80: the decoder looks past the row it expects next. */
	size_t p80 = record_at(f, 0x80);

	assert_int_equal(f[p80 + 3], 0x81);
	memcpy(t, f + p80, 3);
	memmove(f + p80, f + p80 + 3, 3);
	memcpy(f + p80 + 3, t, 3);
	codec_seal(f, (size_t)len);
	assert_int_equal(codec_decode(f, (size_t)len, &swapped, &e), 0);
	assert_memory_equal(&swapped, &in_order, sizeof(swapped));

	/* 0x87 (cycles, 2 bytes) cut out: the one missing row is named. */
	len = codec_encode_read_all(&s, f, sizeof(f));
	size_t p87 = record_at(f, 0x87);

	memmove(f + p87, f + p87 + 3, (size_t)len - p87 - 3);
	len -= 3;
	f[2] = (uint8_t)((len - 2) >> 8);
	f[3] = (uint8_t)(len - 2);
	codec_seal(f, (size_t)len);
	assert_true(codec_decode(f, (size_t)len, &swapped, &e) < 0);
	assert_int_equal(e.reason, CODEC_REJECT_MISSING_ID);
	assert_int_equal(e.expected, 0x87);
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
		cmocka_unit_test(test_records_in_any_order),
		cmocka_unit_test(test_missing_cell_is_not_zero_volts),
	};

	return cmocka_run_group_tests_name("codec_rejects", tests, NULL, NULL);
}
