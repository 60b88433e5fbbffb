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

struct busitem {
	struct busitem_tree *tree;
	char *path;
	enum busitem_type type;
	char *text_fmt;
	int decimals;       /* >= 0: text_fmt is "%.<decimals>f<suffix>", formatted without printf */
	char *suffix;
	busitem_set_fn set_cb;
	void *user_data;
	bool valid;
	bool pending;
	uint32_t logged;    /* SetValue refusals logged (bit per reason) */
	int32_t i;
	double d;
	char *s;
};

struct busitem_tree {
	DBusConnection *conn;
	bool properties_changed;
	GHashTable *by_path;  /* path -> struct busitem * */
	GPtrArray *items;     /* in creation order */
	GPtrArray *pending;   /* changed since the last flush */
	busitem_method_fn method_fn;
	void *method_data;
	uint64_t signals;
	struct wire wire;     /* reused for every signal */
	uint32_t serial;      /* of the signals we marshal ourselves */
};

/* SetValue on it from msg: every argument checked before any is read
 * (busitem_input.c). Returns the SetValue reply code. */
int32_t busitem_set_from_bus(struct busitem *it, DBusMessage *msg);

#endif
