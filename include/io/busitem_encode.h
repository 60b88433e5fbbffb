/* SPDX-License-Identifier: MIT */
/*
 * The BusItem tree's one encoder (busitem_encode.c): every value and text
 * the tree sends, in ItemsChanged, PropertiesChanged and the replies to
 * GetValue, GetText and GetItems, written into a struct wire (dbus_wire.h).
 * Used by the tree itself (busitem.c), not by its users.
 */
#ifndef BUSITEM_ENCODE_H
#define BUSITEM_ENCODE_H

#include <glib.h>
#include <stddef.h>

#include "busitem.h"
#include "dbus_wire.h"

enum busitem_dict {
	BUSITEM_DICT_ITEMS,  /* a{sa{sv}}: {"Value", "Text"} per path */
	BUSITEM_DICT_VALUES, /* a{sv} */
	BUSITEM_DICT_TEXTS,  /* a{ss} */
};

/* A variant: the item's type and value; invalid is an empty array of int32. */
void busitem_put_value(struct wire *w, const struct busitem *it);

/* The text: "---" when invalid, else as the item's format says. */
void busitem_put_text(struct wire *w, const struct busitem *it);

/* {"Value": v, "Text": s}, an a{sv}. */
void busitem_put_value_text(struct wire *w, const struct busitem *it);

/* A dictionary of items (struct busitem *) keyed by their paths less the
 * first skip bytes; BUSITEM_DICT_ITEMS with skip 0 is ItemsChanged's and
 * GetItems's, whose entries are cached in each item. */
void busitem_put_dict(struct wire *w, const GPtrArray *items, size_t skip, enum busitem_dict kind);

#endif
