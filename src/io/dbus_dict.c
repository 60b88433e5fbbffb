/* SPDX-License-Identifier: MIT */
#include "dbus_dict.h"

void dbus_dict_append(DBusMessageIter *dict, const char *key, int type, const void *value)
{
	DBusMessageIter entry, var;
	char sig[2] = { (char)type, '\0' };

	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key);
	dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, sig, &var);
	dbus_message_iter_append_basic(&var, type, value);
	dbus_message_iter_close_container(&entry, &var);
	dbus_message_iter_close_container(dict, &entry);
}

bool dbus_dict_next(DBusMessageIter *dict, const char **key, DBusMessageIter *var)
{
	DBusMessageIter kv;

	if (dbus_message_iter_get_arg_type(dict) != DBUS_TYPE_DICT_ENTRY)
		return false;
	dbus_message_iter_recurse(dict, &kv);
	if (dbus_message_iter_get_arg_type(&kv) != DBUS_TYPE_STRING)
		return false;
	dbus_message_iter_get_basic(&kv, key);
	if (!dbus_message_iter_next(&kv) || dbus_message_iter_get_arg_type(&kv) != DBUS_TYPE_VARIANT)
		return false;
	dbus_message_iter_recurse(&kv, var);
	dbus_message_iter_next(dict);
	return true;
}
