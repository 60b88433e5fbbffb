/* SPDX-License-Identifier: MIT */
/*
 * What the policy tests share: the LFP pack of docs/charge-control.md
 * "Parameters" as a snapshot, and a run that feeds the pure policy with
 * explicit time.
 */
#ifndef POLICY_FIXTURE_H
#define POLICY_FIXTURE_H

#include <stdint.h>

#include "policy.h"

/* 16 cells at 3300 mV; OVP 3650/OVPR 3550, UVP 2650/UVPR 2750, charge OCP
 * 30 A, discharge OCP 60 A, 280 Ah, both FETs on. */
struct bms_snapshot lfp(void);

/* All cells at mv, and the pack voltage their sum (as a BMS reports it). */
void set_cells(struct bms_snapshot *s, uint16_t mv);

struct run {
	struct battery bat;
	struct policy_config cfg;
	struct policy_state st;
	struct policy_output out;
	uint64_t t;
	struct policy_input in;
};

/* Defaults, a fresh state, t = 1 s. */
void start(struct run *r);

/* One poll dt_ms after the previous one (a fresh frame). */
void feed_frame(struct run *r, const struct bms_snapshot *s, uint64_t dt_ms);

/* One policy tick dt_ms later without a new frame. */
void tick(struct run *r, const struct bms_snapshot *s, uint64_t dt_ms);

#endif
