/* SPDX-License-Identifier: MIT */
/*
 * The deframer: captured frames under every split, garbage around and
 * between frames, truncation, single bit flips, a wrong end byte, an absurd
 * length, and the echo of a request.
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
	memcpy(stream + n, junk, 2), n += 2;  /* trailing garbage */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_garbage_around_and_back_to_back),
		cmocka_unit_test(test_truncated_then_good),
		cmocka_unit_test(test_single_bit_flips),
		cmocka_unit_test(test_wrong_end_byte),
		cmocka_unit_test(test_absurd_length_then_good),
		cmocka_unit_test(test_echo_of_request_dropped),
	};

	return cmocka_run_group_tests_name("codec_deframer", tests, NULL, NULL);
}
