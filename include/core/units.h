/* SPDX-License-Identifier: MIT */
/*
 * The units Venus OS shows a battery in, each with the resolution its
 * doubles are published at and its text format: the one table of
 * resolutions (docs/dbus-paths.md "Resolutions"), and the one rounding
 * every published double goes through. Pure.
 */
#ifndef UNITS_H
#define UNITS_H

enum unit {
	UNIT_NONE = 0, /* not a double */
	UNIT_V,        /* pack-level voltage, 0.01 V */
	UNIT_CELL_V,   /* cell voltage and cell sums, 0.001 V */
	UNIT_A,        /* current, 0.1 A */
	UNIT_W,        /* power, 1 W */
	UNIT_AH,       /* charge, 0.1 Ah */
	UNIT_KWH,      /* energy, 0.01 kWh */
	UNIT_C,        /* temperature, 0.1 °C */
	UNIT_PCT,      /* SoC, SoH, deviation, 0.1 % */
	UNIT_S,        /* time, 1 s */
	UNIT_COUNT
};

struct unit_def {
	unsigned decimals; /* the resolution is 10^-decimals */
	const char *text;  /* GetText format: "%.<decimals>f" and the unit */
};

extern const struct unit_def units[UNIT_COUNT];

/* The double nearest to v rounded to `decimals` places (0..9): the integer
 * llround(v * 10^decimals) divided by 10^decimals, which IEEE division
 * rounds correctly, so the result prints as that decimal and nothing
 * longer (45.66, never 45.660000000000004). Half-way cases may go either
 * way. A v too large for the scaling (|v| * 10^decimals >= 2^53) or not
 * finite is returned as it is. */
double round_decimals(double v, unsigned decimals);

/* round_decimals() at the unit's resolution; UNIT_NONE returns v. */
double unit_round(double v, enum unit u);

#endif
