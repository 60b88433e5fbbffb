/* SPDX-License-Identifier: MIT */
/* FET steps the policy safety tests share (policy_steps.h). */
#include "policy_steps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int polls_until_request(struct run *r, const struct bms_snapshot *s, unsigned fet, enum policy_fet_request want,
			int max)
{
	for (int k = 1; k <= max; k++) {
		feed_frame(r, s, 1000);
		if (r->out.fet_request[fet] == want)
			return k;
		assert_int_equal(r->out.fet_request[fet], POLICY_FET_NONE);
	}
	return max + 1;
}

void write_done(struct run *r, struct bms_snapshot *s, unsigned fet, bool on)
{
	uint16_t bit = fet == CHG ? BMS_STATUS_CHARGE_FET : BMS_STATUS_DISCHARGE_FET;

	r->in.fet_result[fet] = POLICY_FET_RESULT_OK;
	if (on)
		s->status |= bit;
	else
		s->status &= (uint16_t)~bit;
}

void switched_off_then_cleared(struct run *r, struct bms_snapshot *s)
{
	s->cell_mv[4] = 3620;
	s->current_ma = 20000;
	assert_int_equal(polls_until_request(r, s, CHG, POLICY_FET_OFF, 10), 6);
	write_done(r, s, CHG, false);
	s->cell_mv[4] = 3400;
	s->current_ma = 0;
}
