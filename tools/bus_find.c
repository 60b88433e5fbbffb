/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* strverscmp */
#include "bus_find.h"

#include <stdlib.h>
#include <string.h>

#define BATTERY_PREFIX "com.victronenergy.battery."

static int natural(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int bus_find_batteries(DBusConnection *c, int timeout_ms, char **out, int max)
{
	DBusMessage *m = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
						      "org.freedesktop.DBus", "ListNames");
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, timeout_ms, NULL);
	char **names = NULL;
	int n = 0, found = 0;

	dbus_message_unref(m);
	if (!r)
		return -1;
	if (dbus_message_get_args(r, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names, &n, DBUS_TYPE_INVALID)) {
		for (int i = 0; i < n && found < max; i++) {
			if (strncmp(names[i], BATTERY_PREFIX, strlen(BATTERY_PREFIX)) == 0)
				out[found++] = strdup(names[i]);
		}
		dbus_free_string_array(names);
	}
	dbus_message_unref(r);
	qsort(out, (size_t)found, sizeof(*out), natural);
	return found;
}

char *bus_find_battery(DBusConnection *c, int timeout_ms)
{
	char *names[64];
	int n = bus_find_batteries(c, timeout_ms, names, 64);

	for (int i = 1; i < n; i++)
		free(names[i]);
	return n > 0 ? names[0] : NULL;
}
