/* SPDX-License-Identifier: MIT */
/*
 * Plant tests of docs/charge-control.md ("Float does not trust the SoC",
 * "Noise and settling"): the policy drives a simulated pack and charger
 * (tests/plant.c) whose BMS reports like a real JK does: every cell reading
 * jitters by +-5 mV, cells have 1-2 mOhm of resistance, and the reported
 * SoC drifts away from the truth. The chargers obey the values as Venus
 * publishes them (CVL in 0.01 V, CCL in 0.1 A). Every run prints its
 * figures before it asserts.
 *
 * Step sizes: the service calls the policy about once a second, so every
 * run calls it, and steps the plant, every 1 s of simulated time.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plant.h"
#include "policy.h"

#define STEP_S 1
#define HOUR_MS 3600000ull
#define CALM_AFTER_MS (10 * 60000ull) /* "Noise and settling": turns count after 10 min */
#define MAX_TURNS_PER_HOUR 4
#define SETTLE_MV 10.0            /* "Noise and settling": highest cell within +-10 mV of V_chg */
#define SETTLE_ALLOW_MS 120000ull /* time allowed to settle after the cell arrived */
#define HOLD_SAMPLES 60           /* the last minute of absorption */
#define OVP_MARGIN_MV 30.0        /* no cell at OVP - 30 mV: where MOSFET control would switch the FET */
#define NOISE_MV 5.0
#define PACK_NOISE_MV 10.0
#define SEED 0x5eedu

/* ---- a run: policy and plant, one poll per step --------------------------- */

struct sim {
	struct plant p;
	struct policy_config cfg;
	struct policy_state st;
	struct policy_output out;
	struct policy_input in;
	struct bms_snapshot snap;
	struct battery bat;
	bool fet_pending[POLICY_FET_COUNT];
};

static void sim_start(struct sim *s)
{
	policy_config_default(&s->cfg);
	policy_init(&s->st);
	battery_init(&s->bat, 10);
	memset(&s->in, 0, sizeof(s->in));
	s->in.now_ms = 1000;
	s->in.wall_s = 1800000000;
	memset(s->fet_pending, 0, sizeof(s->fet_pending));
}

/* Venus publishes CVL in 0.01 V and CCL in 0.1 A: the units a charger sees. */
static long cvl_pub(const struct policy_output *o)
{
	return lround(o->cvl_mv / 10.0);
}

static long ccl_pub(const struct policy_output *o)
{
	return lround(o->ccl_ma / 100.0);
}

/* Poll the BMS, run the policy, apply FET writes (verified before the next
 * poll) and advance the plant by the step with the published limits. */
static void sim_tick(struct sim *s)
{
	plant_snapshot(&s->p, &s->snap);
	battery_update(&s->bat, &s->snap, s->in.now_ms);
	s->in.bat = &s->bat;
	s->in.fresh = true;
	policy_compute(&s->cfg, &s->in, &s->st, &s->out, &s->st);
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		bool *sw = f == POLICY_FET_CHARGE ? &s->p.charge_switch : &s->p.discharge_switch;

		s->in.fet_result[f] = s->fet_pending[f] ? POLICY_FET_RESULT_OK : POLICY_FET_RESULT_NONE;
		s->fet_pending[f] = false;
		if (s->out.fet_request[f] != POLICY_FET_NONE) {
			*sw = s->out.fet_request[f] == POLICY_FET_ON;
			s->fet_pending[f] = true;
		}
	}
	plant_step(&s->p, STEP_S, cvl_pub(&s->out) / 100.0, ccl_pub(&s->out) / 10.0);
	s->in.now_ms += STEP_S * 1000;
	s->in.wall_s += STEP_S;
}

/* ---- direction changes of a published value ------------------------------- */

#define TURN_RING 4096

struct turns {
	bool have;
	long last, turn_val;
	int dir;
	unsigned count;    /* after CALM_AFTER_MS */
	unsigned max_hour; /* most in any 60-minute window after CALM_AFTER_MS */
	long max_swing;    /* largest move between two turns, published units */
	uint64_t ring[TURN_RING];
	unsigned head, len;
};

/* A direction change is a reversal of the sign of successive nonzero changes. */
static void turns_add(struct turns *t, long v, uint64_t now_ms, uint64_t t0_ms)
{
	if (!t->have) {
		t->have = true;
		t->last = t->turn_val = v;
		return;
	}
	if (v == t->last)
		return;
	int d = v > t->last ? 1 : -1;

	if (t->dir && d != t->dir && now_ms - t0_ms >= CALM_AFTER_MS) {
		long swing = labs(t->last - t->turn_val);

		t->count++;
		t->max_swing = swing > t->max_swing ? swing : t->max_swing;
		while (t->len && now_ms - t->ring[t->head] >= HOUR_MS) {
			t->head = (t->head + 1) % TURN_RING;
			t->len--;
		}
		if (t->len == TURN_RING) { /* saturated: far beyond any limit anyway */
			t->head = (t->head + 1) % TURN_RING;
			t->len--;
		}
		t->ring[(t->head + t->len++) % TURN_RING] = now_ms;
		t->max_hour = t->len > t->max_hour ? t->len : t->max_hour;
	}
	if (t->dir && d != t->dir)
		t->turn_val = t->last;
	t->dir = d;
	t->last = v;
}

/* ---- settling of the true highest cell in absorption ---------------------- */

/*
 * What "the highest cell settles within +-10 mV of V_chg" (docs/charge-control.md
 * "Noise and settling") means here:
 * the TRUE highest cell (not the noisy reading) arrives when it first reaches
 * V_chg - 10 mV. From SETTLE_ALLOW_MS after its arrival, for as long as the
 * first absorption lasts, and in any case over the last minute of that
 * absorption (when the full condition holds, however short absorption was),
 * it must stay within V_chg +-10 mV: held at V_chg, not below it. From
 * SETTLE_ALLOW_MS after arrival to the end of the run (float included) it
 * must never exceed V_chg + 10 mV.
 */
struct settle {
	uint64_t arrive_ms; /* 0: not yet */
	int phase;          /* 0 before, 1 in, 2 after the first absorption */
	double ring[HOLD_SAMPLES];
	bool ring_counted[HOLD_SAMPLES];
	unsigned ring_n;
	double sum, min_dev, max_dev, over_mv;
	unsigned n;
};

static void settle_account(struct settle *z, double dev)
{
	z->sum += dev;
	z->min_dev = z->n ? fmin(z->min_dev, dev) : dev;
	z->max_dev = z->n ? fmax(z->max_dev, dev) : dev;
	z->n++;
}

/* The last minute of absorption counts whether or not it was settled. */
static void settle_flush(struct settle *z)
{
	unsigned k = z->ring_n < HOLD_SAMPLES ? z->ring_n : HOLD_SAMPLES;

	for (unsigned i = 0; i < k; i++) {
		if (!z->ring_counted[i])
			settle_account(z, z->ring[i]);
	}
	z->phase = 2;
}

static void settle_add(struct settle *z, const struct sim *s, uint64_t t_ms)
{
	double hi = plant_max_cell_mv(&s->p), v_chg = s->out.params.v_chg_mv;
	bool settled;

	if (!z->arrive_ms && hi >= v_chg - SETTLE_MV)
		z->arrive_ms = t_ms;
	settled = z->arrive_ms && t_ms - z->arrive_ms >= SETTLE_ALLOW_MS;
	if (settled)
		z->over_mv = fmax(z->over_mv, hi - v_chg);
	if (z->phase == 0 && s->out.mode == POLICY_MODE_ABSORPTION)
		z->phase = 1;
	if (z->phase == 1 && s->out.mode != POLICY_MODE_ABSORPTION)
		settle_flush(z);
	if (z->phase != 1)
		return;
	unsigned slot = z->ring_n++ % HOLD_SAMPLES;

	z->ring[slot] = hi - v_chg;
	z->ring_counted[slot] = settled;
	if (settled)
		settle_account(z, hi - v_chg);
}

/* ---- the plant's measurement model itself -------------------------------- */

/* The noise is what it claims: within +-5 mV of the truth, centred, covering
 * its range, the same for the same time; the defaults add none. */
static void test_plant_measurement(void **state)
{
	struct plant p;
	struct bms_snapshot s;
	double sum = 0, lo = 0, hi = 0;
	unsigned n = 0;

	(void)state;
	plant_init(&p, 75, PLANT_DVCC, 0);
	plant_snapshot(&p, &s);
	for (unsigned i = 0; i < p.n; i++)
		assert_int_equal(s.cell_mv[i], lround(plant_cell_mv(&p, i)));
	plant_set_noise(&p, NOISE_MV, PACK_NOISE_MV, SEED);
	plant_soc_stuck(&p, 85);
	for (unsigned k = 0; k < 2000; k++) {
		double true_sum = 0;

		plant_step(&p, 1, 0, 0);
		plant_snapshot(&p, &s);
		for (unsigned i = 0; i < p.n; i++) {
			double d = s.cell_mv[i] - plant_cell_mv(&p, i);

			true_sum += plant_cell_mv(&p, i);
			assert_true(fabs(d) <= NOISE_MV + 0.5);
			sum += d;
			lo = fmin(lo, d);
			hi = fmax(hi, d);
			n++;
		}
		assert_true(fabs(s.voltage_mv - true_sum) <= PACK_NOISE_MV + 5);
		assert_int_equal(s.soc_pct, 85);
	}
	assert_true(fabs(sum / n) < 0.2);
	assert_true(lo < -NOISE_MV + 0.5 && hi > NOISE_MV - 0.5);

	struct bms_snapshot again;

	plant_snapshot(&p, &again);
	assert_memory_equal(&s, &again, sizeof(s));
}

/* ---- Noise and settling ----------------------------------------------------- */

struct charge_case {
	double charger_a, mohm, soc_pct;
	unsigned hours;
};

struct charge_result {
	double cvl_per_h, ccl_per_h;
	unsigned cvl_max_h, ccl_max_h;
	double cvl_swing_v, ccl_swing_a;
	double settle_mean, settle_min, settle_max, over_mv, max_cell_mv;
	unsigned settle_n, mode_changes;
	bool reached_float;
	enum policy_mode final_mode;
	uint16_t v_chg_mv, ovp_mv;
};

static void run_charge(const struct charge_case *c, struct plant *plant, struct charge_result *r)
{
	static struct sim s;
	static struct turns tc, ti;
	struct settle z;
	enum policy_mode mode = POLICY_MODE_BULK;
	uint64_t end_ms = c->hours * HOUR_MS;

	memset(&tc, 0, sizeof(tc));
	memset(&ti, 0, sizeof(ti));
	memset(&z, 0, sizeof(z));
	memset(r, 0, sizeof(*r));
	z.over_mv = -INFINITY;
	s.p = *plant;
	sim_start(&s);
	/* PLANT_TRACE=FILE appends a line every 10 s, for tuning by eye. */
	FILE *trace = getenv("PLANT_TRACE") ? fopen(getenv("PLANT_TRACE"), "a") : NULL;

	for (uint64_t t = 0; t < end_ms; t += STEP_S * 1000) {
		sim_tick(&s);
		if (trace && t % 10000 == 0)
			fprintf(trace,
				"%.0f A %.1f mOhm t %6llu mode %d high %7.1f pack %6.0f cvl %5ld ccl %5ld i %6.1f\n",
				c->charger_a, c->mohm, (unsigned long long)(t / 1000), s.out.mode,
				plant_max_cell_mv(&s.p), s.snap.voltage_mv / 1.0, cvl_pub(&s.out), ccl_pub(&s.out),
				s.p.current_a);
		turns_add(&tc, cvl_pub(&s.out), t, 0);
		turns_add(&ti, ccl_pub(&s.out), t, 0);
		settle_add(&z, &s, t);
		if (t && s.out.mode != mode)
			r->mode_changes++;
		mode = s.out.mode;
		r->reached_float |= mode == POLICY_MODE_FLOAT;
	}
	if (trace)
		fclose(trace);
	if (z.phase == 1)
		settle_flush(&z);
	double hours = (end_ms - CALM_AFTER_MS) / (double)HOUR_MS;

	r->cvl_per_h = tc.count / hours;
	r->ccl_per_h = ti.count / hours;
	r->cvl_max_h = tc.max_hour;
	r->ccl_max_h = ti.max_hour;
	r->cvl_swing_v = tc.max_swing / 100.0;
	r->ccl_swing_a = ti.max_swing / 10.0;
	r->settle_n = z.n;
	r->settle_mean = z.n ? z.sum / z.n : NAN;
	r->settle_min = z.min_dev;
	r->settle_max = z.max_dev;
	r->over_mv = z.over_mv;
	r->max_cell_mv = s.p.max_cell_seen_mv;
	r->final_mode = s.out.mode;
	r->v_chg_mv = s.out.params.v_chg_mv;
	r->ovp_mv = s.p.base.settings.cell_ovp_mv;
	*plant = s.p;
}

static void print_charge(const char *what, const struct charge_case *c, const struct charge_result *r)
{
	print_message("%s %5.0f A %.1f mOhm: CVL %6.1f/h (max %3u in 1 h, swing %.2f V), CCL %6.1f/h (max %3u "
		      "in 1 h, swing %5.1f A), high cell vs V_chg mean %+6.1f mV [%+6.1f, %+6.1f] over %4u s, "
		      "over %+6.1f mV, max %6.1f mV, modes %u, float %s\n",
		      what, c->charger_a, c->mohm, r->cvl_per_h, r->cvl_max_h, r->cvl_swing_v, r->ccl_per_h,
		      r->ccl_max_h, r->ccl_swing_a, r->settle_mean, r->settle_min, r->settle_max, r->settle_n,
		      r->over_mv, r->max_cell_mv, r->mode_changes, r->reached_float ? "yes" : "no");
}

static void assert_charge(const struct charge_result *r)
{
	/* Calm: at most 4 direction changes in any hour after 10 minutes. */
	assert_true(r->cvl_max_h <= MAX_TURNS_PER_HOUR);
	assert_true(r->ccl_max_h <= MAX_TURNS_PER_HOUR);
	/* Settled at V_chg +-10 mV (see struct settle), measured over at
	 * least the last minute of absorption. */
	assert_true(r->settle_n >= HOLD_SAMPLES);
	assert_true(r->settle_min >= -SETTLE_MV);
	assert_true(r->settle_max <= SETTLE_MV);
	assert_true(r->over_mv <= SETTLE_MV);
	/* Bulk -> absorption -> float, once, and it stays there. */
	assert_true(r->reached_float);
	assert_int_equal(r->final_mode, POLICY_MODE_FLOAT);
	assert_true(r->mode_changes <= 2);
	/* Safe: far from the BMS's own protection. */
	assert_true(r->max_cell_mv < r->ovp_mv - OVP_MARGIN_MV);
}

/* A DVCC charger (lag 3 s) with the noise of docs/charge-control.md "Noise
 * and settling": +-5 mV per reported cell, the pack voltage measured on its
 * own with +-10 mV. The BMS's charge OCP is raised to 120 A (CCL ceiling
 * 108 A) so that the CCL ceiling does not hide the 100 A charger. */
static void noisy_plant(struct plant *p, const struct charge_case *c, unsigned seed)
{
	plant_init(p, c->soc_pct, PLANT_DVCC, c->charger_a);
	p->base.settings.charge_ocp_a = 120;
	plant_set_resistance(p, c->mohm);
	plant_set_noise(p, NOISE_MV, PACK_NOISE_MV, SEED + seed);
}

static void test_noise_and_settling(void **state)
{
	static const struct charge_case cases[] = {
		{ 20, 1, 80, 4 }, { 20, 2, 80, 4 },  { 50, 1, 75, 4 },
		{ 50, 2, 75, 4 }, { 100, 1, 75, 4 }, { 100, 2, 75, 4 },
	};
	enum {
		N = sizeof(cases) / sizeof(cases[0])
	};
	struct charge_result r[N];

	(void)state;
	for (unsigned k = 0; k < N; k++) {
		struct plant p;

		noisy_plant(&p, &cases[k], k);
		run_charge(&cases[k], &p, &r[k]);
		print_charge("9.6", &cases[k], &r[k]);
	}
	for (unsigned k = 0; k < N; k++)
		assert_charge(&r[k]);
}

/*
 * Review finding 8, as reported: +-5 mV of cell noise and 2 mOhm per cell on
 * the plant of the first release's plant tests (60 A DVCC charger, the BMS's
 * 60 A charge OCP, from 80 %) made CVL reverse 461 times an hour (swings up
 * to 0.42 V), CCL 90 times, and the high cell settle 11-19 mV below V_chg.
 */
static void test_finding8_noise_2mohm(void **state)
{
	const struct charge_case c = { 60, 2, 80, 4 };
	struct charge_result r;
	struct plant p;

	(void)state;
	plant_init(&p, c.soc_pct, PLANT_DVCC, c.charger_a);
	plant_set_resistance(&p, c.mohm);
	plant_set_noise(&p, NOISE_MV, PACK_NOISE_MV, SEED);
	run_charge(&c, &p, &r);
	print_charge("finding 8", &c, &r);
	assert_charge(&r);
}

/* A charger that obeys CVL but not CCL (solar in DC feed-in), 100 A, under
 * the same noise: CVL alone (and MOSFET control as the last resort) must
 * keep every cell below OVP. */
static void test_cvl_only_charger_noise(void **state)
{
	static const double mohm[] = { 1, 2 };

	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		const struct charge_case c = { 100, mohm[k], 80, 2 };
		struct charge_result r;
		struct plant p;

		noisy_plant(&p, &c, 10 + k);
		p.charger = PLANT_CVL_ONLY;
		run_charge(&c, &p, &r);
		print_charge("cvl-only", &c, &r);
		assert_true(r.max_cell_mv < r.ovp_mv); /* the BMS never had to trip */
		assert_false(p.bms_ovp);
		/* CVL is obeyed: not even near where MOSFET control switches the FET. */
		assert_true(r.max_cell_mv < r.ovp_mv - OVP_MARGIN_MV);
	}
}

/* ---- Float does not trust the SoC ------------------------------------------- */

#define WEEK_DAYS 7
#define DAY_S 86400u
#define PI 3.14159265358979323846
#define MAX_MODE_CHANGES_PER_DAY 2

struct week_result {
	unsigned changes[WEEK_DAYS];
	unsigned worst_day;
	double soc_rep_min, soc_rep_max, soc_true_min, soc_true_max, max_cell_mv;
	double low_high_cell_mv; /* the lowest the true highest cell went */
	uint16_t v_rebulk_mv, ovp_mv;
};

/* Solar by day (a DVCC solar charger, up to 30 A at noon, from 7 to 19 h)
 * and a 2 A load day and night: the pack loses ~9 % each night and is
 * brought back to float each day, never near the rebulk voltage. */
static void week_weather(struct plant *p, unsigned t_s)
{
	double h = (t_s % DAY_S) / 3600.0;

	p->charger_max_a = h >= 7 && h < 19 ? 30 * sin(PI * (h - 7) / 12) : 0;
	p->load_a = 2;
}

static double plant_true_soc_pct(const struct plant *p)
{
	double soc = 0;

	for (unsigned i = 0; i < p->n; i++)
		soc += p->soc[i] * 100.0 / p->n;
	return soc;
}

/* A week from midnight, the service restarted in float after a full charge. */
static void run_week(struct plant *plant, struct week_result *r)
{
	static struct sim s;
	enum policy_mode mode = POLICY_MODE_FLOAT;
	struct policy_persist kept = { .mode = POLICY_MODE_FLOAT };

	memset(r, 0, sizeof(*r));
	r->soc_rep_min = r->soc_true_min = r->low_high_cell_mv = 1e9;
	s.p = *plant;
	sim_start(&s);
	kept.last_full_wall_s = s.in.wall_s - 3600;
	policy_restore(&s.st, &kept);
	for (unsigned t = 0; t < WEEK_DAYS * DAY_S; t += STEP_S) {
		week_weather(&s.p, t);
		sim_tick(&s);
		if (s.out.mode != mode)
			r->changes[t / DAY_S]++;
		mode = s.out.mode;
		r->soc_rep_min = fmin(r->soc_rep_min, s.snap.soc_pct);
		r->soc_rep_max = fmax(r->soc_rep_max, s.snap.soc_pct);
		r->soc_true_min = fmin(r->soc_true_min, plant_true_soc_pct(&s.p));
		r->soc_true_max = fmax(r->soc_true_max, plant_true_soc_pct(&s.p));
		r->low_high_cell_mv = fmin(r->low_high_cell_mv, plant_max_cell_mv(&s.p));
	}
	for (unsigned d = 0; d < WEEK_DAYS; d++)
		r->worst_day = r->changes[d] > r->worst_day ? r->changes[d] : r->worst_day;
	r->max_cell_mv = s.p.max_cell_seen_mv;
	r->v_rebulk_mv = s.out.params.v_rebulk_mv;
	r->ovp_mv = s.p.base.settings.cell_ovp_mv;
	*plant = s.p;
}

static void print_week(const char *what, const struct week_result *r)
{
	print_message("9.5 %s: mode changes per day %u %u %u %u %u %u %u, reported SoC %.0f..%.0f %%, true SoC "
		      "%.1f..%.1f %%, true highest cell %.1f..%.1f mV\n",
		      what, r->changes[0], r->changes[1], r->changes[2], r->changes[3], r->changes[4], r->changes[5],
		      r->changes[6], r->soc_rep_min, r->soc_rep_max, r->soc_true_min, r->soc_true_max,
		      r->low_high_cell_mv, r->max_cell_mv);
}

static void assert_week(const struct week_result *r)
{
	/* The premise: the cells never gave a reason to rebulk (the highest
	 * cell stayed well above the rebulk voltage), so any rebulk came
	 * from the SoC. */
	assert_true(r->low_high_cell_mv >= r->v_rebulk_mv + 20.0);
	assert_true(r->worst_day <= MAX_MODE_CHANGES_PER_DAY);
	assert_true(r->max_cell_mv < r->ovp_mv - OVP_MARGIN_MV);
}

/* The float plant: 1 mOhm per cell and the noise of "Noise and settling", at
 * 92 % (where float holds it), the service restarted in float. */
static void float_plant(struct plant *p)
{
	plant_init(p, 92, PLANT_DVCC, 0);
	plant_set_resistance(p, 1);
	plant_set_noise(p, NOISE_MV, PACK_NOISE_MV, SEED + 20);
}

static void test_float_week_soc_wanders(void **state)
{
	struct plant p;
	struct week_result r;

	(void)state;
	float_plant(&p);
	/* The coulomb counter wanders between 85 and 100 % at 3 %/h. */
	plant_soc_wander(&p, 85, 100, 3, SEED + 21);
	run_week(&p, &r);
	print_week("SoC wandering 85..100 %", &r);
	assert_true(r.soc_rep_min <= 86 && r.soc_rep_max >= 99); /* the walk covered its range */
	assert_week(&r);
}

static void test_float_week_soc_stuck(void **state)
{
	struct plant p;
	struct week_result r;

	(void)state;
	float_plant(&p);
	plant_soc_stuck(&p, 85);
	run_week(&p, &r);
	print_week("SoC stuck at 85 %", &r);
	assert_week(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plant_measurement),      cmocka_unit_test(test_noise_and_settling),
		cmocka_unit_test(test_finding8_noise_2mohm),   cmocka_unit_test(test_cvl_only_charger_noise),
		cmocka_unit_test(test_float_week_soc_wanders), cmocka_unit_test(test_float_week_soc_stuck),
	};

	return cmocka_run_group_tests_name("plant", tests, NULL, NULL);
}
