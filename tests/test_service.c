/* SPDX-License-Identifier: MIT */
/*
 * The whole daemon: the real dbus-jkbms binary against jkbms-sim on a real
 * pseudo-terminal, on a private dbus-daemon with the settings stand-in,
 * observed through an independent GDBus client the way Venus OS's
 * consumers see it (venus-dbus.md §1.2).
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
#include "sim_harness.h"

#define NAME "com.victronenergy.battery.ttyJK"

struct world {
	struct bus bus;
	struct simproc sim;
	struct child settings;
	struct child svc;
	char config[400];
	/* signals */
	GPtrArray *changes; /* a{sa{sv}} per ItemsChanged */
	unsigned props_changed;
	guint sub_items, sub_props, sub_owner;
	GVariant *items_at_name; /* GetItems taken in the NameOwnerChanged handler */
};

static const char *const fast_config = "[jkbms]\npoll_interval=0.25\nreply_timeout=0.2\nprobe_timeout=3\n"
				       "link_warning=1\nlink_lost=2\nsettings_timeout=2\n";

static void on_items_changed(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
			     const gchar *signal, GVariant *params, gpointer data)
{
	struct world *w = data;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal;
	g_ptr_array_add(w->changes, g_variant_get_child_value(params, 0));
}

static void on_props_changed(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
			     const gchar *signal, GVariant *params, gpointer data)
{
	struct world *w = data;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal, (void)params;
	w->props_changed++;
}

static void on_owner(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
		     const gchar *signal, GVariant *params, gpointer data)
{
	struct world *w = data;
	const gchar *name, *old, *now;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal;
	g_variant_get(params, "(&s&s&s)", &name, &old, &now);
	/* What dbusmonitor does: GetItems the moment the name appears. */
	if (strcmp(name, NAME) == 0 && *now && !w->items_at_name)
		w->items_at_name = bus_get_items(&w->bus, NAME);
}

static void write_config(struct world *w, const char *extra)
{
	snprintf(w->config, sizeof(w->config), "%s/jkbms.ini", w->bus.dir);
	char *text = g_strdup_printf("%sstate_dir=%s/state\n%s", fast_config, w->bus.dir, extra ? extra : "");

	assert_true(g_file_set_contents(w->config, text, -1, NULL));
	g_free(text);
}

static void start_settings(struct world *w)
{
	static const char *argv[] = { FAKE_SETTINGS_BIN, NULL };

	child_spawn(&w->settings, &w->bus, "settings", argv);
	assert_true(bus_wait_name(&w->bus, "com.victronenergy.settings", 5000));
}

static void start_service(struct world *w, struct child *c, const char *link, const char *log)
{
	/* JKBMS_BIN runs another build of the service against the same checks
	 * (the static armhf release binary under qemu). */
	const char *bin = getenv("JKBMS_BIN") ? getenv("JKBMS_BIN") : DBUS_JKBMS_BIN;
	const char *argv[] = { bin, link, "--config", w->config, NULL };

	child_spawn(c, &w->bus, log, argv);
}

/* Bus, settings, simulator (args), service; waits for the name. */
static bool have_items_at_name(void *ud)
{
	return ((struct world *)ud)->items_at_name != NULL;
}

/* The world of the running test, for the teardown after a failure. */
static struct world *current;

static struct world *up(const char *const *sim_args, const char *config_extra, bool settings)
{
	struct world *w = g_new0(struct world, 1);

	current = w;
	bus_start(&w->bus);
	w->changes = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	/* Only the battery service's signals (the settings stand-in sends its own). */
	w->sub_items = g_dbus_connection_signal_subscribe(w->bus.conn, NAME, "com.victronenergy.BusItem",
							  "ItemsChanged", "/", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
							  on_items_changed, w, NULL);
	w->sub_props = g_dbus_connection_signal_subscribe(w->bus.conn, NAME, "com.victronenergy.BusItem",
							  "PropertiesChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
							  on_props_changed, w, NULL);
	w->sub_owner = g_dbus_connection_signal_subscribe(w->bus.conn, "org.freedesktop.DBus", "org.freedesktop.DBus",
							  "NameOwnerChanged", "/org/freedesktop/DBus", NAME,
							  G_DBUS_SIGNAL_FLAGS_NONE, on_owner, w, NULL);
	if (settings)
		start_settings(w);
	sim_start(&w->sim, sim_args);
	write_config(w, config_extra);
	start_service(w, &w->svc, w->sim.link, "service");
	if (!bus_wait_name(&w->bus, NAME, 8000)) {
		char *log = child_log(&w->svc);

		fail_msg("the service did not register; its log:\n%s", log);
	}
	/* NameHasOwner may answer before the NameOwnerChanged is dispatched. */
	assert_true(loop_until(have_items_at_name, w, 3000));
	return w;
}

/* After a failed assertion: stop every process the test started. */
static int teardown(void **state)
{
	struct world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;
	child_stop(&w->svc);
	if (w->settings.pid)
		child_stop(&w->settings);
	sim_stop(&w->sim);
	bus_stop(&w->bus);
	return 0;
}

static void down(struct world *w)
{
	current = NULL;
	int code = child_stop(&w->svc);

	if (code != 0) {
		char *log = child_log(&w->svc);

		print_message("service log:\n%s\n", log);
		g_free(log);
	}
	assert_int_equal(code, 0); /* SIGTERM is a clean exit */
	if (w->settings.pid)
		child_stop(&w->settings);
	sim_stop(&w->sim);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_items);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_props);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_owner);
	g_ptr_array_free(w->changes, TRUE);
	if (w->items_at_name)
		g_variant_unref(w->items_at_name);
	bus_stop(&w->bus);
	g_free(w);
}

static double dbl(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE))
		fail_msg("%s is not a valid double (%s)", path, v ? g_variant_print(v, TRUE) : "absent");
	double d = g_variant_get_double(v);

	g_variant_unref(v);
	return d;
}

static int32_t i32(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_INT32))
		fail_msg("%s is not a valid int32 (%s)", path, v ? g_variant_print(v, TRUE) : "absent");
	int32_t i = g_variant_get_int32(v);

	g_variant_unref(v);
	return i;
}

static char *str(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
		fail_msg("%s is not a valid string (%s)", path, v ? g_variant_print(v, TRUE) : "absent");
	char *s = g_variant_dup_string(v, NULL);

	g_variant_unref(v);
	return s;
}

static bool invalid(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);
	bool r = value_is_invalid(v);

	if (!v)
		fail_msg("%s is absent", path);
	g_variant_unref(v);
	return r;
}

static void assert_str(GVariant *items, const char *path, const char *want)
{
	char *s = str(items, path);

	if (strcmp(s, want) != 0)
		fail_msg("%s is '%s', want '%s'", path, s, want);
	g_free(s);
}

static void test_paths_and_values(void **state)
{
	static const char *const sim[] = { "--cells", "8", "--current", "12.5", "--soc", "70", NULL };
	struct world *w = up(sim, NULL, true);

	(void)state;
	/* The device instance is in GetItems at the moment the name appears. */
	assert_non_null(w->items_at_name);
	assert_int_equal(i32(w->items_at_name, "/DeviceInstance"), 1);
	assert_false(invalid(w->items_at_name, "/Info/MaxChargeVoltage"));
	assert_false(invalid(w->items_at_name, "/Voltages/Cell8"));

	GVariant *it = bus_get_items(&w->bus, NAME);
	double volts = sim_status(&w->sim, "voltage_mv") / 1000.0;

	/* Mandatory paths. */
	assert_str(it, "/Mgmt/ProcessName", "dbus-jkbms");
	assert_str(it, "/Mgmt/Connection", "Serial ttyJK");
	assert_int_equal(i32(it, "/ProductId"), 0xFFFF);
	assert_str(it, "/ProductName", "JK-BMS B2A24S15P");
	assert_str(it, "/FirmwareVersion", "11.26");
	assert_str(it, "/HardwareVersion", "11.XW");
	assert_str(it, "/Serial", "jkbms_ttyJK"); /* factory user data: the tty names it */
	assert_str(it, "/CustomName", "");
	assert_int_equal(i32(it, "/Connected"), 1);
	assert_int_equal(i32(it, "/State"), 9);
	assert_int_equal(i32(it, "/ErrorCode"), 0);
	/* Measurements against the simulator's state. */
	assert_true(fabs(dbl(it, "/Dc/0/Voltage") - volts) < 0.02);
	assert_true(fabs(dbl(it, "/Dc/0/Current") - 12.5) < 0.001);
	assert_true(fabs(dbl(it, "/Dc/0/Power") - volts * 12.5) < 0.5);
	assert_true(fabs(dbl(it, "/Soc") - 70) < 0.001);
	assert_true(fabs(dbl(it, "/InstalledCapacity") - 280) < 0.001);
	assert_true(fabs(dbl(it, "/Capacity") - 196) < 0.001);
	assert_true(fabs(dbl(it, "/ConsumedAmphours") + 84) < 0.001);
	assert_true(invalid(it, "/TimeToGo")); /* charging */
	assert_true(fabs(dbl(it, "/Dc/0/Temperature") - 20) < 1.5);
	assert_int_equal(i32(it, "/System/NrOfCellsPerBattery"), 8);
	double sum = 0, vmin = 9, vmax = 0;

	for (int k = 1; k <= 8; k++) {
		char p[32];

		snprintf(p, sizeof(p), "/Voltages/Cell%d", k);
		double c = dbl(it, p);

		assert_in_range((long)(c * 1000), 3250, 3400);
		sum += c;
		vmin = c < vmin ? c : vmin;
		vmax = c > vmax ? c : vmax;
	}
	assert_true(items_value(it, "/Voltages/Cell9") == NULL);
	assert_true(fabs(dbl(it, "/Voltages/Sum") - sum) < 0.0005);
	assert_true(fabs(dbl(it, "/System/MinCellVoltage") - vmin) < 0.0005);
	assert_true(fabs(dbl(it, "/System/MaxCellVoltage") - vmax) < 0.0005);
	assert_true(fabs(dbl(it, "/Voltages/Diff") - (vmax - vmin)) < 0.0005);
	/* Limits from the simulator's BMS settings: OVPR 3.55 V, UVPR 2.75 V,
	 * charge OCP 30 A, discharge OCP 60 A. */
	assert_true(fabs(dbl(it, "/Info/MaxChargeVoltage") - 8 * 3.45) < 0.001);
	assert_true(fabs(dbl(it, "/Info/MaxChargeCurrent") - 27.0) < 0.001);
	assert_true(fabs(dbl(it, "/Info/MaxDischargeCurrent") - 54.0) < 0.001);
	assert_true(fabs(dbl(it, "/Info/BatteryLowVoltage") - 8 * 2.85) < 0.001);
	assert_int_equal(i32(it, "/Io/AllowToCharge"), 1);
	assert_int_equal(i32(it, "/Io/AllowToDischarge"), 1);
	assert_int_equal(i32(it, "/Alarms/BmsCable"), 0);
	assert_int_equal(i32(it, "/Alarms/HighCellVoltage"), 0);
	assert_int_equal(i32(it, "/Alarms/LowChargeTemperature"), 0);
	assert_true(i32(it, "/Diagnostics/Link/Replies") >= 1);
	assert_str(it, "/Diagnostics/Link/State", "up");
	g_variant_unref(it);

	/* GetValue and GetText on nodes: relative keys. */
	GVariant *v = bus_get_value(&w->bus, NAME, "/Dc");

	assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE("a{sv}")));
	GVariant *x = g_variant_lookup_value(v, "0/Voltage", G_VARIANT_TYPE_DOUBLE);

	assert_non_null(x);
	g_variant_unref(x);
	g_variant_unref(v);
	v = bus_get_value(&w->bus, NAME, "/");
	x = g_variant_lookup_value(v, "Info/MaxChargeCurrent", NULL);
	assert_non_null(x);
	g_variant_unref(x);
	g_variant_unref(v);
	GError *err = NULL;
	GVariant *r = bus_call(&w->bus, NAME, "/Info", "com.victronenergy.BusItem", "GetText", NULL, &err);

	assert_non_null(r);
	assert_string_equal(g_variant_get_type_string(r), "(v)");
	g_variant_unref(r);
	r = bus_call(&w->bus, NAME, "/Info/MaxChargeCurrent", "com.victronenergy.BusItem", "GetText", NULL, &err);
	assert_non_null(r);
	const char *text;

	g_variant_get(r, "(&s)", &text);
	assert_string_equal(text, "27.0A");
	g_variant_unref(r);

	/* Errors as Victron's services return them. */
	r = bus_call(&w->bus, NAME, "/No/Such", "com.victronenergy.BusItem", "GetValue", NULL, &err);
	assert_null(r);
	assert_true(g_dbus_error_is_remote_error(err));
	char *remote = g_dbus_error_get_remote_error(err);

	assert_string_equal(remote, "org.freedesktop.DBus.Error.UnknownObject");
	g_free(remote);
	g_clear_error(&err);
	r = bus_call(&w->bus, NAME, "/Dc", "com.victronenergy.BusItem", "GetItems", NULL, &err);
	assert_null(r);
	remote = g_dbus_error_get_remote_error(err);
	assert_string_equal(remote, "org.freedesktop.DBus.Error.UnknownMethod");
	g_free(remote);
	g_clear_error(&err);

	/* Introspection on root, node and leaf. */
	r = bus_call(&w->bus, NAME, "/", "org.freedesktop.DBus.Introspectable", "Introspect", NULL, &err);
	g_variant_get(r, "(&s)", &text);
	assert_non_null(strstr(text, "<node name=\"Dc\"/>"));
	assert_non_null(strstr(text, "GetItems"));
	g_variant_unref(r);
	r = bus_call(&w->bus, NAME, "/Dc/0", "org.freedesktop.DBus.Introspectable", "Introspect", NULL, &err);
	g_variant_get(r, "(&s)", &text);
	assert_non_null(strstr(text, "<node name=\"Voltage\"/>"));
	assert_null(strstr(text, "GetItems"));
	g_variant_unref(r);
	r = bus_call(&w->bus, NAME, "/Soc", "org.freedesktop.DBus.Introspectable", "Introspect", NULL, &err);
	g_variant_get(r, "(&s)", &text);
	assert_non_null(strstr(text, "SetValue"));
	g_variant_unref(r);
	down(w);
}

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
	GVariant *v = bus_get_value(&w->bus, NAME, "/CustomName");

	assert_string_equal(g_variant_get_string(v, NULL), "");
	g_variant_unref(v);
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

struct expect {
	struct world *w;
	const char *path;
	double value; /* NAN: invalid */
};

static bool path_is(void *ud)
{
	struct expect *e = ud;
	GVariant *items = bus_get_items(&e->w->bus, NAME);
	GVariant *v = items_value(items, e->path);
	bool ok;

	if (isnan(e->value))
		ok = value_is_invalid(v);
	else if (v && g_variant_is_of_type(v, G_VARIANT_TYPE_INT32))
		ok = g_variant_get_int32(v) == (int32_t)e->value;
	else
		ok = v && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) && fabs(g_variant_get_double(v) - e->value) < 0.001;
	if (v)
		g_variant_unref(v);
	g_variant_unref(items);
	return ok;
}

static void expect_path(struct world *w, const char *path, double value, unsigned timeout_ms)
{
	struct expect e = { w, path, value };

	if (!loop_until(path_is, &e, timeout_ms))
		fail_msg("%s never became %g", path, value);
}

struct ccl_wait {
	struct world *w;
	double ccl;
};

static bool ccl_positive(void *ud)
{
	struct ccl_wait *cw = ud;
	GVariant *v = bus_get_value(&cw->w->bus, NAME, "/Info/MaxChargeCurrent");

	cw->ccl = g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(v) : 0;
	g_variant_unref(v);
	return cw->ccl > 0;
}

static void test_link_loss_and_recovery(void **state)
{
	struct world *w = up(NULL, NULL, true);

	(void)state;
	expect_path(w, "/Info/MaxChargeCurrent", 27.0, 2000);
	sim_cmd(&w->sim, "fault silent");
	/* Cable warning after link_warning (1 s), values kept meanwhile. */
	expect_path(w, "/Alarms/BmsCable", 1, 3000);
	GVariant *it = bus_get_items(&w->bus, NAME);

	assert_false(invalid(it, "/Dc/0/Voltage"));
	assert_true(dbl(it, "/Info/MaxChargeCurrent") > 0);
	g_variant_unref(it);
	/* Lost after link_lost (2 s): zero limits, invalid measurements, still on the bus. */
	expect_path(w, "/Alarms/BmsCable", 2, 3000);
	it = bus_get_items(&w->bus, NAME);
	assert_true(dbl(it, "/Info/MaxChargeCurrent") == 0);
	assert_true(dbl(it, "/Info/MaxDischargeCurrent") == 0);
	assert_false(invalid(it, "/Info/MaxChargeVoltage")); /* stays the BMS for DVCC */
	assert_int_equal(i32(it, "/Connected"), 0);
	assert_true(invalid(it, "/Dc/0/Voltage"));
	assert_true(invalid(it, "/Soc"));
	assert_true(invalid(it, "/Voltages/Cell1"));
	assert_str(it, "/Info/ChargeLimitation", "No data from BMS");
	g_variant_unref(it);
	assert_true(bus_has_owner(&w->bus, NAME));
	/* Back: values and limits return. */
	sim_cmd(&w->sim, "fault none");
	expect_path(w, "/Connected", 1, 3000);
	it = bus_get_items(&w->bus, NAME);
	assert_int_equal(i32(it, "/Alarms/BmsCable"), 0);
	assert_false(invalid(it, "/Dc/0/Voltage"));
	g_variant_unref(it);
	/* The limits come back through the normal ramp (10 % of the ceiling
	 * per 10 s), not in one step. */
	struct ccl_wait cw = { w, 0 };

	assert_true(loop_until(ccl_positive, &cw, 3000));
	assert_true(cw.ccl > 0 && cw.ccl < 27.0 * 0.5);
	char *log = child_log(&w->svc);

	assert_non_null(strstr(log, "link lost"));
	g_free(log);
	down(w);
}

static void test_no_bms_no_name(void **state)
{
	struct world *w = g_new0(struct world, 1);
	static const char *const sim[] = { "--fault", "silent", NULL };

	(void)state;
	current = w;
	bus_start(&w->bus);
	w->changes = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	w->sub_owner = g_dbus_connection_signal_subscribe(w->bus.conn, "org.freedesktop.DBus", "org.freedesktop.DBus",
							  "NameOwnerChanged", "/org/freedesktop/DBus", NAME,
							  G_DBUS_SIGNAL_FLAGS_NONE, on_owner, w, NULL);
	start_settings(w);
	sim_start(&w->sim, sim);
	write_config(w, "probe_timeout=1.5\n");
	start_service(w, &w->svc, w->sim.link, "service");
	for (int i = 0; i < 400 && !child_exited(&w->svc); i++) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(10000);
	}
	assert_true(child_exited(&w->svc));
	assert_true(WIFEXITED(w->svc.status) && WEXITSTATUS(w->svc.status) == 1);
	while (g_main_context_iteration(NULL, FALSE))
		;
	assert_null(w->items_at_name); /* the name never appeared */
	char *log = child_log(&w->svc);

	assert_non_null(strstr(log, "no JK-BMS answered"));
	g_free(log);
	child_stop(&w->settings);
	sim_stop(&w->sim);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_owner);
	g_ptr_array_free(w->changes, TRUE);
	current = NULL;
	bus_stop(&w->bus);
	g_free(w);
}

static void test_two_instances(void **state)
{
	struct world *w = up(NULL, NULL, true);
	struct simproc sim2;
	struct child svc2;

	(void)state;
	sim_start_named(&sim2, "ttyJK2", NULL);
	start_service(w, &svc2, sim2.link, "service2");
	assert_true(bus_wait_name(&w->bus, "com.victronenergy.battery.ttyJK2", 8000));
	GVariant *a = bus_get_items(&w->bus, NAME);
	GVariant *b = bus_get_items(&w->bus, "com.victronenergy.battery.ttyJK2");

	assert_int_equal(i32(a, "/DeviceInstance"), 1);
	assert_int_equal(i32(b, "/DeviceInstance"), 2);
	assert_str(b, "/Serial", "jkbms_ttyJK2");
	g_variant_unref(a);
	g_variant_unref(b);
	assert_int_equal(child_stop(&svc2), 0);
	sim_stop(&sim2);
	down(w);
}

static void test_without_settings_service(void **state)
{
	struct world *w = up(NULL, "settings_timeout=1\ndevice_instance=7\n", false);

	(void)state;
	GVariant *it = bus_get_items(&w->bus, NAME);

	assert_int_equal(i32(it, "/DeviceInstance"), 7);
	g_variant_unref(it);
	char *log = child_log(&w->svc);

	assert_non_null(strstr(log, "using the configured device instance 7"));
	g_free(log);
	down(w);
}

struct sim_wait {
	struct world *w;
	const char *key;
	double value;
};

static bool sim_is(void *ud)
{
	struct sim_wait *sw = ud;

	return sim_status(&sw->w->sim, sw->key) == sw->value;
}

static double value_of(struct world *w, const char *path)
{
	GVariant *v = bus_get_value(&w->bus, NAME, path);
	double d = g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(v)
		   : g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) ? g_variant_get_int32(v)
								    : NAN;

	g_variant_unref(v);
	return d;
}

struct below {
	struct world *w;
	const char *path;
	double limit;
};

static bool value_below(void *ud)
{
	struct below *b = ud;

	return value_of(b->w, b->path) < b->limit;
}

static bool value_above(void *ud)
{
	struct below *b = ud;

	return value_of(b->w, b->path) > b->limit;
}

/* charge-control.md §8: a high cell and a charger that ignores CCL (and
 * CVL): CVL falls, CCL reaches 0, the charge FET is switched off by a
 * verified write, and everything recovers. */
static void test_charge_control_end_to_end(void **state)
{
	static const char *const sim[] = { "--cells", "8", "--soc", "93", NULL };
	struct world *w = up(sim, NULL, true);
	double cvl0 = value_of(w, "/Info/MaxChargeVoltage");

	(void)state;
	assert_true(fabs(cvl0 - 8 * 3.45) < 0.001);
	assert_true(value_of(w, "/Info/MaxChargeCurrent") > 20);
	sim_cmd(&w->sim, "high 5 240");
	sim_cmd(&w->sim, "load 10");
	sim_cmd(&w->sim, "charger rogue 30");

	struct below cvl_down = { w, "/Info/MaxChargeVoltage", cvl0 - 0.5 };
	struct below ccl_zero = { w, "/Info/MaxChargeCurrent", 0.05 };

	assert_true(loop_until(value_below, &cvl_down, 5000));
	assert_true(loop_until(value_below, &ccl_zero, 5000));
	/* The charger ignores both; the cell keeps rising until the service
	 * switches the charge FET off (OVP - 30 mV for 5 s). */
	struct sim_wait fet_off = { w, "charge_switch", 0 };

	assert_true(loop_until(sim_is, &fet_off, 30000));
	assert_true(sim_status(&w->sim, "max_cell_mv") < 3650); /* the BMS never had to trip */
	assert_int_equal(sim_status(&w->sim, "writes_applied"), 1);
	g_usleep(600000); /* the next poll publishes the FET state */
	GVariant *it = bus_get_items(&w->bus, NAME);

	assert_str(it, "/Info/ChargeLimitation", "Charge FET off by dbus-jkbms");
	assert_int_equal(i32(it, "/System/NrOfModulesBlockingCharge"), 1);
	assert_int_equal(i32(it, "/Io/AllowToCharge"), 0);
	assert_true(i32(it, "/Diagnostics/Link/WritesOk") >= 1);
	assert_int_equal(i32(it, "/Alarms/Contactor"), 0);
	g_variant_unref(it);
	char *log = child_log(&w->svc);

	assert_non_null(strstr(log, "charge FET off: verified after 1 attempt(s)"));
	g_free(log);

	/* Recovery: the rogue charger goes away, the cell comes down; after
	 * 30 s clear the service switches the FET back on, and CVL and CCL
	 * return through their ramps. */
	double cvl_low = value_of(w, "/Info/MaxChargeVoltage");

	sim_cmd(&w->sim, "charger none");
	sim_cmd(&w->sim, "current 0");
	sim_cmd(&w->sim, "high 5 0");
	struct sim_wait fet_on = { w, "charge_switch", 1 };

	assert_true(loop_until(sim_is, &fet_on, 45000));
	struct ccl_wait cw = { w, 0 };

	assert_true(loop_until(ccl_positive, &cw, 10000));
	/* CVL turns back up once the increase has been wanted for a minute. */
	struct below cvl_up = { w, "/Info/MaxChargeVoltage", cvl_low + 0.005 };

	assert_true(loop_until(value_above, &cvl_up, 90000));
	log = child_log(&w->svc);
	assert_non_null(strstr(log, "charge FET on: verified"));
	g_free(log);
	down(w);
}

static void test_force_paths(void **state)
{
	struct world *w = up(NULL, NULL, true);
	struct sim_wait off = { w, "charge_switch", 0 }, on = { w, "charge_switch", 1 };

	(void)state;
	/* Only 0 and 1; anything else is refused with 2 and changes nothing. */
	assert_int_equal(bus_set_value(&w->bus, NAME, "/Settings/ForceChargingOff", g_variant_new_int32(2)), 2);
	assert_int_equal(bus_set_value(&w->bus, NAME, "/Settings/ForceChargingOff", g_variant_new_string("1")), 1);
	GVariant *v = bus_get_value(&w->bus, NAME, "/Settings/ForceChargingOff");

	assert_int_equal(g_variant_get_int32(v), 0);
	g_variant_unref(v);
	assert_int_equal(sim_status(&w->sim, "charge_switch"), 1);
	/* 1: the FET goes off by a verified write and stays off; CCL is 0. */
	assert_int_equal(bus_set_value(&w->bus, NAME, "/Settings/ForceChargingOff", g_variant_new_int32(1)), 0);
	assert_true(loop_until(sim_is, &off, 5000));
	expect_path(w, "/Info/MaxChargeCurrent", 0, 3000);
	assert_int_equal(sim_status(&w->sim, "discharge_switch"), 1);
	/* 0 hands it back to automatic control: not on at once, but after
	 * the 30 s hold with nothing standing against it. */
	assert_int_equal(bus_set_value(&w->bus, NAME, "/Settings/ForceChargingOff", g_variant_new_int32(0)), 0);
	assert_false(loop_until(sim_is, &on, 20000));
	if (!loop_until(sim_is, &on, 20000)) {
		char *log = child_log(&w->svc);

		fail_msg("the FET did not come back on; service log:\n%s", log);
	}
	down(w);
}

static void test_charge_mode_survives_restart(void **state)
{
	static const char *const sim[] = { "--soc", "95", NULL }; /* above rebulk_soc */
	struct world *w = up(sim, NULL, true);
	char *path = g_strdup_printf("%s/state/jkbms_ttyJK.state", w->bus.dir);

	(void)state;
	GVariant *v = bus_get_value(&w->bus, NAME, "/Info/ChargeMode");

	assert_string_equal(g_variant_get_string(v, NULL), "Bulk");
	g_variant_unref(v);
	/* As if the service had been in float when it stopped. */
	assert_int_equal(child_stop(&w->svc), 0);
	char *dir = g_path_get_dirname(path);

	assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
	g_free(dir);
	assert_true(g_file_set_contents(path, "mode=Float\nlast_full=1800000000\n", -1, NULL));
	start_service(w, &w->svc, w->sim.link, "service-restarted");
	assert_true(bus_wait_name(&w->bus, NAME, 8000));
	v = bus_get_value(&w->bus, NAME, "/Info/ChargeMode");
	assert_string_equal(g_variant_get_string(v, NULL), "Float");
	g_variant_unref(v);
	char *log = child_log(&w->svc);

	assert_non_null(strstr(log, "charge state restored"));
	g_free(log);
	g_free(path);
	down(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_paths_and_values, teardown),
		cmocka_unit_test_teardown(test_items_changed, teardown),
		cmocka_unit_test_teardown(test_properties_changed_option, teardown),
		cmocka_unit_test_teardown(test_set_value, teardown),
		cmocka_unit_test_teardown(test_link_loss_and_recovery, teardown),
		cmocka_unit_test_teardown(test_no_bms_no_name, teardown),
		cmocka_unit_test_teardown(test_two_instances, teardown),
		cmocka_unit_test_teardown(test_without_settings_service, teardown),
		cmocka_unit_test_teardown(test_force_paths, teardown),
		cmocka_unit_test_teardown(test_charge_mode_survives_restart, teardown),
		cmocka_unit_test_teardown(test_charge_control_end_to_end, teardown),
	};

	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
