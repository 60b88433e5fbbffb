/* SPDX-License-Identifier: MIT */
/*
 * Reading a member's values (docs/bank.md): the paths the bank takes from a
 * member's GetItems reply or ItemsChanged (an a{sa{sv}}), each variant's
 * type checked before it is read; any other path, key or type is skipped.
 * The body is read in place from the message's bytes (dbus_read.h): libdbus
 * checked the whole message when it received it, and its iterators cost
 * ~60k instructions per member update (bench/bench_items.c, callgrind),
 * this ~12k.
 * Input from the bus like any other: fuzzed by fuzz/fuzz_bank_items.c, the
 * bytes alone by fuzz/fuzz_dbus_read.c.
 */
#include "bank_items.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dbus_read.h"

/* What a member path feeds. */
enum field_kind {
	F_VALUE,      /* a measurement (enum bank_value) */
	F_LIMIT,      /* a /Bank/ limit (enum bank_limit) */
	F_ALARM,      /* an alarm level */
	F_CONNECTED,  /* /Connected */
	F_BLOCK,      /* /System/NrOfModulesBlocking*: 0 charge, 1 discharge */
	F_CELL_ID,    /* 0 min, 1 max */
	F_LIMITATION, /* 0 charge, 1 discharge */
	F_SERIAL,     /* the unique id */
	F_MEMBER,     /* /Bank/Member */
};

struct bank_field {
	enum field_kind kind;
	unsigned arg;
};

static const struct {
	const char *path;
	struct bank_field f;
} field_table[] = {
	{ "/Dc/0/Voltage", { F_VALUE, BANK_VOLTAGE } },
	{ "/Dc/0/Current", { F_VALUE, BANK_CURRENT } },
	{ "/Dc/0/Power", { F_VALUE, BANK_POWER } },
	{ "/Dc/0/Temperature", { F_VALUE, BANK_TEMPERATURE } },
	{ "/Soc", { F_VALUE, BANK_SOC } },
	{ "/Capacity", { F_VALUE, BANK_CAPACITY } },
	{ "/InstalledCapacity", { F_VALUE, BANK_INSTALLED } },
	{ "/ConsumedAmphours", { F_VALUE, BANK_CONSUMED } },
	{ "/System/MinCellVoltage", { F_VALUE, BANK_MIN_CELL } },
	{ "/System/MaxCellVoltage", { F_VALUE, BANK_MAX_CELL } },
	{ "/System/MinVoltageCellId", { F_CELL_ID, 0 } },
	{ "/System/MaxVoltageCellId", { F_CELL_ID, 1 } },
	{ "/System/NrOfModulesBlockingCharge", { F_BLOCK, 0 } },
	{ "/System/NrOfModulesBlockingDischarge", { F_BLOCK, 1 } },
	{ "/Bank/MaxChargeVoltage", { F_LIMIT, BANK_CVL } },
	{ "/Bank/MaxChargeCurrent", { F_LIMIT, BANK_CCL } },
	{ "/Bank/MaxDischargeCurrent", { F_LIMIT, BANK_DCL } },
	{ "/Bank/BatteryLowVoltage", { F_LIMIT, BANK_BLV } },
	{ "/Bank/FloatVoltage", { F_LIMIT, BANK_FLOAT } },
	{ "/Bank/Member", { F_MEMBER, 0 } },
	{ "/Info/ChargeLimitation", { F_LIMITATION, 0 } },
	{ "/Info/DischargeLimitation", { F_LIMITATION, 1 } },
	{ "/Connected", { F_CONNECTED, 0 } },
	{ "/Serial", { F_SERIAL, 0 } },
	{ "/Alarms/BmsCable", { F_ALARM, BANK_ALARM_BMS_CABLE } },
};

GHashTable *bank_items_fields_new(void)
{
	static struct bank_field alarms[POLICY_ALARM_COUNT];
	GHashTable *fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (size_t k = 0; k < G_N_ELEMENTS(field_table); k++)
		g_hash_table_insert(fields, g_strdup(field_table[k].path), (gpointer)&field_table[k].f);
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++) {
		alarms[a] = (struct bank_field){ F_ALARM, a };
		g_hash_table_insert(fields, g_strdup_printf("/Alarms/%s", policy_alarm_name((enum policy_alarm)a)),
				    &alarms[a]);
	}
	return fields;
}

/* A variant's number (int or double); false when invalid (an empty array),
 * of another type, or not finite. */
static bool variant_number(const struct wire_value *var, double *out)
{
	switch (var->type) {
	case 'd':
		*out = var->v.d;
		return isfinite(*out);
	case 'i':
		*out = (double)var->v.i;
		return true;
	default:
		return false;
	}
}

static const char *variant_string(const struct wire_value *var)
{
	return var->type == 's' ? var->v.s : "";
}

void bank_items_apply_value(struct bank_member *m, const struct bank_field *f, const struct wire_value *var,
			    bool *member)
{
	double x = 0;
	bool ok = variant_number(var, &x);

	switch (f->kind) {
	case F_VALUE:
		m->value[f->arg] = x;
		m->has[f->arg] = ok;
		break;
	case F_LIMIT: /* a negative or absurd limit is no limit */
		m->limit[f->arg] = x;
		m->has_limit[f->arg] = ok && x >= 0 && x <= BANK_LIMIT_MAX;
		break;
	case F_ALARM:
		m->alarm[f->arg] = ok && x >= 0 && x <= 2 ? (uint8_t)x : 0;
		break;
	case F_CONNECTED:
		m->connected = ok && x == 1;
		break;
	case F_BLOCK:
		*(f->arg ? &m->blocking_discharge : &m->blocking_charge) = ok && x > 0;
		break;
	case F_CELL_ID:
		snprintf(f->arg ? m->max_cell_id : m->min_cell_id, sizeof(m->min_cell_id), "%s", variant_string(var));
		break;
	case F_LIMITATION:
		snprintf(f->arg ? m->discharge_limitation : m->charge_limitation, sizeof(m->charge_limitation), "%s",
			 variant_string(var));
		break;
	case F_SERIAL:
		snprintf(m->uid, sizeof(m->uid), "%s", variant_string(var));
		break;
	case F_MEMBER:
		*member = ok && x == 1;
		break;
	}
}

/* The "Value"s of the properties (an a{sv}) up to end. */
static bool apply_props(struct wire_reader *r, size_t end, const struct bank_field *f, struct bank_member *m,
			bool *member)
{
	while (r->pos < end) {
		const char *key;
		struct wire_value var;

		if (!wire_read_align(r, 8) || !wire_read_string(r, &key) || !wire_read_variant(r, &var))
			return false;
		if (strcmp(key, "Value") == 0)
			bank_items_apply_value(m, f, &var, member);
	}
	return r->pos == end;
}

/* The entries of an a{sa{sv}} body: each {path: properties}. */
static bool apply_entries(GHashTable *fields, struct wire_reader *r, struct bank_member *m, bool *member)
{
	size_t end, props;

	if (!wire_read_array(r, 8, &end))
		return false;
	while (r->pos < end) {
		const char *path;

		if (!wire_read_align(r, 8) || !wire_read_string(r, &path) || !wire_read_array(r, 8, &props))
			return false;
		const struct bank_field *f = g_hash_table_lookup(fields, path);

		if (!f)
			r->pos = props; /* a path the bank does not read */
		else if (!apply_props(r, props, f, m, member))
			return false;
	}
	return r->pos == end && end == r->len;
}

bool bank_items_apply_wire(GHashTable *fields, const void *msg, size_t len, struct bank_member *m, bool *member)
{
	struct wire_reader r;
	const char *sig;
	struct bank_member next = *m;
	bool next_member = *member;

	if (!wire_read_message(&r, &sig, msg, len) || strcmp(sig, "a{sa{sv}}") != 0 ||
	    !apply_entries(fields, &r, &next, &next_member))
		return false;
	*m = next;
	*member = next_member;
	return true;
}

bool bank_items_apply(GHashTable *fields, DBusMessage *msg, struct bank_member *m, bool *member)
{
	char *bytes;
	int len;

	if (!dbus_message_marshal(msg, &bytes, &len))
		return false; /* out of memory */
	bool ok = bank_items_apply_wire(fields, bytes, (size_t)len, m, member);

	dbus_free(bytes);
	return ok;
}
