/* SPDX-License-Identifier: MIT */
/*
 * A small LiFePO4 pack and JK-BMS behaviour model for the simulator: the
 * physics (SoC, cell voltages, charger, temperatures), the BMS's own
 * protections, and what the BMS reports of it (open sense leads, a drifting
 * SoC, noisy cell readings).
 */
#include "sim_model.h"

#include <math.h>
#include <string.h>

/* The reported SoC takes one random step of up to this much per minute. */
#define SOC_DRIFT_STEP_S 60.0
#define SOC_DRIFT_STEP 0.015

/* Piecewise-linear LFP open-circuit curve (typical datasheet shape). */
static const double ocv_soc[] = { 0.00, 0.05, 0.10, 0.20, 0.40, 0.60, 0.80, 0.90, 0.95, 0.98, 1.00 };
static const double ocv_mv[] = { 2500, 3000, 3200, 3250, 3290, 3310, 3330, 3350, 3400, 3500, 3600 };

double sim_lfp_ocv_mv(double soc)
{
	unsigned n = sizeof(ocv_soc) / sizeof(ocv_soc[0]);

	if (soc <= 0)
		return ocv_mv[0] + soc * 4000; /* below empty: falls fast */
	if (soc >= 1)
		return ocv_mv[n - 1] + (soc - 1) * 20000; /* above full: rises fast */
	for (unsigned i = 1; i < n; i++) {
		if (soc <= ocv_soc[i]) {
			double f = (soc - ocv_soc[i - 1]) / (ocv_soc[i] - ocv_soc[i - 1]);

			return ocv_mv[i - 1] + f * (ocv_mv[i] - ocv_mv[i - 1]);
		}
	}
	return ocv_mv[n - 1];
}

void sim_lfp_settings(struct bms_settings *c, unsigned cells)
{
	/* Realistic LiFePO4 settings of a JK-B2A24S15P (values seen in captures). */
	memset(c, 0, sizeof(*c));
	c->cell_ovp_mv = 3650;
	c->cell_ovpr_mv = 3550;
	c->cell_ovp_delay_s = 5;
	c->cell_uvp_mv = 2650;
	c->cell_uvpr_mv = 2750;
	c->cell_uvp_delay_s = 5;
	c->pack_ovp_mv = 3650u * cells;
	c->pack_uvp_mv = 2650u * cells;
	c->cell_diff_prot_mv = 300;
	c->discharge_ocp_a = 60;
	c->discharge_ocp_delay_s = 300;
	c->charge_ocp_a = 30;
	c->charge_ocp_delay_s = 30;
	c->balance_start_mv = 3400;
	c->balance_trigger_mv = 10;
	c->balancer_enabled = 1;
	c->mosfet_otp_c = 90;
	c->mosfet_otpr_c = 70;
	c->box_otp_c = 100;
	c->box_otpr_c = 100;
	c->temp_diff_prot_c = 20;
	c->charge_otp_c = 70;
	c->discharge_otp_c = 70;
	c->charge_utp_c = 0;
	c->charge_utpr_c = 5;
	c->discharge_utp_c = -20;
	c->discharge_utpr_c = -10;
	c->cell_count = (uint8_t)cells;
	c->capacity_ah = 280;
	c->current_calibration_ma = 1000;
	c->board_address = 1;
	c->battery_type = 0;
	c->sleep_wait_s = 10;
	c->low_soc_alarm_pct = 20;
	c->actual_capacity_ah = 280;
}

void sim_model_init(struct sim_model *m, unsigned cells, uint8_t protocol_version)
{
	struct bms_settings *c = &m->base.settings;

	memset(m, 0, sizeof(*m));
	if (cells < 1)
		cells = 1;
	if (cells > BMS_MAX_CELLS)
		cells = BMS_MAX_CELLS;
	m->cells = cells;
	m->capacity_ah = 280;
	m->soc = 0.60;
	m->resistance_mohm = 0.5;
	m->ambient_c = 20;
	m->charge_switch = true;
	m->discharge_switch = true;
	m->sine_period_s = 600;
	m->rng = 1;
	for (unsigned i = 0; i < cells; i++) {
		m->cell_soc_offset[i] = ((double)((i * 7) % 5) - 2) * 0.002; /* -0.4 .. +0.4 % */
		m->cell_extra_mv[i] = (double)((i * 5) % 7) - 3;             /* -3 .. +3 mV */
	}

	sim_lfp_settings(c, cells);
	m->base.temp_sensor_count = 2;
	m->base.has_extended = protocol_version != 0;
	m->base.protocol_version = protocol_version;
	strcpy(m->base.device_id, "Input Us"); /* factory default user data */
	strcpy(m->base.manufacturing_date, "2611");
	strcpy(m->base.software_version, "11.XW_S11.26");
	strcpy(m->base.manufacturer, "Input UserdaJK_B2A24S15P");
	for (unsigned i = 0; i < BMS_TEMP_COUNT; i++)
		m->temp_c[i] = m->ambient_c;
}

/* Uniform in [0, 1) from the model's own generator (deterministic per seed). */
static double uniform(struct sim_model *m)
{
	m->rng = m->rng * 1664525u + 1013904223u;
	return (double)(m->rng >> 8) / (double)(1u << 24);
}

double sim_model_cell_mv(const struct sim_model *m, unsigned i)
{
	double soc = m->soc + m->cell_soc_offset[i];

	return sim_lfp_ocv_mv(soc) + m->current_actual_a * m->resistance_mohm + m->cell_extra_mv[i];
}

static double ocv_sum_v(const struct sim_model *m)
{
	double v = 0;

	for (unsigned i = 0; i < m->cells; i++)
		v += (sim_lfp_ocv_mv(m->soc + m->cell_soc_offset[i]) + m->cell_extra_mv[i]) / 1000.0;
	return v;
}

/* A charger in constant-voltage regulation holds the pack at its set
 * voltage: I = (V_set - OCV) / R, within its current limit; it answers
 * with a 3 s lag. */
static void charger_step(struct sim_model *m, double dt_s)
{
	double r_pack = m->cells * m->resistance_mohm / 1000.0;
	double ocv = ocv_sum_v(m), target = 0;

	switch (m->charger) {
	case SIM_CHARGER_NONE:
		m->i_chg = 0;
		return;
	case SIM_CHARGER_DVCC:
		target = fmin(fmin(m->charger_max_a, m->charger_ccl_a), (m->charger_cvl_v - ocv) / r_pack);
		break;
	case SIM_CHARGER_ROGUE:
		target = fmin(m->charger_max_a, (3.65 * m->cells - ocv) / r_pack);
		break;
	}
	if (target < 0)
		target = 0;
	m->i_chg += (target - m->i_chg) * (1.0 - exp(-dt_s / 3.0));
}

bool sim_model_soc_drift(struct sim_model *m, double min_pct, double max_pct)
{
	if (min_pct < 0) {
		m->soc_drift = false;
		return true;
	}
	if (!(min_pct < max_pct) || max_pct > 100)
		return false;
	m->soc_drift_min = min_pct / 100;
	m->soc_drift_max = max_pct / 100;
	m->soc_reported = fmin(fmax(m->soc, m->soc_drift_min), m->soc_drift_max);
	m->soc_drift_timer_s = SOC_DRIFT_STEP_S;
	m->soc_drift = true;
	return true;
}

/* A random walk of the reported SoC, reflected at the ends of its range. */
static void soc_drift_step(struct sim_model *m, double dt_s)
{
	if (!m->soc_drift)
		return;
	m->soc_drift_timer_s -= dt_s;
	while (m->soc_drift_timer_s <= 0) {
		double r = m->soc_reported + (uniform(m) * 2 - 1) * SOC_DRIFT_STEP;

		if (r > m->soc_drift_max)
			r = 2 * m->soc_drift_max - r;
		if (r < m->soc_drift_min)
			r = 2 * m->soc_drift_min - r;
		m->soc_reported = fmin(fmax(r, m->soc_drift_min), m->soc_drift_max);
		m->soc_drift_timer_s += SOC_DRIFT_STEP_S;
	}
}

void sim_model_step(struct sim_model *m, double dt_s)
{
	const struct bms_settings *c = &m->base.settings;
	double want = m->current_a;

	m->time_s += dt_s;
	if (m->sine_amp_a != 0 && m->sine_period_s > 0)
		want += m->sine_amp_a * sin(2 * M_PI * m->time_s / m->sine_period_s);
	charger_step(m, dt_s);
	if (m->charger != SIM_CHARGER_NONE)
		want = m->i_chg - m->load_a;
	m->ambient_c += m->ambient_rate_c_per_h * dt_s / 3600.0;

	soc_drift_step(m, dt_s);

	/* The BMS's own protections, with their recovery thresholds. They see
	 * what it measures: a cell with an open sense lead trips nothing. */
	double vmax = 0, vmin = 1e9;

	for (unsigned i = 0; i < m->cells; i++) {
		if (m->cell_unmeasured[i])
			continue;
		double v = sim_model_cell_mv(m, i);

		vmax = v > vmax ? v : vmax;
		vmin = v < vmin ? v : vmin;
	}
	if (vmax >= c->cell_ovp_mv)
		m->ovp_tripped = true;
	else if (vmax < c->cell_ovpr_mv)
		m->ovp_tripped = false;
	if (vmin <= c->cell_uvp_mv)
		m->uvp_tripped = true;
	else if (vmin > c->cell_uvpr_mv)
		m->uvp_tripped = false;

	bool cold = m->temp_c[BMS_TEMP_T1] < c->charge_utp_c || m->temp_c[BMS_TEMP_T2] < c->charge_utp_c;
	bool charge_on = m->charge_switch && !m->ovp_tripped && !cold;
	bool discharge_on = m->discharge_switch && !m->uvp_tripped;

	if ((want > 0 && !charge_on) || (want < 0 && !discharge_on))
		want = 0;
	m->current_actual_a = want;
	m->soc += want * dt_s / (m->capacity_ah * 3600.0);
	if (m->soc < -0.02)
		m->soc = -0.02;
	if (m->soc > 1.02)
		m->soc = 1.02;

	/* Temperatures relax to ambient; the MOSFETs warm with current. */
	double k = dt_s / 120.0 > 1 ? 1 : dt_s / 120.0;
	double target[BMS_TEMP_COUNT] = { m->ambient_c + fabs(want) * 0.1, m->ambient_c + fabs(want) * 0.02,
					  m->ambient_c + fabs(want) * 0.02 };

	for (unsigned i = 0; i < BMS_TEMP_COUNT; i++) {
		if (!m->temp_override[i])
			m->temp_c[i] += (target[i] - m->temp_c[i]) * k;
	}
}

void sim_model_snapshot(const struct sim_model *m, struct bms_snapshot *s)
{
	const struct bms_settings *c = &m->base.settings;
	uint32_t sum = 0;
	double vmax = 0, vmin = 1e9;

	*s = m->base;
	s->cell_count = (uint8_t)m->cells;
	for (unsigned i = 0; i < m->cells; i++) {
		double v = sim_model_cell_mv(m, i);

		v = v < 0 ? 0 : (v > 5000 ? 5000 : v);
		/* The pack voltage is measured on its own terminals: it holds
		 * every cell, measured or not. */
		sum += (uint32_t)lround(v);
		if (m->cell_unmeasured[i]) {
			s->cell_mv[i] = 0;
			continue;
		}
		s->cell_mv[i] = (uint16_t)lround(v);
		vmax = v > vmax ? v : vmax;
		vmin = v < vmin ? v : vmin;
	}
	s->voltage_mv = sum / 10 * 10;
	s->current_ma = (int32_t)lround(m->current_actual_a * 100) * 10;
	double soc = (m->soc_drift ? m->soc_reported : m->soc) * 100;

	s->soc_pct = (uint8_t)(soc < 0 ? 0 : (soc > 100 ? 100 : lround(soc)));
	for (unsigned i = 0; i < BMS_TEMP_COUNT; i++) {
		double t = m->temp_c[i] < -40 ? -40 : (m->temp_c[i] > 99 ? 99 : m->temp_c[i]);

		s->temp_c[i] = (int16_t)lround(t);
	}
	s->cycles = (uint16_t)(m->time_s / 86400);
	s->cycle_capacity_ah = (uint32_t)(s->cycles * m->capacity_ah);
	s->cell_count_reported = (uint16_t)m->cells;
	s->runtime_min = (uint32_t)(m->time_s / 60);

	bool cold = m->temp_c[BMS_TEMP_T1] < c->charge_utp_c || m->temp_c[BMS_TEMP_T2] < c->charge_utp_c;
	uint16_t alarms = m->forced_alarms;

	if (m->ovp_tripped)
		alarms |= BMS_ALARM_CELL_OVER_VOLTAGE;
	if (m->uvp_tripped)
		alarms |= BMS_ALARM_CELL_UNDER_VOLTAGE;
	if (cold)
		alarms |= BMS_ALARM_LOW_TEMP;
	if (s->soc_pct < c->low_soc_alarm_pct)
		alarms |= BMS_ALARM_LOW_CAPACITY;
	s->alarms = alarms;

	uint16_t status = 0;

	if (m->charge_switch && !m->ovp_tripped && !cold)
		status |= BMS_STATUS_CHARGE_FET;
	if (m->discharge_switch && !m->uvp_tripped)
		status |= BMS_STATUS_DISCHARGE_FET;
	if (c->balancer_enabled && vmax >= c->balance_start_mv && vmax - vmin > c->balance_trigger_mv)
		status |= BMS_STATUS_BALANCING;
	s->status = status;
	s->settings.charge_switch = m->charge_switch;
	s->settings.discharge_switch = m->discharge_switch;
}

void sim_model_report(struct sim_model *m, struct bms_snapshot *s)
{
	sim_model_snapshot(m, s);
	if (m->noise_mv <= 0)
		return;
	for (unsigned i = 0; i < m->cells; i++) {
		if (s->cell_mv[i] == 0)
			continue; /* an open lead reads 0, noise or not */
		double v = s->cell_mv[i] + (uniform(m) * 2 - 1) * m->noise_mv;

		s->cell_mv[i] = (uint16_t)lround(v < 1 ? 1 : (v > 5000 ? 5000 : v));
	}
}
