/* SPDX-License-Identifier: MIT */
/*
 * The bank (docs/bank.md) against members it cannot trust: the real
 * dbus-jkbms --bank on a private dbus-daemon, its members played by this
 * test through GDBus (one connection each, as a member service has), so
 * that they can publish what no real member would: a non-member speaking
 * in a member's name, a member that leaves the bank while it stays on the
 * bus, and more packs than a bank holds.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "service_world.h"

#define BANK "com.victronenergy.battery.jkbank"
#define BUSITEM_IFACE "com.victronenergy.BusItem"
#define PEERS 18

static const char introspection[] = "<node><interface name='com.victronenergy.BusItem'>"
				    "<method name='GetItems'><arg type='a{sa{sv}}' direction='out'/></method>"
				    "</interface></node>";

/* A member played by the test: its own connection, name and values. */
struct peer {
	GDBusConnection *conn;
	GHashTable *values; /* path -> GVariant */
	guint reg;
	char name[64];
};

struct peers_world {
	struct bus bus;
	struct child settings, bank;
	char config[400];
	struct peer p[PEERS];
	GDBusNodeInfo *node;
};

static struct peers_world *current;

static GVariant *items_of(struct peer *p, const char *only)
{
	GVariantBuilder b;
	GHashTableIter it;
	gpointer k, v;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
	g_hash_table_iter_init(&it, p->values);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (only && strcmp(only, k) != 0)
			continue;
		GVariantBuilder props;

		g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&props, "{sv}", "Value", (GVariant *)v);
		g_variant_builder_add(&props, "{sv}", "Text", g_variant_new_string(""));
		g_variant_builder_add(&b, "{sa{sv}}", (const char *)k, &props);
	}
	return g_variant_builder_end(&b);
}

static void on_call(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface, const gchar *method,
		    GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
	(void)c, (void)sender, (void)path, (void)iface, (void)method, (void)params;
	g_dbus_method_invocation_return_value(inv, g_variant_new_tuple((GVariant *[]){ items_of(data, NULL) }, 1));
}

static const GDBusInterfaceVTable vtable = { on_call, NULL, NULL, { 0 } };

static void set(struct peer *p, const char *path, GVariant *v)
{
	g_hash_table_replace(p->values, g_strdup(path), g_variant_ref_sink(v));
}

/* Publish path's new value with an ItemsChanged, as a member does. */
static void change(struct peer *p, const char *path, GVariant *v)
{
	set(p, path, v);
	GVariant *params = g_variant_new_tuple((GVariant *[]){ items_of(p, path) }, 1);

	assert_true(g_dbus_connection_emit_signal(p->conn, NULL, "/", BUSITEM_IFACE, "ItemsChanged", params, NULL));
	g_dbus_connection_flush_sync(p->conn, NULL, NULL);
}

static GVariant *invalid_value(void)
{
	return g_variant_new_from_data(G_VARIANT_TYPE("ai"), NULL, 0, TRUE, NULL, NULL);
}

/* Connect peer k (uid "PACKkk", CCL ccl) and, when name, own it. */
static void peer_up(struct peers_world *w, unsigned k, double ccl, bool own)
{
	struct peer *p = &w->p[k];
	GError *err = NULL;
	char uid[16];

	p->conn = g_dbus_connection_new_for_address_sync(w->bus.address,
							 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							 NULL, NULL, &err);
	assert_non_null(p->conn);
	p->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	snprintf(uid, sizeof(uid), "PACK%02u", k);
	set(p, "/Serial", g_variant_new_string(uid));
	set(p, "/Connected", g_variant_new_int32(1));
	set(p, "/Bank/Member", g_variant_new_int32(1));
	set(p, "/Bank/MaxChargeVoltage", g_variant_new_double(55.2));
	set(p, "/Bank/MaxChargeCurrent", g_variant_new_double(ccl));
	set(p, "/Bank/MaxDischargeCurrent", g_variant_new_double(100));
	set(p, "/Bank/FloatVoltage", g_variant_new_double(53.6));
	set(p, "/Dc/0/Voltage", g_variant_new_double(53.0));
	set(p, "/Soc", g_variant_new_double(50));
	set(p, "/InstalledCapacity", g_variant_new_double(100));
	set(p, "/Info/ChargeLimitation", g_variant_new_string("Configured maximum"));
	p->reg = g_dbus_connection_register_object(p->conn, "/", w->node->interfaces[0], &vtable, p, NULL, &err);
	assert_true(p->reg > 0);
	if (!own)
		return;
	snprintf(p->name, sizeof(p->name), "com.victronenergy.battery.peer%02u", k);
	GVariant *r = g_dbus_connection_call_sync(
		p->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
		g_variant_new("(su)", p->name, 4), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, &err);
	assert_non_null(r);
	g_variant_unref(r);
}

static void peer_down(struct peer *p)
{
	if (!p->conn)
		return;
	g_dbus_connection_unregister_object(p->conn, p->reg);
	g_dbus_connection_close_sync(p->conn, NULL, NULL);
	g_object_unref(p->conn);
	g_hash_table_destroy(p->values);
	memset(p, 0, sizeof(*p));
}

static struct peers_world *world_up(void)
{
	struct peers_world *w = g_new0(struct peers_world, 1);

	current = w;
	w->node = g_dbus_node_info_new_for_xml(introspection, NULL);
	bus_start(&w->bus);
	settings_start(&w->settings, &w->bus, NULL);
	snprintf(w->config, sizeof(w->config), "%s/jkbms.ini", w->bus.dir);
	assert_true(g_file_set_contents(w->config, "[jkbms]\nsettings_timeout=2\n", -1, NULL));
	return w;
}

static void bank_start(struct peers_world *w)
{
	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
	wait_name_or_fail(&w->bus, &w->bank, BANK, 8000);
}

static int world_teardown(void **state)
{
	struct peers_world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;
	child_stop(&w->bank);
	for (unsigned k = 0; k < PEERS; k++)
		peer_down(&w->p[k]);
	child_stop(&w->settings);
	bus_stop(&w->bus);
	g_dbus_node_info_unref(w->node);
	g_free(w);
	return 0;
}

/* ---- the bank's values ---------------------------------------------------- */

struct wait {
	struct peers_world *w;
	const char *path;
	double want;
};

static double bank_number(struct peers_world *w, const char *path)
{
	return bus_number(&w->bus, BANK, path);
}

static bool number_is(void *ud)
{
	struct wait *x = ud;

	return fabs(bank_number(x->w, x->path) - x->want) < 1e-6;
}

static void wait_number(struct peers_world *w, const char *path, double want, unsigned ms)
{
	struct wait x = { w, path, want };

	if (!loop_until(number_is, &x, ms))
		fail_msg("%s is %g, want %g", path, bank_number(w, path), want);
}

/* path keeps want for ms (the bank had time to take a change). */
static void hold_number(struct peers_world *w, const char *path, double want, unsigned ms)
{
	run_for(ms);
	assert_float_equal(bank_number(w, path), want, 1e-6);
}

/* ---- the tests ------------------------------------------------------------ */

/* A process that is no member speaks in a member's words: ItemsChanged on
 * "/" with a huge CCL and /Bank/Member 1. The bank takes a member's values
 * from that member's connection only. */
static void test_spoofed_items_changed(void **state)
{
	struct peers_world *w = world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	bank_start(w);
	wait_number(w, "/Info/MaxChargeCurrent", 50, 5000);
	peer_up(w, 1, 50, false); /* on the bus, owns no battery name */
	change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(900));
	change(&w->p[1], "/Serial", g_variant_new_string("PACK00"));
	hold_number(w, "/Info/MaxChargeCurrent", 50, 500);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	/* The member's own change is taken. */
	change(&w->p[0], "/Bank/MaxChargeCurrent", g_variant_new_double(40));
	wait_number(w, "/Info/MaxChargeCurrent", 40, 3000);
}

/* A member's CCL goes invalid while /Connected stays 1: no limit, no
 * charge; a type the bank does not read (a string), NaN, infinity, a
 * negative or absurd number are no limit either. */
static void test_member_limit_invalid(void **state)
{
	struct peers_world *w = world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 70, true);
	bank_start(w);
	wait_number(w, "/Info/MaxChargeCurrent", 100, 5000);
	change(&w->p[1], "/Bank/MaxChargeCurrent", invalid_value());
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
	change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_string("70"));
	hold_number(w, "/Info/MaxChargeCurrent", 0, 300);
	/* Numbers no pack publishes are no limit either. */
	const double odd[] = { NAN, INFINITY, -5, 1e9 };

	for (unsigned k = 0; k < G_N_ELEMENTS(odd); k++) {
		change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(odd[k]));
		hold_number(w, "/Info/MaxChargeCurrent", 0, 200);
	}
	/* Valid again: two shares of the least (a rise, on the ramp). */
	change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(70));
	run_for(1200);
	assert_true(bank_number(w, "/Info/MaxChargeCurrent") > 0);
	assert_true(bank_number(w, "/Info/MaxChargeCurrent") < 100);
	/* A full pack (CCL 0) bounds every share. */
	change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(0));
	hold_number(w, "/Info/MaxChargeCurrent", 0, 500);
}

/* A member that publishes /Bank/Member = 0 (its service left the bank and
 * its /Info/ limits are its own again) is no member any more: it leaves
 * the counts and the limits, as one that left the bus. */
static void test_member_leaves_bank(void **state)
{
	struct peers_world *w = world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 70, true);
	bank_start(w);
	wait_number(w, "/System/NrOfModulesOnline", 2, 5000);
	change(&w->p[1], "/Bank/Member", g_variant_new_int32(0));
	wait_number(w, "/System/NrOfModulesOnline", 1, 3000);
	/* It no longer speaks for the bank: its CCL is not taken. */
	change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(10));
	hold_number(w, "/System/NrOfModulesOnline", 1, 300);
}

static char *bank_text(struct peers_world *w, const char *path)
{
	GVariant *v = bus_get_value(&w->bus, BANK, path);
	char *t = g_strdup(v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ? g_variant_get_string(v, NULL) : "");

	if (v)
		g_variant_unref(v);
	return t;
}

static bool charging_watched(void *ud)
{
	struct peers_world *w = ud;
	char *why = bank_text(w, "/Info/ChargeLimitation");
	bool ok = !strstr(why, "not watched") && bank_number(w, "/Info/MaxChargeCurrent") > 0;

	g_free(why);
	return ok;
}

/* Sixteen members fill the bank. A 17th pack on the bus is not watched,
 * so nothing charges: the bank cannot see whether that pack is full. One
 * member leaves the bus for good: the 17th (another unique id, another
 * name) takes the slot of the one gone and charge resumes on the ramp. */
static void test_full_bank_replaced_pack(void **state)
{
	struct peers_world *w = world_up();

	(void)state;
	for (unsigned k = 0; k < 16; k++)
		peer_up(w, k, 50, true);
	bank_start(w);
	wait_number(w, "/System/NrOfModulesOnline", 16, 8000);
	wait_number(w, "/Info/MaxChargeCurrent", 800, 3000);
	peer_up(w, 16, 50, true);
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
	char *why = bank_text(w, "/Info/ChargeLimitation");

	assert_non_null(strstr(why, "1 pack not watched"));
	g_free(why);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 16, 0);
	assert_float_equal(bank_number(w, "/Info/MaxDischargeCurrent"), 1600, 1e-6);

	peer_down(&w->p[3]);
	if (!loop_until(charging_watched, w, 4000))
		fail_msg("CCL %g after a slot freed", bank_number(w, "/Info/MaxChargeCurrent"));
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 16, 0);
	/* The new pack is watched: it is full, and the bank stops. */
	change(&w->p[16], "/Bank/MaxChargeCurrent", g_variant_new_double(0));
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
}

/* The dbus-daemon goes away (as when it restarts): the bank exits 1,
 * saying why, for its supervisor to start it again on the new bus. */
static void test_bus_lost(void **state)
{
	struct peers_world *w = world_up();
	char *log;

	(void)state;
	peer_up(w, 0, 50, true);
	bank_start(w);
	assert_int_equal(kill(w->bus.daemon_pid, SIGTERM), 0);
	for (unsigned t = 0; t < 100 && !child_exited(&w->bank); t++)
		g_usleep(50000);
	assert_true(child_exited(&w->bank));
	assert_true(WIFEXITED(w->bank.status) && WEXITSTATUS(w->bank.status) == 1);
	log = child_log(&w->bank);
	assert_non_null(strstr(log, "lost the D-Bus connection; exiting for the supervisor to restart us"));
	g_free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_spoofed_items_changed, world_teardown),
		cmocka_unit_test_teardown(test_member_limit_invalid, world_teardown),
		cmocka_unit_test_teardown(test_member_leaves_bank, world_teardown),
		cmocka_unit_test_teardown(test_full_bank_replaced_pack, world_teardown),
		cmocka_unit_test_teardown(test_bus_lost, world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
