/* SPDX-License-Identifier: MIT */
/*
 * Hostile input, part 1: the real dbus-jkbms on a private bus (the rig in
 * hostile_world.c) attacked the way a hostile client would: every D-Bus
 * type sent to writable and read-only paths, odd arguments, unknown paths
 * and interfaces, oversized values and spoofed bus signals. The service runs
 * with DBUS_FATAL_WARNINGS=1, so a failed libdbus check aborts it and fails
 * the test. After each attack: the service is alive, still polling, and no
 * published value changed except through the writes it accepted. The call
 * flood and a misbehaving localsettings are in test_hostile_settings.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gio/gunixfdlist.h>

#include "hostile_world.h"

/* ---- the type sweep ------------------------------------------------------ */

static char *describe(GVariant *v)
{
	return g_variant_get_size(v) > 200
		? g_strdup_printf("<%s of %zu bytes>", g_variant_get_type_string(v), g_variant_get_size(v))
		: g_variant_print(v, TRUE);
}

/* SetValue, optionally with fds; fails the test if there is no code. */
static int set_raw(struct world *w, const char *path, GVariant *v, GUnixFDList *fds)
{
	GError *err = NULL;
	GVariant *r = g_dbus_connection_call_with_unix_fd_list_sync(
		w->bus.conn, NAME, path, BUSITEM, "SetValue", g_variant_new("(v)", v), G_VARIANT_TYPE("(i)"),
		G_DBUS_CALL_FLAGS_NONE, 5000, fds, NULL, NULL, &err);
	int32_t code;

	if (!r) {
		char *d = describe(v);

		assert_alive(w, "after a SetValue");
		fail_msg("SetValue %s = %s: no code: %s", path, d, err->message);
	}
	g_variant_get(r, "(i)", &code);
	g_variant_unref(r);
	return code;
}

static void set_expect(struct world *w, const char *path, enum kind k, GVariant *v, GUnixFDList *fds)
{
	GVariant *accepted;
	int want = expected(k, v, &accepted);
	int got = set_raw(w, path, v, fds);

	if (got != want) {
		char *d = describe(v);

		fail_msg("SetValue %s = %s: code %d, want %d", path, d, got, want);
	}
	if (accepted)
		g_hash_table_replace(w->model, g_strdup(path), g_variant_ref_sink(accepted));
	GVariant *want_v = g_hash_table_lookup(w->model, path);

	if (want_v) {
		GVariant *now = bus_get_value(&w->bus, NAME, path);

		if (!g_variant_equal(now, want_v)) {
			char *d = describe(v);

			fail_msg("after SetValue %s = %s (code %d): %s, want %s", path, d, got,
				 g_variant_print(now, TRUE), g_variant_print(want_v, TRUE));
		}
		g_variant_unref(now);
	}
}

/* Each value of each type to each target; then a unix fd. */
static void test_every_type(void **state)
{
	struct world *w = up(NULL);
	GPtrArray *values = every_value(true);

	(void)state;
	for (size_t t = 0; t < n_targets; t++) {
		for (guint k = 0; k < values->len; k++) {
			set_expect(w, targets[t].path, targets[t].kind, g_ptr_array_index(values, k), NULL);
			assert_alive(w, "during the type sweep");
		}
		GUnixFDList *fds = g_unix_fd_list_new();
		int fd = open("/dev/null", O_RDONLY);

		assert_int_equal(g_unix_fd_list_append(fds, fd, NULL), 0);
		close(fd);
		set_expect(w, targets[t].path, targets[t].kind, g_variant_new_handle(0), fds);
		g_object_unref(fds);
	}
	g_ptr_array_free(values, TRUE);
	model_check(w, "after the type sweep");
	assert_polling(w);
	assert_refusals_logged_once(w);
	down(w);
}

/* ---- odd calls ------------------------------------------------------------ */

static void expect_error(struct world *w, const char *path, const char *iface, const char *method, GVariant *args,
			 const char *want)
{
	GError *err = NULL;
	GVariant *r = bus_call(&w->bus, NAME, path, iface, method, args, &err);

	if (r) {
		gchar *p = g_variant_print(r, TRUE);

		fail_msg("%s.%s on %.60s answered %.200s, want %s", iface ? iface : "-", method, path, p, want);
	}
	char *remote = g_dbus_error_get_remote_error(err);

	assert_alive(w, "after an odd call");
	if (!remote || strcmp(remote, want) != 0)
		fail_msg("%s.%s on %.60s: %s, want %s", iface ? iface : "-", method, path, err->message, want);
	g_free(remote);
	g_error_free(err);
}

static void set_args(struct world *w, const char *path, GVariant *args, int want)
{
	GError *err = NULL;
	GVariant *r = bus_call(&w->bus, NAME, path, BUSITEM, "SetValue", args, &err);
	int32_t code;

	if (!r)
		fail_msg("SetValue %s with odd arguments: %s", path, err->message);
	g_variant_get(r, "(i)", &code);
	assert_int_equal(code, want);
	g_variant_unref(r);
}

static void odd_arguments(struct world *w)
{
	static const char *const invalid_args = "org.freedesktop.DBus.Error.InvalidArgs";
	GVariant *big = g_variant_ref_sink(huge_string());

	expect_error(w, "/Soc", BUSITEM, "GetValue", g_variant_new("(s)", "x"), invalid_args);
	expect_error(w, "/Soc", BUSITEM, "GetText", g_variant_new("(iv)", 1, g_variant_new_int32(2)), invalid_args);
	expect_error(w, "/Dc", BUSITEM, "GetValue", g_variant_new("(@s)", big), invalid_args);
	expect_error(w, "/", BUSITEM, "GetItems", g_variant_new("(s)", "/Soc"), invalid_args);
	expect_error(w, "/", "org.freedesktop.DBus.Introspectable", "Introspect", g_variant_new("(i)", 0),
		     invalid_args);
	/* SetValue always answers with a code: not one variant is 1. */
	set_args(w, "/CustomName", g_variant_new("(s)", "bare"), 1);
	set_args(w, "/Settings/ForceChargingOff", g_variant_new("(i)", 1), 1);
	set_args(w, "/Settings/ForceChargingOff", NULL, 1);
	set_args(w, "/Settings/ForceChargingOff", g_variant_new("(vv)", g_variant_new_int32(1), g_variant_new_int32(1)),
		 1);
	set_args(w, "/CustomName", g_variant_new("(vs)", g_variant_new_string("a"), "b"), 1);
	g_variant_unref(big);
}

static void odd_paths_and_interfaces(struct world *w)
{
	static const char *const unknown_object = "org.freedesktop.DBus.Error.UnknownObject";
	static const char *const unknown_method = "org.freedesktop.DBus.Error.UnknownMethod";
	char *deep = deep_path(2000, "");
	char *below_leaf = deep_path(50, "/Dc/0/Voltage");

	expect_error(w, deep, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, unknown_object);
	expect_error(w, deep, BUSITEM, "GetValue", NULL, unknown_object);
	expect_error(w, below_leaf, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, unknown_object);
	expect_error(w, below_leaf, BUSITEM, "SetValue", g_variant_new("(v)", g_variant_new_int32(1)), unknown_object);
	expect_error(w, "/", "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", ""), unknown_method);
	expect_error(w, "/Soc", "com.example.Nope", "SetValue", g_variant_new("(v)", g_variant_new_int32(1)),
		     unknown_method);
	expect_error(w, "/Soc", BUSITEM, "SetValues", NULL, unknown_method);
	expect_error(w, "/Soc", BUSITEM, "GetItems", NULL, unknown_method);
	expect_error(w, "/", BUSITEM, "SetValue", g_variant_new("(v)", g_variant_new_int32(1)), unknown_method);
	expect_error(w, "/Settings", BUSITEM, "SetValue", g_variant_new("(v)", g_variant_new_int32(1)), unknown_method);
	/* No interface at all: the BusItem methods. */
	GDBusMessage *m = g_dbus_message_new_method_call(NAME, "/Soc", NULL, "GetText");
	GDBusMessage *a = g_dbus_connection_send_message_with_reply_sync(w->bus.conn, m, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
									 3000, NULL, NULL, NULL);

	assert_non_null(a);
	assert_int_equal(g_dbus_message_get_message_type(a), G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
	g_object_unref(a);
	g_object_unref(m);
	GVariant *r = bus_call(&w->bus, NAME, "/", "org.freedesktop.DBus.Peer", "Ping", NULL, NULL);
	assert_non_null(r);
	g_variant_unref(r);
	g_free(deep);
	g_free(below_leaf);
}

/* Signals only the bus may send, and BusItem signals with junk, sent
 * straight to the service. */
static void spoofed_signals(struct world *w)
{
	GError *err = NULL;

	assert_true(g_dbus_connection_emit_signal(w->bus.conn, NAME, "/org/freedesktop/DBus", "org.freedesktop.DBus",
						  "NameLost", g_variant_new("(s)", NAME), &err));
	assert_true(g_dbus_connection_emit_signal(w->bus.conn, NAME, "/org/freedesktop/DBus", "org.freedesktop.DBus",
						  "NameLost", g_variant_new("(i)", 3), &err));
	assert_true(g_dbus_connection_emit_signal(w->bus.conn, NAME, "/org/freedesktop/DBus", "org.freedesktop.DBus",
						  "NameOwnerChanged", g_variant_new("(sss)", NAME, ":1.1", ""), &err));
	assert_true(g_dbus_connection_emit_signal(w->bus.conn, NAME, "/", BUSITEM, "ItemsChanged",
						  g_variant_new_parsed("({'/CustomName': {'Value': <<1>>}},)"), &err));
	assert_true(g_dbus_connection_emit_signal(w->bus.conn, NAME, "/CustomName", BUSITEM, "PropertiesChanged",
						  g_variant_new_parsed("(@as [],)"), &err));
	g_dbus_connection_flush_sync(w->bus.conn, NULL, NULL);
	/* libdbus's local Disconnected, from a connection of its own (the bus
	 * may refuse it, or drop that connection). */
	GDBusConnectionFlags flags = G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION;
	GDBusConnection *c = g_dbus_connection_new_for_address_sync(w->bus.address, flags, NULL, NULL, NULL);

	assert_non_null(c);
	g_dbus_connection_set_exit_on_close(c, FALSE);
	g_dbus_connection_emit_signal(c, NAME, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				      "Disconnected", NULL, NULL);
	g_dbus_connection_flush_sync(c, NULL, NULL);
	g_object_unref(c);
	g_usleep(300000);
	assert_alive(w, "after spoofed signals");
}

static void test_odd_calls(void **state)
{
	struct world *w = up(NULL);

	(void)state;
	odd_arguments(w);
	odd_paths_and_interfaces(w);
	spoofed_signals(w);
	model_check(w, "after odd calls");
	assert_polling(w);
	down(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_type, teardown),
		cmocka_unit_test_teardown(test_odd_calls, teardown),
	};

	/* As on a GX, and stricter: any libdbus warning or failed check aborts
	 * the service (and the settings stand-in). */
	setenv("DBUS_FATAL_WARNINGS", "1", 1);
	return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
