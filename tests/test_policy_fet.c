/* SPDX-License-Identifier: MIT */
/*
 * Charge control, the MOSFETs (docs/charge-control.md "MOSFET control"):
 * manual control through the force paths, never overriding a FET the BMS
 * or the user switched off, and automatic switching with its chatter lock;
 * scenario series with explicit time.
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

static void test_manual_fet_control(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	r.cfg.mosfet_control = false; /* manual control still works */
	feed_frame(&r, &s, 1000);
	r.in.force_off[POLICY_FET_CHARGE] = true;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_OFF);
	assert_int_equal(r.out.ccl_ma, 0);
	feed_frame(&r, &s, 1000); /* in flight: not requested again */
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET;
	feed_frame(&r, &s, 1000);
	assert_true(r.st.fet[POLICY_FET_CHARGE].owned);
	assert_string_equal(r.out.charge_limitation, "Charge FET off by dbus-jkbms");
	/* Released: back to automatic control, which switches it on once
	 * nothing stands against it for the 30 s hold. */
	r.in.force_off[POLICY_FET_CHARGE] = false;
	for (int k = 0; k < 30; k++) {
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status |= BMS_STATUS_CHARGE_FET;
	feed_frame(&r, &s, 1000);
	assert_false(r.st.fet[POLICY_FET_CHARGE].owned);
	/* Released while the off-write is still in flight: once verified the
	 * FET is ours, and comes back on after the hold. */
	r.in.force_off[POLICY_FET_CHARGE] = true;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_OFF);
	r.in.force_off[POLICY_FET_CHARGE] = false;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET;
	for (int k = 0; k < 30; k++) {
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status |= BMS_STATUS_CHARGE_FET;
	feed_frame(&r, &s, 1000);
	/* A failed write raises the contactor alarm and is named, with the
	 * way out. */
	r.in.force_off[POLICY_FET_DISCHARGE] = true;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_DISCHARGE], POLICY_FET_OFF);
	r.in.fet_result[POLICY_FET_DISCHARGE] = POLICY_FET_RESULT_NOT_APPLIED;
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000); /* the next frame shows it still on */
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
	assert_string_equal(r.out.discharge_limitation,
			    "Discharge FET switch failed: not applied (reset with /Settings/ForceDischargingOff)");
	/* Released with nothing standing against the FET: the failed off is
	 * moot, the limit is not held at 0 for ever. */
	r.in.force_off[POLICY_FET_DISCHARGE] = false;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 0);
	assert_false(r.st.fet[POLICY_FET_DISCHARGE].failed);
}

static void test_never_override_bms_fet(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.status = BMS_STATUS_DISCHARGE_FET; /* the BMS or the user switched charging off */
	set_cells(&s, 3300);
	for (int k = 0; k < 120; k++) {
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
}

/* With mosfet_control off nothing is switched automatically. */
static void no_automatic_switching_when_off(void)
{
	struct run r;
	struct bms_snapshot s;
	int k;

	start(&r);
	r.cfg.mosfet_control = false;
	s = lfp();
	s.current_ma = 10000;
	s.cell_mv[9] = 3640;
	for (k = 0; k < 60; k++) {
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
}

/* Discharge side: lowest cell at UVP + 30 while discharging. */
static void discharge_fet_off_near_uvp(void)
{
	struct run r;
	struct bms_snapshot s;
	int k;

	start(&r);
	s = lfp();
	s.current_ma = -20000;
	s.cell_mv[1] = 2680;
	for (k = 0; k < 10; k++) {
		feed_frame(&r, &s, 1000);
		if (r.out.fet_request[POLICY_FET_DISCHARGE] == POLICY_FET_OFF)
			break;
	}
	assert_int_equal(k, 5);
}

/* Automatic switching: cell high while charging, then cleared, then chatter. */
static void test_automatic_fet_and_chatter(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();
	unsigned offs = 0, ons = 0;

	(void)state;
	start(&r);
	feed_frame(&r, &s, 1000);
	for (int cycle = 0; cycle < 4; cycle++) {
		/* Charging with a cell at OVP - 30 mV: off after 5 s. */
		s.current_ma = 10000;
		s.cell_mv[9] = 3620;
		s.status |= BMS_STATUS_CHARGE_FET;
		int k;

		for (k = 0; k < 10; k++) {
			feed_frame(&r, &s, 1000);
			if (r.out.fet_request[POLICY_FET_CHARGE] == POLICY_FET_OFF)
				break;
		}
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_OFF);
		assert_int_equal(k, 5);
		offs++;
		r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
		s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET;
		s.current_ma = 0;
		s.cell_mv[9] = 3580; /* not yet OVP - 80 */
		for (k = 0; k < 40; k++) {
			feed_frame(&r, &s, 1000);
			assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
		}
		s.cell_mv[9] = 3500; /* cleared: back on after 30 s */
		for (k = 0; k < 40; k++) {
			feed_frame(&r, &s, 1000);
			if (r.out.fet_request[POLICY_FET_CHARGE] == POLICY_FET_ON)
				break;
		}
		if (cycle < 3) {
			assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
			assert_int_equal(k, 30);
			ons++;
			r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
			s.status |= BMS_STATUS_CHARGE_FET;
		} else {
			/* Third cycle within the hour: it stays off, alarm up. */
			assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
			assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
			assert_non_null(strstr(r.out.charge_limitation, "locked off"));
		}
	}
	assert_int_equal(offs, 4);
	assert_int_equal(ons, 3);
	/* The user resets it through the force path; the condition is gone. */
	r.in.reset_lock[POLICY_FET_CHARGE] = true;
	int k;

	for (k = 0; k < 40; k++) {
		feed_frame(&r, &s, 1000);
		if (r.out.fet_request[POLICY_FET_CHARGE] == POLICY_FET_ON)
			break;
	}
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 0);

	no_automatic_switching_when_off();
	discharge_fet_off_near_uvp();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_fet_control),
		cmocka_unit_test(test_never_override_bms_fet),
		cmocka_unit_test(test_automatic_fet_and_chatter),
	};

	return cmocka_run_group_tests_name("policy_fet", tests, NULL, NULL);
}
