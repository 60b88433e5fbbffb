/* SPDX-License-Identifier: MIT */
/* Charge limits from the BMS's own protection settings (charge-control.md). */
#include "policy.h"

#include <stdio.h>
#include <string.h>

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* The BMS settings the limits stand on must make sense, or nothing is
 * derived from them: UVP < UVPR < OVPR < OVP within LFP/NMC/LTO cell range. */
static bool settings_sane(const struct bms_settings *c)
{
	return c->cell_uvp_mv >= 1500 && c->cell_uvp_mv < c->cell_uvpr_mv && c->cell_uvpr_mv < c->cell_ovpr_mv &&
	       c->cell_ovpr_mv < c->cell_ovp_mv && c->cell_ovp_mv <= 4500 &&
	       c->cell_ovpr_mv > POLICY_CHARGE_MARGIN_MV + c->cell_uvpr_mv + POLICY_FLOOR_MARGIN_MV;
}

static uint32_t ceiling(uint32_t configured_ma, uint16_t ocp_a)
{
	uint32_t bms = (uint32_t)ocp_a * 10u * POLICY_OCP_FRACTION_PCT; /* A -> mA x 90 % */

	return configured_ma ? min_u32(configured_ma, bms) : bms;
}

void policy_basic(const struct policy_config *cfg, const struct bms_snapshot *s, bool data_lost,
		  struct charge_limits *out)
{
	const struct bms_settings *c = &s->settings;
	unsigned n = s->cell_count;

	memset(out, 0, sizeof(*out));
	snprintf(out->charge_mode, sizeof(out->charge_mode), "Bulk");
	if (!settings_sane(c) || n == 0) {
		snprintf(out->charge_limitation, sizeof(out->charge_limitation), "BMS settings invalid");
		snprintf(out->discharge_limitation, sizeof(out->discharge_limitation), "BMS settings invalid");
		out->cvl_mv = n * (c->cell_ovpr_mv > 2000 && c->cell_ovpr_mv < 4500 ? c->cell_ovpr_mv - 200u : 3300u);
		return;
	}
	out->cvl_mv = n * (uint32_t)(c->cell_ovpr_mv - POLICY_CHARGE_MARGIN_MV);
	out->battery_low_mv = n * (uint32_t)(c->cell_uvpr_mv + POLICY_FLOOR_MARGIN_MV);
	out->ccl_ma = ceiling(cfg->max_charge_current_ma, c->charge_ocp_a);
	out->dcl_ma = ceiling(cfg->max_discharge_current_ma, c->discharge_ocp_a);
	snprintf(out->charge_limitation, sizeof(out->charge_limitation), "%s",
		 cfg->max_charge_current_ma && cfg->max_charge_current_ma < out->ccl_ma + 1 ? "Configured maximum"
											     : "BMS over-current limit");
	snprintf(out->discharge_limitation, sizeof(out->discharge_limitation), "%s",
		 cfg->max_discharge_current_ma && cfg->max_discharge_current_ma < out->dcl_ma + 1
			 ? "Configured maximum"
			 : "BMS over-current limit");
	if (data_lost) {
		out->ccl_ma = out->dcl_ma = 0;
		snprintf(out->charge_limitation, sizeof(out->charge_limitation), "No data from BMS");
		snprintf(out->discharge_limitation, sizeof(out->discharge_limitation), "No data from BMS");
	}
	if (!(s->status & BMS_STATUS_CHARGE_FET)) {
		out->ccl_ma = 0;
		if (!data_lost)
			snprintf(out->charge_limitation, sizeof(out->charge_limitation), "BMS charge FET off");
	}
	if (!(s->status & BMS_STATUS_DISCHARGE_FET)) {
		out->dcl_ma = 0;
		if (!data_lost)
			snprintf(out->discharge_limitation, sizeof(out->discharge_limitation), "BMS discharge FET off");
	}
	out->allow_charge = out->ccl_ma > 0;
	out->allow_discharge = out->dcl_ma > 0;
}
