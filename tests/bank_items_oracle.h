/* SPDX-License-Identifier: MIT */
/* The bank's reading of a member's values with libdbus's iterators, as it
 * was: the oracle of test_bank_items.c (bank_items_oracle.c). */
#ifndef BANK_ITEMS_ORACLE_H
#define BANK_ITEMS_ORACLE_H

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>

#include "bank.h"

GHashTable *oracle_items_fields_new(void);
bool oracle_items_apply(GHashTable *fields, DBusMessage *msg, struct bank_member *m, bool *member);

/* The name of the first field in which a and b differ (bit for bit, NaNs
 * too), or NULL when they are the same. */
const char *oracle_member_differs(const struct bank_member *a, const struct bank_member *b);

#endif
