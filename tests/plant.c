/* SPDX-License-Identifier: MIT */
#include "plant.h"

#include <math.h>
#include <string.h>

#include "sim_model.h"

#define PACK_NOISE_SLOT 63u          /* noise stream of the pack voltage */
#define SOC_TURN_MEAN_S (3 * 3600.0) /* the wandering SoC turns on average this often */

void plant_init(struct plant *p, double soc_pct, enum plant_charger charger, double charger_max_a)
{
	struct bms_settings *c = &p->base.settings;

	memset(p, 0, sizeof(*p));
	p->n = 16;
	plant_set_resistance(p, 0.5);
	p->charger = charger;
	p->charger_max_a = charger_max_a;
	p->charger_tau_s = 3;
	p->temp_c = 20;
	p->mos_temp_c = 25;
	p->charge_fet = p->discharge_fet = p->charge_switch = p->discharge_switch = true;
	for (unsigned i = 0; i < p->n; i++) {
		p->cap_ah[i] = 280.0 * (1.0 + 0.004 * ((double)((i * 7) % 5) - 2)); /* +-0.8 % */
		p->soc[i] = soc_pct / 100.0 + 0.002 * ((double)((i * 3) % 5) - 2);
	}
	p->cap_ah[4] = 280.0 * 0.98; /* cell 5 runs high: smaller and fuller */
	p->soc[4] += 0.03;
	p->soc_mode = PLANT_SOC_TRUE;

	sim_lfp_settings(c, p->n);
	c->charge_ocp_a = 60;
	c->discharge_ocp_a = 100;
	c->charge_utp_c = -20; /* the factory default: the policy's 0 °C floor applies */
	c->charge_utpr_c = -10;
	p->base.cell_count = (uint8_t)p->n;
	p->base.temp_sensor_count = 2;
	p->base.has_extended = true;
	p->base.protocol_version = 1;
}

void plant_set_resistance(struct plant *p, double mohm)
{
	for (unsigned i = 0; i < BMS_MAX_CELLS; i++)
		p->r_ohm[i] = mohm / 1000.0;
}

/* splitmix64's finaliser: a well-mixed 64-bit hash. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* [0, 1) from 53 bits of a hash. */
static double unit(uint64_t x)
{
	return (double)(x >> 11) * 0x1.0p-53;
}

/* Uniform in [-1, 1): the same for the same seed, time and slot. */
static double noise(const struct plant *p, unsigned slot)
{
	uint64_t k = mix(p->t_ms * 0x9E3779B97F4A7C15ull + slot + 1);

	return 2.0 * unit(mix(p->seed ^ k)) - 1.0;
}

static double next_unit(uint64_t *state)
{
	*state += 0x9E3779B97F4A7C15ull;
	return unit(mix(*state));
}

void plant_set_noise(struct plant *p, double cell_mv, double pack_mv, uint64_t seed)
{
	p->cell_noise_mv = cell_mv;
	p->pack_noise_mv = pack_mv;
	p->pack_separate = true;
	p->seed = seed;
}

static double true_soc_pct(const struct plant *p)
{
	double soc = 0;

	for (unsigned i = 0; i < p->n; i++)
		soc += p->soc[i] / p->n;
	return soc * 100.0;
}

void plant_soc_stuck(struct plant *p, double pct)
{
	p->soc_mode = PLANT_SOC_STUCK;
	p->soc_rep_pct = pct;
}

void plant_soc_wander(struct plant *p, double lo, double hi, double rate_pct_h, uint64_t seed)
{
	p->soc_mode = PLANT_SOC_WANDER;
	p->soc_lo_pct = lo;
	p->soc_hi_pct = hi;
	p->soc_rate_pct_h = rate_pct_h;
	p->soc_rep_pct = fmax(lo, fmin(hi, true_soc_pct(p)));
	p->soc_dir = -1;
	p->rng = seed;
}

/* The coulomb counter's drift: a walk at a steady rate that turns at random
 * and at the bounds of its range. */
static void soc_wander_step(struct plant *p, double dt_s)
{
	if (next_unit(&p->rng) < dt_s / SOC_TURN_MEAN_S)
		p->soc_dir = -p->soc_dir;
	p->soc_rep_pct += p->soc_dir * p->soc_rate_pct_h * dt_s / 3600.0;
	if (p->soc_rep_pct > p->soc_hi_pct) {
		p->soc_rep_pct = 2 * p->soc_hi_pct - p->soc_rep_pct;
		p->soc_dir = -1;
	} else if (p->soc_rep_pct < p->soc_lo_pct) {
		p->soc_rep_pct = 2 * p->soc_lo_pct - p->soc_rep_pct;
		p->soc_dir = 1;
	}
}

double plant_cell_mv(const struct plant *p, unsigned i)
{
	return sim_lfp_ocv_mv(p->soc[i]) + p->current_a * p->r_ohm[i] * 1000.0;
}

double plant_max_cell_mv(const struct plant *p)
{
	double hi = 0;

	for (unsigned i = 0; i < p->n; i++)
		hi = fmax(hi, plant_cell_mv(p, i));
	return hi;
}

void plant_step(struct plant *p, double dt_s, double cvl_v, double ccl_a)
{
	double ocv_mv[BMS_MAX_CELLS], ocv = 0, r_pack = 0;
	double target;

	for (unsigned k = 0; k < p->n; k++) {
		ocv_mv[k] = sim_lfp_ocv_mv(p->soc[k]);
		ocv += ocv_mv[k] / 1000.0;
		r_pack += p->r_ohm[k];
	}
	/* A charger in constant-voltage regulation holds the pack at its set
	 * voltage: I = (V_set - OCV) / R. */
	if (p->charger == PLANT_DVCC)
		target = fmin(fmin(p->charger_max_a, ccl_a), (cvl_v - ocv) / r_pack);
	else if (p->charger == PLANT_CVL_ONLY)
		target = fmin(p->charger_max_a, (cvl_v - ocv) / r_pack);
	else
		target = fmin(p->charger_max_a, (3.65 * p->n - ocv) / r_pack);
	if (target < 0)
		target = 0;
	p->i_chg += (target - p->i_chg) * (1.0 - exp(-dt_s / p->charger_tau_s));

	double max_mv = 0, min_mv = 1e9;

	for (unsigned k = 0; k < p->n; k++) {
		double v = ocv_mv[k] + p->current_a * p->r_ohm[k] * 1000.0;

		max_mv = fmax(max_mv, v);
		min_mv = fmin(min_mv, v);
	}
	/* The BMS's own protection (what the policy must never let happen). */
	if (max_mv >= p->base.settings.cell_ovp_mv)
		p->bms_ovp = true;
	else if (max_mv < p->base.settings.cell_ovpr_mv)
		p->bms_ovp = false;
	p->charge_fet = p->charge_switch && !p->bms_ovp;
	p->discharge_fet = p->discharge_switch;

	double i = (p->charge_fet ? p->i_chg : 0) - (p->discharge_fet ? p->load_a : 0);

	p->current_a = i;
	for (unsigned k = 0; k < p->n; k++) {
		double v = ocv_mv[k] + i * p->r_ohm[k] * 1000.0, bleed = 0;

		/* Balancer: bleed 0.1 A from cells above the start voltage and
		 * more than the trigger above the lowest. */
		if (v >= p->base.settings.balance_start_mv && v - min_mv > p->base.settings.balance_trigger_mv)
			bleed = 0.1;
		p->soc[k] += (i - bleed) * dt_s / (p->cap_ah[k] * 3600.0);
	}
	p->max_cell_seen_mv = fmax(p->max_cell_seen_mv, plant_max_cell_mv(p));
	p->mos_temp_c = p->temp_c + 5 + fabs(i) * 0.1;
	p->t_ms += (uint64_t)llround(dt_s * 1000.0);
	if (p->soc_mode == PLANT_SOC_WANDER)
		soc_wander_step(p, dt_s);
}

void plant_snapshot(const struct plant *p, struct bms_snapshot *s)
{
	double soc = p->soc_mode == PLANT_SOC_TRUE ? true_soc_pct(p) : p->soc_rep_pct;
	double true_sum_mv = 0;
	uint32_t sum = 0;

	*s = p->base;
	for (unsigned i = 0; i < p->n; i++) {
		double v = plant_cell_mv(p, i);

		true_sum_mv += v;
		if (p->cell_noise_mv > 0)
			v += p->cell_noise_mv * noise(p, i);
		s->cell_mv[i] = (uint16_t)lround(fmax(1, v));
		sum += s->cell_mv[i];
	}
	/* The wire unit of the pack voltage is 10 mV. */
	if (p->pack_separate) {
		double mv = true_sum_mv + p->pack_noise_mv * noise(p, PACK_NOISE_SLOT);

		s->voltage_mv = (uint32_t)lround(mv / 10) * 10;
	} else {
		s->voltage_mv = sum / 10 * 10;
	}
	s->current_ma = (int32_t)lround(p->current_a * 100) * 10;
	s->soc_pct = (uint8_t)fmax(0, fmin(100, lround(soc)));
	s->temp_c[BMS_TEMP_T1] = s->temp_c[BMS_TEMP_T2] = (int16_t)lround(p->temp_c);
	s->temp_c[BMS_TEMP_MOSFET] = (int16_t)lround(p->mos_temp_c);
	s->status = (uint16_t)((p->charge_fet ? BMS_STATUS_CHARGE_FET : 0) |
			       (p->discharge_fet ? BMS_STATUS_DISCHARGE_FET : 0));
	s->alarms = p->bms_ovp ? BMS_ALARM_CELL_OVER_VOLTAGE : 0;
	s->settings.charge_switch = p->charge_switch;
	s->settings.discharge_switch = p->discharge_switch;
}
