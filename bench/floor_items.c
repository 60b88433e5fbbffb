/* SPDX-License-Identifier: MIT */
/* The floors' ItemsChanged (floor_items.h). */
#include "floor_items.h"

#include <stdio.h>

/* {"Value": <double>, "Text": <string>} for one path. */
static void append_item(DBusMessageIter *dict, const char *path, double value, const char *text)
{
	static const char *keys[] = { "Value", "Text" };
	DBusMessageIter entry, inner, pair, var;

	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &path);
	dbus_message_iter_open_container(&entry, DBUS_TYPE_ARRAY, "{sv}", &inner);
	for (int k = 0; k < 2; k++) {
		dbus_message_iter_open_container(&inner, DBUS_TYPE_DICT_ENTRY, NULL, &pair);
		dbus_message_iter_append_basic(&pair, DBUS_TYPE_STRING, &keys[k]);
		dbus_message_iter_open_container(&pair, DBUS_TYPE_VARIANT, k == 0 ? "d" : "s", &var);
		if (k == 0)
			dbus_message_iter_append_basic(&var, DBUS_TYPE_DOUBLE, &value);
		else
			dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &text);
		dbus_message_iter_close_container(&pair, &var);
		dbus_message_iter_close_container(&inner, &pair);
	}
	dbus_message_iter_close_container(&entry, &inner);
	dbus_message_iter_close_container(dict, &entry);
}

DBusMessage *floor_items_changed(const struct floor_item *head, unsigned n, unsigned cells)
{
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");
	DBusMessageIter it, dict;

	dbus_message_set_no_reply(m, TRUE);
	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sa{sv}}", &dict);
	for (unsigned k = 0; k < n; k++)
		append_item(&dict, head[k].path, head[k].value, head[k].text);
	for (unsigned c = 1; c <= cells; c++) {
		char path[32], text[16];

		snprintf(path, sizeof(path), "/Voltages/Cell%u", c);
		snprintf(text, sizeof(text), "%.3fV", 3.32 + c * 0.001);
		append_item(&dict, path, 3.32 + c * 0.001, text);
	}
	dbus_message_iter_close_container(&it, &dict);
	return m;
}
