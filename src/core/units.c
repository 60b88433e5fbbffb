/* SPDX-License-Identifier: MIT */
/* The units and resolutions Venus OS is shown (units.h). */
#include "units.h"

#include <math.h>
#include <stddef.h>

/* docs/dbus-paths.md "Resolutions" mirrors this table. */
const struct unit_def units[UNIT_COUNT] = {
	[UNIT_NONE] = { 0, NULL },     [UNIT_V] = { 2, "%.2fV" }, [UNIT_CELL_V] = { 3, "%.3fV" },
	[UNIT_A] = { 1, "%.1fA" },     [UNIT_W] = { 0, "%.0fW" }, [UNIT_AH] = { 1, "%.1fAh" },
	[UNIT_KWH] = { 2, "%.2fkWh" }, [UNIT_C] = { 1, "%.1fC" }, [UNIT_PCT] = { 1, "%.1f%%" },
	[UNIT_S] = { 0, "%.0fs" },
};

/* Powers of ten up to 10^9, each exact in a double. */
static const double powers_of_ten[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };

double round_decimals(double v, unsigned decimals)
{
	if (decimals >= sizeof(powers_of_ten) / sizeof(powers_of_ten[0]))
		return v;

	double scaled = v * powers_of_ten[decimals];

	/* Beyond 2^53 every double is a whole number already (and llround
	 * would overflow further up). */
	if (!(fabs(scaled) < 9007199254740992.0))
		return v;

	long long n = llround(scaled);

	/* n and 10^k are exact, and IEEE division rounds correctly: the
	 * quotient is the double nearest to the decimal n / 10^k (and a
	 * -0.04 rounded to one place is 0, not -0). */
	return (double)n / powers_of_ten[decimals];
}

double unit_round(double v, enum unit u)
{
	if (u <= UNIT_NONE || u >= UNIT_COUNT)
		return v;
	return round_decimals(v, units[u].decimals);
}
