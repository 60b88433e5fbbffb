/* SPDX-License-Identifier: MIT */
/* The D-Bus wire format, little endian, as the specification lays it out:
 * every value aligned to its size (structs and dict entries to 8), arrays
 * prefixed with their byte length, strings with theirs and a NUL. */
#include "dbus_wire.h"

#include <stdlib.h>
#include <string.h>

void wire_init(struct wire *w)
{
	memset(w, 0, sizeof(*w));
}

void wire_reset(struct wire *w)
{
	w->len = 0;
}

void wire_free(struct wire *w)
{
	free(w->buf);
	wire_init(w);
}

static uint8_t *room(struct wire *w, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;

		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);

		if (!b)
			abort(); /* as GLib does on allocation failure */
		w->buf = b;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;

	w->len += n;
	return p;
}

void wire_align(struct wire *w, size_t n)
{
	size_t pad = (n - (w->len % n)) % n;

	if (pad)
		memset(room(w, pad), 0, pad);
}

void wire_byte(struct wire *w, uint8_t v)
{
	*room(w, 1) = v;
}

void wire_u32(struct wire *w, uint32_t v)
{
	wire_align(w, 4);
	uint8_t *p = room(w, 4);

	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

void wire_i32(struct wire *w, int32_t v)
{
	wire_u32(w, (uint32_t)v);
}

void wire_double(struct wire *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	wire_align(w, 8);
	uint8_t *p = room(w, 8);

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

void wire_string(struct wire *w, const char *s)
{
	size_t n = strlen(s);

	wire_u32(w, (uint32_t)n);
	memcpy(room(w, n + 1), s, n + 1);
}

void wire_signature(struct wire *w, const char *s)
{
	size_t n = strlen(s);

	wire_byte(w, (uint8_t)n);
	memcpy(room(w, n + 1), s, n + 1);
}

size_t wire_array_begin(struct wire *w, size_t elem_align, size_t *start)
{
	wire_u32(w, 0);
	size_t slot = w->len - 4;

	wire_align(w, elem_align); /* padding before the first element is not counted */
	*start = w->len;
	return slot;
}

void wire_array_end(struct wire *w, size_t slot, size_t start)
{
	uint32_t n = (uint32_t)(w->len - start);

	w->buf[slot] = (uint8_t)n, w->buf[slot + 1] = (uint8_t)(n >> 8);
	w->buf[slot + 2] = (uint8_t)(n >> 16), w->buf[slot + 3] = (uint8_t)(n >> 24);
}

static void header_field(struct wire *h, uint8_t code, const char *type, const char *value)
{
	wire_align(h, 8); /* each field is a struct (yv) */
	wire_byte(h, code);
	wire_signature(h, type);
	if (type[0] == 'g')
		wire_signature(h, value);
	else
		wire_string(h, value);
}

DBusMessage *wire_signal(const char *path, const char *iface, const char *member, const char *sig,
			 const struct wire *body, uint32_t serial)
{
	struct wire h;
	size_t start, slot;

	wire_init(&h);
	wire_byte(&h, 'l');
	wire_byte(&h, DBUS_MESSAGE_TYPE_SIGNAL);
	wire_byte(&h, DBUS_HEADER_FLAG_NO_REPLY_EXPECTED);
	wire_byte(&h, 1); /* protocol version */
	wire_u32(&h, (uint32_t)body->len);
	wire_u32(&h, serial);
	slot = wire_array_begin(&h, 8, &start);
	header_field(&h, DBUS_HEADER_FIELD_PATH, "o", path);
	header_field(&h, DBUS_HEADER_FIELD_INTERFACE, "s", iface);
	header_field(&h, DBUS_HEADER_FIELD_MEMBER, "s", member);
	header_field(&h, DBUS_HEADER_FIELD_SIGNATURE, "g", sig);
	wire_array_end(&h, slot, start);
	wire_align(&h, 8); /* the body starts 8-aligned */
	memcpy(room(&h, body->len), body->buf, body->len);

	DBusMessage *m = dbus_message_demarshal((const char *)h.buf, (int)h.len, NULL);

	wire_free(&h);
	return m;
}
