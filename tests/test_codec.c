/* SPDX-License-Identifier: MIT */
/*
 * Codec tests: the captured frames with every value their sources state,
 * the deframer under every split, garbage, echo, truncation and bit flips,
 * request builders against known-good frames, and encoder round trips.
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
#include "hex.h"
#include "test_util.h"

#define F14 "jk-14s-h6-6.1.3S.hex"
#define F16 "jk-16s-lfp-h7-7.1.0H.hex"
#define F20 "jk-20s-vendor-example-oldfw.hex"

/* Feed a buffer in pieces of the given sizes (0-terminated list; the last
 * size repeats) and collect decoded frames and rejections. */
struct collect {
	struct bms_snapshot snaps[8];
	unsigned frames;
	unsigned rejects[CODEC_REJECT_COUNT];
	struct codec_error last_err;
};

static void feed_all(struct codec_rx *rx, const uint8_t *data, size_t len, struct collect *c)
{
	struct codec_frame fr;
	struct codec_error e;

	for (;;) {
		size_t used = 0;
		int r = codec_feed(rx, data, len, &used, &fr, &e);

		assert_true(used <= len);
		data += used;
		len -= used;
		if (r == 0) {
			assert_int_equal(len, 0);
			return;
		}
		if (r < 0) {
			assert_true(e.reason > CODEC_REJECT_NONE && e.reason < CODEC_REJECT_COUNT);
			c->rejects[e.reason]++;
			c->last_err = e;
			continue;
		}
		assert_int_equal(r, 1);
		if (codec_decode(fr.data, fr.len, &c->snaps[c->frames % 8], &e) == 0)
			c->frames++;
		else
			c->rejects[e.reason]++, c->last_err = e;
	}
}

static void feed_split(const uint8_t *data, size_t len, size_t piece, struct collect *c)
{
	struct codec_rx rx;

	memset(&rx, 0, sizeof(rx));
	memset(c, 0, sizeof(*c));
	for (size_t off = 0; off < len; off += piece)
		feed_all(&rx, data + off, off + piece <= len ? piece : len - off, c);
}

static unsigned total_rejects(const struct collect *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < CODEC_REJECT_COUNT; i++)
		n += c->rejects[i];
	return n;
}

static void decode_ok(const uint8_t *f, size_t len, struct bms_snapshot *s)
{
	struct codec_error e;
	int r = codec_decode(f, len, s, &e);

	if (r != 0) {
		char msg[160];

		codec_error_format(&e, 0, msg, sizeof(msg));
		fail_msg("decode failed: %s", msg);
	}
}

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

/* ---- deframer ---------------------------------------------------------- */

static const char *const all_frames[] = { F14, F16 };

static void test_every_split(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		uint8_t f[CODEC_FRAME_MAX];
		size_t len = test_load_frame(all_frames[k], f, sizeof(f));
		struct bms_snapshot ref;

		decode_ok(f, len, &ref);
		/* Every two-piece split. */
		for (size_t cut = 0; cut <= len; cut++) {
			struct codec_rx rx;
			struct collect c;

			memset(&rx, 0, sizeof(rx));
			memset(&c, 0, sizeof(c));
			feed_all(&rx, f, cut, &c);
			feed_all(&rx, f + cut, len - cut, &c);
			assert_int_equal(c.frames, 1);
			assert_int_equal(total_rejects(&c), 0);
			assert_memory_equal(&c.snaps[0], &ref, sizeof(ref));
			assert_int_equal(codec_rx_pending(&rx), 0);
		}
		/* Byte by byte and other piece sizes. */
		for (size_t piece = 1; piece < 40; piece++) {
			struct collect c;

			feed_split(f, len, piece, &c);
			assert_int_equal(c.frames, 1);
			assert_memory_equal(&c.snaps[0], &ref, sizeof(ref));
		}
	}
}

static void test_garbage_around_and_back_to_back(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len = test_load_frame(F14, f, sizeof(f));
	/* Garbage that contains "N", "NW" and a false header. */
	static const uint8_t junk[] = { 0x00, 0xFF, 0x4E, 0x4E, 0x57, 0x00, 0x01, 0x4E, 0x12, 0x68, 0x4E };
	uint8_t stream[3 * CODEC_FRAME_MAX];
	size_t n = 0;

	(void)state;
	memcpy(stream + n, junk, sizeof(junk)), n += sizeof(junk);
	memcpy(stream + n, f, len), n += len;
	memcpy(stream + n, f, len), n += len; /* back to back */
	memcpy(stream + n, junk, 2), n += 2;   /* trailing garbage */
	for (size_t piece = 1; piece <= n; piece += (piece < 16 ? 1 : 97)) {
		struct collect c;

		feed_split(stream, n, piece, &c);
		assert_int_equal(c.frames, 2);
		assert_int_equal(c.snaps[1].voltage_mv, 53590);
	}
}

static void test_truncated_then_good(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len = test_load_frame(F14, f, sizeof(f));
	uint8_t stream[2 * CODEC_FRAME_MAX];
	struct collect c;
	struct codec_rx rx;

	(void)state;
	/* A reply cut off after 100 bytes: nothing comes out, bytes are held. */
	memset(&rx, 0, sizeof(rx));
	memset(&c, 0, sizeof(c));
	feed_all(&rx, f, 100, &c);
	assert_int_equal(c.frames, 0);
	assert_int_equal(codec_rx_pending(&rx), 100);

	/* The truncated reply followed directly by a good one: the good one is
	 * recovered after the false candidate fails its checks. */
	memcpy(stream, f, 100);
	memcpy(stream + 100, f, len);
	feed_split(stream, 100 + len, 7, &c);
	assert_int_equal(c.frames, 1);
	assert_int_equal(c.snaps[0].cell_mv[8], 3811);
	assert_true(total_rejects(&c) >= 1);

	/* codec_rx_skip() lets a caller give up on a candidate. */
	memset(&rx, 0, sizeof(rx));
	memset(&c, 0, sizeof(c));
	feed_all(&rx, f, 100, &c);
	while (codec_rx_skip(&rx) > 0)
		feed_all(&rx, NULL, 0, &c);
	assert_int_equal(codec_rx_pending(&rx), 0);
	feed_all(&rx, f, len, &c);
	assert_int_equal(c.frames, 1);
}

static void test_single_bit_flips(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		uint8_t f[CODEC_FRAME_MAX];
		size_t len = test_load_frame(all_frames[k], f, sizeof(f));
		struct bms_snapshot ref;

		decode_ok(f, len, &ref);
		for (size_t i = 0; i < len; i++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				struct collect c;

				f[i] ^= (uint8_t)(1u << bit);
				feed_split(f, len, len, &c);
				/* Either nothing decodes, or (a flip in the unused
				 * CRC16 field) exactly the original values. */
				if (c.frames) {
					assert_int_equal(c.frames, 1);
					assert_true(i == len - 4 || i == len - 3);
					assert_memory_equal(&c.snaps[0], &ref, sizeof(ref));
				}
				f[i] ^= (uint8_t)(1u << bit);
			}
		}
	}
}

static void test_wrong_end_byte(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len = test_load_frame(F14, f, sizeof(f));
	struct collect c;

	(void)state;
	f[len - 5] = 0x69;
	codec_seal(f, len);
	feed_split(f, len, len, &c);
	assert_int_equal(c.frames, 0);
	assert_int_equal(c.rejects[CODEC_REJECT_END_BYTE], 1);
	assert_int_equal(c.last_err.offset, len - 5);
}

static void test_absurd_length_then_good(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len = test_load_frame(F14, f, sizeof(f));
	uint8_t stream[CODEC_FRAME_MAX + 8];
	struct collect c;

	(void)state;
	static const uint8_t bad[] = { 0x4E, 0x57, 0xFF, 0xFF, 0x4E, 0x57, 0x00, 0x05 };

	memcpy(stream, bad, sizeof(bad));
	memcpy(stream + sizeof(bad), f, len);
	feed_split(stream, sizeof(bad) + len, 3, &c);
	assert_int_equal(c.frames, 1);
	assert_int_equal(c.rejects[CODEC_REJECT_LENGTH], 2);
}

static void test_echo_of_request_dropped(void **state)
{
	uint8_t f[CODEC_FRAME_MAX];
	size_t len = test_load_frame(F16, f, sizeof(f));
	uint8_t stream[CODEC_FRAME_MAX + CODEC_REQUEST_MAX];
	int rl = codec_build_read_all(stream, sizeof(stream));
	struct collect c;

	(void)state;
	assert_int_equal(rl, 21);
	memcpy(stream + rl, f, len);
	for (size_t piece = 1; piece < 30; piece++) {
		feed_split(stream, (size_t)rl + len, piece, &c);
		assert_int_equal(c.frames, 1);
		assert_int_equal(c.rejects[CODEC_REJECT_NOT_REPLY], 1);
		assert_int_equal(total_rejects(&c), 1);
		assert_int_equal(c.last_err.offset, 9);
		assert_int_equal(c.snaps[0].current_ma, -690);
	}
}

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
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_garbage_around_and_back_to_back),
		cmocka_unit_test(test_truncated_then_good),
		cmocka_unit_test(test_single_bit_flips),
		cmocka_unit_test(test_wrong_end_byte),
		cmocka_unit_test(test_absurd_length_then_good),
		cmocka_unit_test(test_echo_of_request_dropped),
		cmocka_unit_test(test_decoder_rejects),
		cmocka_unit_test(test_walk_overrun_and_missing),
		cmocka_unit_test(test_missing_cell_is_not_zero_volts),
		cmocka_unit_test(test_id_table),
		cmocka_unit_test(test_temperature_rule),
		cmocka_unit_test(test_current_rule),
		cmocka_unit_test(test_request_builders),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_error_text),
	};

	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
