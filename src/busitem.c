/* SPDX-License-Identifier: MIT */
/*
 * The BusItem object tree. One fallback handler on "/" serves every path;
 * nodes are not stored but derived from the leaf paths below them.
 */
#define G_LOG_DOMAIN "busitem"

#include "busitem.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "busitem_private.h"
#include "dbus_wire.h"
#include "log.h"

#define BUSITEM_IFACE "com.victronenergy.BusItem"
#define ERR_UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
#define ERR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define ERR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

static DBusHandlerResult message_cb(DBusConnection *conn, DBusMessage *msg, void *data);

static void item_free(gpointer p)
{
	struct busitem *it = p;

	g_free(it->path);
	g_free(it->text_fmt);
	g_free(it->suffix);
	g_free(it->s);
	g_free(it);
}

struct busitem_tree *busitem_tree_new(DBusConnection *conn, bool properties_changed)
{
	static const DBusObjectPathVTable vtable = { .message_function = message_cb };
	struct busitem_tree *t = g_new0(struct busitem_tree, 1);

	t->conn = conn;
	t->properties_changed = properties_changed;
	t->by_path = g_hash_table_new(g_str_hash, g_str_equal);
	t->items = g_ptr_array_new_with_free_func(item_free);
	t->pending = g_ptr_array_new();
	if (conn && !dbus_connection_register_fallback(conn, "/", &vtable, t)) {
		busitem_tree_free(t);
		return NULL;
	}
	return t;
}

void busitem_tree_free(struct busitem_tree *t)
{
	if (!t)
		return;
	if (t->conn)
		dbus_connection_unregister_object_path(t->conn, "/");
	g_hash_table_destroy(t->by_path);
	g_ptr_array_free(t->pending, TRUE);
	g_ptr_array_free(t->items, TRUE);
	wire_free(&t->wire);
	g_free(t);
}

void busitem_tree_set_method_handler(struct busitem_tree *t, busitem_method_fn fn, void *user_data)
{
	t->method_fn = fn;
	t->method_data = user_data;
}

static bool path_ok(const char *path)
{
	size_t n = strlen(path);

	if (n < 2 || path[0] != '/' || path[n - 1] == '/')
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = path[i];

		if (c == '/' && path[i - 1] == '/')
			return false;
		if (c != '/' && c != '_' && !g_ascii_isalnum(c))
			return false;
	}
	return true;
}

/* text_fmt comes from our own code, but is checked anyway: exactly one
 * conversion, of the item's type, so that item_text() is safe. */
static bool fmt_ok(const char *fmt, enum busitem_type type)
{
	const char *conv = type == BUSITEM_INT ? "dixXu" : (type == BUSITEM_DOUBLE ? "fFeEgG" : "s");
	unsigned n = 0;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		p++;
		while (*p && strchr("-+ #0123456789.", *p))
			p++;
		if (!*p || !strchr(conv, *p))
			return false;
		n++;
	}
	return n == 1;
}

struct busitem *busitem_add(struct busitem_tree *t, const char *path, enum busitem_type type, const char *text_fmt,
			    busitem_set_fn set_cb, void *user_data)
{
	if (!path_ok(path) || g_hash_table_contains(t->by_path, path))
		return NULL;
	if (text_fmt && !fmt_ok(text_fmt, type)) {
		LOG_ERR("%s: bad text format '%s'", path, text_fmt);
		return NULL;
	}

	struct busitem *it = g_new0(struct busitem, 1);

	it->tree = t;
	it->path = g_strdup(path);
	it->type = type;
	it->text_fmt = g_strdup(text_fmt);
	it->decimals = -1;
	/* "%.2fV" and the like: formatted by fixed-point arithmetic. */
	if (type == BUSITEM_DOUBLE && text_fmt && text_fmt[0] == '%' && text_fmt[1] == '.' &&
	    g_ascii_isdigit(text_fmt[2]) && text_fmt[3] == 'f') {
		const char *rest = text_fmt + 4;
		bool plain = true;

		for (const char *q = rest; *q; q++) {
			if (*q == '%') {
				if (q[1] != '%') {
					plain = false;
					break;
				}
				q++;
			}
		}
		if (plain && text_fmt[2] - '0' <= 6) {
			GString *suf = g_string_new(NULL);

			for (const char *q = rest; *q; q++) {
				g_string_append_c(suf, *q);
				if (*q == '%')
					q++;
			}
			it->decimals = text_fmt[2] - '0';
			it->suffix = g_string_free(suf, FALSE);
		}
	}
	it->set_cb = set_cb;
	it->user_data = user_data;
	g_hash_table_insert(t->by_path, it->path, it);
	g_ptr_array_add(t->items, it);
	return it;
}

struct busitem *busitem_find(const struct busitem_tree *t, const char *path)
{
	return g_hash_table_lookup(t->by_path, path);
}

const char *busitem_path(const struct busitem *it)
{
	return it->path;
}

enum busitem_type busitem_get_type(const struct busitem *it)
{
	return it->type;
}

static void mark(struct busitem *it)
{
	if (!it->pending) {
		it->pending = true;
		g_ptr_array_add(it->tree->pending, it);
	}
}

static bool type_is(const struct busitem *it, enum busitem_type type)
{
	if (it->type == type)
		return true;
	LOG_ERR("%s: set with the wrong type", it->path);
	return false;
}

void busitem_set_int(struct busitem *it, int32_t v)
{
	if (!type_is(it, BUSITEM_INT) || (it->valid && it->i == v))
		return;
	it->i = v;
	it->valid = true;
	mark(it);
}

void busitem_set_double(struct busitem *it, double v)
{
	if (!type_is(it, BUSITEM_DOUBLE))
		return;
	if (!isfinite(v)) {
		busitem_invalidate(it);
		return;
	}
	if (it->valid && it->d == v)
		return;
	it->d = v;
	it->valid = true;
	mark(it);
}

void busitem_set_string(struct busitem *it, const char *v)
{
	if (!type_is(it, BUSITEM_STRING))
		return;
	/* libdbus refuses invalid UTF-8 in a message: repair it here. */
	char *s = g_utf8_validate(v, -1, NULL) ? g_strdup(v) : g_utf8_make_valid(v, -1);

	if (it->valid && strcmp(it->s, s) == 0) {
		g_free(s);
		return;
	}
	g_free(it->s);
	it->s = s;
	it->valid = true;
	mark(it);
}

void busitem_invalidate(struct busitem *it)
{
	if (!it->valid)
		return;
	it->valid = false;
	mark(it);
}

bool busitem_is_valid(const struct busitem *it)
{
	return it->valid;
}

int32_t busitem_get_int(const struct busitem *it)
{
	return it->i;
}

double busitem_get_double(const struct busitem *it)
{
	return it->d;
}

const char *busitem_get_string(const struct busitem *it)
{
	return it->s ? it->s : "";
}

uint64_t busitem_signals_sent(const struct busitem_tree *t)
{
	return t->signals;
}

/* ---- values on the wire ------------------------------------------------ */

/* The text of a double with a plain "%.Nf<suffix>" format, without printf:
 * the hot path of every ItemsChanged. */
static void fixed_text(double v, int decimals, const char *suffix, char *buf, size_t n)
{
	static const uint64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	double a = fabs(v) * (double)pow10[decimals];

	if (!(a < 1e15)) {
		snprintf(buf, n, "%.*f%s", decimals, v, suffix);
		return;
	}
	uint64_t scaled = (uint64_t)llround(a);
	char digits[32];
	int len = 0;

	do {
		digits[len++] = (char)('0' + scaled % 10);
		scaled /= 10;
	} while (scaled || len <= decimals);
	size_t o = 0;
	bool zero = true;

	for (int i = 0; i < len; i++)
		zero &= digits[i] == '0';
	if (v < 0 && !zero && o + 1 < n)
		buf[o++] = '-';
	for (int i = len - 1; i >= 0 && o + 2 < n; i--) {
		buf[o++] = digits[i];
		if (i == decimals && decimals > 0)
			buf[o++] = '.';
	}
	for (const char *q = suffix; *q && o + 1 < n; q++)
		buf[o++] = *q;
	buf[o] = '\0';
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* The text into buf (or the string itself for string items). */
static const char *item_text_buf(const struct busitem *it, char *buf, size_t n)
{
	if (!it->valid)
		return "---";
	switch (it->type) {
	case BUSITEM_INT:
		snprintf(buf, n, it->text_fmt ? it->text_fmt : "%d", it->i);
		return buf;
	case BUSITEM_DOUBLE:
		if (it->decimals >= 0)
			fixed_text(it->d, it->decimals, it->suffix, buf, n);
		else
			snprintf(buf, n, it->text_fmt ? it->text_fmt : "%g", it->d);
		return buf;
	case BUSITEM_STRING:
		return it->s;
	}
	return "";
}
#pragma GCC diagnostic pop

static char *item_text(const struct busitem *it)
{
	char buf[64];

	return g_strdup(item_text_buf(it, buf, sizeof(buf)));
}


/* Append the value as a variant; invalid is an empty array of int32. */
static void append_value(DBusMessageIter *iter, const struct busitem *it)
{
	DBusMessageIter var, arr;

	if (!it->valid) {
		dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, "ai", &var);
		dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "i", &arr);
		dbus_message_iter_close_container(&var, &arr);
		dbus_message_iter_close_container(iter, &var);
		return;
	}
	switch (it->type) {
	case BUSITEM_INT:
		dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, "i", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_INT32, &it->i);
		break;
	case BUSITEM_DOUBLE:
		dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, "d", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_DOUBLE, &it->d);
		break;
	case BUSITEM_STRING:
		dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, "s", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &it->s);
		break;
	}
	dbus_message_iter_close_container(iter, &var);
}

static void append_string_variant(DBusMessageIter *iter, const char *s)
{
	DBusMessageIter var;

	dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, "s", &var);
	dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &s);
	dbus_message_iter_close_container(iter, &var);
}

/* {"Value": v, "Text": s} */
static void append_value_text(DBusMessageIter *iter, const struct busitem *it)
{
	DBusMessageIter dict, entry;
	static const char *const kv = "Value", *const kt = "Text";
	char *text = item_text(it);

	dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &kv);
	append_value(&entry, it);
	dbus_message_iter_close_container(&dict, &entry);
	dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &kt);
	append_string_variant(&entry, text);
	dbus_message_iter_close_container(&dict, &entry);
	dbus_message_iter_close_container(iter, &dict);
	g_free(text);
}

/* a{sa{sv}} of the given items, keys absolute. */
static void append_items(DBusMessageIter *iter, GPtrArray *items)
{
	DBusMessageIter arr, entry;

	dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sa{sv}}", &arr);
	for (guint k = 0; k < items->len; k++) {
		const struct busitem *it = g_ptr_array_index(items, k);

		dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &it->path);
		append_value_text(&entry, it);
		dbus_message_iter_close_container(&arr, &entry);
	}
	dbus_message_iter_close_container(iter, &arr);
}

/* {"Value": v, "Text": s} in the wire format. */
static void wire_value_text(struct wire *w, const struct busitem *it)
{
	char buf[64];
	size_t start, slot = wire_array_begin(w, 8, &start);

	wire_align(w, 8);
	wire_string(w, "Value");
	if (!it->valid) {
		wire_signature(w, "ai");
		wire_u32(w, 0);
	} else {
		switch (it->type) {
		case BUSITEM_INT:
			wire_signature(w, "i");
			wire_i32(w, it->i);
			break;
		case BUSITEM_DOUBLE:
			wire_signature(w, "d");
			wire_double(w, it->d);
			break;
		case BUSITEM_STRING:
			wire_signature(w, "s");
			wire_string(w, it->s);
			break;
		}
	}
	wire_align(w, 8);
	wire_string(w, "Text");
	wire_signature(w, "s");
	wire_string(w, item_text_buf(it, buf, sizeof(buf)));
	wire_array_end(w, slot, start);
}

/* ItemsChanged (a{sa{sv}}) of the pending items, marshalled directly. */
static DBusMessage *items_changed_wire(struct busitem_tree *t)
{
	size_t start, slot;

	wire_reset(&t->wire);
	slot = wire_array_begin(&t->wire, 8, &start);
	for (guint k = 0; k < t->pending->len; k++) {
		const struct busitem *it = g_ptr_array_index(t->pending, k);

		wire_align(&t->wire, 8);
		wire_string(&t->wire, it->path);
		wire_value_text(&t->wire, it);
	}
	wire_array_end(&t->wire, slot, start);
	if (++t->serial == 0)
		t->serial = 1;
	return wire_signal("/", BUSITEM_IFACE, "ItemsChanged", "a{sa{sv}}", &t->wire, t->serial);
}

unsigned busitem_flush(struct busitem_tree *t)
{
	unsigned n = t->pending->len;

	if (n == 0)
		return 0;

	DBusMessage *sig = items_changed_wire(t);
	DBusMessageIter iter;

	if (!sig) {
		/* libdbus refused our bytes (never seen): build it the slow way. */
		LOG_WARN("ItemsChanged: wire format refused, using libdbus");
		sig = dbus_message_new_signal("/", BUSITEM_IFACE, "ItemsChanged");
		dbus_message_iter_init_append(sig, &iter);
		append_items(&iter, t->pending);
	}
	if (t->conn)
		dbus_connection_send(t->conn, sig, NULL);
	dbus_message_unref(sig);
	t->signals++;
	for (guint k = 0; k < n; k++) {
		struct busitem *it = g_ptr_array_index(t->pending, k);

		it->pending = false;
		if (!t->properties_changed)
			continue;
		sig = dbus_message_new_signal(it->path, BUSITEM_IFACE, "PropertiesChanged");
		dbus_message_iter_init_append(sig, &iter);
		append_value_text(&iter, it);
		if (t->conn)
			dbus_connection_send(t->conn, sig, NULL);
		dbus_message_unref(sig);
		t->signals++;
	}
	g_ptr_array_set_size(t->pending, 0);
	return n;
}

/* ---- method handling --------------------------------------------------- */

/* Leaves below node ("/" or "/Dc"), i.e. whose path starts with node + "/". */
static GPtrArray *leaves_below(const struct busitem_tree *t, const char *node)
{
	GPtrArray *out = g_ptr_array_new();
	size_t n = strcmp(node, "/") == 0 ? 0 : strlen(node);

	for (guint k = 0; k < t->items->len; k++) {
		struct busitem *it = g_ptr_array_index(t->items, k);

		if (strncmp(it->path, node, n) == 0 && it->path[n] == '/')
			g_ptr_array_add(out, it);
	}
	return out;
}

static DBusMessage *node_get(DBusMessage *msg, const char *node, GPtrArray *leaves, bool text)
{
	DBusMessage *reply = dbus_message_new_method_return(msg);
	DBusMessageIter iter, var, arr, entry;
	size_t skip = strcmp(node, "/") == 0 ? 1 : strlen(node) + 1;

	dbus_message_iter_init_append(reply, &iter);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, text ? "a{ss}" : "a{sv}", &var);
	dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, text ? "{ss}" : "{sv}", &arr);
	for (guint k = 0; k < leaves->len; k++) {
		const struct busitem *it = g_ptr_array_index(leaves, k);
		const char *key = it->path + skip;

		dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key);
		if (text) {
			char *s = item_text(it);

			dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &s);
			g_free(s);
		} else {
			append_value(&entry, it);
		}
		dbus_message_iter_close_container(&arr, &entry);
	}
	dbus_message_iter_close_container(&var, &arr);
	dbus_message_iter_close_container(&iter, &var);
	return reply;
}

static void xml_method(GString *x, const char *name, const char *in, const char *out)
{
	g_string_append_printf(x, "  <method name=\"%s\">\n", name);
	if (in)
		g_string_append_printf(x, "   <arg direction=\"in\" type=\"%s\"/>\n", in);
	if (out)
		g_string_append_printf(x, "   <arg direction=\"out\" type=\"%s\"/>\n", out);
	g_string_append(x, "  </method>\n");
}

static DBusMessage *introspect(DBusMessage *msg, const struct busitem_tree *t, const char *path,
			       const struct busitem *leaf, GPtrArray *leaves)
{
	GString *x = g_string_new(DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n");
	bool root = strcmp(path, "/") == 0;

	g_string_append(x, " <interface name=\"org.freedesktop.DBus.Introspectable\">\n");
	xml_method(x, "Introspect", NULL, "s");
	g_string_append(x, " </interface>\n <interface name=\"" BUSITEM_IFACE "\">\n");
	xml_method(x, "GetValue", NULL, "v");
	xml_method(x, "GetText", NULL, leaf ? "s" : "v");
	if (leaf) {
		xml_method(x, "SetValue", "v", "i");
		g_string_append(x, "  <signal name=\"PropertiesChanged\"><arg type=\"a{sv}\"/></signal>\n");
	}
	if (root) {
		xml_method(x, "GetItems", NULL, "a{sa{sv}}");
		g_string_append(x, "  <signal name=\"ItemsChanged\"><arg type=\"a{sa{sv}}\"/></signal>\n");
	}
	g_string_append(x, " </interface>\n");
	/* One <node> per distinct child name. */
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t skip = root ? 1 : strlen(path) + 1;

	for (guint k = 0; leaves && k < leaves->len; k++) {
		const struct busitem *it = g_ptr_array_index(leaves, k);
		const char *rest = it->path + skip;
		const char *slash = strchr(rest, '/');
		char *child = g_strndup(rest, slash ? (gsize)(slash - rest) : strlen(rest));

		if (g_hash_table_add(seen, child))
			g_string_append_printf(x, " <node name=\"%s\"/>\n", child);
	}
	g_hash_table_destroy(seen);
	g_string_append(x, "</node>\n");
	(void)t;

	DBusMessage *reply = dbus_message_new_method_return(msg);

	dbus_message_append_args(reply, DBUS_TYPE_STRING, &x->str, DBUS_TYPE_INVALID);
	g_string_free(x, TRUE);
	return reply;
}

static DBusMessage *error(DBusMessage *msg, const char *name, const char *path)
{
	bool object = strcmp(name, ERR_UNKNOWN_OBJECT) == 0;

	return dbus_message_new_error_printf(msg, name, "%s: %s", object ? "No such object" : "No such method here",
					     path);
}

enum method { M_NONE, M_INTROSPECT, M_GET_VALUE, M_GET_TEXT, M_SET_VALUE, M_GET_ITEMS };

/* The method a call names on a leaf, node or root (M_NONE: unknown). No
 * interface means BusItem. */
static enum method which_method(const char *iface, const char *member, bool leaf, bool root)
{
	if (iface && strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0)
		return strcmp(member, "Introspect") == 0 ? M_INTROSPECT : M_NONE;
	if (iface && strcmp(iface, BUSITEM_IFACE) != 0)
		return M_NONE;
	if (strcmp(member, "GetValue") == 0)
		return M_GET_VALUE;
	if (strcmp(member, "GetText") == 0)
		return M_GET_TEXT;
	if (leaf && strcmp(member, "SetValue") == 0)
		return M_SET_VALUE;
	if (root && strcmp(member, "GetItems") == 0)
		return M_GET_ITEMS;
	return M_NONE;
}

static DBusMessage *dispatch(struct busitem_tree *t, DBusMessage *msg, enum method m, const char *path,
			     struct busitem *leaf, GPtrArray *leaves)
{
	DBusMessage *reply;
	DBusMessageIter iter;

	if (m == M_SET_VALUE) {
		int32_t r = busitem_set_from_bus(leaf, msg);

		reply = dbus_message_new_method_return(msg);
		dbus_message_append_args(reply, DBUS_TYPE_INT32, &r, DBUS_TYPE_INVALID);
		return reply;
	}
	/* Every other method takes no arguments. */
	if (!dbus_message_has_signature(msg, ""))
		return dbus_message_new_error_printf(msg, ERR_INVALID_ARGS, "%s takes no arguments, got (%s)",
						     dbus_message_get_member(msg), dbus_message_get_signature(msg));
	if (m == M_INTROSPECT)
		return introspect(msg, t, path, leaf, leaves);
	if (m == M_GET_ITEMS) {
		reply = dbus_message_new_method_return(msg);
		dbus_message_iter_init_append(reply, &iter);
		append_items(&iter, t->items);
		return reply;
	}
	if (!leaf)
		return node_get(msg, path, leaves, m == M_GET_TEXT);
	reply = dbus_message_new_method_return(msg);
	if (m == M_GET_VALUE) {
		dbus_message_iter_init_append(reply, &iter);
		append_value(&iter, leaf);
	} else {
		char *s = item_text(leaf);

		dbus_message_append_args(reply, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID);
		g_free(s);
	}
	return reply;
}

DBusMessage *busitem_handle(struct busitem_tree *t, DBusMessage *msg)
{
	const char *path = dbus_message_get_path(msg);
	const char *member = dbus_message_get_member(msg);

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL || !path || !member)
		return NULL;

	struct busitem *leaf = busitem_find(t, path);
	GPtrArray *leaves = leaf ? NULL : leaves_below(t, path);
	bool root = strcmp(path, "/") == 0;
	enum method m = which_method(dbus_message_get_interface(msg), member, leaf != NULL, root);
	DBusMessage *reply;

	if (!leaf && !root && leaves->len == 0)
		reply = error(msg, ERR_UNKNOWN_OBJECT, path);
	else if (m == M_NONE)
		reply = error(msg, ERR_UNKNOWN_METHOD, path);
	else
		reply = dispatch(t, msg, m, path, leaf, leaves);
	if (leaves)
		g_ptr_array_free(leaves, TRUE);
	return reply;
}

static DBusHandlerResult message_cb(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct busitem_tree *t = data;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (t->method_fn && t->method_fn(t, msg, t->method_data) == DBUS_HANDLER_RESULT_HANDLED)
		return DBUS_HANDLER_RESULT_HANDLED;

	DBusMessage *reply = busitem_handle(t, msg);

	if (!reply)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (!dbus_message_get_no_reply(msg))
		dbus_connection_send(conn, reply, NULL);
	dbus_message_unref(reply);
	return DBUS_HANDLER_RESULT_HANDLED;
}
