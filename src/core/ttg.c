/* SPDX-License-Identifier: MIT */
#include "ttg.h"

#include <math.h>

void ttg_update(struct ttg *t, int32_t current_ma, uint64_t now_ms)
{
	if (!t->init) {
		t->avg_ma = current_ma;
		t->last_ms = now_ms;
		t->init = true;
		return;
	}
	double dt = now_ms > t->last_ms ? (double)(now_ms - t->last_ms) : 0.0;
	double k = 1.0 - exp(-dt / TTG_TAU_MS);

	t->avg_ma += (current_ma - t->avg_ma) * k;
	t->last_ms = now_ms;
}

void ttg_reset(struct ttg *t)
{
	t->init = false;
	t->avg_ma = 0;
}

int64_t ttg_seconds(const struct ttg *t, uint8_t soc_pct, uint32_t capacity_ah, uint32_t floor_pct)
{
	if (!t->init || t->avg_ma > -100.0 || capacity_ah == 0)
		return -1;
	if (soc_pct <= floor_pct)
		return 0;
	double ah = (soc_pct - floor_pct) / 100.0 * capacity_ah;

	return (int64_t)llround(ah / (-t->avg_ma / 1000.0) * 3600.0);
}
