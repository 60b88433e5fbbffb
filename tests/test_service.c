/* SPDX-License-Identifier: MIT */
/*
 * The whole daemon: the real dbus-jkbms binary against jkbms-sim on a real
 * pseudo-terminal, on a private dbus-daemon with the settings stand-in,
 * observed through an independent GDBus client the way Venus OS's
 * consumers see it (docs/dbus-paths.md "Bus names and registration"): its
 * paths and values, GetValue, GetText, errors and introspection, no name
 * without a BMS, two instances, and no settings service. Signals and
 * SetValue are in test_service_signals.c, charge control in
 * test_service_control.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
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

/* Mandatory paths. */
static void check_mandatory_paths(GVariant *it)
{
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
}

/* Measurements against the simulator's state (volts: its pack voltage). */
static void check_measurements(GVariant *it, double volts)
{
	assert_true(fabs(dbl(it, "/Dc/0/Voltage") - volts) < 0.02);
	assert_true(fabs(dbl(it, "/Dc/0/Current") - 12.5) < 0.001);
	assert_true(fabs(dbl(it, "/Dc/0/Power") - volts * 12.5) < 0.7); /* 1 W, and 10 mV x 12.5 A */
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
	/* The ids name a cell that holds the lowest and the highest voltage. */
	for (int m = 0; m < 2; m++) {
		char *id = str(it, m ? "/System/MaxVoltageCellId" : "/System/MinVoltageCellId");
		char p[32];
		int k = 0;

		assert_int_equal(sscanf(id, "C%d", &k), 1);
		g_free(id);
		assert_in_range(k, 1, 8);
		snprintf(p, sizeof(p), "/Voltages/Cell%d", k);
		assert_true(fabs(dbl(it, p) - (m ? vmax : vmin)) < 0.0005);
	}
}

static void check_limits(GVariant *it)
{
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
}

static void check_get_value_and_text(struct world *w)
{
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
}

static void check_errors(struct world *w)
{
	GError *err = NULL;
	GVariant *r;

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
}

static void check_introspection(struct world *w)
{
	GError *err = NULL;
	GVariant *r;
	const char *text;

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

	check_mandatory_paths(it);
	check_measurements(it, volts);
	check_limits(it);
	g_variant_unref(it);
	check_get_value_and_text(w);
	check_errors(w);
	check_introspection(w);
	down(w);
}

static void test_no_bms_no_name(void **state)
{
	struct world *w = g_new0(struct world, 1);
	static const char *const sim[] = { "--fault", "silent", NULL };

	(void)state;
	world_current = w;
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
	world_current = NULL;
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

/* The dbus-daemon goes away (as when it restarts): the service exits 1,
 * saying why, for its supervisor to start it again on the new bus. */
static void test_bus_lost(void **state)
{
	struct world *w = up(NULL, NULL, true);
	char *log;

	(void)state;
	assert_int_equal(kill(w->bus.daemon_pid, SIGTERM), 0);
	for (unsigned t = 0; t < 100 && !child_exited(&w->svc); t++)
		g_usleep(50000);
	assert_true(child_exited(&w->svc));
	log = child_log(&w->svc);
	assert_non_null(strstr(log, "lost the D-Bus connection; exiting for the supervisor to restart us"));
	g_free(log);
	down_code(w, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_paths_and_values, teardown),
		cmocka_unit_test_teardown(test_no_bms_no_name, teardown),
		cmocka_unit_test_teardown(test_two_instances, teardown),
		cmocka_unit_test_teardown(test_without_settings_service, teardown),
		cmocka_unit_test_teardown(test_bus_lost, teardown),
	};

	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
