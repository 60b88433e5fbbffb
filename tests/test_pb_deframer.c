/* SPDX-License-Identifier: MIT */
/*
 * The JK PB deframer over the captured frames (tests/data/pb): every
 * split, our echoed request and a stale acknowledgement in front, 00
 * padding, frames back to back, every single bit flip, every truncation,
 * and acknowledgements that do not match.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pb_codec.h"
#include "test_util.h"

#define WIRE_MAX (PB_FRAME_LEN + PB_PAD_MAX + PB_ACK_LEN + 64)

/* Load a capture; BLE captures and the 300-byte RS-485 ones get the
 * acknowledgement a pack at addr would send. Returns the stream length. */
static size_t load_wire(const char *name, uint8_t addr, uint8_t *buf)
{
	size_t len = test_load_frame(name, buf, WIRE_MAX);

	assert_true(len == PB_FRAME_LEN || len == PB_FRAME_LEN + PB_ACK_LEN);
	if (len == PB_FRAME_LEN)
		len += (size_t)pb_build_ack(addr, pb_trigger_register(buf[4]), buf + len, PB_ACK_LEN);
	return len;
}

struct got {
	unsigned frames, rejects;
	enum codec_reject last_reject;
	struct pb_frame f[4];
};

static void feed(struct pb_rx *rx, const uint8_t *d, size_t n, struct got *g)
{
	for (;;) {
		size_t used = 0;
		struct pb_frame f;
		struct codec_error e;
		int r = pb_feed(rx, d, n, &used, &f, &e);

		assert_true(used <= n);
		d += used;
		n -= used;
		if (r == 0) {
			assert_int_equal(n, 0);
			return;
		}
		if (r < 0) {
			assert_true(e.reason > CODEC_REJECT_NONE && e.reason < CODEC_REJECT_COUNT);
			g->rejects++;
			g->last_reject = e.reason;
			continue;
		}
		if (g->frames < 4)
			g->f[g->frames] = f;
		g->frames++;
	}
}

/* ---- the deframer ------------------------------------------------------ */

static const struct wire_case {
	const char *name;
	uint8_t addr;
} wires[] = {
	{ "pb/pb-cell-rs485-phinix-slave-addr1.hex", 1 },
	{ "pb/pb-cell-rs485-txubelaxu-addr3-fw15.32-charging.hex", 3 },
	{ "pb/pb-devinfo-rs485-phinix-addr1-fw15.30.hex", 1 },
	{ "pb/pb-cell-rs485-phinix-master-addr0-broadcast.hex", 0 },
	{ "pb/pb-settings-rs485-phinix-master-addr0-broadcast.hex", 0 },
	{ "pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", 3 },
	{ "pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", 3 },
	{ "pb/pb-devinfo-rs485-mrmanuel-addr3-fw15.41.hex", 3 },
	{ "pb/pb-cell-ble-syssi-v19.hex", 7 },
};

#define NWIRES (sizeof(wires) / sizeof(wires[0]))

static void test_every_split(void **state)
{
	(void)state;
	for (size_t k = 0; k < NWIRES; k++) {
		uint8_t w[WIRE_MAX];
		size_t len = load_wire(wires[k].name, wires[k].addr, w);

		for (size_t cut = 0; cut <= len; cut++) {
			struct pb_rx rx;
			struct got g;

			memset(&rx, 0, sizeof(rx));
			memset(&g, 0, sizeof(g));
			feed(&rx, w, cut, &g);
			assert_int_equal(g.frames, cut == len);
			feed(&rx, w + cut, len - cut, &g);
			assert_int_equal(g.frames, 1);
			assert_int_equal(g.rejects, 0);
			assert_int_equal(g.f[0].addr, wires[k].addr);
			assert_int_equal(g.f[0].reg, pb_trigger_register(w[4]));
			assert_memory_equal(g.f[0].data, w, PB_FRAME_LEN);
			assert_int_equal(pb_rx_pending(&rx), 0);
		}
		for (size_t piece = 1; piece < 20; piece++) {
			struct pb_rx rx;
			struct got g;

			memset(&rx, 0, sizeof(rx));
			memset(&g, 0, sizeof(g));
			for (size_t o = 0; o < len; o += piece)
				feed(&rx, w + o, len - o < piece ? len - o : piece, &g);
			assert_int_equal(g.frames, 1);
		}
	}
}

/* Our echoed request and a stale acknowledgement in front, 00 padding
 * between frame and acknowledgement, frames back to back. */
static void test_echo_padding_back_to_back(void **state)
{
	uint8_t w[WIRE_MAX], s[4 * WIRE_MAX];
	size_t n = 0, len = load_wire(wires[0].name, 1, w);
	struct pb_rx rx;
	struct got g;

	(void)state;
	n += (size_t)pb_build_trigger(1, PB_TYPE_LIVE, s + n, PB_REQUEST_LEN);
	n += (size_t)pb_build_ack(1, PB_REG_SETTINGS, s + n, PB_ACK_LEN);
	memcpy(s + n, w, PB_FRAME_LEN);
	n += PB_FRAME_LEN;
	s[n++] = 0x00; /* an adapter's padding byte */
	memcpy(s + n, w + PB_FRAME_LEN, PB_ACK_LEN);
	n += PB_ACK_LEN;
	memcpy(s + n, w, PB_FRAME_LEN);
	n += PB_FRAME_LEN;
	s[n++] = 0x00;
	s[n++] = 0x00; /* two */
	memcpy(s + n, w + PB_FRAME_LEN, PB_ACK_LEN);
	n += PB_ACK_LEN;
	memcpy(s + n, w, len);
	n += len;
	for (size_t cut = 0; cut <= n; cut += 7) {
		memset(&rx, 0, sizeof(rx));
		memset(&g, 0, sizeof(g));
		feed(&rx, s, cut, &g);
		feed(&rx, s + cut, n - cut, &g);
		assert_int_equal(g.frames, 3);
		assert_int_equal(g.rejects, 0);
		for (int k = 0; k < 3; k++)
			assert_int_equal(g.f[k].addr, 1);
		assert_int_equal(rx.junk_bytes, PB_REQUEST_LEN + PB_ACK_LEN);
	}
	/* The master's acknowledgement (address 0) after padding is not
	 * padding itself. */
	len = load_wire(wires[3].name, 0, w);
	memcpy(s, w, PB_FRAME_LEN);
	s[PB_FRAME_LEN] = 0x00;
	memcpy(s + PB_FRAME_LEN + 1, w + PB_FRAME_LEN, PB_ACK_LEN);
	memset(&rx, 0, sizeof(rx));
	memset(&g, 0, sizeof(g));
	feed(&rx, s, len + 1, &g);
	assert_int_equal(g.frames, 1);
	assert_int_equal(g.f[0].addr, 0);
}

/* Every single bit flip of a frame and its acknowledgement is caught: no
 * frame comes out, and a good frame behind it is not lost. */
static void test_bit_flips(void **state)
{
	(void)state;
	for (size_t k = 0; k < 3; k++) {
		uint8_t w[WIRE_MAX], s[2 * WIRE_MAX];
		size_t len = load_wire(wires[k].name, wires[k].addr, w);

		for (size_t bit = 0; bit < len * 8; bit++) {
			struct pb_rx rx;
			struct got g;

			memcpy(s, w, len);
			memcpy(s + len, w, len);
			s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(&rx, 0, sizeof(rx));
			memset(&g, 0, sizeof(g));
			feed(&rx, s, len, &g);
			assert_int_equal(g.frames, 0);
			feed(&rx, s + len, len, &g);
			assert_int_equal(g.frames, 1);
			assert_memory_equal(g.f[0].data, w, PB_FRAME_LEN);
		}
	}
}

/* Every truncation waits for more and yields nothing; the reader of
 * captures takes a whole frame whose acknowledgement is missing. */
static void test_truncation(void **state)
{
	uint8_t w[WIRE_MAX];
	size_t len = load_wire(wires[0].name, 1, w);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		struct pb_rx rx;
		struct got g;
		struct pb_frame f;

		memset(&rx, 0, sizeof(rx));
		memset(&g, 0, sizeof(g));
		feed(&rx, w, cut, &g);
		assert_int_equal(g.frames + g.rejects, 0);
		assert_int_equal(pb_rx_finish(&rx, &f), 0);
		rx.any_ack = true;
		assert_int_equal(pb_rx_finish(&rx, &f), cut >= PB_FRAME_LEN ? 1 : 0);
		if (cut >= PB_FRAME_LEN)
			assert_int_equal(f.addr, -1);
	}
}

/* The acknowledgement must match the frame's type for the service; the
 * reader of captures takes any, or none. */
static void test_acknowledgement_checked(void **state)
{
	uint8_t w[WIRE_MAX];
	size_t len = load_wire(wires[0].name, 1, w);
	struct pb_rx rx;
	struct got g;

	(void)state;
	pb_build_ack(1, PB_REG_SETTINGS, w + PB_FRAME_LEN, PB_ACK_LEN); /* live frame, settings ack */
	memset(&rx, 0, sizeof(rx));
	memset(&g, 0, sizeof(g));
	feed(&rx, w, len, &g);
	assert_int_equal(g.frames, 0);
	assert_int_equal(g.rejects, 1);
	assert_int_equal(g.last_reject, CODEC_REJECT_ACK);
	memset(&rx, 0, sizeof(rx));
	memset(&g, 0, sizeof(g));
	rx.any_ack = true;
	feed(&rx, w, len, &g);
	assert_int_equal(g.frames, 1);
	assert_int_equal(g.f[0].reg, PB_REG_SETTINGS);

	/* The preset-write reply: a settings frame acknowledged as 0x160A. */
	len = load_wire("pb/pb-settings-rs485-phinix-addr1-reply-to-liion-preset-write.hex", 1, w);
	memset(&rx, 0, sizeof(rx));
	memset(&g, 0, sizeof(g));
	feed(&rx, w, len, &g);
	assert_int_equal(g.frames, 0);
	assert_int_equal(g.last_reject, CODEC_REJECT_ACK);

	/* A log frame (type 5) is skipped whole. */
	len = load_wire(wires[0].name, 1, w);
	w[4] = 0x05;
	pb_seal(w);
	memset(&rx, 0, sizeof(rx));
	memset(&g, 0, sizeof(g));
	feed(&rx, w, len, &g);
	assert_int_equal(g.frames, 0);
	assert_int_equal(g.last_reject, CODEC_REJECT_FRAME_TYPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_echo_padding_back_to_back),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_acknowledgement_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
