/* SPDX-License-Identifier: MIT */
/*
 * Charge control: what the service publishes as charge voltage limit (CVL),
 * charge and discharge current limits (CCL/DCL) and battery-low voltage,
 * derived from the BMS's own protection settings (charge-control.md §2).
 * Pure: no clock, no I/O, no allocation.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "bms_types.h"

struct policy_config {
	uint32_t max_charge_current_ma;    /* 0 = no user ceiling */
	uint32_t max_discharge_current_ma; /* 0 = no user ceiling */
};

struct charge_limits {
	uint32_t cvl_mv;
	uint32_t ccl_ma;
	uint32_t dcl_ma;
	uint32_t battery_low_mv;
	bool allow_charge;
	bool allow_discharge;
	char charge_mode[24];
	char charge_limitation[48];
	char discharge_limitation[48];
};

/* Margins of charge-control.md §2. */
#define POLICY_CHARGE_MARGIN_MV 100    /* V_chg = OVPR - 100 mV */
#define POLICY_FLOOR_MARGIN_MV 100     /* V_min = UVPR + 100 mV */
#define POLICY_OCP_FRACTION_PCT 90     /* ceilings at 90 % of the BMS's OCP */

/*
 * The basic policy: CVL = V_chg x n, CCL/DCL = min(configured ceiling,
 * 90 % of the BMS's over-current protection), 0 when the FET is off, when
 * the BMS's settings are inconsistent, or when the data is stale
 * (data_lost: the link has been lost). Writes *out.
 */
void policy_basic(const struct policy_config *cfg, const struct bms_snapshot *snap, bool data_lost,
		  struct charge_limits *out);

#endif
