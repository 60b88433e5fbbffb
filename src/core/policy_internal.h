/* SPDX-License-Identifier: MIT */
/*
 * Shared inside the policy (policy*.c), not part of its interface: the
 * hysteresis margins and the pieces each file provides.
 */
#ifndef POLICY_INTERNAL_H
#define POLICY_INTERNAL_H

#include <stddef.h>

#include "battery.h"
#include "policy.h"

/* Hysteresis margins of docs/charge-control.md "Current limits". */
#define POLICY_CELL_HYST_MV 10
#define POLICY_TEMP_HYST_C 2

/* policy_alarms.c: the candidate level of every alarm from this frame. */
void policy_alarm_candidates(const struct policy_params *p, const struct bms_snapshot *s,
			     const struct battery_cells *cv, const struct policy_state *prev,
			     uint8_t cand[POLICY_ALARM_COUNT]);

/* Take a candidate once it held for enough consecutive polls. */
void policy_debounce(struct policy_alarm_state *a, uint8_t cand);

/* Copy the text src into dst[size], cut short if need be: what
 * snprintf(dst, size, "%s", src) does, without its cost on every frame. */
void policy_copy_text(char *dst, size_t size, const char *src);

/* policy_limits.c: a current limit in mA and what sets it. */
struct policy_limit {
	double ma;
	char why[96];
};

/* hyst: as if every condition were worse by its hysteresis margin (whether
 * an increase may happen). */
void policy_charge_limit(const struct policy_config *cfg, const struct policy_params *p, const struct bms_snapshot *s,
			 const struct battery_cells *c, bool hyst, struct policy_limit *l);
void policy_discharge_limit(const struct policy_config *cfg, const struct policy_params *p,
			    const struct bms_snapshot *s, const struct battery_cells *c, bool hyst,
			    struct policy_limit *l);

/* A hard zero: overrides whatever limited before (callers go from the least
 * to the most important reason; the last one is shown). */
void policy_limit_zero(struct policy_limit *l, const char *why);

/* The published limit from the raw one, the one an increase may reach, and
 * the ramp state. */
uint32_t policy_calm(double raw, double up, double ceiling, double dt_s, double *ramp, uint32_t published);

/* policy_fet.c: one FET's step of MOSFET control. */
void policy_fet_step(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
		     const struct battery_cells *cv, enum policy_fet which, struct policy_fet_state *f,
		     enum policy_fet_request *out);

/* Why a FET limits charging or discharging ("Charge FET switch failed: not
 * applied"), or NULL when nothing about it is ours to say. */
const char *policy_fet_reason(const struct policy_fet_state *f, enum policy_fet which, char *buf, size_t n);

#endif
