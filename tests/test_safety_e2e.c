/* SPDX-License-Identifier: MIT */
/*
 * The safety amendments of docs/charge-control.md through the real binary:
 * dbus-jkbms against jkbms-sim on real pseudo-terminals, on a private
 * dbus-daemon with the settings stand-in, observed with an independent GDBus
 * client and through the simulator's own view of its FETs. One test per
 * finding of the review on what the BMS reports: an unmeasured cell (by
 * command and by scenario) and the loss of the BMS. The findings on the
 * FETs are in test_safety_e2e_fet.c. The service's holds are real time.
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
#include "safety_world.h"
#include "sim_harness.h"

/* The simulator's LFP settings: OVPR 3550 mV, V_chg 3450 mV, so V_flt 3375 mV. */
#define V_FLT 3.375

static bool open_lead_seen(const struct view *v, const char *cell)
{
	return v->ccl == 0 && v->internal_failure == 2 && strstr(v->limitation, cell) && v->cell16_invalid;
}

/* Finding 1 (docs/charge-control.md "A cell the BMS does not measure"):
 * cell 16 reads 0 mV while charging. */
static void test_open_lead(void **state)
{
	static const char *const sim[] = { "--current", "10", NULL };
	struct world *w = world_up("link_warning=2\nlink_lost=4\n");
	struct unit *u = unit_up(w, sim);
	struct verdict vd = { 0 };
	struct view v;
	double t0;

	(void)state;
	view_read(w, u, &v);
	assert_true(v.ccl > 20 && !v.cell16_invalid);
	sim_cmd(&u->sim, "unmeasured 16");
	t0 = now_s();
	do
		view_read(w, u, &v);
	while (!open_lead_seen(&v, "Cell 16 not measured") && wait_step(t0, 6));
	expect(&vd, open_lead_seen(&v, "Cell 16 not measured"),
	       "cell 16 unmeasured: want CCL=0, InternalFailure=2, 'Cell 16 not measured', Cell16 invalid; have %s",
	       describe(&v));
	/* The inferred cell (pack - the others) is mid-range: discharge stays. */
	expect(&vd, v.dcl > 0, "cell 16 unmeasured but inferred at ~3.3 V: want DCL > 0; have %s", describe(&v));

	/* Every cell reading 0 is the same, not "no cells". */
	sim_cmd(&u->sim, "unmeasured all");
	t0 = now_s();
	do
		view_read(w, u, &v);
	while (!(v.ccl == 0 && v.internal_failure == 2) && wait_step(t0, 6));
	expect(&vd, v.ccl == 0 && v.internal_failure == 2, "every cell reads 0: want CCL=0, InternalFailure=2; have %s",
	       describe(&v));

	/* The lead restored: the alarm clears and charging resumes. */
	sim_cmd(&u->sim, "unmeasured 0");
	t0 = now_s();
	do
		view_read(w, u, &v);
	while (!(v.internal_failure == 0 && v.ccl > 0) && wait_step(t0, 30));
	expect(&vd, v.internal_failure == 0 && v.ccl > 0,
	       "lead restored: want InternalFailure=0 and CCL > 0 within 30 s; have %s", describe(&v));
	verdict_end(&vd);
	assert_int_equal(teardown(NULL), 0); /* the services exit 0 */
}

/* Finding 1 with the scenario: the DVCC charger must stop charging a pack
 * whose unmeasured cell runs 100 mV and more above the others. */
static void test_open_lead_scenario(void **state)
{
	static const char *const sim[] = { "--scenario", "open-lead", NULL };
	struct world *w = world_up(NULL);
	struct unit *u = unit_up(w, sim);
	struct verdict vd = { 0 };
	struct view v;

	(void)state;
	assert_true(sim_status(&u->sim, "real_max_cell_mv") - sim_status(&u->sim, "max_cell_mv") >= 100);
	assert_int_equal(sim_status(&u->sim, "unmeasured"), 1);
	double t0 = now_s();

	do
		view_read(w, u, &v);
	while (!open_lead_seen(&v, "Cell 16 not measured") && wait_step(t0, 8));
	expect(&vd, open_lead_seen(&v, "Cell 16 not measured"),
	       "open-lead scenario: want CCL=0, InternalFailure=2, 'Cell 16 not measured'; have %s", describe(&v));
	t0 = now_s();
	while (sim_status(&u->sim, "charger_a") >= 1.0 && wait_step(t0, 15))
		;
	expect(&vd, sim_status(&u->sim, "charger_a") < 1.0, "the DVCC charger still charges %.1f A (%s)",
	       sim_status(&u->sim, "charger_a"), describe(&v));
	verdict_end(&vd);
	assert_int_equal(teardown(NULL), 0); /* the services exit 0 */
}

/* Findings 3 and 4 (docs/charge-control.md "Loss of communication"): the
 * BMS goes silent. */
static void test_comm_loss(void **state)
{
	struct world *w = world_up("link_warning=2\nlink_lost=4\nlost_discharge_current=10\nlost_discharge_time=20\n");
	struct unit *u = unit_up(w, NULL);
	struct verdict vd = { 0 };
	struct view v;
	double t0 = now_s();

	(void)state;
	do
		view_read(w, u, &v);
	while (!(v.ccl > 20 && v.dcl > 40) && wait_step(t0, 5));
	assert_true(v.ccl > 20 && v.dcl > 40 && v.cvl > 50);
	double cvl_cap = fmin(v.cvl, 16 * V_FLT) + 0.005;

	sim_cmd(&u->sim, "fault silent");
	t0 = now_s();
	do
		view_read(w, u, &v);
	while (v.bms_cable != 2 && wait_step(t0, 8));
	assert_int_equal(v.bms_cable, 2);
	double t_lost = now_s();

	while (!(v.ccl == 0 && fabs(v.dcl - 10) < 0.05 && v.cvl <= cvl_cap) && wait_step(t_lost, 2))
		view_read(w, u, &v);
	expect(&vd, v.ccl == 0, "lost: want CCL=0; have %s", describe(&v));
	expect(&vd, fabs(v.dcl - 10) < 0.05, "lost: want DCL=10.0 (lost_discharge_current); have %s", describe(&v));
	expect(&vd, v.cvl <= cvl_cap, "lost: want CVL <= %.2f (16 x V_flt); have %s", cvl_cap, describe(&v));

	/* No frame arrives: only the service's own tick can end the kept DCL. */
	double dcl_zero_at = NAN, ccl_max = 0, cvl_max = 0;

	do {
		view_read(w, u, &v);
		ccl_max = fmax(ccl_max, v.ccl);
		cvl_max = fmax(cvl_max, isnan(v.cvl) ? INFINITY : v.cvl);
		if (v.dcl == 0 && isnan(dcl_zero_at))
			dcl_zero_at = now_s() - t_lost;
	} while (isnan(dcl_zero_at) && wait_step(t_lost, 20 + 3));
	expect(&vd, !isnan(dcl_zero_at), "lost: DCL still %.1f at link_lost + lost_discharge_time + 3 s", v.dcl);
	expect(&vd, isnan(dcl_zero_at) || dcl_zero_at >= 15,
	       "lost: DCL went to 0 after %.1f s, before lost_discharge_time (20 s)", dcl_zero_at);
	expect(&vd, ccl_max == 0, "lost: CCL rose to %.1f while the BMS was silent", ccl_max);
	print_message("DCL kept for %.1f s after the link was lost\n", dcl_zero_at);
	expect(&vd, cvl_max <= cvl_cap, "lost: CVL rose to %.3f while the BMS was silent", cvl_max);

	sim_cmd(&u->sim, "fault none");
	t0 = now_s();
	do
		view_read(w, u, &v);
	while (!(v.connected == 1 && v.bms_cable == 0 && v.ccl > 0 && v.dcl > 0) && wait_step(t0, 10));
	expect(&vd, v.connected == 1 && v.bms_cable == 0 && v.ccl > 0 && v.dcl > 0,
	       "frames back: want Connected=1, BmsCable=0, CCL and DCL > 0 within 10 s; have %s", describe(&v));
	verdict_end(&vd);
	assert_int_equal(teardown(NULL), 0); /* the services exit 0 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_open_lead, teardown),
		cmocka_unit_test_teardown(test_open_lead_scenario, teardown),
		cmocka_unit_test_teardown(test_comm_loss, teardown),
	};

	return cmocka_run_group_tests_name("safety_e2e", tests, NULL, NULL);
}
