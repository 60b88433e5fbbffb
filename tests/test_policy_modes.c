/* SPDX-License-Identifier: MIT */
/*
 * Charge control, the charge modes (docs/charge-control.md): bulk,
 * absorption and float, rebulk on the cells, on the SoC and after days
 * between full charges, the maximum absorption time, and a restart in
 * float; scenario series with explicit time.
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

static void restore_float(struct run *r, int64_t last_full_wall_s)
{
	struct policy_persist p = { .mode = POLICY_MODE_FLOAT, .last_full_wall_s = last_full_wall_s };

	policy_restore(&r->st, &p);
}

/* Rebulk on SoC, from float restored with the last full charge at full_at;
 * returns the snapshot as it ends. */
static struct bms_snapshot rebulk_on_soc(struct bms_snapshot s, int64_t full_at)
{
	struct run r;

	/* Rebulk on SoC: at 90 % with the cells below float, held for the
	 * rebulk time; the SoC alone never decides (it drifts). */
	start(&r);
	r.cfg.rebulk_soc_pct = 90; /* off by default */
	restore_float(&r, full_at);
	set_cells(&s, 3350);
	s.soc_pct = 91;
	for (int k = 0; k < 400; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	s.soc_pct = 90;
	for (int k = 0; k < 300; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	return s;
}

/* Rebulk when the days between full charges have passed. */
static void rebulk_after_days(struct bms_snapshot s)
{
	struct run r;

	/* Days between full charges. */
	start(&r);
	r.cfg.full_charge_days = 7;
	restore_float(&r, r.in.wall_s - 7 * 86400 + 10);
	s.soc_pct = 99;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	feed_frame(&r, &s, 10000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
}

static void test_modes_and_rebulk(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.current_ma = 20000;
	s.soc_pct = 99; /* above rebulk_soc */
	set_cells(&s, 3420);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	s.cell_mv[0] = 3440; /* V_chg - 10: the mode reads the median of three frames */
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	/* Tail current reached but the high cell is not near V_chg: no float. */
	s.current_ma = 3000;
	s.cell_mv[0] = 3420;
	for (int k = 0; k < 120; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	/* Both, held for 60 s (from the second frame: the median of three):
	 * float. */
	s.cell_mv[0] = 3430;
	for (int k = 0; k < 61; k++) {
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	}
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	int64_t full_at = r.st.last_full_wall_s;

	assert_true(full_at > 0);
	/* Float: CVL ramps down at 1 mV/cell/s at most, no step. It moves in
	 * the 10 mV steps Venus publishes, so one poll may take the ramp's
	 * 16 mV up to the next 10 mV; over the descent the rate holds. */
	uint32_t top = r.out.cvl_mv;
	int moved_at = -1, polls;

	for (polls = 0; polls < 300 && r.out.cvl_mv > 16 * 3375; polls++) {
		uint32_t before = r.out.cvl_mv;

		feed_frame(&r, &s, 1000);
		assert_true(r.out.cvl_mv <= before && before - r.out.cvl_mv <= 20);
		assert_int_equal(r.out.cvl_mv % 10, 0);
		if (moved_at < 0 && r.out.cvl_mv < before)
			moved_at = polls;
	}
	assert_true(moved_at >= 0);
	assert_int_equal(r.out.cvl_mv, 16 * 3375);
	assert_true((top - r.out.cvl_mv) <= 16u * (unsigned)(polls - moved_at + 1));
	/* Rebulk: highest cell below 3300 mV for 5 min (counted from the
	 * second frame, as the mode reads the median of three). */
	set_cells(&s, 3290);
	s.soc_pct = 95;
	for (int k = 0; k < 300; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	s = rebulk_on_soc(s, full_at);
	rebulk_after_days(s);
}

static void test_max_absorption_time(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.current_ma = 20000; /* never reaches the tail */
	set_cells(&s, 3445);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	for (int k = 0; k < 7199; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
}

static void test_restart_in_float(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	restore_float(&r, r.in.wall_s - 3600);
	set_cells(&s, 3440);
	s.soc_pct = 99;
	feed_frame(&r, &s, 1000);
	/* No new absorption, and CVL starts at the float voltage. */
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	assert_int_equal(r.out.cvl_mv, 16 * 3375);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes_and_rebulk),
		cmocka_unit_test(test_max_absorption_time),
		cmocka_unit_test(test_restart_in_float),
	};

	return cmocka_run_group_tests_name("policy_modes", tests, NULL, NULL);
}
