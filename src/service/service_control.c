/* SPDX-License-Identifier: MIT */
/*
 * The battery service's charge control: feeds the policy the battery model,
 * the user's force paths and the FET write results, queues the writes it
 * asks for, logs what changed, keeps the state file, and runs the policy
 * on a tick of its own so time-based rules fire while the BMS is silent
 * (docs/charge-control.md "Loss of communication").
 */
#define G_LOG_DOMAIN "service"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "service_private.h"

/* At least every second, frames or not; a little slack keeps the tick
 * from racing the next reply when polling once a second. */
#define POLICY_TICK_MS 1100

static const char *const fet_name[POLICY_FET_COUNT] = { "charge", "discharge" };

void service_tick_cb(void *data)
{
	service_publish(data, false);
}

static void log_clamps(struct service *s, const struct policy_params *p)
{
	static const struct {
		uint32_t bit;
		const char *what;
	} clamps[] = {
		{ POLICY_CLAMP_CHARGE_CELL, "charge_cell_voltage" },
		{ POLICY_CLAMP_FLOAT_CELL, "float_cell_voltage" },
		{ POLICY_CLAMP_REBULK_CELL, "rebulk_cell_voltage" },
		{ POLICY_CLAMP_MIN_CELL, "min_cell_voltage" },
		{ POLICY_CLAMP_CHARGE_CURRENT, "max_charge_current" },
		{ POLICY_CLAMP_DISCHARGE_CURRENT, "max_discharge_current" },
		{ POLICY_CLAMP_CHARGE_TEMP, "charge_min/max_temperature" },
		{ POLICY_CLAMP_DISCHARGE_TEMP, "discharge_min/max_temperature" },
	};

	for (size_t k = 0; k < sizeof(clamps) / sizeof(clamps[0]); k++) {
		if ((p->clamped & clamps[k].bit) && !(s->clamps_logged & clamps[k].bit))
			LOG_WARN("%s is outside the BMS's protection window; clamped into it (charge %.3f V, float "
				 "%.3f V, floor %.3f V, CCL %.1f A, DCL %.1f A)",
				 clamps[k].what, p->v_chg_mv / 1000.0, p->v_flt_mv / 1000.0, p->v_min_mv / 1000.0,
				 p->ccl_ceiling_ma / 1000.0, p->dcl_ceiling_ma / 1000.0);
	}
	s->clamps_logged |= p->clamped;
}

static void log_changes(struct service *s, const struct policy_output *o, enum policy_mode old_mode)
{
	const struct policy_output *was = s->have_pout ? &s->pout : NULL;

	if (s->pstate.mode != old_mode)
		LOG_INFO("charge mode %s -> %s", policy_mode_name(old_mode), policy_mode_name(s->pstate.mode));
	for (unsigned a = 0; a < POLICY_ALARM_COUNT && was; a++) {
		if (o->alarm[a] != was->alarm[a])
			LOG_INFO("alarm %s %s (level %u)",
				 service_paths[service_alarm_index((enum policy_alarm)a)].path,
				 o->alarm[a] > was->alarm[a] ? "raised" : "cleared", o->alarm[a]);
	}
	if (!was || strcmp(o->charge_limitation, was->charge_limitation) != 0 ||
	    strcmp(o->discharge_limitation, was->discharge_limitation) != 0 || (o->ccl_ma == 0) != (was->ccl_ma == 0) ||
	    (o->dcl_ma == 0) != (was->dcl_ma == 0))
		LOG_INFO("limits: CVL %.2f V, CCL %.1f A (%s), DCL %.1f A (%s)", o->cvl_mv / 1000.0, o->ccl_ma / 1000.0,
			 o->charge_limitation, o->dcl_ma / 1000.0, o->discharge_limitation);
}

static void queue_writes(struct service *s, const struct policy_output *o)
{
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		if (o->fet_request[f] == POLICY_FET_NONE)
			continue;
		bool on = o->fet_request[f] == POLICY_FET_ON;
		int r = link_unit_queue_write(s->link, s->unit, (enum bms_fet)f, on);

		if (r == -ENOTSUP) {
			/* docs/protocol-pb.md "Writes": the limit on that side
			 * stays at 0 instead. */
			if (!s->no_write_logged)
				LOG_INFO("this BMS family has no MOSFET write: the %s FET is not switched, its limit "
					 "stays at 0 while forced off",
					 fet_name[f]);
			s->no_write_logged = true;
			s->fet_result[f] = POLICY_FET_RESULT_NOT_APPLIED;
			continue;
		}
		LOG_INFO("switching the %s FET %s", fet_name[f], on ? "on" : "off");
		if (r < 0) {
			LOG_WARN("cannot queue the FET write: %s", g_strerror(-r));
			s->fet_result[f] = POLICY_FET_RESULT_NOT_APPLIED;
		}
	}
}

void service_run_policy(struct service *s, bool fresh, bool lost)
{
	struct policy_input in = {
		.bat = &s->bat,
		.fresh = fresh,
		.lost = lost,
		.now_ms = link_now_ms(),
		.wall_s = g_get_real_time() / 1000000,
	};
	struct policy_output o;
	enum policy_mode old_mode = s->pstate.mode;

	/* Moved on every run without a GLib call (deadline.h): with frames
	 * coming faster than the tick it never fires. */
	deadline_set(s->tick, link_now_ms() + POLICY_TICK_MS);
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		in.force_off[f] = s->force_off[f];
		in.reset_lock[f] = s->reset_lock[f];
		in.fet_result[f] = s->fet_result[f];
		s->reset_lock[f] = false;
		s->fet_result[f] = POLICY_FET_RESULT_NONE;
	}
	policy_compute(&s->cfg.policy, &in, &s->pstate, &o, &s->pstate);
	log_clamps(s, &o.params);
	log_changes(s, &o, old_mode);
	s->pout = o;
	s->have_pout = true;
	service_state_save(s);
	queue_writes(s, &o);
}

/* A FET write finished (a link event). */
void service_write_done(struct service *s, const struct poller_write_result *r)
{
	const char *name = fet_name[r->fet];

	if (r->status == POLLER_WRITE_OK)
		LOG_INFO("%s FET %s: verified after %u attempt(s)", name, r->value ? "on" : "off", r->attempts);
	else
		LOG_ERR("%s FET %s failed: %s after %u attempt(s)", name, r->value ? "on" : "off",
			poller_write_status_name(r->status), r->attempts);
	s->fet_result[r->fet] = r->status == POLLER_WRITE_OK ? POLICY_FET_RESULT_OK
		: r->status == POLLER_WRITE_NO_ANSWER        ? POLICY_FET_RESULT_NO_ANSWER
							     : POLICY_FET_RESULT_NOT_APPLIED;
	service_publish(s, false);
}
