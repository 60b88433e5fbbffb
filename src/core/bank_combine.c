/* SPDX-License-Identifier: MIT */
/*
 * The bank's combination rules (docs/bank.md "How values combine"), over
 * the online members only, and the ramp its current limits share with a
 * single pack's (policy_calm()).
 */
#include "bank.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

#define RAMP_DT_MAX_S 10.0

bool bank_member_online(const struct bank_member *m)
{
	return m->present && m->connected && !m->silent;
}

unsigned bank_packs_total(const struct bank_output *o)
{
	return o->expected > o->known ? o->expected : o->known;
}

void bank_positions(const struct bank_member *members, unsigned n, unsigned *pos)
{
	for (unsigned k = 0; k < n; k++)
		pos[k] = 1;
	/* Each pair compared once; equal ids keep the members' order. */
	for (unsigned k = 1; k < n; k++) {
		for (unsigned j = 0; j < k; j++) {
			if (strcmp(members[j].uid, members[k].uid) <= 0)
				pos[k]++;
			else
				pos[j]++;
		}
	}
}

/* ---- measurements ------------------------------------------------------- */

enum rule {
	RULE_MEAN,
	RULE_SUM,
	RULE_MAX,
	RULE_MIN,
	RULE_SOC,
};

static const enum rule rules[BANK_VALUE_COUNT] = {
	[BANK_VOLTAGE] = RULE_MEAN,    [BANK_CURRENT] = RULE_SUM,  [BANK_POWER] = RULE_SUM,
	[BANK_TEMPERATURE] = RULE_MAX, [BANK_SOC] = RULE_SOC,      [BANK_CAPACITY] = RULE_SUM,
	[BANK_INSTALLED] = RULE_SUM,   [BANK_CONSUMED] = RULE_SUM, [BANK_MIN_CELL] = RULE_MIN,
	[BANK_MAX_CELL] = RULE_MAX,
};

/* One value over the online members. A sum is valid only when every
 * online member has the value (a sum of some would be wrong); a mean,
 * the extremes and the SoC take those that have it. The SoC is weighted by
 * each member's installed capacity when every one that has a SoC has one.
 * Returns the index of the member that set an extreme (or -1). */
static int combine_value(const struct bank_member *m, unsigned n, const unsigned *pos, enum bank_value v,
			 struct bank_output *out)
{
	double acc = 0, w = 0, plain = 0;
	unsigned have = 0, online = 0;
	bool weighted = true;
	int which = -1;

	for (unsigned k = 0; k < n; k++) {
		if (!bank_member_online(&m[k]))
			continue;
		online++;
		if (!m[k].has[v])
			continue;
		double x = m[k].value[v];
		bool better = rules[v] == RULE_MAX ? x > acc : x < acc;

		/* A tie names the first position. */
		if (have && x == acc && which >= 0 && pos[k] < pos[which])
			better = true;

		if ((rules[v] == RULE_MAX || rules[v] == RULE_MIN) && (have == 0 || better)) {
			acc = x;
			which = (int)k;
		} else if (rules[v] != RULE_MAX && rules[v] != RULE_MIN) {
			acc += x;
		}
		if (rules[v] == RULE_SOC) {
			double cap = m[k].has[BANK_INSTALLED] ? m[k].value[BANK_INSTALLED] : 0;

			weighted &= cap > 0;
			w += cap;
			plain += x * cap;
		}
		have++;
	}
	out->has[v] = have > 0 && (rules[v] != RULE_SUM || have == online);
	if (!out->has[v])
		return -1;
	if (rules[v] == RULE_MEAN)
		acc /= have;
	else if (rules[v] == RULE_SOC)
		acc = weighted ? plain / w : acc / have;
	out->value[v] = acc;
	return which;
}

static void cell_id(const struct bank_member *m, const unsigned *pos, int k, bool max, char *buf, size_t size)
{
	if (k < 0)
		return;
	snprintf(buf, size, "P%u-%s", pos[k], max ? m[k].max_cell_id : m[k].min_cell_id);
}

/* ---- limits ------------------------------------------------------------- */

/* Has it published what its share needs? Charge needs its CVL too: a pack
 * whose voltage limit the bank does not know must not be charged on the
 * others' CVL. */
static bool published(const struct bank_member *x, bool charge)
{
	return charge ? x->has_limit[BANK_CCL] && x->has_limit[BANK_CVL] : x->has_limit[BANK_DCL];
}

/* For each member, the first member with its unique id (itself if none
 * before it has it). Two services may read one BMS: n counts a unique id
 * once, or every pack would get more than its share. Equal ids have
 * neighbouring positions, in the members' order, so one comparison with the
 * member one position before finds it. */
static void first_of_uid(const struct bank_member *m, unsigned n, const unsigned *pos, unsigned *first)
{
	unsigned at[BANK_MAX_MEMBERS]; /* at[p - 1]: the member at position p */

	for (unsigned k = 0; k < n; k++)
		at[pos[k] - 1] = k;
	for (unsigned p = 0; p < n; p++) {
		unsigned k = at[p];

		first[k] = p > 0 && strcmp(m[at[p - 1]].uid, m[k].uid) == 0 ? first[at[p - 1]] : k;
	}
}

/* CCL (charge) or DCL: n_online x min(members' limit): parallel packs share
 * the current by their internal resistance, so the weakest one bounds each
 * share. A member whose FET is off counts as 0 A and is not counted; one
 * that is online without a limit stops the bank. */
static void combine_current(const struct bank_member *m, unsigned n, const unsigned *pos, const unsigned *first,
			    bool charge, unsigned expected, struct bank_output *o, uint32_t *ma, char *why, size_t size)
{
	enum bank_limit which = charge ? BANK_CCL : BANK_DCL;
	double least = 0, most = 0;
	unsigned counted = 0;
	bool taken[BANK_MAX_MEMBERS] = { false }; /* by first[]: the unique id is in n */
	int named = -1, blocked = -1;
	char head[40] = "";

	if (expected && o->online < expected)
		snprintf(head, sizeof(head), "%u of %u packs online; ", o->online, expected);
	for (unsigned k = 0; k < n; k++) {
		const struct bank_member *x = &m[k];
		bool off = charge ? x->blocking_charge : x->blocking_discharge;
		if (!bank_member_online(x))
			continue;
		if (off) {
			if (blocked < 0 || pos[k] < pos[blocked])
				blocked = (int)k;
			continue;
		}
		double a = published(x, charge) ? x->limit[which] : 0;

		if (named < 0 || a < least || (a == least && pos[k] < pos[named])) {
			least = a;
			named = (int)k;
		}
		most = fmax(most, a);
		counted += !taken[first[k]];
		taken[first[k]] = true;
	}
	*ma = counted ? (uint32_t)lround(fmax(0, least) * 1000.0 * counted) : 0;
	*(charge ? &o->ccl_ceiling_ma : &o->dcl_ceiling_ma) = (uint32_t)lround(most * 1000.0 * counted);
	if (o->online == 0) {
		snprintf(why, size, "%sNo pack online", head);
		return;
	}
	if (named < 0)
		named = blocked; /* every online pack blocks: name the first */
	const struct bank_member *x = &m[named];
	const char *text = charge ? x->charge_limitation : x->discharge_limitation;

	if (!published(x, charge) && !(charge ? x->blocking_charge : x->blocking_discharge))
		text = "no limits published";
	snprintf(why, size, "%sP%u: %s", head, pos[named], text);
}

/* CVL: the least of the online members'. A pack that is known but offline
 * may still sit on the bus in parallel, unwatched: it caps CVL at its
 * float voltage, as a single pack's link loss does. With no online pack
 * that has a CVL, CVL does not rise above the last one either. */
static void combine_voltages(const struct bank_member *m, unsigned n, uint32_t last_cvl_mv, struct bank_output *o)
{
	double cvl = INFINITY, blv = 0;
	bool have_online = false;

	for (unsigned k = 0; k < n; k++) {
		const struct bank_member *x = &m[k];

		if (bank_member_online(x)) {
			if (x->has_limit[BANK_CVL]) {
				cvl = fmin(cvl, x->limit[BANK_CVL]);
				have_online = true;
			}
			if (x->has_limit[BANK_BLV])
				blv = fmax(blv, x->limit[BANK_BLV]);
		} else if (x->has_limit[BANK_FLOAT]) {
			cvl = fmin(cvl, x->limit[BANK_FLOAT]);
		}
	}
	if (!have_online && last_cvl_mv)
		cvl = fmin(cvl, last_cvl_mv / 1000.0);
	o->has_limits = isfinite(cvl);
	o->cvl_mv = isfinite(cvl) ? (uint32_t)lround(cvl * 1000.0) : 0;
	o->blv_mv = (uint32_t)lround(blv * 1000.0);
}

/* A pack beyond the bank's slots is on the DC bus, but the bank does not
 * see its cells: it may be full, so nothing charges while it is there. The
 * text says so over whatever the members say. */
static void refuse_unwatched(unsigned unwatched, struct bank_output *o)
{
	if (!unwatched)
		return;
	o->ccl_ma = 0;
	snprintf(o->charge_limitation, sizeof(o->charge_limitation), "%u pack%s not watched (a bank has at most %d)",
		 unwatched, unwatched == 1 ? "" : "s", BANK_MAX_MEMBERS);
}

/* ---- the bank ----------------------------------------------------------- */

static void count_members(const struct bank_member *m, unsigned n, unsigned expected, struct bank_output *o)
{
	for (unsigned k = 0; k < n; k++) {
		if (!bank_member_online(&m[k]))
			continue;
		o->online++;
		o->blocking_charge += m[k].blocking_charge;
		o->blocking_discharge += m[k].blocking_discharge;
		for (unsigned a = 0; a < BANK_ALARM_COUNT; a++)
			o->alarm[a] = m[k].alarm[a] > o->alarm[a] ? m[k].alarm[a] : o->alarm[a];
	}
	if (o->online == 0)
		o->alarm[BANK_ALARM_BMS_CABLE] = 2;
	else if (expected && o->online < expected && o->alarm[BANK_ALARM_BMS_CABLE] < 1)
		o->alarm[BANK_ALARM_BMS_CABLE] = 1;
}

void bank_combine(const struct bank_member *m, unsigned n, const struct bank_input *in, struct bank_output *o)
{
	unsigned pos[BANK_MAX_MEMBERS], first[BANK_MAX_MEMBERS];

	memset(o, 0, sizeof(*o));
	if (n > BANK_MAX_MEMBERS)
		n = BANK_MAX_MEMBERS;
	bank_positions(m, n, pos);
	first_of_uid(m, n, pos, first);
	o->known = n;
	o->expected = in->expected;
	count_members(m, n, in->expected, o);
	for (unsigned v = 0; v < BANK_VALUE_COUNT; v++) {
		int k = combine_value(m, n, pos, (enum bank_value)v, o);

		if (v == BANK_MIN_CELL)
			cell_id(m, pos, k, false, o->min_cell_id, sizeof(o->min_cell_id));
		else if (v == BANK_MAX_CELL)
			cell_id(m, pos, k, true, o->max_cell_id, sizeof(o->max_cell_id));
	}
	combine_voltages(m, n, in->last_cvl_mv, o);
	combine_current(m, n, pos, first, true, in->expected, o, &o->ccl_ma, o->charge_limitation,
			sizeof(o->charge_limitation));
	combine_current(m, n, pos, first, false, in->expected, o, &o->dcl_ma, o->discharge_limitation,
			sizeof(o->discharge_limitation));
	refuse_unwatched(in->unwatched, o);
}

/* The ramp: a fall at once, a rise at most 1 % of the ceiling per second
 * (policy_calm(), the single pack's own), published in 0.1 A steps. */
void bank_ramp_apply(struct bank_ramp *r, uint64_t now_ms, struct bank_output *o)
{
	if (!o->has_limits) {
		r->init = false;
		return;
	}
	if (!r->init || now_ms < r->last_ms) {
		r->init = true;
		r->last_ms = now_ms;
		r->ccl_ramp_ma = o->ccl_ma;
		r->dcl_ramp_ma = o->dcl_ma;
		r->ccl_ma = o->ccl_ma;
		r->dcl_ma = o->dcl_ma;
		return;
	}
	double dt_s = fmin(RAMP_DT_MAX_S, (double)(now_ms - r->last_ms) / 1000.0);

	r->last_ms = now_ms;
	r->ccl_ma = policy_calm(o->ccl_ma, o->ccl_ma, o->ccl_ceiling_ma, dt_s, &r->ccl_ramp_ma, r->ccl_ma);
	r->dcl_ma = policy_calm(o->dcl_ma, o->dcl_ma, o->dcl_ceiling_ma, dt_s, &r->dcl_ramp_ma, r->dcl_ma);
	o->ccl_ma = r->ccl_ma;
	o->dcl_ma = r->dcl_ma;
}
