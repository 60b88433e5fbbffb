/* SPDX-License-Identifier: MIT */
/*
 * JK PB end to end against the simulator: the real dbus-jkbms on a private
 * bus, `jkbms-sim --protocol pb --packs N` on a real pseudo-terminal, the
 * values compared with what the simulator says it sends. Three packs with
 * one going silent and one charging; one pack whose device disappears and
 * comes back, and whose adapter then spews garbage.
 */
#include <glib.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "sim_harness.h"

static const char *const config = "[jkbms]\npoll_interval=0.5\nreply_timeout=0.3\nlink_warning=1\nlink_lost=2\n"
				  "settings_timeout=0.3\npb_addresses=1-4\n";

struct world {
	struct bus bus;
	struct simproc sim;
	struct child svc;
	char config[400];
};

static struct world *current;

static struct world *up(const char *const *sim_args)
{
	struct world *w = g_new0(struct world, 1);

	current = w;
	bus_start(&w->bus);
	sim_start(&w->sim, sim_args);
	config_write(&w->bus, w->config, sizeof(w->config), config, NULL);
	service_spawn(&w->svc, &w->bus, "service", w->sim.link, w->config);
	return w;
}

static void down(struct world *w)
{
	current = NULL;
	assert_int_equal(child_stop_verbose(&w->svc), 0);
	sim_stop(&w->sim);
	bus_stop(&w->bus);
	g_free(w);
}

static int teardown(void **state)
{
	struct world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;
	child_stop(&w->svc);
	sim_stop(&w->sim);
	bus_stop(&w->bus);
	return 0;
}

static void wait_name(struct world *w, const char *name)
{
	wait_name_or_fail(&w->bus, &w->svc, name, 10000);
}

static double num(struct world *w, const char *name, const char *path)
{
	return bus_number(&w->bus, name, path);
}

/* A field of the simulator's "pack ADDR status" line. */
static double pack_status(struct world *w, unsigned addr, const char *key)
{
	const char *line = sim_cmd(&w->sim, "pack %u status", addr);
	char pat[48];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		fail_msg("no %s in '%s'", key, line);
	return atof(p + strlen(pat));
}

static const char *const names[] = { NULL, "com.victronenergy.battery.ttyJK_1", "com.victronenergy.battery.ttyJK_2",
				     "com.victronenergy.battery.ttyJK_3" };

static void test_three_packs(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "3", NULL };
	struct world *w = up(args);
	char *serials[4] = { 0 };
	double settings[4] = { 0 };

	(void)state;
	for (unsigned a = 1; a <= 3; a++)
		wait_name(w, names[a]);
	for (unsigned a = 1; a <= 3; a++) {
		GVariant *v = bus_get_value(&w->bus, names[a], "/Serial");

		bus_wait_number(&w->bus, names[a], "/Soc", pack_status(w, a, "reported_soc"), 0.5, 3000);
		assert_int_equal(num(w, names[a], "/Connected"), 1);
		assert_true(fabs(num(w, names[a], "/System/MaxCellVoltage") -
				 pack_status(w, a, "max_cell_mv") / 1000.0) < 0.02);
		assert_true(fabs(num(w, names[a], "/System/Temperature1") - pack_status(w, a, "temp_t1")) <= 1.0);
		assert_true(num(w, names[a], "/Info/MaxChargeCurrent") > 0);
		/* Read (a request that timed out under load is repeated). */
		assert_true(pack_status(w, a, "settings") >= 1 && pack_status(w, a, "info") >= 1);
		settings[a] = pack_status(w, a, "settings");
		serials[a] = g_variant_dup_string(v, NULL);
		g_variant_unref(v);
		assert_true(g_str_has_prefix(serials[a], "jkbms_"));
	}
	/* Unique ids from the packs' serial numbers: all different. */
	assert_string_not_equal(serials[1], serials[2]);
	assert_string_not_equal(serials[2], serials[3]);
	for (unsigned a = 1; a <= 3; a++)
		g_free(serials[a]);
	/* Pack 3 charges at 12 A: only its service shows it. */
	sim_cmd(&w->sim, "pack 3 current 12");
	bus_wait_number(&w->bus, names[3], "/Dc/0/Current", 12, 0.2, 4000);
	assert_true(fabs(num(w, names[1], "/Dc/0/Current")) < 0.2);
	/* Polled all along, the setup was not read again. */
	assert_true(pack_status(w, 1, "settings") == settings[1] && pack_status(w, 3, "settings") == settings[3]);
	/* Pack 2 goes silent: lost on its own, then back. */
	sim_cmd(&w->sim, "pack 2 fault silent");
	bus_wait_number(&w->bus, names[2], "/Connected", 0, 0, 6000);
	assert_int_equal(num(w, names[1], "/Connected"), 1);
	assert_int_equal(num(w, names[3], "/Connected"), 1);
	assert_int_equal(num(w, names[2], "/Info/MaxChargeCurrent"), 0);
	sim_cmd(&w->sim, "pack 2 fault none");
	bus_wait_number(&w->bus, names[2], "/Connected", 1, 0, 6000);
	assert_true(pack_status(w, 2, "settings") >= 2); /* read again after the loss */
	down(w);
}

static void test_one_pack_reconnect_garbage(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "1", "--fault", "pad", NULL };
	const char *name = "com.victronenergy.battery.ttyJK";
	struct world *w = up(args);
	char *log;

	(void)state;
	wait_name(w, name);
	bus_wait_number(&w->bus, name, "/Soc", pack_status(w, 1, "reported_soc"), 0.5, 3000);
	/* The device disappears for 1.5 s: lost, reopened, the setup read again. */
	sim_cmd(&w->sim, "disconnect 1.5");
	bus_wait_number(&w->bus, name, "/Connected", 0, 0, 6000);
	bus_wait_number(&w->bus, name, "/Connected", 1, 0, 8000);
	assert_true(pack_status(w, 1, "settings") >= 2);
	log = child_log(&w->svc);
	assert_non_null(strstr(log, "device back"));
	g_free(log);
	/* An adapter spewing garbage: no frame, the link is lost, and nothing
	 * wrong is published; clean again, it recovers. */
	sim_cmd(&w->sim, "fault garbage");
	bus_wait_number(&w->bus, name, "/Connected", 0, 0, 6000);
	assert_int_equal(num(w, name, "/Info/MaxChargeCurrent"), 0);
	sim_cmd(&w->sim, "fault none");
	bus_wait_number(&w->bus, name, "/Connected", 1, 0, 6000);
	bus_wait_number(&w->bus, name, "/Soc", pack_status(w, 1, "reported_soc"), 0.5, 3000);
	down(w);
}

/* Two parts, so that ctest can run them side by side: "bus" and "faults";
 * no argument: both. */
int main(int argc, char **argv)
{
	const struct CMUnitTest bus[] = {
		cmocka_unit_test_teardown(test_three_packs, teardown),
	};
	const struct CMUnitTest faults[] = {
		cmocka_unit_test_teardown(test_one_pack_reconnect_garbage, teardown),
	};
	const char *part = argc > 1 ? argv[1] : "";
	int r = 0;

	if (!*part || strcmp(part, "bus") == 0)
		r |= cmocka_run_group_tests_name("bus", bus, NULL, NULL);
	if (!*part || strcmp(part, "faults") == 0)
		r |= cmocka_run_group_tests_name("faults", faults, NULL, NULL);
	return r;
}
