/* SPDX-License-Identifier: MIT */
/* A D-Bus message writer of either byte order, for tests (wire_build.h). */
#include "wire_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void wb_init(struct wb *w, bool big)
{
	memset(w, 0, sizeof(*w));
	w->big = big;
}

void wb_free(struct wb *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

static uint8_t *room(struct wb *w, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 64;
		w->buf = realloc(w->buf, w->cap);
		if (!w->buf)
			abort();
	}
	w->len += n;
	return w->buf + w->len - n;
}

/* n bytes of v in the writer's byte order. */
static void put(struct wb *w, uint64_t v, size_t n)
{
	wb_align(w, n);
	uint8_t *p = room(w, n);

	for (size_t k = 0; k < n; k++)
		p[w->big ? n - 1 - k : k] = (uint8_t)(v >> (8 * k));
}

void wb_align(struct wb *w, size_t n)
{
	while (w->len % n)
		*room(w, 1) = 0;
}

void wb_u8(struct wb *w, uint8_t v)
{
	put(w, v, 1);
}

void wb_u16(struct wb *w, uint16_t v)
{
	put(w, v, 2);
}

void wb_u32(struct wb *w, uint32_t v)
{
	put(w, v, 4);
}

void wb_u64(struct wb *w, uint64_t v)
{
	put(w, v, 8);
}

void wb_double(struct wb *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	put(w, u, 8);
}

void wb_string(struct wb *w, const char *s)
{
	size_t n = strlen(s);

	wb_u32(w, (uint32_t)n);
	memcpy(room(w, n + 1), s, n + 1);
}

void wb_sig(struct wb *w, const char *s)
{
	size_t n = strlen(s);

	wb_u8(w, (uint8_t)n);
	memcpy(room(w, n + 1), s, n + 1);
}

size_t wb_array_begin(struct wb *w, size_t elem_align, size_t *start)
{
	wb_u32(w, 0);
	size_t slot = w->len - 4;

	wb_align(w, elem_align);
	*start = w->len;
	return slot;
}

void wb_array_end(struct wb *w, size_t slot, size_t start)
{
	uint32_t n = (uint32_t)(w->len - start);
	size_t len = w->len;

	w->len = slot;
	wb_u32(w, n);
	w->len = len;
}

void wb_items_begin(struct wb *w, struct wb_array *a)
{
	a->slot = wb_array_begin(w, 8, &a->start);
}

void wb_item_begin(struct wb *w, struct wb_array *props, const char *path)
{
	wb_align(w, 8);
	wb_string(w, path);
	props->slot = wb_array_begin(w, 8, &props->start);
}

void wb_key(struct wb *w, const char *key)
{
	wb_align(w, 8);
	wb_string(w, key);
}

void wb_item_end(struct wb *w, const struct wb_array *props)
{
	wb_array_end(w, props->slot, props->start);
}

void wb_items_end(struct wb *w, const struct wb_array *a)
{
	wb_array_end(w, a->slot, a->start);
}

/* One header field: (code, <sig>value). */
static void field(struct wb *w, uint8_t code, const char *sig, const char *value)
{
	wb_align(w, 8);
	wb_u8(w, code);
	wb_sig(w, sig);
	if (strcmp(sig, "g") == 0)
		wb_sig(w, value);
	else
		wb_string(w, value);
}

void wb_message(struct wb *out, const char *sig, const struct wb *body, uint32_t serial)
{
	size_t slot, start;

	out->len = 0;
	wb_u8(out, out->big ? 'B' : 'l');
	wb_u8(out, 4); /* a signal */
	wb_u8(out, 1); /* no reply expected */
	wb_u8(out, 1); /* version */
	wb_u32(out, (uint32_t)body->len);
	wb_u32(out, serial);
	slot = wb_array_begin(out, 8, &start);
	field(out, 1, "o", "/");
	field(out, 2, "s", "com.victronenergy.BusItem");
	field(out, 3, "s", "ItemsChanged");
	field(out, 8, "g", sig);
	wb_array_end(out, slot, start);
	wb_align(out, 8);
	if (body->len)
		memcpy(room(out, body->len), body->buf, body->len);
}

uint32_t wb_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* A number the bank tells apart: small ones, limits, and anything. */
static double random_double(uint32_t *st)
{
	static const double some[] = { 0, 1, 2, -1, 0.5, 2.5, 3, -0.0, 55.2, 1e300, -1e300, 10000, 10000.5 };
	uint32_t k = wb_rand(st) % 16;
	uint64_t bits;

	if (k < sizeof(some) / sizeof(some[0]))
		return some[k];
	if (k == 13)
		return wb_rand(st) % 2 ? INFINITY : -INFINITY;
	if (k == 14)
		return NAN;
	bits = (uint64_t)wb_rand(st) << 32 | wb_rand(st);
	double d;

	memcpy(&d, &bits, sizeof(d)); /* NaNs and subnormals too */
	return d;
}

static int32_t random_int(uint32_t *st)
{
	return wb_rand(st) % 2 ? (int32_t)(wb_rand(st) % 5) - 1 : (int32_t)wb_rand(st);
}

static void random_text(char *s, size_t max, uint32_t *st)
{
	size_t n = wb_rand(st) % 4 ? wb_rand(st) % 20 : wb_rand(st) % max;

	for (size_t k = 0; k < n; k++)
		s[k] = (char)(' ' + wb_rand(st) % 95);
	s[n] = '\0';
}

static void variant(struct wb *w, uint32_t *st, unsigned depth);

/* A container value of a random kind, with its signature. */
static void container(struct wb *w, uint32_t *st, unsigned depth)
{
	size_t slot, start;
	char text[32];

	switch (wb_rand(st) % 7) {
	case 0: /* the invalid value: an empty array */
		wb_sig(w, "ai");
		slot = wb_array_begin(w, 4, &start);
		wb_array_end(w, slot, start);
		break;
	case 1: /* doubles: padded to 8 even when empty */
		wb_sig(w, "ad");
		slot = wb_array_begin(w, 8, &start);
		for (uint32_t k = wb_rand(st) % 3; k; k--)
			wb_double(w, random_double(st));
		wb_array_end(w, slot, start);
		break;
	case 2:
		wb_sig(w, "ay");
		slot = wb_array_begin(w, 1, &start);
		for (uint32_t k = wb_rand(st) % 6; k; k--)
			wb_u8(w, (uint8_t)wb_rand(st));
		wb_array_end(w, slot, start);
		break;
	case 3: /* a dict of variants */
		wb_sig(w, "a{sv}");
		slot = wb_array_begin(w, 8, &start);
		for (uint32_t k = wb_rand(st) % 3; k; k--) {
			wb_align(w, 8);
			wb_string(w, k % 2 ? "Value" : "Text");
			variant(w, st, depth + 1);
		}
		wb_array_end(w, slot, start);
		break;
	case 4:
		wb_sig(w, "(is)");
		wb_align(w, 8);
		wb_u32(w, (uint32_t)random_int(st));
		random_text(text, sizeof(text), st);
		wb_string(w, text);
		break;
	case 5: /* structs in a struct, a variant in them */
		wb_sig(w, "(y(dv))");
		wb_align(w, 8);
		wb_u8(w, (uint8_t)wb_rand(st));
		wb_align(w, 8);
		wb_double(w, random_double(st));
		variant(w, st, depth + 1);
		break;
	default: /* a variant in a variant */
		wb_sig(w, "v");
		variant(w, st, depth + 1);
		break;
	}
}

static void variant(struct wb *w, uint32_t *st, unsigned depth)
{
	static const char basic[] = "ybnqiuxtdsog";
	char text[130];
	uint32_t k = wb_rand(st) % 16;
	char c = k < 12 ? basic[k] : 'c';

	if (c == 'c' && depth > 3)
		c = 'i';
	if (c == 'c') {
		container(w, st, depth);
		return;
	}
	wb_sig(w, (char[]){ c, '\0' });
	switch (c) {
	case 'y':
		wb_u8(w, (uint8_t)random_int(st));
		break;
	case 'b':
		wb_u32(w, wb_rand(st) % 2);
		break;
	case 'n':
	case 'q':
		wb_u16(w, (uint16_t)random_int(st));
		break;
	case 'i':
	case 'u':
		wb_u32(w, (uint32_t)random_int(st));
		break;
	case 'x':
	case 't':
		wb_u64(w, (uint64_t)(int64_t)random_int(st) * (wb_rand(st) % 2 ? 1 : 0x100000001));
		break;
	case 'd':
		wb_double(w, random_double(st));
		break;
	case 's':
		random_text(text, sizeof(text), st);
		wb_string(w, text);
		break;
	case 'o':
		wb_string(w, wb_rand(st) % 2 ? "/" : "/Dc/0");
		break;
	default: /* g */
		wb_sig(w, wb_rand(st) % 2 ? "" : "a{sv}");
		break;
	}
}

void wb_random_variant(struct wb *w, uint32_t *state)
{
	variant(w, state, 0);
}
