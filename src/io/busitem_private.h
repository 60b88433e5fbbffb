/* SPDX-License-Identifier: MIT */
/*
 * Inside the BusItem tree (busitem*.c), not part of its interface: the item
 * and tree records, and the one entry from the bus that writes a value.
 */
#ifndef BUSITEM_PRIVATE_H
#define BUSITEM_PRIVATE_H

#include <glib.h>

#include "busitem.h"
#include "dbus_wire.h"

/* How GetText renders a valid value: busitem_add()'s format, parsed once. */
enum busitem_text {
	TEXT_STRING,  /* the string itself */
	TEXT_GENERAL, /* a double without a format: %g */
	TEXT_DEC,     /* <prefix>%d<suffix> */
	TEXT_HEX,     /* <prefix>%X<suffix> (two's complement) */
	TEXT_FIXED,   /* <prefix>%.<decimals>f<suffix> */
};

struct busitem {
	struct busitem_tree *tree;
	char *path;
	enum busitem_type type;
	enum busitem_text text;
	int decimals;
	char *prefix;
	char *suffix;
	busitem_set_fn set_cb;
	void *user_data;
	bool valid;
	bool pending;
	uint32_t logged; /* SetValue refusals logged (bit per reason) */
	int32_t i;
	double d;
	double d_input; /* what busitem_set_double() was given for d (while valid) */
	char *s;
	/* The bytes of its ItemsChanged/GetItems entry up to the value, which
	 * depend only on the path and the value's type (the entry starts
	 * 8-aligned): written once, copied after (busitem_encode.c put_entry()). */
	uint8_t *head;
	uint16_t head_len, head_slot, head_start; /* length; the inner array's length slot and start */
	uint8_t head_kind;                        /* the value's type + 1 it was written for; 0 invalid */
};

/* The tree's messages are numbered from here up (busitem.c next_serial()). */
#define BUSITEM_SERIAL_FIRST 0x80000000u

struct busitem_tree {
	DBusConnection *conn;
	bool properties_changed;
	GHashTable *by_path; /* path -> struct busitem * */
	GPtrArray *items;    /* in creation order */
	GPtrArray *pending;  /* changed since the last flush */
	busitem_method_fn method_fn;
	void *method_data;
	uint64_t signals;
	struct wire wire; /* reused for every message with values */
	uint32_t serial;  /* of the messages written in wire */
};

/* SetValue on it from msg: every argument checked before any is read
 * (busitem_input.c). Returns the SetValue reply code. */
int32_t busitem_set_from_bus(struct busitem *it, DBusMessage *msg);

#endif
