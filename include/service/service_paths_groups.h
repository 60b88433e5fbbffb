/* SPDX-License-Identifier: MIT */
/*
 * The getters of the path groups kept in files of their own, for the one
 * path table (service_paths.c): the history (/History/...,
 * service_paths_history.c) and a bank member's own paths (/Bank/...,
 * service_paths_bank.c). Each is a path_get_fn (service_paths.h).
 */
#ifndef SERVICE_PATHS_GROUPS_H
#define SERVICE_PATHS_GROUPS_H

#include <stdint.h>

#include "service_paths.h"

/* A counter as a D-Bus int32: at most INT32_MAX. */
int32_t service_path_i32(uint64_t v);

/* The limit arg % 4 names, from the policy's output: 0 CVL, 1 CCL, 2 DCL
 * (V, A), 3 battery-low voltage (kept while the settings derive none);
 * kept before the policy ran. */
enum path_result service_path_limit(const struct policy_output *p, unsigned arg, struct path_value *o);

/* ---- history (service_paths_history.c) ---- */

/* service_get_hist_ah()'s arg. */
enum hist_ah {
	H_DRAWN,
	H_DEEPEST,
	H_LAST,
	H_AVERAGE,
};

/* arg 0: lowest, 1: highest cell (V). */
enum path_result service_get_hist_cell(const struct service_view *v, unsigned arg, struct path_value *o);
/* arg 0: lowest, 1: highest pack voltage (V). */
enum path_result service_get_hist_volt(const struct service_view *v, unsigned arg, struct path_value *o);
/* arg 0: lowest, 1: highest temperature (°C). */
enum path_result service_get_hist_temp(const struct service_view *v, unsigned arg, struct path_value *o);
/* arg enum hist_ah: Ah drawn and depths of discharge, <= 0. */
enum path_result service_get_hist_ah(const struct service_view *v, unsigned arg, struct path_value *o);
/* arg 0: charged, 1: discharged energy (kWh). */
enum path_result service_get_hist_energy(const struct service_view *v, unsigned arg, struct path_value *o);
/* arg 0: full discharges, 1: low-voltage alarms, 2: high-voltage alarms. */
enum path_result service_get_hist_count(const struct service_view *v, unsigned arg, struct path_value *o);
/* Seconds since the last full charge. */
enum path_result service_get_hist_since_full(const struct service_view *v, unsigned arg, struct path_value *o);

/* ---- a bank member's own paths (service_paths_bank.c) ---- */

/* arg 4-7: CVL, CCL, DCL, battery-low voltage, 8: the float cap of a lost
 * link (cells x V_flt), 9: /Bank/Member. */
enum path_result service_get_bank_limit(const struct service_view *v, unsigned arg, struct path_value *o);

#endif
