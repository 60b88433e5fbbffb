/* SPDX-License-Identifier: MIT */
/*
 * Charge control as a pure function (docs/charge-control.md). Every number
 * that reaches a charger is decided here: the bulk/absorption/float machine
 * with the cell over-voltage controller, the current limits, what happens on
 * loss of communication, with unmeasured cells and with implausible BMS
 * settings. The parameters and cells (policy_params.c), the limiters
 * (policy_limits.c), the alarms (policy_alarms.c) and MOSFET control
 * (policy_fet.c) live beside it.
 */
#include "policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

#define ABS_START_MARGIN_MV 10
#define ABS_FULL_MARGIN_MV 25
#define ABS_FULL_HOLD_MS 60000
#define REBULK_HOLD_MS 300000
#define CVL_RAMP_MV_PER_CELL_S 1.0
/* Over-voltage controller on the highest cell: a proportional step of one
 * cell-mV per pack-mV-per-cell, an integrator, a dead band. */
#define OV_DEADBAND_MV 5
#define OV_KP 1.0
#define OV_KI_PER_S 0.05
/* Approaching V_chg, CVL is also capped near the measured pack voltage,
 * leaving headroom in proportion to how far the highest cell still is from
 * V_chg: the charger's current tapers before the cell gets there instead of
 * overshooting against a CVL far above the pack (a 100 A charger holds the
 * pack ~0.8 V above its rest voltage). */
#define HEADROOM_ZONE_MV 30
#define HEADROOM_GAIN 0.5
/* Readings are smoothed over this time constant for the controllers. */
#define FILTER_TAU_S 5.0
#define NOISE_BAND_MV 6.0
/* CVL moves in steps of 10 mV (what Venus publishes); turning back up
 * after a reduction needs this much a cell, held this long, and this long
 * since the last turn. */
#define CVL_STEP_MV 10.0
#define CVL_REVERSE_MV 2.0
#define CVL_TURN_GAP_MS (15 * 60000ull)
#define CVL_TURN_HOLD_MS 60000
#define HEADROOM_HYST_MV 10
/* How far below the pack voltage CVL goes when nothing may charge, a cell. */
#define NO_CHARGE_MARGIN_MV 20
/* The longest step the ramps and integrators take from one call to the next. */
#define DT_MAX_S 10.0

#define CHARGE_ALARM_BITS \
	(BMS_ALARM_MOSFET_OVER_TEMP | BMS_ALARM_CHARGE_OVER_VOLTAGE | BMS_ALARM_BATTERY_OVER_TEMP | \
	 BMS_ALARM_CHARGE_OVER_CURRENT | BMS_ALARM_BOX_OVER_TEMP | BMS_ALARM_LOW_TEMP | BMS_ALARM_CELL_OVER_VOLTAGE)
#define DISCHARGE_ALARM_BITS \
	(BMS_ALARM_MOSFET_OVER_TEMP | BMS_ALARM_DISCHARGE_UNDER_VOLTAGE | BMS_ALARM_BATTERY_OVER_TEMP | \
	 BMS_ALARM_DISCHARGE_OVER_CURRENT | BMS_ALARM_BOX_OVER_TEMP | BMS_ALARM_CELL_UNDER_VOLTAGE)

const char *policy_mode_name(enum policy_mode mode)
{
	switch (mode) {
	case POLICY_MODE_BULK:
		return "Bulk";
	case POLICY_MODE_ABSORPTION:
		return "Absorption";
	case POLICY_MODE_FLOAT:
		return "Float";
	}
	return "?";
}

void policy_init(struct policy_state *st)
{
	memset(st, 0, sizeof(*st));
}

void policy_restore(struct policy_state *st, const struct policy_persist *p)
{
	policy_init(st);
	st->mode = p->mode;
	st->last_full_wall_s = p->last_full_wall_s;
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		st->fet[f].owned = p->fet_owned[f];
		st->fet[f].forced = p->fet_forced[f];
		st->fet[f].locked = p->fet_locked[f];
	}
}

void policy_persist_get(const struct policy_state *st, struct policy_persist *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = st->mode;
	out->last_full_wall_s = st->last_full_wall_s;
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		/* An off-write in flight counts: if it lands, the FET is ours. */
		const struct policy_fet_state *x = &st->fet[f];

		out->fet_owned[f] = x->owned || ((x->pending || x->settling) && x->pending_value == 0);
		out->fet_forced[f] = x->forced;
		out->fet_locked[f] = x->locked;
	}
}

/* ---- charge voltage ------------------------------------------------------ */

static uint16_t median3(const uint16_t v[3])
{
	uint16_t a = v[0], b = v[1], c = v[2];

	if (a > b)
		a = v[1], b = v[0];
	return c <= a ? a : (c >= b ? b : c);
}

/* A CVL under which nothing charges: below the pack voltage by a margin a
 * cell, so that a charger obeying CVL only backs off even with the drop
 * its current makes. */
static uint32_t no_charge_mv(uint32_t pack_mv, unsigned cells)
{
	uint32_t margin = NO_CHARGE_MARGIN_MV * cells;

	return pack_mv > margin ? pack_mv - margin : 0;
}

static uint64_t since(uint64_t prev, bool active, uint64_t now)
{
	return active ? (prev ? prev : now) : 0;
}

static void enter(struct policy_state *st, enum policy_mode mode, uint64_t now)
{
	st->mode = mode;
	st->mode_since = now;
	st->full_cond_since = st->rebulk_cond_since = 0;
}

/* Bulk -> absorption -> float -> bulk, decided from the cells; the BMS's
 * SoC drifts, so it never decides alone (docs/charge-control.md "Float does
 * not trust the SoC"). */
static void mode_step(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
		      struct policy_state *st)
{
	const struct bms_snapshot *s = &in->bat->snap;
	uint64_t now = in->now_ms;
	double hi = median3(st->hi_hist); /* one glitch frame starts nothing */

	switch (st->mode) {
	case POLICY_MODE_BULK:
		if (hi >= p->v_chg_mv - ABS_START_MARGIN_MV)
			enter(st, POLICY_MODE_ABSORPTION, now);
		break;
	case POLICY_MODE_ABSORPTION: {
		/* Full: tail current and a high cell, held for a minute. A
		 * maximum time makes sure float is always reached. */
		bool full = s->current_ma <= (int32_t)p->tail_ma && hi >= p->v_chg_mv - ABS_FULL_MARGIN_MV;

		st->full_cond_since = since(st->full_cond_since, full, now);
		if ((st->full_cond_since && now - st->full_cond_since >= ABS_FULL_HOLD_MS) ||
		    now - st->mode_since >= cfg->max_absorption_ms) {
			enter(st, POLICY_MODE_FLOAT, now);
			st->last_full_wall_s = in->wall_s;
		}
		break;
	}
	case POLICY_MODE_FLOAT: {
		/* Rebulk when the highest cell stays below the rebulk voltage,
		 * or when the SoC is low and the cells agree (below float). */
		bool low = hi < p->v_rebulk_mv ||
			(cfg->rebulk_soc_pct && s->soc_pct <= cfg->rebulk_soc_pct && hi < p->v_flt_mv);
		bool overdue = cfg->full_charge_days && st->last_full_wall_s &&
			in->wall_s - st->last_full_wall_s >= (int64_t)cfg->full_charge_days * 86400;

		st->rebulk_cond_since = since(st->rebulk_cond_since, low, now);
		if ((st->rebulk_cond_since && now - st->rebulk_cond_since >= REBULK_HOLD_MS) || overdue)
			enter(st, POLICY_MODE_BULK, now);
		break;
	}
	}
}

/* The highest cell, the lowest and the pack voltage the controllers use:
 * readings jitter by several mV, so a short exponential filter smooths
 * them. A real move beyond the noise is followed at once in the direction
 * that matters (a cell rising, a cell falling): the smoothed highest cell
 * is never more than NOISE_BAND_MV below the reading, the lowest never
 * more above it. Protection (MOSFET control, alarms) reads the raw values. */
static double smooth(double prev, double x, double dt_s)
{
	if (prev <= 0 || dt_s <= 0)
		return x;
	return prev + (x - prev) * dt_s / (FILTER_TAU_S + dt_s);
}

static void filter_cells(const struct bms_snapshot *s, const struct battery_cells *c, double dt_s, bool fresh,
			 struct policy_state *st)
{
	if (!st->hi_hist[0]) {
		st->hi_hist[0] = st->hi_hist[1] = st->hi_hist[2] = c->max_mv;
	} else if (fresh) {
		st->hi_hist[0] = st->hi_hist[1];
		st->hi_hist[1] = st->hi_hist[2];
		st->hi_hist[2] = c->max_mv;
	}
	st->hi_mv = fmax(smooth(st->hi_mv, c->max_mv, dt_s), c->max_mv - NOISE_BAND_MV);
	st->lo_mv = fmin(smooth(st->lo_mv, c->min_mv, dt_s), c->min_mv + NOISE_BAND_MV);
	st->pack_mv = smooth(st->pack_mv, s->voltage_mv, dt_s);
}

/* Move CVL towards want: reductions at once (always), increases ramped.
 * Noise must not make CVL wiggle, so turning back up after a reduction
 * needs want at least CVL_REVERSE_MV a cell higher for CVL_TURN_HOLD_MS,
 * and CVL_TURN_GAP_MS since the last turn. */
static double cvl_move(double prev, double want, double ramp, double reverse, bool hold, uint64_t now,
		       struct policy_state *st)
{
	if (want < prev) {
		if (st->cvl_dir > 0)
			st->cvl_turn_ms = now;
		st->cvl_dir = -1;
		st->cvl_up_since = 0;
		return want;
	}
	if (hold || want - prev < CVL_STEP_MV)
		return prev;
	if (st->cvl_dir < 0) {
		bool far = want - prev >= reverse;

		st->cvl_up_since = far ? (st->cvl_up_since ? st->cvl_up_since : now) : 0;
		if (!far || now - st->cvl_up_since < CVL_TURN_HOLD_MS ||
		    (st->cvl_turn_ms && now - st->cvl_turn_ms < CVL_TURN_GAP_MS))
			return prev;
		st->cvl_turn_ms = now;
	}
	st->cvl_dir = 1;
	return fmin(want, prev + ramp);
}

static uint32_t cvl_step(const struct policy_params *p, const struct bms_snapshot *s, const struct battery_cells *c,
			 double dt_s, uint64_t now, struct policy_state *st, bool *limiting)
{
	unsigned n = p->cells;
	double target = (double)(st->mode == POLICY_MODE_FLOAT ? p->v_flt_mv : p->v_chg_mv) * n;
	double ramp = CVL_RAMP_MV_PER_CELL_S * n * dt_s;
	double floor_mv = (double)p->v_min_mv * n, cap = (double)p->v_chg_mv * n;

	/* The mode's target moves gently (float: no step down). */
	double mode = st->mode_cvl_mv ? st->mode_cvl_mv : target;

	mode = target > mode ? fmin(target, mode + ramp) : fmax(target, mode - ramp);
	st->mode_cvl_mv = (uint32_t)lround(mode);

	/* Highest cell above V_chg: pull CVL down, below the pack voltage if
	 * need be, until that cell settles at V_chg (PI with anti-windup).
	 * Inside the dead band CVL holds; below it the integrator unwinds and
	 * CVL recovers at most 1 mV/cell/s. */
	double e = st->hi_mv - p->v_chg_mv;
	double prev = st->cvl_mv ? st->cvl_mv : floor(mode / CVL_STEP_MV) * CVL_STEP_MV;
	double reduce;

	if (e > OV_DEADBAND_MV)
		st->integrator_mv += n * OV_KI_PER_S * e * dt_s;
	else if (e < -OV_DEADBAND_MV)
		st->integrator_mv -= n * OV_KI_PER_S * -e * dt_s;
	st->integrator_mv = fmax(0.0, fmin(st->integrator_mv, mode - floor_mv));
	reduce = st->integrator_mv + (e > 0 ? OV_KP * n * e : 0);

	double want = mode - reduce;

	/* The headroom zone, with hysteresis on its edge. */
	if (e > -HEADROOM_ZONE_MV)
		st->capping = true;
	else if (e < -HEADROOM_ZONE_MV - HEADROOM_HYST_MV)
		st->capping = false;
	if (st->capping)
		want = fmin(want, st->pack_mv - HEADROOM_GAIN * n * e);
	want = fmax(floor_mv, fmin(cap, want));
	want = floor(want / CVL_STEP_MV) * CVL_STEP_MV;
	/* A cell nobody measures: under the pack voltage, below the floor if
	 * need be, and never up while it lasts. */
	if (c->unmeasured)
		want = fmin(want, no_charge_mv(s->voltage_mv, n));

	bool hold = (e >= -OV_DEADBAND_MV && st->integrator_mv > 0) || c->unmeasured;
	double cvl = cvl_move(prev, want, ramp, CVL_REVERSE_MV * n, hold, now, st);

	*limiting = reduce > 0.5 * n;
	return (uint32_t)lround(cvl);
}

/* ---- the policy ---------------------------------------------------------- */

static void unmeasured_text(const struct battery_cells *c, char *buf, size_t n)
{
	if (c->unmeasured == 1)
		snprintf(buf, n, "Cell %u not measured", c->first_unmeasured);
	else
		snprintf(buf, n, "%u cells not measured, first cell %u", c->unmeasured, c->first_unmeasured);
}

/* Settings the limits cannot be derived from: no current either way, CVL
 * no higher than OVP allows and the pack has now (docs/charge-control.md
 * "Implausible BMS settings"). */
static void implausible(const struct policy_params *p, const struct policy_input *in, struct policy_state *st,
			struct policy_output *out)
{
	unsigned n = p->cells ? p->cells : 1;
	uint32_t cvl = no_charge_mv(in->bat->snap.voltage_mv, n);

	/* Only ever down: the pack voltage under charge includes the current's
	 * drop, so following it would hold a CVL-only charger's current. */
	if (p->bounded && p->cvl_cap_mv < cvl)
		cvl = p->cvl_cap_mv;
	if (st->cvl_mv && st->cvl_mv < cvl)
		cvl = st->cvl_mv;
	st->cvl_mv = cvl;
	st->cvl_dir = -1;
	st->mode_cvl_mv = 0;
	st->integrator_mv = 0;
	st->ccl_ma = st->dcl_ma = 0;
	st->ccl_ramp_ma = st->dcl_ramp_ma = 0;
	out->cvl_mv = st->cvl_mv;
	snprintf(out->charge_limitation, sizeof(out->charge_limitation), "BMS setting %s implausible", p->implausible);
	policy_copy_text(out->discharge_limitation, sizeof(out->discharge_limitation), out->charge_limitation);
}

/* The hard zeros on top of the limiters, least important first. */
static void hard_limits(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
			const struct battery_cells *c, struct policy_state *st, struct policy_limit *ccl,
			struct policy_limit *dcl)
{
	const struct bms_snapshot *s = &in->bat->snap;
	char why[96], buf[POLICY_FET_COUNT][96];
	const char *fet_why[POLICY_FET_COUNT];

	for (unsigned f = 0; f < POLICY_FET_COUNT; f++)
		fet_why[f] = policy_fet_reason(&st->fet[f], (enum policy_fet)f, buf[f], sizeof(buf[f]));
	if (in->lost) {
		policy_limit_zero(ccl, "No data from BMS");
		policy_limit_zero(dcl, "No data from BMS");
		if (!st->was_lost) {
			st->lost_since = in->now_ms;
			st->lost_dcl_ok = st->dcl_ma > 0;
		}
		const struct policy_fet_state *d = &st->fet[POLICY_FET_DISCHARGE];

		/* Optional: keep the inverter running for a while when discharge
		 * was allowed and the last known cells were in a safe middle
		 * range; never lifting a hard zero. */
		if (cfg->lost_discharge_ma && in->now_ms - st->lost_since < cfg->lost_discharge_ms && st->lost_dcl_ok &&
		    !c->unmeasured && c->min_mv >= p->v_min_mv + 150 && c->max_mv <= p->v_chg_mv - 50 &&
		    (s->status & BMS_STATUS_DISCHARGE_FET) && !(s->alarms & DISCHARGE_ALARM_BITS) && !d->forced &&
		    !d->locked && !d->failed) {
			dcl->ma = fmin(cfg->lost_discharge_ma, p->dcl_ceiling_ma);
			snprintf(dcl->why, sizeof(dcl->why), "No data from BMS (kept for a while)");
		}
		return;
	}
	if (s->alarms & CHARGE_ALARM_BITS) {
		snprintf(why, sizeof(why), "BMS alarm 0x%04X", s->alarms & CHARGE_ALARM_BITS);
		policy_limit_zero(ccl, why);
	}
	if (s->alarms & DISCHARGE_ALARM_BITS) {
		snprintf(why, sizeof(why), "BMS alarm 0x%04X", s->alarms & DISCHARGE_ALARM_BITS);
		policy_limit_zero(dcl, why);
	}
	if (!(s->status & BMS_STATUS_CHARGE_FET))
		policy_limit_zero(ccl, fet_why[0] ? fet_why[0] : "BMS charge FET off");
	if (!(s->status & BMS_STATUS_DISCHARGE_FET))
		policy_limit_zero(dcl, fet_why[1] ? fet_why[1] : "BMS discharge FET off");
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		const struct policy_fet_state *x = &st->fet[f];

		if (x->forced || x->locked || x->failed)
			policy_limit_zero(f == POLICY_FET_CHARGE ? ccl : dcl, fet_why[f]);
	}
	if (c->unmeasured) {
		/* You cannot stop short of a limit you cannot see. */
		unmeasured_text(c, why, sizeof(why));
		policy_limit_zero(ccl, why);
		if (c->mv[c->first_unmeasured - 1] <= p->v_min_mv)
			policy_limit_zero(dcl, why);
	}
}

static double step_seconds(const struct policy_state *st, uint64_t now)
{
	if (!st->init)
		return 0;
	return fmin(DT_MAX_S, (double)(now - st->last_ms) / 1000.0);
}

/* Alarms: only a new poll counts towards the debounce; frozen while the
 * data is stale. Contactor follows MOSFET control directly. */
static void alarms(const struct policy_params *p, const struct policy_input *in, const struct battery_cells *c,
		   const struct policy_state *prev, struct policy_state *st, struct policy_output *out)
{
	if (in->fresh && !in->lost) {
		uint8_t cand[POLICY_ALARM_COUNT];

		policy_alarm_candidates(p, &in->bat->snap, c, prev, cand);
		for (unsigned a = 0; a < POLICY_ALARM_CONTACTOR; a++)
			policy_debounce(&st->alarms[a], cand[a]);
	}
	bool trouble = false;

	for (unsigned f = 0; f < POLICY_FET_COUNT; f++)
		trouble |= st->fet[f].failed || st->fet[f].locked;
	st->alarms[POLICY_ALARM_CONTACTOR].level = trouble ? 2 : 0;
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++)
		out->alarm[a] = st->alarms[a].level;
}

/* CVL: the mode machine and the controller on fresh-enough data; at link
 * loss no more than float, since a charger that obeys CVL but not CCL must
 * not keep pushing bulk voltage into a pack nobody watches. */
static bool charge_voltage(const struct policy_config *cfg, const struct policy_params *p,
			   const struct policy_input *in, const struct battery_cells *c, double dt_s,
			   struct policy_state *st)
{
	bool limiting = false;

	if (!in->lost) {
		mode_step(cfg, p, in, st);
		st->cvl_mv = cvl_step(p, &in->bat->snap, c, dt_s, in->now_ms, st, &limiting);
	} else {
		uint32_t flt = (uint32_t)p->v_flt_mv * p->cells;

		if (!st->cvl_mv || st->cvl_mv > flt)
			st->cvl_mv = flt;
	}
	return limiting;
}

void policy_compute(const struct policy_config *cfg, const struct policy_input *in, const struct policy_state *prev,
		    struct policy_output *out, struct policy_state *next)
{
	const struct bms_snapshot *s = &in->bat->snap;
	struct policy_state st = *prev;
	struct policy_input now_in = *in;
	struct policy_params p;
	struct battery_cells c;
	struct policy_limit ccl_raw, ccl_up, dcl_raw, dcl_up;
	bool first = !st.init;

	/* A clock that steps back would wrap every timer: hold it instead. */
	if (st.init && now_in.now_ms < st.last_ms)
		now_in.now_ms = st.last_ms;
	in = &now_in;
	double dt_s = step_seconds(&st, in->now_ms);

	memset(out, 0, sizeof(*out));
	policy_params(cfg, s, &p);
	c = in->bat->cells;
	out->params = p;
	st.init = true;
	st.last_ms = in->now_ms;
	if (first)
		st.mode_since = in->now_ms;

	for (unsigned f = 0; f < POLICY_FET_COUNT; f++)
		policy_fet_step(cfg, &p, in, &c, (enum policy_fet)f, &st.fet[f], &out->fet_request[f]);
	alarms(&p, in, &c, prev, &st, out);
	out->mode = st.mode;
	if (!p.valid) {
		implausible(&p, in, &st, out);
		st.was_lost = in->lost;
		*next = st;
		return;
	}
	out->battery_low_mv = (uint32_t)p.v_min_mv * p.cells;
	if (!in->lost)
		filter_cells(s, &c, dt_s, in->fresh, &st);
	bool cvl_limiting = charge_voltage(cfg, &p, in, &c, dt_s, &st);

	out->cvl_mv = st.cvl_mv;
	out->mode = st.mode;

	/* The cell limiters read the smoothed cells. */
	struct battery_cells cs = c;

	cs.max_mv = (uint16_t)lround(st.hi_mv);
	cs.min_mv = (uint16_t)lround(st.lo_mv);
	policy_charge_limit(cfg, &p, s, &cs, false, &ccl_raw);
	policy_charge_limit(cfg, &p, s, &cs, true, &ccl_up);
	policy_discharge_limit(cfg, &p, s, &cs, false, &dcl_raw);
	policy_discharge_limit(cfg, &p, s, &cs, true, &dcl_up);
	hard_limits(cfg, &p, in, &c, &st, &ccl_raw, &dcl_raw);
	st.was_lost = in->lost;
	ccl_up.ma = fmin(ccl_up.ma, ccl_raw.ma);
	dcl_up.ma = fmin(dcl_up.ma, dcl_raw.ma);
	if (first) {
		/* No history: publish the computed limits directly. */
		st.ccl_ramp_ma = ccl_raw.ma;
		st.dcl_ramp_ma = dcl_raw.ma;
		st.ccl_ma = (uint32_t)ccl_raw.ma;
		st.dcl_ma = (uint32_t)dcl_raw.ma;
	} else {
		st.ccl_ma = policy_calm(ccl_raw.ma, ccl_up.ma, p.ccl_ceiling_ma, dt_s, &st.ccl_ramp_ma, st.ccl_ma);
		st.dcl_ma = policy_calm(dcl_raw.ma, dcl_up.ma, p.dcl_ceiling_ma, dt_s, &st.dcl_ramp_ma, st.dcl_ma);
	}
	out->ccl_ma = st.ccl_ma;
	out->dcl_ma = st.dcl_ma;
	if (cvl_limiting && ccl_raw.ma >= p.ccl_ceiling_ma * 0.99)
		snprintf(out->charge_limitation, sizeof(out->charge_limitation), "Cell %u high (CVL)", c.max_idx);
	else
		policy_copy_text(out->charge_limitation, sizeof(out->charge_limitation), ccl_raw.why);
	policy_copy_text(out->discharge_limitation, sizeof(out->discharge_limitation), dcl_raw.why);
	out->allow_charge = out->ccl_ma > 0 && (s->status & BMS_STATUS_CHARGE_FET);
	out->allow_discharge = out->dcl_ma > 0 && (s->status & BMS_STATUS_DISCHARGE_FET);
	*next = st;
}
