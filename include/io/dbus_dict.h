/* SPDX-License-Identifier: MIT */
/* One {key: variant} entry of an a{sv} dictionary, written or read with
 * libdbus. */
#ifndef DBUS_DICT_H
#define DBUS_DICT_H

#include <dbus/dbus.h>
#include <stdbool.h>

/* Append {key: <type>value} to dict (an open a{sv} container). type is a
 * basic D-Bus type; value points at the value as for
 * dbus_message_iter_append_basic(). */
void dbus_dict_append(DBusMessageIter *dict, const char *key, int type, const void *value);

/* The entry dict (an iterator inside an a{sv}) stands at: its key and an
 * iterator into its variant; dict moves on to the next entry. false at the
 * end, or at an entry that is not {string: variant}. */
bool dbus_dict_next(DBusMessageIter *dict, const char **key, DBusMessageIter *var);

#endif
