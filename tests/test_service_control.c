/* SPDX-License-Identifier: MIT */
/*
 * Charge control through the real binary on a private bus
 * (docs/charge-control.md): the loss of the BMS and its recovery, a high
 * cell with a charger that ignores the limits end to end, the force paths,
 * and the charge mode across a restart.
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
#include "test_shard.h"

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
		ok = v && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) &&
			fabs(g_variant_get_double(v) - e->value) < 0.001;
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
	return bus_number(&w->bus, NAME, path);
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

/* docs/charge-control.md "Cell over-voltage control" and "MOSFET control":
 * a high cell and a charger that ignores CCL (and CVL): CVL falls, CCL
 * reaches 0, the charge FET is switched off by a verified write, and
 * everything recovers. */
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

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_link_loss_and_recovery, teardown),
		cmocka_unit_test_teardown(test_force_paths, teardown),
		cmocka_unit_test_teardown(test_charge_mode_survives_restart, teardown),
		cmocka_unit_test_teardown(test_charge_control_end_to_end, teardown),
	};

	return TEST_RUN_SHARD("service_control", tests, argc, argv);
}
