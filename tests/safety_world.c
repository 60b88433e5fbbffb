/* SPDX-License-Identifier: MIT */
/* The rig the end-to-end safety tests share (safety_world.h). */
#include "safety_world.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define STEP_US 200000 /* how often a wait polls */

/* A fast link for every test; the link windows are the defaults unless a
 * test sets its own (the timing rule of docs/charge-control.md "Loss of
 * communication" holds for all of them). */
static const char *const base_config = "[jkbms]\npoll_interval=0.5\nreply_timeout=0.3\nprobe_timeout=3\n"
				       "settings_timeout=2\n";

static struct world *current;

double now_s(void)
{
	return (double)g_get_monotonic_time() / 1e6;
}

/* Sleep one step; false once timeout_s has passed since t0. */
bool wait_step(double t0, double timeout_s)
{
	if (now_s() - t0 >= timeout_s)
		return false;
	g_usleep(STEP_US);
	return true;
}

void start_service(struct world *w, struct unit *u)
{
	char log[48];

	snprintf(log, sizeof(log), "service-%s-%u", u->tty, ++u->starts);
	service_spawn(&u->svc, &w->bus, log, u->sim.link, w->config);
	wait_name_or_fail(&w->bus, &u->svc, u->name, 8000);
}

struct world *world_up(const char *config_extra)
{
	struct world *w = g_new0(struct world, 1);

	current = w;
	bus_start(&w->bus);
	settings_start(&w->settings, &w->bus, NULL);
	config_write(&w->bus, w->config, sizeof(w->config), base_config, config_extra);
	return w;
}

/* A simulator on ttyJK, ttyJK2, ... and its service, up with a first frame. */
struct unit *unit_up(struct world *w, const char *const *sim_args)
{
	unsigned k = w->n;
	struct unit *u = &w->u[k];
	char tty[16];
	struct view v;

	assert_true(k < MAX_UNITS);
	if (k)
		snprintf(tty, sizeof(tty), "ttyJK%u", k + 1);
	else
		snprintf(tty, sizeof(tty), "ttyJK");
	memcpy(u->tty, tty, sizeof(tty));
	snprintf(u->name, sizeof(u->name), "com.victronenergy.battery.%s", tty);
	sim_start_named(&u->sim, u->tty, sim_args);
	w->n = k + 1;
	start_service(w, u);
	double t0 = now_s();

	do
		view_read(w, u, &v);
	while (v.connected != 1 && wait_step(t0, 5));
	assert_int_equal(v.connected, 1);
	return u;
}

/* Every process the test started; also the teardown after a failure. */
int teardown(void **state)
{
	struct world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;
	int clean = 0;

	for (unsigned k = 0; k < w->n; k++) {
		clean |= child_stop_clean(&w->u[k].svc);
		sim_stop(&w->u[k].sim);
	}
	child_stop(&w->settings);
	bus_stop(&w->bus);
	g_free(w);
	return clean;
}

static bool int_of(GVariant *items, const char *path, int *out)
{
	GVariant *v = items_value(items, path);
	bool ok = v && g_variant_is_of_type(v, G_VARIANT_TYPE_INT32);

	*out = ok ? g_variant_get_int32(v) : -1;
	if (v)
		g_variant_unref(v);
	return ok;
}

static double double_of(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);
	double d = v && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(v) : NAN;

	if (v)
		g_variant_unref(v);
	return d;
}

void view_read(struct world *w, struct unit *u, struct view *out)
{
	GVariant *items = bus_get_items(&w->bus, u->name);
	GVariant *v;

	out->cvl = double_of(items, "/Info/MaxChargeVoltage");
	out->ccl = double_of(items, "/Info/MaxChargeCurrent");
	out->dcl = double_of(items, "/Info/MaxDischargeCurrent");
	int_of(items, "/Alarms/InternalFailure", &out->internal_failure);
	int_of(items, "/Alarms/Contactor", &out->contactor);
	int_of(items, "/Alarms/BmsCable", &out->bms_cable);
	int_of(items, "/Connected", &out->connected);
	int_of(items, "/System/NrOfModulesBlockingCharge", &out->blocking);
	v = items_value(items, "/Info/ChargeLimitation");
	snprintf(out->limitation, sizeof(out->limitation), "%s",
		 v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ? g_variant_get_string(v, NULL) : "(invalid)");
	if (v)
		g_variant_unref(v);
	v = items_value(items, "/Voltages/Cell16");
	out->cell16_invalid = value_is_invalid(v);
	if (v)
		g_variant_unref(v);
	g_variant_unref(items);
}

/* The view as text, for failure messages. */
const char *describe(const struct view *v)
{
	static char buf[400];

	snprintf(buf, sizeof(buf),
		 "CVL=%.3f CCL=%.1f DCL=%.1f InternalFailure=%d Contactor=%d BmsCable=%d Connected=%d "
		 "BlockingCharge=%d Cell16=%s ChargeLimitation='%s'",
		 v->cvl, v->ccl, v->dcl, v->internal_failure, v->contactor, v->bms_cable, v->connected, v->blocking,
		 v->cell16_invalid ? "invalid" : "valid", v->limitation);
	return buf;
}

int fet(struct unit *u)
{
	return (int)sim_status(&u->sim, "charge_switch");
}

void expect(struct verdict *v, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	if (!v->text)
		v->text = g_string_new("");
	va_start(ap, fmt);
	g_string_append(v->text, "\n  ");
	g_string_append_vprintf(v->text, fmt, ap);
	va_end(ap);
}

void verdict_end(struct verdict *v)
{
	if (v->text)
		fail_msg("%s", v->text->str);
}

/* docs/charge-control.md "MOSFET control": a high cell (OVP - 30 mV and
 * more) with a charger that ignores the limits and current flowing: the
 * service switches the charge FET off after 5 s. Cell 5 sits ~3.62 V, below the BMS's own OVP. */
void provoke_charge_off(struct unit *u)
{
	sim_cmd(&u->sim, "high 5 240");
	sim_cmd(&u->sim, "load 10");
	sim_cmd(&u->sim, "charger rogue 30");
}

void wait_charge_off(struct world *w, struct unit *u)
{
	double t0 = now_s();

	while (fet(u) != 0 && wait_step(t0, 30))
		;
	if (fet(u) != 0) {
		struct view v;

		view_read(w, u, &v);
		fail_msg("%s: the service did not switch the charge FET off within 30 s: %s", u->tty, describe(&v));
	}
}

/* The cell back to normal and no current: clear by any hysteresis. */
void clear_condition(struct unit *u)
{
	sim_cmd(&u->sim, "charger none");
	sim_cmd(&u->sim, "load 0");
	sim_cmd(&u->sim, "current 0");
	sim_cmd(&u->sim, "high 5 0");
}

/* Wait for the charge FET to come on; seconds since t_ref, or NAN. */
double wait_charge_on(struct unit *u, double t_ref, double timeout_s)
{
	while (fet(u) != 1 && wait_step(t_ref, timeout_s))
		;
	return fet(u) == 1 ? now_s() - t_ref : NAN;
}
