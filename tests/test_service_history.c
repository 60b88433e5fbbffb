/* SPDX-License-Identifier: MIT */
/*
 * The battery's history through the real binary on a private bus
 * (docs/dbus-paths.md "History"), against the simulator: the integrals
 * within bounds computed from the simulator's currents and voltages and the
 * time the test measured, the depth of discharge from its SoC, the extremes,
 * the alarm counts; the history across a SIGTERM restart, what a SIGKILL
 * loses, a corrupt file set aside, and /History/Clear.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "service_world.h"
#include "sim_harness.h"

#define H "/History/"
#define AMPS 300.0 /* the simulator's current in both phases */

static double now_s(void)
{
	return g_get_monotonic_time() / 1e6;
}

static char *history_path(struct world *w)
{
	return g_strdup_printf("%s/state/jkbms_ttyJK.history", w->bus.dir);
}

/* A key of the history file, read with GLib's own parser. */
static double file_value(struct world *w, const char *key)
{
	char *path = history_path(w);
	GKeyFile *kf = g_key_file_new();
	GError *e = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e))
		fail_msg("%s: %s", path, e->message);
	double d = g_key_file_get_double(kf, "history", key, &e);

	if (e)
		fail_msg("%s in %s: %s", key, path, e->message);
	g_key_file_free(kf);
	g_free(path);
	return d;
}

static double value_now(struct world *w, const char *path)
{
	GVariant *items = bus_get_items(&w->bus, NAME);
	double d = dbl(items, path);

	g_variant_unref(items);
	return d;
}

struct wait_int {
	struct world *w;
	const char *path;
	int32_t want;
};

static bool int_is(void *ud)
{
	struct wait_int *x = ud;
	GVariant *v = bus_get_value(&x->w->bus, NAME, x->path);
	bool ok = v && g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) && g_variant_get_int32(v) == x->want;

	if (v)
		g_variant_unref(v);
	return ok;
}

static void wait_int(struct world *w, const char *path, int32_t want)
{
	struct wait_int x = { w, path, want };

	if (!loop_until(int_is, &x, 3000))
		fail_msg("%s never became %d", path, want);
}

static void restart(struct world *w, const char *log)
{
	start_service(w, &w->svc, w->sim.link, log);
	if (!bus_wait_name(&w->bus, NAME, 8000))
		fail_msg("the service did not come back");
	run_for(600); /* a few frames */
}

/* One phase at `amps` for about `secs`: returns the time the test measured
 * between switching the simulator's current on and off, widens vmin and
 * vmax by the pack voltages seen meanwhile, and sets *slack to what the
 * integral may be off by at the two edges, in seconds: the frames are
 * straight lines, so at most one gap between replies at each (the
 * interval from the replies the simulator sent, and their jitter under
 * load or qemu). */
static double phase(struct world *w, double amps, double secs, double *vmin, double *vmax, double *slack)
{
	double t0, t1, replies = sim_status(&w->sim, "replies");

	sim_cmd(&w->sim, "current %.0f", amps);
	t0 = now_s();
	while (now_s() - t0 < secs) {
		double v = sim_status(&w->sim, "voltage_mv") / 1000.0;

		*vmin = v < *vmin ? v : *vmin;
		*vmax = v > *vmax ? v : *vmax;
		run_for(100);
	}
	sim_cmd(&w->sim, "current 0");
	t1 = now_s();
	replies = sim_status(&w->sim, "replies") - replies;
	assert_true(replies >= 4);
	*slack = 2 * (t1 - t0) / replies + 0.1;
	return t1 - t0;
}

/* Between the bounds, or fail naming the value. */
static void within(const char *what, double v, double lo, double hi)
{
	if (!(v >= lo && v <= hi))
		fail_msg("%s = %.6f, want %.6f..%.6f", what, v, lo, hi);
}

static void test_integrals_and_restart(void **state)
{
	/* 60x model time: the SoC moves by 5 Ah a second at 300 A. */
	static const char *const sim[] = { "--speed", "60", "--soc", "60", NULL };
	struct world *w = up(sim, NULL, true);
	double vmin, vmax, dslack, cslack;

	(void)state;
	run_for(500);
	double v0 = sim_status(&w->sim, "voltage_mv") / 1000.0;

	double dmin = v0, dmax = v0, cmin = v0, cmax = v0; /* per phase */
	double dis = phase(w, -AMPS, 3.0, &dmin, &dmax, &dslack);
	run_for(600); /* frames at 0 A: the SoC the service sees stands still */
	double soc_low = sim_status(&w->sim, "reported_soc");
	double chg = phase(w, AMPS, 3.0, &cmin, &cmax, &cslack);

	vmin = dmin < cmin ? dmin : cmin;
	vmax = dmax > cmax ? dmax : cmax;

	run_for(700); /* the last frames at 0 A */
	GVariant *items = bus_get_items(&w->bus, NAME);
	double pub_dis = dbl(items, H "DischargedEnergy"), pub_chg = dbl(items, H "ChargedEnergy");
	double pub_drawn = dbl(items, H "TotalAhDrawn"), pub_deep = dbl(items, H "DeepestDischarge");
	double pub_vmin = dbl(items, H "MinimumVoltage"), pub_vmax = dbl(items, H "MaximumVoltage");
	double pub_cmin = dbl(items, H "MinimumCellVoltage"), pub_cmax = dbl(items, H "MaximumCellVoltage");

	/* Depth of discharge: from the SoC, 280 Ah installed. */
	within("DeepestDischarge", pub_deep, -2.8 * (100 - soc_low) - 0.05, -2.8 * (100 - soc_low) + 0.05);
	assert_true(soc_low <= 57); /* it moved: 60 % at the start */
	assert_true(dbl(items, H "LastDischarge") == pub_deep);
	assert_true(invalid(items, H "AverageDischarge")); /* no full charge yet */
	assert_true(invalid(items, H "TimeSinceLastFullCharge"));
	within("MinimumVoltage", pub_vmin, vmin - 0.3, vmin + 0.02);
	within("MaximumVoltage", pub_vmax, vmax - 0.02, vmax + 0.3);
	assert_true(pub_cmin * 16 <= pub_vmin + 0.02 && pub_cmax * 16 >= pub_vmax - 0.02);
	assert_int_equal(i32(items, H "FullDischarges"), 0);
	assert_true(dbl(items, H "MinimumTemperature") <= dbl(items, H "MaximumTemperature"));
	g_variant_unref(items);
	/* SIGTERM writes the file; its values are exact. */
	assert_int_equal(child_stop(&w->svc), 0);
	double f_dis = file_value(w, "discharged_wh"), f_chg = file_value(w, "charged_wh");
	double f_drawn = file_value(w, "drawn_ah");

	within("discharged_wh", f_dis, dmin * AMPS * (dis - dslack) / 3600, dmax * AMPS * (dis + dslack) / 3600);
	within("charged_wh", f_chg, cmin * AMPS * (chg - cslack) / 3600, cmax * AMPS * (chg + cslack) / 3600);
	within("drawn_ah", f_drawn, AMPS * (dis - dslack) / 3600, AMPS * (dis + dslack) / 3600);
	/* Energy over charge out is the mean voltage, whatever the timing. */
	within("discharged_wh / drawn_ah", f_dis / f_drawn, dmin - 0.02, dmax + 0.02);
	/* The bus showed the same, at its resolution, with Venus's signs. */
	assert_true(fabs(pub_dis - f_dis / 1000) <= 0.005 + 1e-9);
	assert_true(fabs(pub_chg - f_chg / 1000) <= 0.005 + 1e-9);
	assert_true(fabs(pub_drawn + f_drawn) <= 0.05 + 1e-9);
	/* Started again, it carries on from there. */
	restart(w, "service-restarted");
	items = bus_get_items(&w->bus, NAME);
	assert_true(dbl(items, H "DischargedEnergy") == pub_dis);
	assert_true(dbl(items, H "ChargedEnergy") == pub_chg);
	assert_true(dbl(items, H "TotalAhDrawn") == pub_drawn);
	assert_true(dbl(items, H "DeepestDischarge") == pub_deep);
	assert_true(dbl(items, H "MinimumVoltage") == pub_vmin);
	assert_true(dbl(items, H "MaximumCellVoltage") == pub_cmax);
	g_variant_unref(items);
	char *log = child_log(&w->svc);

	assert_non_null(strstr(log, "history restored from"));
	g_free(log);
	down(w);
}

static void test_sigkill_and_corrupt_file(void **state)
{
	static const char *const sim[] = { "--current", "-300", NULL };
	struct world *w = up(sim, NULL, true);
	char *path = history_path(w);
	gchar *first = NULL, *later = NULL;

	(void)state;
	/* The first change is written at once, the next ones a minute on. */
	assert_true(g_file_get_contents(path, &first, NULL, NULL));
	double written = file_value(w, "drawn_ah");

	run_for(1500);
	sim_cmd(&w->sim, "current 0");
	run_for(500);
	double shown = -value_now(w, H "TotalAhDrawn");

	assert_true(shown >= written + 300 * 1.2 / 3600 - 0.05); /* at least 1.2 s more at 300 A */
	assert_true(g_file_get_contents(path, &later, NULL, NULL));
	assert_string_equal(first, later); /* not written again within the minute */
	/* SIGKILL: what came after the last write is lost, nothing more. */
	kill(w->svc.pid, SIGKILL);
	child_stop(&w->svc);
	restart(w, "service-after-kill");
	assert_true(fabs(-value_now(w, H "TotalAhDrawn") - written) <= 0.05 + 1e-9);
	/* A corrupt file is set aside with a warning, never read. */
	assert_int_equal(child_stop(&w->svc), 0);
	assert_true(
		g_file_set_contents(path, "[battery]\nuid=jkbms_ttyJK\nversion=1\n[history]\ndrawn_ah=99", -1, NULL));
	restart(w, "service-corrupt");
	char *log = child_log(&w->svc);

	if (!strstr(log, "not trusted (checksum missing or wrong") || !strstr(log, "set aside as"))
		fail_msg("no warning about the corrupt file:\n%s", log);
	g_free(log);
	gchar *bad = g_strconcat(path, ".bad", NULL), *kept = NULL;

	assert_true(g_file_get_contents(bad, &kept, NULL, NULL));
	assert_non_null(strstr(kept, "drawn_ah=99"));
	assert_true(value_now(w, H "TotalAhDrawn") == 0); /* an empty history, at 0 A */
	assert_true(file_value(w, "drawn_ah") == 0);      /* and a good file again */
	g_free(kept);
	g_free(bad);
	g_free(first);
	g_free(later);
	g_free(path);
	down(w);
}

static int set_value(struct world *w, GVariant *v)
{
	return bus_set_value(&w->bus, NAME, H "Clear", v);
}

static void count_alarms(struct world *w);
static void clear_history(struct world *w);

static void test_alarms_full_charge_and_clear(void **state)
{
	static const char *const sim[] = { "--soc", "95", NULL };
	struct world *w = up(sim, NULL, true);
	char *path = history_path(w);
	char *state_file = g_strdup_printf("%s/state/jkbms_ttyJK.state", w->bus.dir);
	int64_t wall = g_get_real_time() / 1000000;

	(void)state;
	/* The charge state knows a full charge an hour ago and there is no
	 * history file yet: the history takes it from there. */
	assert_int_equal(child_stop(&w->svc), 0);
	gchar *text = g_strdup_printf("mode=Float\nlast_full=%lld\n", (long long)(wall - 3600));

	assert_true(g_file_set_contents(state_file, text, -1, NULL));
	assert_int_equal(unlink(path), 0);
	restart(w, "service-state");
	GVariant *items = bus_get_items(&w->bus, NAME);
	int32_t since = i32(items, H "TimeSinceLastFullCharge");

	within("TimeSinceLastFullCharge", since, 3540, 3660);
	assert_int_equal(since % 60, 0);
	assert_int_equal(i32(items, H "Clear"), 0);
	g_variant_unref(items);
	count_alarms(w);
	clear_history(w);
	/* The clear survives a restart. */
	assert_int_equal(child_stop(&w->svc), 0);
	restart(w, "service-restarted");
	items = bus_get_items(&w->bus, NAME);
	assert_int_equal(i32(items, H "LowVoltageAlarms"), 0);
	assert_true(invalid(items, H "TimeSinceLastFullCharge"));
	g_variant_unref(items);
	g_free(text);
	g_free(state_file);
	g_free(path);
	down(w);
}

/* Raises of the low- and high-voltage alarms, each counted once. */
static void count_alarms(struct world *w)
{
	sim_cmd(&w->sim, "alarm 0x808"); /* pack and cell under-voltage: one event */
	wait_int(w, "/Alarms/LowVoltage", 2);
	sim_cmd(&w->sim, "alarm 0");
	wait_int(w, "/Alarms/LowVoltage", 0);
	wait_int(w, "/Alarms/LowCellVoltage", 0);
	sim_cmd(&w->sim, "alarm 0x800");
	wait_int(w, "/Alarms/LowCellVoltage", 2);
	sim_cmd(&w->sim, "alarm 0x4");
	wait_int(w, "/Alarms/HighVoltage", 2);
	GVariant *items = bus_get_items(&w->bus, NAME);

	assert_int_equal(i32(items, H "LowVoltageAlarms"), 2);
	assert_int_equal(i32(items, H "HighVoltageAlarms"), 1);
	g_variant_unref(items);
}

/* Refused writes change nothing; 1 clears. */
static void clear_history(struct world *w)
{
	GVariant *items;

	/* Refused writes change nothing. */
	assert_int_equal(set_value(w, g_variant_new_int32(0)), 2);
	assert_int_equal(set_value(w, g_variant_new_int32(2)), 2);
	assert_int_equal(set_value(w, g_variant_new_double(1.5)), 1);
	assert_int_equal(set_value(w, g_variant_new_string("1")), 1);
	items = bus_get_items(&w->bus, NAME);
	assert_int_equal(i32(items, H "LowVoltageAlarms"), 2);
	assert_false(invalid(items, H "TimeSinceLastFullCharge"));
	g_variant_unref(items);
	/* 1 clears; the path stays 0; a raised alarm is not counted again. */
	assert_int_equal(set_value(w, g_variant_new_int32(1)), 0);
	items = bus_get_items(&w->bus, NAME);
	assert_int_equal(i32(items, H "Clear"), 0);
	assert_int_equal(i32(items, H "LowVoltageAlarms"), 0);
	assert_int_equal(i32(items, H "HighVoltageAlarms"), 0);
	assert_true(invalid(items, H "TimeSinceLastFullCharge"));
	assert_true(invalid(items, H "MinimumCellVoltage"));
	assert_true(dbl(items, H "TotalAhDrawn") == 0 && dbl(items, H "ChargedEnergy") == 0);
	g_variant_unref(items);
	run_for(1000);
	items = bus_get_items(&w->bus, NAME);
	assert_int_equal(i32(items, H "HighVoltageAlarms"), 0);
	assert_true(dbl(items, H "MaximumCellVoltage") > 3); /* the extremes start again */
	assert_true(dbl(items, H "LastDischarge") == -14.0); /* 5 % of 280 Ah */
	g_variant_unref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_integrals_and_restart, teardown),
		cmocka_unit_test_teardown(test_sigkill_and_corrupt_file, teardown),
		cmocka_unit_test_teardown(test_alarms_full_charge_and_clear, teardown),
	};

	return cmocka_run_group_tests_name("service_history", tests, NULL, NULL);
}
