/* SPDX-License-Identifier: MIT */
/*
 * The battery's history (history.h; what each value means is
 * docs/dbus-paths.md "History"). Charge and energy are integrated over the
 * monotonic time between two frames, the current and the voltage taken as
 * straight lines between them; a discharge runs from one full charge (an
 * absorption the policy completed) to the next.
 */
#include "history.h"

#include <math.h>
#include <string.h>

#define MS_PER_HOUR 3600000.0
/* Values beyond this are not a battery's history (a damaged file). */
#define HISTORY_MAX 1e12

void history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

void history_restore(struct history *h, const struct history_values *v)
{
	history_init(h);
	h->v = *v;
}

void history_clear(struct history *h)
{
	struct history keep = *h;

	history_init(h);
	/* What the next frame integrates from and the edges seen so far are
	 * not history: an alarm still raised is not raised again. */
	h->have_prev = keep.have_prev;
	h->prev_ms = keep.prev_ms;
	h->prev_v = keep.prev_v;
	h->prev_a = keep.prev_a;
	h->have_mode = keep.have_mode;
	h->mode = keep.mode;
	h->low_raised = keep.low_raised;
	h->high_raised = keep.high_raised;
	h->changed = true;
}

void history_saved(struct history *h)
{
	h->changed = false;
}

/* The integral over dt of a quantity going linearly from a to b, split
 * into its positive and its negative part (both >= 0). */
static void split(double a, double b, double dt, double *pos, double *neg)
{
	if (a >= 0 && b >= 0) {
		*pos = (a + b) / 2 * dt, *neg = 0;
	} else if (a <= 0 && b <= 0) {
		*pos = 0, *neg = -(a + b) / 2 * dt;
	} else {
		double t0 = a / (a - b) * dt; /* where it crosses zero */

		if (a > 0)
			*pos = a * t0 / 2, *neg = -b * (dt - t0) / 2;
		else
			*neg = -a * t0 / 2, *pos = b * (dt - t0) / 2;
	}
}

static void integrate(struct history *h, const struct bms_snapshot *s, uint64_t now)
{
	double volt = s->voltage_mv / 1000.0, amp = s->current_ma / 1000.0;

	if (h->have_prev && now > h->prev_ms) {
		uint64_t ms = now - h->prev_ms;
		double dt_h = (ms > HISTORY_GAP_CAP_MS ? HISTORY_GAP_CAP_MS : ms) / MS_PER_HOUR;
		double in, out;

		split(h->prev_a, amp, dt_h, &in, &out);
		h->v.drawn_ah += out;
		split(h->prev_v * h->prev_a, volt * amp, dt_h, &in, &out);
		h->v.charged_wh += in;
		h->v.discharged_wh += out;
	}
	h->have_prev = true;
	h->prev_ms = now;
	h->prev_v = volt;
	h->prev_a = amp;
}

static void extremes(struct history_values *v, const struct battery *bat)
{
	const struct battery_display *d = &bat->show;
	uint32_t pack = bat->snap.voltage_mv;

	if (d->any) {
		v->min_cell_mv = !v->have_cells || d->min_mv < v->min_cell_mv ? d->min_mv : v->min_cell_mv;
		v->max_cell_mv = !v->have_cells || d->max_mv > v->max_cell_mv ? d->max_mv : v->max_cell_mv;
		v->have_cells = true;
	}
	if (pack) {
		v->min_mv = !v->have_voltage || pack < v->min_mv ? pack : v->min_mv;
		v->max_mv = !v->have_voltage || pack > v->max_mv ? pack : v->max_mv;
		v->have_voltage = true;
	}
	for (unsigned k = BMS_TEMP_T1; k <= BMS_TEMP_T2; k++) {
		int16_t t = bat->snap.temp_c[k];

		if (t < HISTORY_TEMP_MIN_C || t > HISTORY_TEMP_MAX_C)
			continue;
		v->min_temp_c = !v->have_temp || t < v->min_temp_c ? t : v->min_temp_c;
		v->max_temp_c = !v->have_temp || t > v->max_temp_c ? t : v->max_temp_c;
		v->have_temp = true;
	}
}

/* The depth of discharge is what /ConsumedAmphours shows (from the BMS's
 * SoC); empty is a low SoC, counted once until the SoC rose again. */
static void depth(struct history_values *v, const struct battery *bat)
{
	const struct battery_display *d = &bat->show;
	double now = d->installed_ah > 0 ? -d->consumed_ah : 0;
	uint8_t soc = bat->snap.soc_pct;

	if (now > v->last_ah)
		v->last_ah = now;
	if (now > v->deepest_ah)
		v->deepest_ah = now;
	if (soc <= HISTORY_EMPTY_SOC_PCT && !v->empty_counted) {
		v->full_discharges++;
		v->empty_counted = true;
	} else if (soc >= HISTORY_REARM_SOC_PCT) {
		v->empty_counted = false;
	}
}

/* A full charge ends the discharge in progress; alarms are counted when
 * they are raised. */
static void policy_edges(struct history *h, const struct policy_output *pol, int64_t wall_s)
{
	struct history_values *v = &h->v;
	bool low = pol->alarm[POLICY_ALARM_LOW_VOLTAGE] || pol->alarm[POLICY_ALARM_LOW_CELL_VOLTAGE];
	bool high = pol->alarm[POLICY_ALARM_HIGH_VOLTAGE] || pol->alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE];

	if (h->have_mode && h->mode == POLICY_MODE_ABSORPTION && pol->mode == POLICY_MODE_FLOAT) {
		v->last_full_wall_s = wall_s;
		if (v->last_ah > 0) {
			v->discharges_ah += v->last_ah;
			v->discharges++;
		}
		v->last_ah = 0;
	}
	h->have_mode = true;
	h->mode = pol->mode;
	v->low_voltage_alarms += low && !h->low_raised;
	v->high_voltage_alarms += high && !h->high_raised;
	h->low_raised = low;
	h->high_raised = high;
}

void history_step(struct history *h, const struct history_input *in)
{
	struct history_values was = h->v;

	if (in->lost)
		h->have_prev = false; /* nothing is known about the gap */
	else if (in->fresh && in->bat->valid) {
		integrate(h, &in->bat->snap, in->now_ms);
		extremes(&h->v, in->bat);
		depth(&h->v, in->bat);
	}
	if (in->pol)
		policy_edges(h, in->pol, in->wall_s);
	if (memcmp(&was, &h->v, sizeof(was)) != 0)
		h->changed = true;
}

bool history_since_full_s(const struct history *h, int64_t wall_s, int64_t *out)
{
	int64_t d = wall_s - h->v.last_full_wall_s;

	if (!h->v.last_full_wall_s)
		return false;
	if (d < 0)
		d = 0; /* the clock went back */
	*out = d - d % 60;
	return true;
}

bool history_average_ah(const struct history *h, double *out)
{
	if (!h->v.discharges)
		return false;
	*out = h->v.discharges_ah / h->v.discharges;
	return true;
}

static bool magnitude(double x)
{
	return isfinite(x) && x >= 0 && x < HISTORY_MAX;
}

bool history_values_plausible(const struct history_values *v)
{
	const double slack = 1e-6;

	if (!magnitude(v->drawn_ah) || !magnitude(v->charged_wh) || !magnitude(v->discharged_wh) ||
	    !magnitude(v->deepest_ah) || !magnitude(v->last_ah) || !magnitude(v->discharges_ah))
		return false;
	if (v->last_ah > v->deepest_ah + slack || (!v->discharges && v->discharges_ah != 0) ||
	    (v->discharges && v->discharges_ah / v->discharges > v->deepest_ah + slack))
		return false;
	if ((v->have_cells && v->min_cell_mv > v->max_cell_mv) || (v->have_voltage && v->min_mv > v->max_mv))
		return false;
	if (v->have_temp &&
	    (v->min_temp_c > v->max_temp_c || v->min_temp_c < HISTORY_TEMP_MIN_C || v->max_temp_c > HISTORY_TEMP_MAX_C))
		return false;
	return v->last_full_wall_s >= 0;
}
