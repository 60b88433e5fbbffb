/* SPDX-License-Identifier: MIT */
/*
 * Parallel packs as one battery (docs/bank.md): from what each member
 * service publishes, the values, limits and limitation texts of the bank
 * that DVCC controls. Pure: no clock, no I/O, no allocation; time comes in
 * as an argument. Units as on D-Bus (V, A, W, Ah, %, °C), the limits in mV
 * and mA so that they go through the policy's ramp.
 */
#ifndef BANK_H
#define BANK_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define BANK_MAX_MEMBERS 16

/* A member limit above this (V or A) is no limit: not a number a pack
 * publishes, and it would overflow the bank's mV and mA. */
#define BANK_LIMIT_MAX 100000.0

/* The alarms a bank combines: the policy's, then /Alarms/BmsCable. */
enum {
	BANK_ALARM_BMS_CABLE = POLICY_ALARM_COUNT,
	BANK_ALARM_COUNT
};

/* The measurements combined, each valid or not. */
enum bank_value {
	BANK_VOLTAGE,     /* /Dc/0/Voltage: mean */
	BANK_CURRENT,     /* /Dc/0/Current: sum */
	BANK_POWER,       /* /Dc/0/Power: sum */
	BANK_TEMPERATURE, /* /Dc/0/Temperature: highest */
	BANK_SOC,         /* /Soc: capacity-weighted mean */
	BANK_CAPACITY,    /* /Capacity: sum */
	BANK_INSTALLED,   /* /InstalledCapacity: sum */
	BANK_CONSUMED,    /* /ConsumedAmphours: sum */
	BANK_MIN_CELL,    /* /System/MinCellVoltage: lowest */
	BANK_MAX_CELL,    /* /System/MaxCellVoltage: highest */
	BANK_VALUE_COUNT
};

/* A member's limits (its /Bank/ paths). */
enum bank_limit {
	BANK_CVL,   /* /Bank/MaxChargeVoltage */
	BANK_CCL,   /* /Bank/MaxChargeCurrent */
	BANK_DCL,   /* /Bank/MaxDischargeCurrent */
	BANK_BLV,   /* /Bank/BatteryLowVoltage */
	BANK_FLOAT, /* /Bank/FloatVoltage: its loss-of-communication cap */
	BANK_LIMIT_COUNT
};

/* What the bank knows of one member: the last values it published. */
struct bank_member {
	char uid[64];   /* /Serial: its unique id, which orders the positions */
	bool present;   /* on the bus now (its service runs) */
	bool connected; /* /Connected = 1 */
	bool silent;    /* nothing heard from it for bank_member_timeout */
	double value[BANK_VALUE_COUNT];
	bool has[BANK_VALUE_COUNT];
	char min_cell_id[16], max_cell_id[16]; /* "C7" */
	double limit[BANK_LIMIT_COUNT];        /* V and A */
	bool has_limit[BANK_LIMIT_COUNT];
	bool blocking_charge, blocking_discharge; /* /System/NrOfModulesBlocking* */
	uint8_t alarm[BANK_ALARM_COUNT];
	char charge_limitation[96], discharge_limitation[96]; /* /Info/... */
};

/* A member counts (online) while its service is present, speaks, and its
 * /Connected = 1. */
bool bank_member_online(const struct bank_member *m);

/* Their positions (1-based), pos[k] for members[k]: the rank by unique id
 * among the n members known (equal ids in the members' order), so the same
 * packs get the same numbers after any restart. */
void bank_positions(const struct bank_member *members, unsigned n, unsigned *pos);

struct bank_output {
	unsigned known, online, expected; /* expected: bank_packs, 0 = any */
	unsigned blocking_charge, blocking_discharge;
	double value[BANK_VALUE_COUNT];
	bool has[BANK_VALUE_COUNT];
	char min_cell_id[24], max_cell_id[24]; /* "P2-C7" */
	uint8_t alarm[BANK_ALARM_COUNT];
	bool has_limits;                         /* CVL/CCL/DCL valid */
	uint32_t cvl_mv, ccl_ma, dcl_ma, blv_mv; /* blv_mv 0: none */
	/* What CCL and DCL would be if the weakest counted pack were as strong
	 * as the strongest: the ramp's ceiling, as a pack's is its BMS's. */
	uint32_t ccl_ceiling_ma, dcl_ceiling_ma;
	char charge_limitation[160], discharge_limitation[160];
};

/* The packs the bank is made of: those known, or bank_packs if more. */
unsigned bank_packs_total(const struct bank_output *o);

/* What the bank knows besides its members' values. */
struct bank_input {
	unsigned expected;    /* bank_packs, 0 = any number */
	unsigned unwatched;   /* packs on the bus beyond the BANK_MAX_MEMBERS followed */
	uint32_t last_cvl_mv; /* the CVL published last (0 = none): it never rises while every member is offline */
};

/* Combine n members (at most BANK_MAX_MEMBERS). */
void bank_combine(const struct bank_member *members, unsigned n, const struct bank_input *in, struct bank_output *out);

/* The calm output of the bank's current limits: the same ramp as a single
 * pack's (a fall at once, a rise at most 1 % of the ceiling per second). */
struct bank_ramp {
	bool init;
	uint64_t last_ms;
	double ccl_ramp_ma, dcl_ramp_ma;
	uint32_t ccl_ma, dcl_ma;
};

/* Apply the ramp to out's CCL and DCL at now_ms (monotonic). */
void bank_ramp_apply(struct bank_ramp *r, uint64_t now_ms, struct bank_output *out);

#endif
