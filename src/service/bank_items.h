/* SPDX-License-Identifier: MIT */
/* Inside the bank service: reading a member's values (bank_items.c). */
#ifndef BANK_ITEMS_H
#define BANK_ITEMS_H

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "bank.h"
#include "dbus_read.h"

struct bank_field; /* what a path feeds: bank_items.c */

/* The member paths the bank reads, for bank_items_apply() (free with
 * g_hash_table_destroy()). */
GHashTable *bank_items_fields_new(void);

/* Apply the values of msg, an a{sa{sv}} (a GetItems reply or an
 * ItemsChanged), to m; *member is set from /Bank/Member when msg holds it.
 * Returns false (and changes nothing) when msg is not an a{sa{sv}}. */
bool bank_items_apply(GHashTable *fields, DBusMessage *msg, struct bank_member *m, bool *member);

/* The same for the len bytes at msg, a whole marshalled message (what
 * bank_items_apply() reads): also false, changing nothing, when they are
 * not a consistent message. */
bool bank_items_apply_wire(GHashTable *fields, const void *msg, size_t len, struct bank_member *m, bool *member);

/* One "Value" of the path whose field f is (found in the table
 * bank_items_fields_new() made) applied to m by that path's rule. */
void bank_items_apply_value(struct bank_member *m, const struct bank_field *f, const struct wire_value *var,
			    bool *member);

#endif
