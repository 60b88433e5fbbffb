/* SPDX-License-Identifier: MIT */
/*
 * JK-BMS 4E 57 frame codec, the words for people: the short name of each
 * rejection reason and a one-line account of a struct codec_error (which
 * check failed, at which byte, with the two numbers compared). Pure: no I/O.
 * Reference: docs/protocol-4e57.md, "Sanity checks and rejections".
 */
#include "codec.h"

#include <stdio.h>

static const char *const reject_names[CODEC_REJECT_COUNT] = {
	[CODEC_REJECT_NONE] = "none",
	[CODEC_REJECT_LENGTH] = "length out of range",
	[CODEC_REJECT_END_BYTE] = "end byte",
	[CODEC_REJECT_CHECKSUM] = "checksum",
	[CODEC_REJECT_NOT_REPLY] = "not a BMS reply",
	[CODEC_REJECT_COMMAND] = "not a read-all reply",
	[CODEC_REJECT_UNKNOWN_ID] = "unknown identifier",
	[CODEC_REJECT_DUPLICATE_ID] = "duplicate identifier",
	[CODEC_REJECT_WALK_END] = "records overrun the record number",
	[CODEC_REJECT_CELLS] = "cell block",
	[CODEC_REJECT_MISSING_ID] = "missing identifier",
	[CODEC_REJECT_TEMPERATURE] = "temperature out of range",
	[CODEC_REJECT_SOC] = "SoC above 100",
	[CODEC_REJECT_VOLTAGE_SUM] = "cell sum disagrees with pack voltage",
	[CODEC_REJECT_FRAME_TYPE] = "frame type",
	[CODEC_REJECT_ACK] = "acknowledgement",
	[CODEC_REJECT_ADDRESS] = "wrong address",
};

const char *codec_reject_name(enum codec_reject reason)
{
	if ((unsigned)reason >= CODEC_REJECT_COUNT)
		return "unknown";
	return reject_names[reason];
}

int codec_error_format(const struct codec_error *err, uint64_t base, char *buf, size_t size)
{
	unsigned long long at = (unsigned long long)(base + err->offset);
	unsigned e = err->expected, a = err->actual;

	switch (err->reason) {
	case CODEC_REJECT_LENGTH:
		return snprintf(buf, size, "length out of range at byte %llu: LENGTH %u (allowed %u..%u)", at, a,
				CODEC_LENGTH_MIN, CODEC_LENGTH_MAX);
	case CODEC_REJECT_END_BYTE:
		return snprintf(buf, size, "end byte missing at byte %llu: 0x%02X instead of 0x68", at, a);
	case CODEC_REJECT_CHECKSUM:
		return snprintf(buf, size, "checksum mismatch at byte %llu: frame says 0x%04X, bytes sum to 0x%04X", at,
				a, e);
	case CODEC_REJECT_NOT_REPLY:
		return snprintf(buf, size, "not a BMS reply at byte %llu: source 0x%02X (an echo of a request?)", at,
				a);
	case CODEC_REJECT_COMMAND:
		return snprintf(buf, size, "not a read-all reply at byte %llu: command 0x%02X", at, a);
	case CODEC_REJECT_UNKNOWN_ID:
		return snprintf(buf, size, "unknown identifier 0x%02X at byte %llu", a, at);
	case CODEC_REJECT_DUPLICATE_ID:
		return snprintf(buf, size, "identifier 0x%02X repeated at byte %llu", a, at);
	case CODEC_REJECT_WALK_END:
		return snprintf(buf, size, "record at byte %llu runs past the record number (ends at %u, limit %u)", at,
				a, e);
	case CODEC_REJECT_CELLS:
		return snprintf(buf, size, "bad cell block at byte %llu: value %u (expected %u)", at, a, e);
	case CODEC_REJECT_MISSING_ID:
		return snprintf(buf, size, "identifier 0x%02X missing (records end at byte %llu)", e, at);
	case CODEC_REJECT_TEMPERATURE:
		return snprintf(buf, size, "temperature raw value %u at byte %llu is outside -40..100 C", a, at);
	case CODEC_REJECT_SOC:
		return snprintf(buf, size, "SoC %u%% is above 100", a);
	case CODEC_REJECT_VOLTAGE_SUM:
		return snprintf(buf, size, "cells sum to %u mV but the pack reads %u mV", a, e);
	case CODEC_REJECT_FRAME_TYPE:
		return snprintf(buf, size, "frame type 0x%02X at byte %llu (expected 0x%02X)", a, at, e);
	case CODEC_REJECT_ACK:
		return snprintf(buf, size, "no valid acknowledgement after the frame at byte %llu (byte 0x%02X)", at,
				a);
	case CODEC_REJECT_ADDRESS:
		return snprintf(buf, size, "reply from address %u while polling address %u", a, e);
	case CODEC_REJECT_NONE:
	case CODEC_REJECT_COUNT:
		break;
	}
	return snprintf(buf, size, "no error");
}

int codec_fail(struct codec_error *err, enum codec_reject reason, size_t offset, uint32_t expected, uint32_t actual,
	       int code)
{
	err->reason = reason;
	err->offset = offset;
	err->expected = expected;
	err->actual = actual;
	return code;
}
