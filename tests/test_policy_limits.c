/* SPDX-License-Identifier: MIT */
/*
 * Charge control, the limits and alarms (docs/charge-control.md): the
 * parameters taken from the BMS's settings, the first limits, the cell,
 * temperature, discharge and SoC limiters, the BMS's own FET and alarm
 * bits, stale data, the cell over-voltage control on CVL and the alarm
 * debounce; named scenario series with explicit time asserting limits and
 * states at each step.
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
	feed_frame(&r, &s, 1000);
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
	feed_frame(&r, &s, 1000);
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
	feed_frame(&r, &s, 1000);
	for (size_t k = 0; k < sizeof(down) / sizeof(down[0]); k++) {
		s.cell_mv[6] = down[k].mv;
		for (int i = 0; i < 40; i++)
			feed_frame(&r, &s, 1000);
		assert_in_range(r.out.ccl_ma, down[k].ccl ? down[k].ccl - 1 : 0, down[k].ccl + 1);
	}
	/* A reduction acts in the same poll: a jump from V_chg to OVPR - 50
	 * is followed at once to within the noise band (6 mV). */
	start(&r);
	s.cell_mv[6] = 3450;
	feed_frame(&r, &s, 1000);
	s.cell_mv[6] = 3500;
	feed_frame(&r, &s, 1000);
	assert_true(r.out.ccl_ma <= 500);
	for (int i = 0; i < 40; i++)
		feed_frame(&r, &s, 1000);
	assert_string_equal(r.out.charge_limitation, "Cell 7 high");
	/* Back down by 5 mV: within the 10 mV hysteresis, no increase. */
	s.cell_mv[6] = 3495;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	/* Cleared by the margin: the increase ramps, 10 % of 27 A per 10 s. */
	s.cell_mv[6] = 3300;
	for (int k = 1; k <= 10; k++) {
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.ccl_ma, 270u * k);
	}
	for (int k = 0; k < 90; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 27000);
}

static void test_temperature_windows(void **state)
{
	static const struct {
		int16_t t;
		uint32_t ccl;
	} cold[] = {
		{ -1, 0 },    /* below the 0 °C floor */
		{ 0, 6750 },  /* at the edge: 25 % */
		{ 1, 10800 }, /* 25 % + 75 % x 1/5 */
		{ 5, 27000 },
	};
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	for (size_t k = 0; k < sizeof(cold) / sizeof(cold[0]); k++) {
		start(&r);
		s.temp_c[BMS_TEMP_T1] = cold[k].t;
		feed_frame(&r, &s, 1000);
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
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	s.temp_c[BMS_TEMP_T1] = 1;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	s.temp_c[BMS_TEMP_T1] = 2;
	feed_frame(&r, &s, 10000);
	assert_int_equal(r.out.ccl_ma, 2700);
	/* Discharge window: -10 °C (UTPR) to 65 °C. */
	s.temp_c[BMS_TEMP_T1] = -11;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_int_equal(r.out.ccl_ma, 0);
	/* Hot: 45 °C is the charge ceiling. */
	start(&r);
	s.temp_c[BMS_TEMP_T1] = 20;
	s.temp_c[BMS_TEMP_T2] = 46;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_string_equal(r.out.charge_limitation, "Hot: 46 C");
	/* MOSFET: full below OTP - 20, 0 at OTP - 5. */
	start(&r);
	s.temp_c[BMS_TEMP_T2] = 20;
	s.temp_c[BMS_TEMP_MOSFET] = 80; /* a third of the way from OTP - 20 to OTP - 5 */
	feed_frame(&r, &s, 1000);
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
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 27000);
	assert_string_equal(r.out.discharge_limitation, "Cell 3 low");
	/* At V_min: at once to within the 6 mV noise band, then 0. */
	s.cell_mv[2] = 2850;
	feed_frame(&r, &s, 1000);
	assert_true(r.out.dcl_ma <= 54000 * 6 / 150);
	for (int k = 0; k < 30; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	/* SoC taper: off by default, 100 % at 95 %, 10 % at 100 %. */
	start(&r);
	s = lfp();
	s.soc_pct = 100;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 27000);
	start(&r);
	r.cfg.soc_taper = true;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 2700);
	assert_string_equal(r.out.charge_limitation, "SoC 100 %");
}

static void test_fet_and_alarm_bits_zero(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	feed_frame(&r, &s, 1000);
	s.status = BMS_STATUS_DISCHARGE_FET; /* the BMS switched charging off */
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 54000);
	assert_false(r.out.allow_charge);
	assert_string_equal(r.out.charge_limitation, "BMS charge FET off");
	s.status = BMS_STATUS_CHARGE_FET | BMS_STATUS_DISCHARGE_FET;
	s.alarms = BMS_ALARM_CELL_UNDER_VOLTAGE;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_string_equal(r.out.discharge_limitation, "BMS alarm 0x0800");
}

static void test_stale_data(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	feed_frame(&r, &s, 1000);
	r.in.lost = true;
	feed_frame(&r, &s, 30000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_int_equal(r.out.cvl_mv, 16 * 3375); /* float at most; still the BMS for DVCC */
	assert_string_equal(r.out.charge_limitation, "No data from BMS");
	r.in.lost = false;
	for (int k = 0; k < 100; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 54000);
	/* Optional: keep discharging for a while when the cells were safe. */
	r.cfg.lost_discharge_ma = 10000;
	r.cfg.lost_discharge_ms = 60000;
	r.in.lost = true;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 10000);
	assert_int_equal(r.out.ccl_ma, 0);
	feed_frame(&r, &s, 59000);
	assert_int_equal(r.out.dcl_ma, 10000);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	/* Not when the last cells were near a limit. */
	start(&r);
	r.cfg.lost_discharge_ma = 10000;
	r.cfg.lost_discharge_ms = 60000;
	s.cell_mv[4] = 2950;
	feed_frame(&r, &s, 1000);
	r.in.lost = true;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	s.cell_mv[4] = 3300;
	r.cfg.lost_discharge_ma = 0;
	/* Back: through the ramp. */
	r.in.lost = false;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 270);
	assert_int_equal(r.out.dcl_ma, 540);
}

static void test_cvl_over_voltage_control(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	set_cells(&s, 3400);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 3450);
	/* Cell 7 20 mV over V_chg: CVL drops at once, by at least 16 x 20 mV. */
	s.cell_mv[6] = 3470;
	feed_frame(&r, &s, 1000);
	assert_true(r.out.cvl_mv <= 16 * 3450 - 16 * 20);
	assert_string_equal(r.out.charge_limitation, "Cell 7 high");
	/* Held there, the integrator keeps pulling: CVL may go below the pack
	 * voltage (16 x 3400 + 70 = 54470 mV). */
	for (int k = 0; k < 60; k++)
		feed_frame(&r, &s, 1000);
	assert_true(r.out.cvl_mv < 54470);
	assert_true(r.out.cvl_mv >= 16 * 2850);
	/* Back to V_chg: within the dead band nothing moves. */
	s.cell_mv[6] = 3450;
	feed_frame(&r, &s, 1000);
	uint32_t held = r.out.cvl_mv;

	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, held);
	/* Below: CVL recovers at most 1 mV/cell/s. */
	s.cell_mv[6] = 3400;
	for (int k = 0; k < 30; k++) {
		uint32_t prev = r.out.cvl_mv;

		feed_frame(&r, &s, 1000);
		assert_true(r.out.cvl_mv >= prev && r.out.cvl_mv - prev <= 16);
	}
}

static void test_alarm_debounce(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	feed_frame(&r, &s, 1000);
	s.alarms = BMS_ALARM_CELL_OVER_VOLTAGE;
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 2);
	/* A one-poll blip does not clear it. */
	s.alarms = 0;
	feed_frame(&r, &s, 1000);
	s.alarms = BMS_ALARM_CELL_OVER_VOLTAGE;
	feed_frame(&r, &s, 1000);
	s.alarms = 0;
	feed_frame(&r, &s, 1000);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 2);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);

	/* Own warning: highest cell within 50 mV of OVP, with 10 mV hysteresis. */
	s.cell_mv[3] = 3600;
	for (int k = 0; k < 3; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 1);
	s.cell_mv[3] = 3595; /* within the hysteresis: stays */
	for (int k = 0; k < 5; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 1);
	s.cell_mv[3] = 3585;
	for (int k = 0; k < 3; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);

	/* Low SoC against the BMS's setting; a cold warning at the floor. */
	s.cell_mv[3] = 3300;
	s.soc_pct = 15;
	s.temp_c[BMS_TEMP_T2] = 0;
	for (int k = 0; k < 3; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_LOW_SOC], 1);
	assert_int_equal(r.out.alarm[POLICY_ALARM_LOW_CHARGE_TEMP], 1);
	/* Stale data freezes the alarms (only fresh polls count). */
	r.in.lost = true;
	s.soc_pct = 60;
	for (int k = 0; k < 5; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_LOW_SOC], 1);
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
		cmocka_unit_test(test_cvl_over_voltage_control),
		cmocka_unit_test(test_alarm_debounce),
	};

	return cmocka_run_group_tests_name("policy_limits", tests, NULL, NULL);
}
