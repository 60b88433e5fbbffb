/* SPDX-License-Identifier: MIT */
/*
 * The findings of the adversarial review of the first release on what the
 * BMS reports, each as a pure policy test with explicit time: unmeasured
 * cells, implausible BMS settings and settings that change, a charger that
 * obeys CVL only (docs/charge-control.md "A cell the BMS does not measure",
 * "Implausible BMS settings"). Loss of communication and the SoC are in
 * test_policy_safety_data.c, FET ownership in test_policy_safety_fet.c.
 */
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
#include "policy_steps.h"

/* Finding 1: cell 16 reads 0 mV but the pack voltage says it is at 4.0 V. */
static void test_open_sense_lead(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	for (unsigned i = 0; i < 15; i++)
		s.cell_mv[i] = 3400;
	s.cell_mv[15] = 0;
	s.voltage_mv = 55000;
	s.current_ma = 20000;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_non_null(strstr(r.out.charge_limitation, "Cell 16 not measured"));
	/* CVL never above what the pack has now: a CVL-only charger must not
	 * push on either. */
	assert_true(r.out.cvl_mv <= 55000);
	for (int k = 0; k < 3; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_INTERNAL_FAILURE], 2);
	/* The inferred 4.0 V cell is over OVP - 30 mV: the charge FET goes
	 * off while current keeps flowing (5 s from the first poll). */
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 2);
	assert_int_equal(r.out.ccl_ma, 0);

	/* The lead comes back: the alarm clears and charging resumes. */
	write_done(&r, &s, CHG, false);
	set_cells(&s, 3300);
	s.current_ma = 0;
	for (int k = 0; k < 5; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_INTERNAL_FAILURE], 0);
}

/* Finding 1: all 16 cells read 0 mV with the pack at 58 V. */
static void test_all_cells_unmeasured(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	set_cells(&s, 0);
	s.voltage_mv = 58000; /* 3625 mV a cell: over OVP - 30 mV */
	s.current_ma = 20000;
	assert_int_equal(polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 10), 6);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_true(r.out.cvl_mv <= 58000);
	assert_non_null(strstr(r.out.charge_limitation, "not measured"));
	assert_int_equal(r.out.alarm[POLICY_ALARM_INTERNAL_FAILURE], 2);
}

/* A low unmeasured cell stops discharging too; a mid one does not. */
static void test_unmeasured_cell_discharge(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	set_cells(&s, 3300);
	s.cell_mv[15] = 0;
	s.voltage_mv = 15 * 3300 + 2800; /* cell 16 at 2.80 V <= V_min 2.85 V */
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_int_equal(r.out.ccl_ma, 0);
	start(&r);
	s.voltage_mv = 16 * 3300;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_true(r.out.dcl_ma > 50000);
}

/* Finding 1: a 24-cell frame with 8 zero slots on a pack whose BMS says 16
 * cells: the extra slots are ignored, never counted. A frame that lacks
 * cells the setting has treats them as unmeasured. */
static void test_cell_count_from_setting(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.settings.cell_count = 16;
	s.cell_count = 24;
	for (unsigned i = 16; i < 24; i++)
		s.cell_mv[i] = 0;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 3450);
	assert_int_equal(r.out.battery_low_mv, 16 * 2850);
	assert_int_equal(r.out.ccl_ma, 27000);

	start(&r);
	s = lfp();
	s.settings.cell_count = 16;
	s.cell_count = 15;
	s.voltage_mv = 15 * 3300 + 3600;
	s.current_ma = 5000;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_non_null(strstr(r.out.charge_limitation, "Cell 16 not measured"));
	assert_true(r.out.cvl_mv <= 16 * 3450);
}

/* Finding 2: an LTO pack gets limits from its own settings. */
static void test_lto_settings(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.settings.cell_ovp_mv = 2850;
	s.settings.cell_ovpr_mv = 2750;
	s.settings.cell_uvp_mv = 1800;
	s.settings.cell_uvpr_mv = 2300;
	set_cells(&s, 2500);
	feed_frame(&r, &s, 1000);
	assert_true(r.out.params.valid);
	assert_int_equal(r.out.params.v_chg_mv, 2650);
	assert_int_equal(r.out.cvl_mv, 16 * 2650);
	assert_true(r.out.cvl_mv <= 16 * (2850 - 50));
	assert_int_equal(r.out.ccl_ma, 27000);

	/* NMC: OVP 4.25 V. */
	start(&r);
	s = lfp();
	s.settings.cell_ovp_mv = 4250;
	s.settings.cell_ovpr_mv = 4150;
	s.settings.cell_uvp_mv = 3000;
	s.settings.cell_uvpr_mv = 3200;
	set_cells(&s, 3700);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.cvl_mv, 16 * 4050);
}

/* Finding 2: a charge OCP of 0 makes no current allowed, keeps CVL bounded
 * by OVP and the pack, and keeps FET protection working. */
static void test_zero_ocp_keeps_fet_control(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.settings.charge_ocp_a = 0;
	s.cell_mv[4] = 3640;
	s.voltage_mv = 15 * 3300 + 3640;
	s.current_ma = 30000;
	int k = polls_until_request(&r, &s, CHG, POLICY_FET_OFF, 60);

	assert_int_equal(k, 6);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_int_equal(r.out.dcl_ma, 0);
	assert_true(r.out.cvl_mv <= s.voltage_mv);
	assert_non_null(strstr(r.out.charge_limitation, "charge OCP implausible"));
	assert_int_equal(r.out.alarm[POLICY_ALARM_INTERNAL_FAILURE], 1);
}

/* A cell-count setting below the cells in series (1 of 16, or 15 of 16):
 * only the counted cells would be watched while the pack voltage says
 * there are more. The count is implausible: no current either way. */
static void test_cell_count_below_pack(void **state)
{
	static const uint8_t counts[] = { 1, 8, 15 };
	struct run r;

	(void)state;
	for (unsigned k = 0; k < sizeof(counts); k++) {
		struct bms_snapshot s = lfp();

		start(&r);
		s.settings.cell_count = counts[k];
		s.current_ma = -20000;
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.ccl_ma, 0);
		assert_int_equal(r.out.dcl_ma, 0);
		for (int poll = 0; poll < 5; poll++)
			feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.ccl_ma, 0);
		assert_int_equal(r.out.dcl_ma, 0);
		assert_true(r.out.cvl_mv <= s.voltage_mv);
		assert_non_null(strstr(r.out.charge_limitation, "cell count implausible"));
		assert_int_equal(r.out.alarm[POLICY_ALARM_INTERNAL_FAILURE], 1);
	}
	/* The right count, under load and with the cells apart, stays plausible. */
	struct bms_snapshot s = lfp();

	start(&r);
	s.cell_mv[2] = 3150;
	s.voltage_mv = 15 * 3300 + 3150 + 900; /* 0.9 V of wiring between cells and terminals */
	feed_frame(&r, &s, 1000);
	assert_null(strstr(r.out.charge_limitation, "implausible"));
	assert_true(r.out.dcl_ma > 0);
}

/* Finding 2: temperature settings outside their encodable range or
 * inverted allow no current; the key is named. */
static void test_implausible_temperatures(void **state)
{
	static const struct {
		size_t off;
		int16_t value;
		const char *name;
	} cases[] = {
		{ offsetof(struct bms_settings, charge_otp_c), (int16_t)0x8000, "charge OTP" },
		{ offsetof(struct bms_settings, charge_otp_c), 300, "charge OTP" },
		{ offsetof(struct bms_settings, charge_utpr_c), -30, "charge UTP" }, /* below UTP -20 */
		{ offsetof(struct bms_settings, discharge_otp_c), -60, "discharge OTP" },
		{ offsetof(struct bms_settings, mosfet_otp_c), 200, "MOSFET OTP" },
	};
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct run r;
		struct bms_snapshot s = lfp();

		start(&r);
		memcpy((char *)&s.settings + cases[k].off, &cases[k].value, sizeof(int16_t));
		s.temp_c[BMS_TEMP_T1] = s.temp_c[BMS_TEMP_T2] = 6;
		feed_frame(&r, &s, 1000);
		assert_int_equal(r.out.ccl_ma, 0);
		assert_int_equal(r.out.dcl_ma, 0);
		assert_true(r.out.cvl_mv <= 52800);
		assert_non_null(strstr(r.out.charge_limitation, cases[k].name));
		assert_non_null(strstr(r.out.charge_limitation, "implausible"));
	}
	/* The inverted pair of the review: UTP 5 °C, UTPR -10 °C at 6 °C. */
	struct run r;
	struct bms_snapshot s = lfp();

	start(&r);
	s.settings.charge_utp_c = 5;
	s.settings.charge_utpr_c = -10;
	s.temp_c[BMS_TEMP_T1] = s.temp_c[BMS_TEMP_T2] = 6;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
}

/* Settings that change at run time take effect at once, both ways. */
static void test_settings_change_at_run_time(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 27000);
	s.settings.cell_ovpr_mv = 3700; /* above OVP */
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_non_null(strstr(r.out.charge_limitation, "cell OVPR implausible"));
	s.settings.cell_ovpr_mv = 3550;
	for (int k = 0; k < 120; k++)
		feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 27000);
	assert_int_equal(r.out.alarm[POLICY_ALARM_INTERNAL_FAILURE], 0);

	/* OVP and UVP themselves implausible: nothing may charge. */
	s.settings.cell_ovp_mv = 5000;
	feed_frame(&r, &s, 1000);
	assert_int_equal(r.out.ccl_ma, 0);
	assert_true(r.out.cvl_mv <= s.voltage_mv);
}

/* A charger that obeys CVL but not CCL, mid-charge, when something goes
 * wrong at t = 10 min; with MOSFET control off only CVL can stop it. The
 * BMS reads the pack 10 mV high. Returns the highest cell seen. */
enum attack {
	ATTACK_OCP_ZERO,
	ATTACK_OVP_ZERO,
	ATTACK_CELL_COUNT_20,
	ATTACK_OPEN_LEAD
};

static double cvl_only_charger(enum attack what)
{
	static struct plant p;
	struct run r;
	struct bms_snapshot s;

	start(&r);
	r.cfg.mosfet_control = false;
	plant_init(&p, 80, PLANT_CVL_ONLY, 100);
	for (int k = 0; k < 2 * 3600; k++) {
		plant_snapshot(&p, &s);
		s.voltage_mv += 10;
		if (k >= 600) {
			if (what == ATTACK_OCP_ZERO)
				s.settings.charge_ocp_a = 0;
			else if (what == ATTACK_OVP_ZERO)
				s.settings.cell_ovp_mv = 0;
			else if (what == ATTACK_CELL_COUNT_20)
				s.settings.cell_count = 20;
			else
				s.cell_mv[6] = 0;
		}
		feed_frame(&r, &s, 1000);
		if (k >= 600 + 60)
			assert_true(p.current_a < 1.0); /* stopped within a minute */
		plant_step(&p, 1, r.out.cvl_mv / 1000.0, r.out.ccl_ma / 1000.0);
	}
	return p.max_cell_seen_mv;
}

/* Review 2, finding 1 and 2: with implausible settings or an unmeasured
 * cell, CVL must stop a charger that obeys CVL only; following the pack
 * voltage under charge would hold its current. */
static void test_cvl_only_charger_stops(void **state)
{
	(void)state;
	for (int a = ATTACK_OCP_ZERO; a <= ATTACK_OPEN_LEAD; a++)
		assert_true(cvl_only_charger((enum attack)a) < 3550);
}

/* An unmeasured cell keeps CVL under the pack voltage even below the
 * V_min floor, and with a cell-count setting far above the frame's. */
static void test_unmeasured_cvl_under_pack(void **state)
{
	static const uint8_t counts[] = { 16, 20, 32 };
	(void)state;
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		struct run r;
		struct bms_snapshot s = lfp();

		start(&r);
		s.settings.cell_count = counts[k];
		set_cells(&s, counts[k] == 16 ? 2750 : 3300);
		if (counts[k] == 16)
			s.cell_mv[6] = 0, s.voltage_mv = 16 * 2750;
		feed_frame(&r, &s, 1000);
		assert_true(r.out.cvl_mv < s.voltage_mv);
		assert_int_equal(r.out.ccl_ma, 0);
		assert_int_equal(r.out.dcl_ma, 0);
	}
}

/* More cells in a frame than the model holds never reach past it. */
static void test_cell_count_clamped(void **state)
{
	struct run r;
	struct bms_snapshot s = lfp();

	(void)state;
	start(&r);
	s.cell_count = 40;
	s.settings.cell_count = 0;
	feed_frame(&r, &s, 1000);
	assert_true(r.out.params.cells <= BMS_MAX_CELLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_sense_lead),
		cmocka_unit_test(test_all_cells_unmeasured),
		cmocka_unit_test(test_unmeasured_cell_discharge),
		cmocka_unit_test(test_cell_count_from_setting),
		cmocka_unit_test(test_lto_settings),
		cmocka_unit_test(test_zero_ocp_keeps_fet_control),
		cmocka_unit_test(test_implausible_temperatures),
		cmocka_unit_test(test_settings_change_at_run_time),
		cmocka_unit_test(test_cvl_only_charger_stops),
		cmocka_unit_test(test_unmeasured_cvl_under_pack),
		cmocka_unit_test(test_cell_count_clamped),
		cmocka_unit_test(test_cell_count_below_pack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
