/* SPDX-License-Identifier: MIT */
/*
 * The bank of parallel packs (docs/bank.md) with the real binaries on a
 * private dbus-daemon: three simulated 4E 57 packs (different SoC and
 * capacity, one with a high cell), three member services, the settings
 * stand-in and dbus-jkbms --bank, observed through GDBus. The bank's values
 * and limits are checked against what the members publish at that moment.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service_world.h"

#define BANK "com.victronenergy.battery.jkbank"
#define PACKS 3

static const char *const config_text =
	"[jkbms]\nbank=true\nbank_packs=3\npoll_interval=0.25\nreply_timeout=0.2\nprobe_timeout=3\n"
	"link_warning=1\nlink_lost=2\nsettings_timeout=2\n";

struct bank_world {
	struct bus bus;
	struct simproc sim[PACKS];
	struct child member[PACKS];
	struct child settings, bank;
	char config[400];
	char names[PACKS][64];
	GPtrArray *changes; /* the bank's ItemsChanged */
	guint sub;
};

static struct bank_world *current;

static void on_items(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
		     const gchar *signal, GVariant *params, gpointer data)
{
	struct bank_world *w = data;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal;
	g_ptr_array_add(w->changes, g_variant_get_child_value(params, 0));
}

static void start_member(struct bank_world *w, unsigned k)
{
	char log[32];

	snprintf(log, sizeof(log), "member%u", k + 1);
	service_spawn(&w->member[k], &w->bus, log, w->sim[k].link, w->config);
}

static void start_bank(struct bank_world *w)
{
	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
}

/* Pack k+1: SoC 30/60/90 %, 100/200/300 Ah, its user data "PACKk" (the
 * unique ids sort as the packs are numbered: P1..P3). */
static struct bank_world *bank_up(const char *extra)
{
	struct bank_world *w = g_new0(struct bank_world, 1);
	current = w;
	bus_start(&w->bus);
	w->changes = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	w->sub = g_dbus_connection_signal_subscribe(w->bus.conn, BANK, "com.victronenergy.BusItem", "ItemsChanged", "/",
						    NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_items, w, NULL);
	settings_start(&w->settings, &w->bus, NULL);
	config_write(&w->bus, w->config, sizeof(w->config), config_text, extra);
	for (unsigned k = 0; k < PACKS; k++) {
		char tty[16], soc[8], cap[8], id[8];

		snprintf(tty, sizeof(tty), "ttyJK%u", k + 1);
		snprintf(soc, sizeof(soc), "%u", 30 * (k + 1));
		snprintf(cap, sizeof(cap), "%u", 100 * (k + 1));
		snprintf(id, sizeof(id), "PACK%u", k + 1);
		const char *args[] = { "--soc",   soc, "--capacity",    cap, "--id", id,
				       "--cells", "8", "--exit-on-eof", NULL };

		sim_start_named(&w->sim[k], tty, args);
		snprintf(w->names[k], sizeof(w->names[k]), "com.victronenergy.battery.%s", tty);
	}
	/* Pack 2's cell 7 runs 165 mV high, past V_chg: its charge current is cut. */
	assert_string_equal(sim_cmd(&w->sim[1], "high 7 165"), "ok high 7 165");
	for (unsigned k = 0; k < PACKS; k++)
		start_member(w, k);
	for (unsigned k = 0; k < PACKS; k++)
		assert_true(bus_wait_name(&w->bus, w->names[k], 8000));
	start_bank(w);
	wait_name_or_fail(&w->bus, &w->bank, BANK, 8000);
	return w;
}

static int bank_teardown(void **state)
{
	struct bank_world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;

	int clean = child_stop_clean(&w->bank);

	for (unsigned k = 0; k < PACKS; k++) {
		if (w->member[k].pid > 0 && !w->member[k].exited)
			kill(w->member[k].pid, SIGCONT); /* a test that stopped it failed */
		clean |= child_stop_clean(&w->member[k]);
	}
	/* The last simulator first: each later child inherited the stdin
	 * pipes of those before it, so an earlier one sees EOF only then. */
	for (unsigned k = PACKS; k-- > 0;)
		sim_stop(&w->sim[k]);
	child_stop(&w->settings);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub);
	g_ptr_array_free(w->changes, TRUE);
	bus_stop(&w->bus);
	g_free(w);
	return clean;
}

/* ---- expectations from the members ------------------------------------- */

struct expect {
	unsigned online;
	double voltage, current, soc, installed, capacity, temperature;
	double max_cell, cvl, ccl, dcl, blv;
	char max_id[16], charge_why[128];
};

static bool member_online(GVariant *it)
{
	GVariant *v = items_value(it, "/Connected");
	bool on = v && g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) && g_variant_get_int32(v) == 1;

	if (v)
		g_variant_unref(v);
	return on;
}

/* docs/bank.md's rules over the members online now (positions = pack
 * numbers: the ids sort so); an offline member's float voltage caps CVL. */
static void expect_from_members(struct bank_world *w, struct expect *e)
{
	double wsum = 0, least_ccl = INFINITY, least_dcl = INFINITY;
	unsigned ccl_k = 0;

	memset(e, 0, sizeof(*e));
	e->cvl = INFINITY;
	for (unsigned k = 0; k < PACKS; k++) {
		if (!bus_has_owner(&w->bus, w->names[k]))
			continue;
		GVariant *it = bus_get_items(&w->bus, w->names[k]);

		assert_true(invalid(it, "/Info/MaxChargeVoltage")); /* never the pack alone */
		assert_true(invalid(it, "/Info/MaxChargeCurrent"));
		assert_true(invalid(it, "/Info/MaxDischargeCurrent"));
		assert_true(invalid(it, "/Info/BatteryLowVoltage"));
		assert_int_equal(i32(it, "/Bank/Member"), 1);
		if (!member_online(it)) {
			e->cvl = fmin(e->cvl, dbl(it, "/Bank/FloatVoltage"));
			g_variant_unref(it);
			continue;
		}
		e->online++;
		e->voltage += dbl(it, "/Dc/0/Voltage");
		e->current += dbl(it, "/Dc/0/Current");
		e->installed += dbl(it, "/InstalledCapacity");
		e->capacity += dbl(it, "/Capacity");
		wsum += dbl(it, "/Soc") * dbl(it, "/InstalledCapacity");
		e->temperature = fmax(e->temperature, dbl(it, "/Dc/0/Temperature"));
		if (dbl(it, "/System/MaxCellVoltage") > e->max_cell) {
			char *id = str(it, "/System/MaxVoltageCellId");

			e->max_cell = dbl(it, "/System/MaxCellVoltage");
			snprintf(e->max_id, sizeof(e->max_id), "P%u-%s", k + 1, id);
			g_free(id);
		}
		e->cvl = fmin(e->cvl, dbl(it, "/Bank/MaxChargeVoltage"));
		e->blv = fmax(e->blv, dbl(it, "/Bank/BatteryLowVoltage"));
		if (dbl(it, "/Bank/MaxChargeCurrent") < least_ccl) {
			char *why = str(it, "/Info/ChargeLimitation");

			least_ccl = dbl(it, "/Bank/MaxChargeCurrent");
			ccl_k = k;
			snprintf(e->charge_why, sizeof(e->charge_why), "P%u: %s", ccl_k + 1, why);
			g_free(why);
		}
		least_dcl = fmin(least_dcl, dbl(it, "/Bank/MaxDischargeCurrent"));
		g_variant_unref(it);
	}
	if (e->online) {
		e->voltage /= e->online;
		e->soc = wsum / e->installed;
		e->ccl = e->online * least_ccl;
		e->dcl = e->online * least_dcl;
	}
}

static bool bank_matches(struct bank_world *w, struct expect *e, char *why, size_t n)
{
	GVariant *b;
	bool ok;

	expect_from_members(w, e);
	b = bus_get_items(&w->bus, BANK);
	ok = i32(b, "/System/NrOfModulesOnline") == (int)e->online && fabs(dbl(b, "/Soc") - e->soc) < 0.051 &&
		fabs(dbl(b, "/Info/MaxChargeCurrent") - e->ccl) < 0.051 &&
		fabs(dbl(b, "/Info/MaxDischargeCurrent") - e->dcl) < 0.051 &&
		fabs(dbl(b, "/Info/MaxChargeVoltage") - e->cvl) < 0.0051 &&
		fabs(dbl(b, "/Dc/0/Voltage") - e->voltage) < 0.0051;
	snprintf(why, n, "online %d/%u soc %g/%g ccl %g/%g dcl %g/%g cvl %g/%g V %g/%g",
		 i32(b, "/System/NrOfModulesOnline"), e->online, dbl(b, "/Soc"), e->soc,
		 dbl(b, "/Info/MaxChargeCurrent"), e->ccl, dbl(b, "/Info/MaxDischargeCurrent"), e->dcl,
		 dbl(b, "/Info/MaxChargeVoltage"), e->cvl, dbl(b, "/Dc/0/Voltage"), e->voltage);
	g_variant_unref(b);
	return ok;
}

/* The bank agrees with its members within timeout_ms (the members poll
 * every 250 ms, so one read of all may straddle an update). */
static void assert_bank_matches(struct bank_world *w, struct expect *e, unsigned timeout_ms)
{
	char why[400];
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!bank_matches(w, e, why, sizeof(why))) {
		if (g_get_monotonic_time() > end)
			fail_msg("the bank disagrees with its members: %s", why);
		run_for(50);
	}
}

static int32_t bank_int(struct bank_world *w, const char *path)
{
	GVariant *v = bus_get_value(&w->bus, BANK, path);
	int32_t i = v && g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) ? g_variant_get_int32(v) : -1;

	if (v)
		g_variant_unref(v);
	return i;
}

static double bank_dbl(struct bank_world *w, const char *path)
{
	GVariant *v = bus_get_value(&w->bus, BANK, path);
	double d = v && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(v) : NAN;

	if (v)
		g_variant_unref(v);
	return d;
}

static char *bank_str(struct bank_world *w, const char *path)
{
	GVariant *v = bus_get_value(&w->bus, BANK, path);
	char *s = g_strdup(v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ? g_variant_get_string(v, NULL) : "");

	if (v)
		g_variant_unref(v);
	return s;
}

struct wait_int {
	struct bank_world *w;
	const char *path;
	int32_t want;
};

static bool int_is(void *ud)
{
	struct wait_int *x = ud;

	return bank_int(x->w, x->path) == x->want;
}

static void wait_int(struct bank_world *w, const char *path, int32_t want, unsigned ms)
{
	struct wait_int x = { w, path, want };

	if (!loop_until(int_is, &x, ms))
		fail_msg("%s is %d, want %d", path, bank_int(w, path), want);
}

/* ---- the tests ------------------------------------------------------------ */

static void test_bank_values(void **state)
{
	struct bank_world *w = bank_up(NULL);
	struct expect e;
	GVariant *b;

	(void)state;
	assert_bank_matches(w, &e, 3000);
	b = bus_get_items(&w->bus, BANK);
	assert_str(b, "/ProductName", "JK-BMS bank");
	assert_str(b, "/Mgmt/Connection", "Bank of 3 packs");
	assert_int_equal(i32(b, "/Connected"), 1);
	assert_int_equal(i32(b, "/System/NrOfModulesOffline"), 0);
	assert_int_equal(i32(b, "/Alarms/BmsCable"), 0);
	assert_true(i32(b, "/DeviceInstance") >= 0);
	assert_float_equal(dbl(b, "/InstalledCapacity"), 600, 1e-9);
	/* (30 x 100 + 60 x 200 + 90 x 300) / 600 */
	assert_float_equal(dbl(b, "/Soc"), 70, 1e-9);
	assert_float_equal(dbl(b, "/Capacity"), e.capacity, 0.051);
	/* Each pack's current and the bank's are rounded to 0.1 A. */
	assert_float_equal(dbl(b, "/Dc/0/Current"), e.current, 0.21);
	assert_float_equal(dbl(b, "/Dc/0/Temperature"), e.temperature, 0.051);
	assert_float_equal(dbl(b, "/Info/BatteryLowVoltage"), e.blv, 0.0051);
	assert_float_equal(dbl(b, "/System/MaxCellVoltage"), e.max_cell, 0.0005);
	assert_str(b, "/System/MaxVoltageCellId", "P2-C7");
	assert_string_equal(e.max_id, "P2-C7");
	assert_str(b, "/Info/ChargeLimitation", e.charge_why);
	assert_true(strstr(e.charge_why, "P2: Cell 7 high") == e.charge_why);
	/* The high cell bounds each share: 3 x pack 2's limit. */
	assert_true(e.ccl > 0 && e.ccl < e.dcl);
	print_message("bank CCL %.1f A, DCL %.1f A, CVL %.2f V\n", e.ccl, e.dcl, e.cvl);
	g_variant_unref(b);

	/* A battery service that is not a member: no /Bank/ paths, its own
	 * limits under /Info/, and the bank leaves it out. */
	struct simproc lone;
	struct child solo;
	char *cfg = g_strdup_printf("%s/solo.ini", w->bus.dir);
	const char *sim_args[] = { "--exit-on-eof", NULL };

	assert_true(g_file_set_contents(cfg, "[jkbms]\npoll_interval=0.25\nlink_warning=1\nlink_lost=2\n", -1, NULL));
	sim_start_named(&lone, "ttySolo", sim_args);
	const char *argv[] = { DBUS_JKBMS_BIN, lone.link, "--config", cfg, NULL };

	child_spawn(&solo, &w->bus, "solo", argv);
	assert_true(bus_wait_name(&w->bus, "com.victronenergy.battery.ttySolo", 8000));
	GVariant *it = bus_get_items(&w->bus, "com.victronenergy.battery.ttySolo");

	assert_null(items_value(it, "/Bank/Member"));
	assert_null(items_value(it, "/Bank/MaxChargeCurrent"));
	assert_true(dbl(it, "/Info/MaxChargeCurrent") > 0);
	g_variant_unref(it);
	run_for(300);
	assert_int_equal(bank_int(w, "/System/NrOfModulesOnline"), 3);
	assert_int_equal(bank_int(w, "/System/NrOfModulesOffline"), 0);
	assert_float_equal(bank_dbl(w, "/InstalledCapacity"), 600, 1e-9);
	assert_int_equal(child_stop(&solo), 0);
	sim_stop(&lone);
	g_free(cfg);

	/* CustomName: writable and kept by localsettings. */
	assert_int_equal(bus_set_value(&w->bus, BANK, "/CustomName", g_variant_new_string("Shed bank")), 0);
	char *name = bank_str(w, "/CustomName");

	assert_string_equal(name, "Shed bank");
	g_free(name);
	GVariant *stored = bus_get_value(&w->bus, "com.victronenergy.settings",
					 "/Settings/Devices/jkbms_bank/CustomName");

	assert_non_null(stored);
	assert_string_equal(g_variant_get_string(stored, NULL), "Shed bank");
	g_variant_unref(stored);
	assert_int_equal(bank_teardown(NULL), 0); /* the bank and members exit 0 */
}

static bool has_path(GVariant *changes, const char *path)
{
	GVariant *v = g_variant_lookup_value(changes, path, NULL);

	if (v)
		g_variant_unref(v);
	return v != NULL;
}

/* The first of the bank's ItemsChanged that holds path. */
struct seen {
	struct bank_world *w;
	const char *path;
	GVariant *found;
};

static bool signal_seen(void *ud)
{
	struct seen *x = ud;

	for (guint k = 0; k < x->w->changes->len && !x->found; k++) {
		GVariant *c = g_ptr_array_index(x->w->changes, k);

		if (has_path(c, x->path))
			x->found = c;
	}
	return x->found != NULL;
}

static void test_bank_member_restart(void **state)
{
	struct bank_world *w = bank_up(NULL);
	struct expect e;

	(void)state;
	assert_bank_matches(w, &e, 3000);
	double ccl3 = e.ccl;

	/* Pack 3's service stops: its share leaves at once, in one signal. */
	g_ptr_array_set_size(w->changes, 0);
	child_stop(&w->member[2]);
	wait_int(w, "/System/NrOfModulesOnline", 2, 1000);
	struct seen seen = { w, "/System/NrOfModulesOnline", NULL };

	assert_true(loop_until(signal_seen, &seen, 1000));
	if (!has_path(seen.found, "/InstalledCapacity") || !has_path(seen.found, "/Info/MaxChargeCurrent"))
		fail_msg("not one ItemsChanged: %s", g_variant_print(seen.found, TRUE));
	assert_int_equal(bank_int(w, "/System/NrOfModulesOffline"), 1);
	assert_float_equal(bank_dbl(w, "/InstalledCapacity"), 300, 1e-9);
	assert_int_equal(bank_int(w, "/Alarms/BmsCable"), 1); /* bank_packs = 3 */
	char *why = bank_str(w, "/Info/ChargeLimitation");

	assert_true(g_str_has_prefix(why, "2 of 3 packs online; P2: "));
	g_free(why);
	/* 2 x the same least share: a fall, at once. */
	assert_float_equal(bank_dbl(w, "/Info/MaxChargeCurrent"), ccl3 * 2 / 3, 0.051);

	/* It comes back: counted at once; its current share rises on the ramp. */
	start_member(w, 2);
	wait_int(w, "/System/NrOfModulesOnline", 3, 5000);
	assert_float_equal(bank_dbl(w, "/InstalledCapacity"), 600, 1e-9);
	assert_int_equal(bank_int(w, "/Alarms/BmsCable"), 0);
	double first = bank_dbl(w, "/Info/MaxChargeCurrent");

	assert_true(first < ccl3);
	run_for(1500);
	double later = bank_dbl(w, "/Info/MaxChargeCurrent");

	print_message("CCL %.2f A with 3 packs, %.2f A as pack 3 returns, %.2f A 1.5 s later\n", ccl3, first, later);

	assert_true(later > first);
	assert_true(later <= ccl3 + 0.05);
	assert_int_equal(bank_teardown(NULL), 0); /* the bank and members exit 0 */
}

static void test_bank_silent(void **state)
{
	struct bank_world *w = bank_up(NULL);
	struct expect e;

	(void)state;
	assert_bank_matches(w, &e, 3000);
	/* Pack 1's BMS goes silent: its member loses the link (link_lost 2 s). */
	assert_string_equal(sim_cmd(&w->sim[0], "fault silent"), "ok fault silent");
	wait_int(w, "/System/NrOfModulesOnline", 2, 4000);
	assert_int_equal(bank_int(w, "/System/NrOfModulesOffline"), 1);
	assert_int_equal(bank_int(w, "/Alarms/BmsCable"), 1);
	assert_bank_matches(w, &e, 2000); /* its float voltage caps CVL */
	assert_int_equal(e.online, 2);
	/* The member keeps its own comm-loss rules, under /Bank/. */
	GVariant *lost = bus_get_items(&w->bus, w->names[0]);

	assert_int_equal(i32(lost, "/Connected"), 0);
	assert_float_equal(dbl(lost, "/Bank/MaxChargeCurrent"), 0, 1e-9);
	assert_float_equal(dbl(lost, "/Bank/MaxDischargeCurrent"), 0, 1e-9);
	assert_true(dbl(lost, "/Bank/MaxChargeVoltage") <= dbl(lost, "/Bank/FloatVoltage") + 1e-9);
	assert_int_equal(i32(lost, "/Alarms/BmsCable"), 2);
	assert_true(invalid(lost, "/Info/MaxChargeVoltage"));
	g_variant_unref(lost);
	/* All silent: zeros, CVL no higher than float, stays on the bus. */
	assert_string_equal(sim_cmd(&w->sim[1], "fault silent"), "ok fault silent");
	assert_string_equal(sim_cmd(&w->sim[2], "fault silent"), "ok fault silent");
	wait_int(w, "/Connected", 0, 4000);
	assert_int_equal(bank_int(w, "/Alarms/BmsCable"), 2);
	assert_int_equal(bank_int(w, "/System/NrOfModulesOnline"), 0);
	assert_float_equal(bank_dbl(w, "/Info/MaxChargeCurrent"), 0, 1e-9);
	assert_float_equal(bank_dbl(w, "/Info/MaxDischargeCurrent"), 0, 1e-9);
	expect_from_members(w, &e);
	assert_true(isfinite(e.cvl));
	assert_true(bank_dbl(w, "/Info/MaxChargeVoltage") <= e.cvl + 1e-9);
	assert_true(isnan(bank_dbl(w, "/Dc/0/Voltage"))); /* invalid */
	assert_true(bus_has_owner(&w->bus, BANK));
	/* One answers again: back at once. */
	assert_string_equal(sim_cmd(&w->sim[2], "fault none"), "ok fault none");
	wait_int(w, "/Connected", 1, 4000);
	assert_int_equal(bank_int(w, "/System/NrOfModulesOnline"), 1);
	assert_int_equal(bank_teardown(NULL), 0); /* the bank and members exit 0 */
}

static void test_bank_restart(void **state)
{
	struct bank_world *w = bank_up(NULL);
	struct expect e;
	int32_t instance;

	(void)state;
	assert_bank_matches(w, &e, 3000);
	instance = bank_int(w, "/DeviceInstance");
	assert_int_equal(child_stop(&w->bank), 0);
	assert_false(bus_has_owner(&w->bus, BANK));
	start_bank(w);
	assert_true(bus_wait_name(&w->bus, BANK, 5000));
	/* Everything read again at start: the full limits directly, the same
	 * positions and device instance. */
	assert_bank_matches(w, &e, 3000);
	assert_int_equal(bank_int(w, "/DeviceInstance"), instance);
	char *id = bank_str(w, "/System/MaxVoltageCellId");

	assert_string_equal(id, "P2-C7");
	g_free(id);

	/* A fourth pack whose BMS has the same user data as pack 2: two
	 * members all the same (merging them would hide a pack). */
	struct simproc dup;
	struct child dup_member;
	const char *sim_args[] = { "--id", "PACK2", "--cells", "8", "--capacity", "50", "--exit-on-eof", NULL };

	sim_start_named(&dup, "ttyDup", sim_args);
	const char *argv[] = { DBUS_JKBMS_BIN, dup.link, "--config", w->config, NULL };

	child_spawn(&dup_member, &w->bus, "dup", argv);
	wait_int(w, "/System/NrOfModulesOnline", 4, 8000);
	assert_float_equal(bank_dbl(w, "/InstalledCapacity"), 650, 1e-9);
	char *log = child_log(&w->bank);

	assert_non_null(strstr(log, "has the unique id"));
	g_free(log);
	assert_int_equal(child_stop(&dup_member), 0);
	sim_stop(&dup);
	wait_int(w, "/System/NrOfModulesOnline", 3, 2000);
	assert_int_equal(bank_int(w, "/System/NrOfModulesOffline"), 1);
	assert_int_equal(bank_teardown(NULL), 0); /* the bank and members exit 0 */
}

/* A member that hangs keeps its name: the bank notices its silence. */
static void test_bank_hung_member(void **state)
{
	struct bank_world *w = bank_up("bank_member_timeout=3\n");

	(void)state;
	/* Values that move every poll, so that every member speaks often. */
	for (unsigned k = 0; k < PACKS; k++)
		assert_string_equal(sim_cmd(&w->sim[k], "sine 20 3"), "ok sine");
	wait_int(w, "/System/NrOfModulesOnline", 3, 3000);
	run_for(3500); /* longer than the timeout: every member still counts */
	assert_int_equal(bank_int(w, "/System/NrOfModulesOnline"), 3);
	assert_int_equal(kill(w->member[0].pid, SIGSTOP), 0);
	wait_int(w, "/System/NrOfModulesOnline", 2, 6000);
	assert_true(bus_has_owner(&w->bus, w->names[0])); /* still on the bus */
	assert_float_equal(bank_dbl(w, "/InstalledCapacity"), 500, 1e-9);
	assert_int_equal(bank_int(w, "/Alarms/BmsCable"), 1);
	assert_int_equal(kill(w->member[0].pid, SIGCONT), 0);
	wait_int(w, "/System/NrOfModulesOnline", 3, 3000);
	char *log = child_log(&w->bank);

	assert_non_null(strstr(log, "silent for"));
	assert_non_null(strstr(log, "speaks again"));
	g_free(log);
	assert_int_equal(bank_teardown(NULL), 0); /* the bank and members exit 0 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bank_values, bank_teardown),
		cmocka_unit_test_teardown(test_bank_member_restart, bank_teardown),
		cmocka_unit_test_teardown(test_bank_silent, bank_teardown),
		cmocka_unit_test_teardown(test_bank_restart, bank_teardown),
		cmocka_unit_test_teardown(test_bank_hung_member, bank_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
