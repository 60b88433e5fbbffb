/* SPDX-License-Identifier: MIT */
/*
 * The physical model behind jkbms-sim: a LiFePO4 pack whose SoC follows the
 * current, cells whose voltage follows their own SoC and the current, one cell
 * that can run high, temperatures, and the BMS's own protections (OVP, UVP,
 * temperature) switching its FETs. What the BMS reports can differ from the
 * physics: a cell whose sense lead is open reads 0 mV (the pack voltage still
 * holds it), the reported SoC can drift away from the true one, and each
 * reported cell voltage can carry noise. Pure: time is an argument, and the
 * randomness comes from a seeded generator in the model.
 */
#ifndef SIM_MODEL_H
#define SIM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "bms_types.h"

enum sim_charger {
	SIM_CHARGER_NONE,  /* the current is set directly (current_a + sine) */
	SIM_CHARGER_DVCC,  /* follows CVL and CCL (given via sim_model_set_limits) */
	SIM_CHARGER_ROGUE, /* ignores the limits: constant current to 3.65 V/cell */
};

struct sim_model {
	unsigned cells;
	double capacity_ah;
	double soc;                            /* 0..1, pack (average) */
	double cell_soc_offset[BMS_MAX_CELLS]; /* per-cell SoC spread */
	double cell_extra_mv[BMS_MAX_CELLS];   /* fixed offset, e.g. a high cell */
	double resistance_mohm;                /* per cell */
	double current_a;                      /* requested by the load/charger, + = charging */
	double current_actual_a;               /* after the FETs */
	double ambient_c;
	double temp_c[BMS_TEMP_COUNT];
	bool temp_override[BMS_TEMP_COUNT];
	bool charge_switch;    /* 0xAB */
	bool discharge_switch; /* 0xAC */
	bool ovp_tripped, uvp_tripped;
	uint16_t forced_alarms;
	double sine_amp_a; /* current profile: current_a + amp * sin(2 pi t / period) */
	double sine_period_s;
	double time_s;
	enum sim_charger charger;
	double charger_max_a;
	double charger_cvl_v, charger_ccl_a; /* the limits a DVCC charger obeys */
	double i_chg;                        /* charger output after its lag */
	double load_a;                       /* discharge load with a charger, A */
	double ambient_rate_c_per_h;         /* ambient drift, e.g. a warming morning */
	/* Reporting faults: the physics stays, the BMS's view differs. */
	bool cell_unmeasured[BMS_MAX_CELLS]; /* open sense lead: reads 0 mV */
	bool soc_drift;                      /* reported SoC walks on its own */
	double soc_drift_min, soc_drift_max; /* its range, 0..1 */
	double soc_reported;                 /* 0..1, while soc_drift */
	double soc_drift_timer_s;            /* time to the next step of the walk */
	double noise_mv;                     /* uniform +-noise on each reported cell */
	uint32_t rng;                        /* seeded by --seed */
	struct bms_snapshot base;            /* settings, strings, versions */
};

/* The protection settings of a typical LiFePO4 JK (OVP 3.65/3.55 V, UVP
 * 2.65/2.75 V, charge OCP 30 A, discharge OCP 60 A, 280 Ah) for n cells. */
void sim_lfp_settings(struct bms_settings *c, unsigned cells);

/* A 16S 280 Ah LFP pack at 60 % by default; cells 1..32. */
void sim_model_init(struct sim_model *m, unsigned cells, uint8_t protocol_version);

/* Advance the model by dt_s seconds. */
void sim_model_step(struct sim_model *m, double dt_s);

/* What the BMS would report now, without measurement noise. */
void sim_model_snapshot(const struct sim_model *m, struct bms_snapshot *out);

/* What the BMS reports in one frame: the snapshot plus this frame's cell
 * noise (advances the model's random generator). */
void sim_model_report(struct sim_model *m, struct bms_snapshot *out);

/* The true voltage of cell i (0-based) in mV, whatever the BMS reports. */
double sim_model_cell_mv(const struct sim_model *m, unsigned i);

/* Start (min_pct < max_pct, both 0..100) or stop (min_pct < 0) the random
 * walk of the reported SoC. Returns false for an invalid range. */
bool sim_model_soc_drift(struct sim_model *m, double min_pct, double max_pct);

/* Open-circuit voltage of a LiFePO4 cell in mV at soc 0..1. */
double sim_lfp_ocv_mv(double soc);

#endif
