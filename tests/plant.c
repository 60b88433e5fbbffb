/* SPDX-License-Identifier: MIT */
#include "plant.h"

#include <math.h>
#include <string.h>

#include "sim_model.h"

void plant_init(struct plant *p, double soc_pct, enum plant_charger charger, double charger_max_a)
{
	struct bms_settings *c = &p->base.settings;

	memset(p, 0, sizeof(*p));
	p->n = 16;
	p->r_ohm = 0.0005;
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

double plant_cell_mv(const struct plant *p, unsigned i)
{
	return sim_lfp_ocv_mv(p->soc[i]) + p->current_a * p->r_ohm * 1000.0;
}

static double ocv_sum_v(const struct plant *p)
{
	double v = 0;

	for (unsigned i = 0; i < p->n; i++)
		v += sim_lfp_ocv_mv(p->soc[i]) / 1000.0;
	return v;
}

void plant_step(struct plant *p, double dt_s, double cvl_v, double ccl_a)
{
	double r_pack = p->n * p->r_ohm;
	double ocv = ocv_sum_v(p);
	double target;

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

	for (unsigned i = 0; i < p->n; i++) {
		double v = plant_cell_mv(p, i);

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
		double bleed = 0;

		/* Balancer: bleed 0.1 A from cells above the start voltage and
		 * more than the trigger above the lowest. */
		if (plant_cell_mv(p, k) >= p->base.settings.balance_start_mv &&
		    plant_cell_mv(p, k) - min_mv > p->base.settings.balance_trigger_mv)
			bleed = 0.1;
		p->soc[k] += (i - bleed) * dt_s / (p->cap_ah[k] * 3600.0);
	}
	for (unsigned k = 0; k < p->n; k++)
		p->max_cell_seen_mv = fmax(p->max_cell_seen_mv, plant_cell_mv(p, k));
	p->mos_temp_c = p->temp_c + 5 + fabs(i) * 0.1;
}

void plant_snapshot(const struct plant *p, struct bms_snapshot *s)
{
	double soc = 0;
	uint32_t sum = 0;

	*s = p->base;
	for (unsigned i = 0; i < p->n; i++) {
		s->cell_mv[i] = (uint16_t)lround(plant_cell_mv(p, i));
		sum += s->cell_mv[i];
		soc += p->soc[i] / p->n;
	}
	s->voltage_mv = sum / 10 * 10;
	s->current_ma = (int32_t)lround(p->current_a * 100) * 10;
	s->soc_pct = (uint8_t)fmax(0, fmin(100, lround(soc * 100)));
	s->temp_c[BMS_TEMP_T1] = s->temp_c[BMS_TEMP_T2] = (int16_t)lround(p->temp_c);
	s->temp_c[BMS_TEMP_MOSFET] = (int16_t)lround(p->mos_temp_c);
	s->status = (uint16_t)((p->charge_fet ? BMS_STATUS_CHARGE_FET : 0) |
			       (p->discharge_fet ? BMS_STATUS_DISCHARGE_FET : 0));
	s->alarms = p->bms_ovp ? BMS_ALARM_CELL_OVER_VOLTAGE : 0;
	s->settings.charge_switch = p->charge_switch;
	s->settings.discharge_switch = p->discharge_switch;
}
