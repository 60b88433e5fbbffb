/* SPDX-License-Identifier: MIT */
/* One {key: variant} entry of an a{sv} dictionary built with libdbus. */
#ifndef DBUS_DICT_H
#define DBUS_DICT_H

#include <dbus/dbus.h>

/* Append {key: <type>value} to dict (an open a{sv} container). type is a
 * basic D-Bus type; value points at the value as for
 * dbus_message_iter_append_basic(). */
void dbus_dict_append(DBusMessageIter *dict, const char *key, int type, const void *value);

#endif
