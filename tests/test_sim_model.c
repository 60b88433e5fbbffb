/* SPDX-License-Identifier: MIT */
/*
 * The simulator's pack model and its controls, without a pty: what the BMS
 * reports when a sense lead is open, when its SoC drifts, when its cell
 * readings are noisy, and the scenarios built from them. The frames it
 * sends must still decode, or the service would never see these cases.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "sim_control.h"
#include "sim_model.h"

/* Encode and decode as the service would; fails the test when rejected. */
static void round_trip(const struct bms_snapshot *s, struct bms_snapshot *out)
{
	uint8_t f[CODEC_FRAME_MAX];
	struct codec_error e;
	int len = codec_encode_read_all(s, f, sizeof(f));

	assert_true(len > 0);
	f[8] = CODEC_CMD_READ_ALL;
	codec_seal(f, (size_t)len);
	if (codec_decode(f, (size_t)len, out, &e) != 0)
		fail_msg("the frame was rejected (reason %d)", (int)e.reason);
}

static uint32_t cell_sum(const struct bms_snapshot *s)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < s->cell_count; i++)
		sum += s->cell_mv[i];
	return sum;
}

static void answer(struct sim_model *m, const char *line, const char *want_prefix)
{
	char a[200];

	assert_true(sim_control_command(m, line, a, sizeof(a)));
	if (strncmp(a, want_prefix, strlen(want_prefix)) != 0)
		fail_msg("'%s' answered '%s', want '%s...'", line, a, want_prefix);
}

static void test_unmeasured_cell(void **state)
{
	struct sim_model m;
	struct bms_snapshot before, s, d;

	(void)state;
	sim_model_init(&m, 16, 1);
	sim_model_snapshot(&m, &before);
	answer(&m, "unmeasured 16", "ok");
	sim_model_snapshot(&m, &s);
	assert_int_equal(s.cell_mv[15], 0);
	assert_int_equal(s.cell_mv[14], before.cell_mv[14]);
	/* The pack voltage still holds the cell: 15 cells' sum + ~3.3 V. */
	assert_int_equal(s.voltage_mv, before.voltage_mv);
	assert_in_range(s.voltage_mv - cell_sum(&s), 3200, 3400);
	round_trip(&s, &d);
	assert_int_equal(d.cell_mv[15], 0);
	assert_int_equal(d.voltage_mv, s.voltage_mv);

	/* The BMS cannot protect what it does not measure: the hidden cell
	 * far above OVP trips nothing; a measured one does. */
	m.cell_extra_mv[15] = 500;
	sim_model_step(&m, 1);
	sim_model_snapshot(&m, &s);
	assert_false(m.ovp_tripped);
	assert_true(s.status & BMS_STATUS_CHARGE_FET);
	assert_true(sim_model_cell_mv(&m, 15) > 3700);
	assert_in_range(s.voltage_mv - cell_sum(&s), 3700, 3900);
	answer(&m, "unmeasured 0", "ok");
	sim_model_step(&m, 1);
	assert_true(m.ovp_tripped);

	/* All leads open: every cell 0, the pack voltage real, still a frame. */
	m.cell_extra_mv[15] = 0;
	answer(&m, "unmeasured all", "ok");
	sim_model_snapshot(&m, &s);
	assert_int_equal(cell_sum(&s), 0);
	assert_int_equal(s.voltage_mv, before.voltage_mv);
	round_trip(&s, &d);
	answer(&m, "unmeasured 0", "ok");
	sim_model_snapshot(&m, &s);
	assert_int_equal(s.cell_mv[0], before.cell_mv[0]);
	answer(&m, "unmeasured 17", "error");
	answer(&m, "unmeasured x", "error");
}

static void test_soc_drift(void **state)
{
	struct sim_model m;
	struct bms_snapshot s;
	unsigned lo = 100, hi = 0;

	(void)state;
	sim_model_init(&m, 16, 1);
	m.rng = 7;
	answer(&m, "socdrift 85 100", "ok");
	/* A week in 10 s steps: the reported SoC wanders over its whole range,
	 * never outside it, while the true SoC stays at 60 %. */
	for (int k = 0; k < 7 * 8640; k++) {
		sim_model_step(&m, 10);
		sim_model_snapshot(&m, &s);
		lo = s.soc_pct < lo ? s.soc_pct : lo;
		hi = s.soc_pct > hi ? s.soc_pct : hi;
	}
	assert_in_range(lo, 85, 87);
	assert_in_range(hi, 98, 100);
	assert_true(fabs(m.soc - 0.60) < 1e-9);
	answer(&m, "socdrift off", "ok");
	sim_model_snapshot(&m, &s);
	assert_int_equal(s.soc_pct, 60);
	answer(&m, "socdrift 90 80", "error");
	answer(&m, "socdrift 50 101", "error");
}

static void test_noise(void **state)
{
	struct sim_model a, b;
	struct bms_snapshot clean, ra, rb;
	unsigned differ = 0;

	(void)state;
	sim_model_init(&a, 16, 1);
	answer(&a, "noise 5", "ok");
	a.rng = 42;
	b = a;
	sim_model_snapshot(&a, &clean);
	for (int frame = 0; frame < 50; frame++) {
		sim_model_report(&a, &ra);
		sim_model_report(&b, &rb);
		/* Deterministic per seed, within +-5 mV, the pack voltage untouched. */
		assert_memory_equal(ra.cell_mv, rb.cell_mv, sizeof(ra.cell_mv));
		assert_int_equal(ra.voltage_mv, clean.voltage_mv);
		for (unsigned i = 0; i < 16; i++) {
			assert_in_range(ra.cell_mv[i], clean.cell_mv[i] - 5u, clean.cell_mv[i] + 5u);
			differ += ra.cell_mv[i] != clean.cell_mv[i];
		}
	}
	assert_true(differ > 16 * 50 / 2);
	round_trip(&ra, &rb);
	/* Another seed, other noise. */
	b.rng = 43;
	sim_model_report(&a, &ra);
	sim_model_report(&b, &rb);
	assert_memory_not_equal(ra.cell_mv, rb.cell_mv, sizeof(ra.cell_mv));
	/* An open lead stays at 0 under noise. */
	answer(&a, "unmeasured 3", "ok");
	sim_model_report(&a, &ra);
	assert_int_equal(ra.cell_mv[2], 0);
	answer(&a, "noise 0", "ok");
	sim_model_report(&a, &ra);
	assert_int_equal(ra.cell_mv[0], clean.cell_mv[0]);
}

static void test_resistance(void **state)
{
	struct sim_model m;
	struct bms_snapshot s0, s1;

	(void)state;
	sim_model_init(&m, 16, 1);
	answer(&m, "resistance 2", "ok");
	answer(&m, "current 50", "ok");
	sim_model_snapshot(&m, &s0);
	sim_model_step(&m, 0.001);
	sim_model_snapshot(&m, &s1);
	/* 50 A through 2 mOhm: each cell 100 mV up. */
	assert_in_range(s1.cell_mv[0] - s0.cell_mv[0], 99, 101);
	answer(&m, "resistance -1", "error");
}

/* A DVCC charger held at 55.2 V / 40 A by hand, as the old service did. */
static void test_open_lead_scenario(void **state)
{
	struct sim_model m;
	struct bms_snapshot s;

	(void)state;
	sim_model_init(&m, 16, 1);
	assert_true(sim_control_scenario(&m, "open-lead"));
	m.charger_cvl_v = 55.2;
	m.charger_ccl_a = 40;
	for (int minute = 0; minute <= 90; minute++) {
		double others = 0;

		sim_model_snapshot(&m, &s);
		assert_int_equal(s.cell_mv[15], 0);
		for (unsigned i = 0; i < 15; i++)
			others = fmax(others, s.cell_mv[i]);
		double gap = sim_model_cell_mv(&m, 15) - others;

		if (gap < 100 || gap > 600)
			fail_msg("minute %d: cell 16 is %.0f mV above the others", minute, gap);
		for (int k = 0; k < 60; k++)
			sim_model_step(&m, 1);
	}
	assert_true(m.soc > 0.86); /* it did charge */
	assert_false(sim_control_scenario(&m, "no-such"));
}

static void test_other_scenarios(void **state)
{
	struct sim_model m;

	(void)state;
	sim_model_init(&m, 16, 1);
	assert_true(sim_control_scenario(&m, "soc-drift"));
	assert_true(m.soc_drift && m.charger == SIM_CHARGER_DVCC && m.load_a > 0);
	assert_true(fabs(m.soc_drift_min - 0.85) < 1e-9 && fabs(m.soc_drift_max - 1.0) < 1e-9);
	sim_model_init(&m, 16, 1);
	assert_true(sim_control_scenario(&m, "noisy-cells"));
	assert_true(m.noise_mv == 5 && m.resistance_mohm == 2 && m.charger == SIM_CHARGER_DVCC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unmeasured_cell),
		cmocka_unit_test(test_soc_drift),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_resistance),
		cmocka_unit_test(test_open_lead_scenario),
		cmocka_unit_test(test_other_scenarios),
	};

	return cmocka_run_group_tests_name("sim_model", tests, NULL, NULL);
}
