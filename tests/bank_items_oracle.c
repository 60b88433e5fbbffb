/* SPDX-License-Identifier: MIT */
/*
 * The oracle of test_bank_items.c: how the bank read a member's values
 * before src/service/bank_items.c read the bytes itself, with libdbus's
 * iterators, kept as it was (its functions renamed). The new reading must
 * give the same member for every message libdbus accepts. A path the bank
 * starts to read is added here too.
 */
#define bank_items_fields_new oracle_items_fields_new
#define bank_items_apply oracle_items_apply

#include "bank_items_oracle.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dbus_dict.h"

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
static bool variant_number(DBusMessageIter *var, double *out)
{
	int32_t i;

	switch (dbus_message_iter_get_arg_type(var)) {
	case DBUS_TYPE_DOUBLE:
		dbus_message_iter_get_basic(var, out);
		return isfinite(*out);
	case DBUS_TYPE_INT32:
		dbus_message_iter_get_basic(var, &i);
		*out = i;
		return true;
	default:
		return false;
	}
}

static const char *variant_string(DBusMessageIter *var)
{
	const char *s = "";

	if (dbus_message_iter_get_arg_type(var) == DBUS_TYPE_STRING)
		dbus_message_iter_get_basic(var, &s);
	return s;
}

static void apply_field(struct bank_member *m, const struct bank_field *f, DBusMessageIter *var, bool *member)
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

bool bank_items_apply(GHashTable *fields, DBusMessage *msg, struct bank_member *m, bool *member)
{
	DBusMessageIter it, arr, entry, props, var;

	if (!dbus_message_has_signature(msg, "a{sa{sv}}"))
		return false;
	dbus_message_iter_init(msg, &it);
	dbus_message_iter_recurse(&it, &arr);
	for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&arr)) {
		const char *path;

		dbus_message_iter_recurse(&arr, &entry);
		dbus_message_iter_get_basic(&entry, &path);
		const struct bank_field *f = g_hash_table_lookup(fields, path);

		if (!f)
			continue;
		dbus_message_iter_next(&entry);
		dbus_message_iter_recurse(&entry, &props);
		const char *key;

		while (dbus_dict_next(&props, &key, &var)) {
			if (strcmp(key, "Value") == 0)
				apply_field(m, f, &var, member);
		}
	}
	return true;
}

/* Not the old code: the comparison of test_bank_items.c and fuzz_dbus_read. */
#define DIFFERS(field) \
	do { \
		if (memcmp(&a->field, &b->field, sizeof(a->field)) != 0) \
			return #field; \
	} while (0)

const char *oracle_member_differs(const struct bank_member *a, const struct bank_member *b)
{
	DIFFERS(uid);
	DIFFERS(present);
	DIFFERS(connected);
	DIFFERS(silent);
	DIFFERS(value);
	DIFFERS(has);
	DIFFERS(min_cell_id);
	DIFFERS(max_cell_id);
	DIFFERS(limit);
	DIFFERS(has_limit);
	DIFFERS(blocking_charge);
	DIFFERS(blocking_discharge);
	DIFFERS(alarm);
	DIFFERS(charge_limitation);
	DIFFERS(discharge_limitation);
	return NULL;
}
