/* SPDX-License-Identifier: MIT */
/*
 * Charge control (charge-control.md §8): named scenario series with
 * explicit time asserting limits and states at each step, and plant tests
 * running hours of simulated time against a pack and charger model.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plant.h"
#include "policy.h"
#include "policy_fixture.h"

static void restore_float(struct run *r, int64_t last_full_wall_s)
{
	struct policy_persist p = { .mode = POLICY_MODE_FLOAT, .last_full_wall_s = last_full_wall_s };

	policy_restore(&r->st, &p);
}

static void test_params_from_bms(void **state)
{
	struct policy_config cfg;
	struct policy_params p;
	struct bms_snapshot s = lfp();

	(void)state;
	policy_config_default(&cfg);
	policy_params(&cfg, &s, &p);
	assert_true(p.valid);
	assert_int_equal(p.v_chg_mv, 3450);
	assert_int_equal(p.v_flt_mv, 3375);
	assert_int_equal(p.v_rebulk_mv, 3300);
	assert_int_equal(p.v_min_mv, 2850);
	assert_int_equal(p.ccl_ceiling_ma, 27000);
	assert_int_equal(p.dcl_ceiling_ma, 54000);
	assert_int_equal(p.tail_ma, 5600);
	/* Charge UTP -20 °C from the factory: the floor stays at 0 °C. */
	assert_int_equal(p.charge_tmin_c, 0);
	assert_int_equal(p.charge_tmax_c, 45);
	assert_int_equal(p.discharge_tmin_c, -10);
	assert_int_equal(p.discharge_tmax_c, 65);
	assert_int_equal(p.clamped, 0);

	/* Overrides outside the BMS's window are clamped, and say so. */
	cfg.charge_cell_mv = 3700;
	cfg.max_charge_current_ma = 100000;
	cfg.max_discharge_current_ma = 20000;
	cfg.charge_min_temp_c = -15; /* explicit: allowed down to the BMS's UTPR */
	policy_params(&cfg, &s, &p);
	assert_int_equal(p.v_chg_mv, 3500);
	assert_int_equal(p.ccl_ceiling_ma, 27000);
	assert_int_equal(p.dcl_ceiling_ma, 20000);
	assert_int_equal(p.charge_tmin_c, -10);
	assert_int_equal(p.clamped, POLICY_CLAMP_CHARGE_CELL | POLICY_CLAMP_CHARGE_CURRENT | POLICY_CLAMP_CHARGE_TEMP);

	/* Inconsistent settings: nothing is derived, no current either way. */
	struct run r;

	start(&r);
	s.settings.cell_ovpr_mv = 3700; /* above OVP */
	poll(&r, &s, 1000);
	assert_false(r.out.params.valid);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_string_equal(r.out.charge_limitation, "BMS setting cell OVPR implausible");
}

static void test_first_limits(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	assert_int_equal(r.out.cvl_mv, 16 * 3450);
	assert_int_equal(r.out.ccl_ma, 27000);
	assert_int_equal(r.out.dcl_ma, 54000);
	assert_int_equal(r.out.battery_low_mv, 16 * 2850);
	assert_string_equal(r.out.charge_limitation, "BMS over-current limit");
	assert_true(r.out.allow_charge && r.out.allow_discharge);
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++)
		assert_int_equal(r.out.alarm[a], 0);
}

/* The highest-cell limiter's breakpoints, and its hysteresis on the way up.
 * Below V_chg CVL holds the cell; above it CCL tapers. The limiter reads
 * the smoothed cell, so each level is held until the filter settled. */
static void test_cell_limiter(void **state)
{
	static const struct {
		uint16_t mv;
		uint32_t ccl;
	} down[] = {
		{ 3450, 27000 }, /* V_chg: full */
		{ 3456, 17280 }, /* 6 mV into the taper to 10 % */
		{ 3465, 2700 },  /* V_chg + 15: 10 % */
		{ 3479, 1620 },  /* on the way to 0 */
		{ 3500, 0 },     /* OVPR - 50 */
	};
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	poll(&r, &s, 1000);
	for (size_t k = 0; k < sizeof(down) / sizeof(down[0]); k++) {
		s.cell_mv[6] = down[k].mv;
		for (int i = 0; i < 40; i++)
			poll(&r, &s, 1000);
		assert_in_range(r.out.ccl_ma, down[k].ccl ? down[k].ccl - 1 : 0, down[k].ccl + 1);
	}
	/* A reduction acts in the same poll: a jump from V_chg to OVPR - 50
	 * is followed at once to within the noise band (6 mV). */
	start(&r);
	s.cell_mv[6] = 3450;
	poll(&r, &s, 1000);
	s.cell_mv[6] = 3500;
	poll(&r, &s, 1000);
	assert_true(r.out.ccl_ma <= 500);
	for (int i = 0; i < 40; i++)
		poll(&r, &s, 1000);
	assert_string_equal(r.out.charge_limitation, "Cell 7 high");
	/* Back down by 5 mV: within the 10 mV hysteresis, no increase. */
	s.cell_mv[6] = 3495;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	/* Cleared by the margin: the increase ramps, 10 % of 27 A per 10 s. */
	s.cell_mv[6] = 3300;
	for (int k = 1; k <= 10; k++) {
		poll(&r, &s, 1000);
		assert_int_equal(r.out.ccl_ma, 270u * k);
	}
	for (int k = 0; k < 90; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 27000);
}

static void test_temperature_windows(void **state)
{
	static const struct {
		int16_t t;
		uint32_t ccl;
	} cold[] = {
		{ -1, 0 },     /* below the 0 °C floor */
		{ 0, 6750 },   /* at the edge: 25 % */
		{ 1, 10800 },  /* 25 % + 75 % x 1/5 */
		{ 5, 27000 },
	};
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	for (size_t k = 0; k < sizeof(cold) / sizeof(cold[0]); k++) {
		start(&r);
		s.temp_c[BMS_TEMP_T1] = cold[k].t;
		poll(&r, &s, 1000);
		assert_int_equal(r.out.ccl_ma, cold[k].ccl);
		if (cold[k].ccl < 27000) {
			char want[32];

			snprintf(want, sizeof(want), "Cold: %d C", cold[k].t);
			assert_string_equal(r.out.charge_limitation, want);
		}
	}
	/* A cold morning: -1 °C, then warming by 1 °C a minute. Charging
	 * resumes only 2 °C inside the window, then ramps. */
	start(&r);
	s.temp_c[BMS_TEMP_T1] = -1;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	s.temp_c[BMS_TEMP_T1] = 1;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	s.temp_c[BMS_TEMP_T1] = 2;
	poll(&r, &s, 10000);
	assert_int_equal(r.out.ccl_ma, 2700);
	/* Discharge window: -10 °C (UTPR) to 65 °C. */
	s.temp_c[BMS_TEMP_T1] = -11;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_int_equal(r.out.ccl_ma, 0);
	/* Hot: 45 °C is the charge ceiling. */
	start(&r);
	s.temp_c[BMS_TEMP_T1] = 20;
	s.temp_c[BMS_TEMP_T2] = 46;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_string_equal(r.out.charge_limitation, "Hot: 46 C");
	/* MOSFET: full below OTP - 20, 0 at OTP - 5. */
	start(&r);
	s.temp_c[BMS_TEMP_T2] = 20;
	s.temp_c[BMS_TEMP_MOSFET] = 80; /* a third of the way from OTP - 20 to OTP - 5 */
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 9000);
	assert_int_equal(r.out.dcl_ma, 18000);
	assert_string_equal(r.out.charge_limitation, "MOSFET temperature 80 C");
}

static void test_discharge_and_soc_limiters(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.cell_mv[2] = 2925; /* halfway between V_min 2850 and V_min + 150 */
	poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 27000);
	assert_string_equal(r.out.discharge_limitation, "Cell 3 low");
	/* At V_min: at once to within the 6 mV noise band, then 0. */
	s.cell_mv[2] = 2850;
	poll(&r, &s, 1000);
	assert_true(r.out.dcl_ma <= 54000 * 6 / 150);
	for (int k = 0; k < 30; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	/* SoC taper: off by default, 100 % at 95 %, 10 % at 100 %. */
	start(&r);
	s = lfp();
	s.soc_pct = 100;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 27000);
	start(&r);
	r.cfg.soc_taper = true;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 2700);
	assert_string_equal(r.out.charge_limitation, "SoC 100 %");
}

static void test_fet_and_alarm_bits_zero(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	poll(&r, &s, 1000);
	s.status = BMS_STATUS_DISCHARGE_FET; /* the BMS switched charging off */
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 54000);
	assert_false(r.out.allow_charge);
	assert_string_equal(r.out.charge_limitation, "BMS charge FET off");
	s.status = BMS_STATUS_CHARGE_FET | BMS_STATUS_DISCHARGE_FET;
	s.alarms = BMS_ALARM_CELL_UNDER_VOLTAGE;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_string_equal(r.out.discharge_limitation, "BMS alarm 0x0800");
}

static void test_stale_data(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	poll(&r, &s, 1000);
	r.in.lost = true;
	poll(&r, &s, 30000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_int_equal(r.out.cvl_mv, 16 * 3375); /* float at most; still the BMS for DVCC */
	assert_string_equal(r.out.charge_limitation, "No data from BMS");
	r.in.lost = false;
	for (int k = 0; k < 100; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 54000);
	/* Optional: keep discharging for a while when the cells were safe. */
	r.cfg.lost_discharge_ma = 10000;
	r.cfg.lost_discharge_ms = 60000;
	r.in.lost = true;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 10000);
	assert_int_equal(r.out.ccl_ma, 0);
	poll(&r, &s, 59000);
	assert_int_equal(r.out.dcl_ma, 10000);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	/* Not when the last cells were near a limit. */
	start(&r);
	r.cfg.lost_discharge_ma = 10000;
	r.cfg.lost_discharge_ms = 60000;
	s.cell_mv[4] = 2950;
	poll(&r, &s, 1000);
	r.in.lost = true;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	s.cell_mv[4] = 3300;
	r.cfg.lost_discharge_ma = 0;
	/* Back: through the ramp. */
	r.in.lost = false;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 270);
	assert_int_equal(r.out.dcl_ma, 540);
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
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	s.cell_mv[0] = 3440; /* V_chg - 10: the mode reads the median of three frames */
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	/* Tail current reached but the high cell is not near V_chg: no float. */
	s.current_ma = 3000;
	s.cell_mv[0] = 3420;
	for (int k = 0; k < 120; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	/* Both, held for 60 s (from the second frame: the median of three):
	 * float. */
	s.cell_mv[0] = 3430;
	for (int k = 0; k < 61; k++) {
		poll(&r, &s, 1000);
		assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	}
	poll(&r, &s, 1000);
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

		poll(&r, &s, 1000);
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
		poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	poll(&r, &s, 1000);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	/* Rebulk on SoC: at 90 % with the cells below float, held for the
	 * rebulk time; the SoC alone never decides (it drifts). */
	start(&r);
	r.cfg.rebulk_soc_pct = 90; /* off by default */
	restore_float(&r, full_at);
	set_cells(&s, 3350);
	s.soc_pct = 91;
	for (int k = 0; k < 400; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	s.soc_pct = 90;
	for (int k = 0; k < 300; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
	/* Days between full charges. */
	start(&r);
	r.cfg.full_charge_days = 7;
	restore_float(&r, r.in.wall_s - 7 * 86400 + 10);
	s.soc_pct = 99;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	poll(&r, &s, 10000);
	assert_int_equal(r.out.mode, POLICY_MODE_BULK);
}

static void test_max_absorption_time(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.current_ma = 20000; /* never reaches the tail */
	set_cells(&s, 3445);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	for (int k = 0; k < 7199; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.mode, POLICY_MODE_ABSORPTION);
	poll(&r, &s, 1000);
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
	poll(&r, &s, 1000);
	/* No new absorption, and CVL starts at the float voltage. */
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	assert_int_equal(r.out.cvl_mv, 16 * 3375);
}

static void test_cvl_over_voltage_control(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	set_cells(&s, 3400);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 3450);
	/* Cell 7 20 mV over V_chg: CVL drops at once, by at least 16 x 20 mV. */
	s.cell_mv[6] = 3470;
	poll(&r, &s, 1000);
	assert_true(r.out.cvl_mv <= 16 * 3450 - 16 * 20);
	assert_string_equal(r.out.charge_limitation, "Cell 7 high");
	/* Held there, the integrator keeps pulling: CVL may go below the pack
	 * voltage (16 x 3400 + 70 = 54470 mV). */
	for (int k = 0; k < 60; k++)
		poll(&r, &s, 1000);
	assert_true(r.out.cvl_mv < 54470);
	assert_true(r.out.cvl_mv >= 16 * 2850);
	/* Back to V_chg: within the dead band nothing moves. */
	s.cell_mv[6] = 3450;
	poll(&r, &s, 1000);
	uint32_t held = r.out.cvl_mv;

	poll(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, held);
	/* Below: CVL recovers at most 1 mV/cell/s. */
	s.cell_mv[6] = 3400;
	for (int k = 0; k < 30; k++) {
		uint32_t prev = r.out.cvl_mv;

		poll(&r, &s, 1000);
		assert_true(r.out.cvl_mv >= prev && r.out.cvl_mv - prev <= 16);
	}
}

static void test_alarm_debounce(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	poll(&r, &s, 1000);
	s.alarms = BMS_ALARM_CELL_OVER_VOLTAGE;
	poll(&r, &s, 1000);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 2);
	/* A one-poll blip does not clear it. */
	s.alarms = 0;
	poll(&r, &s, 1000);
	s.alarms = BMS_ALARM_CELL_OVER_VOLTAGE;
	poll(&r, &s, 1000);
	s.alarms = 0;
	poll(&r, &s, 1000);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 2);
	poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);

	/* Own warning: highest cell within 50 mV of OVP, with 10 mV hysteresis. */
	s.cell_mv[3] = 3600;
	for (int k = 0; k < 3; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 1);
	s.cell_mv[3] = 3595; /* within the hysteresis: stays */
	for (int k = 0; k < 5; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 1);
	s.cell_mv[3] = 3585;
	for (int k = 0; k < 3; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);

	/* Low SoC against the BMS's setting; a cold warning at the floor. */
	s.cell_mv[3] = 3300;
	s.soc_pct = 15;
	s.temp_c[BMS_TEMP_T2] = 0;
	for (int k = 0; k < 3; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_LOW_SOC], 1);
	assert_int_equal(r.out.alarm[POLICY_ALARM_LOW_CHARGE_TEMP], 1);
	/* Stale data freezes the alarms (only fresh polls count). */
	r.in.lost = true;
	s.soc_pct = 60;
	for (int k = 0; k < 5; k++)
		poll(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_LOW_SOC], 1);
}

static void test_manual_fet_control(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	r.cfg.mosfet_control = false; /* manual control still works */
	poll(&r, &s, 1000);
	r.in.force_off[POLICY_FET_CHARGE] = true;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_OFF);
	assert_int_equal(r.out.ccl_ma, 0);
	poll(&r, &s, 1000); /* in flight: not requested again */
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET;
	poll(&r, &s, 1000);
	assert_true(r.st.fet[POLICY_FET_CHARGE].owned);
	assert_string_equal(r.out.charge_limitation, "Charge FET off by dbus-jkbms");
	/* Released: back to automatic control, which switches it on once
	 * nothing stands against it for the 30 s hold. */
	r.in.force_off[POLICY_FET_CHARGE] = false;
	for (int k = 0; k < 30; k++) {
		poll(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
	poll(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status |= BMS_STATUS_CHARGE_FET;
	poll(&r, &s, 1000);
	assert_false(r.st.fet[POLICY_FET_CHARGE].owned);
	/* Released while the off-write is still in flight: once verified the
	 * FET is ours, and comes back on after the hold. */
	r.in.force_off[POLICY_FET_CHARGE] = true;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_OFF);
	r.in.force_off[POLICY_FET_CHARGE] = false;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status &= (uint16_t)~BMS_STATUS_CHARGE_FET;
	for (int k = 0; k < 30; k++) {
		poll(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
	poll(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
	r.in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
	s.status |= BMS_STATUS_CHARGE_FET;
	poll(&r, &s, 1000);
	/* A failed write raises the contactor alarm and is named. */
	r.in.force_off[POLICY_FET_DISCHARGE] = true;
	poll(&r, &s, 1000);
	assert_int_equal(r.out.fet_request[POLICY_FET_DISCHARGE], POLICY_FET_OFF);
	r.in.force_off[POLICY_FET_DISCHARGE] = false;
	r.in.fet_result[POLICY_FET_DISCHARGE] = POLICY_FET_RESULT_NOT_APPLIED;
	poll(&r, &s, 1000);
	poll(&r, &s, 1000); /* the next frame shows it still on */
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
	assert_string_equal(r.out.discharge_limitation, "Discharge FET switch failed: not applied");
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
		poll(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
}

/* Automatic switching: cell high while charging, then cleared, then chatter. */
static void test_automatic_fet_and_chatter(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();
	unsigned offs = 0, ons = 0;

	(void)state;
	start(&r);
	poll(&r, &s, 1000);
	for (int cycle = 0; cycle < 4; cycle++) {
		/* Charging with a cell at OVP - 30 mV: off after 5 s. */
		s.current_ma = 10000;
		s.cell_mv[9] = 3620;
		s.status |= BMS_STATUS_CHARGE_FET;
		int k;

		for (k = 0; k < 10; k++) {
			poll(&r, &s, 1000);
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
			poll(&r, &s, 1000);
			assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
		}
		s.cell_mv[9] = 3500; /* cleared: back on after 30 s */
		for (k = 0; k < 40; k++) {
			poll(&r, &s, 1000);
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
		poll(&r, &s, 1000);
		if (r.out.fet_request[POLICY_FET_CHARGE] == POLICY_FET_ON)
			break;
	}
	assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_ON);
	assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 0);

	/* With mosfet_control off nothing is switched automatically. */
	start(&r);
	r.cfg.mosfet_control = false;
	s = lfp();
	s.current_ma = 10000;
	s.cell_mv[9] = 3640;
	for (k = 0; k < 60; k++) {
		poll(&r, &s, 1000);
		assert_int_equal(r.out.fet_request[POLICY_FET_CHARGE], POLICY_FET_NONE);
	}
	/* Discharge side: lowest cell at UVP + 30 while discharging. */
	start(&r);
	s = lfp();
	s.current_ma = -20000;
	s.cell_mv[1] = 2680;
	for (k = 0; k < 10; k++) {
		poll(&r, &s, 1000);
		if (r.out.fet_request[POLICY_FET_DISCHARGE] == POLICY_FET_OFF)
			break;
	}
	assert_int_equal(k, 5);
}

/* ---- plant tests ---------------------------------------------------------- */

struct plant_stats {
	double max_cell_mv;
	unsigned cvl_turns, ccl_turns;
	bool reached_float;
	uint64_t float_at_s;
	double abs_max_dev_mv; /* highest cell vs V_chg while settled in absorption */
	unsigned abs_samples;  /* seconds that measure covers */
	unsigned abs_seconds;  /* time spent in absorption */
	unsigned fet_offs, fet_ons;
	bool fet_off_before_ovp;
};

/* Count direction changes of a published value. */
static void turns(uint32_t now, uint32_t *last, int *dir, unsigned *count)
{
	if (now == *last)
		return;
	int d = now > *last ? 1 : -1;

	if (*dir && d != *dir)
		(*count)++;
	*dir = d;
	*last = now;
}

static void run_plant(struct plant *p, struct run *r, unsigned seconds, struct plant_stats *st,
		      void (*script)(struct plant *p, unsigned t, const struct policy_output *o))
{
	uint32_t last_cvl = 0, last_ccl = 0;
	int dir_cvl = 0, dir_ccl = 0;
	bool pending_fet = false;
	enum policy_fet_request pending = POLICY_FET_NONE;
	uint64_t abs_since = 0;

	memset(st, 0, sizeof(*st));
	for (unsigned t = 0; t < seconds; t++) {
		struct bms_snapshot s;

		plant_snapshot(p, &s);
		poll(r, &s, 1000);
		/* FET writes land before the next poll and are verified. */
		if (pending_fet) {
			r->in.fet_result[POLICY_FET_CHARGE] = POLICY_FET_RESULT_OK;
			pending_fet = false;
		}
		if (r->out.fet_request[POLICY_FET_CHARGE] != POLICY_FET_NONE) {
			pending = r->out.fet_request[POLICY_FET_CHARGE];
			p->charge_switch = pending == POLICY_FET_ON;
			pending_fet = true;
			if (pending == POLICY_FET_OFF) {
				st->fet_offs++;
				if (st->fet_offs == 1)
					st->fet_off_before_ovp = p->max_cell_seen_mv < 3650;
			} else {
				st->fet_ons++;
			}
		}
		if (script)
			script(p, t, &r->out);
		plant_step(p, 1.0, r->out.cvl_mv / 1000.0, r->out.ccl_ma / 1000.0);
		turns(r->out.cvl_mv, &last_cvl, &dir_cvl, &st->cvl_turns);
		turns(r->out.ccl_ma, &last_ccl, &dir_ccl, &st->ccl_turns);
		if (r->out.mode == POLICY_MODE_FLOAT && !st->reached_float) {
			st->reached_float = true;
			st->float_at_s = t;
		}
		if (r->out.mode == POLICY_MODE_ABSORPTION) {
			abs_since = abs_since ? abs_since : t + 1;
			st->abs_seconds++;
			/* Settled: from 2 minutes after absorption began. */
			if (t + 1 - abs_since > 120) {
				double hi = 0;

				for (unsigned i = 0; i < p->n; i++)
					hi = fmax(hi, plant_cell_mv(p, i));
				st->abs_max_dev_mv = fmax(st->abs_max_dev_mv, fabs(hi - 3450));
				st->abs_samples++;
			}
		}
	}
	st->max_cell_mv = p->max_cell_seen_mv;
}

static void test_plant_dvcc_charge_to_float(void **state)
{
	struct plant p;
	struct run r;
	struct plant_stats st;

	(void)state;
	plant_init(&p, 80, PLANT_DVCC, 60);
	start(&r);
	run_plant(&p, &r, 6 * 3600, &st, NULL);
	print_message("plant dvcc: max cell %.1f mV, absorption %u s (deviation %.1f mV over %u s), float after "
		      "%llu s, CVL turns %u, CCL turns %u\n",
		      st.max_cell_mv, st.abs_seconds, st.abs_max_dev_mv, st.abs_samples,
		      (unsigned long long)st.float_at_s, st.cvl_turns, st.ccl_turns);
	assert_true(st.abs_samples >= 300);      /* the settling measure covers real time */
	assert_true(st.max_cell_mv < 3650);      /* the BMS never had to trip */
	assert_false(p.bms_ovp);
	assert_true(st.reached_float);           /* float is reached */
	assert_true(st.abs_max_dev_mv <= 10.0);  /* the high cell settles at V_chg +- 10 mV */
	/* Calm: CVL and CCL change direction at most a few times per hour. */
	assert_true(st.cvl_turns <= 6 * 3);
	assert_true(st.ccl_turns <= 6 * 3);
	assert_int_equal(st.fet_offs, 0);        /* an obedient charger needs no FET */
	assert_int_equal(r.out.mode, POLICY_MODE_FLOAT);
	assert_int_equal(r.out.cvl_mv, 16 * 3375);
}

static void test_plant_ccl_ignoring_charger(void **state)
{
	struct plant p;
	struct run r;
	struct plant_stats st;

	(void)state;
	/* 100 A of solar that obeys only CVL: the cell over-voltage control
	 * on CVL is what keeps the high cell at V_chg. */
	plant_init(&p, 85, PLANT_CVL_ONLY, 100);
	start(&r);
	run_plant(&p, &r, 6 * 3600, &st, NULL);
	print_message("plant cvl-only: max cell %.1f mV, absorption %u s (deviation %.1f mV over %u s), float after "
		      "%llu s, CVL turns %u, FET offs %u\n",
		      st.max_cell_mv, st.abs_seconds, st.abs_max_dev_mv, st.abs_samples,
		      (unsigned long long)st.float_at_s, st.cvl_turns, st.fet_offs);
	assert_true(st.max_cell_mv < 3650);
	assert_false(p.bms_ovp);
	assert_true(st.reached_float);
	assert_true(st.abs_samples >= 300);
	assert_true(st.abs_max_dev_mv <= 10.0);
	assert_true(st.cvl_turns <= 6 * 3);
}

/* After the FET went off, a load drains the pack until the cells recover. */
static void rogue_script(struct plant *p, unsigned t, const struct policy_output *o)
{
	(void)o;
	p->load_a = !p->charge_switch ? 40 : 0;
	(void)t;
}

static void test_plant_rogue_charger(void **state)
{
	struct plant p;
	struct run r;
	struct plant_stats st;

	(void)state;
	plant_init(&p, 90, PLANT_ROGUE, 30);
	start(&r);
	run_plant(&p, &r, 2 * 3600, &st, rogue_script);
	print_message("plant rogue: max cell %.1f mV, FET offs %u, ons %u\n", st.max_cell_mv, st.fet_offs, st.fet_ons);
	/* CVL and CCL fall first (they do not stop this charger)... */
	assert_true(st.fet_offs >= 1);
	/* ...then the charge FET is switched off before any cell reaches OVP, */
	assert_true(st.fet_off_before_ovp);
	assert_true(st.max_cell_mv < 3650);
	assert_false(p.bms_ovp);
	/* switched back on after recovery, and after three cycles in an hour
	 * it stays off with the alarm raised. */
	assert_true(st.fet_ons >= 1);
	assert_true(st.fet_ons <= 3);
	if (st.fet_ons == 3) {
		assert_int_equal(r.out.alarm[POLICY_ALARM_CONTACTOR], 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_from_bms),
		cmocka_unit_test(test_first_limits),
		cmocka_unit_test(test_cell_limiter),
		cmocka_unit_test(test_temperature_windows),
		cmocka_unit_test(test_discharge_and_soc_limiters),
		cmocka_unit_test(test_fet_and_alarm_bits_zero),
		cmocka_unit_test(test_stale_data),
		cmocka_unit_test(test_modes_and_rebulk),
		cmocka_unit_test(test_max_absorption_time),
		cmocka_unit_test(test_restart_in_float),
		cmocka_unit_test(test_cvl_over_voltage_control),
		cmocka_unit_test(test_alarm_debounce),
		cmocka_unit_test(test_manual_fet_control),
		cmocka_unit_test(test_never_override_bms_fet),
		cmocka_unit_test(test_automatic_fet_and_chatter),
		cmocka_unit_test(test_plant_dvcc_charge_to_float),
		cmocka_unit_test(test_plant_ccl_ignoring_charger),
		cmocka_unit_test(test_plant_rogue_charger),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
