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

/* Pull "value" and "error" of the entry (an a{sv}) whose path ends with
 * suffix; each variant's type is checked before it is read. */
static bool parse_entry(DBusMessageIter *entry_arr, const char *suffix, int *error, char **value)
{
	DBusMessageIter dict, var;
	const char *path = NULL, *key;

	*error = -1;
	*value = NULL;
	dbus_message_iter_recurse(entry_arr, &dict);
	while (dbus_dict_next(&dict, &key, &var)) {
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
	}
	if (path && g_str_has_suffix(path, suffix))
		return true;
	g_free(*value);
	*value = NULL;
	return false;
}

/* "battery:3" -> 3; -1 unless "<anything>:<1-4 digits>". */
static int parse_instance(const char *value)
{
	const char *colon = value ? strchr(value, ':') : NULL;
	size_t digits = colon ? strspn(colon + 1, "0123456789") : 0;

	if (!colon || digits == 0 || digits > 4 || colon[1 + digits] != '\0')
		return -1;
	return atoi(colon + 1);
}

/* The custom name as stored, cut to what SetValue accepts (a longer one
 * can only have been written to localsettings directly). */
static char *clean_name(char *name)
{
	if (!name || g_utf8_strlen(name, -1) <= SETTINGS_CUSTOM_NAME_MAX)
		return name;
	char *cut = g_utf8_substring(name, 0, SETTINGS_CUSTOM_NAME_MAX);

	LOG_WARN("settings: CustomName is %ld characters, more than %d: using the first %d", g_utf8_strlen(name, -1),
		 SETTINGS_CUSTOM_NAME_MAX, SETTINGS_CUSTOM_NAME_MAX);
	g_free(name);
	return cut;
}

/* The instance and name from an AddSettings reply (checked: aa{sv}). */
static void parse_reply(DBusMessage *reply, int *instance, char **name)
{
	DBusMessageIter iter, arr;

	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &arr);
	for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY; dbus_message_iter_next(&arr)) {
		int err;
		char *value;

		if (parse_entry(&arr, "/ClassAndVrmInstance", &err, &value)) {
			int v = err == 0 ? parse_instance(value) : -1;

			*instance = v >= 0 ? v : *instance;
			g_free(value);
		} else if (parse_entry(&arr, "/CustomName", &err, &value)) {
			g_free(*name);
			*name = err == 0 ? value : (g_free(value), NULL);
		}
	}
}

static void add_settings_reply(DBusPendingCall *call, void *data)
{
	struct settings_client *sc = data;
	DBusMessage *reply = dbus_pending_call_steal_reply(call);
	int instance = -1;
	char *name = NULL;
	char why[256];

	dbus_pending_call_unref(sc->pending);
	sc->pending = NULL;
	if (!reply || dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
		snprintf(why, sizeof(why), "AddSettings failed: %s",
			 reply ? dbus_message_get_error_name(reply) : "no reply");
		give_up(sc, why);
		if (reply)
			dbus_message_unref(reply);
		return;
	}
	/* The reply is input like any other: its shape first, then each value's
	 * type (parse_entry) before it is read. */
	if (!dbus_message_has_signature(reply, "aa{sv}")) {
		snprintf(why, sizeof(why), "AddSettings returned (%.64s), expected (aa{sv})",
			 dbus_message_get_signature(reply));
		dbus_message_unref(reply);
		give_up(sc, why);
		return;
	}
	parse_reply(reply, &instance, &name);
	dbus_message_unref(reply);
	name = clean_name(name);
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
