/* SPDX-License-Identifier: MIT */
/*
 * Steps the codec tests share (test_codec*.c): the captured frames' names,
 * feeding the deframer, and a decode that must succeed.
 */
#ifndef CODEC_STEPS_H
#define CODEC_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

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

void feed_all(struct codec_rx *rx, const uint8_t *data, size_t len, struct collect *c);

/* A fresh deframer fed the buffer in pieces of piece bytes. */
void feed_split(const uint8_t *data, size_t len, size_t piece, struct collect *c);

unsigned total_rejects(const struct collect *c);

/* Decode a frame; fails the test with the decoder's reason otherwise. */
void decode_ok(const uint8_t *f, size_t len, struct bms_snapshot *s);

#endif
