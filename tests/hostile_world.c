/* SPDX-License-Identifier: MIT */
/*
 * The hostile-input rig (see hostile_world.h): starting and stopping the
 * world, the checks after each attack, the SetValue rules and the values of
 * every D-Bus type the attacks send.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "hostile_world.h"

#define HUGE_LEN (1024 * 1024)

/* Paths the simulator (current 0) does not move: only accepted writes may. */
static const char *const stable[] = {
	"/CustomName",
	"/Settings/ForceChargingOff",
	"/Settings/ForceDischargingOff",
	"/History/Clear",
	"/Settings/HasTemperature",
	"/ProductName",
	"/ProductId",
	"/DeviceInstance",
	"/Serial",
	"/FirmwareVersion",
	"/HardwareVersion",
	"/Mgmt/ProcessName",
	"/Mgmt/ProcessVersion",
	"/Mgmt/Connection",
	"/InstalledCapacity",
	"/System/NrOfCellsPerBattery",
	"/System/NrOfBatteries",
	"/Connected",
	NULL,
};

/* ---- the world --------------------------------------------------------- */

static struct world *current;

void fail_with_log(struct world *w, const char *what)
{
	char *log = child_log(&w->svc);
	bool gone = child_exited(&w->svc);
	int st = w->svc.status;

	if (gone && WIFSIGNALED(st))
		fail_msg("%s: the service died of signal %d; its log:\n%s", what, WTERMSIG(st), log);
	fail_msg("%s; the service's log:\n%s", what, log);
}

void assert_alive(struct world *w, const char *when)
{
	if (child_exited(&w->svc) || !bus_has_owner(&w->bus, NAME)) {
		char what[200];

		snprintf(what, sizeof(what), "the service is gone %s", when);
		fail_with_log(w, what);
	}
}

void model_take(struct world *w)
{
	if (w->items0)
		g_variant_unref(w->items0);
	w->items0 = bus_get_items(&w->bus, NAME);
	for (int k = 0; stable[k]; k++) {
		GVariant *v = items_value(w->items0, stable[k]);

		assert_non_null(v);
		g_hash_table_replace(w->model, g_strdup(stable[k]), v);
	}
}

/* Every path still there, none added, the stable ones as the model says. */
void model_check(struct world *w, const char *when)
{
	GVariant *now = bus_get_items(&w->bus, NAME);

	if (g_variant_n_children(now) != g_variant_n_children(w->items0))
		fail_msg("%s: %zu paths, %zu before", when, g_variant_n_children(now), g_variant_n_children(w->items0));
	for (int k = 0; stable[k]; k++) {
		GVariant *v = items_value(now, stable[k]);
		GVariant *want = g_hash_table_lookup(w->model, stable[k]);

		if (!v || !g_variant_equal(v, want))
			fail_msg("%s: %s is %s, want %s", when, stable[k], v ? g_variant_print(v, TRUE) : "absent",
				 g_variant_print(want, TRUE));
		g_variant_unref(v);
	}
	g_variant_unref(now);
}

/* The BMS is still being polled: the simulator sees new requests. */
void assert_polling(struct world *w)
{
	double before = sim_status(&w->sim, "requests");

	g_usleep(1200000);
	double after = sim_status(&w->sim, "requests");

	if (after - before < 3)
		fail_with_log(w, "no longer polling");
}

struct world *up(const char *misbehave)
{
	static const char *const sim_args[] = { "--current", "0", NULL };
	static const char *const config = "[jkbms]\npoll_interval=0.25\nreply_timeout=0.2\nprobe_timeout=3\n"
					  "link_warning=1\nlink_lost=2\nsettings_timeout=2\ndevice_instance=7\n";
	struct world *w = g_new0(struct world, 1);

	current = w;
	w->model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	bus_start(&w->bus);
	settings_start(&w->settings, &w->bus, misbehave ? misbehave : "none");
	sim_start(&w->sim, sim_args);
	config_write(&w->bus, w->config, sizeof(w->config), config, NULL);
	service_spawn(&w->svc, &w->bus, "service", w->sim.link, w->config);
	if (!bus_wait_name(&w->bus, NAME, 10000))
		fail_with_log(w, "the service did not register");
	model_take(w);
	return w;
}

int teardown(void **state)
{
	struct world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;
	child_stop(&w->svc);
	child_stop(&w->settings);
	sim_stop(&w->sim);
	bus_stop(&w->bus);
	return 0;
}

void down(struct world *w)
{
	assert_alive(w, "at the end");
	current = NULL;
	if (child_stop(&w->svc) != 0)
		fail_with_log(w, "no clean exit on SIGTERM");
	child_stop(&w->settings);
	sim_stop(&w->sim);
	bus_stop(&w->bus);
	g_variant_unref(w->items0);
	g_hash_table_destroy(w->model);
	g_free(w);
}

/* Each "SetValue ... refused" line at most once, and few of them. */
void assert_refusals_logged_once(struct world *w)
{
	char *log = child_log(&w->svc);
	char **lines = g_strsplit(log, "\n", -1);
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	unsigned n = 0;

	for (char **l = lines; *l; l++) {
		if (!strstr(*l, "SetValue ") || !strstr(*l, " refused: "))
			continue;
		if (!g_hash_table_add(seen, *l))
			fail_msg("logged twice: %s", *l);
		n++;
	}
	assert_true(n > 0);
	assert_true(n < 300); /* (paths x reasons), not per call */
	g_hash_table_destroy(seen);
	g_strfreev(lines);
	g_free(log);
}

void assert_log_has(struct world *w, const char *text)
{
	char *log = child_log(&w->svc);

	if (!strstr(log, text))
		fail_msg("'%s' not in the service's log:\n%s", text, log);
	g_free(log);
}

/* ---- the rules, written independently of the service --------------------- */

static bool as_int64(GVariant *v, int64_t *n)
{
	const GVariantType *t = g_variant_get_type(v);

	if (g_variant_type_equal(t, G_VARIANT_TYPE_BYTE))
		*n = g_variant_get_byte(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_BOOLEAN))
		*n = g_variant_get_boolean(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_INT16))
		*n = g_variant_get_int16(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_UINT16))
		*n = g_variant_get_uint16(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_INT32))
		*n = g_variant_get_int32(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_UINT32))
		*n = g_variant_get_uint32(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_INT64))
		*n = g_variant_get_int64(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_UINT64))
		*n = g_variant_get_uint64(v) > INT64_MAX ? INT64_MAX : (int64_t)g_variant_get_uint64(v);
	else if (g_variant_type_equal(t, G_VARIANT_TYPE_DOUBLE)) {
		double d = g_variant_get_double(v);

		if (!isfinite(d) || d != floor(d) || fabs(d) > 1e18)
			return false;
		*n = (int64_t)d;
	} else
		return false;
	return true;
}

/* The SetValue code for v on a path of kind k; *accepted gets the value it
 * then publishes (floating). README.md, "Hostile input". */
int expected(enum kind k, GVariant *v, GVariant **accepted)
{
	int64_t n;

	*accepted = NULL;
	if (k == RO)
		return 1;
	if (k == NAME_PATH) {
		if (!g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
			return 1;
		if (g_utf8_strlen(g_variant_get_string(v, NULL), -1) > 32)
			return 2;
		*accepted = g_variant_new_string(g_variant_get_string(v, NULL));
		return 0;
	}
	if (!as_int64(v, &n) || n < INT32_MIN || n > INT32_MAX)
		return 1;
	if (k == COMMAND) {
		if (n != 1)
			return 2;
		*accepted = g_variant_new_int32(0);
		return 0;
	}
	if (n != 0 && n != 1)
		return 2;
	*accepted = g_variant_new_int32((int32_t)n);
	return 0;
}

/* ---- values of every type ---------------------------------------------- */

static GVariant *nest_variants(GVariant *v, int depth)
{
	for (int k = 0; k < depth; k++)
		v = g_variant_new_variant(v);
	return v;
}

static GVariant *nest_arrays(GVariant *v, int depth)
{
	for (int k = 0; k < depth; k++)
		v = g_variant_new_array(NULL, &v, 1);
	return v;
}

GVariant *huge_string(void)
{
	char *s = g_malloc(HUGE_LEN + 1);

	memset(s, 'x', HUGE_LEN);
	s[HUGE_LEN] = '\0';
	return g_variant_new_take_string(s);
}

static GVariant *huge_array(void)
{
	int32_t *a = g_new0(int32_t, HUGE_LEN / 4);

	return g_variant_new_from_data(G_VARIANT_TYPE("ai"), a, HUGE_LEN, TRUE, g_free, a);
}

/* Every basic type with edge values, and containers of every shape. */
GPtrArray *every_value(bool huge)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	GVariant *one = g_variant_ref_sink(g_variant_new_int32(1));
	GVariant *x = g_variant_ref_sink(g_variant_new_string("x"));
	GVariant *pair[2] = { one, x };
	GVariant *entry = g_variant_ref_sink(g_variant_new_dict_entry(x, g_variant_new_variant(one)));
	GVariant *vals[] = {
		g_variant_new_byte(7),
		g_variant_new_boolean(TRUE),
		g_variant_new_boolean(FALSE),
		g_variant_new_int16(-5),
		g_variant_new_uint16(65535),
		g_variant_new_int32(0),
		g_variant_new_int32(2),
		g_variant_new_int32(-1),
		g_variant_new_int32(INT32_MIN),
		g_variant_new_int32(INT32_MAX),
		g_variant_new_uint32(UINT32_MAX),
		g_variant_new_int64(INT64_MIN),
		g_variant_new_int64(INT64_MAX),
		g_variant_new_int64(1),
		g_variant_new_uint64(UINT64_MAX),
		g_variant_new_uint64(0),
		g_variant_new_double(0.5),
		g_variant_new_double(1.0),
		g_variant_new_double(-0.0),
		g_variant_new_double(NAN),
		g_variant_new_double(INFINITY),
		g_variant_new_double(-INFINITY),
		g_variant_new_double(1e308),
		g_variant_new_double(-1e308),
		g_variant_new_double(4294967296.0),
		g_variant_new_double(5e-324),
		g_variant_new_string(""),
		g_variant_new_string("Shed battery"),
		g_variant_new_string("123456789012345678901234567890123"),
		g_variant_new_string("1"),
		g_variant_new_object_path("/Settings/ForceChargingOff"),
		g_variant_new_signature("a{sv}"),
		g_variant_new_array(G_VARIANT_TYPE_INT32, NULL, 0), /* Victron's invalid */
		g_variant_new_array(NULL, pair, 1),
		g_variant_new_array(G_VARIANT_TYPE_UINT32, NULL, 0),
		g_variant_new_array(NULL, &x, 1),
		g_variant_new_array(NULL, &entry, 1),
		g_variant_new_array(G_VARIANT_TYPE("{ss}"), NULL, 0),
		g_variant_new_tuple(pair, 2),
		g_variant_new_parsed("(1, ('x', [<2>]), {'a': <@ai []>})"),
		g_variant_new_variant(one),
		nest_variants(g_variant_new_string("x"), 3),
		nest_variants(g_variant_new_int32(0), 20),
		g_variant_new_parsed("[<1>, <'x'>, <[<0>]>]"),
		g_variant_new_parsed("[(1, <'a'>)]"),
		g_variant_new_parsed("{'/CustomName': {'Value': <'x'>}}"),
		nest_arrays(g_variant_new_int32(0), 20),
		g_variant_new_parsed("[[1], [2, 3]]"),
		g_variant_new_parsed("{1: <{2: <3>}>}"),
		g_variant_new_bytestring("0"),
	};

	for (size_t k = 0; k < G_N_ELEMENTS(vals); k++)
		g_ptr_array_add(a, g_variant_ref_sink(vals[k]));
	if (huge) {
		g_ptr_array_add(a, g_variant_ref_sink(huge_string()));
		g_ptr_array_add(a, g_variant_ref_sink(huge_array()));
	}
	g_variant_unref(one);
	g_variant_unref(x);
	g_variant_unref(entry);
	return a;
}

const struct target targets[] = {
	{ "/CustomName", NAME_PATH },
	{ "/Settings/ForceChargingOff", FLAG },
	{ "/Settings/ForceDischargingOff", FLAG },
	{ "/History/Clear", COMMAND },
	{ "/ProductName", RO },
	{ "/DeviceInstance", RO },
	{ "/Dc/0/Voltage", RO },
	{ "/Soc", RO },
};
const size_t n_targets = G_N_ELEMENTS(targets);

char *deep_path(int depth, const char *prefix)
{
	GString *g = g_string_new(prefix);

	for (int k = 0; k < depth; k++)
		g_string_append_printf(g, "/N%d", k);
	return g_string_free(g, FALSE);
}
