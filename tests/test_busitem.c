/* SPDX-License-Identifier: MIT */
/*
 * The BusItem tree's messages (busitem.c, busitem_encode.c over
 * dbus_wire.c). Every message with values (GetValue, GetText, GetItems,
 * SetValue's reply, ItemsChanged, PropertiesChanged) is decoded by GDBus,
 * an implementation independent of ours, compared with the expected value,
 * and compared byte for byte with GDBus's own serialization of that value
 * (busitem_steps.c). The signals travel through a private bus. The text
 * formats and the writer's own checks: test_busitem_text.c.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "busitem.h"
#include "busitem_steps.h"

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

/* A double is published when what it shows changes: an input that rounds
 * to the value shown is no change, and the same input after an
 * invalidation is one (busitem_set_double() remembers its last input). */
static void test_double_changes(void **state)
{
	(void)state;
	struct busitem_tree *t = busitem_tree_new(NULL, false);
	struct busitem *a = busitem_add(t, "/A", BUSITEM_DOUBLE, "%.1fA", NULL, NULL);
	struct busitem *g = busitem_add(t, "/G", BUSITEM_DOUBLE, NULL, NULL, NULL);
	const struct {
		struct busitem **item;
		double set; /* NAN: invalidate */
		unsigned changed;
		double shown; /* NAN: invalid */
	} steps[] = {
		{ &a, 1.04, 1, 1.0 },  { &a, 1.04, 0, 1.0 },  { &a, 1.01, 0, 1.0 },  { &a, 1.04, 0, 1.0 },
		{ &a, 1.06, 1, 1.1 },  { &a, NAN, 1, NAN },   { &a, 1.06, 1, 1.1 },  { &a, 1.06, 0, 1.1 },
		{ &a, 1.04, 1, 1.0 },  { &a, -0.04, 1, 0.0 }, { &a, 0.04, 0, 0.0 },  { &g, 0.25, 1, 0.25 },
		{ &g, 0.25, 0, 0.25 }, { &g, NAN, 1, NAN },   { &g, 0.25, 1, 0.25 }, { &g, 0.5, 1, 0.5 },
	};

	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct busitem *it = *steps[k].item;

		if (isnan(steps[k].set))
			busitem_invalidate(it);
		else
			busitem_set_double(it, steps[k].set);
		if (busitem_flush(t) != steps[k].changed)
			fail_msg("step %zu: set %g: want %u change(s)", k, steps[k].set, steps[k].changed);
		if (isnan(steps[k].shown))
			assert_false(busitem_is_valid(it));
		else if (!busitem_is_valid(it) || busitem_get_double(it) != steps[k].shown)
			fail_msg("step %zu: set %g: shows %g (valid %d), want %g", k, steps[k].set,
				 busitem_get_double(it), busitem_is_valid(it), steps[k].shown);
	}
	busitem_tree_free(t);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_set_value_reply),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_double_changes),
		cmocka_unit_test(test_signals_full_socket),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
