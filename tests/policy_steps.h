/* SPDX-License-Identifier: MIT */
/*
 * FET steps the policy safety tests share (test_policy_safety*.c): poll
 * until a FET write is requested, and complete a requested write.
 */
#ifndef POLICY_STEPS_H
#define POLICY_STEPS_H

#include <stdbool.h>

#include "policy_fixture.h"

#define CHG POLICY_FET_CHARGE
#define DIS POLICY_FET_DISCHARGE

/* Poll every second until the FET is requested (returns the number
 * of polls), or max polls pass (returns max + 1). */
int polls_until_request(struct run *r, const struct bms_snapshot *s, unsigned fet, enum policy_fet_request want,
			int max);

/* The write that was just requested is verified and the BMS shows it. */
void write_done(struct run *r, struct bms_snapshot *s, unsigned fet, bool on);

/* Cell 5 at OVP - 30 mV while charging: the policy switches the charge FET
 * off (after 5 s) and the write is done; then the cell is back at 3.40 V
 * with no current, so the condition has cleared. */
void switched_off_then_cleared(struct run *r, struct bms_snapshot *s);

#endif
