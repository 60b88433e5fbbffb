/* SPDX-License-Identifier: MIT */
/*
 * The service's signals and SetValue through the real binary on a private
 * bus (docs/dbus-paths.md): one ItemsChanged per poll carrying only what
 * changed, PropertiesChanged as an option, and SetValue's codes, its
 * persistence in the settings and no signal for an unchanged value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "service_world.h"
#include "sim_harness.h"

static unsigned want_changes;

static bool enough_changes(void *ud)
{
	return ((struct world *)ud)->changes->len >= want_changes;
}

/* Apply signal `ch` to the model `m` (path -> value), asserting that every
 * path it carries really changed. */
static void apply_changes(GHashTable *m, GVariant *ch)
{
	GVariantIter iter;
	const char *path;
	GVariant *d;

	g_variant_iter_init(&iter, ch);
	while (g_variant_iter_next(&iter, "{&s@a{sv}}", &path, &d)) {
		GVariant *v = g_variant_lookup_value(d, "Value", NULL);
		GVariant *old = g_hash_table_lookup(m, path);

		assert_non_null(v);
		assert_non_null(old); /* every path existed in GetItems */
		if (g_variant_equal(old, v))
			fail_msg("ItemsChanged carried %s with its unchanged value %s", path, g_variant_print(v, TRUE));
		g_hash_table_replace(m, g_strdup(path), v);
		g_variant_unref(d);
	}
}

static void test_items_changed(void **state)
{
	static const char *const sim[] = { "--cells", "4", NULL };
	struct world *w = up(sim, NULL, true);
	GHashTable *m = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);

	(void)state;
	/* A current on a 3 s sine: every poll changes values. */
	sim_cmd(&w->sim, "sine 10 3");
	/* Settle, then take the full state. */
	want_changes = w->changes->len + 2;
	assert_true(loop_until(enough_changes, w, 3000));
	GVariant *items = bus_get_items(&w->bus, NAME);
	GVariantIter iter;
	const char *path;
	GVariant *d;

	g_variant_iter_init(&iter, items);
	while (g_variant_iter_next(&iter, "{&s@a{sv}}", &path, &d)) {
		g_hash_table_replace(m, g_strdup(path), g_variant_lookup_value(d, "Value", NULL));
		g_variant_unref(d);
	}
	g_variant_unref(items);
	/* Signals already queued before GetItems was answered are older than
	 * the model: drop them. */
	g_ptr_array_set_size(w->changes, 0);

	/* One ItemsChanged per poll (4 per second), each holding only paths
	 * that changed; PropertiesChanged is off by default. */
	sim_cmd(&w->sim, "sine 0 3");
	sim_cmd(&w->sim, "current -20");
	want_changes = 8;
	assert_true(loop_until(enough_changes, w, 5000));
	bool saw_current = false;

	for (guint k = 0; k < w->changes->len; k++) {
		GVariant *ch = g_ptr_array_index(w->changes, k);

		apply_changes(m, ch);
		GVariant *cur = g_variant_lookup_value(ch, "/Dc/0/Current", NULL);

		if (cur) {
			GVariant *in = g_variant_lookup_value(cur, "Value", NULL);

			saw_current |= fabs(g_variant_get_double(in) + 20.0) < 0.001;
			g_variant_unref(in);
			g_variant_unref(cur);
		}
	}
	assert_true(saw_current);
	GVariant *p = g_hash_table_lookup(m, "/Dc/0/Power");

	assert_true(g_variant_get_double(p) < -200); /* 4 cells x 3.3 V x -20 A */
	assert_int_equal(w->props_changed, 0);
	/* With values changing every poll: about one signal per 250 ms poll,
	 * never a burst per path. Count them over one second. */
	sim_cmd(&w->sim, "sine 10 3");
	want_changes = UINT_MAX;
	loop_until(enough_changes, w, 500);
	g_ptr_array_set_size(w->changes, 0);
	want_changes = UINT_MAX;
	loop_until(enough_changes, w, 1000);
	assert_in_range(w->changes->len, 2, 6);
	g_hash_table_destroy(m);
	down(w);
}

static void test_properties_changed_option(void **state)
{
	struct world *w = up(NULL, "properties_changed=true\n", true);

	(void)state;
	sim_cmd(&w->sim, "sine 10 3"); /* every poll changes values */
	want_changes = w->changes->len + 4;
	assert_true(loop_until(enough_changes, w, 5000));
	/* Each ItemsChanged comes with a PropertiesChanged per changed leaf. */
	assert_true(w->props_changed >= w->changes->len);
	down(w);
}

/* The service's log holds `line` exactly once. */
static void assert_logged_once(struct world *w, const char *line)
{
	char *log = child_log(&w->svc);
	unsigned n = 0;

	for (const char *p = strstr(log, line); p; p = strstr(p + 1, line))
		n++;
	if (n != 1)
		fail_msg("'%s' logged %u times; the log:\n%s", line, n, log);
	g_free(log);
}

static void test_set_value(void **state)
{
	struct world *w = up(NULL, NULL, true);
	char long_name[41];

	(void)state;
	sim_cmd(&w->sim, "sine 10 3"); /* every poll changes values, so signals keep coming */
	memset(long_name, 'x', 40);
	long_name[40] = '\0';
	/* Read-only path, wrong type, refused value: codes 1, 1, 2, nothing changes. */
	assert_int_equal(bus_set_value(&w->bus, NAME, "/Dc/0/Voltage", g_variant_new_double(1.0)), 1);
	assert_int_equal(bus_set_value(&w->bus, NAME, "/CustomName", g_variant_new_int32(5)), 1);
	assert_int_equal(bus_set_value(&w->bus, NAME, "/CustomName", g_variant_new_string(long_name)), 2);
	/* Refused again and again (MQTT bridges retry and drop the code):
	 * still refused, nothing changes, one log line per path and reason. */
	for (int k = 0; k < 3; k++) {
		assert_int_equal(bus_set_value(&w->bus, NAME, "/Dc/0/Voltage", g_variant_new_double(1.0)), 1);
		assert_int_equal(bus_set_value(&w->bus, NAME, "/Soc", g_variant_new_double(1.0)), 1);
		assert_int_equal(bus_set_value(&w->bus, NAME, "/CustomName", g_variant_new_int32(5)), 1);
		assert_int_equal(bus_set_value(&w->bus, NAME, "/CustomName", g_variant_new_string(long_name)), 2);
	}
	GVariant *v = bus_get_value(&w->bus, NAME, "/CustomName");

	assert_string_equal(g_variant_get_string(v, NULL), "");
	g_variant_unref(v);
	v = bus_get_value(&w->bus, NAME, "/Dc/0/Voltage");
	assert_true(g_variant_get_double(v) > 20); /* the pack's, not the 1.0 written */
	g_variant_unref(v);
	assert_logged_once(w, "SetValue /Dc/0/Voltage refused: read-only path");
	assert_logged_once(w, "SetValue /Soc refused: read-only path");
	assert_logged_once(w, "SetValue /CustomName refused: value is an integer 'i', expected a string");
	char *name_line = g_strdup_printf("SetValue /CustomName refused: value '%s' (40 characters) not accepted",
					  long_name);

	assert_logged_once(w, name_line);
	g_free(name_line);
	/* Accepted: published and persisted in the settings. */
	assert_int_equal(bus_set_value(&w->bus, NAME, "/CustomName", g_variant_new_string("Shed battery")), 0);
	v = bus_get_value(&w->bus, NAME, "/CustomName");
	assert_string_equal(g_variant_get_string(v, NULL), "Shed battery");
	g_variant_unref(v);
	g_usleep(200000);
	v = bus_get_value(&w->bus, "com.victronenergy.settings", "/Settings/Devices/jkbms_ttyJK/CustomName");
	assert_string_equal(g_variant_get_string(v, NULL), "Shed battery");
	g_variant_unref(v);
	/* Setting the same value again: 0, and no signal carries it. */
	loop_until(enough_changes, w, 300);
	g_ptr_array_set_size(w->changes, 0);
	assert_int_equal(bus_set_value(&w->bus, NAME, "/CustomName", g_variant_new_string("Shed battery")), 0);
	want_changes = 3;
	assert_true(loop_until(enough_changes, w, 3000));
	for (guint k = 0; k < w->changes->len; k++) {
		GVariant *ch = g_variant_lookup_value(g_ptr_array_index(w->changes, k), "/CustomName", NULL);

		assert_null(ch);
	}
	/* A node has no SetValue. */
	GError *err = NULL;

	assert_null(bus_call(&w->bus, NAME, "/Dc", "com.victronenergy.BusItem", "SetValue",
			     g_variant_new("(v)", g_variant_new_int32(1)), &err));
	g_clear_error(&err);
	down(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_items_changed, teardown),
		cmocka_unit_test_teardown(test_properties_changed_option, teardown),
		cmocka_unit_test_teardown(test_set_value, teardown),
	};

	return cmocka_run_group_tests_name("service_signals", tests, NULL, NULL);
}
