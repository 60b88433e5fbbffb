/* SPDX-License-Identifier: MIT */
#include "bus_find.h"

#include <stdlib.h>
#include <string.h>

char *bus_find_battery(DBusConnection *c, int timeout_ms)
{
	DBusMessage *m = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
						      "org.freedesktop.DBus", "ListNames");
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, timeout_ms, NULL);
	char **names = NULL, *found = NULL;
	int n = 0;

	dbus_message_unref(m);
	if (!r)
		return NULL;
	if (dbus_message_get_args(r, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names, &n, DBUS_TYPE_INVALID)) {
		for (int i = 0; i < n && !found; i++) {
			if (strncmp(names[i], "com.victronenergy.battery.", 26) == 0)
				found = strdup(names[i]);
		}
		dbus_free_string_array(names);
	}
	dbus_message_unref(r);
	return found;
}
