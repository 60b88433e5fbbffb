/* SPDX-License-Identifier: MIT */
/*
 * Hostile input, part 2: the real dbus-jkbms on a private bus (the rig in
 * hostile_world.c) under a 20 s flood of mixed calls, and with a settings
 * stand-in that answers wrongly or not at all. The service runs with
 * DBUS_FATAL_WARNINGS=1. Afterwards: it is alive, still polling, every call
 * was answered with the right code, and no published value changed except
 * through the writes it accepted. The type sweep and odd calls are in
 * test_hostile.c.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostile_world.h"

/* ---- the flood ----------------------------------------------------------- */

struct flood {
	struct world *w;
	GPtrArray *values;
	char *deep;
	gint64 end_us, max_us;
	unsigned inflight, sent, answered, lost, wrong_codes, k;
};

struct call {
	struct flood *f;
	gint64 t0;
	int want; /* SetValue: the expected code, else -1 */
};

static void flood_next(struct flood *f);

static void flood_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	struct flood *f = c->f;
	GError *err = NULL;
	GVariant *r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
	gint64 dt = g_get_monotonic_time() - c->t0;

	f->inflight--;
	f->max_us = dt > f->max_us ? dt : f->max_us;
	if (r) {
		int32_t code;

		f->answered++;
		if (c->want >= 0 && g_variant_is_of_type(r, G_VARIANT_TYPE("(i)"))) {
			g_variant_get(r, "(i)", &code);
			f->wrong_codes += code != c->want;
		}
		g_variant_unref(r);
	} else {
		char *remote = g_dbus_error_get_remote_error(err);

		/* An error reply is an answer; no answer (or no service) is not. */
		if (remote && !strstr(remote, "NoReply") && !strstr(remote, "ServiceUnknown"))
			f->answered++;
		else
			f->lost++;
		g_free(remote);
		g_error_free(err);
	}
	g_free(c);
	flood_next(f);
}

static void flood_call(struct flood *f, const char *path, const char *iface, const char *method, GVariant *args,
		       int want)
{
	struct call *c = g_new0(struct call, 1);

	c->f = f;
	c->t0 = g_get_monotonic_time();
	c->want = want;
	f->inflight++;
	f->sent++;
	g_dbus_connection_call(f->w->bus.conn, NAME, path, iface, method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 5000,
			       NULL, flood_reply, c);
}

/* One call of the mix: reads, refused writes, writes of the current value,
 * introspection of deep unknown paths, unknown interfaces, odd arguments. */
static void flood_one(struct flood *f, unsigned k)
{
	static const char *const leaves[] = { "/Soc", "/Dc/0/Voltage", "/CustomName", "/Voltages/Cell3", "/TimeToGo" };
	size_t t = (k / 10) % n_targets;
	GVariant *v = g_ptr_array_index(f->values, (k / 7) % f->values->len), *acc = NULL;
	int want = expected(targets[t].kind, v, &acc);

	if (acc)
		g_variant_unref(g_variant_ref_sink(acc));
	switch (k % 10) {
	case 0:
		flood_call(f, "/", BUSITEM, "GetItems", NULL, -1);
		break;
	case 1:
		flood_call(f, leaves[k % 5], BUSITEM, "GetValue", NULL, -1);
		break;
	case 2:
		flood_call(f, "/Dc", BUSITEM, "GetText", NULL, -1);
		break;
	case 3:
		if (want == 0) { /* only refused writes: nothing may change */
			v = g_variant_new_double(0.25);
			want = 1;
		}
		flood_call(f, targets[t].path, BUSITEM, "SetValue", g_variant_new("(v)", v), want);
		break;
	case 4: /* the service logs each accepted write: not too many */
		if (k % 100 == 4)
			flood_call(f, "/Settings/ForceChargingOff", BUSITEM, "SetValue",
				   g_variant_new("(v)", g_variant_new_boolean(FALSE)), 0);
		else
			flood_call(f, "/Settings/ForceChargingOff", BUSITEM, "GetText", NULL, -1);
		break;
	case 5:
		flood_call(f, f->deep, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, -1);
		break;
	case 6:
		flood_call(f, "/", "org.freedesktop.DBus.Introspectable", "Introspect", NULL, -1);
		break;
	case 7:
		flood_call(f, "/Soc", "org.example.Nope", "GetValue", NULL, -1);
		break;
	case 8:
		flood_call(f, "/Soc", BUSITEM, "GetValue", g_variant_new("(u)", k), -1);
		break;
	default:
		flood_call(f, "/CustomName", BUSITEM, "SetValue", g_variant_new("(vi)", v, 1), 1);
		break;
	}
}

static void flood_next(struct flood *f)
{
	while (f->inflight < 32 && g_get_monotonic_time() < f->end_us)
		flood_one(f, f->k++);
}

static bool flood_over(void *ud)
{
	struct flood *f = ud;

	return f->inflight == 0 && g_get_monotonic_time() >= f->end_us;
}

static void test_flood(void **state)
{
	struct world *w = up(NULL);
	struct flood f = { .w = w, .values = every_value(false), .deep = deep_path(300, "/Dc") };
	double requests = sim_status(&w->sim, "requests");

	(void)state;
	f.end_us = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	flood_next(&f);
	assert_true(loop_until(flood_over, &f, 40000));
	print_message("flood: %u calls in 20 s, %u answered, %u lost, slowest %.1f ms, %.0f BMS requests meanwhile\n",
		      f.sent, f.answered, f.lost, f.max_us / 1000.0, sim_status(&w->sim, "requests") - requests);
	assert_alive(w, "after the flood");
	assert_int_equal(f.lost, 0);
	assert_int_equal(f.wrong_codes, 0);
	assert_int_equal(f.answered, f.sent);
	/* Polled all along: 0.25 s polls for 20 s are 80 requests. */
	assert_true(sim_status(&w->sim, "requests") - requests >= 60);
	model_check(w, "after the flood");
	assert_polling(w);
	assert_refusals_logged_once(w);
	g_ptr_array_free(f.values, TRUE);
	g_free(f.deep);
	down(w);
}

/* ---- a misbehaving localsettings ------------------------------------------- */

/* Instance 7 (the stand-in grants the preferred one), and where it came from. */
static void assert_instance(struct world *w, bool from_settings)
{
	GVariant *v = g_hash_table_lookup(w->model, "/DeviceInstance");

	assert_int_equal(g_variant_get_int32(v), 7);
	assert_log_has(w, from_settings ? "settings: device instance 7 (" : "using the configured device instance 7");
}

/* AddSettings answered with aa{ss} (and an extra argument). */
static void test_settings_wrong_signature(void **state)
{
	struct world *w = up("signature");

	(void)state;
	assert_instance(w, false);
	assert_polling(w);
	down(w);
}

/* The right signature, wrong types and unusable values inside. */
static void test_settings_wrong_values(void **state)
{
	struct world *w = up("values");
	GVariant *name = g_hash_table_lookup(w->model, "/CustomName");

	(void)state;
	assert_instance(w, false);
	assert_true(g_utf8_strlen(g_variant_get_string(name, NULL), -1) <= 32);
	assert_polling(w);
	down(w);
}

/* A custom name far over the limit: published cut to 32 characters. */
static void test_settings_long_name(void **state)
{
	struct world *w = up("long-name");
	GVariant *name = g_hash_table_lookup(w->model, "/CustomName");
	const char *s = g_variant_get_string(name, NULL);

	(void)state;
	assert_instance(w, true); /* the rest of the reply is used */
	assert_true(g_utf8_validate(s, -1, NULL));
	assert_int_equal(g_utf8_strlen(s, -1), 32);
	assert_polling(w);
	down(w);
}

/* Owns the name, never answers: registered anyway, after the call timeout. */
static void test_settings_silent(void **state)
{
	struct world *w = up("silent");

	(void)state;
	assert_instance(w, false);
	assert_polling(w);
	model_check(w, "with a silent localsettings");
	down(w);
}

/* Odd ItemsChanged/PropertiesChanged sent straight to the service, 10 a second. */
static void test_settings_odd_signals(void **state)
{
	struct world *w = up("signals");

	(void)state;
	assert_instance(w, true);
	g_usleep(2000000);
	assert_alive(w, "under odd signals");
	model_check(w, "under odd signals");
	assert_polling(w);
	down(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_flood, teardown),
		cmocka_unit_test_teardown(test_settings_wrong_signature, teardown),
		cmocka_unit_test_teardown(test_settings_wrong_values, teardown),
		cmocka_unit_test_teardown(test_settings_long_name, teardown),
		cmocka_unit_test_teardown(test_settings_silent, teardown),
		cmocka_unit_test_teardown(test_settings_odd_signals, teardown),
	};

	/* As on a GX, and stricter: any libdbus warning or failed check aborts
	 * the service (and the settings stand-in). */
	setenv("DBUS_FATAL_WARNINGS", "1", 1);
	return cmocka_run_group_tests_name("hostile_settings", tests, NULL, NULL);
}
