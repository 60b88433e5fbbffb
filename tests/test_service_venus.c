/* SPDX-License-Identifier: MIT */
/*
 * What a Venus OS user sees, through the real binary against jkbms-sim on a
 * private bus (docs/dbus-paths.md): every double at its path's resolution
 * and nothing longer over a sweep of values, /State and /ErrorCode as one
 * story, the midpoint, the temperature-sensor alarm, and a device id
 * padded with underscores kept as the user typed it.
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

/* GetItems once the double at path lies in [lo, hi] (or, with lo > hi, is
 * invalid); the test fails after timeout_ms. Unref the result. */
static GVariant *items_once(struct world *w, const char *path, double lo, double hi, unsigned timeout_ms)
{
	for (unsigned t = 0;; t += 50) {
		GVariant *it = bus_get_items(&w->bus, NAME);
		GVariant *v = items_value(it, path);
		bool ok = lo > hi ? v && value_is_invalid(v)
				  : v && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) &&
				g_variant_get_double(v) >= lo && g_variant_get_double(v) <= hi;

		if (v)
			g_variant_unref(v);
		if (ok)
			return it;
		g_variant_unref(it);
		if (t >= timeout_ms)
			fail_msg("%s did not reach [%g, %g] in %u ms", path, lo, hi, timeout_ms);
		run_for(50);
	}
}

/* ---- clean numbers ---------------------------------------------------------- */

/* The resolution of each double path, in decimal places, written here
 * from docs/dbus-paths.md "Resolutions" (not from the service's table). */
static const struct {
	const char *path; /* a prefix where it ends in '/' or "Cell" */
	int decimals;
} resolutions[] = {
	{ "/Dc/0/Voltage", 2 },
	{ "/Dc/0/Current", 1 },
	{ "/Dc/0/Power", 0 },
	{ "/Dc/0/Temperature", 1 },
	{ "/Dc/0/MidVoltage", 2 },
	{ "/Dc/0/MidVoltageDeviation", 1 },
	{ "/Soc", 1 },
	{ "/Soh", 1 },
	{ "/Capacity", 1 },
	{ "/InstalledCapacity", 1 },
	{ "/ConsumedAmphours", 1 },
	{ "/TimeToGo", 0 },
	{ "/System/MinCellVoltage", 3 },
	{ "/System/MaxCellVoltage", 3 },
	{ "/System/MinCellTemperature", 1 },
	{ "/System/MaxCellTemperature", 1 },
	{ "/System/MOSTemperature", 1 },
	{ "/System/Temperature1", 1 },
	{ "/System/Temperature2", 1 },
	{ "/Voltages/Cell", 3 },
	{ "/Voltages/Sum", 3 },
	{ "/Voltages/Diff", 3 },
	{ "/Info/MaxChargeVoltage", 2 },
	{ "/Info/MaxChargeCurrent", 1 },
	{ "/Info/MaxDischargeCurrent", 1 },
	{ "/Info/BatteryLowVoltage", 2 },
	{ "/History/TotalAhCharged", 1 },
	{ "/History/MinimumCellVoltage", 3 },
	{ "/History/MaximumCellVoltage", 3 },
	{ "/History/MinimumVoltage", 2 },
	{ "/History/MaximumVoltage", 2 },
	{ "/History/MinimumTemperature", 1 },
	{ "/History/MaximumTemperature", 1 },
	{ "/History/TotalAhDrawn", 1 },
	{ "/History/DeepestDischarge", 1 },
	{ "/History/LastDischarge", 1 },
	{ "/History/AverageDischarge", 1 },
	{ "/History/ChargedEnergy", 2 },
	{ "/History/DischargedEnergy", 2 },
};

/* Decimal places of a path's value: the table, else (a double path this
 * test does not know yet) the places its text shows. */
static int path_decimals(const char *path, const char *text)
{
	for (size_t k = 0; k < sizeof(resolutions) / sizeof(resolutions[0]); k++) {
		const char *p = resolutions[k].path;
		size_t n = strlen(p);

		if (strcmp(path, p) == 0 || (strcmp(p, "/Voltages/Cell") == 0 && strncmp(path, p, n) == 0))
			return resolutions[k].decimals;
	}
	const char *dot = text ? strchr(text, '.') : NULL;
	int d = 0;

	if (!text || !strpbrk(text, "0123456789"))
		fail_msg("double path %s has no resolution in this test and no number in its text", path);
	while (dot && dot[1 + d] >= '0' && dot[1 + d] <= '9')
		d++;
	return d;
}

/* The shortest decimal that reads back as v (what JSON and Python print),
 * and its decimal places. */
static int shortest_decimals(double v, char *out, size_t n)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(out, n, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			break;
	}
	const char *e = strpbrk(out, "eE");
	const char *dot = strchr(out, '.');
	int places = 0;

	if (dot)
		places = (int)((e ? e : out + strlen(out)) - dot - 1);
	if (e)
		places -= atoi(e + 1);
	return places < 0 ? 0 : places;
}

struct sweep {
	GHashTable *seen;     /* "path=value" checked */
	GHashTable *per_path; /* path -> number of distinct values */
};

static void check_double(struct sweep *sw, const char *path, GVariant *value, const char *text)
{
	char s[40], *key;
	int have, want;

	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		return;
	have = shortest_decimals(g_variant_get_double(value), s, sizeof(s));
	want = path_decimals(path, text);
	if (have > want)
		fail_msg("%s = %s (text '%s'): %d decimal places, its resolution has %d", path, s, text, have, want);
	key = g_strdup_printf("%s=%s", path, s);
	if (g_hash_table_add(sw->seen, key)) {
		gpointer n = g_hash_table_lookup(sw->per_path, path);

		g_hash_table_replace(sw->per_path, g_strdup(path), GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
	}
}

/* Every double of an a{sa{sv}} (GetItems or ItemsChanged). */
static void check_items(struct sweep *sw, GVariant *items)
{
	GVariantIter iter;
	const char *path;
	GVariant *d;

	g_variant_iter_init(&iter, items);
	while (g_variant_iter_next(&iter, "{&s@a{sv}}", &path, &d)) {
		GVariant *v = g_variant_lookup_value(d, "Value", NULL);
		GVariant *t = g_variant_lookup_value(d, "Text", G_VARIANT_TYPE_STRING);

		assert_non_null(v);
		check_double(sw, path, v, t ? g_variant_get_string(t, NULL) : NULL);
		g_variant_unref(v);
		if (t)
			g_variant_unref(t);
		g_variant_unref(d);
	}
}

static unsigned distinct(struct sweep *sw, const char *path)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(sw->per_path, path));
}

/* Awkward numbers: each step sets a SoC, a current, a temperature (first
 * down into the cold derating of charging, 5..10 C with the simulator's
 * settings), a high cell (a falling CVL), then takes a poll or two. */
static const struct {
	int soc;
	double current, t1, high_mv;
} steps[] = {
	{ 57, 3.8, 20, 0 },    { 1, -12.34, 9, 0 },    { 3, 0.07, 8, 0 },      { 7, 1.1, 7, 0 },
	{ 11, -0.3, 6, 0 },    { 23, 17.77, 21, 200 }, { 29, -33.33, 3, 230 }, { 41, 0.01, 2, 260 },
	{ 59, -1.9, 1, 290 },  { 67, 7.3, 44, 320 },   { 73, -4.6, 25, 340 },  { 87, 13.13, 30, 20 },
	{ 99, -0.09, 35, 10 }, { 100, 2.2, 20, 0 },
};

static void test_clean_numbers(void **state)
{
	/* 15 cells: an odd count for the midpoint too. */
	static const char *const sim[] = { "--cells", "15", "--soc", "57", NULL };
	struct world *w = up(sim, NULL, true);
	struct sweep sw = {
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
	};

	(void)state;
	check_items(&sw, w->items_at_name);
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		sim_cmd(&w->sim, "soc %d", steps[k].soc);
		sim_cmd(&w->sim, "current %.2f", steps[k].current);
		sim_cmd(&w->sim, "temp t1 %.0f", steps[k].t1);
		sim_cmd(&w->sim, "temp mosfet %.0f", steps[k].t1 + 10);
		sim_cmd(&w->sim, "high 4 %.0f", steps[k].high_mv);
		/* A reply with this step's values has been published. */
		GVariant *items = items_once(w, "/Soc", steps[k].soc - 1, steps[k].soc, 3000);

		check_items(&sw, items);
		g_variant_unref(items);
	}
	for (guint k = 0; k < w->changes->len; k++)
		check_items(&sw, g_ptr_array_index(w->changes, k));
	if (getenv("SWEEP_DEBUG")) {
		GHashTableIter hi;
		gpointer key;

		g_hash_table_iter_init(&hi, sw.seen);
		while (g_hash_table_iter_next(&hi, &key, NULL))
			print_message("%s\n", (char *)key);
	}
	/* The sweep swept: many values of the paths the issue names. */
	assert_true(distinct(&sw, "/Capacity") >= 10);
	assert_true(distinct(&sw, "/ConsumedAmphours") >= 10);
	assert_true(distinct(&sw, "/Dc/0/Current") >= 10);
	assert_true(distinct(&sw, "/Dc/0/Power") >= 10);
	assert_true(distinct(&sw, "/Info/MaxChargeCurrent") >= 3);
	assert_true(distinct(&sw, "/Info/MaxChargeVoltage") >= 2);
	assert_true(distinct(&sw, "/Dc/0/MidVoltageDeviation") >= 3);
	assert_true(distinct(&sw, "/Voltages/Cell4") >= 5);
	print_message("checked %u distinct values of %u double paths\n", g_hash_table_size(sw.seen),
		      g_hash_table_size(sw.per_path));
	g_hash_table_destroy(sw.seen);
	g_hash_table_destroy(sw.per_path);
	down(w);
}

/* ---- /State and /ErrorCode ---------------------------------------------------- */

struct status {
	struct world *w;
	int32_t state, error;
	guint applied;
};

/* Apply the signals that arrived since the last call, asserting after
 * each that the pair is one of the three a user may see. */
static void follow(struct status *st)
{
	for (; st->applied < st->w->changes->len; st->applied++) {
		GVariant *ch = g_ptr_array_index(st->w->changes, st->applied);
		GVariant *s = g_variant_lookup_value(ch, "/State", NULL);
		GVariant *e = g_variant_lookup_value(ch, "/ErrorCode", NULL);

		if (s) {
			GVariant *v = g_variant_lookup_value(s, "Value", G_VARIANT_TYPE_INT32);

			st->state = g_variant_get_int32(v);
			g_variant_unref(v);
			g_variant_unref(s);
		}
		if (e) {
			GVariant *v = g_variant_lookup_value(e, "Value", G_VARIANT_TYPE_INT32);

			st->error = g_variant_get_int32(v);
			g_variant_unref(v);
			g_variant_unref(e);
		}
		bool ok = (st->state == 9 && st->error == 0) || (st->state == 10 && st->error == 23) ||
			(st->state == 10 && st->error == 7);

		if (!ok)
			fail_msg("/State %d with /ErrorCode %d after signal %u", st->state, st->error, st->applied);
	}
}

static struct status *status_now;

static bool status_is(void *ud)
{
	const int32_t *want = ud;

	follow(status_now);
	return status_now->state == want[0] && status_now->error == want[1];
}

static void expect_status(struct status *st, int32_t state, int32_t error, unsigned timeout_ms)
{
	int32_t want[2] = { state, error };

	status_now = st;
	if (!loop_until(status_is, want, timeout_ms))
		fail_msg("want /State %d /ErrorCode %d, have %d %d", state, error, st->state, st->error);
	/* GetItems agrees. */
	GVariant *it = bus_get_items(&st->w->bus, NAME);

	assert_int_equal(i32(it, "/State"), state);
	assert_int_equal(i32(it, "/ErrorCode"), error);
	g_variant_unref(it);
}

static void test_state_and_error_code(void **state)
{
	static const char *const sim[] = { "--cells", "8", NULL };
	struct world *w = up(sim, NULL, true);
	struct status st = { w, 0, 0, 0 };

	(void)state;
	st.state = i32(w->items_at_name, "/State");
	st.error = i32(w->items_at_name, "/ErrorCode");
	assert_int_equal(st.state, 9);
	assert_int_equal(st.error, 0);
	g_ptr_array_set_size(w->changes, 0);
	/* A cell the BMS does not measure: "Battery measure error". */
	sim_cmd(&w->sim, "unmeasured 3");
	expect_status(&st, 10, 7, 3000);
	/* The link lost (2 s in the test configuration): "Battery comm. error". */
	sim_cmd(&w->sim, "fault silent");
	expect_status(&st, 10, 23, 5000);
	/* Back, the cell still unmeasured. */
	sim_cmd(&w->sim, "fault none");
	expect_status(&st, 10, 7, 5000);
	/* Measured again: running, no error. */
	sim_cmd(&w->sim, "unmeasured 0");
	expect_status(&st, 9, 0, 3000);
	/* Lost and back with every cell measured. */
	sim_cmd(&w->sim, "fault silent");
	expect_status(&st, 10, 23, 5000);
	sim_cmd(&w->sim, "fault none");
	expect_status(&st, 9, 0, 5000);
	run_for(300);
	follow(&st);
	down(w);
}

/* ---- the midpoint ---------------------------------------------------------------- */

/* The midpoint from the published cells, as docs/dbus-paths.md defines it:
 * the lower half, with an odd count half the middle cell; the deviation
 * 100 x (upper - lower) / all. */
static void expected_mid(GVariant *it, int n, double *mid, double *dev)
{
	double lower = 0, all = 0;

	for (int k = 1; k <= n; k++) {
		char p[32];

		snprintf(p, sizeof(p), "/Voltages/Cell%d", k);
		double c = dbl(it, p);

		all += c;
		if (k <= n / 2)
			lower += c;
		else if (n % 2 && k == n / 2 + 1)
			lower += c / 2;
	}
	*mid = lower;
	*dev = 100 * ((all - lower) - lower) / all;
}

static bool mid_matches(GVariant *it, int n)
{
	double mid, dev;

	expected_mid(it, n, &mid, &dev);
	return fabs(dbl(it, "/Dc/0/MidVoltage") - mid) <= 0.0051 &&
		fabs(dbl(it, "/Dc/0/MidVoltageDeviation") - dev) <= 0.051;
}

static void check_midpoint(const char *cells)
{
	const char *const sim[] = { "--cells", cells, NULL };
	struct world *w = up(sim, NULL, true);
	int n = atoi(cells);
	GVariant *it;

	/* Balanced: the midpoint is half the pack, the deviation about 0. */
	it = bus_get_items(&w->bus, NAME);
	assert_true(mid_matches(it, n));
	assert_true(fabs(dbl(it, "/Dc/0/MidVoltage") - dbl(it, "/Voltages/Sum") / 2) < 0.01);
	assert_true(fabs(dbl(it, "/Dc/0/MidVoltageDeviation")) < 0.2);
	g_variant_unref(it);
	/* A high cell in the lower half: the lower half is higher, the
	 * deviation negative; in the upper half, positive. */
	sim_cmd(&w->sim, "high 1 300");
	it = items_once(w, "/Dc/0/MidVoltageDeviation", -100, -0.5, 3000);
	assert_true(mid_matches(it, n));
	g_variant_unref(it);
	sim_cmd(&w->sim, "high 1 0");
	sim_cmd(&w->sim, "high %d 300", n);
	it = items_once(w, "/Dc/0/MidVoltageDeviation", 0.5, 100, 3000);
	assert_true(mid_matches(it, n));
	g_variant_unref(it);
	/* A cell not measured: no midpoint can be told. */
	sim_cmd(&w->sim, "unmeasured 2");
	it = items_once(w, "/Dc/0/MidVoltage", 1, 0, 3000);
	assert_true(invalid(it, "/Dc/0/MidVoltage"));
	assert_true(invalid(it, "/Dc/0/MidVoltageDeviation"));
	g_variant_unref(it);
	down(w);
}

static void test_midpoint_even(void **state)
{
	(void)state;
	check_midpoint("8");
}

static void test_midpoint_odd(void **state)
{
	(void)state;
	check_midpoint("15");
}

/* ---- temperature sensors and the device id ---------------------------------------- */

static void test_sensor_alarm_and_device_id(void **state)
{
	/* 0xB4 typed with two trailing underscores, the user data (0xBA) left
	 * at the factory default: the device id names the unit. */
	static const char *const sim[] = { "--device-id", "Armins__", NULL };
	struct world *w = up(sim, NULL, true);

	(void)state;
	assert_str(w->items_at_name, "/Serial", "jkbms_Armins__");
	/* The settings keep it under that id too. */
	GVariant *v = bus_get_value(&w->bus, "com.victronenergy.settings",
				    "/Settings/Devices/jkbms_Armins__/ClassAndVrmInstance");

	assert_string_equal(g_variant_get_string(v, NULL), "battery:1");
	g_variant_unref(v);
	/* Both sensors the BMS reports (0x86 = 2) read sensibly. */
	assert_int_equal(i32(w->items_at_name, "/Alarms/BatteryTemperatureSensor"), 0);
	sim_cmd(&w->sim, "temp t2 -40");
	sim_cmd(&w->sim, "temp t1 99");
	GVariant *it = items_once(w, "/System/Temperature1", 99, 99, 3000);

	assert_true(fabs(dbl(it, "/System/Temperature2") + 40) < 0.01);
	assert_int_equal(i32(it, "/Alarms/BatteryTemperatureSensor"), 0);
	g_variant_unref(it);
	down(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_clean_numbers, teardown),
		cmocka_unit_test_teardown(test_state_and_error_code, teardown),
		cmocka_unit_test_teardown(test_midpoint_even, teardown),
		cmocka_unit_test_teardown(test_midpoint_odd, teardown),
		cmocka_unit_test_teardown(test_sensor_alarm_and_device_id, teardown),
	};

	return cmocka_run_group_tests_name("service_venus", tests, NULL, NULL);
}
