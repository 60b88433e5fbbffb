/* SPDX-License-Identifier: MIT */
/*
 * JK-BMS 4E 57 frame codec, the writing side: the requests we send (read-all,
 * read, activate, password, write) and a read-all reply built from a
 * snapshot by walking the identifier table of codec.c, as the simulator and
 * the tests need it. Pure: no I/O, no clock, no allocation.
 * Reference: docs/protocol-4e57.md ("Frame layout", "Requests",
 * "Identifier table").
 */
#include "codec.h"

#include <errno.h>
#include <string.h>

/* Bytes go out through a bounded cursor; running out of room is noted once
 * and reported by end_frame(). */
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

/* A fixed-width text field: the string, NUL-padded to n bytes. */
static void put_text(struct writer *w, const char *s, size_t n)
{
	size_t l = strnlen(s, n);

	for (size_t i = 0; i < n; i++)
		put8(w, i < l ? (uint8_t)s[i] : 0);
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

/* ---- requests ---------------------------------------------------------- */

static int build_request(uint8_t cmd, uint8_t type, const uint8_t *info, size_t info_len, uint8_t *out, size_t size)
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

/* ---- the read-all reply ------------------------------------------------ */

static uint16_t get16(const uint8_t *src)
{
	uint16_t v;

	memcpy(&v, src, sizeof(v));
	return v;
}

static int16_t get_s16(const uint8_t *src)
{
	int16_t v;

	memcpy(&v, src, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *src)
{
	uint32_t v;

	memcpy(&v, src, sizeof(v));
	return v;
}

/* One record, identifier first, taken from where its row says. */
static void put_record(struct writer *w, const struct codec_id *row, const struct bms_snapshot *s)
{
	const uint8_t *src = (const uint8_t *)s + row->field;

	put8(w, row->id);
	switch ((enum codec_kind)row->kind) {
	case CODEC_KIND_CELLS:
		put8(w, (uint8_t)(3 * s->cell_count));
		for (unsigned i = 0; i < s->cell_count; i++) {
			put8(w, (uint8_t)(i + 1));
			put16(w, get16(src + sizeof(uint16_t) * i));
		}
		break;
	case CODEC_KIND_U8:
	case CODEC_KIND_VERSION:
		put8(w, *src);
		break;
	case CODEC_KIND_U16:
		put16(w, get16(src));
		break;
	case CODEC_KIND_U32:
		put32(w, get32(src));
		break;
	case CODEC_KIND_S16:
		put16(w, (uint16_t)get_s16(src));
		break;
	case CODEC_KIND_SCALED:
		put16(w, (uint16_t)(get32(src) / row->scale));
		break;
	case CODEC_KIND_TEMP:
		put16(w, codec_temp_to_raw(get_s16(src)));
		break;
	case CODEC_KIND_CURRENT: /* from current_ma, in this frame's encoding */
		put16(w, codec_current_to_raw(s->current_ma, s->has_extended ? s->protocol_version : 0));
		break;
	case CODEC_KIND_TEXT:
	case CODEC_KIND_PADDED:
		put_text(w, (const char *)src, row->length);
		break;
	case CODEC_KIND_SECRET:
		put_text(w, "123456", row->length); /* the factory default */
		break;
	}
}

int codec_encode_read_all(const struct bms_snapshot *s, uint8_t *out, size_t size)
{
	struct writer w = { out, size, 0, false };

	if (s->cell_count == 0 || s->cell_count > BMS_MAX_CELLS)
		return -ERANGE;

	begin_frame(&w, CODEC_CMD_READ_ALL, CODEC_SOURCE_BMS, CODEC_TYPE_REPLY);
	for (size_t i = 0; i < codec_id_count; i++) {
		/* The old layout ends at 0xB7. */
		if (codec_ids[i].id > CODEC_ID_LAST_OLD && !s->has_extended)
			break;
		put_record(&w, &codec_ids[i], s);
	}
	return end_frame(&w);
}
