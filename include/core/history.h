/* SPDX-License-Identifier: MIT */
/*
 * The battery's history, as Venus OS shows it under /History/...
 * (docs/dbus-paths.md "History"): extremes, the charge and energy that went
 * in and out, the depth of the discharges, full discharges, the last full
 * charge and the voltage alarms raised. Fed the battery model, the policy's
 * output and the time once per publishing pass; it keeps what it learned
 * since the history was last cleared. Pure: no clock, no I/O; the service
 * keeps the values in a file (io/history_file.h).
 */
#ifndef HISTORY_H
#define HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "battery.h"
#include "policy.h"

/* A gap between two frames longer than this counts only this long in the
 * integrals: twice the longest poll interval (60 s). */
#define HISTORY_GAP_CAP_MS 120000
/* A full discharge: the SoC at or below this; counted again only once the
 * SoC was back at or above HISTORY_REARM_SOC_PCT. */
#define HISTORY_EMPTY_SOC_PCT 5
#define HISTORY_REARM_SOC_PCT 25
/* Temperatures outside this window are a broken sensor, not history. */
#define HISTORY_TEMP_MIN_C (-40)
#define HISTORY_TEMP_MAX_C 100

/* What the history holds, and what its file keeps. Internally every
 * quantity is a magnitude (>= 0); Venus's signs are applied on publishing. */
struct history_values {
	bool have_cells, have_voltage, have_temp; /* the extremes below are known */
	uint16_t min_cell_mv, max_cell_mv;
	uint32_t min_mv, max_mv;
	int16_t min_temp_c, max_temp_c;
	double drawn_ah;                  /* discharged, Ah */
	double charged_wh, discharged_wh; /* energy in and out, Wh */
	double deepest_ah;                /* deepest depth of discharge, Ah */
	double last_ah;                   /* deepest depth since the last full charge, Ah */
	double discharges_ah;             /* sum of the depths of the completed discharges */
	uint32_t discharges;              /* completed discharges (ended by a full charge) */
	uint32_t full_discharges;
	bool empty_counted;       /* the present full discharge is counted (re-armed at HISTORY_REARM_SOC_PCT) */
	int64_t last_full_wall_s; /* wall clock of the last full charge, 0 = none since the clear */
	uint32_t low_voltage_alarms, high_voltage_alarms;
};

struct history {
	struct history_values v;
	bool changed; /* v changed since history_saved() */
	/* the previous frame, for the integrals */
	bool have_prev;
	uint64_t prev_ms;
	double prev_v, prev_a;
	/* the previous policy output */
	bool have_mode;
	enum policy_mode mode;
	bool low_raised, high_raised;
};

/* One publishing pass. */
struct history_input {
	const struct battery *bat;       /* the model after the latest reply */
	const struct policy_output *pol; /* NULL before the policy ran */
	bool fresh;                      /* a new reply arrived for this pass */
	bool lost;                       /* the link is lost */
	uint64_t now_ms;                 /* monotonic */
	int64_t wall_s;                  /* wall clock, UNIX seconds */
};

/* Empty (as after a clear). */
void history_init(struct history *h);

/* Carry on from values kept earlier (the file). */
void history_restore(struct history *h, const struct history_values *v);

void history_step(struct history *h, const struct history_input *in);

/* /History/Clear: everything starts again from this moment. */
void history_clear(struct history *h);

/* The values were saved: clears `changed`. */
void history_saved(struct history *h);

/* Seconds since the last full charge, whole minutes; false when none. */
bool history_since_full_s(const struct history *h, int64_t wall_s, int64_t *out);

/* The mean depth of the completed discharges, Ah; false when none. */
bool history_average_ah(const struct history *h, double *out);

/* A plausibility check of values read back (a file): magnitudes finite and
 * >= 0, extremes in order, the average no deeper than the deepest. */
bool history_values_plausible(const struct history_values *v);

#endif
