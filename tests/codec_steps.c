/* SPDX-License-Identifier: MIT */
/* Steps the codec tests share (codec_steps.h). */
#include "codec_steps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <string.h>

#include <cmocka.h>

void feed_all(struct codec_rx *rx, const uint8_t *data, size_t len, struct collect *c)
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

void feed_split(const uint8_t *data, size_t len, size_t piece, struct collect *c)
{
	struct codec_rx rx;

	memset(&rx, 0, sizeof(rx));
	memset(c, 0, sizeof(*c));
	for (size_t off = 0; off < len; off += piece)
		feed_all(&rx, data + off, off + piece <= len ? piece : len - off, c);
}

unsigned total_rejects(const struct collect *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < CODEC_REJECT_COUNT; i++)
		n += c->rejects[i];
	return n;
}

void decode_ok(const uint8_t *f, size_t len, struct bms_snapshot *s)
{
	struct codec_error e;
	int r = codec_decode(f, len, s, &e);

	if (r != 0) {
		char msg[160];

		codec_error_format(&e, 0, msg, sizeof(msg));
		fail_msg("decode failed: %s", msg);
	}
}
