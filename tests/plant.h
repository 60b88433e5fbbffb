/* SPDX-License-Identifier: MIT */
/*
 * A small deterministic plant for the policy tests (charge-control.md §8):
 * n LiFePO4 cells with slightly different capacities and one running high,
 * internal resistance, a balancer bleeding a small current, a JK-BMS's own
 * protections, and a charger that either follows CVL/CCL with a lag
 * (DVCC) or ignores both (a rogue charger with its own 3.65 V/cell limit).
 */
#ifndef PLANT_H
#define PLANT_H

#include <stdbool.h>

#include "bms_types.h"

enum plant_charger {
	PLANT_DVCC,     /* follows CVL and CCL */
	PLANT_CVL_ONLY, /* follows CVL, ignores CCL (solar in DC feed-in) */
	PLANT_ROGUE,    /* ignores both: not DVCC-controlled */
};

struct plant {
	unsigned n;
	double soc[BMS_MAX_CELLS];
	double cap_ah[BMS_MAX_CELLS];
	double r_ohm;           /* per cell */
	double charger_max_a;
	double charger_tau_s;   /* lag of the charger */
	enum plant_charger charger;
	double i_chg;           /* charger output after the lag */
	double load_a;          /* discharge load, A */
	double current_a;       /* battery current, + = charging */
	double temp_c, mos_temp_c;
	bool charge_fet, discharge_fet;      /* live */
	bool charge_switch, discharge_switch; /* 0xAB / 0xAC */
	bool bms_ovp;           /* the BMS's own over-voltage protection tripped */
	double max_cell_seen_mv;
	struct bms_snapshot base;
};

/* 16 cells at soc_pct with one high cell (cell 5, +3 % SoC, 2 % smaller). */
void plant_init(struct plant *p, double soc_pct, enum plant_charger charger, double charger_max_a);

/* Advance by dt_s with the published limits (V, A). */
void plant_step(struct plant *p, double dt_s, double cvl_v, double ccl_a);

void plant_snapshot(const struct plant *p, struct bms_snapshot *out);

double plant_cell_mv(const struct plant *p, unsigned i);

#endif
