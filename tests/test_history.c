/* SPDX-License-Identifier: MIT */
/*
 * The battery's history (src/core/history.c, docs/dbus-paths.md "History"),
 * fed by the real battery model and policy with explicit time: the
 * integrals against hand-computed values, the cap on a gap, extremes,
 * depths of discharge ended by a full charge the policy's mode machine
 * completes, full discharges, alarm raises, the time since the last full
 * charge, a clear, and the plausibility check of values read back.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "history.h"
#include "policy_fixture.h"

struct hrun {
	struct run r;
	struct history h;
};

static void hstart(struct hrun *x)
{
	start(&x->r);
	history_init(&x->h);
}

/* One frame dt_ms after the previous one, the policy, then the history. */
static void hpoll(struct hrun *x, const struct bms_snapshot *s, uint64_t dt_ms)
{
	feed_frame(&x->r, s, dt_ms);
	struct history_input in = { &x->r.bat, &x->r.out, true, false, x->r.t, x->r.in.wall_s };

	history_step(&x->h, &in);
}

static void hpolls(struct hrun *x, const struct bms_snapshot *s, unsigned n, uint64_t dt_ms)
{
	for (unsigned k = 0; k < n; k++)
		hpoll(x, s, dt_ms);
}

static struct bms_snapshot at(int32_t ma, uint8_t soc)
{
	struct bms_snapshot s = lfp();

	s.current_ma = ma;
	s.soc_pct = soc;
	return s;
}

static void integrals(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(20000, 60); /* 52.8 V, +20 A */

	(void)state;
	hstart(&x);
	hpoll(&x, &s, 1000); /* the first frame integrates nothing */
	assert_true(x.h.v.charged_wh == 0 && x.h.v.drawn_ah == 0);
	hpolls(&x, &s, 3600, 1000); /* one hour */
	assert_true(fabs(x.h.v.charged_wh - 52.8 * 20) < 1e-6);
	assert_true(x.h.v.discharged_wh == 0 && x.h.v.drawn_ah == 0);
	/* +20 A to -10 A within one second: the line crosses 0 after 2/3 s. */
	s.current_ma = -10000;
	hpoll(&x, &s, 1000);
	assert_true(fabs(x.h.v.drawn_ah - 10 * (1.0 / 3) / 2 / 3600) < 1e-9);
	assert_true(fabs(x.h.v.charged_wh - (52.8 * 20 + 52.8 * 20 * (2.0 / 3) / 2 / 3600)) < 1e-6);
	/* Half an hour at -10 A: 5 Ah and 264 Wh more. */
	double ah = x.h.v.drawn_ah, wh = x.h.v.discharged_wh;

	hpolls(&x, &s, 1800, 1000);
	assert_true(fabs(x.h.v.drawn_ah - ah - 5) < 1e-6);
	assert_true(fabs(x.h.v.discharged_wh - wh - 264) < 1e-6);
	assert_true(x.h.changed);
}

static void gaps(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(-36000, 60); /* -36 A: 0.01 Ah a second */

	(void)state;
	hstart(&x);
	hpoll(&x, &s, 1000);
	hpoll(&x, &s, 10 * 60000); /* ten minutes without a frame count 120 s */
	assert_true(fabs(x.h.v.drawn_ah - 36.0 * HISTORY_GAP_CAP_MS / 3600000.0) < 1e-9);
	/* A lost link: nothing is known about the gap, nothing is counted. */
	double before = x.h.v.drawn_ah;
	struct history_input lost = { &x.r.bat, &x.r.out, false, true, x.r.t + 5000, x.r.in.wall_s };

	history_step(&x.h, &lost);
	hpoll(&x, &s, 30000);
	assert_true(x.h.v.drawn_ah == before);
	hpoll(&x, &s, 1000);
	assert_true(fabs(x.h.v.drawn_ah - before - 0.01) < 1e-9);
}

static void extremes(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(0, 60);

	(void)state;
	hstart(&x);
	assert_false(x.h.v.have_cells || x.h.v.have_voltage || x.h.v.have_temp);
	s.cell_mv[3] = 3210;
	s.cell_mv[9] = 3390;
	s.voltage_mv = 52700;
	s.temp_c[BMS_TEMP_T1] = 18;
	s.temp_c[BMS_TEMP_T2] = 23;
	s.temp_c[BMS_TEMP_MOSFET] = 60; /* not the battery's */
	hpoll(&x, &s, 1000);
	assert_int_equal(x.h.v.min_cell_mv, 3210);
	assert_int_equal(x.h.v.max_cell_mv, 3390);
	assert_int_equal(x.h.v.min_mv, 52700);
	assert_int_equal(x.h.v.max_mv, 52700);
	assert_int_equal(x.h.v.min_temp_c, 18);
	assert_int_equal(x.h.v.max_temp_c, 23);
	/* A cell reading 0 mV is an open lead, a sensor at -50 C is broken. */
	s = at(0, 60);
	s.cell_mv[0] = 0;
	s.voltage_mv = 53900;
	s.temp_c[BMS_TEMP_T1] = -50;
	s.temp_c[BMS_TEMP_T2] = 30;
	hpoll(&x, &s, 1000);
	assert_int_equal(x.h.v.min_cell_mv, 3210);
	assert_int_equal(x.h.v.max_cell_mv, 3390);
	assert_int_equal(x.h.v.max_mv, 53900);
	assert_int_equal(x.h.v.min_temp_c, 18);
	assert_int_equal(x.h.v.max_temp_c, 30);
}

/* Bulk to float through absorption, as the policy decides it: every cell
 * at V_chg with the current at the tail, held for a minute. */
static void full_charge(struct hrun *x, uint8_t soc)
{
	struct bms_snapshot s = at(1000, soc);

	set_cells(&s, 3450);
	hpolls(x, &s, 70, 1000);
	assert_int_equal(x->r.out.mode, POLICY_MODE_FLOAT);
}

static void discharges(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(-20000, 60);
	double avg;

	(void)state;
	hstart(&x);
	hpoll(&x, &s, 1000);
	assert_true(fabs(x.h.v.last_ah - 112) < 1e-9); /* 40 % of 280 Ah */
	s.soc_pct = 30;
	hpoll(&x, &s, 1000);
	s.soc_pct = 50;
	hpoll(&x, &s, 1000);
	assert_true(fabs(x.h.v.deepest_ah - 196) < 1e-9);
	assert_true(fabs(x.h.v.last_ah - 196) < 1e-9);
	assert_false(history_average_ah(&x.h, &avg));
	int64_t since;

	assert_false(history_since_full_s(&x.h, x.r.in.wall_s, &since));
	/* A full charge ends the discharge. */
	full_charge(&x, 100);
	int64_t full_at = x.h.v.last_full_wall_s;

	assert_true(full_at > 0);
	assert_true(history_average_ah(&x.h, &avg) && fabs(avg - 196) < 1e-9);
	assert_true(x.h.v.last_ah == 0);
	assert_true(history_since_full_s(&x.h, full_at + 125, &since) && since == 120);
	assert_true(history_since_full_s(&x.h, full_at - 10, &since) && since == 0);
	/* The next discharge, 84 Ah deep: the average of both. */
	s.soc_pct = 70;
	hpoll(&x, &s, 1000);
	assert_true(fabs(x.h.v.last_ah - 84) < 1e-9);
	assert_true(fabs(x.h.v.deepest_ah - 196) < 1e-9);
	set_cells(&s, 3250);
	hpolls(&x, &s, 400, 1000); /* float back to bulk: cells below rebulk for 5 min */
	assert_int_equal(x.r.out.mode, POLICY_MODE_BULK);
	full_charge(&x, 100);
	assert_int_equal(x.h.v.discharges, 2);
	assert_true(history_average_ah(&x.h, &avg) && fabs(avg - 140) < 1e-9);
	assert_true(x.h.v.last_full_wall_s > full_at);
	assert_true(history_values_plausible(&x.h.v));
}

static void full_discharges(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(-20000, 40);
	static const uint8_t socs[] = { 10, 5, 3, 24, 4, 25, 6, 5 };
	static const uint32_t want[] = { 0, 1, 1, 1, 1, 1, 1, 2 };

	(void)state;
	hstart(&x);
	for (size_t k = 0; k < sizeof(socs); k++) {
		s.soc_pct = socs[k];
		hpoll(&x, &s, 1000);
		assert_int_equal(x.h.v.full_discharges, want[k]);
	}
	/* The cells at the policy's floor do not make a full discharge: the
	 * SoC does. */
	s = at(-20000, 40);
	set_cells(&s, 2850);
	hpolls(&x, &s, 3, 1000);
	assert_int_equal(x.h.v.full_discharges, 2);
}

static void alarms(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(0, 60);

	(void)state;
	hstart(&x);
	hpolls(&x, &s, 3, 1000);
	s.alarms = BMS_ALARM_DISCHARGE_UNDER_VOLTAGE | BMS_ALARM_CELL_UNDER_VOLTAGE; /* one event, two paths */
	hpolls(&x, &s, 5, 1000);
	assert_int_equal(x.r.out.alarm[POLICY_ALARM_LOW_VOLTAGE], 2);
	assert_int_equal(x.h.v.low_voltage_alarms, 1);
	s.alarms = 0;
	hpolls(&x, &s, 5, 1000);
	assert_int_equal(x.r.out.alarm[POLICY_ALARM_LOW_VOLTAGE], 0);
	s.alarms = BMS_ALARM_CELL_UNDER_VOLTAGE;
	hpolls(&x, &s, 5, 1000);
	assert_int_equal(x.h.v.low_voltage_alarms, 2);
	s.alarms = BMS_ALARM_CHARGE_OVER_VOLTAGE;
	hpolls(&x, &s, 5, 1000);
	assert_int_equal(x.h.v.high_voltage_alarms, 1);
	assert_int_equal(x.h.v.low_voltage_alarms, 2);
	/* A clear keeps what is raised from being counted again. */
	history_clear(&x.h);
	assert_int_equal(x.h.v.high_voltage_alarms, 0);
	hpolls(&x, &s, 5, 1000);
	assert_int_equal(x.h.v.high_voltage_alarms, 0);
	s.alarms = 0;
	hpolls(&x, &s, 5, 1000);
	s.alarms = BMS_ALARM_CELL_OVER_VOLTAGE;
	hpolls(&x, &s, 5, 1000);
	assert_int_equal(x.h.v.high_voltage_alarms, 1);
}

static void clear(void **state)
{
	struct hrun x;
	struct bms_snapshot s = at(-20000, 30);
	int64_t since;
	double avg;

	(void)state;
	hstart(&x);
	hpolls(&x, &s, 10, 1000);
	full_charge(&x, 100);
	assert_true(x.h.v.drawn_ah > 0 && x.h.v.have_cells && x.h.v.discharges == 1);
	history_saved(&x.h);
	history_clear(&x.h);
	assert_true(x.h.changed);
	assert_false(x.h.v.have_cells || x.h.v.have_voltage || x.h.v.have_temp);
	assert_true(x.h.v.drawn_ah == 0 && x.h.v.charged_wh == 0 && x.h.v.deepest_ah == 0);
	assert_false(history_average_ah(&x.h, &avg));
	assert_false(history_since_full_s(&x.h, x.r.in.wall_s, &since));
	/* The next frame integrates from the last one (+1 A): no time is lost. */
	s = at(-36000, 90);
	hpoll(&x, &s, 1000);
	assert_true(fabs(x.h.v.drawn_ah - 36 * (36.0 / 37) / 2 / 3600) < 1e-9);
	assert_true(x.h.v.have_cells && fabs(x.h.v.last_ah - 28) < 1e-9);
}

static void plausibility(void **state)
{
	struct history_values v;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_true(history_values_plausible(&v));
	v.deepest_ah = 100, v.last_ah = 50, v.discharges = 2, v.discharges_ah = 150;
	assert_true(history_values_plausible(&v));
	struct history_values bad[8];

	for (unsigned k = 0; k < 8; k++)
		bad[k] = v;
	bad[0].drawn_ah = -1;
	bad[1].charged_wh = NAN;
	bad[2].last_ah = 101;
	bad[3].discharges_ah = 250; /* an average deeper than the deepest */
	bad[4].have_cells = true, bad[4].min_cell_mv = 3300, bad[4].max_cell_mv = 3200;
	bad[5].have_temp = true, bad[5].min_temp_c = -60, bad[5].max_temp_c = 20;
	bad[6].discharged_wh = INFINITY;
	bad[7].discharges = 0; /* a sum without discharges */
	for (unsigned k = 0; k < 8; k++) {
		if (history_values_plausible(&bad[k]))
			fail_msg("case %u passed", k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(integrals),       cmocka_unit_test(gaps),
		cmocka_unit_test(extremes),        cmocka_unit_test(discharges),
		cmocka_unit_test(full_discharges), cmocka_unit_test(alarms),
		cmocka_unit_test(clear),           cmocka_unit_test(plausibility),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
