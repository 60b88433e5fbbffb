/* SPDX-License-Identifier: MIT */
/*
 * jkbms-fake-settings: a minimal stand-in for Venus OS's localsettings
 * (com.victronenergy.settings) for tests and the demo. AddSettings creates
 * settings (ClassAndVrmInstance gets the next free instance of its class, as
 * localsettings does); every setting is a BusItem with GetValue/SetValue.
 * Options: --file PATH keeps settings across restarts; --delay S appears on
 * the bus only after S seconds; --misbehave MODE plays a broken localsettings
 * for robustness tests: signature (AddSettings answers aa{ss}), values (right
 * signature, wrong types and junk inside), long-name (a 100 000-character
 * CustomName), silent (owns the name, answers nothing), signals (works, and
 * sends odd ItemsChanged/PropertiesChanged to every com.victronenergy.*
 * name every 100 ms).
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

enum misbehave {
	MB_NONE,
	MB_SIGNATURE,
	MB_VALUES,
	MB_LONG_NAME,
	MB_SILENT,
	MB_SIGNALS
};

struct fake {
	DBusConnection *conn;
	enum misbehave misbehave;
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
		case BUSITEM_INT:
			g_string_append_printf(g, "%s=i:%d\n", busitem_path(it), busitem_get_int(it));
			break;
		case BUSITEM_DOUBLE:
			g_string_append_printf(g, "%s=d:%.17g\n", busitem_path(it), busitem_get_double(it));
			break;
		case BUSITEM_STRING:
			g_string_append_printf(g, "%s=s:%s\n", busitem_path(it), busitem_get_string(it));
			break;
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

static void append_entry(struct fake *f, DBusMessageIter *arr, const char *path, int error, const struct busitem *it)
{
	DBusMessageIter dict;

	dbus_message_iter_open_container(arr, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_dict_append(&dict, "path", DBUS_TYPE_STRING, &path);
	dbus_dict_append(&dict, "error", DBUS_TYPE_INT32, &error);
	if (it && error == 0) {
		const char *s = busitem_get_string(it);
		int32_t i = busitem_get_int(it);
		double d = busitem_get_double(it);
		char *junk = NULL;

		if (f->misbehave == MB_LONG_NAME && g_str_has_suffix(path, "/CustomName")) {
			GString *g = g_string_new(NULL);

			for (int k = 0; k < 50000; k++)
				g_string_append(g, "\xc3\xa9"); /* e-acute: two bytes each */
			s = junk = g_string_free(g, FALSE);
		}
		switch (busitem_get_type(it)) {
		case BUSITEM_STRING:
			dbus_dict_append(&dict, "value", DBUS_TYPE_STRING, &s);
			break;
		case BUSITEM_INT:
			dbus_dict_append(&dict, "value", DBUS_TYPE_INT32, &i);
			break;
		case BUSITEM_DOUBLE:
			dbus_dict_append(&dict, "value", DBUS_TYPE_DOUBLE, &d);
			break;
		}
		g_free(junk);
	}
	dbus_message_iter_close_container(arr, &dict);
}

/* ---- misbehaviour ------------------------------------------------------ */

/* {key: <value of signature sig>}: opens the variant for the caller. */
static void entry_open(DBusMessageIter *dict, const char *key, const char *sig, DBusMessageIter *entry,
		       DBusMessageIter *var)
{
	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, entry);
	dbus_message_iter_append_basic(entry, DBUS_TYPE_STRING, &key);
	dbus_message_iter_open_container(entry, DBUS_TYPE_VARIANT, sig, var);
}

static void entry_close(DBusMessageIter *dict, DBusMessageIter *entry, DBusMessageIter *var)
{
	dbus_message_iter_close_container(entry, var);
	dbus_message_iter_close_container(dict, entry);
}

/* One a{sv} with "path" = p, then key/value pairs of odd types. kind picks
 * which oddity. */
static void odd_entry(DBusMessageIter *arr, const char *p, int kind)
{
	static const char *const numbers[] = { "battery:1", "battery:99999999999999999999", "battery:", "battery:-3" };
	DBusMessageIter dict, entry, var, inner, a;
	int32_t zero = 0, five = 5;
	const char *s = "0";

	dbus_message_iter_open_container(arr, DBUS_TYPE_ARRAY, "{sv}", &dict);
	if (kind == 0) {
		dbus_dict_append(&dict, "path", DBUS_TYPE_INT32, &five); /* path of the wrong type */
	} else if (kind == 1) {
		entry_open(&dict, "path", "v", &entry, &var); /* path in a nested variant */
		dbus_message_iter_open_container(&var, DBUS_TYPE_VARIANT, "s", &inner);
		dbus_message_iter_append_basic(&inner, DBUS_TYPE_STRING, &p);
		dbus_message_iter_close_container(&var, &inner);
		entry_close(&dict, &entry, &var);
	} else {
		dbus_dict_append(&dict, "path", DBUS_TYPE_STRING, &p);
	}
	if (kind == 2)
		dbus_dict_append(&dict, "error", DBUS_TYPE_STRING, &s); /* error as a string */
	else
		dbus_dict_append(&dict, "error", DBUS_TYPE_INT32, &zero);
	if (kind == 3) {
		entry_open(&dict, "value", "ai", &entry, &var); /* value as an array */
		dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "i", &a);
		dbus_message_iter_append_basic(&a, DBUS_TYPE_INT32, &five);
		dbus_message_iter_close_container(&var, &a);
		entry_close(&dict, &entry, &var);
	} else if (kind == 4) {
		entry_open(&dict, "value", "(is)", &entry, &var); /* value as a struct */
		dbus_message_iter_open_container(&var, DBUS_TYPE_STRUCT, NULL, &inner);
		dbus_message_iter_append_basic(&inner, DBUS_TYPE_INT32, &five);
		dbus_message_iter_append_basic(&inner, DBUS_TYPE_STRING, &p);
		dbus_message_iter_close_container(&var, &inner);
		entry_close(&dict, &entry, &var);
	} else {
		/* A string; kinds 0-2 are ignored for their path or error, 5-7
		 * are no usable instance. */
		s = numbers[kind % 4];
		dbus_dict_append(&dict, "value", DBUS_TYPE_STRING, &s);
	}
	dbus_message_iter_close_container(arr, &dict);
}

/* --misbehave signature and values: answer AddSettings with junk. */
static void broken_reply(struct fake *f, DBusMessage *msg, GPtrArray *paths)
{
	DBusMessage *reply = dbus_message_new_method_return(msg);
	DBusMessageIter out, arr, dict;
	int32_t extra = 42;

	dbus_message_iter_init_append(reply, &out);
	if (f->misbehave == MB_SIGNATURE) {
		dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "a{ss}", &arr);
		for (guint k = 0; k < paths->len; k++) {
			static const char *const kv[] = { "path", NULL, "error", "0", "value", "battery:1" };
			DBusMessageIter entry;

			dbus_message_iter_open_container(&arr, DBUS_TYPE_ARRAY, "{ss}", &dict);
			for (int j = 0; j < 6; j += 2) {
				const char *v = kv[j + 1] ? kv[j + 1] : g_ptr_array_index(paths, k);

				dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
				dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &kv[j]);
				dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &v);
				dbus_message_iter_close_container(&dict, &entry);
			}
			dbus_message_iter_close_container(&arr, &dict);
		}
		dbus_message_iter_close_container(&out, &arr);
		dbus_message_iter_append_basic(&out, DBUS_TYPE_INT32, &extra);
	} else {
		dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "a{sv}", &arr);
		for (guint k = 0; k < paths->len; k++)
			for (int kind = 0; kind < 8; kind++)
				odd_entry(&arr, g_ptr_array_index(paths, k), kind);
		dbus_message_iter_close_container(&out, &arr);
	}
	dbus_connection_send(f->conn, reply, NULL);
	dbus_message_unref(reply);
}

/* One odd signal, to dest (NULL: broadcast). */
static void odd_signal(struct fake *f, const char *dest, int kind)
{
	static const char *const paths[] = { "/", "/", "/", "/Settings/Devices/jkbms_ttyJK/CustomName", "/x", "/" };
	static const char *const members[] = { "ItemsChanged",      "ItemsChanged",      "ItemsChanged",
					       "PropertiesChanged", "PropertiesChanged", "ItemsChanged" };
	DBusMessage *sig = dbus_message_new_signal(paths[kind], "com.victronenergy.BusItem", members[kind]);
	DBusMessageIter it, arr, dict, entry, var, inner;
	int32_t seven = 7;
	const char *s = "/Settings/Devices/jkbms_ttyJK/CustomName";

	dbus_message_iter_init_append(sig, &it);
	if (kind == 0) {
		dbus_message_iter_append_basic(&it, DBUS_TYPE_INT32, &seven);
	} else if (kind == 1 || kind == 5) {
		/* a{sa{sv}} with junk inside, or (kind 5) a{sv} */
		dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, kind == 1 ? "{sa{sv}}" : "{sv}", &arr);
		dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &dict);
		dbus_message_iter_append_basic(&dict, DBUS_TYPE_STRING, &s);
		if (kind == 1) {
			dbus_message_iter_open_container(&dict, DBUS_TYPE_ARRAY, "{sv}", &inner);
			entry_open(&inner, "Value", "a{sv}", &entry, &var);
			DBusMessageIter empty;

			dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "{sv}", &empty);
			dbus_message_iter_close_container(&var, &empty);
			entry_close(&inner, &entry, &var);
			dbus_dict_append(&inner, "Text", DBUS_TYPE_INT32, &seven);
			dbus_message_iter_close_container(&dict, &inner);
		} else {
			dbus_message_iter_open_container(&dict, DBUS_TYPE_VARIANT, "i", &var);
			dbus_message_iter_append_basic(&var, DBUS_TYPE_INT32, &seven);
			dbus_message_iter_close_container(&dict, &var);
		}
		dbus_message_iter_close_container(&arr, &dict);
		dbus_message_iter_close_container(&it, &arr);
	} else if (kind == 3) {
		dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &arr);
		dbus_message_iter_append_basic(&arr, DBUS_TYPE_STRING, &s);
		dbus_message_iter_close_container(&it, &arr);
	} else if (kind == 4) {
		dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &arr);
		entry_open(&arr, "Value", "v", &entry, &var);
		dbus_message_iter_open_container(&var, DBUS_TYPE_VARIANT, "s", &inner);
		dbus_message_iter_append_basic(&inner, DBUS_TYPE_STRING, &s);
		dbus_message_iter_close_container(&var, &inner);
		entry_close(&arr, &entry, &var);
		dbus_message_iter_close_container(&it, &arr);
	} /* kind 2: no body at all */
	if (dest)
		dbus_message_set_destination(sig, dest);
	dbus_connection_send(f->conn, sig, NULL);
	dbus_message_unref(sig);
}

/* --misbehave signals: every 100 ms, odd signals broadcast and to each
 * com.victronenergy.* name (the only way a signal reaches a client with no
 * match rule). */
static gboolean odd_signals_cb(gpointer data)
{
	struct fake *f = data;
	DBusMessage *call = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
							 "ListNames");
	DBusMessage *reply = dbus_connection_send_with_reply_and_block(f->conn, call, 500, NULL);
	char **names = NULL;
	int n = 0;

	dbus_message_unref(call);
	if (reply &&
	    dbus_message_get_args(reply, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names, &n, DBUS_TYPE_INVALID)) {
		for (int k = 0; k < n; k++)
			if (g_str_has_prefix(names[k], "com.victronenergy.") &&
			    strcmp(names[k], "com.victronenergy.settings") != 0)
				for (int kind = 0; kind < 6; kind++)
					odd_signal(f, names[k], kind);
		dbus_free_string_array(names);
	}
	if (reply)
		dbus_message_unref(reply);
	for (int kind = 0; kind < 6; kind++)
		odd_signal(f, NULL, kind);
	return G_SOURCE_CONTINUE;
}

/* The paths of an AddSettings request (pointing into msg). */
static GPtrArray *request_paths(DBusMessage *msg)
{
	GPtrArray *out = g_ptr_array_new();
	DBusMessageIter iter, arr, dict, var;

	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_recurse(&iter, &arr);
	for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY; dbus_message_iter_next(&arr)) {
		const char *key, *path;

		dbus_message_iter_recurse(&arr, &dict);
		while (dbus_dict_next(&dict, &key, &var)) {
			if (strcmp(key, "path") == 0 && dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_STRING) {
				dbus_message_iter_get_basic(&var, &path);
				g_ptr_array_add(out, (gpointer)path);
			}
		}
	}
	return out;
}

static DBusHandlerResult methods(struct busitem_tree *tree, DBusMessage *msg, void *data)
{
	struct fake *f = data;
	DBusMessageIter iter, arr, dict, var;

	(void)tree;
	if (f->misbehave == MB_SILENT)
		return DBUS_HANDLER_RESULT_HANDLED; /* swallowed: no reply, ever */
	if (!dbus_message_is_method_call(msg, "com.victronenergy.Settings", "AddSettings") ||
	    strcmp(dbus_message_get_path(msg), "/") != 0)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (!dbus_message_iter_init(msg, &iter) || strcmp(dbus_message_get_signature(msg), "aa{sv}") != 0) {
		DBusMessage *e = dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS, "expected aa{sv}");

		dbus_connection_send(f->conn, e, NULL);
		dbus_message_unref(e);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (f->misbehave == MB_SIGNATURE || f->misbehave == MB_VALUES) {
		GPtrArray *paths = request_paths(msg);

		broken_reply(f, msg, paths);
		g_ptr_array_free(paths, TRUE);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	DBusMessage *reply = dbus_message_new_method_return(msg);
	DBusMessageIter out, out_arr;

	dbus_message_iter_init_append(reply, &out);
	dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "a{sv}", &out_arr);
	dbus_message_iter_recurse(&iter, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY) {
		const char *path = NULL, *key;
		DBusMessageIter def;
		bool have_def = false;

		dbus_message_iter_recurse(&arr, &dict);
		while (dbus_dict_next(&dict, &key, &var)) {
			if (strcmp(key, "path") == 0 && dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_STRING)
				dbus_message_iter_get_basic(&var, &path);
			else if (strcmp(key, "default") == 0)
				def = var, have_def = true;
		}
		struct busitem *it = NULL;
		int error = path && have_def ? add_one(f, path, &def, &it) : -4;

		append_entry(f, &out_arr, path ? path : "", error, it);
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
		struct busitem *it = create(f, *l,
					    kind == 'i'           ? BUSITEM_INT
						    : kind == 'd' ? BUSITEM_DOUBLE
								  : BUSITEM_STRING);

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

static bool parse_misbehave(const char *s, enum misbehave *out)
{
	static const char *const names[] = { "none", "signature", "values", "long-name", "silent", "signals" };

	for (unsigned k = 0; k < G_N_ELEMENTS(names); k++) {
		if (strcmp(s, names[k]) == 0) {
			*out = (enum misbehave)k;
			return true;
		}
	}
	fprintf(stderr, "fake-settings: unknown --misbehave '%s'\n", s);
	return false;
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
		{ "misbehave", required_argument, NULL, 'm' },
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
		else if (c == 'm' && !parse_misbehave(optarg, &f.misbehave))
			return 2;
		else if (c != 'm')
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
	if (f.misbehave == MB_SIGNALS)
		g_timeout_add(100, odd_signals_cb, &f);
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
