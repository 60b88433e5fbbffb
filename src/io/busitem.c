/* SPDX-License-Identifier: MIT */
/*
 * The BusItem object tree. One fallback handler on "/" serves every path;
 * nodes are not stored but derived from the leaf paths below them. Every
 * message with values, signal or reply, is written by one encoder
 * (busitem_encode.c, over dbus_wire.c); errors are left to libdbus.
 */
#define G_LOG_DOMAIN "busitem"

#include "busitem.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "busitem_encode.h"
#include "busitem_private.h"
#include "dbus_wire.h"
#include "log.h"
#include "units.h"

#define BUSITEM_IFACE "com.victronenergy.BusItem"
#define ERR_UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
#define ERR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define ERR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

static DBusHandlerResult message_cb(DBusConnection *conn, DBusMessage *msg, void *data);

static void item_free(gpointer p)
{
	struct busitem *it = p;

	g_free(it->path);
	g_free(it->prefix);
	g_free(it->suffix);
	g_free(it->s);
	g_free(it->head);
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

/* Literal text of a format up to its conversion or end ("%%" is '%'). */
static char *format_literal(const char **p)
{
	GString *out = g_string_new(NULL);
	const char *q = *p;

	for (; *q && !(q[0] == '%' && q[1] != '%'); q++) {
		if (*q == '%')
			q++;
		g_string_append_c(out, *q);
	}
	*p = q;
	return g_string_free(out, FALSE);
}

/* The text format, parsed once: [text]%d[text] or [text]%X[text] for an
 * int, [text]%.Nf[text] (N 0-6) for a double, none for a string; NULL is
 * the default (%d, %g, the string). */
static bool parse_text_format(struct busitem *it, const char *fmt)
{
	static const enum busitem_text plain[] = {
		[BUSITEM_INT] = TEXT_DEC, [BUSITEM_DOUBLE] = TEXT_GENERAL, [BUSITEM_STRING] = TEXT_STRING
	};
	const char *p = fmt;

	it->text = plain[it->type];
	if (!fmt) {
		it->prefix = g_strdup("");
		it->suffix = g_strdup("");
		return true;
	}
	it->prefix = format_literal(&p);
	if (*p++ != '%')
		return false;
	if (it->type == BUSITEM_INT && (*p == 'd' || *p == 'X')) {
		it->text = *p == 'd' ? TEXT_DEC : TEXT_HEX;
		p++;
	} else if (it->type == BUSITEM_DOUBLE && p[0] == '.' && p[1] >= '0' && p[1] <= '6' && p[2] == 'f') {
		it->text = TEXT_FIXED;
		it->decimals = p[1] - '0';
		p += 3;
	} else {
		return false;
	}
	it->suffix = format_literal(&p);
	return *p == '\0' && g_utf8_validate(it->prefix, -1, NULL) && g_utf8_validate(it->suffix, -1, NULL);
}

struct busitem *busitem_add(struct busitem_tree *t, const char *path, enum busitem_type type, const char *text_fmt,
			    busitem_set_fn set_cb, void *user_data)
{
	if (!path_ok(path) || g_hash_table_contains(t->by_path, path) || (unsigned)type > BUSITEM_STRING)
		return NULL;

	struct busitem *it = g_new0(struct busitem, 1);

	it->type = type;
	if (!parse_text_format(it, text_fmt)) {
		const char *want = type == BUSITEM_INT
			? "[text]%d[text] or [text]%X[text]"
			: (type == BUSITEM_DOUBLE ? "[text]%.Nf[text], N 0-6" : "none (NULL)");

		LOG_ERR("%s: bad text format '%s': want %s (text: UTF-8, %%%% for %%)", path, text_fmt, want);
		item_free(it);
		return NULL;
	}
	it->tree = t;
	it->path = g_strdup(path);
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
	/* The input the value was rounded from last: the same input rounds
	 * the same, so most polls skip the rounding (a value that holds). */
	if (it->valid && it->d_input == v)
		return;
	it->d_input = v;
	/* The value is what its text shows: rounded to the format's places,
	 * the nearest double to that decimal (units.h). */
	if (it->text == TEXT_FIXED)
		v = round_decimals(v, (unsigned)it->decimals);
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
	if (it->valid && strcmp(it->s, v) == 0) /* it->s is valid UTF-8: so is v */
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

/* The next serial of the messages the tree writes. libdbus numbers the
 * messages it sends itself from 1 up: ours come from the upper half, so no
 * two messages of the connection share a serial. */
static uint32_t next_serial(struct busitem_tree *t)
{
	if (++t->serial < BUSITEM_SERIAL_FIRST)
		t->serial = BUSITEM_SERIAL_FIRST;
	return t->serial;
}

/* The message written in t->wire, or NULL: libdbus refused our bytes, which
 * is a bug in the encoder (logged). */
static DBusMessage *finish(struct busitem_tree *t, const char *what)
{
	DBusMessage *m = wire_finish(&t->wire, next_serial(t));

	if (!m)
		LOG_ERR("%s: libdbus refused the message written (an encoder bug)", what);
	return m;
}

/* The signal written in t->wire, straight onto the bus socket when it can
 * be (docs/architecture.md "Publish"). */
static void send_signal(struct busitem_tree *t, const char *what)
{
	uint32_t serial = next_serial(t);

	if (t->conn) {
		int r = wire_send(&t->wire, t->conn, serial);

		if (r == -ETIMEDOUT) {
			LOG_ERR("%s: the bus did not take the rest of a message in %d ms; connection closed", what,
				WIRE_SEND_WAIT_MS);
		} else if (r < 0) {
			LOG_ERR("%s: the message written could not be sent (%s; an encoder bug)", what, g_strerror(-r));
			return;
		}
	}
	t->signals++;
}

unsigned busitem_flush(struct busitem_tree *t)
{
	unsigned n = t->pending->len;

	if (n == 0)
		return 0;
	wire_begin_signal(&t->wire, "/", BUSITEM_IFACE, "ItemsChanged", "a{sa{sv}}");
	busitem_put_dict(&t->wire, t->pending, 0, BUSITEM_DICT_ITEMS);
	send_signal(t, "ItemsChanged");
	for (guint k = 0; k < n; k++) {
		struct busitem *it = g_ptr_array_index(t->pending, k);

		it->pending = false;
		if (!t->properties_changed)
			continue;
		wire_begin_signal(&t->wire, it->path, BUSITEM_IFACE, "PropertiesChanged", "a{sv}");
		busitem_put_value_text(&t->wire, it);
		send_signal(t, "PropertiesChanged");
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

static void xml_method(GString *x, const char *name, const char *in, const char *out)
{
	g_string_append_printf(x, "  <method name=\"%s\">\n", name);
	if (in)
		g_string_append_printf(x, "   <arg direction=\"in\" type=\"%s\"/>\n", in);
	if (out)
		g_string_append_printf(x, "   <arg direction=\"out\" type=\"%s\"/>\n", out);
	g_string_append(x, "  </method>\n");
}

/* The reply written in t->wire, or an error if the encoder failed. */
static DBusMessage *reply_done(struct busitem_tree *t, DBusMessage *msg)
{
	DBusMessage *reply = finish(t, dbus_message_get_member(msg));

	return reply ? reply : dbus_message_new_error(msg, DBUS_ERROR_FAILED, "the reply could not be encoded");
}

static DBusMessage *introspect(struct busitem_tree *t, DBusMessage *msg, const char *path, const struct busitem *leaf,
			       const GPtrArray *leaves)
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
	wire_begin_return(&t->wire, msg, "s");
	wire_string(&t->wire, x->str);
	g_string_free(x, TRUE);
	return reply_done(t, msg);
}

enum method {
	M_NONE,
	M_INTROSPECT,
	M_GET_VALUE,
	M_GET_TEXT,
	M_SET_VALUE,
	M_GET_ITEMS
};

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

/* The reply to a getter: GetItems on "/", GetValue/GetText on a leaf or on
 * a node (relative keys, in a variant). */
static DBusMessage *get(struct busitem_tree *t, DBusMessage *msg, enum method m, const char *path,
			const struct busitem *leaf, const GPtrArray *leaves)
{
	struct wire *w = &t->wire;
	bool text = m == M_GET_TEXT;

	wire_begin_return(w, msg, m == M_GET_ITEMS ? "a{sa{sv}}" : (leaf && text ? "s" : "v"));
	if (m == M_GET_ITEMS) {
		busitem_put_dict(w, t->items, 0, BUSITEM_DICT_ITEMS);
	} else if (!leaf) {
		wire_signature(w, text ? "a{ss}" : "a{sv}");
		busitem_put_dict(w, leaves, strcmp(path, "/") == 0 ? 1 : strlen(path) + 1,
				 text ? BUSITEM_DICT_TEXTS : BUSITEM_DICT_VALUES);
	} else if (text) {
		busitem_put_text(w, leaf);
	} else {
		busitem_put_value(w, leaf);
	}
	return reply_done(t, msg);
}

static DBusMessage *dispatch(struct busitem_tree *t, DBusMessage *msg, enum method m, const char *path,
			     struct busitem *leaf, GPtrArray *leaves)
{
	if (m == M_SET_VALUE) {
		int32_t r = busitem_set_from_bus(leaf, msg);

		wire_begin_return(&t->wire, msg, "i");
		wire_i32(&t->wire, r);
		return reply_done(t, msg);
	}
	/* Every other method takes no arguments. */
	if (!dbus_message_has_signature(msg, ""))
		return dbus_message_new_error_printf(msg, ERR_INVALID_ARGS, "%s takes no arguments, got (%s)",
						     dbus_message_get_member(msg), dbus_message_get_signature(msg));
	if (m == M_INTROSPECT)
		return introspect(t, msg, path, leaf, leaves);
	return get(t, msg, m, path, leaf, leaves);
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
		reply = dbus_message_new_error_printf(msg, ERR_UNKNOWN_OBJECT, "No such object: %s", path);
	else if (m == M_NONE)
		reply = dbus_message_new_error_printf(msg, ERR_UNKNOWN_METHOD, "No such method here: %s", path);
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
