/* SPDX-License-Identifier: MIT */
/*
 * The history's paths (docs/dbus-paths.md "History"), getters of the one
 * path table (service_paths.c): the extremes, Ah and energy, the counts and
 * the time since the last full charge, from the battery's history
 * (history.h). Each is invalid before the history was loaded.
 */
#include "service_paths_groups.h"

/* arg 0: lowest, 1: highest; cells in V (1 mV), the pack in V (10 mV). */
enum path_result service_get_hist_cell(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct history_values *h = v->hist ? &v->hist->v : NULL;

	if (!h || !h->have_cells)
		return PATH_INVALID;
	o->d = (arg ? h->max_cell_mv : h->min_cell_mv) / 1000.0;
	return PATH_SET;
}

enum path_result service_get_hist_volt(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct history_values *h = v->hist ? &v->hist->v : NULL;

	if (!h || !h->have_voltage)
		return PATH_INVALID;
	o->d = (arg ? h->max_mv : h->min_mv) / 1000.0;
	return PATH_SET;
}

enum path_result service_get_hist_temp(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct history_values *h = v->hist ? &v->hist->v : NULL;

	if (!h || !h->have_temp)
		return PATH_INVALID;
	o->d = arg ? h->max_temp_c : h->min_temp_c;
	return PATH_SET;
}

/* Ah drawn and depths of discharge: <= 0, as Venus publishes them. */
enum path_result service_get_hist_ah(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct history_values *h = v->hist ? &v->hist->v : NULL;
	double ah = 0;

	if (!h)
		return PATH_INVALID;
	if (arg == H_AVERAGE && !history_average_ah(v->hist, &ah))
		return PATH_INVALID;
	ah = arg == H_DRAWN ? h->drawn_ah : arg == H_DEEPEST ? h->deepest_ah : arg == H_LAST ? h->last_ah : ah;
	o->d = -ah; /* UNIT_AH rounds -0.04 to 0, not -0 */
	return PATH_SET;
}

/* arg 0: charged, 1: discharged, kWh (0.01). */
enum path_result service_get_hist_energy(const struct service_view *v, unsigned arg, struct path_value *o)
{
	if (!v->hist)
		return PATH_INVALID;
	o->d = (arg ? v->hist->v.discharged_wh : v->hist->v.charged_wh) / 1000.0;
	return PATH_SET;
}

/* arg 0: full discharges, 1: low-voltage alarms, 2: high-voltage alarms. */
enum path_result service_get_hist_count(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct history_values *h = v->hist ? &v->hist->v : NULL;

	if (!h)
		return PATH_INVALID;
	o->i = service_path_i32(arg == 0           ? h->full_discharges
					: arg == 1 ? h->low_voltage_alarms
						   : h->high_voltage_alarms);
	return PATH_SET;
}

enum path_result service_get_hist_since_full(const struct service_view *v, unsigned arg, struct path_value *o)
{
	int64_t s;

	(void)arg;
	if (!v->hist || !history_since_full_s(v->hist, v->wall_s, &s))
		return PATH_INVALID;
	o->i = service_path_i32((uint64_t)s);
	return PATH_SET;
}
