/* SPDX-License-Identifier: MIT */
/*
 * The battery model (battery.h): from each decoded reply, once, the cells
 * for protection (every cell, inferred where unmeasured), what a person is
 * shown (measured cells, temperatures, power, SoH, capacity, time to go)
 * (docs/architecture.md "The battery model"). The extremes over time are
 * the history's (history.c).
 */
#include "battery.h"

#include <string.h>

const char *battery_cell_name(unsigned number, char out[BATTERY_CELL_NAME_MAX])
{
	char digits[10];
	unsigned len = 0;

	do
		digits[len++] = (char)('0' + number % 10);
	while ((number /= 10) != 0);
	out[0] = 'C';
	for (unsigned k = 0; k < len; k++)
		out[1 + k] = digits[len - 1 - k];
	out[1 + len] = '\0';
	return out;
}

/* The cells in series: the BMS's cell-count setting (0xA9), else the count
 * it reports (0x8A), else the frame's. Slots beyond it are never counted. */
unsigned battery_cell_count(const struct bms_snapshot *s)
{
	if (s->settings.cell_count >= 1 && s->settings.cell_count <= BMS_MAX_CELLS)
		return s->settings.cell_count;
	if (s->cell_count_reported >= 1 && s->cell_count_reported <= BMS_MAX_CELLS)
		return s->cell_count_reported;
	return s->cell_count <= BMS_MAX_CELLS ? s->cell_count : BMS_MAX_CELLS;
}

void battery_cells(const struct bms_snapshot *s, struct battery_cells *cv)
{
	uint32_t sum = 0;

	memset(cv, 0, sizeof(*cv));
	cv->n = battery_cell_count(s);
	for (unsigned i = 0; i < cv->n; i++) {
		uint16_t v = i < s->cell_count ? s->cell_mv[i] : 0;

		if (!v) {
			cv->unmeasured++;
			if (!cv->first_unmeasured)
				cv->first_unmeasured = i + 1;
		}
		cv->mv[i] = v;
		sum += v;
	}
	if (cv->unmeasured) {
		/* The pack voltage still contains the unmeasured cells. */
		uint32_t rest = s->voltage_mv > sum ? (s->voltage_mv - sum) / cv->unmeasured : 0;

		if (rest > UINT16_MAX)
			rest = UINT16_MAX;
		for (unsigned i = 0; i < cv->n; i++) {
			if (!cv->mv[i] || i >= s->cell_count)
				cv->mv[i] = (uint16_t)rest;
		}
	}
	cv->min_mv = UINT16_MAX;
	for (unsigned i = 0; i < cv->n; i++) {
		if (cv->mv[i] > cv->max_mv || !cv->max_idx)
			cv->max_mv = cv->mv[i], cv->max_idx = i + 1;
		if (cv->mv[i] < cv->min_mv)
			cv->min_mv = cv->mv[i], cv->min_idx = i + 1;
	}
	if (!cv->n)
		cv->min_mv = 0;
	int16_t t1 = s->temp_c[BMS_TEMP_T1], t2 = s->temp_c[BMS_TEMP_T2];

	cv->tmin_c = t1 < t2 ? t1 : t2;
	cv->tmax_c = t1 > t2 ? t1 : t2;
}

bool battery_temp_sensor_bad(const struct bms_snapshot *s)
{
	static const enum bms_temp sensor[BATTERY_TEMP_SENSORS] = { BMS_TEMP_T1, BMS_TEMP_T2 };

	for (unsigned k = 0; k < s->temp_sensor_count && k < BATTERY_TEMP_SENSORS; k++) {
		int16_t t = s->temp_c[sensor[k]];

		if ((s->temp_missing & (1u << sensor[k])) || t < BATTERY_TEMP_MIN_C || t > BATTERY_TEMP_MAX_C)
			return true;
	}
	return false;
}

/* The midpoint as a battery monitor with a midpoint tap measures it: the
 * lower half of the cells (cell 1 sits at the pack's minus), and the
 * deviation 100 x (upper half - lower half) / all cells. With an odd count
 * the middle cell is split between the halves, so a balanced pack reads
 * 0 % and the midpoint half the pack (docs/dbus-paths.md "Midpoint"). */
static void midpoint(const struct battery_cells *c, struct battery_display *d)
{
	uint32_t lower = 0, all = 0;
	unsigned half = c->n / 2;

	if (c->n < 2 || c->unmeasured)
		return;
	for (unsigned i = 0; i < c->n; i++) {
		all += c->mv[i];
		if (i < half)
			lower += c->mv[i];
	}
	if (!all)
		return;
	/* In half millivolts, so that half the middle cell is exact. */
	uint32_t lower2 = 2 * lower + (c->n % 2 ? c->mv[half] : 0);

	d->have_mid = true;
	d->mid_v = lower2 / 2000.0;
	d->mid_dev_pct = 100.0 * ((double)(2 * all) - 2.0 * lower2) / (2.0 * all);
}

/* What a person is shown. Unmeasured cells are left out: a 0 mV reading is
 * not a cell at 0 V (the policy protects with the inferred value). */
static void display(const struct bms_snapshot *s, struct battery *b)
{
	struct battery_display *d = &b->show;
	const struct bms_settings *set = &s->settings;

	memset(d, 0, sizeof(*d));
	for (unsigned k = 0; k < s->cell_count && k < BMS_MAX_CELLS; k++) {
		uint16_t v = s->cell_mv[k];

		if (!v)
			continue;
		if (!d->any || v < d->min_mv)
			d->min_mv = v, d->min_idx = k + 1;
		if (!d->any || v > d->max_mv)
			d->max_mv = v, d->max_idx = k + 1;
		d->sum_mv += v;
		d->any = true;
	}
	int16_t t1 = s->temp_c[BMS_TEMP_T1], t2 = s->temp_c[BMS_TEMP_T2];

	d->tmin_id = t1 <= t2 ? 1 : 2;
	d->tmax_id = t1 >= t2 ? 1 : 2;
	d->temp_avg_c = (t1 + t2) / 2.0;
	d->power_w = (double)s->voltage_mv * s->current_ma / 1e6;
	d->have_soh = set->actual_capacity_ah && set->capacity_ah;
	d->soh_pct = d->have_soh ? 100.0 * set->actual_capacity_ah / set->capacity_ah : 0;
	d->installed_ah = set->capacity_ah;
	d->capacity_ah = (double)set->capacity_ah * s->soc_pct / 100.0;
	d->consumed_ah = -(double)set->capacity_ah * (100 - s->soc_pct) / 100.0;
	d->ttg_s = ttg_seconds(&b->ttg, s->soc_pct, set->capacity_ah, b->ttg_floor_pct);
	midpoint(&b->cells, d);
	d->temp_sensor_bad = battery_temp_sensor_bad(s);
}

void battery_init(struct battery *b, uint32_t ttg_floor_pct)
{
	memset(b, 0, sizeof(*b));
	b->ttg_floor_pct = ttg_floor_pct;
}

void battery_update(struct battery *b, const struct bms_snapshot *s, uint64_t now_ms)
{
	b->snap = *s;
	b->valid = true;
	b->updated_ms = now_ms;
	battery_cells(s, &b->cells);
	ttg_update(&b->ttg, s->current_ma, now_ms);
	display(s, b);
}

void battery_stale(struct battery *b)
{
	ttg_reset(&b->ttg);
}
