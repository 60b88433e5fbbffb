/* SPDX-License-Identifier: MIT */
/*
 * Alarms (docs/charge-control.md "Alarms"): the Venus name of each, the
 * level each would have from one frame (the BMS's own alarm bits as alarms,
 * the service's thresholds as warnings, with hysteresis), and the debounce
 * that takes a level only once it held for consecutive polls.
 */
#include <string.h>

#include "policy_internal.h"

#define ALARM_POLLS 3

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

/* value at/over threshold raises; it clears only below threshold - margin. */
static bool at_or_above(double v, double threshold, double margin, bool active)
{
	return active ? v > threshold - margin : v >= threshold;
}

static bool at_or_below(double v, double threshold, double margin, bool active)
{
	return active ? v < threshold + margin : v <= threshold;
}

void policy_alarm_candidates(const struct policy_params *p, const struct bms_snapshot *s,
			     const struct battery_cells *cs, const struct policy_state *prev,
			     uint8_t cand[POLICY_ALARM_COUNT])
{
	const struct bms_settings *c = &s->settings;
	uint16_t bits = s->alarms;
	int16_t tmin = cs->tmin_c, tmax = cs->tmax_c;
	bool tw = p->temps_ok; /* temperature warnings need plausible thresholds */

#define ACTIVE(a) (prev->alarms[a].level >= 1)
	memset(cand, 0, POLICY_ALARM_COUNT);
	cand[POLICY_ALARM_LOW_SOC] = (bits & BMS_ALARM_LOW_CAPACITY) ||
		at_or_below(s->soc_pct, c->low_soc_alarm_pct - 1, 2, ACTIVE(POLICY_ALARM_LOW_SOC));
	cand[POLICY_ALARM_HIGH_INTERNAL_TEMP] = (bits & BMS_ALARM_MOSFET_OVER_TEMP) ? 2
										    : tw &&
			at_or_above(s->temp_c[BMS_TEMP_MOSFET], c->mosfet_otp_c - 5, 2,
				    ACTIVE(POLICY_ALARM_HIGH_INTERNAL_TEMP));
	cand[POLICY_ALARM_HIGH_VOLTAGE] = (bits & BMS_ALARM_CHARGE_OVER_VOLTAGE) ? 2 : 0;
	cand[POLICY_ALARM_LOW_VOLTAGE] = (bits & BMS_ALARM_DISCHARGE_UNDER_VOLTAGE) ? 2 : 0;
	int16_t otp = c->charge_otp_c < c->discharge_otp_c ? c->charge_otp_c : c->discharge_otp_c;

	cand[POLICY_ALARM_HIGH_TEMP] = (bits & (BMS_ALARM_BATTERY_OVER_TEMP | BMS_ALARM_BOX_OVER_TEMP))
		? 2
		: tw && at_or_above(tmax, otp - 5, 2, ACTIVE(POLICY_ALARM_HIGH_TEMP));
	cand[POLICY_ALARM_LOW_TEMP] = tw && at_or_below(tmin, c->discharge_utp_c + 5, 2, ACTIVE(POLICY_ALARM_LOW_TEMP));
	cand[POLICY_ALARM_HIGH_CHARGE_TEMP] = tw &&
		at_or_above(tmax, c->charge_otp_c - 5, 2, ACTIVE(POLICY_ALARM_HIGH_CHARGE_TEMP));
	int floor_c = c->charge_utp_c + 5 > p->charge_tmin_c ? c->charge_utp_c + 5 : p->charge_tmin_c;

	cand[POLICY_ALARM_LOW_CHARGE_TEMP] = (bits & BMS_ALARM_LOW_TEMP)
		? 2
		: tw && at_or_below(tmin, floor_c, 2, ACTIVE(POLICY_ALARM_LOW_CHARGE_TEMP));
	cand[POLICY_ALARM_HIGH_CHARGE_CURRENT] = (bits & BMS_ALARM_CHARGE_OVER_CURRENT) ? 2 : 0;
	cand[POLICY_ALARM_HIGH_DISCHARGE_CURRENT] = (bits & BMS_ALARM_DISCHARGE_OVER_CURRENT) ? 2 : 0;
	cand[POLICY_ALARM_CELL_IMBALANCE] = (bits & BMS_ALARM_CELL_DIFFERENCE) ? 2
									       : cs->n &&
			at_or_above(cs->max_mv - cs->min_mv, c->balance_trigger_mv + 50.0 + 1, 10,
				    ACTIVE(POLICY_ALARM_CELL_IMBALANCE));
	cand[POLICY_ALARM_HIGH_CELL_VOLTAGE] = (bits & BMS_ALARM_CELL_OVER_VOLTAGE)
		? 2
		: cs->n && at_or_above(cs->max_mv, c->cell_ovp_mv - 50.0, 10, ACTIVE(POLICY_ALARM_HIGH_CELL_VOLTAGE));
	cand[POLICY_ALARM_LOW_CELL_VOLTAGE] = (bits & BMS_ALARM_CELL_UNDER_VOLTAGE)
		? 2
		: cs->n && at_or_below(cs->min_mv, c->cell_uvp_mv + 50.0, 10, ACTIVE(POLICY_ALARM_LOW_CELL_VOLTAGE));
	/* An unmeasured cell is a failure of the pack's wiring; an implausible
	 * setting one of its configuration (docs/charge-control.md). */
	cand[POLICY_ALARM_INTERNAL_FAILURE] = (bits & (BMS_ALARM_309_A | BMS_ALARM_309_B)) || cs->unmeasured ? 2
		: !p->valid                                                                                  ? 1
													     : 0;
#undef ACTIVE
}

/* A level must hold for ALARM_POLLS consecutive polls to be taken. */
void policy_debounce(struct policy_alarm_state *a, uint8_t cand)
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
