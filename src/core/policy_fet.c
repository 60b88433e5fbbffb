/* SPDX-License-Identifier: MIT */
/*
 * MOSFET control (docs/charge-control.md "MOSFET control" and its safety
 * amendments): the service switches a FET off itself when a protective
 * condition persists while current keeps flowing against it, and back on
 * only a FET it switched off, once the condition has cleared for a hold
 * time. Writes are settled by their read-back or, when that timed out, by
 * the next frame; a user's force-off hands the FET back to this automatic
 * control when released, it does not switch it on; three automatic cycles
 * within an hour lock it off.
 */
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

#define FET_FLOW_MA 500
#define FET_CELL_MARGIN_MV 30
#define FET_CELL_CLEAR_MV 80
#define FET_CELL_HOLD_MS 5000
#define FET_TEMP_HOLD_MS 10000
#define FET_CLEAR_HOLD_MS 30000
#define FET_CHATTER_CYCLES 3
#define FET_CHATTER_WINDOW_MS 3600000ull
#define FET_RETRY_MS 60000

static void request(struct policy_fet_state *f, enum policy_fet_request *out, uint8_t value, bool automatic)
{
	*out = value ? POLICY_FET_ON : POLICY_FET_OFF;
	f->pending = true;
	f->pending_value = value;
	f->pending_auto = automatic;
}

static unsigned recent_auto_ons(const struct policy_fet_state *f, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FET_CHATTER_CYCLES; i++) {
		if (f->auto_on_ms[i] && now - f->auto_on_ms[i] < FET_CHATTER_WINDOW_MS)
			n++;
	}
	return n;
}

/* The requested state is what the BMS shows now. */
static void write_succeeded(struct policy_fet_state *f, uint64_t now)
{
	f->failed = f->not_applied = false;
	f->owned = f->pending_value == 0;
	if (f->pending_value && f->pending_auto) {
		memmove(&f->auto_on_ms[1], &f->auto_on_ms[0], (FET_CHATTER_CYCLES - 1) * sizeof(f->auto_on_ms[0]));
		f->auto_on_ms[0] = now;
	}
}

static void write_failed(struct policy_fet_state *f, uint64_t now)
{
	f->failed = true;
	f->failed_at = now;
}

/* A finished write: verified, or left for the next frame to settle (the
 * BMS may have applied it although the read-back timed out or came too
 * early). */
static void take_result(struct policy_fet_state *f, enum policy_fet_result r, uint64_t now)
{
	if (!f->pending || r == POLICY_FET_RESULT_NONE)
		return;
	f->pending = false;
	f->result_at = now;
	if (r == POLICY_FET_RESULT_OK) {
		write_succeeded(f, now);
		return;
	}
	f->settling = true;
	f->not_applied = r == POLICY_FET_RESULT_NOT_APPLIED;
}

/* What a fresh frame tells about our writes and ownership. */
static void take_frame(struct policy_fet_state *f, bool live_on, uint64_t now)
{
	if (f->settling && now > f->result_at) {
		f->settling = false;
		if (live_on == (f->pending_value != 0))
			write_succeeded(f, now);
		else
			write_failed(f, now);
	}
	/* A write that failed but shows after all (it landed late). */
	if (f->failed && !f->pending && !f->settling && live_on == (f->pending_value != 0))
		write_succeeded(f, now);
	/* Someone else switched it back on: it is no longer ours. */
	if (f->owned && live_on && !f->pending && !f->settling && now > f->result_at)
		f->owned = false;
}

struct fet_condition {
	bool bad_cell, bad_temp; /* protective conditions now */
	bool clear;              /* every condition cleared by its hysteresis */
};

static struct fet_condition condition(const struct policy_params *p, const struct bms_settings *b,
				      const struct battery_cells *cv, bool charge)
{
	struct fet_condition c;
	int16_t lo = charge ? p->charge_tmin_c : p->discharge_tmin_c;
	int16_t hi = charge ? p->charge_tmax_c : p->discharge_tmax_c;
	bool cell_clear;

	if (charge) {
		c.bad_cell = cv->max_mv >= b->cell_ovp_mv - FET_CELL_MARGIN_MV;
		cell_clear = cv->max_mv <= b->cell_ovp_mv - FET_CELL_CLEAR_MV;
	} else {
		c.bad_cell = cv->min_mv <= b->cell_uvp_mv + FET_CELL_MARGIN_MV;
		cell_clear = cv->min_mv >= b->cell_uvp_mv + FET_CELL_CLEAR_MV;
	}
	c.bad_temp = cv->tmin_c < lo || cv->tmax_c > hi;
	c.clear = cell_clear && cv->tmin_c >= lo + POLICY_TEMP_HYST_C && cv->tmax_c <= hi - POLICY_TEMP_HYST_C;
	return c;
}

static uint64_t since(uint64_t prev, bool active, uint64_t now)
{
	return active ? (prev ? prev : now) : 0;
}

/* Automatic control on a plausible, fresh-enough picture of the pack. */
static void automatic(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
		      const struct battery_cells *cv, bool charge, bool live_on, struct policy_fet_state *f,
		      enum policy_fet_request *out)
{
	const struct bms_snapshot *s = &in->bat->snap;
	uint64_t now = in->now_ms;
	struct fet_condition c = condition(p, &s->settings, cv, charge);
	bool flowing = charge ? s->current_ma > FET_FLOW_MA : s->current_ma < -FET_FLOW_MA;
	bool idle = !f->pending && !f->settling;

	/* A condition counts only while current keeps flowing against it. */
	f->cell_since = since(f->cell_since, c.bad_cell && flowing, now);
	f->temp_since = since(f->temp_since, c.bad_temp && flowing, now);
	bool fire = (f->cell_since && now - f->cell_since >= FET_CELL_HOLD_MS) ||
		(f->temp_since && now - f->temp_since >= FET_TEMP_HOLD_MS);

	if (cfg->mosfet_control && fire && live_on && idle && !(f->failed && now - f->failed_at < FET_RETRY_MS)) {
		/* Anti-chatter: after 3 automatic off/on cycles within an hour
		 * this off is final until the user resets it. */
		if (recent_auto_ons(f, now) >= FET_CHATTER_CYCLES)
			f->locked = true;
		request(f, out, 0, true);
		f->clear_since = 0;
		return;
	}
	if (f->locked && f->unlock_wanted && c.clear) {
		f->locked = f->unlock_wanted = false;
		memset(f->auto_on_ms, 0, sizeof(f->auto_on_ms));
	}
	/* An off-write that failed needs no more trying once its condition
	 * is gone: the limit on its side is not held at 0 for ever. */
	if (f->failed && f->pending_value == 0 && !f->pending && !f->settling && c.clear)
		f->failed = f->not_applied = false;
	/* Back on: only ours, only once cleared for the hold time, a failed
	 * on-write again after the retry delay; decided on a fresh frame
	 * only, never on data the tick repeats. */
	bool retry_wait = f->failed && now - f->failed_at < FET_RETRY_MS;
	bool may = f->owned && !live_on && idle && !f->locked && !retry_wait;

	f->clear_since = since(f->clear_since, may && c.clear, now);
	if (f->clear_since && now - f->clear_since >= FET_CLEAR_HOLD_MS && in->fresh) {
		f->clear_since = 0;
		request(f, out, 1, true);
	}
}

void policy_fet_step(const struct policy_config *cfg, const struct policy_params *p, const struct policy_input *in,
		     const struct battery_cells *cv, enum policy_fet which, struct policy_fet_state *f,
		     enum policy_fet_request *out)
{
	bool charge = which == POLICY_FET_CHARGE;
	bool live_on = in->bat->snap.status & (charge ? BMS_STATUS_CHARGE_FET : BMS_STATUS_DISCHARGE_FET);
	uint64_t now = in->now_ms;

	*out = POLICY_FET_NONE;
	take_result(f, in->fet_result[which], now);
	if (in->fresh && !in->lost)
		take_frame(f, live_on, now);
	if (in->reset_lock[which]) {
		f->unlock_wanted = f->locked;
		f->failed = f->not_applied = false;
	}
	/* Manual control: always allowed, also with mosfet_control off. */
	if (in->force_off[which]) {
		f->forced = true;
		f->clear_since = 0;
		if (live_on && !f->pending && !f->settling && !(f->failed && now - f->failed_at < FET_RETRY_MS))
			request(f, out, 0, false);
		return;
	}
	/* Released (or never forced): automatic control decides. */
	f->forced = false;
	if (in->lost || !p->bounded) {
		f->cell_since = f->temp_since = f->clear_since = 0;
		return;
	}
	automatic(cfg, p, in, cv, charge, live_on, f, out);
}

const char *policy_fet_reason(const struct policy_fet_state *f, enum policy_fet which, char *buf, size_t n)
{
	const char *name = which == POLICY_FET_CHARGE ? "Charge" : "Discharge";

	if (f->locked)
		snprintf(buf, n, "%s FET locked off, reset with /Settings/Force%sOff", name,
			 which == POLICY_FET_CHARGE ? "Charging" : "Discharging");
	else if (f->failed)
		snprintf(buf, n, "%s FET switch failed: %s (reset with /Settings/Force%sOff)", name,
			 f->not_applied ? "not applied" : "no answer",
			 which == POLICY_FET_CHARGE ? "Charging" : "Discharging");
	else if (f->owned || f->forced)
		snprintf(buf, n, "%s FET off by dbus-jkbms", name);
	else
		return NULL;
	return buf;
}
