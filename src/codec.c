/* SPDX-License-Identifier: MIT */
/*
 * JK-BMS 4E 57 frame codec: envelope checks, the resynchronising stream
 * deframer, the identifier walk that decodes a read-all reply, and the
 * matching encoder. Pure: no I/O, no clock, no allocation, no logging; every
 * rejection is returned as a reason code for the caller to count.
 * Reference: vendor spec V2.5 2020-12-17 and jk-protocol.md (§2 frame, §4-5
 * identifiers, §8 quirks, §10 procedure).
 */
#include "codec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Offsets inside a frame (jk-protocol.md §2). */
#define OFF_LENGTH 2
#define OFF_COMMAND 8
#define OFF_SOURCE 9
#define OFF_TYPE 10
#define OFF_INFO 11

/* Value length of each identifier in a read-all reply; 0 = unknown. 0x79
 * carries its own length byte and is handled apart. */
static const uint8_t id_len[256] = {
	[0x80] = 2, [0x81] = 2, [0x82] = 2, [0x83] = 2, [0x84] = 2, [0x85] = 1, [0x86] = 1,
	[0x87] = 2, [0x89] = 4, [0x8A] = 2, [0x8B] = 2, [0x8C] = 2, [0x8E] = 2, [0x8F] = 2,
	[0x90] = 2, [0x91] = 2, [0x92] = 2, [0x93] = 2, [0x94] = 2, [0x95] = 2, [0x96] = 2,
	[0x97] = 2, [0x98] = 2, [0x99] = 2, [0x9A] = 2, [0x9B] = 2, [0x9C] = 2, [0x9D] = 1,
	[0x9E] = 2, [0x9F] = 2, [0xA0] = 2, [0xA1] = 2, [0xA2] = 2, [0xA3] = 2, [0xA4] = 2,
	[0xA5] = 2, [0xA6] = 2, [0xA7] = 2, [0xA8] = 2, [0xA9] = 1, [0xAA] = 4, [0xAB] = 1,
	[0xAC] = 1, [0xAD] = 2, [0xAE] = 1, [0xAF] = 1, [0xB0] = 2, [0xB1] = 1, [0xB2] = 10,
	[0xB3] = 1, [0xB4] = 8, [0xB5] = 4, [0xB6] = 4, [0xB7] = 15, [0xB8] = 1, [0xB9] = 4,
	[0xBA] = 24, [0xC0] = 1,
};

/* Identifiers every read-all reply carries, old firmware included (the
 * vendor example ends at 0xB7; 0xB8..0xC0 are optional). No 0x88 or 0x8D. */
static bool id_required(unsigned id)
{
	if (id == 0x79)
		return true;
	if (id < 0x80 || id > 0xB7)
		return false;
	return id != 0x88 && id != 0x8D;
}

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
		return snprintf(buf, size, "not a BMS reply at byte %llu: source 0x%02X (an echo of a request?)", at, a);
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
	case CODEC_REJECT_NONE:
	case CODEC_REJECT_COUNT:
		break;
	}
	return snprintf(buf, size, "no error");
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int fail(struct codec_error *err, enum codec_reject reason, size_t offset, uint32_t expected,
		uint32_t actual, int code)
{
	err->reason = reason;
	err->offset = offset;
	err->expected = expected;
	err->actual = actual;
	return code;
}

/* Checksum: 16-bit arithmetic sum of every byte from the 4E up to and
 * including the 68 end byte (a common bug leaves the 68 out). */
static uint16_t frame_sum(const uint8_t *f, size_t total)
{
	uint32_t sum = 0;

	for (size_t i = 0; i <= total - 5; i++)
		sum += f[i];
	return (uint16_t)sum;
}

/*
 * Check a complete candidate of exactly `total` bytes whose STX and LENGTH
 * were already found plausible. Offsets in *err are relative to the frame.
 * QUIRK: the two bytes before the checksum are a "CRC16, not enabled" field,
 * 00 00 in every capture; they are ignored rather than required, so a
 * firmware that enables that CRC is not locked out (jk-protocol.md §2).
 */
static int check_body(const uint8_t *f, size_t total, bool requests, struct codec_error *err)
{
	if (f[total - 5] != CODEC_END_BYTE)
		return fail(err, CODEC_REJECT_END_BYTE, total - 5, CODEC_END_BYTE, f[total - 5], -EBADMSG);

	uint16_t sum = frame_sum(f, total);
	uint16_t stated = be16(f + total - 2);

	if (sum != stated)
		return fail(err, CODEC_REJECT_CHECKSUM, total - 2, sum, stated, -EBADMSG);
	/* An RS-485 adapter that echoes our own request puts a valid "NW" frame
	 * in front of the reply: only source 0 / type 1 frames are BMS replies. */
	if (requests) {
		if (f[OFF_SOURCE] == CODEC_SOURCE_BMS || f[OFF_TYPE] == CODEC_TYPE_REPLY)
			return fail(err, CODEC_REJECT_NOT_REPLY, OFF_SOURCE, CODEC_SOURCE_HOST, f[OFF_SOURCE],
				    -EPROTO);
		return 0;
	}
	if (f[OFF_SOURCE] != CODEC_SOURCE_BMS || f[OFF_TYPE] != CODEC_TYPE_REPLY)
		return fail(err, CODEC_REJECT_NOT_REPLY, OFF_SOURCE, CODEC_SOURCE_BMS, f[OFF_SOURCE], -EPROTO);
	return 0;
}

static bool length_ok(uint16_t length)
{
	return length >= CODEC_LENGTH_MIN && length <= CODEC_LENGTH_MAX;
}

void codec_rx_reset(struct codec_rx *rx)
{
	rx->stream_pos += rx->len;
	rx->len = 0;
}

size_t codec_rx_pending(const struct codec_rx *rx)
{
	return rx->len;
}

static void rx_drop(struct codec_rx *rx, size_t n)
{
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
	rx->stream_pos += n;
}

size_t codec_rx_skip(struct codec_rx *rx)
{
	if (rx->len > 0)
		rx_drop(rx, 1);
	return rx->len;
}

int codec_feed(struct codec_rx *rx, const uint8_t *data, size_t len, size_t *consumed,
	       struct codec_frame *frame, struct codec_error *err)
{
	size_t used = 0;
	int ret;

	for (;;) {
		/* Hunt for the 4E of "NW". With nothing buffered, skip junk in
		 * the input directly instead of copying it through the buffer. */
		if (rx->len == 0) {
			const uint8_t *p = used < len ? memchr(data + used, 0x4E, len - used) : NULL;
			size_t skip = p ? (size_t)(p - (data + used)) : len - used;

			rx->junk_bytes += skip;
			rx->stream_pos += skip;
			used += skip;
			if (used == len) {
				ret = 0;
				break;
			}
		} else if (rx->buf[0] != 0x4E || (rx->len >= 2 && rx->buf[1] != 0x57)) {
			const uint8_t *p = memchr(rx->buf + 1, 0x4E, rx->len - 1);
			size_t skip = p ? (size_t)(p - rx->buf) : rx->len;

			rx->junk_bytes += skip;
			rx_drop(rx, skip);
			continue;
		}

		size_t need = 4;

		if (rx->len >= 4) {
			uint16_t length = be16(rx->buf + OFF_LENGTH);

			if (!length_ok(length)) {
				ret = fail(err, CODEC_REJECT_LENGTH, (size_t)rx->stream_pos + OFF_LENGTH,
					   CODEC_LENGTH_MAX, length, -EMSGSIZE);
				rx_drop(rx, 1);
				break;
			}
			need = (size_t)length + 2;
		}
		if (rx->len < need) {
			size_t take = need - rx->len;

			if (take > len - used)
				take = len - used;
			if (take == 0) {
				ret = 0;
				break;
			}
			memcpy(rx->buf + rx->len, data + used, take);
			rx->len += take;
			used += take;
			continue;
		}

		/* A complete candidate of `need` bytes. */
		ret = check_body(rx->buf, need, rx->accept_requests, err);
		if (ret == -EPROTO) {
			/* A well-formed frame that is not ours to decode: skip it whole. */
			err->offset += (size_t)rx->stream_pos;
			rx_drop(rx, need);
			break;
		}
		if (ret < 0) {
			err->offset += (size_t)rx->stream_pos;
			rx_drop(rx, 1);
			break;
		}
		memcpy(frame->data, rx->buf, need);
		frame->len = need;
		frame->stream_pos = rx->stream_pos;
		rx_drop(rx, need);
		ret = 1;
		break;
	}
	*consumed = used;
	return ret;
}

/* ---- decoding ---------------------------------------------------------- */

int codec_temp_from_raw(uint16_t raw, int16_t *out_c)
{
	/* Vendor rule "100 benchmark": values above 100 are negative. raw 100
	 * reads "-0" in the JK app (dbus-serialbattery issue 354), so it is 0. */
	if (raw > 140)
		return -ERANGE;
	*out_c = raw <= 100 ? (int16_t)(raw == 100 ? 0 : raw) : (int16_t)(100 - (int)raw);
	return 0;
}

uint16_t codec_temp_to_raw(int16_t celsius)
{
	if (celsius < -40)
		celsius = -40;
	if (celsius > 99)
		celsius = 99;
	return celsius >= 0 ? (uint16_t)celsius : (uint16_t)(100 - celsius);
}

int32_t codec_current_from_raw(uint16_t raw, uint8_t protocol_version)
{
	/* Version 1: sign-magnitude, bit 15 set = charging; NOT two's complement.
	 * Older: offset 10000, I = (10000 - raw) x 10 mA, + = charging. */
	if (protocol_version == 1) {
		int32_t mag = (int32_t)(raw & 0x7FFF) * 10;

		return (raw & 0x8000) ? mag : -mag;
	}
	return (10000 - (int32_t)raw) * 10;
}

uint16_t codec_current_to_raw(int32_t current_ma, uint8_t protocol_version)
{
	if (protocol_version == 1) {
		int32_t mag = (current_ma < 0 ? -current_ma : current_ma) / 10;

		if (mag > 0x7FFF)
			mag = 0x7FFF;
		return (uint16_t)(mag | (current_ma > 0 ? 0x8000 : 0));
	}
	int32_t raw = 10000 - current_ma / 10;

	if (raw < 0)
		raw = 0;
	if (raw > 0xFFFF)
		raw = 0xFFFF;
	return (uint16_t)raw;
}

/* Copy a fixed-width NUL-padded field as printable ASCII: NUL runs inside
 * become one space (0xBA "beki\0\0…JK_B1A24S15P"), other bytes outside
 * 0x20..0x7E become '?', trailing spaces and '_' padding are stripped. */
static void copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t n)
{
	size_t o = 0;
	bool gap = false;

	for (size_t i = 0; i < n && o + 1 < dst_size; i++) {
		uint8_t c = src[i];

		if (c == 0) {
			gap = o > 0;
			continue;
		}
		if (gap && o + 2 < dst_size)
			dst[o++] = ' ';
		gap = false;
		dst[o++] = (c >= 0x20 && c <= 0x7E) ? (char)c : '?';
	}
	while (o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '_'))
		o--;
	dst[o] = '\0';
}

static int decode_cells(const uint8_t *f, size_t pos, size_t end, struct bms_snapshot *s,
			struct codec_error *err, size_t *next)
{
	if (pos + 1 >= end)
		return fail(err, CODEC_REJECT_WALK_END, pos, (uint32_t)end, (uint32_t)pos + 1, -EBADMSG);

	size_t ll = f[pos + 1];
	size_t n = ll / 3;

	if (ll % 3 != 0 || n == 0 || n > BMS_MAX_CELLS)
		return fail(err, CODEC_REJECT_CELLS, pos + 1, BMS_MAX_CELLS * 3, (uint32_t)ll, -EBADMSG);
	if (pos + 2 + ll > end)
		return fail(err, CODEC_REJECT_WALK_END, pos + 1, (uint32_t)end, (uint32_t)(pos + 2 + ll), -EBADMSG);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *t = f + pos + 2 + 3 * i;

		if (t[0] != i + 1)
			return fail(err, CODEC_REJECT_CELLS, pos + 2 + 3 * i, (uint32_t)i + 1, t[0], -EBADMSG);
		s->cell_mv[i] = be16(t + 1);
	}
	s->cell_count = (uint8_t)n;
	*next = pos + 2 + ll;
	return 0;
}

/* Store one fixed-length record. Returns 0 or a rejection for values that
 * cannot be represented (temperatures). */
static int decode_record(uint8_t id, const uint8_t *v, size_t off, struct bms_snapshot *s,
			 struct codec_error *err)
{
	struct bms_settings *c = &s->settings;

	switch (id) {
	case 0x80:
	case 0x81:
	case 0x82:
		if (codec_temp_from_raw(be16(v), &s->temp_c[id - 0x80]) < 0)
			return fail(err, CODEC_REJECT_TEMPERATURE, off, 140, be16(v), -ERANGE);
		break;
	case 0x83: s->voltage_mv = be16(v) * 10u; break;
	case 0x84: s->current_raw = be16(v); break; /* decoded once 0xC0 is known */
	case 0x85: s->soc_pct = v[0]; break;
	case 0x86: s->temp_sensor_count = v[0]; break;
	case 0x87: s->cycles = be16(v); break;
	case 0x89: s->cycle_capacity_ah = be32(v); break;
	case 0x8A: s->cell_count_reported = be16(v); break;
	case 0x8B: s->alarms = be16(v); break;
	case 0x8C: s->status = be16(v); break;
	case 0x8E: c->pack_ovp_mv = be16(v) * 10u; break;
	case 0x8F: c->pack_uvp_mv = be16(v) * 10u; break;
	case 0x90: c->cell_ovp_mv = be16(v); break;
	case 0x91: c->cell_ovpr_mv = be16(v); break;
	case 0x92: c->cell_ovp_delay_s = be16(v); break;
	case 0x93: c->cell_uvp_mv = be16(v); break;
	case 0x94: c->cell_uvpr_mv = be16(v); break;
	case 0x95: c->cell_uvp_delay_s = be16(v); break;
	case 0x96: c->cell_diff_prot_mv = be16(v); break;
	case 0x97: c->discharge_ocp_a = be16(v); break;
	case 0x98: c->discharge_ocp_delay_s = be16(v); break;
	case 0x99: c->charge_ocp_a = be16(v); break;
	case 0x9A: c->charge_ocp_delay_s = be16(v); break;
	case 0x9B: c->balance_start_mv = be16(v); break;
	case 0x9C: c->balance_trigger_mv = be16(v); break;
	case 0x9D: c->balancer_enabled = v[0]; break;
	/* 0x9E..0xA4 are plain unsigned; 0xA5..0xA8 two's complement. The +100
	 * rule of 0x80..0x82 does not apply to settings. */
	case 0x9E: c->mosfet_otp_c = (int16_t)be16(v); break;
	case 0x9F: c->mosfet_otpr_c = (int16_t)be16(v); break;
	case 0xA0: c->box_otp_c = (int16_t)be16(v); break;
	case 0xA1: c->box_otpr_c = (int16_t)be16(v); break;
	case 0xA2: c->temp_diff_prot_c = (int16_t)be16(v); break;
	case 0xA3: c->charge_otp_c = (int16_t)be16(v); break;
	case 0xA4: c->discharge_otp_c = (int16_t)be16(v); break;
	case 0xA5: c->charge_utp_c = (int16_t)be16(v); break;
	case 0xA6: c->charge_utpr_c = (int16_t)be16(v); break;
	case 0xA7: c->discharge_utp_c = (int16_t)be16(v); break;
	case 0xA8: c->discharge_utpr_c = (int16_t)be16(v); break;
	case 0xA9: c->cell_count = v[0]; break;
	case 0xAA: c->capacity_ah = be32(v); break;
	case 0xAB: c->charge_switch = v[0]; break;
	case 0xAC: c->discharge_switch = v[0]; break;
	case 0xAD: c->current_calibration_ma = be16(v); break;
	case 0xAE: c->board_address = v[0]; break;
	case 0xAF: c->battery_type = v[0]; break;
	case 0xB0: c->sleep_wait_s = be16(v); break;
	case 0xB1: c->low_soc_alarm_pct = v[0]; break;
	case 0xB2: break; /* parameter password, sent in clear: never copied */
	case 0xB3: c->dedicated_charger = v[0]; break;
	case 0xB4: copy_text(s->device_id, sizeof(s->device_id), v, 8); break;
	case 0xB5: copy_text(s->manufacturing_date, sizeof(s->manufacturing_date), v, 4); break;
	case 0xB6: s->runtime_min = be32(v); break;
	case 0xB7: copy_text(s->software_version, sizeof(s->software_version), v, 15); break;
	case 0xB8: c->start_current_calibration = v[0]; break;
	case 0xB9: c->actual_capacity_ah = be32(v); break;
	case 0xBA: copy_text(s->manufacturer, sizeof(s->manufacturer), v, 24); break;
	case 0xC0: s->protocol_version = v[0]; s->has_extended = true; break;
	default: break; /* unreachable: the walk rejects ids without a length */
	}
	return 0;
}

static int check_sanity(const struct bms_snapshot *s, struct codec_error *err)
{
	if (s->soc_pct > 100)
		return fail(err, CODEC_REJECT_SOC, 0, 100, s->soc_pct, -ERANGE);

	uint32_t sum = 0;
	bool missing = false;

	for (unsigned i = 0; i < s->cell_count; i++) {
		sum += s->cell_mv[i];
		missing |= s->cell_mv[i] == 0;
	}
	/* Both the cells and the pack voltage are measured (F01: 53.595 vs
	 * 53.59 V); they must agree within 0.5 V. A cell reading 0 mV is a
	 * missing sense lead, so then the sum can only be checked from above. */
	uint32_t diff = sum > s->voltage_mv ? sum - s->voltage_mv : s->voltage_mv - sum;

	if ((missing && sum > s->voltage_mv + 500) || (!missing && diff >= 500))
		return fail(err, CODEC_REJECT_VOLTAGE_SUM, 0, s->voltage_mv, sum, -ERANGE);
	return 0;
}

int codec_decode(const uint8_t *f, size_t len, struct bms_snapshot *out, struct codec_error *err)
{
	struct bms_snapshot s;
	uint8_t seen[32] = { 0 };
	int ret;

	if (len < 4 || f[0] != 0x4E || f[1] != 0x57)
		return fail(err, CODEC_REJECT_LENGTH, 0, CODEC_LENGTH_MIN, (uint32_t)len, -EMSGSIZE);

	uint16_t length = be16(f + OFF_LENGTH);

	if (!length_ok(length) || (size_t)length + 2 != len)
		return fail(err, CODEC_REJECT_LENGTH, OFF_LENGTH, (uint32_t)len - 2, length, -EMSGSIZE);
	ret = check_body(f, len, false, err);
	if (ret < 0)
		return ret;
	if (f[OFF_COMMAND] != CODEC_CMD_READ_ALL && f[OFF_COMMAND] != CODEC_CMD_READ)
		return fail(err, CODEC_REJECT_COMMAND, OFF_COMMAND, CODEC_CMD_READ_ALL, f[OFF_COMMAND], -EPROTO);

	memset(&s, 0, sizeof(s));
	size_t end = len - 9; /* the record number */
	size_t pos = OFF_INFO;

	while (pos < end) {
		uint8_t id = f[pos];

		if (seen[id >> 3] & (1u << (id & 7)))
			return fail(err, CODEC_REJECT_DUPLICATE_ID, pos, 0, id, -EBADMSG);
		seen[id >> 3] |= (uint8_t)(1u << (id & 7));

		if (id == 0x79) {
			ret = decode_cells(f, pos, end, &s, err, &pos);
			if (ret < 0)
				return ret;
			continue;
		}
		if (id_len[id] == 0)
			return fail(err, CODEC_REJECT_UNKNOWN_ID, pos, 0, id, -EBADMSG);
		if (pos + 1 + id_len[id] > end)
			return fail(err, CODEC_REJECT_WALK_END, pos, (uint32_t)end,
				    (uint32_t)(pos + 1 + id_len[id]), -EBADMSG);
		ret = decode_record(id, f + pos + 1, pos, &s, err);
		if (ret < 0)
			return ret;
		pos += 1 + (size_t)id_len[id];
	}
	for (unsigned id = 0x79; id <= 0xB7; id++) {
		if (id_required(id) && !(seen[id >> 3] & (1u << (id & 7))))
			return fail(err, CODEC_REJECT_MISSING_ID, end, id, 0, -EBADMSG);
	}
	/* 0xC0 arrives after 0x84: decode the current with the version found
	 * in this same frame, never a previous one. */
	s.current_ma = codec_current_from_raw(s.current_raw, s.protocol_version);

	ret = check_sanity(&s, err);
	if (ret < 0)
		return ret;
	*out = s;
	return 0;
}

/* ---- building frames --------------------------------------------------- */

struct writer {
	uint8_t *out;
	size_t size;
	size_t pos;
	bool overflow;
};

static void put8(struct writer *w, uint8_t v)
{
	if (w->pos >= w->size) {
		w->overflow = true;
		return;
	}
	w->out[w->pos++] = v;
}

static void put16(struct writer *w, uint16_t v)
{
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

static void put32(struct writer *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static void put_text(struct writer *w, const char *s, size_t n)
{
	size_t l = strlen(s);

	for (size_t i = 0; i < n; i++)
		put8(w, i < l ? (uint8_t)s[i] : 0);
}

static void rec8(struct writer *w, uint8_t id, uint8_t v)
{
	put8(w, id);
	put8(w, v);
}

static void rec16(struct writer *w, uint8_t id, uint16_t v)
{
	put8(w, id);
	put16(w, v);
}

static void rec32(struct writer *w, uint8_t id, uint32_t v)
{
	put8(w, id);
	put32(w, v);
}

static void rec_text(struct writer *w, uint8_t id, const char *text, size_t n)
{
	put8(w, id);
	put_text(w, text, n);
}

static void begin_frame(struct writer *w, uint8_t cmd, uint8_t source, uint8_t type)
{
	put16(w, 0x4E57);
	put16(w, 0); /* LENGTH, patched by end_frame */
	put32(w, 0); /* terminal number: always 0 in practice */
	put8(w, cmd);
	put8(w, source);
	put8(w, type);
}

void codec_seal(uint8_t *f, size_t len)
{
	uint16_t sum = frame_sum(f, len);

	f[len - 2] = (uint8_t)(sum >> 8);
	f[len - 1] = (uint8_t)sum;
}

static int end_frame(struct writer *w)
{
	put32(w, 0); /* record number */
	put8(w, CODEC_END_BYTE);
	put16(w, 0); /* unused CRC16 field */
	if (w->overflow || w->pos + 2 > w->size)
		return -ENOSPC;

	size_t total = w->pos + 2;

	w->out[2] = (uint8_t)((total - 2) >> 8);
	w->out[3] = (uint8_t)(total - 2);
	put16(w, 0);
	codec_seal(w->out, total);
	return (int)w->pos;
}

static int build_request(uint8_t cmd, uint8_t type, const uint8_t *info, size_t info_len, uint8_t *out,
			 size_t size)
{
	struct writer w = { out, size, 0, false };

	begin_frame(&w, cmd, CODEC_SOURCE_HOST, type);
	for (size_t i = 0; i < info_len; i++)
		put8(&w, info[i]);
	return end_frame(&w);
}

int codec_build_read_all(uint8_t *out, size_t size)
{
	static const uint8_t all = 0x00;

	return build_request(CODEC_CMD_READ_ALL, CODEC_TYPE_REQUEST, &all, 1, out, size);
}

int codec_build_read(uint8_t id, uint8_t *out, size_t size)
{
	return build_request(CODEC_CMD_READ, CODEC_TYPE_REQUEST, &id, 1, out, size);
}

int codec_build_activate(uint8_t *out, size_t size)
{
	static const uint8_t all = 0x00;

	return build_request(CODEC_CMD_ACTIVATE, CODEC_TYPE_REQUEST, &all, 1, out, size);
}

int codec_build_password(uint8_t *out, size_t size)
{
	/* Content is ignored by the BMS (esphome PR 343); identifier 00 value 00. */
	static const uint8_t info[2] = { 0x00, 0x00 };

	return build_request(CODEC_CMD_PASSWORD, CODEC_TYPE_REQUEST, info, 2, out, size);
}

int codec_build_write(uint8_t id, uint8_t value, uint8_t transport_type, uint8_t *out, size_t size)
{
	const uint8_t info[2] = { id, value };

	return build_request(CODEC_CMD_WRITE, transport_type, info, 2, out, size);
}

int codec_encode_read_all(const struct bms_snapshot *s, uint8_t *out, size_t size)
{
	const struct bms_settings *c = &s->settings;
	struct writer w = { out, size, 0, false };
	uint8_t version = s->has_extended ? s->protocol_version : 0;

	if (s->cell_count == 0 || s->cell_count > BMS_MAX_CELLS)
		return -ERANGE;

	begin_frame(&w, CODEC_CMD_READ_ALL, CODEC_SOURCE_BMS, CODEC_TYPE_REPLY);
	put8(&w, 0x79);
	put8(&w, (uint8_t)(3 * s->cell_count));
	for (unsigned i = 0; i < s->cell_count; i++) {
		put8(&w, (uint8_t)(i + 1));
		put16(&w, s->cell_mv[i]);
	}
	for (unsigned i = 0; i < BMS_TEMP_COUNT; i++) {
		put8(&w, (uint8_t)(0x80 + i));
		put16(&w, codec_temp_to_raw(s->temp_c[i]));
	}
	rec16(&w, 0x83, (uint16_t)(s->voltage_mv / 10));
	rec16(&w, 0x84, codec_current_to_raw(s->current_ma, version));
	rec8(&w, 0x85, s->soc_pct);
	rec8(&w, 0x86, s->temp_sensor_count);
	rec16(&w, 0x87, s->cycles);
	rec32(&w, 0x89, s->cycle_capacity_ah);
	rec16(&w, 0x8A, s->cell_count_reported);
	rec16(&w, 0x8B, s->alarms);
	rec16(&w, 0x8C, s->status);
	rec16(&w, 0x8E, (uint16_t)(c->pack_ovp_mv / 10));
	rec16(&w, 0x8F, (uint16_t)(c->pack_uvp_mv / 10));
	rec16(&w, 0x90, c->cell_ovp_mv);
	rec16(&w, 0x91, c->cell_ovpr_mv);
	rec16(&w, 0x92, c->cell_ovp_delay_s);
	rec16(&w, 0x93, c->cell_uvp_mv);
	rec16(&w, 0x94, c->cell_uvpr_mv);
	rec16(&w, 0x95, c->cell_uvp_delay_s);
	rec16(&w, 0x96, c->cell_diff_prot_mv);
	rec16(&w, 0x97, c->discharge_ocp_a);
	rec16(&w, 0x98, c->discharge_ocp_delay_s);
	rec16(&w, 0x99, c->charge_ocp_a);
	rec16(&w, 0x9A, c->charge_ocp_delay_s);
	rec16(&w, 0x9B, c->balance_start_mv);
	rec16(&w, 0x9C, c->balance_trigger_mv);
	rec8(&w, 0x9D, c->balancer_enabled);
	rec16(&w, 0x9E, (uint16_t)c->mosfet_otp_c);
	rec16(&w, 0x9F, (uint16_t)c->mosfet_otpr_c);
	rec16(&w, 0xA0, (uint16_t)c->box_otp_c);
	rec16(&w, 0xA1, (uint16_t)c->box_otpr_c);
	rec16(&w, 0xA2, (uint16_t)c->temp_diff_prot_c);
	rec16(&w, 0xA3, (uint16_t)c->charge_otp_c);
	rec16(&w, 0xA4, (uint16_t)c->discharge_otp_c);
	rec16(&w, 0xA5, (uint16_t)c->charge_utp_c);
	rec16(&w, 0xA6, (uint16_t)c->charge_utpr_c);
	rec16(&w, 0xA7, (uint16_t)c->discharge_utp_c);
	rec16(&w, 0xA8, (uint16_t)c->discharge_utpr_c);
	rec8(&w, 0xA9, c->cell_count);
	rec32(&w, 0xAA, c->capacity_ah);
	rec8(&w, 0xAB, c->charge_switch);
	rec8(&w, 0xAC, c->discharge_switch);
	rec16(&w, 0xAD, c->current_calibration_ma);
	rec8(&w, 0xAE, c->board_address);
	rec8(&w, 0xAF, c->battery_type);
	rec16(&w, 0xB0, c->sleep_wait_s);
	rec8(&w, 0xB1, c->low_soc_alarm_pct);
	rec_text(&w, 0xB2, "123456", 10); /* the factory default */
	rec8(&w, 0xB3, c->dedicated_charger);
	rec_text(&w, 0xB4, s->device_id, 8);
	rec_text(&w, 0xB5, s->manufacturing_date, 4);
	rec32(&w, 0xB6, s->runtime_min);
	rec_text(&w, 0xB7, s->software_version, 15);
	if (s->has_extended) {
		rec8(&w, 0xB8, c->start_current_calibration);
		rec32(&w, 0xB9, c->actual_capacity_ah);
		rec_text(&w, 0xBA, s->manufacturer, 24);
		rec8(&w, 0xC0, s->protocol_version);
	}
	return end_frame(&w);
}
