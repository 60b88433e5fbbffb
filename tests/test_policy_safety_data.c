/* SPDX-License-Identifier: MIT */
/*
 * The findings of the adversarial review on data the policy cannot trust,
 * each as a pure policy test with explicit time: loss of communication and
 * the discharge kept after it, SoC drift in float, and a glitch frame
 * (docs/charge-control.md "Loss of communication", "Float does not trust the
 * SoC").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "policy_fixture.h"
#include "policy_steps.h"

/* Finding 3: at link loss CVL drops to float at most. */
static void test_lost_drops_cvl(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 3450);
	r.in.lost = true;
	tick(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 3375);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 0);
	for (int k = 0; k < 3600; k++)
		tick(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 3375);
	/* A CVL already below float stays where it was. */
	start(&r);
	s.cell_mv[3] = 3500; /* over V_chg: the controller pulls CVL down */
	s.voltage_mv += 200;
	for (int k = 0; k < 30; k++)
		feed_frame(&r, &s, 1000);
	uint32_t before = r.out.cvl_mv;

	assert_true(before < 16 * 3375);
	r.in.lost = true;
	tick(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, before);
}

/* Finding 4: lost_discharge_time ends on the policy's own tick. */
static void test_lost_discharge_time(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	r.cfg.lost_discharge_ma = 10000;
	r.cfg.lost_discharge_ms = 20000;
	feed_frame(&r, &s, 1000);
	r.in.lost = true;
	tick(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 10000);
	for (int k = 1; k < 20; k++) {
		tick(&r, &s, 1000);
		assert_int_equal(r.out.dcl_ma, 10000);
	}
	tick(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
}

/* Finding 7: a JK whose SoC is stuck at 85 % does not throw float back to
 * bulk while the cells say the pack is full. */
static void test_float_ignores_stuck_soc(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();
	unsigned changes = 0;
	enum policy_mode last;

	(void)state;
	start(&r);
	struct policy_persist p = { .mode = POLICY_MODE_FLOAT, .last_full_wall_s = r.in.wall_s };

	policy_restore(&r.st, &p);
	set_cells(&s, 3375);
	s.soc_pct = 85;
	feed_frame(&r, &s, 1000);
	last = r.out.mode;
	for (int k = 0; k < 4 * 3600; k++) {
		feed_frame(&r, &s, 1000);
		changes += r.out.mode != last;
		last = r.out.mode;
	}
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	assert_int_equal(changes, 0);

	/* Discharged by a load (cells well below float) with a low SoC:
	 * rebulk after the hold. */
	set_cells(&s, 3290);
	int k;

	for (k = 1; k <= 600 && r.out.mode == POLICY_MODE_FLOAT; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	assert_true(k >= 300);
}

/* Review 2, finding 3: keeping discharge after a link loss never lifts a
 * hard zero (a forced, failed or locked FET, a discharge alarm). */
static void test_lost_discharge_keeps_zeros(void **state)
{
	(void)state;
	for (int why = 0; why < 2; why++) {
		struct run r;
		struct bms_snapshot s = lfp();

		start(&r);
		r.cfg.lost_discharge_ma = 20000;
		r.cfg.lost_discharge_ms = 3600000;
		if (why == 0) {
			r.in.force_off[DIS] = true;
			feed_frame(&r, &s, 1000);
			r.in.fet_result[DIS] = POLICY_FET_RESULT_NOT_APPLIED;
			feed_frame(&r, &s, 1000);
		} else {
			s.alarms = BMS_ALARM_DISCHARGE_OVER_CURRENT;
		}
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.dcl_ma, 0);
		r.in.lost = true;
		for (int k = 0; k < 120; k++) {
			tick(&r, &s, 1000);
			assert_int_equal(r.out.dcl_ma, 0);
		}
	}
}

/* One glitch frame does not start an absorption. */
static void test_glitch_does_not_change_mode(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	set_cells(&s, 3400);
	feed_frame(&r, &s, 1000);
	s.cell_mv[3] = 3700;
	feed_frame(&r, &s, 1000);
	s.cell_mv[3] = 3400;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_drops_cvl),
		cmocka_unit_test(test_lost_discharge_time),
		cmocka_unit_test(test_float_ignores_stuck_soc),
		cmocka_unit_test(test_lost_discharge_keeps_zeros),
		cmocka_unit_test(test_glitch_does_not_change_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
