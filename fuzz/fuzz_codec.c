/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the deframer and decoder. Oracle: every call returns
 * one of its documented values, never reads past the input (ASan), and a
 * decoded snapshot passes the decoder's own sanity rules.
 */
#include <stdlib.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec.h"
#include "hex.h"
#include "fuzz_check.h"

static void check_snapshot(const struct bms_snapshot *s)
{
	CHECK(s->cell_count >= 1 && s->cell_count <= BMS_MAX_CELLS);
	CHECK(s->soc_pct <= 100);
	for (unsigned i = 0; i < BMS_TEMP_COUNT; i++)
		CHECK(s->temp_c[i] >= -40 && s->temp_c[i] <= 100);
	CHECK(strlen(s->software_version) < sizeof(s->software_version));
	CHECK(strlen(s->manufacturer) < sizeof(s->manufacturer));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec_rx rx;
	struct codec_frame frame;
	struct codec_error err;
	struct bms_snapshot snap;

	/* The whole input as one frame. */
	int r = codec_decode(data, size, &snap, &err);

	CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -EPROTO || r == -ERANGE);
	if (r == 0)
		check_snapshot(&snap);

	/* As a stream, split at a size picked by the first byte. */
	size_t piece = size ? (size_t)data[0] % 64 + 1 : 1;

	memset(&rx, 0, sizeof(rx));
	for (size_t off = 0; off < size; off += piece) {
		const uint8_t *p = data + off;
		size_t n = off + piece <= size ? piece : size - off;

		for (;;) {
			size_t used = 0;

			r = codec_feed(&rx, p, n, &used, &frame, &err);
			CHECK(used <= n);
			CHECK(codec_rx_pending(&rx) <= CODEC_FRAME_MAX);
			p += used;
			n -= used;
			if (r == 0)
				break;
			if (r < 0) {
				CHECK(r == -EBADMSG || r == -EMSGSIZE || r == -EPROTO);
				CHECK(err.reason > CODEC_REJECT_NONE && err.reason < CODEC_REJECT_COUNT);
				continue;
			}
			CHECK(r == 1 && frame.len >= CODEC_LENGTH_MIN + 2 && frame.len <= CODEC_FRAME_MAX);
			if (codec_decode(frame.data, frame.len, &snap, &err) == 0)
				check_snapshot(&snap);
		}
	}
	while (codec_rx_skip(&rx) > 0) {
		size_t used;

		while ((r = codec_feed(&rx, NULL, 0, &used, &frame, &err)) != 0)
			CHECK(r == 1 || r < 0);
	}

	/* The hex reader of --decode. */
	uint8_t buf[512];

	if (hex_is_text(data, size)) {
		r = hex_parse(data, size, buf, sizeof(buf), NULL);
		CHECK(r >= 0 || r == -EINVAL || r == -ENOSPC);
	}
	return 0;
}
