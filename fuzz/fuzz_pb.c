/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the JK PB deframer and decoders (pb_codec.h).
 * Oracle: every call returns one of its documented values, never reads
 * past the input (ASan), a frame that comes out is checksum-valid, and a
 * decoded snapshot keeps the decoder's own rules. Random bytes rarely pass
 * the 8-bit checksum, so the input is also sealed into a frame of each type
 * and decoded as such.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb_codec.h"
#include "fuzz_check.h"

static void check_snapshot(const struct bms_snapshot *s, int type)
{
	CHECK(s->protocol == BMS_PROTOCOL_PB);
	CHECK(s->cell_count <= BMS_MAX_CELLS);
	CHECK(s->settings.cell_count <= BMS_MAX_CELLS);
	if (type == PB_TYPE_LIVE) {
		CHECK(s->cell_count >= 1);
		CHECK(s->soc_pct <= 100);
		for (unsigned i = 0; i < BMS_TEMP_COUNT; i++)
			CHECK(s->temp_c[i] >= -40 && s->temp_c[i] <= 150);
	}
	CHECK(strlen(s->pb.model) < sizeof(s->pb.model));
	CHECK(strlen(s->pb.serial) < sizeof(s->pb.serial));
	CHECK(strlen(s->software_version) < sizeof(s->software_version));
}

static void decode(const uint8_t *f, struct bms_snapshot *snap)
{
	struct codec_error err;
	int r = pb_decode(f, PB_FRAME_LEN, snap, &err);

	CHECK(r == PB_TYPE_LIVE || r == PB_TYPE_SETTINGS || r == PB_TYPE_INFO || r == -EBADMSG || r == -EMSGSIZE ||
	      r == -EPROTO || r == -ERANGE);
	if (r > 0)
		check_snapshot(snap, r);
	else
		CHECK(err.reason > CODEC_REJECT_NONE && err.reason < CODEC_REJECT_COUNT);
}

static void stream(const uint8_t *data, size_t size, bool any_ack, struct bms_snapshot *snap)
{
	struct pb_rx rx;
	struct pb_frame frame;
	struct codec_error err;
	size_t piece = size ? (size_t)data[0] % 97 + 1 : 1;

	memset(&rx, 0, sizeof(rx));
	rx.any_ack = any_ack;
	for (size_t off = 0; off < size; off += piece) {
		const uint8_t *p = data + off;
		size_t n = off + piece <= size ? piece : size - off;

		for (;;) {
			size_t used = 0;
			int r = pb_feed(&rx, p, n, &used, &frame, &err);

			CHECK(used <= n);
			CHECK(pb_rx_pending(&rx) <= sizeof(rx.buf));
			p += used;
			n -= used;
			if (r == 0)
				break;
			if (r < 0) {
				CHECK(r == -EBADMSG || r == -EPROTO);
				CHECK(err.reason > CODEC_REJECT_NONE && err.reason < CODEC_REJECT_COUNT);
				continue;
			}
			CHECK(r == 1 && pb_checksum(frame.data) == frame.data[PB_FRAME_LEN - 1]);
			CHECK(any_ack || (frame.addr >= 0 && frame.addr <= 0xFF));
			decode(frame.data, snap);
		}
	}
	if (pb_rx_finish(&rx, &frame) == 1)
		decode(frame.data, snap);
	while (pb_rx_skip(&rx) > 0) {
		size_t used;
		int r;

		while ((r = pb_feed(&rx, NULL, 0, &used, &frame, &err)) != 0)
			CHECK(r == 1 || r < 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bms_snapshot snap;
	uint8_t f[PB_FRAME_LEN];

	memset(&snap, 0, sizeof(snap));
	stream(data, size, false, &snap);
	stream(data, size, true, &snap);

	/* The input as the body of a sealed frame of every type, decoded into
	 * one accumulating snapshot. */
	memset(&snap, 0, sizeof(snap));
	for (unsigned type = 0; type <= 4; type++) {
		memset(f, 0, sizeof(f));
		memcpy(f, data, size < sizeof(f) ? size : sizeof(f));
		f[0] = 0x55, f[1] = 0xAA, f[2] = 0xEB, f[3] = 0x90;
		f[4] = (uint8_t)type;
		pb_seal(f);
		decode(f, &snap);
	}
	return 0;
}
