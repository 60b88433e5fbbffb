/* SPDX-License-Identifier: MIT */
/*
 * The battery as every layer above the codecs sees it, whatever protocol
 * family the reply came in: the last decoded reply and everything derived
 * from it, computed once per reply by battery_update() (docs/architecture.md
 * "The battery model"). The policy and the service read it; nothing
 * recomputes it. Pure: time is an argument.
 */
#ifndef BATTERY_H
#define BATTERY_H

#include <stdbool.h>
#include <stdint.h>

#include "bms_types.h"
#include "ttg.h"

/* The cells the BMS says the pack has (its cell-count setting), with a
 * voltage for every one: measured, or inferred from the pack voltage for a
 * cell that reads 0 mV or that the frame lacks (docs/charge-control.md,
 * "A cell the BMS does not measure"). For protection. */
struct battery_cells {
	unsigned n;                 /* cells in series */
	uint16_t mv[BMS_MAX_CELLS]; /* measured or inferred */
	unsigned unmeasured;        /* how many are inferred */
	unsigned first_unmeasured;  /* 1-based, 0 = none */
	uint16_t max_mv, min_mv;
	unsigned max_idx, min_idx; /* 1-based */
	int16_t tmin_c, tmax_c;    /* lowest and highest of T1/T2 */
};

/* What a person is shown: the measured cells only. */
struct battery_display {
	bool any; /* at least one cell measured */
	uint16_t min_mv, max_mv;
	unsigned min_idx, max_idx; /* 1-based */
	uint32_t sum_mv;
	unsigned tmin_id, tmax_id; /* 1 = T1, 2 = T2 */
	double temp_avg_c;
	double power_w;
	bool have_soh;
	double soh_pct;
	double installed_ah, capacity_ah, consumed_ah;
	int64_t ttg_s; /* -1 = unknown */
	/* Midpoint (docs/dbus-paths.md "Midpoint"): only when every cell is
	 * measured and there are at least two. */
	bool have_mid;
	double mid_v;         /* the lower half of the cells, V */
	double mid_dev_pct;   /* 100 x (upper half - lower half) / all cells */
	bool temp_sensor_bad; /* a sensor the BMS has reads outside -40..100 C or not at all */
};

struct battery {
	bool valid; /* a reply has arrived */
	uint64_t updated_ms;
	struct bms_snapshot snap; /* the last reply */
	struct battery_cells cells;
	struct battery_display show;
	struct ttg ttg;
	uint32_t ttg_floor_pct; /* time to go counts down to this SoC */
};

void battery_init(struct battery *b, uint32_t ttg_floor_pct);

/* A new reply at now_ms. */
void battery_update(struct battery *b, const struct bms_snapshot *s, uint64_t now_ms);

/* The data went stale (link lost): forget what averages over time. */
void battery_stale(struct battery *b);

/* The cells in series: the BMS's cell-count setting, else the count it
 * reports, else the frame's (at most BMS_MAX_CELLS). */
unsigned battery_cell_count(const struct bms_snapshot *s);

/* A cell's name as Venus shows it: "C" and its number from 1 ("C7",
 * "C16"). Written by hand: it runs every poll, and snprintf() was the
 * largest piece of code a poll ran. Returns out. */
#define BATTERY_CELL_NAME_MAX 12
const char *battery_cell_name(unsigned number, char out[BATTERY_CELL_NAME_MAX]);

/* The battery temperature sensors the protocol carries (T1, T2), and the
 * range a working sensor reads in. */
#define BATTERY_TEMP_SENSORS 2
#define BATTERY_TEMP_MIN_C (-40)
#define BATTERY_TEMP_MAX_C 100

/* Does a temperature sensor the BMS says it has (0x86) read outside
 * -40..100 C, or have no reading (temp_missing)? Sensors beyond the ones
 * the protocol carries cannot be judged and count as fine. */
bool battery_temp_sensor_bad(const struct bms_snapshot *s);

/* The cells of a reply as the policy sees them (battery_update uses it). */
void battery_cells(const struct bms_snapshot *s, struct battery_cells *out);

#endif
