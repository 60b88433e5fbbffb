/* SPDX-License-Identifier: MIT */
/*
 * The oracle of test_bank_items.c: how the bank read a member's message
 * before src/service/bank_items.c read the bytes itself, with libdbus's
 * iterators; each "Value" goes through the bank's own rule for its path
 * (bank_items_apply_value()). The new reading must give the same member
 * for every message libdbus accepts.
 */
#include "bank_items_oracle.h"

#include <string.h>

#include "bank_items.h"
#include "dbus_dict.h"
#include "dbus_read.h"

/* The same paths and the same rule per path as the bank's: what is
 * compared is how the message is read. */
GHashTable *oracle_items_fields_new(void)
{
	return bank_items_fields_new();
}

/* A variant as libdbus reads it, in the reader's terms: the types the rules
 * use (d, i, s) with their value, any other by its type code alone. */
static void variant_value(DBusMessageIter *var, struct wire_value *out)
{
	int32_t i;

	memset(out, 0, sizeof(*out));
	out->type = (char)dbus_message_iter_get_arg_type(var);
	switch (out->type) {
	case DBUS_TYPE_DOUBLE:
		dbus_message_iter_get_basic(var, &out->v.d);
		break;
	case DBUS_TYPE_INT32:
		dbus_message_iter_get_basic(var, &i);
		out->v.i = i;
		break;
	case DBUS_TYPE_STRING:
		dbus_message_iter_get_basic(var, &out->v.s);
		break;
	default:
		break;
	}
}

bool oracle_items_apply(GHashTable *fields, DBusMessage *msg, struct bank_member *m, bool *member)
{
	DBusMessageIter it, arr, entry, props, var;

	if (!dbus_message_has_signature(msg, "a{sa{sv}}"))
		return false;
	dbus_message_iter_init(msg, &it);
	dbus_message_iter_recurse(&it, &arr);
	for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&arr)) {
		const char *path;

		dbus_message_iter_recurse(&arr, &entry);
		dbus_message_iter_get_basic(&entry, &path);
		const struct bank_field *f = g_hash_table_lookup(fields, path);

		if (!f)
			continue;
		dbus_message_iter_next(&entry);
		dbus_message_iter_recurse(&entry, &props);
		const char *key;

		while (dbus_dict_next(&props, &key, &var)) {
			struct wire_value v;

			if (strcmp(key, "Value") != 0)
				continue;
			variant_value(&var, &v);
			bank_items_apply_value(m, f, &v, member);
		}
	}
	return true;
}

/* Not the old code: the comparison of test_bank_items.c and fuzz_dbus_read. */
#define DIFFERS(field) \
	do { \
		if (memcmp(&a->field, &b->field, sizeof(a->field)) != 0) \
			return #field; \
	} while (0)

const char *oracle_member_differs(const struct bank_member *a, const struct bank_member *b)
{
	DIFFERS(uid);
	DIFFERS(present);
	DIFFERS(connected);
	DIFFERS(silent);
	DIFFERS(value);
	DIFFERS(has);
	DIFFERS(min_cell_id);
	DIFFERS(max_cell_id);
	DIFFERS(limit);
	DIFFERS(has_limit);
	DIFFERS(blocking_charge);
	DIFFERS(blocking_discharge);
	DIFFERS(alarm);
	DIFFERS(charge_limitation);
	DIFFERS(discharge_limitation);
	return NULL;
}
