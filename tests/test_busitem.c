/* SPDX-License-Identifier: MIT */
/*
 * The BusItem tree's one value encoder (busitem.c over dbus_wire.c). Every
 * message with values (GetValue, GetText, GetItems, SetValue's reply,
 * ItemsChanged, PropertiesChanged) is decoded by GDBus, an implementation
 * independent of ours, compared with the expected value, and compared byte
 * for byte with GDBus's own serialization of that value. Also: the text
 * formats busitem_add() accepts and refuses, number texts against printf,
 * and libdbus refusing bad bytes. The signals travel through a private bus.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "busitem.h"
#include "dbus_wire.h"

#define IFACE "com.victronenergy.BusItem"

static unsigned errors_logged;
static char last_error[512];

static void log_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	(void)domain;
	(void)level;
	(void)data;
	errors_logged++;
	g_strlcpy(last_error, msg, sizeof(last_error));
}

static int setup(void **state)
{
	(void)state;
	g_log_set_handler("busitem", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, log_cb, NULL);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The body of a little-endian message blob. */
static const uint8_t *blob_body(const uint8_t *blob, size_t n, size_t *len)
{
	assert_true(n >= 16);
	assert_int_equal(blob[0], 'l');
	*len = le32(blob + 4);
	assert_true(*len <= n);
	return blob + n - *len;
}

/* msg's body, as GDBus decodes it, is expect (GVariant text of the body
 * tuple), and its bytes are exactly what GDBus writes for that value. */
static void assert_body(DBusMessage *msg, const char *expect)
{
	char *blob;
	int n;
	GError *err = NULL;

	assert_non_null(msg);
	assert_true(dbus_message_marshal(msg, &blob, &n));

	GDBusMessage *ours = g_dbus_message_new_from_blob((guchar *)blob, (gsize)n, G_DBUS_CAPABILITY_FLAGS_NONE, &err);

	if (!ours)
		fail_msg("GDBus refuses the message: %s", err->message);

	char *type = g_strdup_printf("(%s)", dbus_message_get_signature(msg));
	GVariant *want = g_variant_parse(G_VARIANT_TYPE(type), expect, NULL, NULL, &err);

	if (!want)
		fail_msg("bad expectation %s: %s", expect, err->message);

	GVariant *got = g_dbus_message_get_body(ours);

	if (!got || !g_variant_equal(got, want)) {
		char *g = got ? g_variant_print(got, TRUE) : g_strdup("(no body)");

		fail_msg("body %s, want %s", g, expect);
	}

	GDBusMessage *ref = g_dbus_message_new_signal("/", "a.b", "c");
	gsize rn;

	g_dbus_message_set_byte_order(ref, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
	g_dbus_message_set_body(ref, want);

	guchar *rblob = g_dbus_message_to_blob(ref, &rn, G_DBUS_CAPABILITY_FLAGS_NONE, &err);
	size_t ol, rl;
	const uint8_t *ob = blob_body((const uint8_t *)blob, (size_t)n, &ol);
	const uint8_t *rb = blob_body(rblob, rn, &rl);

	assert_int_equal(ol, rl);
	assert_memory_equal(ob, rb, ol);
	g_free(rblob);
	g_object_unref(ref);
	g_variant_unref(want);
	g_free(type);
	g_object_unref(ours);
	dbus_free(blob);
}

/* A method call answered by busitem_handle(); checks the reply's header. */
static DBusMessage *call_args(struct busitem_tree *t, const char *path, const char *member, DBusMessage *m)
{
	static uint32_t serial = 100;

	if (!m)
		m = dbus_message_new_method_call(NULL, path, IFACE, member);
	dbus_message_set_serial(m, ++serial);
	assert_true(dbus_message_set_sender(m, ":1.42"));

	DBusMessage *r = busitem_handle(t, m);

	assert_non_null(r);
	assert_int_equal(dbus_message_get_type(r), DBUS_MESSAGE_TYPE_METHOD_RETURN);
	assert_int_equal(dbus_message_get_reply_serial(r), serial);
	assert_string_equal(dbus_message_get_destination(r), ":1.42");
	assert_true(dbus_message_get_no_reply(r));
	assert_int_not_equal(dbus_message_get_serial(r), 0);
	dbus_message_unref(m);
	return r;
}

static void expect_reply(struct busitem_tree *t, const char *path, const char *member, const char *expect)
{
	DBusMessage *r = call_args(t, path, member, NULL);

	assert_body(r, expect);
	dbus_message_unref(r);
}

/* ---- every type, every getter ------------------------------------------- */

static const char *const all_items = "({'/N/Int': {'Value': <-5>, 'Text': <'-5W'>},"
				     " '/N/Hex': {'Value': <65535>, 'Text': <'0xFFFF'>},"
				     " '/N/Dbl': {'Value': <53.25>, 'Text': <'53.25V'>},"
				     " '/N/Deg': {'Value': <0.0>, 'Text': <'≈0.0°C'>},"
				     " '/Gen': {'Value': <0.1>, 'Text': <'0.1'>},"
				     " '/Str': {'Value': <'Zürich ☀ 🔋 日本'>, 'Text': <'Zürich ☀ 🔋 日本'>},"
				     " '/Bad': {'Value': <'ab\\ufffdcd'>, 'Text': <'ab\\ufffdcd'>},"
				     " '/Empty': {'Value': <''>, 'Text': <''>},"
				     " '/Invalid': {'Value': <@ai []>, 'Text': <'---'>}},)";

static struct busitem_tree *values_tree(DBusConnection *conn, bool properties_changed)
{
	struct busitem_tree *t = busitem_tree_new(conn, properties_changed);

	busitem_set_int(busitem_add(t, "/N/Int", BUSITEM_INT, "%dW", NULL, NULL), -5);
	busitem_set_int(busitem_add(t, "/N/Hex", BUSITEM_INT, "0x%X", NULL, NULL), 0xFFFF);
	busitem_set_double(busitem_add(t, "/N/Dbl", BUSITEM_DOUBLE, "%.2fV", NULL, NULL), 53.25);
	busitem_set_double(busitem_add(t, "/N/Deg", BUSITEM_DOUBLE, "≈%.1f°C", NULL, NULL), -0.03125);
	busitem_set_double(busitem_add(t, "/Gen", BUSITEM_DOUBLE, NULL, NULL, NULL), 0.1);
	busitem_set_string(busitem_add(t, "/Str", BUSITEM_STRING, NULL, NULL, NULL), "Zürich ☀ 🔋 日本");
	busitem_set_string(busitem_add(t, "/Bad", BUSITEM_STRING, NULL, NULL, NULL),
			   "ab\xff"
			   "cd");
	busitem_set_string(busitem_add(t, "/Empty", BUSITEM_STRING, NULL, NULL, NULL), "");
	struct busitem *invalid = busitem_add(t, "/Invalid", BUSITEM_INT, "%d", NULL, NULL);

	busitem_set_int(invalid, 1);
	busitem_invalidate(invalid); /* a change: invalid again, but sent */
	return t;
}

static void test_getters(void **state)
{
	(void)state;
	struct busitem_tree *t = values_tree(NULL, false);

	expect_reply(t, "/", "GetItems", all_items);
	expect_reply(t, "/N/Int", "GetValue", "(<-5>,)");
	expect_reply(t, "/N/Int", "GetText", "('-5W',)");
	expect_reply(t, "/N/Hex", "GetText", "('0xFFFF',)");
	expect_reply(t, "/N/Dbl", "GetValue", "(<53.25>,)");
	expect_reply(t, "/N/Deg", "GetText", "('≈0.0°C',)");
	expect_reply(t, "/Gen", "GetText", "('0.1',)");
	expect_reply(t, "/Str", "GetValue", "(<'Zürich ☀ 🔋 日本'>,)");
	expect_reply(t, "/Str", "GetText", "('Zürich ☀ 🔋 日本',)");
	expect_reply(t, "/Bad", "GetValue", "(<'ab\\ufffdcd'>,)");
	expect_reply(t, "/Empty", "GetText", "('',)");
	expect_reply(t, "/Invalid", "GetValue", "(<@ai []>,)");
	expect_reply(t, "/Invalid", "GetText", "('---',)");
	/* Nodes: relative keys, in a variant. */
	expect_reply(t, "/N", "GetValue", "(<{'Int': <-5>, 'Hex': <65535>, 'Dbl': <53.25>, 'Deg': <0.0>}>,)");
	expect_reply(t, "/N", "GetText", "(<{'Int': '-5W', 'Hex': '0xFFFF', 'Dbl': '53.25V', 'Deg': '≈0.0°C'}>,)");
	expect_reply(t, "/", "GetText",
		     "(<{'N/Int': '-5W', 'N/Hex': '0xFFFF', 'N/Dbl': '53.25V', 'N/Deg': '≈0.0°C', 'Gen': '0.1',"
		     " 'Str': 'Zürich ☀ 🔋 日本', 'Bad': 'ab\\ufffdcd', 'Empty': '', 'Invalid': '---'}>,)");
	expect_reply(t, "/", "GetValue",
		     "(<{'N/Int': <-5>, 'N/Hex': <65535>, 'N/Dbl': <53.25>, 'N/Deg': <0.0>, 'Gen': <0.1>,"
		     " 'Str': <'Zürich ☀ 🔋 日本'>, 'Bad': <'ab\\ufffdcd'>, 'Empty': <''>, 'Invalid': <@ai []>}>,)");

	/* Introspection goes through the same writer. */
	DBusMessage *r = call_args(
		t, "/N", "Introspect",
		dbus_message_new_method_call(NULL, "/N", DBUS_INTERFACE_INTROSPECTABLE, "Introspect"));
	const char *xml = NULL;

	assert_true(dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
	assert_non_null(strstr(xml, "<node name=\"Deg\"/>"));
	dbus_message_unref(r);
	busitem_tree_free(t);
}

static int accept_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	(void)item;
	(void)data;
	return v->i == 7 ? -1 : 0;
}

static void test_set_value_reply(void **state)
{
	(void)state;
	struct busitem_tree *t = busitem_tree_new(NULL, false);
	struct busitem *it = busitem_add(t, "/W", BUSITEM_INT, NULL, accept_cb, NULL);
	const int32_t codes[] = { 3, 7 };

	for (unsigned k = 0; k < 2; k++) {
		DBusMessage *m = dbus_message_new_method_call(NULL, "/W", IFACE, "SetValue");
		DBusMessageIter iter, var;

		dbus_message_iter_init_append(m, &iter);
		dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, "i", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_INT32, &codes[k]);
		dbus_message_iter_close_container(&iter, &var);

		DBusMessage *r = call_args(t, "/W", "SetValue", m);

		assert_body(r, k == 0 ? "(0,)" : "(2,)");
		dbus_message_unref(r);
	}
	assert_int_equal(busitem_get_int(it), 3);
	busitem_tree_free(t);
}

/* ---- the signals, through a private bus ---------------------------------- */

/* The next signal named member that conn receives (within 3 s). */
static DBusMessage *next_signal(DBusConnection *conn, const char *member)
{
	for (int i = 0; i < 30; i++) {
		DBusMessage *m;

		dbus_connection_read_write(conn, 100);
		while ((m = dbus_connection_pop_message(conn))) {
			if (dbus_message_is_signal(m, IFACE, member))
				return m;
			dbus_message_unref(m);
		}
	}
	fail_msg("no %s signal", member);
	return NULL;
}

/* No further BusItem signal within 300 ms. */
static void no_signal(DBusConnection *conn)
{
	for (int i = 0; i < 3; i++) {
		DBusMessage *m;

		dbus_connection_read_write(conn, 100);
		while ((m = dbus_connection_pop_message(conn))) {
			bool ours = dbus_message_has_interface(m, IFACE);

			dbus_message_unref(m);
			assert_false(ours);
		}
	}
}

static void test_signals(void **state)
{
	(void)state;
	struct bus b;
	DBusError e;

	bus_start(&b);
	dbus_error_init(&e);

	DBusConnection *conn = dbus_connection_open_private(b.address, &e);

	assert_non_null(conn);
	assert_true(dbus_bus_register(conn, &e));
	dbus_bus_add_match(conn, "type='signal',interface='" IFACE "'", &e);
	assert_false(dbus_error_is_set(&e));

	/* The first flush: every item; the same dictionary GetItems answers. */
	struct busitem_tree *t = values_tree(conn, false);

	assert_int_equal(busitem_flush(t), 9);
	dbus_connection_flush(conn);

	DBusMessage *sig = next_signal(conn, "ItemsChanged");

	assert_string_equal(dbus_message_get_path(sig), "/");
	assert_body(sig, all_items);
	dbus_message_unref(sig);
	assert_int_equal(busitem_flush(t), 0);
	no_signal(conn);

	/* Only what changed, invalidation as the empty "ai". */
	busitem_set_int(busitem_find(t, "/N/Int"), -5); /* equal: no change */
	busitem_set_double(busitem_find(t, "/N/Dbl"), 2.675);
	busitem_invalidate(busitem_find(t, "/Str"));
	busitem_set_int(busitem_find(t, "/Invalid"), INT32_MIN);
	assert_int_equal(busitem_flush(t), 3);
	dbus_connection_flush(conn);
	sig = next_signal(conn, "ItemsChanged");
	assert_body(sig,
		    "({'/N/Dbl': {'Value': <2.68>, 'Text': <'2.68V'>},"
		    " '/Str': {'Value': <@ai []>, 'Text': <'---'>},"
		    " '/Invalid': {'Value': <-2147483648>, 'Text': <'-2147483648'>}},)");
	dbus_message_unref(sig);
	assert_int_equal(busitem_signals_sent(t), 2);
	busitem_tree_free(t);

	/* PropertiesChanged from each changed leaf, after the ItemsChanged.
	 * 3.3445 is published as 3.345 (GVariant prints all 17 digits of the
	 * double nearest 3.345). */
	t = busitem_tree_new(conn, true);
	busitem_set_double(busitem_add(t, "/P/V", BUSITEM_DOUBLE, "%.3fV", NULL, NULL), 3.3445);
	busitem_set_string(busitem_add(t, "/P/S", BUSITEM_STRING, NULL, NULL, NULL), "ß");
	assert_int_equal(busitem_flush(t), 2);
	dbus_connection_flush(conn);
	sig = next_signal(conn, "ItemsChanged");
	assert_body(
		sig,
		"({'/P/V': {'Value': <3.3450000000000002>, 'Text': <'3.345V'>}, '/P/S': {'Value': <'ß'>, 'Text': <'ß'>}},)");
	dbus_message_unref(sig);
	sig = next_signal(conn, "PropertiesChanged");
	assert_string_equal(dbus_message_get_path(sig), "/P/V");
	assert_body(sig, "({'Value': <3.3450000000000002>, 'Text': <'3.345V'>},)");
	dbus_message_unref(sig);
	sig = next_signal(conn, "PropertiesChanged");
	assert_string_equal(dbus_message_get_path(sig), "/P/S");
	assert_body(sig, "({'Value': <'ß'>, 'Text': <'ß'>},)");
	dbus_message_unref(sig);
	assert_int_equal(busitem_signals_sent(t), 3);
	busitem_tree_free(t);

	dbus_connection_close(conn);
	dbus_connection_unref(conn);
	bus_stop(&b);
}

/* The signals go straight onto the socket while libdbus holds nothing to
 * send. With the bus daemon stopped the socket fills: the signals then
 * queue in libdbus, the later ones behind the earlier, and once the daemon
 * runs again every one arrives, whole and in order. */
static void test_signals_full_socket(void **state)
{
	(void)state;
	struct bus b;
	DBusError e;
	unsigned sent = 0, queued_at = 0;

	bus_start(&b);
	dbus_error_init(&e);

	DBusConnection *tx = dbus_connection_open_private(b.address, &e);
	DBusConnection *rx = dbus_connection_open_private(b.address, &e);

	assert_non_null(tx);
	assert_non_null(rx);
	assert_true(dbus_bus_register(tx, &e));
	assert_true(dbus_bus_register(rx, &e));
	dbus_bus_add_match(rx, "type='signal',interface='" IFACE "',member='ItemsChanged'", &e);
	assert_false(dbus_error_is_set(&e));

	struct busitem_tree *t = busitem_tree_new(tx, false);
	struct busitem *n = busitem_add(t, "/Seq", BUSITEM_INT, NULL, NULL, NULL);

	assert_int_equal(kill(b.daemon_pid, SIGSTOP), 0);
	/* Until libdbus holds some, then as many again behind them. */
	while (sent < 100000 && (queued_at == 0 || sent < 2 * queued_at)) {
		busitem_set_int(n, (int32_t)++sent);
		assert_int_equal(busitem_flush(t), 1);
		if (!queued_at && dbus_connection_has_messages_to_send(tx))
			queued_at = sent;
	}
	assert_true(queued_at > 1); /* the first ones went straight onto the socket */
	assert_int_equal(kill(b.daemon_pid, SIGCONT), 0);
	dbus_connection_flush(tx);
	assert_true(dbus_connection_get_is_connected(tx));

	unsigned got = 0;

	for (int idle = 0; got < sent && idle < 30;) {
		DBusMessage *m;
		bool any = false;

		dbus_connection_read_write(rx, 100);
		while ((m = dbus_connection_pop_message(rx))) {
			DBusMessageIter it, entry, inner, pair, var;
			int32_t v = 0;

			if (!dbus_message_is_signal(m, IFACE, "ItemsChanged")) {
				dbus_message_unref(m);
				continue;
			}
			/* a{sa{sv}} with one entry: {"/Seq": {"Value": <v>, ...}} */
			assert_true(dbus_message_iter_init(m, &it));
			dbus_message_iter_recurse(&it, &entry);
			dbus_message_iter_recurse(&entry, &inner);
			dbus_message_iter_next(&inner);
			dbus_message_iter_recurse(&inner, &pair);
			dbus_message_iter_recurse(&pair, &var);
			dbus_message_iter_next(&var);
			dbus_message_iter_recurse(&var, &inner);
			assert_int_equal(dbus_message_iter_get_arg_type(&inner), DBUS_TYPE_INT32);
			dbus_message_iter_get_basic(&inner, &v);
			assert_int_equal(v, (int32_t)(got + 1));
			got++;
			any = true;
			dbus_message_unref(m);
		}
		idle = any ? 0 : idle + 1;
	}
	assert_int_equal(got, sent);
	busitem_tree_free(t);
	dbus_connection_close(tx);
	dbus_connection_unref(tx);
	dbus_connection_close(rx);
	dbus_connection_unref(rx);
	bus_stop(&b);
}

/* ---- text formats --------------------------------------------------------- */

struct accepted {
	enum busitem_type type;
	const char *fmt;
	double v; /* for ints: converted */
	const char *text;
};

static void test_formats_accepted(void **state)
{
	static const struct accepted cases[] = {
		{ BUSITEM_INT, NULL, 42, "42" },
		{ BUSITEM_INT, NULL, -7, "-7" },
		{ BUSITEM_INT, "%d", INT32_MIN, "-2147483648" },
		{ BUSITEM_INT, "%dW", 250, "250W" },
		{ BUSITEM_INT, "%d%%", 5, "5%" },
		{ BUSITEM_INT, "0x%X", 0xFFFF, "0xFFFF" },
		{ BUSITEM_INT, "0x%X", -1, "0xFFFFFFFF" },
		{ BUSITEM_INT, "%X", 0, "0" },
		{ BUSITEM_INT, "№ %d of 16 ✓", 3, "№ 3 of 16 ✓" },
		{ BUSITEM_DOUBLE, NULL, 0.1, "0.1" },
		{ BUSITEM_DOUBLE, NULL, 1e20, "1e+20" },
		{ BUSITEM_DOUBLE, "%.0f%%", 99.5, "100%" },
		{ BUSITEM_DOUBLE, "%.0f%%", 98.5, "99%" }, /* the value is rounded first, a tie away from 0 */
		{ BUSITEM_DOUBLE, "%.2fV", 53.2, "53.20V" },
		{ BUSITEM_DOUBLE, "%.3fV", 3.2994999, "3.299V" },
		{ BUSITEM_DOUBLE, "%.1f°C", -0.04, "0.0°C" },    /* never "-0" */
		{ BUSITEM_DOUBLE, "%.1f°C", -12.35, "-12.4°C" }, /* -12.35 * 10 is the tie -123.5 */
		{ BUSITEM_DOUBLE, "%.6f", 1, "1.000000" },
		{ BUSITEM_DOUBLE, "%.0fs", 1e15, "1000000000000000s" },
		{ BUSITEM_DOUBLE, "%.2fAh", -1e300, NULL }, /* checked against printf below */
		{ BUSITEM_DOUBLE, "≈%.1fkWh", 2.25, "≈2.3kWh" },
		{ BUSITEM_DOUBLE, "%%%.1f%%", 2.35, "%2.4%" },
		{ BUSITEM_STRING, NULL, 0, "x" },
	};

	(void)state;
	errors_logged = 0;
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct accepted *c = &cases[k];
		struct busitem_tree *t = busitem_tree_new(NULL, false);
		struct busitem *it = busitem_add(t, "/X", c->type, c->fmt, NULL, NULL);
		char want[400];

		assert_non_null(it);
		if (c->type == BUSITEM_INT)
			busitem_set_int(it, (int32_t)c->v);
		else if (c->type == BUSITEM_DOUBLE)
			busitem_set_double(it, c->v);
		else
			busitem_set_string(it, c->text);
		if (c->text)
			snprintf(want, sizeof(want), "('%s',)", c->text);
		else
			snprintf(want, sizeof(want), "('%.2fAh',)", c->v);
		expect_reply(t, "/X", "GetText", want);
		busitem_tree_free(t);
	}
	if (errors_logged)
		fail_msg("logged: %s", last_error);
}

struct refused {
	enum busitem_type type;
	const char *fmt;
};

static void test_formats_refused(void **state)
{
	static const struct refused cases[] = {
		{ BUSITEM_INT, "" },
		{ BUSITEM_INT, "W" },
		{ BUSITEM_INT, "%" },
		{ BUSITEM_INT, "%s" },
		{ BUSITEM_INT, "%x" },
		{ BUSITEM_INT, "%i" },
		{ BUSITEM_INT, "%u" },
		{ BUSITEM_INT, "%ld" },
		{ BUSITEM_INT, "%5d" },
		{ BUSITEM_INT, "%-d" },
		{ BUSITEM_INT, "%+d" },
		{ BUSITEM_INT, "%d %d" },
		{ BUSITEM_INT, "%d%" },
		{ BUSITEM_INT, "%%d" },
		{ BUSITEM_INT, "%.2f" },
		{ BUSITEM_INT, "0x%X\xff" },
		{ BUSITEM_DOUBLE, "" },
		{ BUSITEM_DOUBLE, "%f" },
		{ BUSITEM_DOUBLE, "%.f" },
		{ BUSITEM_DOUBLE, "%.7f" },
		{ BUSITEM_DOUBLE, "%.10f" },
		{ BUSITEM_DOUBLE, "%.2e" },
		{ BUSITEM_DOUBLE, "%g" },
		{ BUSITEM_DOUBLE, "%d" },
		{ BUSITEM_DOUBLE, "%8.2f" },
		{ BUSITEM_DOUBLE, "%.2fV%" },
		{ BUSITEM_DOUBLE, "%.2f%.2f" },
		{ BUSITEM_DOUBLE, "%.2fV\xc3" },
		{ BUSITEM_STRING, "%s" },
		{ BUSITEM_STRING, "" },
		{ BUSITEM_STRING, "text" },
	};

	(void)state;
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct busitem_tree *t = busitem_tree_new(NULL, false);

		errors_logged = 0;
		assert_null(busitem_add(t, "/X", cases[k].type, cases[k].fmt, NULL, NULL));
		assert_int_equal(errors_logged, 1);
		assert_non_null(strstr(last_error, "/X: bad text format"));
		assert_non_null(strstr(last_error, "want"));
		assert_null(busitem_find(t, "/X"));
		assert_non_null(busitem_add(t, "/X", cases[k].type, NULL, NULL, NULL));
		busitem_tree_free(t);
	}
	errors_logged = 0;
}

/* ---- number texts against printf ------------------------------------------ */

/* The string the writer wrote at the start of w. */
static const char *wire_text(const struct wire *w)
{
	assert_int_equal(le32(w->buf) + 5, w->len);
	assert_int_equal(w->buf[w->len - 1], 0);
	return (const char *)w->buf + 4;
}

static void check_fixed(struct wire *w, double v, int decimals)
{
	char want[400];
	int n = snprintf(want, sizeof(want), "<%.*f>", decimals, v);

	if (want[1] == '-' && strspn(want + 2, "0.") == (size_t)n - 3) /* "-0.00": we never write it */
		memmove(want + 1, want + 2, (size_t)n - 1);
	w->len = 0;
	wire_text_fixed(w, "<", v, decimals, ">");
	if (strcmp(wire_text(w), want) != 0)
		fail_msg("%.17g with %d decimals: %s, printf %s", v, decimals, wire_text(w), want);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_number_texts(void **state)
{
	static const double special[] = {
		0,    -0.0,  0.5,   1.5,    2.5,     -2.5,    0.125,      0.375,          1.005, 2.675,
		1e-7, -1e-7, 0.05,  -0.05,  53.2,    3.3445,  123456.789, 999999.9999995, 1e14,  9.99999999e14,
		1e15, -1e15, 1e300, -1e300, DBL_MAX, DBL_MIN, INFINITY,   -INFINITY,      NAN,
	};
	struct wire w;

	(void)state;
	wire_init(&w);
	for (int d = 0; d <= 6; d++) {
		for (unsigned k = 0; k < sizeof(special) / sizeof(special[0]); k++)
			check_fixed(&w, special[k], d);
		for (unsigned k = 0; k < 3000; k++) {
			uint64_t r = next_random();
			double mant = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
			double v = ldexp(mant, (int)(r % 60) - 20) * ((r >> 8) & 1 ? -1 : 1);

			check_fixed(&w, v, d);
			/* Ties and near-ties: multiples of 2^-m, and their neighbours. */
			double tie = ldexp((double)(r % 100000), -(int)(r % 9));

			check_fixed(&w, tie, d);
			check_fixed(&w, nextafter(tie, INFINITY), d);
			check_fixed(&w, nextafter(tie, -INFINITY), d);
		}
	}

	const int32_t ints[] = { 0, 1, -1, 9, 10, INT32_MAX, INT32_MIN, 0xFFFF, -65536 };
	char want[64];

	for (unsigned k = 0; k < sizeof(ints) / sizeof(ints[0]) + 2000; k++) {
		int32_t v = k < sizeof(ints) / sizeof(ints[0]) ? ints[k] : (int32_t)next_random();

		w.len = 0;
		wire_text_int(&w, "", v, false, "°");
		snprintf(want, sizeof(want), "%d°", v);
		assert_string_equal(wire_text(&w), want);
		w.len = 0;
		wire_text_int(&w, "0x", v, true, "");
		snprintf(want, sizeof(want), "0x%X", (unsigned)v);
		assert_string_equal(wire_text(&w), want);
	}
	wire_free(&w);
}

/* ---- the writer's own checks ------------------------------------------------ */

static void test_wire_refused(void **state)
{
	struct wire w;

	(void)state;
	wire_init(&w);
	/* Well formed: accepted, and what was written is what libdbus reads. */
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "sid");
	wire_string(&w, "ok");
	wire_i32(&w, -3);
	wire_double(&w, 0.5);

	DBusMessage *m = wire_finish(&w, 9);

	assert_non_null(m);
	assert_int_equal(dbus_message_get_serial(m), 9);
	assert_body(m, "('ok', -3, 0.5)");
	dbus_message_unref(m);

	/* Invalid UTF-8, a body that does not match its signature, serial 0. */
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "s");
	wire_string(&w, "a\xff");
	assert_null(wire_finish(&w, 1));
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "s");
	wire_i32(&w, 1000);
	assert_null(wire_finish(&w, 1));
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "i");
	wire_i32(&w, 1);
	assert_null(wire_finish(&w, 0));
	wire_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters),         cmocka_unit_test(test_set_value_reply),
		cmocka_unit_test(test_signals),         cmocka_unit_test(test_formats_accepted),
		cmocka_unit_test(test_formats_refused), cmocka_unit_test(test_number_texts),
		cmocka_unit_test(test_wire_refused),    cmocka_unit_test(test_signals_full_socket),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
