/* SPDX-License-Identifier: MIT */
/*
 * Device instance and custom name from localsettings. The request is a small
 * asynchronous state machine: NameHasOwner until the service is there (or the
 * deadline passes), then one AddSettings call.
 */
#define G_LOG_DOMAIN "settings"

#include "settings.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbus_dict.h"
#include "log.h"

#define CALL_TIMEOUT_MS 3000

struct settings_client {
	DBusConnection *conn;
	char *cls;
	char *prefix;
	int preferred;
	uint64_t deadline_us;
	settings_result_fn cb;
	void *user_data;
	guint retry_source;
	DBusPendingCall *pending;
	bool ready;
	bool logged_wait;
};

struct settings_client *settings_client_new(DBusConnection *conn)
{
	struct settings_client *sc = g_new0(struct settings_client, 1);

	sc->conn = conn;
	return sc;
}

void settings_client_free(struct settings_client *sc)
{
	if (!sc)
		return;
	if (sc->retry_source)
		g_source_remove(sc->retry_source);
	if (sc->pending) {
		dbus_pending_call_cancel(sc->pending);
		dbus_pending_call_unref(sc->pending);
	}
	g_free(sc->cls);
	g_free(sc->prefix);
	g_free(sc);
}

static void finish(struct settings_client *sc, int instance, const char *name, bool from_settings)
{
	settings_result_fn cb = sc->cb;

	sc->cb = NULL;
	sc->ready = from_settings;
	if (cb)
		cb(sc->user_data, instance, name, from_settings);
}

static void give_up(struct settings_client *sc, const char *why)
{
	LOG_WARN("settings: %s; using the configured device instance %d", why, sc->preferred);
	finish(sc, sc->preferred, "", false);
}

static bool send(struct settings_client *sc, DBusMessage *msg, DBusPendingCallNotifyFunction fn)
{
	bool ok = dbus_connection_send_with_reply(sc->conn, msg, &sc->pending, CALL_TIMEOUT_MS) && sc->pending;

	dbus_message_unref(msg);
	if (ok)
		dbus_pending_call_set_notify(sc->pending, fn, sc, NULL);
	return ok;
}

/* Pull "value" and "error" of the entry whose path ends with suffix. */
static bool parse_entry(DBusMessageIter *entry_arr, const char *suffix, int *error, char **value)
{
	DBusMessageIter dict, kv, var;
	const char *path = NULL;

	*error = -1;
	*value = NULL;
	dbus_message_iter_recurse(entry_arr, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		const char *key;

		dbus_message_iter_recurse(&dict, &kv);
		dbus_message_iter_get_basic(&kv, &key);
		dbus_message_iter_next(&kv);
		dbus_message_iter_recurse(&kv, &var);
		int t = dbus_message_iter_get_arg_type(&var);

		if (strcmp(key, "path") == 0 && t == DBUS_TYPE_STRING) {
			dbus_message_iter_get_basic(&var, &path);
		} else if (strcmp(key, "error") == 0 && t == DBUS_TYPE_INT32) {
			dbus_message_iter_get_basic(&var, error);
		} else if (strcmp(key, "value") == 0 && t == DBUS_TYPE_STRING) {
			const char *s;

			dbus_message_iter_get_basic(&var, &s);
			g_free(*value);
			*value = g_strdup(s);
		}
		dbus_message_iter_next(&dict);
	}
	if (path && g_str_has_suffix(path, suffix))
		return true;
	g_free(*value);
	*value = NULL;
	return false;
}

static void add_settings_reply(DBusPendingCall *call, void *data)
{
	struct settings_client *sc = data;
	DBusMessage *reply = dbus_pending_call_steal_reply(call);
	DBusMessageIter iter, arr;
	int instance = -1;
	char *name = NULL;

	dbus_pending_call_unref(sc->pending);
	sc->pending = NULL;
	if (!reply || dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
		char why[256];

		snprintf(why, sizeof(why), "AddSettings failed: %s",
			 reply ? dbus_message_get_error_name(reply) : "no reply");
		give_up(sc, why);
		if (reply)
			dbus_message_unref(reply);
		return;
	}
	if (dbus_message_iter_init(reply, &iter) && dbus_message_iter_get_arg_type(&iter) == DBUS_TYPE_ARRAY) {
		dbus_message_iter_recurse(&iter, &arr);
		while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY) {
			int err;
			char *value;

			if (parse_entry(&arr, "/ClassAndVrmInstance", &err, &value)) {
				/* "battery:3" */
				const char *colon = value && err == 0 ? strchr(value, ':') : NULL;
				char *end;
				long v = colon ? strtol(colon + 1, &end, 10) : -1;

				if (colon && *end == '\0' && v >= 0 && v <= 9999)
					instance = (int)v;
				g_free(value);
			} else if (parse_entry(&arr, "/CustomName", &err, &value)) {
				g_free(name);
				name = err == 0 ? value : (g_free(value), NULL);
			}
			dbus_message_iter_next(&arr);
		}
	}
	dbus_message_unref(reply);
	if (instance < 0) {
		g_free(name);
		give_up(sc, "AddSettings returned no usable ClassAndVrmInstance");
		return;
	}
	LOG_INFO("settings: device instance %d (%s/ClassAndVrmInstance)", instance, sc->prefix);
	finish(sc, instance, name ? name : "", true);
	g_free(name);
}

static void append_setting(DBusMessageIter *arr, const char *path, const char *def)
{
	DBusMessageIter dict;

	dbus_message_iter_open_container(arr, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_dict_append(&dict, "path", DBUS_TYPE_STRING, &path);
	dbus_dict_append(&dict, "default", DBUS_TYPE_STRING, &def);
	dbus_message_iter_close_container(arr, &dict);
}

static void add_settings(struct settings_client *sc)
{
	DBusMessage *msg = dbus_message_new_method_call(SETTINGS_SERVICE, "/", "com.victronenergy.Settings",
							"AddSettings");
	DBusMessageIter iter, arr;
	char *inst_path = g_strdup_printf("%s/ClassAndVrmInstance", sc->prefix);
	char *name_path = g_strdup_printf("%s/CustomName", sc->prefix);
	char *def = g_strdup_printf("%s:%d", sc->cls, sc->preferred);

	dbus_message_iter_init_append(msg, &iter);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "a{sv}", &arr);
	append_setting(&arr, inst_path, def);
	append_setting(&arr, name_path, "");
	dbus_message_iter_close_container(&iter, &arr);
	g_free(inst_path);
	g_free(name_path);
	g_free(def);
	if (!send(sc, msg, add_settings_reply))
		give_up(sc, "cannot send AddSettings");
}

static void check_owner(struct settings_client *sc);

static gboolean retry_cb(gpointer data)
{
	struct settings_client *sc = data;

	sc->retry_source = 0;
	check_owner(sc);
	return G_SOURCE_REMOVE;
}

static void has_owner_reply(DBusPendingCall *call, void *data)
{
	struct settings_client *sc = data;
	DBusMessage *reply = dbus_pending_call_steal_reply(call);
	dbus_bool_t has = FALSE;

	dbus_pending_call_unref(sc->pending);
	sc->pending = NULL;
	if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN)
		dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &has, DBUS_TYPE_INVALID);
	if (reply)
		dbus_message_unref(reply);
	if (has) {
		add_settings(sc);
		return;
	}
	if ((uint64_t)g_get_monotonic_time() >= sc->deadline_us) {
		give_up(sc, SETTINGS_SERVICE " did not appear in time");
		return;
	}
	if (!sc->logged_wait)
		LOG_INFO("settings: waiting for " SETTINGS_SERVICE);
	sc->logged_wait = true;
	sc->retry_source = g_timeout_add(250, retry_cb, sc);
}

static void check_owner(struct settings_client *sc)
{
	const char *name = SETTINGS_SERVICE;
	DBusMessage *msg = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
							"NameHasOwner");

	dbus_message_append_args(msg, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
	if (!send(sc, msg, has_owner_reply))
		give_up(sc, "cannot ask the bus for " SETTINGS_SERVICE);
}

void settings_client_request(struct settings_client *sc, const char *cls, const char *uid, int preferred,
			     uint32_t timeout_ms, settings_result_fn cb, void *user_data)
{
	g_free(sc->cls);
	g_free(sc->prefix);
	sc->cls = g_strdup(cls);
	sc->prefix = g_strdup_printf("/Settings/Devices/%s", uid);
	sc->preferred = preferred;
	sc->deadline_us = (uint64_t)g_get_monotonic_time() + (uint64_t)timeout_ms * 1000;
	sc->cb = cb;
	sc->user_data = user_data;
	check_owner(sc);
}

void settings_client_set_custom_name(struct settings_client *sc, const char *name)
{
	if (!sc->ready)
		return;

	char *path = g_strdup_printf("%s/CustomName", sc->prefix);
	DBusMessage *msg = dbus_message_new_method_call(SETTINGS_SERVICE, path, "com.victronenergy.BusItem",
							"SetValue");
	DBusMessageIter iter, var;

	dbus_message_iter_init_append(msg, &iter);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, "s", &var);
	dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &name);
	dbus_message_iter_close_container(&iter, &var);
	dbus_message_set_no_reply(msg, TRUE);
	dbus_connection_send(sc->conn, msg, NULL);
	dbus_message_unref(msg);
	g_free(path);
}
