/* SPDX-License-Identifier: MIT */
/*
 * JK-BMS 4E 57 frame codec, the reading side: envelope checks and the
 * checksum (verified here, sealed for codec_encode.c), the resynchronising
 * stream deframer, the identifier table, the walk that decodes a read-all
 * reply with it, the value conversions and the sanity checks. Pure: no I/O,
 * no clock, no allocation, no logging; every rejection is returned as a
 * reason code for the caller to count (codec_error.c words it).
 * Reference: docs/protocol-4e57.md ("Frame layout", "Checksum", "Receiving a
 * stream", "Identifier table", "Sanity checks and rejections").
 */
#include "codec.h"

#include <errno.h>
#include <string.h>

/* Offsets inside a frame (docs/protocol-4e57.md, "Frame layout"). */
#define OFF_LENGTH 2
#define OFF_COMMAND 8
#define OFF_SOURCE 9
#define OFF_TYPE 10
#define OFF_INFO 11

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
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

void codec_seal(uint8_t *f, size_t len)
{
	uint16_t sum = frame_sum(f, len);

	f[len - 2] = (uint8_t)(sum >> 8);
	f[len - 1] = (uint8_t)sum;
}

/*
 * Check a complete candidate of exactly `total` bytes whose STX and LENGTH
 * were already found plausible. Offsets in *err are relative to the frame.
 * QUIRK: the two bytes before the checksum are a "CRC16, not enabled" field,
 * 00 00 in every capture; they are ignored rather than required, so a
 * firmware that enables that CRC is not locked out (docs/protocol-4e57.md,
 * "Checksum").
 */
static int check_body(const uint8_t *f, size_t total, bool requests, struct codec_error *err)
{
	if (f[total - 5] != CODEC_END_BYTE)
		return codec_fail(err, CODEC_REJECT_END_BYTE, total - 5, CODEC_END_BYTE, f[total - 5], -EBADMSG);

	uint16_t sum = frame_sum(f, total);
	uint16_t stated = be16(f + total - 2);

	if (sum != stated)
		return codec_fail(err, CODEC_REJECT_CHECKSUM, total - 2, sum, stated, -EBADMSG);
	/* An RS-485 adapter that echoes our own request puts a valid "NW" frame
	 * in front of the reply: only source 0 / type 1 frames are BMS replies. */
	if (requests) {
		if (f[OFF_SOURCE] == CODEC_SOURCE_BMS || f[OFF_TYPE] == CODEC_TYPE_REPLY)
			return codec_fail(err, CODEC_REJECT_NOT_REPLY, OFF_SOURCE, CODEC_SOURCE_HOST, f[OFF_SOURCE],
					  -EPROTO);
		return 0;
	}
	if (f[OFF_SOURCE] != CODEC_SOURCE_BMS || f[OFF_TYPE] != CODEC_TYPE_REPLY)
		return codec_fail(err, CODEC_REJECT_NOT_REPLY, OFF_SOURCE, CODEC_SOURCE_BMS, f[OFF_SOURCE], -EPROTO);
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

int codec_feed(struct codec_rx *rx, const uint8_t *data, size_t len, size_t *consumed, struct codec_frame *frame,
	       struct codec_error *err)
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
				ret = codec_fail(err, CODEC_REJECT_LENGTH, (size_t)rx->stream_pos + OFF_LENGTH,
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

/* Copy a fixed-width NUL-padded field as printable ASCII (docs/protocol-4e57.md,
 * "Strings"): NUL runs inside become one space (0xBA "beki\0\0…JK_B1A24S15P"),
 * other bytes outside 0x20..0x7E become '?', trailing NULs are padding. A
 * user text (0xB4, 0xBA) is kept as it is, trailing '_' included
 * ("Armins__"); only where `padded` (the software version 0xB7) are
 * trailing spaces and '_' padding too. */
static void copy_text(char *dst, size_t dst_size, const uint8_t *src, size_t n, bool padded)
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
	while (padded && o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '_'))
		o--;
	dst[o] = '\0';
}

/* ---- the identifier table ---------------------------------------------- */

/* The destination of a row: offsetof(struct bms_snapshot, m), refusing to
 * compile unless m has type t, so that no row can store its kind into a
 * member of another width or signedness. */
#define SNAP_MEMBER(m) (((const struct bms_snapshot *)0)->m)
#define AT(m, t) (offsetof(struct bms_snapshot, m) + 0 * sizeof(char[_Generic(SNAP_MEMBER(m), t : 1)]))
#define SET(m, t) AT(settings.m, t)
/* A text destination: a char array of exactly n characters and the NUL. */
#define TEXT_AT(m, n) (offsetof(struct bms_snapshot, m) + 0 * sizeof(char[sizeof(SNAP_MEMBER(m)) == (n) + 1 ? 1 : -1]))

/* Every identifier of a read-all reply, in ascending order: codec_id_find()
 * searches it by halves and the encoder writes it top to bottom. Meanings
 * and units: docs/protocol-4e57.md, "Identifier table". walk_records()
 * tries the row after the last one first: a BMS sends them in this order. */
const struct codec_id codec_ids[] = {
	{ 0x79, 0, CODEC_KIND_CELLS, 1, AT(cell_mv[0], uint16_t) },
	{ 0x80, 2, CODEC_KIND_TEMP, 1, AT(temp_c[BMS_TEMP_MOSFET], int16_t) },
	{ 0x81, 2, CODEC_KIND_TEMP, 1, AT(temp_c[BMS_TEMP_T1], int16_t) },
	{ 0x82, 2, CODEC_KIND_TEMP, 1, AT(temp_c[BMS_TEMP_T2], int16_t) },
	{ 0x83, 2, CODEC_KIND_SCALED, 10, AT(voltage_mv, uint32_t) },
	{ 0x84, 2, CODEC_KIND_CURRENT, 1, AT(current_raw, uint16_t) },
	{ 0x85, 1, CODEC_KIND_U8, 1, AT(soc_pct, uint8_t) },
	{ 0x86, 1, CODEC_KIND_U8, 1, AT(temp_sensor_count, uint8_t) },
	{ 0x87, 2, CODEC_KIND_U16, 1, AT(cycles, uint16_t) },
	{ 0x89, 4, CODEC_KIND_U32, 1, AT(cycle_capacity_ah, uint32_t) },
	{ 0x8A, 2, CODEC_KIND_U16, 1, AT(cell_count_reported, uint16_t) },
	{ 0x8B, 2, CODEC_KIND_U16, 1, AT(alarms, uint16_t) },
	{ 0x8C, 2, CODEC_KIND_U16, 1, AT(status, uint16_t) },
	{ 0x8E, 2, CODEC_KIND_SCALED, 10, SET(pack_ovp_mv, uint32_t) },
	{ 0x8F, 2, CODEC_KIND_SCALED, 10, SET(pack_uvp_mv, uint32_t) },
	{ 0x90, 2, CODEC_KIND_U16, 1, SET(cell_ovp_mv, uint16_t) },
	{ 0x91, 2, CODEC_KIND_U16, 1, SET(cell_ovpr_mv, uint16_t) },
	{ 0x92, 2, CODEC_KIND_U16, 1, SET(cell_ovp_delay_s, uint16_t) },
	{ 0x93, 2, CODEC_KIND_U16, 1, SET(cell_uvp_mv, uint16_t) },
	{ 0x94, 2, CODEC_KIND_U16, 1, SET(cell_uvpr_mv, uint16_t) },
	{ 0x95, 2, CODEC_KIND_U16, 1, SET(cell_uvp_delay_s, uint16_t) },
	{ 0x96, 2, CODEC_KIND_U16, 1, SET(cell_diff_prot_mv, uint16_t) },
	{ 0x97, 2, CODEC_KIND_U16, 1, SET(discharge_ocp_a, uint16_t) },
	{ 0x98, 2, CODEC_KIND_U16, 1, SET(discharge_ocp_delay_s, uint16_t) },
	{ 0x99, 2, CODEC_KIND_U16, 1, SET(charge_ocp_a, uint16_t) },
	{ 0x9A, 2, CODEC_KIND_U16, 1, SET(charge_ocp_delay_s, uint16_t) },
	{ 0x9B, 2, CODEC_KIND_U16, 1, SET(balance_start_mv, uint16_t) },
	{ 0x9C, 2, CODEC_KIND_U16, 1, SET(balance_trigger_mv, uint16_t) },
	{ 0x9D, 1, CODEC_KIND_U8, 1, SET(balancer_enabled, uint8_t) },
	/* Temperature settings: 0x9E..0xA4 are unsigned on the wire, 0xA5..0xA8
	 * two's complement; an int16_t holds both bit for bit. The +100 rule of
	 * 0x80..0x82 does not apply to them. */
	{ 0x9E, 2, CODEC_KIND_S16, 1, SET(mosfet_otp_c, int16_t) },
	{ 0x9F, 2, CODEC_KIND_S16, 1, SET(mosfet_otpr_c, int16_t) },
	{ 0xA0, 2, CODEC_KIND_S16, 1, SET(box_otp_c, int16_t) },
	{ 0xA1, 2, CODEC_KIND_S16, 1, SET(box_otpr_c, int16_t) },
	{ 0xA2, 2, CODEC_KIND_S16, 1, SET(temp_diff_prot_c, int16_t) },
	{ 0xA3, 2, CODEC_KIND_S16, 1, SET(charge_otp_c, int16_t) },
	{ 0xA4, 2, CODEC_KIND_S16, 1, SET(discharge_otp_c, int16_t) },
	{ 0xA5, 2, CODEC_KIND_S16, 1, SET(charge_utp_c, int16_t) },
	{ 0xA6, 2, CODEC_KIND_S16, 1, SET(charge_utpr_c, int16_t) },
	{ 0xA7, 2, CODEC_KIND_S16, 1, SET(discharge_utp_c, int16_t) },
	{ 0xA8, 2, CODEC_KIND_S16, 1, SET(discharge_utpr_c, int16_t) },
	{ 0xA9, 1, CODEC_KIND_U8, 1, SET(cell_count, uint8_t) },
	{ 0xAA, 4, CODEC_KIND_U32, 1, SET(capacity_ah, uint32_t) },
	{ 0xAB, 1, CODEC_KIND_U8, 1, SET(charge_switch, uint8_t) },
	{ 0xAC, 1, CODEC_KIND_U8, 1, SET(discharge_switch, uint8_t) },
	{ 0xAD, 2, CODEC_KIND_U16, 1, SET(current_calibration_ma, uint16_t) },
	{ 0xAE, 1, CODEC_KIND_U8, 1, SET(board_address, uint8_t) },
	{ 0xAF, 1, CODEC_KIND_U8, 1, SET(battery_type, uint8_t) },
	{ 0xB0, 2, CODEC_KIND_U16, 1, SET(sleep_wait_s, uint16_t) },
	{ 0xB1, 1, CODEC_KIND_U8, 1, SET(low_soc_alarm_pct, uint8_t) },
	{ 0xB2, 10, CODEC_KIND_SECRET, 1, 0 }, /* the password: no destination */
	{ 0xB3, 1, CODEC_KIND_U8, 1, SET(dedicated_charger, uint8_t) },
	{ 0xB4, 8, CODEC_KIND_TEXT, 1, TEXT_AT(device_id, 8) },
	{ 0xB5, 4, CODEC_KIND_TEXT, 1, TEXT_AT(manufacturing_date, 4) },
	{ 0xB6, 4, CODEC_KIND_U32, 1, AT(runtime_min, uint32_t) },
	{ 0xB7, 15, CODEC_KIND_PADDED, 1, TEXT_AT(software_version, 15) },
	/* Newer firmware only (has_extended). */
	{ 0xB8, 1, CODEC_KIND_U8, 1, SET(start_current_calibration, uint8_t) },
	{ 0xB9, 4, CODEC_KIND_U32, 1, SET(actual_capacity_ah, uint32_t) },
	{ 0xBA, 24, CODEC_KIND_TEXT, 1, TEXT_AT(manufacturer, 24) },
	{ 0xC0, 1, CODEC_KIND_VERSION, 1, AT(protocol_version, uint8_t) },
};
const size_t codec_id_count = sizeof(codec_ids) / sizeof(codec_ids[0]);

const struct codec_id *codec_id_find(uint8_t id)
{
	size_t lo = 0, hi = codec_id_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (codec_ids[mid].id == id)
			return &codec_ids[mid];
		if (codec_ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The rows every reply has (up to CODEC_ID_LAST_OLD): the first rows of
 * the table, as it is in ascending order. */
static size_t codec_old_rows(void)
{
	size_t n = codec_id_count;

	while (n > 0 && codec_ids[n - 1].id > CODEC_ID_LAST_OLD)
		n--;
	return n;
}

/* ---- decoding the records ---------------------------------------------- */

static void set16(uint8_t *dst, uint16_t v)
{
	memcpy(dst, &v, sizeof(v));
}

static void set_s16(uint8_t *dst, int16_t v)
{
	memcpy(dst, &v, sizeof(v));
}

static void set32(uint8_t *dst, uint32_t v)
{
	memcpy(dst, &v, sizeof(v));
}

/* The cell block (docs/protocol-4e57.md, "Cell block 0x79"): a byte count,
 * then one (1-based index, mV) triplet per cell, indexes in order. */
static int decode_cells(const struct codec_id *row, const uint8_t *f, size_t pos, size_t end, struct bms_snapshot *s,
			struct codec_error *err, size_t *next)
{
	uint8_t *dst = (uint8_t *)s + row->field;

	if (pos + 1 >= end)
		return codec_fail(err, CODEC_REJECT_WALK_END, pos, (uint32_t)end, (uint32_t)pos + 1, -EBADMSG);

	size_t ll = f[pos + 1];
	size_t n = ll / 3;

	if (ll % 3 != 0 || n == 0 || n > BMS_MAX_CELLS)
		return codec_fail(err, CODEC_REJECT_CELLS, pos + 1, BMS_MAX_CELLS * 3, (uint32_t)ll, -EBADMSG);
	if (pos + 2 + ll > end)
		return codec_fail(err, CODEC_REJECT_WALK_END, pos + 1, (uint32_t)end, (uint32_t)(pos + 2 + ll),
				  -EBADMSG);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *t = f + pos + 2 + 3 * i;

		if (t[0] != i + 1)
			return codec_fail(err, CODEC_REJECT_CELLS, pos + 2 + 3 * i, (uint32_t)i + 1, t[0], -EBADMSG);
		set16(dst + sizeof(uint16_t) * i, be16(t + 1));
	}
	s->cell_count = (uint8_t)n;
	*next = pos + 2 + ll;
	return 0;
}

/* Store one fixed-length record where its row says. Returns 0, or a
 * rejection for a value that cannot be represented (temperatures). */
static int store_record(const struct codec_id *row, const uint8_t *v, size_t off, struct bms_snapshot *s,
			struct codec_error *err)
{
	uint8_t *dst = (uint8_t *)s + row->field;
	int16_t celsius;

	switch ((enum codec_kind)row->kind) {
	case CODEC_KIND_U8:
		*dst = v[0];
		break;
	case CODEC_KIND_U16:
	case CODEC_KIND_CURRENT: /* kept raw; decoded once 0xC0 is known */
		set16(dst, be16(v));
		break;
	case CODEC_KIND_U32:
		set32(dst, be32(v));
		break;
	case CODEC_KIND_S16:
		set_s16(dst, (int16_t)be16(v));
		break;
	case CODEC_KIND_SCALED:
		set32(dst, be16(v) * (uint32_t)row->scale);
		break;
	case CODEC_KIND_TEMP:
		if (codec_temp_from_raw(be16(v), &celsius) < 0)
			return codec_fail(err, CODEC_REJECT_TEMPERATURE, off, 140, be16(v), -ERANGE);
		set_s16(dst, celsius);
		break;
	case CODEC_KIND_TEXT:
	case CODEC_KIND_PADDED:
		copy_text((char *)dst, (size_t)row->length + 1, v, row->length, row->kind == CODEC_KIND_PADDED);
		break;
	case CODEC_KIND_VERSION:
		*dst = v[0];
		s->has_extended = true;
		break;
	case CODEC_KIND_SECRET: /* the password, sent in clear: never copied */
	case CODEC_KIND_CELLS:  /* decode_cells() */
		break;
	}
	return 0;
}

static bool was_seen(const uint8_t seen[32], uint8_t id)
{
	return seen[id >> 3] & (1u << (id & 7));
}

/* Walk the records from the information field up to the record number at
 * `end`, each as its row says, then require every row of the old layout. */
static int walk_records(const uint8_t *f, size_t end, struct bms_snapshot *s, struct codec_error *err)
{
	uint8_t seen[32] = { 0 };
	size_t pos = OFF_INFO, next = 0, old_rows = 0;
	int ret;

	while (pos < end) {
		uint8_t id = f[pos];

		if (was_seen(seen, id))
			return codec_fail(err, CODEC_REJECT_DUPLICATE_ID, pos, 0, id, -EBADMSG);
		seen[id >> 3] |= (uint8_t)(1u << (id & 7));

		/* A BMS sends its records in the table's order: try the row after
		 * the last one first, search only when that is not it. */
		const struct codec_id *row = next < codec_id_count && codec_ids[next].id == id ? &codec_ids[next]
											       : codec_id_find(id);

		if (row == NULL)
			return codec_fail(err, CODEC_REJECT_UNKNOWN_ID, pos, 0, id, -EBADMSG);
		next = (size_t)(row - codec_ids) + 1;
		old_rows += row->id <= CODEC_ID_LAST_OLD; /* each counted once: duplicates are refused */
		if (row->kind == CODEC_KIND_CELLS) {
			ret = decode_cells(row, f, pos, end, s, err, &pos);
			if (ret < 0)
				return ret;
			continue;
		}
		if (pos + 1 + row->length > end)
			return codec_fail(err, CODEC_REJECT_WALK_END, pos, (uint32_t)end,
					  (uint32_t)(pos + 1 + row->length), -EBADMSG);
		ret = store_record(row, f + pos + 1, pos, s, err);
		if (ret < 0)
			return ret;
		pos += 1 + (size_t)row->length;
	}
	if (old_rows == codec_old_rows())
		return 0;
	for (size_t i = 0; i < codec_id_count && codec_ids[i].id <= CODEC_ID_LAST_OLD; i++) {
		if (!was_seen(seen, codec_ids[i].id))
			return codec_fail(err, CODEC_REJECT_MISSING_ID, end, codec_ids[i].id, 0, -EBADMSG);
	}
	return 0;
}

static int check_sanity(const struct bms_snapshot *s, struct codec_error *err)
{
	if (s->soc_pct > 100)
		return codec_fail(err, CODEC_REJECT_SOC, 0, 100, s->soc_pct, -ERANGE);

	uint32_t sum = 0;
	bool missing = false;

	for (unsigned i = 0; i < s->cell_count; i++) {
		sum += s->cell_mv[i];
		missing |= s->cell_mv[i] == 0;
	}
	/* Both the cells and the pack voltage are measured (the 14S capture:
	 * 53.595 vs 53.59 V); they must agree within 0.5 V. A cell reading 0 mV is a
	 * missing sense lead, so then the sum can only be checked from above. */
	uint32_t diff = sum > s->voltage_mv ? sum - s->voltage_mv : s->voltage_mv - sum;

	if ((missing && sum > s->voltage_mv + 500) || (!missing && diff >= 500))
		return codec_fail(err, CODEC_REJECT_VOLTAGE_SUM, 0, s->voltage_mv, sum, -ERANGE);
	return 0;
}

/* The envelope of a frame handed over whole: STX, a LENGTH that matches len,
 * end byte, checksum, a BMS reply, and a read-all command. */
static int check_envelope(const uint8_t *f, size_t len, struct codec_error *err)
{
	if (len < 4 || f[0] != 0x4E || f[1] != 0x57)
		return codec_fail(err, CODEC_REJECT_LENGTH, 0, CODEC_LENGTH_MIN, (uint32_t)len, -EMSGSIZE);

	uint16_t length = be16(f + OFF_LENGTH);

	if (!length_ok(length) || (size_t)length + 2 != len)
		return codec_fail(err, CODEC_REJECT_LENGTH, OFF_LENGTH, (uint32_t)len - 2, length, -EMSGSIZE);

	int ret = check_body(f, len, false, err);

	if (ret < 0)
		return ret;
	if (f[OFF_COMMAND] != CODEC_CMD_READ_ALL && f[OFF_COMMAND] != CODEC_CMD_READ)
		return codec_fail(err, CODEC_REJECT_COMMAND, OFF_COMMAND, CODEC_CMD_READ_ALL, f[OFF_COMMAND], -EPROTO);
	return 0;
}

int codec_decode(const uint8_t *f, size_t len, struct bms_snapshot *out, struct codec_error *err)
{
	struct bms_snapshot s;
	int ret = check_envelope(f, len, err);

	if (ret < 0)
		return ret;
	memset(&s, 0, sizeof(s));
	ret = walk_records(f, len - 9, &s, err); /* len - 9: the record number */
	if (ret < 0)
		return ret;
	/* 0xC0 arrives after 0x84: decode the current with the version found
	 * in this same frame, never a previous one. */
	s.current_ma = codec_current_from_raw(s.current_raw, s.protocol_version);

	ret = check_sanity(&s, err);
	if (ret < 0)
		return ret;
	*out = s;
	return 0;
}
