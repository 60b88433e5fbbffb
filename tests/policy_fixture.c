/* SPDX-License-Identifier: MIT */
/* The policy tests' pack and driver (policy_fixture.h). */
#include "policy_fixture.h"

#include <string.h>

struct bms_snapshot lfp(void)
{
	struct bms_snapshot s;
	struct bms_settings *c = &s.settings;

	memset(&s, 0, sizeof(s));
	s.cell_count = 16;
	for (unsigned i = 0; i < 16; i++)
		s.cell_mv[i] = 3300;
	s.voltage_mv = 52800;
	s.soc_pct = 60;
	s.temp_c[BMS_TEMP_MOSFET] = 25;
	s.temp_c[BMS_TEMP_T1] = s.temp_c[BMS_TEMP_T2] = 20;
	s.status = BMS_STATUS_CHARGE_FET | BMS_STATUS_DISCHARGE_FET;
	c->cell_ovp_mv = 3650;
	c->cell_ovpr_mv = 3550;
	c->cell_uvp_mv = 2650;
	c->cell_uvpr_mv = 2750;
	c->charge_ocp_a = 30;
	c->discharge_ocp_a = 60;
	c->mosfet_otp_c = 90;
	c->mosfet_otpr_c = 70;
	c->charge_otp_c = 70;
	c->discharge_otp_c = 70;
	c->charge_utp_c = -20; /* the unsafe factory default for LFP */
	c->charge_utpr_c = -10;
	c->discharge_utp_c = -20;
	c->discharge_utpr_c = -10;
	c->capacity_ah = 280;
	c->balance_trigger_mv = 10;
	c->low_soc_alarm_pct = 20;
	c->charge_switch = c->discharge_switch = 1;
	return s;
}

void set_cells(struct bms_snapshot *s, uint16_t mv)
{
	for (unsigned i = 0; i < s->cell_count; i++)
		s->cell_mv[i] = mv;
	s->voltage_mv = (uint32_t)mv * s->cell_count;
}

void start(struct run *r)
{
	memset(r, 0, sizeof(*r));
	battery_init(&r->bat, 10);
	policy_config_default(&r->cfg);
	policy_init(&r->st);
	r->t = 1000;
	r->in.wall_s = 1800000000;
}

static void step(struct run *r, const struct bms_snapshot *s, uint64_t dt_ms, bool fresh)
{
	r->t += dt_ms;
	r->in.wall_s += (int64_t)(dt_ms / 1000);
	if (fresh || !r->bat.valid)
		battery_update(&r->bat, s, r->t);
	r->in.bat = &r->bat;
	r->in.fresh = fresh;
	r->in.now_ms = r->t;
	policy_compute(&r->cfg, &r->in, &r->st, &r->out, &r->st);
	memset(r->in.fet_result, 0, sizeof(r->in.fet_result));
	memset(r->in.reset_lock, 0, sizeof(r->in.reset_lock));
}

void feed_frame(struct run *r, const struct bms_snapshot *s, uint64_t dt_ms)
{
	step(r, s, dt_ms, true);
}

void tick(struct run *r, const struct bms_snapshot *s, uint64_t dt_ms)
{
	step(r, s, dt_ms, false);
}
