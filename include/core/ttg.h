/* SPDX-License-Identifier: MIT */
/* Time to go from an averaged current (pure). */
#ifndef TTG_H
#define TTG_H

#include <stdbool.h>
#include <stdint.h>

struct ttg {
	double avg_ma;
	uint64_t last_ms;
	bool init;
};

/* Averaging time constant: a 5-minute exponential average, as a BMV. */
#define TTG_TAU_MS 300000.0

/* Feed one current reading (mA, + = charging) at now_ms. */
void ttg_update(struct ttg *t, int32_t current_ma, uint64_t now_ms);

/* Forget the average (after a loss of data). */
void ttg_reset(struct ttg *t);

/* Seconds until the SoC reaches floor_pct at the average discharge current,
 * or -1 when not discharging (average above -0.1 A) or unknown. */
int64_t ttg_seconds(const struct ttg *t, uint8_t soc_pct, uint32_t capacity_ah, uint32_t floor_pct);

#endif
