/* SPDX-License-Identifier: MIT */
/*
 * The current limits (docs/charge-control.md "Current limits"): CCL and DCL
 * as the least of their limiters, each named, and the calm output that
 * applies a reduction at once but an increase only after the condition
 * cleared by its hysteresis, ramped.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

#define CELL_TAPER_MV 15
#define DCL_TAPER_MV 150
#define TEMP_DERATE_C 5
#define RAMP_FRACTION_PER_S 0.01 /* 10 % of the ceiling per 10 s */
#define PUBLISH_STEP_MA 100

static void limit_to(struct policy_limit *l, double ma, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void limit_to(struct policy_limit *l, double ma, const char *fmt, ...)
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
void policy_copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void policy_limit_zero(struct policy_limit *l, const char *why)
{
	l->ma = 0;
	policy_copy_text(l->why, sizeof(l->why), why);
}

static double lerp(double x, double x0, double y0, double x1, double y1)
{
	if (x <= x0)
		return y0;
	if (x >= x1)
		return y1;
	return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

/* Full up to V_chg, where CVL holds the cell; above it (a charger that
 * overshoots CVL) a taper to 10 % at V_chg + 15 mV, then to 0 at OVPR -
 * 50 mV. A taper that began below V_chg would hold the cell short of V_chg,
 * its hysteresis ratcheting the current down (docs/charge-control.md
 * "Noise and settling"). */
static double cell_charge_fraction(double v, const struct policy_params *p, uint16_t ovpr)
{
	double zero = ovpr - 50.0, knee = fmin(p->v_chg_mv + CELL_TAPER_MV, zero);

	if (v <= p->v_chg_mv)
		return 1.0;
	if (v >= zero)
		return 0;
	if (v <= knee)
		return lerp(v, p->v_chg_mv, 1.0, knee, 0.1);
	return lerp(v, knee, 0.1, zero, 0.0);
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

/* The ceiling, named by where it comes from. */
static void start_at(struct policy_limit *l, double ceiling, bool configured)
{
	l->ma = ceiling;
	policy_copy_text(l->why, sizeof(l->why), configured ? "Configured maximum" : "BMS over-current limit");
}

/* The battery's temperature window [lo, hi] and the MOSFET's, on either
 * side; dt: as if worse by the hysteresis. */
static void limit_temperatures(struct policy_limit *l, double ceiling, const struct bms_snapshot *s,
			       const struct battery_cells *c, double dt, int16_t lo, int16_t hi)
{
	double tf = temp_fraction(c->tmin_c - dt, c->tmax_c + dt, lo, hi);

	if (c->tmin_c - dt < lo + TEMP_DERATE_C)
		limit_to(l, ceiling * tf, "Cold: %d C", c->tmin_c);
	else
		limit_to(l, ceiling * tf, "Hot: %d C", c->tmax_c);
	limit_to(l, ceiling * mosfet_fraction(s->temp_c[BMS_TEMP_MOSFET] + dt, s->settings.mosfet_otp_c),
		 "MOSFET temperature %d C", s->temp_c[BMS_TEMP_MOSFET]);
}

/* CCL from every limiter. hyst: evaluate as if the condition were worse by
 * the hysteresis margins (used to decide whether an increase may happen). */
void policy_charge_limit(const struct policy_config *cfg, const struct policy_params *p, const struct bms_snapshot *s,
			 const struct battery_cells *c, bool hyst, struct policy_limit *l)
{
	double dv = hyst ? POLICY_CELL_HYST_MV : 0, dt = hyst ? POLICY_TEMP_HYST_C : 0;
	double ceiling = p->ccl_ceiling_ma;

	start_at(l, ceiling, cfg->max_charge_current_ma && p->ccl_ceiling_ma == cfg->max_charge_current_ma);
	if (c->n)
		limit_to(l, ceiling * cell_charge_fraction(c->max_mv + dv, p, s->settings.cell_ovpr_mv), "Cell %u high",
			 c->max_idx);
	limit_temperatures(l, ceiling, s, c, dt, p->charge_tmin_c, p->charge_tmax_c);
	if (cfg->soc_taper)
		limit_to(l, ceiling * lerp(s->soc_pct, 95, 1.0, 100, 0.1), "SoC %u %%", s->soc_pct);
}

void policy_discharge_limit(const struct policy_config *cfg, const struct policy_params *p,
			    const struct bms_snapshot *s, const struct battery_cells *c, bool hyst,
			    struct policy_limit *l)
{
	double dv = hyst ? POLICY_CELL_HYST_MV : 0, dt = hyst ? POLICY_TEMP_HYST_C : 0;
	double ceiling = p->dcl_ceiling_ma;

	start_at(l, ceiling, cfg->max_discharge_current_ma && p->dcl_ceiling_ma == cfg->max_discharge_current_ma);
	if (c->n)
		limit_to(l, ceiling * lerp(c->min_mv - dv, p->v_min_mv, 0.0, p->v_min_mv + DCL_TAPER_MV, 1.0),
			 "Cell %u low", c->min_idx);
	limit_temperatures(l, ceiling, s, c, dt, p->discharge_tmin_c, p->discharge_tmax_c);
}

/* Calm output: reductions now; increases only once the condition cleared by
 * its hysteresis, then ramped; published in steps of at least 0.1 A. */
uint32_t policy_calm(double raw, double up, double ceiling, double dt_s, double *ramp, uint32_t published)
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
