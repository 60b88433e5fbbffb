/* SPDX-License-Identifier: MIT */
/*
 * Charge control as a pure function (charge-control.md). Every number that
 * reaches a charger is decided here: the parameters derived from the BMS's
 * own protection settings (§2), the bulk/absorption/float machine with the
 * cell over-voltage controller (§3), the current limiters with hysteresis and
 * ramps (§4), debounced alarms (§5), stale data (§6) and MOSFET control (§7).
 */
#include "policy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* §3 */
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
/* §4 */
#define CELL_TAPER_MV 50
#define CELL_HYST_MV 10
#define TEMP_HYST_C 2
#define TEMP_DERATE_C 5
#define RAMP_FRACTION_PER_S 0.01 /* 10 % of the ceiling per 10 s */
#define PUBLISH_STEP_MA 100
#define DCL_TAPER_MV 150
/* §5 */
#define ALARM_POLLS 3
/* §7 */
#define FET_FLOW_MA 500
#define FET_CELL_MARGIN_MV 30
#define FET_CELL_CLEAR_MV 80
#define FET_CELL_HOLD_MS 5000
#define FET_TEMP_HOLD_MS 10000
#define FET_CLEAR_HOLD_MS 30000
#define FET_CHATTER_WINDOW_MS 3600000ull
#define FET_RETRY_MS 60000

void policy_config_default(struct policy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->charge_min_temp_c = POLICY_UNSET_TEMP;
	c->charge_max_temp_c = POLICY_UNSET_TEMP;
	c->discharge_min_temp_c = POLICY_UNSET_TEMP;
	c->discharge_max_temp_c = POLICY_UNSET_TEMP;
	c->max_absorption_ms = 2 * 3600 * 1000;
	c->rebulk_soc_pct = 90;
	c->mosfet_control = true;
}

const char *policy_mode_name(enum policy_mode mode)
{
	switch (mode) {
	case POLICY_MODE_BULK: return "Bulk";
	case POLICY_MODE_ABSORPTION: return "Absorption";
	case POLICY_MODE_FLOAT: return "Float";
	}
	return "?";
}

const char *policy_alarm_name(enum policy_alarm a)
{
	static const char *const names[POLICY_ALARM_COUNT] = {
		[POLICY_ALARM_LOW_SOC] = "LowSoc",
		[POLICY_ALARM_HIGH_INTERNAL_TEMP] = "HighInternalTemperature",
		[POLICY_ALARM_HIGH_VOLTAGE] = "HighVoltage",
		[POLICY_ALARM_LOW_VOLTAGE] = "LowVoltage",
		[POLICY_ALARM_HIGH_TEMP] = "HighTemperature",
		[POLICY_ALARM_LOW_TEMP] = "LowTemperature",
		[POLICY_ALARM_HIGH_CHARGE_TEMP] = "HighChargeTemperature",
		[POLICY_ALARM_LOW_CHARGE_TEMP] = "LowChargeTemperature",
		[POLICY_ALARM_HIGH_CHARGE_CURRENT] = "HighChargeCurrent",
		[POLICY_ALARM_HIGH_DISCHARGE_CURRENT] = "HighDischargeCurrent",
		[POLICY_ALARM_CELL_IMBALANCE] = "CellImbalance",
		[POLICY_ALARM_HIGH_CELL_VOLTAGE] = "HighCellVoltage",
		[POLICY_ALARM_LOW_CELL_VOLTAGE] = "LowCellVoltage",
		[POLICY_ALARM_INTERNAL_FAILURE] = "InternalFailure",
		[POLICY_ALARM_CONTACTOR] = "Contactor",
	};

	return (unsigned)a < POLICY_ALARM_COUNT ? names[a] : "?";
}

void policy_init(struct policy_state *st)
{
	memset(st, 0, sizeof(*st));
}

void policy_restore(struct policy_state *st, enum policy_mode mode, int64_t last_full_wall_s)
{
	policy_init(st);
	st->mode = mode;
	st->last_full_wall_s = last_full_wall_s;
}

/* ---- §2 parameters ----------------------------------------------------- */

static int32_t clamp_i(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

static bool settings_sane(const struct bms_settings *c)
{
	return c->cell_uvp_mv >= 1500 && c->cell_uvp_mv < c->cell_uvpr_mv && c->cell_uvpr_mv < c->cell_ovpr_mv &&
	       c->cell_ovpr_mv < c->cell_ovp_mv && c->cell_ovp_mv <= 4500 &&
	       c->cell_ovpr_mv >= c->cell_uvpr_mv + 500 && c->charge_ocp_a > 0 && c->discharge_ocp_a > 0;
}

/* An override (0 = none) or the default, clamped into [lo, hi]. */
static uint16_t pick_mv(uint16_t override, int32_t def, int32_t lo, int32_t hi, uint32_t bit, uint32_t *clamped)
{
	if (!override)
		return (uint16_t)clamp_i(def, lo, hi);
	int32_t v = clamp_i(override, lo, hi);

	if (v != override)
		*clamped |= bit;
	return (uint16_t)v;
}

void policy_params(const struct policy_config *cfg, const struct bms_snapshot *snap, struct policy_params *p)
{
	const struct bms_settings *c = &snap->settings;

	memset(p, 0, sizeof(*p));
	p->valid = settings_sane(c) && snap->cell_count > 0;
	if (!p->valid)
		return;
	int32_t ovpr = c->cell_ovpr_mv, uvpr = c->cell_uvpr_mv;

	/* Stay inside the BMS's window with a margin, so that its own hard
	 * protection never has to trip. */
	p->v_chg_mv = pick_mv(cfg->charge_cell_mv, ovpr - 100, uvpr + 300, ovpr - 50, POLICY_CLAMP_CHARGE_CELL,
			      &p->clamped);
	p->v_min_mv = pick_mv(cfg->min_cell_mv, uvpr + 100, uvpr + 50, p->v_chg_mv - 200, POLICY_CLAMP_MIN_CELL,
			      &p->clamped);
	p->v_flt_mv = pick_mv(cfg->float_cell_mv, p->v_chg_mv - 75, p->v_min_mv + 100, p->v_chg_mv,
			      POLICY_CLAMP_FLOAT_CELL, &p->clamped);
	p->v_rebulk_mv = pick_mv(cfg->rebulk_cell_mv, p->v_flt_mv - 75, p->v_min_mv, p->v_flt_mv - 10,
				 POLICY_CLAMP_REBULK_CELL, &p->clamped);

	uint32_t bms_ccl = (uint32_t)c->charge_ocp_a * 900u, bms_dcl = (uint32_t)c->discharge_ocp_a * 900u;

	p->ccl_ceiling_ma = bms_ccl;
	if (cfg->max_charge_current_ma) {
		if (cfg->max_charge_current_ma > bms_ccl)
			p->clamped |= POLICY_CLAMP_CHARGE_CURRENT;
		else
			p->ccl_ceiling_ma = cfg->max_charge_current_ma;
	}
	p->dcl_ceiling_ma = bms_dcl;
	if (cfg->max_discharge_current_ma) {
		if (cfg->max_discharge_current_ma > bms_dcl)
			p->clamped |= POLICY_CLAMP_DISCHARGE_CURRENT;
		else
			p->dcl_ceiling_ma = cfg->max_discharge_current_ma;
	}
	p->tail_ma = cfg->tail_current_ma ? cfg->tail_current_ma : c->capacity_ah * 1000u / 50u;
	if (p->tail_ma < 1000)
		p->tail_ma = 1000;

	/* Never charge LiFePO4 below 0 °C unless the user set a lower floor
	 * explicitly: many JK units ship with charge UTP -20 °C. */
	int16_t tmin = cfg->charge_min_temp_c != POLICY_UNSET_TEMP ? cfg->charge_min_temp_c : 0;
	int16_t tmax = cfg->charge_max_temp_c != POLICY_UNSET_TEMP ? cfg->charge_max_temp_c : 45;

	if (tmin < c->charge_utpr_c) {
		if (cfg->charge_min_temp_c != POLICY_UNSET_TEMP)
			p->clamped |= POLICY_CLAMP_CHARGE_TEMP;
		tmin = c->charge_utpr_c;
	}
	if (tmax > c->charge_otp_c - 5) {
		if (cfg->charge_max_temp_c != POLICY_UNSET_TEMP)
			p->clamped |= POLICY_CLAMP_CHARGE_TEMP;
		tmax = (int16_t)(c->charge_otp_c - 5);
	}
	p->charge_tmin_c = tmin;
	p->charge_tmax_c = tmax;
	tmin = cfg->discharge_min_temp_c != POLICY_UNSET_TEMP ? cfg->discharge_min_temp_c : -20;
	tmax = cfg->discharge_max_temp_c != POLICY_UNSET_TEMP ? cfg->discharge_max_temp_c : INT16_MAX;
	if (tmin < c->discharge_utpr_c) {
		if (cfg->discharge_min_temp_c != POLICY_UNSET_TEMP)
			p->clamped |= POLICY_CLAMP_DISCHARGE_TEMP;
		tmin = c->discharge_utpr_c;
	}
	if (tmax > c->discharge_otp_c - 5) {
		if (cfg->discharge_max_temp_c != POLICY_UNSET_TEMP)
			p->clamped |= POLICY_CLAMP_DISCHARGE_TEMP;
		tmax = (int16_t)(c->discharge_otp_c - 5);
	}
	p->discharge_tmin_c = tmin;
	p->discharge_tmax_c = tmax;
}

/* ---- helpers on the snapshot -------------------------------------------- */

struct cells {
	uint16_t max_mv, min_mv;
	unsigned max_idx, min_idx; /* 1-based */
	bool any;
};

static struct cells cell_stats(const struct bms_snapshot *s)
{
	struct cells c = { 0, UINT16_MAX, 0, 0, false };

	for (unsigned i = 0; i < s->cell_count; i++) {
		uint16_t v = s->cell_mv[i];

		if (!v)
			continue; /* missing, not 0 V */
		if (v > c.max_mv)
			c.max_mv = v, c.max_idx = i + 1;
		if (v < c.min_mv)
			c.min_mv = v, c.min_idx = i + 1;
		c.any = true;
	}
	return c;
}

static int16_t tmin_of(const struct bms_snapshot *s)
{
	return s->temp_c[BMS_TEMP_T1] < s->temp_c[BMS_TEMP_T2] ? s->temp_c[BMS_TEMP_T1] : s->temp_c[BMS_TEMP_T2];
}

static int16_t tmax_of(const struct bms_snapshot *s)
{
	return s->temp_c[BMS_TEMP_T1] > s->temp_c[BMS_TEMP_T2] ? s->temp_c[BMS_TEMP_T1] : s->temp_c[BMS_TEMP_T2];
}

/* ---- §4 limiters --------------------------------------------------------- */

struct limit {
	double ma;
	char why[96];
};

static void limit_to(struct limit *l, double ma, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void limit_to(struct limit *l, double ma, const char *fmt, ...)
{
	va_list ap;

	if (ma < 0)
		ma = 0;
	if (ma >= l->ma)
		return;
	l->ma = ma;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
}

/* A hard zero: overrides whatever limited before (callers go from the
 * least to the most important reason, the last one is shown). */
static void limit_zero(struct limit *l, const char *why)
{
	l->ma = 0;
	snprintf(l->why, sizeof(l->why), "%s", why);
}

static double lerp(double x, double x0, double y0, double x1, double y1)
{
	if (x <= x0)
		return y0;
	if (x >= x1)
		return y1;
	return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

/* Full up to V_chg - 50 mV, taper to 10 % at V_chg (absorption still has its
 * tail current), then to 0 at OVPR - 50 mV. */
static double cell_charge_fraction(double v, const struct policy_params *p, uint16_t ovpr)
{
	double zero = ovpr - 50.0;

	if (v <= p->v_chg_mv)
		return lerp(v, p->v_chg_mv - CELL_TAPER_MV, 1.0, p->v_chg_mv, 0.1);
	if (zero <= p->v_chg_mv)
		return 0;
	return lerp(v, p->v_chg_mv, 0.1, zero, 0.0);
}

/* 0 outside [lo, hi]; 25 % at an edge rising to 100 % 5 °C inside. */
static double temp_fraction(double tmin, double tmax, double lo, double hi)
{
	if (tmin < lo || tmax > hi)
		return 0;
	double a = lerp(tmin, lo, 0.25, lo + TEMP_DERATE_C, 1.0);
	double b = lerp(tmax, hi - TEMP_DERATE_C, 1.0, hi, 0.25);

	return a < b ? a : b;
}

static double mosfet_fraction(double t, int16_t otp)
{
	return lerp(t, otp - 20.0, 1.0, otp - 5.0, 0.0);
}

/* CCL from every limiter. hyst: evaluate as if the condition were worse by
 * the hysteresis margins (used to decide whether an increase may happen). */
static void charge_limit(const struct policy_config *cfg, const struct policy_params *p, const struct bms_snapshot *s,
			 bool hyst, struct limit *l)
{
	struct cells c = cell_stats(s);
	double dv = hyst ? CELL_HYST_MV : 0, dt = hyst ? TEMP_HYST_C : 0;
	double ceiling = p->ccl_ceiling_ma;

	l->ma = ceiling;
	snprintf(l->why, sizeof(l->why), "%s",
		 cfg->max_charge_current_ma && p->ccl_ceiling_ma == cfg->max_charge_current_ma ? "Configured maximum"
												: "BMS over-current limit");
	if (c.any)
		limit_to(l, ceiling * cell_charge_fraction(c.max_mv + dv, p, s->settings.cell_ovpr_mv), "Cell %u high",
			 c.max_idx);
	double tf = temp_fraction(tmin_of(s) - dt, tmax_of(s) + dt, p->charge_tmin_c, p->charge_tmax_c);

	if (tmin_of(s) - dt < p->charge_tmin_c + TEMP_DERATE_C)
		limit_to(l, ceiling * tf, "Cold: %d C", tmin_of(s));
	else
		limit_to(l, ceiling * tf, "Hot: %d C", tmax_of(s));
	limit_to(l, ceiling * mosfet_fraction(s->temp_c[BMS_TEMP_MOSFET] + dt, s->settings.mosfet_otp_c),
		 "MOSFET temperature %d C", s->temp_c[BMS_TEMP_MOSFET]);
	if (cfg->soc_taper)
		limit_to(l, ceiling * lerp(s->soc_pct, 95, 1.0, 100, 0.1), "SoC %u %%", s->soc_pct);
}

static void discharge_limit(const struct policy_params *p, const struct policy_config *cfg,
			    const struct bms_snapshot *s, bool hyst, struct limit *l)
{
	struct cells c = cell_stats(s);
	double dv = hyst ? CELL_HYST_MV : 0, dt = hyst ? TEMP_HYST_C : 0;
	double ceiling = p->dcl_ceiling_ma;

	l->ma = ceiling;
	snprintf(l->why, sizeof(l->why), "%s",
		 cfg->max_discharge_current_ma && p->dcl_ceiling_ma == cfg->max_discharge_current_ma
			 ? "Configured maximum"
			 : "BMS over-current limit");
	if (c.any)
		limit_to(l, ceiling * lerp(c.min_mv - dv, p->v_min_mv, 0.0, p->v_min_mv + DCL_TAPER_MV, 1.0),
			 "Cell %u low", c.min_idx);
	double tf = temp_fraction(tmin_of(s) - dt, tmax_of(s) + dt, p->discharge_tmin_c, p->discharge_tmax_c);

	if (tmin_of(s) - dt < p->discharge_tmin_c + TEMP_DERATE_C)
		limit_to(l, ceiling * tf, "Cold: %d C", tmin_of(s));
	else
		limit_to(l, ceiling * tf, "Hot: %d C", tmax_of(s));
	limit_to(l, ceiling * mosfet_fraction(s->temp_c[BMS_TEMP_MOSFET] + dt, s->settings.mosfet_otp_c),
		 "MOSFET temperature %d C", s->temp_c[BMS_TEMP_MOSFET]);
}

#define CHARGE_ALARM_BITS                                                                                  \
	(BMS_ALARM_MOSFET_OVER_TEMP | BMS_ALARM_CHARGE_OVER_VOLTAGE | BMS_ALARM_BATTERY_OVER_TEMP |        \
	 BMS_ALARM_CHARGE_OVER_CURRENT | BMS_ALARM_BOX_OVER_TEMP | BMS_ALARM_LOW_TEMP | BMS_ALARM_CELL_OVER_VOLTAGE)
#define DISCHARGE_ALARM_BITS                                                                               \
	(BMS_ALARM_MOSFET_OVER_TEMP | BMS_ALARM_DISCHARGE_UNDER_VOLTAGE | BMS_ALARM_BATTERY_OVER_TEMP |    \
	 BMS_ALARM_DISCHARGE_OVER_CURRENT | BMS_ALARM_BOX_OVER_TEMP | BMS_ALARM_CELL_UNDER_VOLTAGE)

/* Calm output: reductions now; increases only once the condition cleared by
 * its hysteresis, then ramped; published in steps of at least 0.1 A. */
static uint32_t calm(double raw, double up, double ceiling, double dt_s, double *ramp, uint32_t published)
{
	if (raw < *ramp) {
		*ramp = raw;
	} else if (up > *ramp) {
		double step = ceiling * RAMP_FRACTION_PER_S * dt_s;

		*ramp = up < *ramp + step ? up : *ramp + step;
	}
	uint32_t v = (uint32_t)floor(*ramp);

	if (v == 0 || v < published || v >= published + PUBLISH_STEP_MA || v == (uint32_t)floor(up))
		return v;
	return published;
}

/* ---- §5 alarms ----------------------------------------------------------- */

/* value at/over threshold raises; it clears only below threshold - margin. */
static bool at_or_above(double v, double threshold, double margin, bool active)
{
	return active ? v > threshold - margin : v >= threshold;
}

static bool at_or_below(double v, double threshold, double margin, bool active)
{
	return active ? v < threshold + margin : v <= threshold;
}

static void alarm_candidates(const struct policy_params *p, const struct bms_snapshot *s,
			     const struct policy_state *prev, uint8_t cand[POLICY_ALARM_COUNT])
{
	const struct bms_settings *c = &s->settings;
	struct cells cs = cell_stats(s);
	uint16_t bits = s->alarms;
	int16_t tmin = tmin_of(s), tmax = tmax_of(s);

#define ACTIVE(a) (prev->alarms[a].level >= 1)
	memset(cand, 0, POLICY_ALARM_COUNT);
	cand[POLICY_ALARM_LOW_SOC] = (bits & BMS_ALARM_LOW_CAPACITY) ||
				     at_or_below(s->soc_pct, c->low_soc_alarm_pct - 1, 2, ACTIVE(POLICY_ALARM_LOW_SOC));
	cand[POLICY_ALARM_HIGH_INTERNAL_TEMP] =
		(bits & BMS_ALARM_MOSFET_OVER_TEMP) ? 2
		: at_or_above(s->temp_c[BMS_TEMP_MOSFET], c->mosfet_otp_c - 5, 2, ACTIVE(POLICY_ALARM_HIGH_INTERNAL_TEMP));
	cand[POLICY_ALARM_HIGH_VOLTAGE] = (bits & BMS_ALARM_CHARGE_OVER_VOLTAGE) ? 2 : 0;
	cand[POLICY_ALARM_LOW_VOLTAGE] = (bits & BMS_ALARM_DISCHARGE_UNDER_VOLTAGE) ? 2 : 0;
	int16_t otp = c->charge_otp_c < c->discharge_otp_c ? c->charge_otp_c : c->discharge_otp_c;

	cand[POLICY_ALARM_HIGH_TEMP] = (bits & (BMS_ALARM_BATTERY_OVER_TEMP | BMS_ALARM_BOX_OVER_TEMP))
					       ? 2
					       : at_or_above(tmax, otp - 5, 2, ACTIVE(POLICY_ALARM_HIGH_TEMP));
	cand[POLICY_ALARM_LOW_TEMP] = at_or_below(tmin, c->discharge_utp_c + 5, 2, ACTIVE(POLICY_ALARM_LOW_TEMP));
	cand[POLICY_ALARM_HIGH_CHARGE_TEMP] = at_or_above(tmax, c->charge_otp_c - 5, 2,
							  ACTIVE(POLICY_ALARM_HIGH_CHARGE_TEMP));
	int floor_c = c->charge_utp_c + 5 > p->charge_tmin_c ? c->charge_utp_c + 5 : p->charge_tmin_c;

	cand[POLICY_ALARM_LOW_CHARGE_TEMP] = (bits & BMS_ALARM_LOW_TEMP)
						     ? 2
						     : at_or_below(tmin, floor_c, 2, ACTIVE(POLICY_ALARM_LOW_CHARGE_TEMP));
	cand[POLICY_ALARM_HIGH_CHARGE_CURRENT] = (bits & BMS_ALARM_CHARGE_OVER_CURRENT) ? 2 : 0;
	cand[POLICY_ALARM_HIGH_DISCHARGE_CURRENT] = (bits & BMS_ALARM_DISCHARGE_OVER_CURRENT) ? 2 : 0;
	cand[POLICY_ALARM_CELL_IMBALANCE] =
		(bits & BMS_ALARM_CELL_DIFFERENCE) ? 2
		: cs.any && at_or_above(cs.max_mv - cs.min_mv, c->balance_trigger_mv + 50.0 + 1, 10,
					ACTIVE(POLICY_ALARM_CELL_IMBALANCE));
	cand[POLICY_ALARM_HIGH_CELL_VOLTAGE] =
		(bits & BMS_ALARM_CELL_OVER_VOLTAGE) ? 2
		: cs.any && at_or_above(cs.max_mv, c->cell_ovp_mv - 50.0, 10, ACTIVE(POLICY_ALARM_HIGH_CELL_VOLTAGE));
	cand[POLICY_ALARM_LOW_CELL_VOLTAGE] =
		(bits & BMS_ALARM_CELL_UNDER_VOLTAGE) ? 2
		: cs.any && at_or_below(cs.min_mv, c->cell_uvp_mv + 50.0, 10, ACTIVE(POLICY_ALARM_LOW_CELL_VOLTAGE));
	cand[POLICY_ALARM_INTERNAL_FAILURE] = (bits & (BMS_ALARM_309_A | BMS_ALARM_309_B)) ? 2 : 0;
#undef ACTIVE
}

/* A level must hold for ALARM_POLLS consecutive polls to be taken. */
static void debounce(struct policy_alarm_state *a, uint8_t cand)
{
	if (cand == a->level) {
		a->count = 0;
		return;
	}
	if (cand != a->pending) {
		a->pending = cand;
		a->count = 0;
	}
	if (++a->count >= ALARM_POLLS) {
		a->level = cand;
		a->count = 0;
	}
}

/* ---- §7 MOSFET control --------------------------------------------------- */

static void request(struct policy_fet_state *f, enum policy_fet_request *out, uint8_t value, bool automatic)
{
	*out = value ? POLICY_FET_ON : POLICY_FET_OFF;
	f->pending = true;
	f->pending_value = value;
	f->pending_auto = automatic;
}

static unsigned recent_auto_ons(const struct policy_fet_state *f, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 3; i++) {
		if (f->auto_on_ms[i] && now - f->auto_on_ms[i] < FET_CHATTER_WINDOW_MS)
			n++;
	}
	return n;
}

static void fet_step(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
		     enum policy_fet which, struct policy_fet_state *f, enum policy_fet_request *out)
{
	const struct bms_snapshot *s = in->snap;
	bool charge = which == POLICY_FET_CHARGE;
	bool live_on = s->status & (charge ? BMS_STATUS_CHARGE_FET : BMS_STATUS_DISCHARGE_FET);
	uint64_t now = in->now_ms;

	*out = POLICY_FET_NONE;
	if (f->pending && in->fet_result[which] != POLICY_FET_RESULT_NONE) {
		f->pending = false;
		if (in->fet_result[which] == POLICY_FET_RESULT_OK) {
			f->failed = false;
			f->owned = f->pending_value == 0;
			if (f->pending_value && f->pending_auto) {
				memmove(&f->auto_on_ms[1], &f->auto_on_ms[0], 2 * sizeof(f->auto_on_ms[0]));
				f->auto_on_ms[0] = now;
			}
		} else {
			f->failed = true;
			f->clear_since = now; /* doubles as "failed at" for the retry delay */
		}
	}
	if (in->reset_lock[which]) {
		f->locked = false;
		f->failed = false;
		memset(f->auto_on_ms, 0, sizeof(f->auto_on_ms));
	}
	/* Someone else switched it back on: it is no longer ours. */
	if (f->owned && live_on && !f->pending)
		f->owned = false;

	/* Manual control: always allowed, also with mosfet_control off. */
	if (in->force_off[which]) {
		f->forced = true;
		if (live_on && !f->pending)
			request(f, out, 0, false);
		return;
	}
	if (f->forced) {
		/* Released. With the off-write still in flight, wait for it:
		 * then the FET is ours and goes back on at once. */
		if (f->pending)
			return;
		f->forced = false;
		if (f->owned && !live_on) {
			request(f, out, 1, false);
			return;
		}
	}
	if (!cfg->mosfet_control || in->lost || !p->valid) {
		f->cell_since = f->temp_since = 0;
		return;
	}

	struct cells c = cell_stats(s);
	int16_t tmin = tmin_of(s), tmax = tmax_of(s);
	const struct bms_settings *b = &s->settings;
	bool flowing = charge ? s->current_ma > FET_FLOW_MA : s->current_ma < -FET_FLOW_MA;
	bool cell_bad, temp_bad, cell_clear, temp_clear;

	if (charge) {
		cell_bad = c.any && c.max_mv >= b->cell_ovp_mv - FET_CELL_MARGIN_MV;
		cell_clear = !c.any || c.max_mv <= b->cell_ovp_mv - FET_CELL_CLEAR_MV;
		temp_bad = tmin < p->charge_tmin_c || tmax > p->charge_tmax_c;
		temp_clear = tmin >= p->charge_tmin_c + TEMP_HYST_C && tmax <= p->charge_tmax_c - TEMP_HYST_C;
	} else {
		cell_bad = c.any && c.min_mv <= b->cell_uvp_mv + FET_CELL_MARGIN_MV;
		cell_clear = !c.any || c.min_mv >= b->cell_uvp_mv + FET_CELL_CLEAR_MV;
		temp_bad = tmin < p->discharge_tmin_c || tmax > p->discharge_tmax_c;
		temp_clear = tmin >= p->discharge_tmin_c + TEMP_HYST_C && tmax <= p->discharge_tmax_c - TEMP_HYST_C;
	}
	/* The condition counts only while current keeps flowing against it. */
	f->cell_since = cell_bad && flowing ? (f->cell_since ? f->cell_since : now) : 0;
	f->temp_since = temp_bad && flowing ? (f->temp_since ? f->temp_since : now) : 0;
	bool fire = (f->cell_since && now - f->cell_since >= FET_CELL_HOLD_MS) ||
		    (f->temp_since && now - f->temp_since >= FET_TEMP_HOLD_MS);

	if (fire && live_on && !f->pending && !(f->failed && now - f->clear_since < FET_RETRY_MS)) {
		/* Anti-chatter: after 3 automatic off/on cycles within an hour
		 * this off is final until the user resets it. */
		if (recent_auto_ons(f, now) >= 3)
			f->locked = true;
		request(f, out, 0, true);
		f->clear_since = 0;
		return;
	}
	if (f->owned && !live_on && !f->pending && !f->locked && !f->failed) {
		f->clear_since = cell_clear && temp_clear ? (f->clear_since ? f->clear_since : now) : 0;
		if (f->clear_since && now - f->clear_since >= FET_CLEAR_HOLD_MS) {
			f->clear_since = 0;
			request(f, out, 1, true);
		}
	}
}

/* ---- §3 charge voltage --------------------------------------------------- */

static void mode_step(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
		      struct policy_state *st)
{
	const struct bms_snapshot *s = in->snap;
	struct cells c = cell_stats(s);
	uint64_t now = in->now_ms;

	if (!c.any)
		return;
	switch (st->mode) {
	case POLICY_MODE_BULK:
		if (c.max_mv >= p->v_chg_mv - ABS_START_MARGIN_MV) {
			st->mode = POLICY_MODE_ABSORPTION;
			st->mode_since = now;
			st->full_cond_since = 0;
		}
		break;
	case POLICY_MODE_ABSORPTION: {
		/* Full: tail current and a high cell, held for a minute. Never
		 * from the pack voltage alone. A maximum time makes sure float
		 * is always reached. */
		bool full = s->current_ma <= (int32_t)p->tail_ma && c.max_mv >= p->v_chg_mv - ABS_FULL_MARGIN_MV;

		st->full_cond_since = full ? (st->full_cond_since ? st->full_cond_since : now) : 0;
		if ((st->full_cond_since && now - st->full_cond_since >= ABS_FULL_HOLD_MS) ||
		    now - st->mode_since >= cfg->max_absorption_ms) {
			st->mode = POLICY_MODE_FLOAT;
			st->mode_since = now;
			st->rebulk_cond_since = 0;
			st->last_full_wall_s = in->wall_s;
		}
		break;
	}
	case POLICY_MODE_FLOAT: {
		bool low = c.max_mv < p->v_rebulk_mv;

		st->rebulk_cond_since = low ? (st->rebulk_cond_since ? st->rebulk_cond_since : now) : 0;
		bool overdue = cfg->full_charge_days && st->last_full_wall_s &&
			       in->wall_s - st->last_full_wall_s >= (int64_t)cfg->full_charge_days * 86400;

		if ((st->rebulk_cond_since && now - st->rebulk_cond_since >= REBULK_HOLD_MS) ||
		    s->soc_pct <= cfg->rebulk_soc_pct || overdue) {
			st->mode = POLICY_MODE_BULK;
			st->mode_since = now;
		}
		break;
	}
	}
}

static uint32_t cvl_step(const struct policy_params *p, const struct bms_snapshot *s, double dt_s,
			 struct policy_state *st, bool *limiting)
{
	unsigned n = s->cell_count;
	struct cells c = cell_stats(s);
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
	double e = c.any ? (double)c.max_mv - p->v_chg_mv : 0;
	double prev = st->cvl_mv ? st->cvl_mv : mode;
	double cvl, reduce;

	if (e > OV_DEADBAND_MV)
		st->integrator_mv += n * OV_KI_PER_S * e * dt_s;
	else if (e < -OV_DEADBAND_MV)
		st->integrator_mv -= n * OV_KI_PER_S * -e * dt_s;
	st->integrator_mv = fmax(0.0, fmin(st->integrator_mv, mode - floor_mv));
	reduce = st->integrator_mv + (e > 0 ? OV_KP * n * e : 0);

	double want = mode - reduce;
	bool capping = c.any && e > -HEADROOM_ZONE_MV && s->voltage_mv;

	if (capping)
		want = fmin(want, s->voltage_mv - HEADROOM_GAIN * n * e);
	want = fmax(floor_mv, fmin(cap, want));

	if (want < prev)
		cvl = want; /* reductions in the same poll */
	else if ((e >= -OV_DEADBAND_MV && st->integrator_mv > 0) || capping)
		cvl = prev; /* controlling, or near V_chg: hold, so CVL does not wiggle with the pack voltage */
	else
		cvl = fmin(want, prev + ramp);
	*limiting = reduce > 0.5 * n;
	return (uint32_t)lround(cvl);
}

/* ---- the policy ---------------------------------------------------------- */

void policy_compute(const struct policy_config *cfg, const struct policy_input *in, const struct policy_state *prev,
		    struct policy_output *out, struct policy_state *next)
{
	const struct bms_snapshot *s = in->snap;
	struct policy_state st = *prev;
	struct policy_params p;
	struct limit ccl_raw, ccl_up, dcl_raw, dcl_up;
	bool first = !st.init;

	memset(out, 0, sizeof(*out));
	policy_params(cfg, s, &p);
	out->params = p;
	double dt_s = first ? 0 : fmin(10.0, (double)(in->now_ms - st.last_ms) / 1000.0);

	st.init = true;
	st.last_ms = in->now_ms;
	if (first)
		st.mode_since = in->now_ms;

	/* Alarms: only a new poll counts towards the debounce; frozen while
	 * the data is stale. */
	if (in->fresh && !in->lost) {
		uint8_t cand[POLICY_ALARM_COUNT];

		alarm_candidates(&p, s, prev, cand);
		for (unsigned a = 0; a < POLICY_ALARM_CONTACTOR; a++)
			debounce(&st.alarms[a], cand[a]);
	}

	for (unsigned f = 0; f < POLICY_FET_COUNT; f++)
		fet_step(cfg, &p, in, (enum policy_fet)f, &st.fet[f], &out->fet_request[f]);
	bool fet_trouble = st.fet[0].failed || st.fet[0].locked || st.fet[1].failed || st.fet[1].locked;

	st.alarms[POLICY_ALARM_CONTACTOR].level = fet_trouble ? 2 : 0;
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++)
		out->alarm[a] = st.alarms[a].level;

	if (!p.valid) {
		/* Nothing can be derived from inconsistent BMS settings: no
		 * current either way; CVL stays where it was. */
		out->cvl_mv = st.cvl_mv ? st.cvl_mv : (uint32_t)s->cell_count * 3300u;
		st.cvl_mv = out->cvl_mv;
		st.ccl_ma = st.dcl_ma = 0;
		st.ccl_ramp_ma = st.dcl_ramp_ma = 0;
		out->mode = st.mode;
		snprintf(out->charge_limitation, sizeof(out->charge_limitation), "BMS settings invalid");
		snprintf(out->discharge_limitation, sizeof(out->discharge_limitation), "BMS settings invalid");
		*next = st;
		return;
	}
	out->battery_low_mv = (uint32_t)p.v_min_mv * s->cell_count;

	/* §3: mode and CVL (frozen while the data is stale). */
	bool cvl_limiting = false;

	if (!in->lost) {
		mode_step(cfg, &p, in, &st);
		st.cvl_mv = cvl_step(&p, s, dt_s, &st, &cvl_limiting);
	} else if (!st.cvl_mv) {
		st.cvl_mv = (uint32_t)p.v_chg_mv * s->cell_count;
	}
	out->cvl_mv = st.cvl_mv;
	out->mode = st.mode;

	/* §4: current limits. */
	charge_limit(cfg, &p, s, false, &ccl_raw);
	charge_limit(cfg, &p, s, true, &ccl_up);
	discharge_limit(&p, cfg, s, false, &dcl_raw);
	discharge_limit(&p, cfg, s, true, &dcl_up);

	const char *fet_why[POLICY_FET_COUNT] = { NULL, NULL };
	char buf[POLICY_FET_COUNT][96];

	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		const char *name = f == POLICY_FET_CHARGE ? "Charge" : "Discharge";

		if (st.fet[f].locked)
			snprintf(buf[f], sizeof(buf[f]), "%s FET locked off, reset with /Settings/Force%sOff", name,
				 f == POLICY_FET_CHARGE ? "Charging" : "Discharging");
		else if (st.fet[f].failed)
			snprintf(buf[f], sizeof(buf[f]), "%s FET switch failed", name);
		else if (st.fet[f].owned || st.fet[f].forced)
			snprintf(buf[f], sizeof(buf[f]), "%s FET off by dbus-jkbms", name);
		else
			continue;
		fet_why[f] = buf[f];
	}
	if (!in->lost) {
		char why[96];

		if (s->alarms & CHARGE_ALARM_BITS) {
			snprintf(why, sizeof(why), "BMS alarm 0x%04X", s->alarms & CHARGE_ALARM_BITS);
			limit_zero(&ccl_raw, why);
		}
		if (s->alarms & DISCHARGE_ALARM_BITS) {
			snprintf(why, sizeof(why), "BMS alarm 0x%04X", s->alarms & DISCHARGE_ALARM_BITS);
			limit_zero(&dcl_raw, why);
		}
		if (!(s->status & BMS_STATUS_CHARGE_FET))
			limit_zero(&ccl_raw, fet_why[0] ? fet_why[0] : "BMS charge FET off");
		if (!(s->status & BMS_STATUS_DISCHARGE_FET))
			limit_zero(&dcl_raw, fet_why[1] ? fet_why[1] : "BMS discharge FET off");
		if (st.fet[0].forced || st.fet[0].locked)
			limit_zero(&ccl_raw, fet_why[0]);
		if (st.fet[1].forced || st.fet[1].locked)
			limit_zero(&dcl_raw, fet_why[1]);
	} else {
		limit_zero(&ccl_raw, "No data from BMS");
		limit_zero(&dcl_raw, "No data from BMS");
		if (!st.was_lost)
			st.lost_since = in->now_ms;
		/* Optional: keep the inverter running for a while when the last
		 * known cells were in a safe middle range. */
		struct cells c = cell_stats(s);

		if (cfg->lost_discharge_ma && in->now_ms - st.lost_since < cfg->lost_discharge_ms && c.any &&
		    c.min_mv >= p.v_min_mv + DCL_TAPER_MV && c.max_mv <= p.v_chg_mv - CELL_TAPER_MV &&
		    (s->status & BMS_STATUS_DISCHARGE_FET)) {
			dcl_raw.ma = fmin(cfg->lost_discharge_ma, p.dcl_ceiling_ma);
			snprintf(dcl_raw.why, sizeof(dcl_raw.why), "No data from BMS (kept for a while)");
		}
	}
	st.was_lost = in->lost;
	if (ccl_up.ma > ccl_raw.ma)
		ccl_up.ma = ccl_raw.ma;
	if (dcl_up.ma > dcl_raw.ma)
		dcl_up.ma = dcl_raw.ma;
	if (first) {
		/* No history: publish the computed limits directly. */
		st.ccl_ramp_ma = ccl_raw.ma;
		st.dcl_ramp_ma = dcl_raw.ma;
		st.ccl_ma = (uint32_t)ccl_raw.ma;
		st.dcl_ma = (uint32_t)dcl_raw.ma;
	} else {
		st.ccl_ma = calm(ccl_raw.ma, ccl_up.ma, p.ccl_ceiling_ma, dt_s, &st.ccl_ramp_ma, st.ccl_ma);
		st.dcl_ma = calm(dcl_raw.ma, dcl_up.ma, p.dcl_ceiling_ma, dt_s, &st.dcl_ramp_ma, st.dcl_ma);
	}
	out->ccl_ma = st.ccl_ma;
	out->dcl_ma = st.dcl_ma;
	struct cells c = cell_stats(s);

	if (cvl_limiting && c.any && ccl_raw.ma >= p.ccl_ceiling_ma * 0.99)
		snprintf(out->charge_limitation, sizeof(out->charge_limitation), "Cell %u high (CVL)", c.max_idx);
	else
		snprintf(out->charge_limitation, sizeof(out->charge_limitation), "%s", ccl_raw.why);
	snprintf(out->discharge_limitation, sizeof(out->discharge_limitation), "%s", dcl_raw.why);
	out->allow_charge = out->ccl_ma > 0 && (s->status & BMS_STATUS_CHARGE_FET);
	out->allow_discharge = out->dcl_ma > 0 && (s->status & BMS_STATUS_DISCHARGE_FET);
	*next = st;
}
