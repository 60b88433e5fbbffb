/* SPDX-License-Identifier: MIT */
/*
 * Charge control (docs/charge-control.md): from the configuration, the latest
 * snapshot, the previous state and the time, compute the charge voltage
 * limit (CVL), the charge and discharge current limits (CCL/DCL), the
 * battery-low voltage, the charge mode, what is limiting, the alarm levels
 * and the MOSFET switch requests. Pure: no clock, no I/O, no allocation.
 * Units: mV, mA, °C, ms.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "battery.h"
#include "bms_types.h"

#define POLICY_UNSET_TEMP INT16_MIN

struct policy_config {
	/* Overrides; 0 (or POLICY_UNSET_TEMP) = derive from the BMS
	 * (docs/charge-control.md "Parameters"). An override outside the BMS's
	 * window is clamped into it. */
	uint32_t max_charge_current_ma;
	uint32_t max_discharge_current_ma;
	uint16_t charge_cell_mv; /* V_chg */
	uint16_t float_cell_mv;  /* V_flt */
	uint16_t rebulk_cell_mv;
	uint16_t min_cell_mv;      /* V_min */
	int16_t charge_min_temp_c; /* below 0 °C only when set explicitly */
	int16_t charge_max_temp_c;
	int16_t discharge_min_temp_c;
	int16_t discharge_max_temp_c;
	uint32_t tail_current_ma;   /* 0: capacity / 50, at least 1 A */
	uint32_t max_absorption_ms; /* 2 h */
	uint8_t rebulk_soc_pct;     /* 0: off; else also with the cells below float */
	uint16_t full_charge_days;  /* 0: off */
	bool soc_taper;             /* CCL taper above 95 % SoC, off */
	bool mosfet_control;        /* switch FETs on persistent conditions, on */
	uint32_t lost_discharge_ma; /* DCL kept after a link loss, 0: off */
	uint32_t lost_discharge_ms; /* for at most this long */
};

/* Fill *cfg with the defaults above. */
void policy_config_default(struct policy_config *cfg);

enum policy_mode {
	POLICY_MODE_BULK,
	POLICY_MODE_ABSORPTION,
	POLICY_MODE_FLOAT,
};

const char *policy_mode_name(enum policy_mode mode);

enum policy_alarm {
	POLICY_ALARM_LOW_SOC,
	POLICY_ALARM_HIGH_INTERNAL_TEMP,
	POLICY_ALARM_HIGH_VOLTAGE,
	POLICY_ALARM_LOW_VOLTAGE,
	POLICY_ALARM_HIGH_TEMP,
	POLICY_ALARM_LOW_TEMP,
	POLICY_ALARM_HIGH_CHARGE_TEMP,
	POLICY_ALARM_LOW_CHARGE_TEMP,
	POLICY_ALARM_HIGH_CHARGE_CURRENT,
	POLICY_ALARM_HIGH_DISCHARGE_CURRENT,
	POLICY_ALARM_CELL_IMBALANCE,
	POLICY_ALARM_HIGH_CELL_VOLTAGE,
	POLICY_ALARM_LOW_CELL_VOLTAGE,
	POLICY_ALARM_INTERNAL_FAILURE,
	POLICY_ALARM_CONTACTOR, /* a FET write failed, or a FET is locked off */
	POLICY_ALARM_COUNT
};

/* The Venus path element of an alarm, e.g. "HighCellVoltage". */
const char *policy_alarm_name(enum policy_alarm alarm);

/* The FETs, numbered as the BMS's (bms_types.h). */
enum policy_fet {
	POLICY_FET_CHARGE = BMS_FET_CHARGE,
	POLICY_FET_DISCHARGE = BMS_FET_DISCHARGE,
	POLICY_FET_COUNT = BMS_FET_COUNT
};

enum policy_fet_request {
	POLICY_FET_NONE,
	POLICY_FET_OFF,
	POLICY_FET_ON,
};

/* What became of the last requested write of a FET. */
enum policy_fet_result {
	POLICY_FET_RESULT_NONE,        /* nothing finished */
	POLICY_FET_RESULT_OK,          /* verified by the read-back */
	POLICY_FET_RESULT_NOT_APPLIED, /* answered, but the FET did not follow */
	POLICY_FET_RESULT_NO_ANSWER,   /* the read-back timed out: the next frames decide */
};

struct policy_input {
	const struct battery *bat;         /* the battery model after the latest reply; must not be NULL */
	bool fresh;                        /* snap arrived since the last call (a poll) */
	bool lost;                         /* the link is lost: data is stale */
	uint64_t now_ms;                   /* monotonic */
	int64_t wall_s;                    /* wall clock (UNIX seconds) for days between full charges */
	bool force_off[POLICY_FET_COUNT];  /* /Settings/Force{Charging,Discharging}Off */
	bool reset_lock[POLICY_FET_COUNT]; /* the user wrote the force path: clears a chatter lock */
	enum policy_fet_result fet_result[POLICY_FET_COUNT];
};

/* The values derived from the BMS's settings and the configuration. */
struct policy_params {
	unsigned cells; /* in series: the BMS's cell-count setting */
	uint16_t v_chg_mv, v_flt_mv, v_rebulk_mv, v_min_mv;
	uint32_t ccl_ceiling_ma, dcl_ceiling_ma, tail_ma;
	int16_t charge_tmin_c, charge_tmax_c, discharge_tmin_c, discharge_tmax_c;
	bool bounded;            /* OVP and UVP plausible: they bound everything */
	bool valid;              /* every setting the limits derive from is plausible */
	bool temps_ok;           /* the temperature settings are plausible */
	const char *implausible; /* the first implausible setting, e.g. "charge OCP" */
	uint32_t cvl_cap_mv;     /* cells x (OVP - 50 mV); 0 when not bounded */
	uint32_t clamped;        /* bit per override that was clamped (POLICY_CLAMP_*) */
};

enum policy_clamp {
	POLICY_CLAMP_CHARGE_CELL = 1u << 0,
	POLICY_CLAMP_FLOAT_CELL = 1u << 1,
	POLICY_CLAMP_REBULK_CELL = 1u << 2,
	POLICY_CLAMP_MIN_CELL = 1u << 3,
	POLICY_CLAMP_CHARGE_CURRENT = 1u << 4,
	POLICY_CLAMP_DISCHARGE_CURRENT = 1u << 5,
	POLICY_CLAMP_CHARGE_TEMP = 1u << 6,
	POLICY_CLAMP_DISCHARGE_TEMP = 1u << 7,
};

struct policy_output {
	uint32_t cvl_mv;
	uint32_t ccl_ma;
	uint32_t dcl_ma;
	uint32_t battery_low_mv;
	enum policy_mode mode;
	char charge_limitation[96];
	char discharge_limitation[96];
	uint8_t alarm[POLICY_ALARM_COUNT]; /* 0 ok, 1 warning, 2 alarm */
	enum policy_fet_request fet_request[POLICY_FET_COUNT];
	bool allow_charge;
	bool allow_discharge;
	struct policy_params params;
};

struct policy_alarm_state {
	uint8_t level;
	uint8_t pending;
	uint8_t count;
};

struct policy_fet_state {
	bool owned;   /* switched off by us (and confirmed) */
	bool pending; /* a write is in flight */
	uint8_t pending_value;
	bool pending_auto;
	bool settling;       /* the read-back timed out: the next frame decides */
	bool failed;         /* the last write failed */
	bool not_applied;    /* ... because the BMS answered but did not follow */
	bool locked;         /* chatter: stays off until reset */
	bool unlock_wanted;  /* the user reset the lock; it clears once the condition has */
	bool forced;         /* off on the user's request */
	uint64_t cell_since; /* protective condition timers, 0 = not active */
	uint64_t temp_since;
	uint64_t clear_since;   /* condition cleared (with hysteresis) since */
	uint64_t failed_at;     /* when the last write failed (retry delay) */
	uint64_t result_at;     /* when the last write's result arrived */
	uint64_t auto_on_ms[3]; /* the last automatic switch-ons (anti-chatter) */
};

/* Caller-owned state carried from one call to the next. */
struct policy_state {
	bool init;
	uint64_t last_ms;
	enum policy_mode mode;
	uint64_t mode_since;
	uint64_t full_cond_since; /* absorption end condition held since (0 = not) */
	uint64_t rebulk_cond_since;
	int64_t last_full_wall_s;        /* 0 = never */
	uint32_t mode_cvl_mv;            /* the mode's target, ramped */
	uint32_t cvl_mv;                 /* published */
	double integrator_mv;            /* over-voltage controller, pack mV */
	double hi_mv, lo_mv, pack_mv;    /* highest/lowest cell and pack, noise filtered */
	uint16_t hi_hist[3];             /* the highest cell of the last three frames */
	bool capping;                    /* CVL capped near the pack voltage */
	int8_t cvl_dir;                  /* the last direction CVL moved: -1, 0, +1 */
	uint64_t cvl_turn_ms;            /* when it last changed direction */
	uint64_t cvl_up_since;           /* since when it wants to turn back up */
	uint32_t ccl_ma, dcl_ma;         /* published */
	double ccl_ramp_ma, dcl_ramp_ma; /* ramped internal values */
	bool was_lost;
	uint64_t lost_since;
	bool lost_dcl_ok; /* discharge was allowed when the link was lost */
	struct policy_alarm_state alarms[POLICY_ALARM_COUNT];
	struct policy_fet_state fet[POLICY_FET_COUNT];
};

/* A fresh state; the first snapshot sets the limits directly. */
void policy_init(struct policy_state *st);

/* What survives a restart of the service (the state file): the charge mode
 * and the last full charge, so a restart in float does not start a new
 * absorption; which FETs the service switched off, so it can switch them
 * back on; and the user's force-off. */
struct policy_persist {
	enum policy_mode mode;
	int64_t last_full_wall_s;
	bool fet_owned[POLICY_FET_COUNT];
	bool fet_forced[POLICY_FET_COUNT];
	bool fet_locked[POLICY_FET_COUNT]; /* a chatter lock survives too */
};

void policy_persist_get(const struct policy_state *st, struct policy_persist *out);

/* A fresh state carrying what was persisted. */
void policy_restore(struct policy_state *st, const struct policy_persist *p);

/* Derive the parameters (docs/charge-control.md "Parameters") from the BMS
 * settings and the configuration. */
void policy_params(const struct policy_config *cfg, const struct bms_snapshot *snap, struct policy_params *out);

/* The policy. prev and next may be the same object. */
void policy_compute(const struct policy_config *cfg, const struct policy_input *in, const struct policy_state *prev,
		    struct policy_output *out, struct policy_state *next);

#endif
