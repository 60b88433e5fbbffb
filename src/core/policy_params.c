/* SPDX-License-Identifier: MIT */
/*
 * What the policy derives before it decides anything: the configuration's
 * defaults, the parameters from the BMS's own protection settings with their
 * plausibility (docs/charge-control.md "Parameters" and "Implausible BMS
 * settings").
 */
#include <string.h>

#include "battery.h"
#include "policy_internal.h"

/* Plausible cell protection voltages (any lithium chemistry: LTO to NMC). */
#define CELL_MV_MIN 1000
#define CELL_MV_MAX 4500
/* V_min + 100 mV < V_flt <= V_chg must fit between UVPR and OVPR with the
 * derivation's margins (UVPR + 50 ... OVPR - 50). */
#define WINDOW_MIN_MV 400
/* The least the pack voltage may exceed its counted cells by before the
 * count is implausible (wiring drop under load, rounding). */
#define COUNT_SLACK_MIN_MV 1000
/* Temperatures a JK setting can plausibly hold, after decoding. */
#define TEMP_MIN_C (-40)
#define TEMP_MAX_C 100
#define CVL_OVP_MARGIN_MV 50
/* Only used when the BMS's temperature settings are implausible: the
 * FET protection keeps a window that is safe for every lithium chemistry
 * (no current is allowed then anyway). */
#define SAFE_CHARGE_TMIN_C 0
#define SAFE_CHARGE_TMAX_C 45
#define SAFE_DISCHARGE_TMIN_C (-20)
#define SAFE_DISCHARGE_TMAX_C 60

void policy_config_default(struct policy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->charge_min_temp_c = POLICY_UNSET_TEMP;
	c->charge_max_temp_c = POLICY_UNSET_TEMP;
	c->discharge_min_temp_c = POLICY_UNSET_TEMP;
	c->discharge_max_temp_c = POLICY_UNSET_TEMP;
	c->max_absorption_ms = 2 * 3600 * 1000;
	c->rebulk_soc_pct = 0; /* off: the BMS's SoC drifts */
	c->mosfet_control = true;
	c->lost_discharge_ms = 600000; /* used only with lost_discharge_ma set */
}

/* ---- plausibility ------------------------------------------------------- */

static bool temp_ok(int16_t t)
{
	return t >= TEMP_MIN_C && t <= TEMP_MAX_C;
}

/* The temperature settings the limits derive from, or the name of the first
 * implausible one. */
static const char *implausible_temperature(const struct bms_settings *c)
{
	static const struct {
		size_t off;
		const char *name;
	} temps[] = {
		{ offsetof(struct bms_settings, mosfet_otp_c), "MOSFET OTP" },
		{ offsetof(struct bms_settings, charge_otp_c), "charge OTP" },
		{ offsetof(struct bms_settings, charge_utp_c), "charge UTP" },
		{ offsetof(struct bms_settings, charge_utpr_c), "charge UTPR" },
		{ offsetof(struct bms_settings, discharge_otp_c), "discharge OTP" },
		{ offsetof(struct bms_settings, discharge_utp_c), "discharge UTP" },
		{ offsetof(struct bms_settings, discharge_utpr_c), "discharge UTPR" },
	};

	for (size_t k = 0; k < sizeof(temps) / sizeof(temps[0]); k++) {
		int16_t t;

		memcpy(&t, (const char *)c + temps[k].off, sizeof(t));
		if (!temp_ok(t))
			return temps[k].name;
	}
	/* A recovery below its trip point, or a window that is inverted. */
	if (c->charge_utpr_c < c->charge_utp_c)
		return "charge UTPR";
	if (c->charge_utpr_c >= c->charge_otp_c)
		return "charge OTP";
	if (c->discharge_utpr_c < c->discharge_utp_c)
		return "discharge UTPR";
	if (c->discharge_utpr_c >= c->discharge_otp_c)
		return "discharge OTP";
	return NULL;
}

/* Does the pack voltage hold more than the counted cells? With every
 * counted cell measured, the pack may exceed their sum only by wiring
 * drop and rounding, never by half a cell or more: a count set below the
 * cells in series would leave the rest unwatched. An unmeasured cell is
 * inferred from the pack voltage instead (battery_cells()). */
static bool count_below_pack(const struct bms_snapshot *s, unsigned cells)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < cells; i++) {
		uint16_t v = i < s->cell_count ? s->cell_mv[i] : 0;

		if (!v)
			return false;
		sum += v;
	}
	uint32_t slack = sum / cells / 2;

	if (slack < COUNT_SLACK_MIN_MV)
		slack = COUNT_SLACK_MIN_MV;
	return s->voltage_mv > sum + slack;
}

/* Fills p->bounded and returns the first implausible setting, or NULL. */
static const char *check_settings(const struct bms_snapshot *s, unsigned cells, struct policy_params *p)
{
	const struct bms_settings *c = &s->settings;

	if (!cells)
		return "cell count";
	p->bounded = c->cell_uvp_mv >= CELL_MV_MIN && c->cell_uvp_mv < c->cell_ovp_mv && c->cell_ovp_mv <= CELL_MV_MAX;
	if (!p->bounded)
		return c->cell_uvp_mv < CELL_MV_MIN ? "cell UVP" : "cell OVP";
	if (count_below_pack(s, cells))
		return "cell count";
	if (c->cell_ovpr_mv >= c->cell_ovp_mv)
		return "cell OVPR";
	if (c->cell_uvpr_mv <= c->cell_uvp_mv)
		return "cell UVPR";
	if (c->cell_ovpr_mv < c->cell_uvpr_mv + WINDOW_MIN_MV)
		return "cell OVPR";
	if (!c->charge_ocp_a)
		return "charge OCP";
	if (!c->discharge_ocp_a)
		return "discharge OCP";
	return implausible_temperature(c);
}

/* ---- derivation ----------------------------------------------------------- */

static int32_t clamp_i(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* An override (0 = none) or the default, clamped into [lo, hi]. */
static uint16_t pick_mv(uint16_t override, int32_t def, int32_t lo, int32_t hi, uint32_t bit, uint32_t *clamped)
{
	if (!override)
		return (uint16_t)clamp_i(def, lo, hi);
	int32_t v = clamp_i(override, lo, hi);

	if (v != override)
		*clamped |= bit;
	return (uint16_t)v;
}

static void pick_voltages(const struct policy_config *cfg, const struct bms_settings *c, struct policy_params *p)
{
	int32_t ovpr = c->cell_ovpr_mv, uvpr = c->cell_uvpr_mv;

	/* Stay inside the BMS's window with a margin, so that its own hard
	 * protection never has to trip. */
	p->v_chg_mv = pick_mv(cfg->charge_cell_mv, ovpr - 100, uvpr + 300, ovpr - 50, POLICY_CLAMP_CHARGE_CELL,
			      &p->clamped);
	p->v_min_mv = pick_mv(cfg->min_cell_mv, uvpr + 100, uvpr + 50, p->v_chg_mv - 200, POLICY_CLAMP_MIN_CELL,
			      &p->clamped);
	p->v_flt_mv = pick_mv(cfg->float_cell_mv, p->v_chg_mv - 75, p->v_min_mv + 100, p->v_chg_mv,
			      POLICY_CLAMP_FLOAT_CELL, &p->clamped);
	p->v_rebulk_mv = pick_mv(cfg->rebulk_cell_mv, p->v_flt_mv - 75, p->v_min_mv, p->v_flt_mv - 10,
				 POLICY_CLAMP_REBULK_CELL, &p->clamped);
}

static uint32_t pick_ceiling(uint32_t configured, uint32_t bms, uint32_t bit, uint32_t *clamped)
{
	if (!configured)
		return bms;
	if (configured > bms) {
		*clamped |= bit;
		return bms;
	}
	return configured;
}

/* One temperature window: the configured edge (or the default) kept inside
 * the BMS's recovery and protection points. */
static void pick_window(int16_t cfg_lo, int16_t cfg_hi, int16_t def_lo, int16_t def_hi, int16_t bms_lo, int16_t bms_hi,
			uint32_t bit, uint32_t *clamped, int16_t *lo, int16_t *hi)
{
	*lo = cfg_lo != POLICY_UNSET_TEMP ? cfg_lo : def_lo;
	*hi = cfg_hi != POLICY_UNSET_TEMP ? cfg_hi : def_hi;
	if (*lo < bms_lo) {
		if (cfg_lo != POLICY_UNSET_TEMP)
			*clamped |= bit;
		*lo = bms_lo;
	}
	if (*hi > bms_hi) {
		if (cfg_hi != POLICY_UNSET_TEMP)
			*clamped |= bit;
		*hi = bms_hi;
	}
}

void policy_params(const struct policy_config *cfg, const struct bms_snapshot *snap, struct policy_params *p)
{
	const struct bms_settings *c = &snap->settings;

	memset(p, 0, sizeof(*p));
	p->cells = battery_cell_count(snap);
	p->implausible = check_settings(snap, p->cells, p);
	p->valid = !p->implausible;
	if (!p->bounded)
		return;
	p->cvl_cap_mv = p->cells * (uint32_t)(c->cell_ovp_mv - CVL_OVP_MARGIN_MV);
	p->temps_ok = !implausible_temperature(c);
	if (!p->temps_ok) {
		p->charge_tmin_c = SAFE_CHARGE_TMIN_C;
		p->charge_tmax_c = SAFE_CHARGE_TMAX_C;
		p->discharge_tmin_c = SAFE_DISCHARGE_TMIN_C;
		p->discharge_tmax_c = SAFE_DISCHARGE_TMAX_C;
	} else {
		/* Never charge below 0 °C unless the user set a lower floor
		 * explicitly: many JK units ship with charge UTP -20 °C. */
		pick_window(cfg->charge_min_temp_c, cfg->charge_max_temp_c, 0, 45, c->charge_utpr_c,
			    (int16_t)(c->charge_otp_c - 5), POLICY_CLAMP_CHARGE_TEMP, &p->clamped, &p->charge_tmin_c,
			    &p->charge_tmax_c);
		pick_window(cfg->discharge_min_temp_c, cfg->discharge_max_temp_c, -20, INT16_MAX, c->discharge_utpr_c,
			    (int16_t)(c->discharge_otp_c - 5), POLICY_CLAMP_DISCHARGE_TEMP, &p->clamped,
			    &p->discharge_tmin_c, &p->discharge_tmax_c);
	}
	if (!p->valid)
		return;
	pick_voltages(cfg, c, p);
	p->ccl_ceiling_ma = pick_ceiling(cfg->max_charge_current_ma, (uint32_t)c->charge_ocp_a * 900u,
					 POLICY_CLAMP_CHARGE_CURRENT, &p->clamped);
	p->dcl_ceiling_ma = pick_ceiling(cfg->max_discharge_current_ma, (uint32_t)c->discharge_ocp_a * 900u,
					 POLICY_CLAMP_DISCHARGE_CURRENT, &p->clamped);
	p->tail_ma = cfg->tail_current_ma ? cfg->tail_current_ma : (uint32_t)((uint64_t)c->capacity_ah * 1000u / 50u);
	if (p->tail_ma < 1000)
		p->tail_ma = 1000;
}
