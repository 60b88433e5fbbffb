/* SPDX-License-Identifier: MIT */
/*
 * The findings of the adversarial review on the MOSFETs, each as a pure
 * policy test with explicit time: FET ownership and overrides through the
 * force paths, the chatter lock, what survives a restart, and what a failed,
 * timed-out or late FET write says (docs/charge-control.md "MOSFET control",
 * "What survives a restart").
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

/* Finding 5: releasing the force path hands the FET back to automatic
 * control; it does not switch on a FET whose condition persists. */
static void test_force_release_does_not_bypass(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.cell_mv[4] = 3620;
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	write_done(&r, &s, CHG, false);
	s.current_ma = 0;
	feed_frame(&r, &s, 1000);
	r.in.force_off[CHG] = true;
	feed_frame(&r, &s, 1000);
	r.in.force_off[CHG] = false;
	r.in.reset_lock[CHG] = true;
	/* Still 3.62 V: no switch-on, however long. */
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 300), 301);
	assert_int_equal(r.out.ccl_ma, 0);
	/* Cleared: on after 30 s. */
	s.cell_mv[4] = 3450;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);

	/* A user's force-off with no condition: released, it comes on once
	 * the 30 s clear hold, counted from the release, has passed. */
	start(&r);
	s = lfp();
	feed_frame(&r, &s, 1000);
	r.in.force_off[CHG] = true;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 2), 1);
	write_done(&r, &s, CHG, false);
	feed_frame(&r, &s, 1000);
	r.in.force_off[CHG] = false;
	int k = polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60);

	assert_int_equal(k, 31);
}

/* A chatter lock is cleared by a write of the force path only once the
 * condition is gone. */
static void test_lock_clears_only_when_clear(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	for (int cycle = 0; cycle < 4; cycle++) {
		s.cell_mv[9] = 3620;
		s.current_ma = 10000;
		assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
		write_done(&r, &s, CHG, false);
		s.current_ma = 0;
		s.cell_mv[9] = 3450;
		if (cycle == 3)
			break;
		assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 40), 31);
		write_done(&r, &s, CHG, true);
	}
	assert_true(r.st.fet[CHG].locked);
	/* The user writes 0 while a cell is still high: the lock stays. */
	s.cell_mv[9] = 3620;
	r.in.reset_lock[CHG] = true;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 100), 101);
	assert_true(r.st.fet[CHG].locked);
	/* Condition gone: the earlier reset now clears it, then the hold. */
	s.cell_mv[9] = 3450;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);
	assert_false(r.st.fet[CHG].locked);
}

/* Finding 6: which FET we switched off survives a restart. */
static void test_ownership_survives_restart(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();
	struct policy_persist saved;

	(void)state;
	start(&r);
	s.cell_mv[4] = 3620;
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	write_done(&r, &s, CHG, false);
	feed_frame(&r, &s, 1000);
	policy_persist_get(&r.st, &saved);
	assert_true(saved.fet_owned[CHG]);
	assert_false(saved.fet_owned[DIS]);

	/* A new process. */
	start(&r);
	policy_restore(&r.st, &saved);
	s.cell_mv[4] = 3400;
	s.current_ma = 0;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);

	/* Not ours (the user or the BMS switched it off): never touched. */
	start(&r);
	memset(&saved, 0, sizeof(saved));
	policy_restore(&r.st, &saved);
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 120), 121);

	/* A user's force survives a restart too. */
	saved.fet_forced[DIS] = true;
	saved.fet_owned[DIS] = true;
	start(&r);
	policy_restore(&r.st, &saved);
	r.in.force_off[DIS] = true; /* the service restores the force path */
	s.status &= (uint16_t)~BMS_STATUS_DISCHARGE_FET;
	assert_int_equal(polls_until_request(&r, &s, DIS, POLICY_FET_ON, 120), 121);
	assert_int_equal(r.out.dcl_ma, 0);
}

/* Finding 6: an off-write whose read-back timed out although the BMS
 * applied it is settled by the next frames. */
static void test_timed_out_write_settled_by_frames(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.cell_mv[4] = 3620;
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	r.in.fet_result[CHG] = POLICY_FET_RESULT_NO_ANSWER;
	r.in.lost = false;
	tick(&r, &s, 1000);                           /* the result arrives before the next frame */
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET; /* it was applied */
	s.current_ma = 0;
	feed_frame(&r, &s, 1000);
	assert_true(r.st.fet[CHG].owned);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 0);
	s.cell_mv[4] = 3450;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);

	/* Not applied after all: the write failed. */
	start(&r);
	s = lfp();
	s.cell_mv[4] = 3620;
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	r.in.fet_result[CHG] = POLICY_FET_RESULT_NO_ANSWER;
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000);
	assert_false(r.st.fet[CHG].owned);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
	assert_non_null(strstr(r.out.charge_limitation, "Charge FET switch failed"));
}

/* Finding 10: a write acknowledged but not applied is named. */
static void test_not_applied_is_named(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.cell_mv[4] = 3620;
	s.voltage_mv += 320;
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	r.in.fet_result[CHG] = POLICY_FET_RESULT_NOT_APPLIED;
	feed_frame(&r, &s, 1000); /* the FET is still on */
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
	assert_non_null(strstr(r.out.charge_limitation, "Charge FET switch failed: not applied"));
	assert_int_equal(r.out.ccl_ma, 0);
	assert_false(r.out.allow_charge);
}

/* Review 2, finding 5: a write that lands a frame late is settled by the
 * frame that shows it, within the retry time. */
static void test_late_write_settles(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.cell_mv[4] = 3620;
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	r.in.fet_result[CHG] = POLICY_FET_RESULT_NO_ANSWER;
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000); /* still on: failed */
	assert_true(r.st.fet[CHG].failed);
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET; /* it lands late */
	s.current_ma = 0;
	feed_frame(&r, &s, 1000);
	assert_false(r.st.fet[CHG].failed);
	assert_true(r.st.fet[CHG].owned);
	s.cell_mv[4] = 3450;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);
}

/* Review 3: a chatter lock survives a restart (only the force path, once
 * the condition is gone, clears it). */
static void test_lock_survives_restart(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();
	struct policy_persist saved;

	(void)state;
	start(&r);
	r.st.fet[CHG].locked = true;
	r.st.fet[CHG].owned = true;
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET;
	feed_frame(&r, &s, 1000);
	policy_persist_get(&r.st, &saved);
	assert_true(saved.fet_locked[CHG]);
	start(&r);
	policy_restore(&r.st, &saved);
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 120), 121);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
	r.in.reset_lock[CHG] = true;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);
}

/* Review 3: the hold before switching back on completes on a fresh frame,
 * never on the data the tick repeats while the BMS is silent. */
static void test_switch_on_needs_fresh_frame(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	switched_off_then_cleared(&r, &s);
	feed_frame(&r, &s, 1000);
	for (int k = 0; k < 120; k++) {
		tick(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[CHG], POLICY_FET_NONE);
	}
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 2), 1);
}

/* Review 3: a failed on-write is tried again after the retry delay, so a
 * FET of ours does not stay off for ever. */
static void test_failed_on_write_retried(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	switched_off_then_cleared(&r, &s);
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_ON, 60), 31);
	r.in.fet_result[CHG] = POLICY_FET_RESULT_NOT_APPLIED;
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000); /* still off: failed */
	assert_true(r.st.fet[CHG].failed);
	assert_int_equal(r.out.ccl_ma, 0);
	int k = polls_until_request(&r, &s, CHG, POLICY_FET_ON, 120);

	/* The retry delay (60 s), then the clear hold (30 s) again. */
	assert_true(k >= 88 && k <= 92);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_force_release_does_not_bypass),
		cmocka_unit_test(test_lock_clears_only_when_clear),
		cmocka_unit_test(test_ownership_survives_restart),
		cmocka_unit_test(test_timed_out_write_settled_by_frames),
		cmocka_unit_test(test_not_applied_is_named),
		cmocka_unit_test(test_late_write_settles),
		cmocka_unit_test(test_lock_survives_restart),
		cmocka_unit_test(test_switch_on_needs_fresh_frame),
		cmocka_unit_test(test_failed_on_write_retried),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
