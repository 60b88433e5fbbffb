/* SPDX-License-Identifier: MIT */
/*
 * The BusItem tree's one encoder (busitem_encode.h): every value and text
 * the tree sends, written over dbus_wire.c. The entries of ItemsChanged and
 * GetItems keep the bytes up to their value in the item (put_entry()).
 */
#include "busitem_encode.h"

#include <stdio.h>
#include <string.h>

#include "busitem_private.h"

/* A variant's type, then its value; invalid is an empty array of int32. */
static void put_value_type(struct wire *w, const struct busitem *it)
{
	static const char *const sig[] = { [BUSITEM_INT] = "i", [BUSITEM_DOUBLE] = "d", [BUSITEM_STRING] = "s" };

	wire_signature(w, it->valid ? sig[it->type] : "ai");
}

static void put_value_data(struct wire *w, const struct busitem *it)
{
	if (!it->valid) {
		wire_u32(w, 0);
		return;
	}
	switch (it->type) {
	case BUSITEM_INT:
		wire_i32(w, it->i);
		break;
	case BUSITEM_DOUBLE:
		wire_double(w, it->d);
		break;
	case BUSITEM_STRING:
		wire_string(w, it->s);
		break;
	}
}

void busitem_put_value(struct wire *w, const struct busitem *it)
{
	put_value_type(w, it);
	put_value_data(w, it);
}

/* The text: "---" when invalid, else as the item's format says. */
void busitem_put_text(struct wire *w, const struct busitem *it)
{
	char buf[32];

	if (!it->valid) {
		wire_string(w, "---");
		return;
	}
	switch (it->text) {
	case TEXT_STRING:
		wire_string(w, it->s);
		break;
	case TEXT_GENERAL:
		snprintf(buf, sizeof(buf), "%g", it->d);
		wire_string(w, buf);
		break;
	case TEXT_DEC:
	case TEXT_HEX:
		wire_text_int(w, it->prefix, it->i, it->text == TEXT_HEX, it->suffix);
		break;
	case TEXT_FIXED:
		wire_text_fixed(w, it->prefix, it->d, it->decimals, it->suffix);
		break;
	}
}

/* {"Value": v, "Text": s}, an a{sv}. */
void busitem_put_value_text(struct wire *w, const struct busitem *it)
{
	size_t start, slot = wire_array_begin(w, 8, &start);

	wire_align(w, 8);
	wire_string(w, "Value");
	busitem_put_value(w, it);
	wire_align(w, 8);
	wire_string(w, "Text");
	wire_signature(w, "s");
	busitem_put_text(w, it);
	wire_array_end(w, slot, start);
}

/* The "Text" entry of an a{sv} up to its string, from an 8-aligned offset:
 * the key (length 4, "Text", NUL), then the variant's type "s". The string
 * that follows is 4-aligned already. */
static const uint8_t text_key[12] = { 4, 0, 0, 0, 'T', 'e', 'x', 't', 0, 1, 's', 0 };

/* {path: {"Value": v, "Text": s}}, a dict entry of ItemsChanged and
 * GetItems, starting 8-aligned. Everything up to the value is the item's
 * cached head; written out and kept the first time (and when the value
 * changes type or validity). */
static void put_entry(struct wire *w, struct busitem *it)
{
	uint8_t kind = it->valid ? (uint8_t)(it->type + 1) : 0;
	size_t start;

	wire_align(w, 8);
	start = w->len;
	if (it->head && it->head_kind == kind) {
		wire_bytes(w, it->head, it->head_len);
	} else {
		size_t astart, slot;

		wire_string(w, it->path);
		slot = wire_array_begin(w, 8, &astart);
		wire_string(w, "Value");
		put_value_type(w, it);
		g_free(it->head);
		it->head = g_malloc(w->len - start);
		memcpy(it->head, w->buf + start, w->len - start);
		it->head_len = (uint16_t)(w->len - start);
		it->head_slot = (uint16_t)(slot - start);
		it->head_start = (uint16_t)(astart - start);
		it->head_kind = kind;
	}
	put_value_data(w, it);
	wire_align(w, 8);
	wire_bytes(w, text_key, sizeof(text_key));
	busitem_put_text(w, it);
	wire_array_end(w, start + it->head_slot, start + it->head_start);
}

/* A dictionary of items keyed by their paths less the first skip bytes. */
void busitem_put_dict(struct wire *w, const GPtrArray *items, size_t skip, enum busitem_dict kind)
{
	size_t start, slot = wire_array_begin(w, 8, &start);

	for (guint k = 0; k < items->len; k++) {
		struct busitem *it = g_ptr_array_index(items, k);

		if (kind == BUSITEM_DICT_ITEMS && skip == 0) {
			put_entry(w, it);
			continue;
		}
		wire_align(w, 8);
		wire_string(w, it->path + skip);
		if (kind == BUSITEM_DICT_ITEMS)
			busitem_put_value_text(w, it);
		else if (kind == BUSITEM_DICT_VALUES)
			busitem_put_value(w, it);
		else
			busitem_put_text(w, it);
	}
	wire_array_end(w, slot, start);
}
