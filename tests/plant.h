/* SPDX-License-Identifier: MIT */
/*
 * A small deterministic plant for the policy tests (docs/architecture.md
 * "Tests"): n LiFePO4 cells with slightly different capacities and one
 * running high, internal resistance, a balancer bleeding a small current, a
 * JK-BMS's own protections, and a charger that either follows CVL/CCL with
 * a lag (DVCC) or ignores both (a rogue charger with its own 3.65 V/cell
 * limit).
 *
 * What the BMS reports can be made worse than the physics
 * (docs/charge-control.md "Float does not trust the SoC", "Noise and
 * settling"): noise on every reported cell voltage, a pack voltage measured
 * on its own, and a reported SoC that is stuck or wanders away from the true
 * one, as a JK's coulomb counter does. All of it is off by default, and the
 * noise is a pure function of a seed, the plant's time and the cell, so a
 * run is reproducible.
 */
#ifndef PLANT_H
#define PLANT_H

#include <stdbool.h>
#include <stdint.h>

#include "bms_types.h"

enum plant_charger {
	PLANT_DVCC,     /* follows CVL and CCL */
	PLANT_CVL_ONLY, /* follows CVL, ignores CCL (solar in DC feed-in) */
	PLANT_ROGUE,    /* ignores both: not DVCC-controlled */
};

enum plant_soc {
	PLANT_SOC_TRUE,   /* the average of the cells' SoC (default) */
	PLANT_SOC_STUCK,  /* soc_rep_pct, whatever the cells do */
	PLANT_SOC_WANDER, /* a slow random walk in [soc_lo_pct, soc_hi_pct] */
};

struct plant {
	unsigned n;
	double soc[BMS_MAX_CELLS];
	double cap_ah[BMS_MAX_CELLS];
	double r_ohm[BMS_MAX_CELLS]; /* internal resistance of each cell */
	double charger_max_a;
	double charger_tau_s; /* lag of the charger */
	enum plant_charger charger;
	double i_chg;     /* charger output after the lag */
	double load_a;    /* discharge load, A */
	double current_a; /* battery current, + = charging */
	double temp_c, mos_temp_c;
	bool charge_fet, discharge_fet;       /* live */
	bool charge_switch, discharge_switch; /* 0xAB / 0xAC */
	bool bms_ovp;                         /* the BMS's own over-voltage protection tripped */
	double max_cell_seen_mv;
	uint64_t t_ms; /* plant time, advanced by plant_step */
	/* Measurement (plant_set_noise): uniform +-cell_noise_mv on each
	 * reported cell; with pack_separate the pack voltage is measured on
	 * its own (true sum +-pack_noise_mv), else it is the sum of the
	 * reported cells. */
	double cell_noise_mv, pack_noise_mv;
	bool pack_separate;
	uint64_t seed;
	/* Reported SoC (plant_soc_stuck / plant_soc_wander). */
	enum plant_soc soc_mode;
	double soc_rep_pct;
	double soc_lo_pct, soc_hi_pct;
	double soc_rate_pct_h; /* speed of the walk */
	int soc_dir;           /* +1 / -1 */
	uint64_t rng;          /* state of the walk's generator */
	struct bms_snapshot base;
};

/* 16 cells at soc_pct with one high cell (cell 5, +3 % SoC, 2 % smaller),
 * 0.5 mOhm per cell, no measurement noise, the true SoC reported. */
void plant_init(struct plant *p, double soc_pct, enum plant_charger charger, double charger_max_a);

/* Every cell's internal resistance, mOhm. */
void plant_set_resistance(struct plant *p, double mohm);

/* Uniform noise of +-cell_mv on each reported cell voltage, and the pack
 * voltage measured separately (as a JK does) with +-pack_mv. */
void plant_set_noise(struct plant *p, double cell_mv, double pack_mv, uint64_t seed);

/* The reported SoC sticks at pct. */
void plant_soc_stuck(struct plant *p, double pct);

/* The reported SoC walks between lo and hi % at rate_pct_h, turning at
 * random (on average every 3 h) and at the bounds; it starts from the true
 * SoC clamped into the range. */
void plant_soc_wander(struct plant *p, double lo, double hi, double rate_pct_h, uint64_t seed);

/* Advance by dt_s with the published limits (V, A). */
void plant_step(struct plant *p, double dt_s, double cvl_v, double ccl_a);

/* What the BMS reports now (noise is a function of the plant time). */
void plant_snapshot(const struct plant *p, struct bms_snapshot *out);

/* The true voltage of cell i (0-based) at the present current, mV. */
double plant_cell_mv(const struct plant *p, unsigned i);

/* The true highest cell, mV. */
double plant_max_cell_mv(const struct plant *p);

#endif
