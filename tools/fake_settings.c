/* SPDX-License-Identifier: MIT */
/*
 * jkbms-fake-settings: a minimal stand-in for Venus OS's localsettings
 * (com.victronenergy.settings) for tests and the demo. AddSettings creates
 * settings (ClassAndVrmInstance gets the next free instance of its class, as
 * localsettings does); every setting is a BusItem with GetValue/SetValue.
 * Options: --file PATH keeps settings across restarts; --delay S appears on
 * the bus only after S seconds.
 */
#define G_LOG_DOMAIN "fake-settings"

#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busitem.h"
#include "dbus_dict.h"
#include "dbus_glib.h"
#include "log.h"

struct fake {
	DBusConnection *conn;
	struct busitem_tree *tree;
	GPtrArray *paths; /* every setting, for saving and instance allocation */
	const char *file;
	guint save_source;
	GMainLoop *loop;
};

static gboolean save_cb(gpointer data)
{
	struct fake *f = data;
	GString *g = g_string_new(NULL);

	f->save_source = 0;
	for (guint k = 0; k < f->paths->len; k++) {
		struct busitem *it = busitem_find(f->tree, g_ptr_array_index(f->paths, k));

		switch (busitem_get_type(it)) {
		case BUSITEM_INT: g_string_append_printf(g, "%s=i:%d\n", busitem_path(it), busitem_get_int(it)); break;
		case BUSITEM_DOUBLE: g_string_append_printf(g, "%s=d:%.17g\n", busitem_path(it), busitem_get_double(it)); break;
		case BUSITEM_STRING: g_string_append_printf(g, "%s=s:%s\n", busitem_path(it), busitem_get_string(it)); break;
		}
	}
	if (f->file && !g_file_set_contents(f->file, g->str, (gssize)g->len, NULL))
		LOG_WARN("cannot save %s", f->file);
	g_string_free(g, TRUE);
	return G_SOURCE_REMOVE;
}

static int set_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct fake *f = data;

	(void)item;
	(void)v;
	if (!f->save_source)
		f->save_source = g_idle_add(save_cb, f);
	return 0;
}

static struct busitem *create(struct fake *f, const char *path, enum busitem_type type)
{
	struct busitem *it = busitem_add(f->tree, path, type, NULL, set_cb, f);

	if (it)
		g_ptr_array_add(f->paths, g_strdup(path));
	return it;
}

static bool instance_taken(struct fake *f, const char *cls, int n)
{
	char *want = g_strdup_printf("%s:%d", cls, n);
	bool taken = false;

	for (guint k = 0; k < f->paths->len && !taken; k++) {
		const char *p = g_ptr_array_index(f->paths, k);

		if (g_str_has_suffix(p, "/ClassAndVrmInstance"))
			taken = strcmp(busitem_get_string(busitem_find(f->tree, p)), want) == 0;
	}
	g_free(want);
	return taken;
}

/* One AddSettings entry; returns the error code (localsettings' numbers). */
static int add_one(struct fake *f, const char *path, DBusMessageIter *def, struct busitem **out)
{
	int t = dbus_message_iter_get_arg_type(def);
	enum busitem_type type;
	struct busitem *it;

	if (!g_str_has_prefix(path, "/Settings/"))
		return -9;
	if (t == DBUS_TYPE_STRING)
		type = BUSITEM_STRING;
	else if (t == DBUS_TYPE_INT32 || t == DBUS_TYPE_INT64)
		type = BUSITEM_INT;
	else if (t == DBUS_TYPE_DOUBLE)
		type = BUSITEM_DOUBLE;
	else
		return -3;
	it = busitem_find(f->tree, path);
	if (it) {
		*out = it;
		return busitem_get_type(it) == type ? 0 : -5;
	}
	it = create(f, path, type);
	if (!it)
		return -4;
	DBusBasicValue b;

	dbus_message_iter_get_basic(def, &b);
	if (type == BUSITEM_STRING && g_str_has_suffix(path, "/ClassAndVrmInstance")) {
		char **parts = g_strsplit(b.str, ":", 2);
		int n = parts[0] && parts[1] ? atoi(parts[1]) : 0;

		while (instance_taken(f, parts[0], n))
			n++;
		char *v = g_strdup_printf("%s:%d", parts[0], n);

		busitem_set_string(it, v);
		g_free(v);
		g_strfreev(parts);
	} else if (type == BUSITEM_STRING) {
		busitem_set_string(it, b.str);
	} else if (type == BUSITEM_INT) {
		busitem_set_int(it, t == DBUS_TYPE_INT32 ? b.i32 : (int32_t)b.i64);
	} else {
		busitem_set_double(it, b.dbl);
	}
	*out = it;
	set_cb(it, NULL, f);
	return 0;
}

static void append_entry(DBusMessageIter *arr, const char *path, int error, const struct busitem *it)
{
	DBusMessageIter dict;

	dbus_message_iter_open_container(arr, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_dict_append(&dict, "path", DBUS_TYPE_STRING, &path);
	dbus_dict_append(&dict, "error", DBUS_TYPE_INT32, &error);
	if (it && error == 0) {
		const char *s = busitem_get_string(it);
		int32_t i = busitem_get_int(it);
		double d = busitem_get_double(it);

		switch (busitem_get_type(it)) {
		case BUSITEM_STRING: dbus_dict_append(&dict, "value", DBUS_TYPE_STRING, &s); break;
		case BUSITEM_INT: dbus_dict_append(&dict, "value", DBUS_TYPE_INT32, &i); break;
		case BUSITEM_DOUBLE: dbus_dict_append(&dict, "value", DBUS_TYPE_DOUBLE, &d); break;
		}
	}
	dbus_message_iter_close_container(arr, &dict);
}

static DBusHandlerResult methods(struct busitem_tree *tree, DBusMessage *msg, void *data)
{
	struct fake *f = data;
	DBusMessageIter iter, arr, dict, kv, var;

	(void)tree;
	if (!dbus_message_is_method_call(msg, "com.victronenergy.Settings", "AddSettings") ||
	    strcmp(dbus_message_get_path(msg), "/") != 0)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (!dbus_message_iter_init(msg, &iter) || strcmp(dbus_message_get_signature(msg), "aa{sv}") != 0) {
		DBusMessage *e = dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS, "expected aa{sv}");

		dbus_connection_send(f->conn, e, NULL);
		dbus_message_unref(e);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	DBusMessage *reply = dbus_message_new_method_return(msg);
	DBusMessageIter out, out_arr;

	dbus_message_iter_init_append(reply, &out);
	dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "a{sv}", &out_arr);
	dbus_message_iter_recurse(&iter, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY) {
		const char *path = NULL;
		DBusMessageIter def;
		bool have_def = false;

		dbus_message_iter_recurse(&arr, &dict);
		while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
			const char *key;

			dbus_message_iter_recurse(&dict, &kv);
			dbus_message_iter_get_basic(&kv, &key);
			dbus_message_iter_next(&kv);
			dbus_message_iter_recurse(&kv, &var);
			if (strcmp(key, "path") == 0 && dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_STRING)
				dbus_message_iter_get_basic(&var, &path);
			else if (strcmp(key, "default") == 0)
				def = var, have_def = true;
			dbus_message_iter_next(&dict);
		}
		struct busitem *it = NULL;
		int error = path && have_def ? add_one(f, path, &def, &it) : -4;

		append_entry(&out_arr, path ? path : "", error, it);
		dbus_message_iter_next(&arr);
	}
	dbus_message_iter_close_container(&out, &out_arr);
	dbus_connection_send(f->conn, reply, NULL);
	dbus_message_unref(reply);
	busitem_flush(f->tree);
	return DBUS_HANDLER_RESULT_HANDLED;
}

static void load(struct fake *f)
{
	gchar *text = NULL;

	if (!f->file || !g_file_get_contents(f->file, &text, NULL, NULL))
		return;
	gchar **lines = g_strsplit(text, "\n", -1);

	for (gchar **l = lines; *l; l++) {
		char *eq = strchr(*l, '=');

		if (!eq || strlen(eq) < 3 || eq[2] != ':')
			continue;
		*eq = '\0';
		char kind = eq[1];
		const char *v = eq + 3;
		struct busitem *it = create(f, *l, kind == 'i' ? BUSITEM_INT : kind == 'd' ? BUSITEM_DOUBLE : BUSITEM_STRING);

		if (!it)
			continue;
		if (kind == 'i')
			busitem_set_int(it, atoi(v));
		else if (kind == 'd')
			busitem_set_double(it, g_ascii_strtod(v, NULL));
		else
			busitem_set_string(it, v);
	}
	g_strfreev(lines);
	g_free(text);
}

static gboolean quit_cb(gpointer data)
{
	g_main_loop_quit(((struct fake *)data)->loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "delay", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct fake f = { 0 };
	double delay = 0;
	bool verbose = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			f.file = optarg;
		else if (c == 'd')
			delay = atof(optarg);
		else
			return 2;
	}
	log_setup(&verbose);
	if (delay > 0)
		g_usleep((gulong)(delay * 1e6));

	const char *why = NULL;

	f.conn = dbus_glib_open_system(&why);
	if (!f.conn) {
		fprintf(stderr, "fake-settings: %s\n", why);
		return 1;
	}
	f.paths = g_ptr_array_new_with_free_func(g_free);
	f.tree = busitem_tree_new(f.conn, true);
	busitem_tree_set_method_handler(f.tree, methods, &f);
	load(&f);
	if (dbus_bus_request_name(f.conn, "com.victronenergy.settings", DBUS_NAME_FLAG_DO_NOT_QUEUE, NULL) !=
	    DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		fprintf(stderr, "fake-settings: cannot own com.victronenergy.settings\n");
		return 1;
	}
	f.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, quit_cb, &f);
	g_unix_signal_add(SIGINT, quit_cb, &f);
	g_main_loop_run(f.loop);
	if (f.save_source) {
		g_source_remove(f.save_source);
		save_cb(&f);
	}
	busitem_tree_free(f.tree);
	g_ptr_array_free(f.paths, TRUE);
	dbus_glib_detach(f.conn);
	dbus_connection_close(f.conn);
	dbus_connection_unref(f.conn);
	g_main_loop_unref(f.loop);
	return 0;
}
