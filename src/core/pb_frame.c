/* SPDX-License-Identifier: MIT */
/*
 * JK PB framing (docs/protocol-pb.md "Framing"): the Modbus CRC, the
 * trigger requests and acknowledgements, the frame checksum, and the
 * resynchronising stream deframer that pairs each 300-byte frame with the
 * FC 0x10 acknowledgement behind it. Pure: no I/O, no clock, no allocation.
 */
#include <errno.h>
#include <string.h>

#include "pb_codec.h"

#define OFF_TYPE 4
#define OFF_SUM (PB_FRAME_LEN - 1)
#define FC_WRITE 0x10

static const uint8_t start[4] = { 0x55, 0xAA, 0xEB, 0x90 };

uint16_t pb_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

uint16_t pb_trigger_register(unsigned type)
{
	switch (type) {
	case PB_TYPE_SETTINGS:
		return PB_REG_SETTINGS;
	case PB_TYPE_LIVE:
		return PB_REG_LIVE;
	case PB_TYPE_INFO:
		return PB_REG_INFO;
	default:
		return 0;
	}
}

static void put_crc(uint8_t *p, size_t n)
{
	uint16_t crc = pb_crc16(p, n);

	p[n] = (uint8_t)crc;
	p[n + 1] = (uint8_t)(crc >> 8);
}

/* [addr] 10 [reg hi] [reg lo] 00 01 02 00 00 [crc lo] [crc hi]: one
 * register written with 0, which makes the pack send that block. */
int pb_build_trigger(uint8_t addr, unsigned type, uint8_t *out, size_t size)
{
	uint16_t reg = pb_trigger_register(type);

	if (!reg)
		return -EINVAL;
	if (size < PB_REQUEST_LEN)
		return -ENOSPC;
	const uint8_t req[] = { addr, FC_WRITE, (uint8_t)(reg >> 8), (uint8_t)reg, 0x00, 0x01, 0x02, 0x00, 0x00 };

	memcpy(out, req, sizeof(req));
	put_crc(out, sizeof(req));
	return PB_REQUEST_LEN;
}

int pb_build_ack(uint8_t addr, uint16_t reg, uint8_t *out, size_t size)
{
	if (size < PB_ACK_LEN)
		return -ENOSPC;
	const uint8_t ack[] = { addr, FC_WRITE, (uint8_t)(reg >> 8), (uint8_t)reg, 0x00, 0x01 };

	memcpy(out, ack, sizeof(ack));
	put_crc(out, sizeof(ack));
	return PB_ACK_LEN;
}

uint8_t pb_checksum(const uint8_t *f)
{
	unsigned sum = 0;

	for (size_t i = 0; i < OFF_SUM; i++)
		sum += f[i];
	return (uint8_t)sum;
}

void pb_seal(uint8_t *f)
{
	f[OFF_SUM] = pb_checksum(f);
}

bool pb_is_frame_start(const uint8_t *d, size_t len)
{
	return len >= sizeof(start) && memcmp(d, start, sizeof(start)) == 0;
}

/* ---- the deframer ------------------------------------------------------ */

void pb_rx_reset(struct pb_rx *rx)
{
	rx->stream_pos += rx->len;
	rx->len = 0;
	rx->checked = false;
}

size_t pb_rx_pending(const struct pb_rx *rx)
{
	return rx->len;
}

static void drop(struct pb_rx *rx, size_t n)
{
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
	rx->stream_pos += n;
	rx->checked = false;
}

size_t pb_rx_skip(struct pb_rx *rx)
{
	if (rx->len > 0)
		drop(rx, 1);
	return rx->len;
}

/* Bytes held that cannot start a frame: the offset of the next 55 that may. */
static size_t junk_prefix(const struct pb_rx *rx)
{
	size_t n = rx->len < sizeof(start) ? rx->len : sizeof(start);

	if (memcmp(rx->buf, start, n) == 0)
		return 0;
	const uint8_t *p = memchr(rx->buf + 1, start[0], rx->len - 1);

	return p ? (size_t)(p - rx->buf) : rx->len;
}

/* Where the acknowledgement starts behind a complete frame: after up to
 * PB_PAD_MAX 00 bytes an adapter added. A 00 followed by 0x10 is the
 * address byte of an acknowledgement from address 0 (the bus master), not
 * padding. Returns the offset, or 0 with *need set when more bytes are
 * needed to tell. */
static size_t ack_offset(const struct pb_rx *rx, size_t *need)
{
	size_t k = PB_FRAME_LEN;

	while (k < PB_FRAME_LEN + PB_PAD_MAX) {
		if (rx->len <= k + 1) {
			*need = k + 2;
			return 0;
		}
		if (rx->buf[k] != 0x00 || rx->buf[k + 1] == FC_WRITE)
			break;
		k++;
	}
	*need = k + PB_ACK_LEN;
	return k;
}

/* A well-formed FC 0x10 acknowledgement of one register in the trigger
 * block, with a good CRC. */
static bool ack_valid(const uint8_t *a)
{
	uint16_t crc = (uint16_t)(a[6] | a[7] << 8);

	return a[1] == FC_WRITE && a[2] == 0x16 && a[4] == 0x00 && a[5] == 0x01 && pb_crc16(a, 6) == crc;
}

static void emit(struct pb_rx *rx, struct pb_frame *frame, int addr, uint16_t reg, size_t used)
{
	memcpy(frame->data, rx->buf, PB_FRAME_LEN);
	frame->addr = addr;
	frame->reg = reg;
	frame->stream_pos = rx->stream_pos;
	drop(rx, used);
}

/* A frame and the bytes behind it are held: pair it with its
 * acknowledgement. Returns 1 (emitted), < 0 (rejected) or 0 with *need set. */
static int pair(struct pb_rx *rx, struct pb_frame *frame, struct codec_error *err, size_t *need)
{
	size_t k = ack_offset(rx, need);

	if (!k || rx->len < *need)
		return 0;

	const uint8_t *a = rx->buf + k;
	uint16_t reg = (uint16_t)(a[2] << 8 | a[3]);
	bool valid = ack_valid(a);

	if (valid && (rx->any_ack || reg == pb_trigger_register(rx->buf[OFF_TYPE]))) {
		emit(rx, frame, a[0], reg, k + PB_ACK_LEN);
		return 1;
	}
	if (rx->any_ack) {
		/* A capture without the acknowledgement (BLE): the frame
		 * alone; what follows is scanned again. */
		emit(rx, frame, -1, 0, PB_FRAME_LEN);
		return 1;
	}
	int ret = codec_fail(err, CODEC_REJECT_ACK, (size_t)rx->stream_pos + k, pb_trigger_register(rx->buf[OFF_TYPE]),
			     valid ? reg : a[1], -EBADMSG);

	drop(rx, 1);
	return ret;
}

/* A complete candidate of 300 bytes: checksum and type. */
static int check_frame(struct pb_rx *rx, struct codec_error *err)
{
	uint8_t sum = pb_checksum(rx->buf);
	uint8_t type = rx->buf[OFF_TYPE];

	if (sum != rx->buf[OFF_SUM]) {
		codec_fail(err, CODEC_REJECT_CHECKSUM, (size_t)rx->stream_pos + OFF_SUM, sum, rx->buf[OFF_SUM],
			   -EBADMSG);
		drop(rx, 1);
		return -EBADMSG;
	}
	if (!pb_trigger_register(type)) {
		/* A well-formed frame we do not read (a log frame): skip it whole. */
		codec_fail(err, CODEC_REJECT_FRAME_TYPE, (size_t)rx->stream_pos + OFF_TYPE, PB_TYPE_LIVE, type,
			   -EPROTO);
		drop(rx, PB_FRAME_LEN);
		return -EPROTO;
	}
	return 0;
}

/* Take up to `need` bytes into the buffer. Returns false when the input
 * ran out first. */
static bool take(struct pb_rx *rx, const uint8_t *data, size_t len, size_t *used, size_t need)
{
	size_t n = need - rx->len;

	if (n > len - *used)
		n = len - *used;
	if (n == 0)
		return rx->len >= need; /* data may be NULL when len is 0 */
	memcpy(rx->buf + rx->len, data + *used, n);
	rx->len += n;
	*used += n;
	return rx->len >= need;
}

int pb_feed(struct pb_rx *rx, const uint8_t *data, size_t len, size_t *consumed, struct pb_frame *frame,
	    struct codec_error *err)
{
	size_t used = 0, need;
	int ret = 0;

	for (;;) {
		if (rx->len == 0) {
			const uint8_t *p = used < len ? memchr(data + used, start[0], len - used) : NULL;
			size_t skip = p ? (size_t)(p - (data + used)) : len - used;

			rx->junk_bytes += skip;
			rx->stream_pos += skip;
			used += skip;
			if (used == len)
				break;
		}
		size_t junk = junk_prefix(rx);

		if (junk) {
			rx->junk_bytes += junk;
			drop(rx, junk);
			continue;
		}
		if (!rx->checked) {
			if (rx->len < PB_FRAME_LEN &&
			    !take(rx, data, len, &used, rx->len < sizeof(start) ? sizeof(start) : PB_FRAME_LEN))
				break;
			if (rx->len < PB_FRAME_LEN)
				continue; /* the start is complete: check it, then the rest */
			if ((ret = check_frame(rx, err)) < 0)
				break;
			rx->checked = true;
		}
		ret = pair(rx, frame, err, &need);
		if (ret != 0)
			break;
		if (!take(rx, data, len, &used, need))
			break;
	}
	*consumed = used;
	return ret;
}

int pb_rx_finish(struct pb_rx *rx, struct pb_frame *frame)
{
	if (!rx->any_ack || rx->len < PB_FRAME_LEN || !pb_is_frame_start(rx->buf, rx->len) ||
	    pb_checksum(rx->buf) != rx->buf[OFF_SUM] || !pb_trigger_register(rx->buf[OFF_TYPE]))
		return 0;
	emit(rx, frame, -1, 0, PB_FRAME_LEN);
	return 1;
}
