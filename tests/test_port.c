/* SPDX-License-Identifier: MIT */
/*
 * A port with several BMSs: each unit becomes its own battery service, with
 * its own model, limits and bus name (com.victronenergy.battery.<tty>_<addr>),
 * on a private bus; one BMS going silent is lost on its own. The port runs
 * in a thread of its own with the default main context; the test reads the
 * bus with an independent GDBus client (docs/architecture.md "Ports, units
 * and services").
 */
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "dbus_glib.h"
#include "fake_bus.h"
#include "port.h"

#define UNITS 3

struct world {
	struct bus bus;
	struct fake_bus fb;
	struct config cfg;
	struct port_units units;
	DBusConnection *conn;
	struct port *port;
	GMainLoop *loop;
	GThread *thread;
	int exit_code;
	char names[UNITS][160];
};

static void quit_cb(void *ud, int code)
{
	struct world *w = ud;

	w->exit_code = code;
	g_main_loop_quit(w->loop);
}

/* The service side: everything on the default main context, in one thread. */
static gpointer service_thread(gpointer data)
{
	struct world *w = data;
	GMainContext *ctx = g_main_context_default();
	const char *why = NULL;

	g_main_context_acquire(ctx);
	assert_int_equal(fake_bus_open(&w->fb, w->cfg.poll.reply_timeout_ms), 0);
	w->conn = dbus_glib_open_system(&why);
	assert_non_null(w->conn);
	assert_int_equal(port_new(&w->cfg, w->fb.path, &w->units, w->conn, quit_cb, w, &w->port), 0);
	g_main_loop_run(w->loop);
	port_free(w->port);
	dbus_glib_detach(w->conn);
	dbus_connection_close(w->conn);
	dbus_connection_unref(w->conn);
	fake_bus_close(&w->fb);
	g_main_context_release(ctx);
	return NULL;
}

/* One private bus for every test: libdbus learns the system bus's address
 * once per process. */
static struct bus the_bus;

static int bus_up(void **state)
{
	(void)state;
	bus_start(&the_bus);
	return 0;
}

static int bus_down(void **state)
{
	(void)state;
	bus_stop(&the_bus);
	return 0;
}

static struct world *up(void)
{
	struct world *w = g_new0(struct world, 1);

	w->bus = the_bus;
	config_defaults(&w->cfg);
	w->cfg.poll.interval_ms = 300;
	w->cfg.poll.reply_timeout_ms = 200;
	w->cfg.poll.warning_ms = 1000;
	w->cfg.poll.lost_ms = 2000;
	w->cfg.settings_timeout_ms = 300; /* no settings service on this bus */
	snprintf(w->cfg.state_dir, sizeof(w->cfg.state_dir), "%.150s/state", w->bus.dir);
	w->units.driver = &fake_bus_driver;
	w->units.count = UNITS;
	for (unsigned k = 0; k < UNITS; k++)
		w->units.addresses[k] = (uint8_t)(k + 1);
	w->loop = g_main_loop_new(NULL, FALSE);
	w->thread = g_thread_new("port", service_thread, w);
	return w;
}

static void down(struct world *w)
{
	g_main_loop_quit(w->loop);
	g_thread_join(w->thread);
	g_main_loop_unref(w->loop);
	g_free(w);
}

/* Poll without iterating the main context (the service thread owns it). */
static bool wait_for(bool (*cond)(struct world *w, unsigned k), struct world *w, unsigned k, unsigned timeout_ms)
{
	for (unsigned t = 0; t < timeout_ms; t += 100) {
		if (cond(w, k))
			return true;
		g_usleep(100000);
	}
	return cond(w, k);
}

static bool named(struct world *w, unsigned k)
{
	return bus_has_owner(&w->bus, w->names[k]);
}

/* A number unit k's service publishes as `type` (i or d); -1 when invalid
 * or of another type. */
static double number_of(struct world *w, unsigned k, const char *path, const GVariantType *type)
{
	GVariant *v = bus_get_value(&w->bus, w->names[k], path);
	double d = !g_variant_is_of_type(v, type)               ? -1
		: g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) ? g_variant_get_int32(v)
								: g_variant_get_double(v);

	g_variant_unref(v);
	return d;
}

#define INT_OF(w, k, path) number_of(w, k, path, G_VARIANT_TYPE_INT32)
#define DOUBLE_OF(w, k, path) number_of(w, k, path, G_VARIANT_TYPE_DOUBLE)

static bool lost(struct world *w, unsigned k)
{
	return INT_OF(w, k, "/Connected") == 0;
}

/* The tty of the pty the fake bus opened names the services: wait for
 * each. */
static void wait_names(struct world *w)
{
	for (unsigned t = 0; t < 50 && !w->fb.path[0]; t++)
		g_usleep(100000);
	const char *tty = strrchr(w->fb.path, '/') + 1;

	for (unsigned k = 0; k < UNITS; k++) {
		snprintf(w->names[k], sizeof(w->names[k]), "com.victronenergy.battery._%s_%u", tty, k + 1);
		assert_true(wait_for(named, w, k, 8000));
	}
}

static void test_one_service_per_unit(void **state)
{
	struct world *w = up();

	(void)state;
	wait_names(w);
	const char *tty = strrchr(w->fb.path, '/') + 1;

	for (unsigned k = 0; k < UNITS; k++) {
		/* Each its own model: the SoC its BMS reports (50 + address),
		 * its own device instance and limits. */
		assert_true(DOUBLE_OF(w, k, "/Soc") == 51.0 + k);
		assert_int_equal(INT_OF(w, k, "/Connected"), 1);
		assert_true(DOUBLE_OF(w, k, "/Info/MaxChargeVoltage") > 3.0);
		assert_true(DOUBLE_OF(w, k, "/Info/MaxChargeCurrent") > 1.0);
	}
	/* Their unique ids differ (the same pty, no user data: the address). */
	for (unsigned k = 0; k < UNITS; k++) {
		GVariant *items = bus_get_items(&w->bus, w->names[k]);
		GVariant *v = items_value(items, "/Serial");
		char want[64];

		snprintf(want, sizeof(want), "jkbms_%s_%u", tty, k + 1);
		assert_non_null(v);
		assert_string_equal(g_variant_get_string(v, NULL), want);
		g_variant_unref(v);
		g_variant_unref(items);
	}
	/* Address 2 goes silent: its service is lost on its own. */
	w->fb.silent[2] = true;
	assert_true(wait_for(lost, w, 1, 6000));
	assert_int_equal(INT_OF(w, 0, "/Connected"), 1);
	assert_int_equal(INT_OF(w, 2, "/Connected"), 1);
	assert_true(DOUBLE_OF(w, 1, "/Info/MaxChargeCurrent") == 0);
	down(w);
}

static int want_alarm[UNITS];

static bool sensor_alarms_are(struct world *w, unsigned k)
{
	(void)k;
	for (unsigned u = 0; u < UNITS; u++) {
		if (INT_OF(w, u, "/Alarms/BatteryTemperatureSensor") != want_alarm[u])
			return false;
	}
	return true;
}

/* /Alarms/BatteryTemperatureSensor (docs/dbus-paths.md): a family that
 * passes any reading (the 4E 57 codec rejects a frame with an absurd one)
 * and can say a sensor has none. Address 2's T1 reads 120 C, address 3's
 * none: their services warn, address 1's does not; repaired, both clear. */
static void test_temperature_sensor_alarm(void **state)
{
	struct world *w = up();

	(void)state;
	wait_names(w);
	memset(want_alarm, 0, sizeof(want_alarm));
	assert_true(wait_for(sensor_alarms_are, w, 0, 3000));
	w->fb.t1[2] = 120;
	w->fb.t1[3] = FAKE_BUS_T1_MISSING;
	want_alarm[1] = want_alarm[2] = 1;
	assert_true(wait_for(sensor_alarms_are, w, 0, 3000));
	w->fb.t1[2] = 100; /* the edges are readings */
	w->fb.t1[3] = -40;
	want_alarm[1] = want_alarm[2] = 0;
	assert_true(wait_for(sensor_alarms_are, w, 0, 3000));
	w->fb.t1[1] = -41;
	want_alarm[0] = 1;
	assert_true(wait_for(sensor_alarms_are, w, 0, 3000));
	down(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_service_per_unit),
		cmocka_unit_test(test_temperature_sensor_alarm),
	};

	return cmocka_run_group_tests(tests, bus_up, bus_down);
}
