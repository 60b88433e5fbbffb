/* SPDX-License-Identifier: MIT */
/* The bank's combination rules (docs/bank.md) as table tests, and its ramp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bank.h"

/* A bank just started: bank_packs not set, no CVL published yet, every
 * pack on the bus watched. */
static const struct bank_input fresh;

/* A healthy member: uid, SoC, installed capacity, its CCL/DCL, highest cell
 * (mV, id). */
static void member(struct bank_member *m, const char *uid, double soc, double cap, double ccl, double dcl, double hi_v,
		   unsigned hi_id)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->uid, sizeof(m->uid), "%s", uid);
	m->present = m->connected = true;
	double v[BANK_VALUE_COUNT] = {
		[BANK_VOLTAGE] = 53.0,   [BANK_CURRENT] = 10.0,
		[BANK_POWER] = 530.0,    [BANK_TEMPERATURE] = 22.0,
		[BANK_SOC] = soc,        [BANK_CAPACITY] = cap * soc / 100,
		[BANK_INSTALLED] = cap,  [BANK_CONSUMED] = -cap * (100 - soc) / 100,
		[BANK_MIN_CELL] = 3.300, [BANK_MAX_CELL] = hi_v,
	};

	for (unsigned k = 0; k < BANK_VALUE_COUNT; k++) {
		m->value[k] = v[k];
		m->has[k] = true;
	}
	snprintf(m->min_cell_id, sizeof(m->min_cell_id), "C1");
	snprintf(m->max_cell_id, sizeof(m->max_cell_id), "C%u", hi_id);
	double l[BANK_LIMIT_COUNT] = {
		[BANK_CVL] = 55.2, [BANK_CCL] = ccl, [BANK_DCL] = dcl, [BANK_BLV] = 44.8, [BANK_FLOAT] = 53.6
	};

	for (unsigned k = 0; k < BANK_LIMIT_COUNT; k++) {
		m->limit[k] = l[k];
		m->has_limit[k] = true;
	}
	snprintf(m->charge_limitation, sizeof(m->charge_limitation), "Configured maximum");
	snprintf(m->discharge_limitation, sizeof(m->discharge_limitation), "Configured maximum");
}

/* Three packs: A 280 Ah at 80 %, B 100 Ah at 40 % with cell 7 high, C
 * 200 Ah at 60 %; B's uid sorts first (P1), then A (P2), C (P3). */
static void three(struct bank_member m[3])
{
	member(&m[0], "jkbms_B", 80, 280, 100, 150, 3.400, 3);
	member(&m[1], "jkbms_A", 40, 100, 40, 150, 3.520, 7);
	member(&m[2], "jkbms_C", 60, 200, 100, 120, 3.410, 5);
	snprintf(m[1].charge_limitation, sizeof(m[1].charge_limitation), "Cell 7 high");
	m[2].value[BANK_TEMPERATURE] = 31.5; /* C is the hottest */
	m[0].value[BANK_VOLTAGE] = 53.10;
	m[1].value[BANK_VOLTAGE] = 53.00;
	m[2].value[BANK_VOLTAGE] = 52.90;
	m[1].limit[BANK_CVL] = 55.0;
	m[2].limit[BANK_BLV] = 46.0;
}

/* A full bank, found in reverse order of its unique ids; the last found has
 * the least CCL (85 A). */
static void sixteen(struct bank_member m[BANK_MAX_MEMBERS])
{
	for (unsigned k = 0; k < BANK_MAX_MEMBERS; k++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "jkbms_%02u", BANK_MAX_MEMBERS - k);
		member(&m[k], uid, 50 + k, 100, 100 - k, 100, 3.300 + k / 1000.0, k + 1);
	}
}

static void test_unequal_soc_and_capacity(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.known, 3);
	assert_int_equal(o.online, 3);
	assert_true(o.has[BANK_VOLTAGE]);
	assert_float_equal(o.value[BANK_VOLTAGE], 53.0, 1e-9);
	assert_float_equal(o.value[BANK_CURRENT], 30.0, 1e-9);
	assert_float_equal(o.value[BANK_POWER], 1590.0, 1e-9);
	/* (80 x 280 + 40 x 100 + 60 x 200) / 580 = 66.2 %, not the plain mean 60 */
	assert_float_equal(o.value[BANK_SOC], (80.0 * 280 + 40.0 * 100 + 60.0 * 200) / 580, 1e-9);
	assert_float_equal(o.value[BANK_INSTALLED], 580, 1e-9);
	assert_float_equal(o.value[BANK_CAPACITY], 224 + 40 + 120, 1e-9);
	assert_float_equal(o.value[BANK_CONSUMED], -(56.0 + 60 + 80), 1e-9);
	assert_float_equal(o.value[BANK_TEMPERATURE], 31.5, 1e-9);
	assert_float_equal(o.value[BANK_MAX_CELL], 3.520, 1e-9);
	assert_string_equal(o.max_cell_id, "P1-C7"); /* jkbms_A sorts first */
	assert_string_equal(o.min_cell_id, "P1-C1"); /* all equal: the first position */
	assert_int_equal(o.cvl_mv, 55000);           /* the least */
	assert_int_equal(o.blv_mv, 46000);           /* the highest */
	assert_int_equal(o.ccl_ma, 3 * 40000);       /* 3 x the weakest */
	assert_int_equal(o.dcl_ma, 3 * 120000);
	assert_string_equal(o.charge_limitation, "P1: Cell 7 high");
	assert_string_equal(o.discharge_limitation, "P3: Configured maximum");
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 0);
	assert_int_equal(o.blocking_charge, 0);
}

static void test_positions_by_uid(void **state)
{
	struct bank_member m[3];
	unsigned pos[BANK_MAX_MEMBERS];

	(void)state;
	three(m);
	bank_positions(m, 3, pos);
	assert_int_equal(pos[0], 2);
	assert_int_equal(pos[1], 1);
	assert_int_equal(pos[2], 3);
	/* The order they were found in does not matter. */
	struct bank_member r[3] = { m[2], m[0], m[1] };

	bank_positions(r, 3, pos);
	assert_int_equal(pos[0], 3);
	assert_int_equal(pos[1], 2);
	assert_int_equal(pos[2], 1);
}

/* Sixteen members in a scrambled order, some sharing an id: the rank by id,
 * equal ids in the members' order, each position once. */
static void test_positions_sixteen(void **state)
{
	static const char *ids[BANK_MAX_MEMBERS] = { "p07", "p03", "p11", "p03", "p00", "p15", "p09", "p03",
						     "p12", "p01", "p14", "p05", "p00", "p10", "p02", "p13" };
	static const unsigned want[BANK_MAX_MEMBERS] = { 9, 5, 12, 6, 1, 16, 10, 7, 13, 3, 15, 8, 2, 11, 4, 14 };
	struct bank_member m[BANK_MAX_MEMBERS];
	unsigned pos[BANK_MAX_MEMBERS];

	(void)state;
	memset(m, 0, sizeof(m));
	for (unsigned k = 0; k < BANK_MAX_MEMBERS; k++)
		snprintf(m[k].uid, sizeof(m[k].uid), "%s", ids[k]);
	bank_positions(m, BANK_MAX_MEMBERS, pos);
	for (unsigned k = 0; k < BANK_MAX_MEMBERS; k++)
		assert_int_equal(pos[k], want[k]);
}

static void test_one_fet_off(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	m[1].blocking_charge = true; /* A (the weakest, P1) switched its charge FET off */
	m[1].limit[BANK_CCL] = 0;
	snprintf(m[1].charge_limitation, sizeof(m[1].charge_limitation), "BMS charge FET off");
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.blocking_charge, 1);
	assert_int_equal(o.blocking_discharge, 0);
	assert_int_equal(o.ccl_ma, 2 * 100000); /* counts as 0 A and not in n */
	assert_string_equal(o.charge_limitation, "P2: Configured maximum");
	assert_int_equal(o.dcl_ma, 3 * 120000);
	/* Every pack blocks discharging: 0, the first named. */
	for (unsigned k = 0; k < 3; k++) {
		m[k].blocking_discharge = true;
		snprintf(m[k].discharge_limitation, sizeof(m[k].discharge_limitation), "BMS discharge FET off");
	}
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.dcl_ma, 0);
	assert_int_equal(o.blocking_discharge, 3);
	assert_string_equal(o.discharge_limitation, "P1: BMS discharge FET off");
}

static void test_one_pack_hot(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	m[2].value[BANK_TEMPERATURE] = 52;
	m[2].limit[BANK_CCL] = 25;
	m[2].alarm[POLICY_ALARM_HIGH_CHARGE_TEMP] = 1;
	m[0].alarm[POLICY_ALARM_HIGH_CHARGE_TEMP] = 0;
	m[1].alarm[POLICY_ALARM_LOW_SOC] = 2;
	snprintf(m[2].charge_limitation, sizeof(m[2].charge_limitation), "Hot: 52 C");
	bank_combine(m, 3, &fresh, &o);
	assert_float_equal(o.value[BANK_TEMPERATURE], 52, 1e-9);
	assert_int_equal(o.ccl_ma, 3 * 25000);
	assert_string_equal(o.charge_limitation, "P3: Hot: 52 C");
	assert_int_equal(o.alarm[POLICY_ALARM_HIGH_CHARGE_TEMP], 1);
	assert_int_equal(o.alarm[POLICY_ALARM_LOW_SOC], 2);
	assert_int_equal(o.alarm[POLICY_ALARM_HIGH_CELL_VOLTAGE], 0);
}

static void test_one_pack_offline(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	m[1].connected = false; /* A: its BMS link is lost */
	m[1].limit[BANK_CCL] = 0;
	m[1].limit[BANK_FLOAT] = 54.0;
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.known, 3);
	assert_int_equal(o.online, 2);
	assert_float_equal(o.value[BANK_INSTALLED], 480, 1e-9);
	assert_float_equal(o.value[BANK_SOC], (80.0 * 280 + 60.0 * 200) / 480, 1e-9);
	assert_float_equal(o.value[BANK_CURRENT], 20, 1e-9);
	assert_float_equal(o.value[BANK_MAX_CELL], 3.410, 1e-9);
	assert_string_equal(o.max_cell_id, "P3-C5");
	assert_int_equal(o.ccl_ma, 2 * 100000);
	assert_string_equal(o.charge_limitation, "P2: Configured maximum");
	/* The unwatched pack still caps CVL at its float voltage. */
	assert_int_equal(o.cvl_mv, 54000);
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 0);
	/* On the bus and connected, but silent (a hung service): the same. */
	m[1].connected = true;
	m[1].silent = true;
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.online, 2);
	assert_int_equal(o.cvl_mv, 54000); /* its float voltage */
	m[1].silent = false;
	/* Gone from the bus: the same. */
	m[1].connected = true;
	m[1].present = false;
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.online, 2);
	assert_int_equal(o.ccl_ma, 2 * 100000);
	/* With bank_packs = 3: BmsCable 1 and the text says so. */
	bank_combine(m, 3, &(struct bank_input){ .expected = 3 }, &o);
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 1);
	assert_string_equal(o.charge_limitation, "2 of 3 packs online; P2: Configured maximum");
	assert_string_equal(o.discharge_limitation, "2 of 3 packs online; P3: Configured maximum");
	/* A member whose link warns raises the same level. */
	m[1].present = true;
	m[0].alarm[BANK_ALARM_BMS_CABLE] = 1;
	bank_combine(m, 3, &(struct bank_input){ .expected = 3 }, &o);
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 1);
	assert_string_equal(o.charge_limitation, "P1: Cell 7 high");
}

static void test_all_offline(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	for (unsigned k = 0; k < 3; k++) {
		m[k].connected = false;
		m[k].limit[BANK_FLOAT] = 54.4;
	}
	m[2].present = false;
	bank_combine(m, 3, &(struct bank_input){ .last_cvl_mv = 55100 }, &o);
	assert_int_equal(o.online, 0);
	assert_true(o.has_limits);
	assert_int_equal(o.ccl_ma, 0);
	assert_int_equal(o.dcl_ma, 0);
	assert_int_equal(o.cvl_mv, 54400); /* min(last CVL, the float voltages) */
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 2);
	assert_false(o.has[BANK_VOLTAGE]);
	assert_false(o.has[BANK_SOC]);
	assert_string_equal(o.charge_limitation, "No pack online");
	/* A last CVL below float stays. */
	bank_combine(m, 3, &(struct bank_input){ .last_cvl_mv = 53000 }, &o);
	assert_int_equal(o.cvl_mv, 53000);
	/* The count is named with bank_packs. */
	bank_combine(m, 3, &(struct bank_input){ .expected = 3, .last_cvl_mv = 53000 }, &o);
	assert_string_equal(o.discharge_limitation, "0 of 3 packs online; No pack online");
}

static void test_missing_values(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	m[0].has[BANK_CURRENT] = false;   /* a sum of some would be wrong */
	m[0].has[BANK_VOLTAGE] = false;   /* a mean of the others is right */
	m[0].has[BANK_INSTALLED] = false; /* no weights: the plain mean */
	m[2].has_limit[BANK_CCL] = false; /* online without a limit: stop */
	bank_combine(m, 3, &fresh, &o);
	assert_false(o.has[BANK_CURRENT]);
	assert_true(o.has[BANK_VOLTAGE]);
	assert_float_equal(o.value[BANK_VOLTAGE], 52.95, 1e-9);
	assert_float_equal(o.value[BANK_SOC], 60, 1e-9);
	assert_int_equal(o.ccl_ma, 0);
	assert_string_equal(o.charge_limitation, "P3: no limits published");
}

/* A member online with a CCL but no CVL: the bank does not know the
 * voltage that pack stands, so it must not charge it (CCL 0), and the other
 * packs' CVL alone is no bound for it. Discharge is not concerned. */
static void test_no_cvl_stops_charge(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	m[2].has_limit[BANK_CVL] = false;
	bank_combine(m, 3, &fresh, &o);
	assert_true(o.has_limits);
	assert_int_equal(o.cvl_mv, 55000);
	assert_int_equal(o.ccl_ma, 0);
	assert_string_equal(o.charge_limitation, "P3: no limits published");
	assert_int_equal(o.dcl_ma, 3 * 120000);
}

/* Two online members with one unique id may be one BMS read by two
 * services: n counts it once, so the packs are never given a share more
 * than there are packs. Both still bound the least limit. */
static void test_same_uid_counted_once(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	snprintf(m[2].uid, sizeof(m[2].uid), "%s", m[0].uid);
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(o.online, 3);
	assert_int_equal(o.ccl_ma, 2 * 40000);
	assert_int_equal(o.dcl_ma, 2 * 120000);
	assert_int_equal(o.ccl_ceiling_ma, 2 * 100000);
}

/* Sixteen members that share unique ids ((k / div) % mod), some offline or
 * with their charge FET off: a unique id counts once in n as long as one
 * member with it counts, whichever; the others never bring it back. */
static void test_same_uid_among_sixteen(void **state)
{
	static const struct {
		unsigned div, mod;
		uint32_t offline, charge_off; /* bit k: member k */
		uint32_t ccl_ma, ccl_ceiling_ma, dcl_ma;
	} cases[] = {
		{ 1, 4, 0, 0, 4 * 85000, 4 * 100000, 4 * 100000 },
		{ 1, 4, 0x000f, 0, 4 * 85000, 4 * 96000, 4 * 100000 },      /* the first of each id offline */
		{ 1, 4, 0xfff0, 0, 4 * 97000, 4 * 100000, 4 * 100000 },     /* only the first of each online */
		{ 1, 4, 0, 0x0fff, 4 * 85000, 4 * 88000, 4 * 100000 },      /* the last of each charges */
		{ 1, 4, 0, 0x1fff, 3 * 85000, 3 * 87000, 4 * 100000 },      /* id 0 charges nowhere */
		{ 1, 4, 0x0111, 0x1000, 3 * 85000, 3 * 99000, 4 * 100000 }, /* id 0: offline thrice, then off */
		{ 1, 1, 0, 0, 1 * 85000, 1 * 100000, 1 * 100000 },          /* one BMS read sixteen times */
		{ 2, 8, 0, 0x5555, 8 * 85000, 8 * 99000, 8 * 100000 },      /* twins side by side, the first off */
	};
	struct bank_member m[BANK_MAX_MEMBERS];
	struct bank_output o;

	(void)state;
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		sixteen(m);
		for (unsigned k = 0; k < BANK_MAX_MEMBERS; k++) {
			snprintf(m[k].uid, sizeof(m[k].uid), "jkbms_%02u", (k / cases[c].div) % cases[c].mod);
			m[k].connected = !(cases[c].offline >> k & 1);
			m[k].blocking_charge = cases[c].charge_off >> k & 1;
		}
		bank_combine(m, BANK_MAX_MEMBERS, &fresh, &o);
		assert_int_equal(o.ccl_ma, cases[c].ccl_ma);
		assert_int_equal(o.ccl_ceiling_ma, cases[c].ccl_ceiling_ma);
		assert_int_equal(o.dcl_ma, cases[c].dcl_ma);
		assert_int_equal(o.dcl_ceiling_ma, cases[c].dcl_ma);
	}
}

static void test_expected_and_no_limits(void **state)
{
	struct bank_member m[3];
	struct bank_output o;

	(void)state;
	three(m);
	/* Two packs seen, four expected: the bank is made of four. */
	bank_combine(m, 2, &(struct bank_input){ .expected = 4 }, &o);
	assert_int_equal(o.known, 2);
	assert_int_equal(bank_packs_total(&o), 4);
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 1);
	bank_combine(m, 3, &fresh, &o);
	assert_int_equal(bank_packs_total(&o), 3);
	/* Online, but no member publishes a CVL: the last one stays valid,
	 * the currents are 0. */
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned l = 0; l < BANK_LIMIT_COUNT; l++)
			m[k].has_limit[l] = false;
	}
	bank_combine(m, 3, &(struct bank_input){ .last_cvl_mv = 54800 }, &o);
	assert_int_equal(o.online, 3);
	assert_true(o.has_limits);
	assert_int_equal(o.cvl_mv, 54800);
	assert_int_equal(o.ccl_ma, 0);
	assert_int_equal(o.dcl_ma, 0);
	assert_string_equal(o.charge_limitation, "P1: no limits published");
	/* Never had one: no limits at all (the bank does not register). */
	bank_combine(m, 3, &fresh, &o);
	assert_false(o.has_limits);
}

static void test_one_member(void **state)
{
	struct bank_member m;
	struct bank_output o;

	(void)state;
	member(&m, "jkbms_X", 55, 280, 150, 200, 3.35, 2);
	bank_combine(&m, 1, &fresh, &o);
	assert_int_equal(o.online, 1);
	assert_float_equal(o.value[BANK_SOC], 55, 1e-9);
	assert_int_equal(o.ccl_ma, 150000);
	assert_int_equal(o.dcl_ma, 200000);
	assert_int_equal(o.cvl_mv, 55200);
	assert_string_equal(o.max_cell_id, "P1-C2");
}

static void test_sixteen_members(void **state)
{
	struct bank_member m[BANK_MAX_MEMBERS];
	struct bank_output o;

	(void)state;
	sixteen(m);
	bank_combine(m, BANK_MAX_MEMBERS, &(struct bank_input){ .expected = 16 }, &o);
	assert_int_equal(o.online, 16);
	assert_int_equal(o.ccl_ma, 16 * 85000); /* the last found has the least */
	assert_string_equal(o.charge_limitation, "P1: Configured maximum");
	assert_float_equal(o.value[BANK_SOC], 57.5, 1e-9);
	assert_float_equal(o.value[BANK_INSTALLED], 1600, 1e-9);
	assert_string_equal(o.max_cell_id, "P1-C16");
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 0);
	m[3].present = false;
	bank_combine(m, BANK_MAX_MEMBERS, &(struct bank_input){ .expected = 16 }, &o);
	assert_int_equal(o.online, 15);
	assert_int_equal(o.alarm[BANK_ALARM_BMS_CABLE], 1);
	assert_int_equal(o.ccl_ma, 15 * 85000);
}

/* Packs on the bus beyond the bank's slots: the bank cannot see whether
 * they are full, so CCL is 0 and the charge text says why, over whatever the
 * members say (the count of online packs too). Nothing else changes: every
 * other output is the members' combination without them. */
static void test_unwatched_packs(void **state)
{
	static const struct {
		unsigned members, offline, expected, unwatched;
		const char *text;
	} cases[] = {
		{ BANK_MAX_MEMBERS, 0, 0, 1, "1 pack not watched (a bank has at most 16)" },
		{ BANK_MAX_MEMBERS, 0, 19, 3, "3 packs not watched (a bank has at most 16)" },
		{ BANK_MAX_MEMBERS, 2, 17, 1, "1 pack not watched (a bank has at most 16)" }, /* "14 of 17 ..." */
		{ BANK_MAX_MEMBERS, BANK_MAX_MEMBERS, 0, 2, "2 packs not watched (a bank has at most 16)" },
		{ 3, 0, 0, 1, "1 pack not watched (a bank has at most 16)" },
		{ 3, 1, 3, 20, "20 packs not watched (a bank has at most 16)" }, /* "2 of 3 ..." */
	};
	struct bank_member m[BANK_MAX_MEMBERS];
	struct bank_output want, o;

	(void)state;
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct bank_input in = { .expected = cases[c].expected, .last_cvl_mv = 55100 };

		if (cases[c].members == BANK_MAX_MEMBERS)
			sixteen(m);
		else
			three(m);
		for (unsigned k = 0; k < cases[c].offline; k++)
			m[k].connected = false;
		bank_combine(m, cases[c].members, &in, &want);
		assert_string_not_equal(want.charge_limitation, cases[c].text);
		in.unwatched = cases[c].unwatched;
		bank_combine(m, cases[c].members, &in, &o);
		assert_int_equal(o.ccl_ma, 0);
		assert_string_equal(o.charge_limitation, cases[c].text);
		want.ccl_ma = 0;
		memcpy(want.charge_limitation, o.charge_limitation, sizeof(want.charge_limitation));
		assert_memory_equal(&o, &want, sizeof(o));
	}
	/* The refusal holds through the ramp: a fall, at once. */
	struct bank_ramp r = { 0 };
	struct bank_input in = fresh;

	three(m);
	bank_combine(m, 3, &in, &o);
	bank_ramp_apply(&r, 1000, &o);
	assert_int_equal(o.ccl_ma, 3 * 40000);
	in.unwatched = 1;
	bank_combine(m, 3, &in, &o);
	bank_ramp_apply(&r, 2000, &o);
	assert_int_equal(o.ccl_ma, 0);
	assert_int_equal(o.dcl_ma, 3 * 120000);
	/* Its slot taken or the pack gone: CCL rises again by the ramp. */
	in.unwatched = 0;
	bank_combine(m, 3, &in, &o);
	bank_ramp_apply(&r, 3000, &o);
	assert_true(o.ccl_ma > 0 && o.ccl_ma < 3 * 40000);
	assert_string_equal(o.charge_limitation, "P1: Cell 7 high");
}

static void test_ramp(void **state)
{
	struct bank_member m[3];
	struct bank_output o;
	struct bank_ramp r = { 0 };
	uint64_t t = 1000;

	(void)state;
	three(m);
	m[1].present = false;
	bank_combine(m, 3, &fresh, &o);
	bank_ramp_apply(&r, t, &o);
	assert_int_equal(o.ccl_ma, 2 * 100000); /* the first is published directly */
	/* A comes back: 3 x 40 A = 120 A, a fall, at once. */
	m[1].present = true;
	bank_combine(m, 3, &fresh, &o);
	bank_ramp_apply(&r, t += 1000, &o);
	assert_int_equal(o.ccl_ma, 120000);
	/* A's cell recovers: 300 A wanted, 1 % of it per second. */
	m[1].limit[BANK_CCL] = 100;
	uint32_t last = 120000;

	for (unsigned s = 1; s <= 10; s++) {
		bank_combine(m, 3, &fresh, &o);
		bank_ramp_apply(&r, t += 1000, &o);
		assert_true(o.ccl_ma > last);
		assert_true(o.ccl_ma <= 120000 + s * 3000 + 1);
		last = o.ccl_ma;
	}
	for (unsigned s = 0; s < 100; s++) {
		bank_combine(m, 3, &fresh, &o);
		bank_ramp_apply(&r, t += 1000, &o);
	}
	assert_int_equal(o.ccl_ma, 300000);
	/* Everything offline: 0 at once. */
	for (unsigned k = 0; k < 3; k++)
		m[k].connected = false;
	bank_combine(m, 3, &(struct bank_input){ .last_cvl_mv = 55200 }, &o);
	bank_ramp_apply(&r, t += 1000, &o);
	assert_int_equal(o.ccl_ma, 0);
	assert_int_equal(o.dcl_ma, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unequal_soc_and_capacity),
		cmocka_unit_test(test_positions_by_uid),
		cmocka_unit_test(test_positions_sixteen),
		cmocka_unit_test(test_one_fet_off),
		cmocka_unit_test(test_one_pack_hot),
		cmocka_unit_test(test_one_pack_offline),
		cmocka_unit_test(test_all_offline),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_no_cvl_stops_charge),
		cmocka_unit_test(test_same_uid_counted_once),
		cmocka_unit_test(test_same_uid_among_sixteen),
		cmocka_unit_test(test_expected_and_no_limits),
		cmocka_unit_test(test_one_member),
		cmocka_unit_test(test_sixteen_members),
		cmocka_unit_test(test_unwatched_packs),
		cmocka_unit_test(test_ramp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
