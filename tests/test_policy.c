/* SPDX-License-Identifier: MIT */
/*
 * Charge control against a pack and charger model (docs/charge-control.md;
 * docs/architecture.md "Tests"): plant tests running hours of simulated time
 * with an obedient DVCC charger, one that ignores CCL, and a rogue one. The
 * scenario series are in test_policy_limits.c, test_policy_modes.c and
 * test_policy_fet.c.
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
		feed_frame(r, &s, 1000);
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
	assert_true(st.abs_samples >= 300); /* the settling measure covers real time */
	assert_true(st.max_cell_mv < 3650); /* the BMS never had to trip */
	assert_false(p.bms_ovp);
	assert_true(st.reached_float);          /* float is reached */
	assert_true(st.abs_max_dev_mv <= 10.0); /* the high cell settles at V_chg +- 10 mV */
	/* Calm: CVL and CCL change direction at most a few times per hour. */
	assert_true(st.cvl_turns <= 6 * 3);
	assert_true(st.ccl_turns <= 6 * 3);
	assert_int_equal(st.fet_offs, 0); /* an obedient charger needs no FET */
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
		cmocka_unit_test(test_plant_dvcc_charge_to_float),
		cmocka_unit_test(test_plant_ccl_ignoring_charger),
		cmocka_unit_test(test_plant_rogue_charger),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
