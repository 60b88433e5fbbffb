/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for how the bank reads a member's values
 * (src/service/bank_items.c): whatever a service on the bus sends as
 * ItemsChanged or GetItems reply. An input that is a whole marshalled
 * message goes in as such (dbus_message_demarshal); any other input is a
 * recipe for an a{sa{sv}} built with libdbus: per entry a path (one the bank
 * reads, or junk), a key ("Value", "Text" or junk) and a value of any type
 * (numbers, strings, the empty "ai" of an invalid value, nested variants,
 * structs). libdbus runs with DBUS_FATAL_WARNINGS=1, so reading a value of
 * the wrong type aborts. Oracle: the member stays within its ranges (alarm
 * levels 0..2, finite numbers, terminated strings, non-negative limits),
 * it is the member the old reading with libdbus's iterators gives
 * (tests/bank_items_oracle.c), and the combination of it stays sane.
 */
#include <dbus/dbus.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank.h"
#include "bank_items.h"
#include "bank_items_oracle.h"
#include "fuzz_check.h"

static GHashTable *fields, *oracle_fields;

static const char *const paths[] = {
	"/Dc/0/Voltage",
	"/Soc",
	"/InstalledCapacity",
	"/System/MaxCellVoltage",
	"/System/MaxVoltageCellId",
	"/System/NrOfModulesBlockingCharge",
	"/Bank/MaxChargeVoltage",
	"/Bank/MaxChargeCurrent",
	"/Bank/Member",
	"/Bank/FloatVoltage",
	"/Info/ChargeLimitation",
	"/Connected",
	"/Serial",
	"/Alarms/BmsCable",
	"/Alarms/HighCellVoltage",
	"/Voltages/Cell1",
	"/Nope",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	setenv("DBUS_FATAL_WARNINGS", "1", 1);
	fields = bank_items_fields_new();
	oracle_fields = oracle_items_fields_new();
	return 0;
}

struct recipe {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct recipe *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

/* One value of a type the recipe picks (depth bounds the nesting). */
static void put_value(DBusMessageIter *var_parent, struct recipe *r, unsigned depth)
{
	DBusMessageIter var, sub;
	uint8_t kind = take(r) % 8;
	char text[24];

	switch (depth > 2 ? kind % 5 : kind) {
	case 0: {
		double d;
		uint64_t bits = 0;

		for (unsigned k = 0; k < 8; k++)
			bits = bits << 8 | take(r);
		memcpy(&d, &bits, sizeof(d)); /* NaN, infinities, subnormals too */
		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "d", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_DOUBLE, &d);
		break;
	}
	case 1: {
		int32_t i = (int32_t)((uint32_t)take(r) << 24 | (uint32_t)take(r) << 8 | take(r));

		if (take(r) & 1)
			i = take(r) % 4 - 1; /* small ones: -1..2 */
		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "i", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_INT32, &i);
		break;
	}
	case 2: {
		size_t len = take(r) % sizeof(text);
		const char *s = text;

		for (size_t k = 0; k < len; k++)
			text[k] = (char)(' ' + take(r) % 95);
		text[len] = '\0';
		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "s", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &s);
		break;
	}
	case 3: /* invalid: an empty array of int32 */
		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "ai", &var);
		dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, "i", &sub);
		dbus_message_iter_close_container(&var, &sub);
		break;
	case 4: {
		uint32_t u = take(r);

		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "u", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_UINT32, &u);
		break;
	}
	case 5: /* a variant in a variant */
		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "v", &var);
		put_value(&var, r, depth + 1);
		break;
	case 6: { /* a struct */
		dbus_bool_t b = take(r) & 1;

		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "(bv)", &var);
		dbus_message_iter_open_container(&var, DBUS_TYPE_STRUCT, NULL, &sub);
		dbus_message_iter_append_basic(&sub, DBUS_TYPE_BOOLEAN, &b);
		put_value(&sub, r, depth + 1);
		dbus_message_iter_close_container(&var, &sub);
		break;
	}
	default: { /* an int of the wrong width */
		int16_t n = (int16_t)take(r);

		dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, "n", &var);
		dbus_message_iter_append_basic(&var, DBUS_TYPE_INT16, &n);
		break;
	}
	}
	dbus_message_iter_close_container(var_parent, &var);
}

static DBusMessage *build(const uint8_t *data, size_t size)
{
	struct recipe r = { data, size };
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");
	DBusMessageIter it, arr, entry, props, kv;
	unsigned entries = take(&r) % 12;

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sa{sv}}", &arr);
	for (unsigned e = 0; e < entries; e++) {
		const char *path = paths[take(&r) % (sizeof(paths) / sizeof(paths[0]))];
		unsigned keys = take(&r) % 3;

		dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
		dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &path);
		dbus_message_iter_open_container(&entry, DBUS_TYPE_ARRAY, "{sv}", &props);
		for (unsigned k = 0; k < keys + 1; k++) {
			static const char *const names[] = { "Value", "Text", "value" };
			const char *key = names[take(&r) % 3];

			dbus_message_iter_open_container(&props, DBUS_TYPE_DICT_ENTRY, NULL, &kv);
			dbus_message_iter_append_basic(&kv, DBUS_TYPE_STRING, &key);
			put_value(&kv, &r, 0);
			dbus_message_iter_close_container(&props, &kv);
		}
		dbus_message_iter_close_container(&entry, &props);
		dbus_message_iter_close_container(&arr, &entry);
	}
	dbus_message_iter_close_container(&it, &arr);
	return m;
}

static void check_member(const struct bank_member *m)
{
	for (unsigned k = 0; k < BANK_VALUE_COUNT; k++)
		CHECK(!m->has[k] || isfinite(m->value[k]));
	for (unsigned k = 0; k < BANK_LIMIT_COUNT; k++)
		CHECK(!m->has_limit[k] || (m->limit[k] >= 0 && m->limit[k] <= BANK_LIMIT_MAX));
	for (unsigned a = 0; a < BANK_ALARM_COUNT; a++)
		CHECK(m->alarm[a] <= 2);
	CHECK(memchr(m->uid, 0, sizeof(m->uid)));
	CHECK(memchr(m->min_cell_id, 0, sizeof(m->min_cell_id)) && memchr(m->max_cell_id, 0, sizeof(m->max_cell_id)));
	CHECK(memchr(m->charge_limitation, 0, sizeof(m->charge_limitation)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	DBusMessage *msg = size > 16 && (data[0] == 'l' || data[0] == 'B')
		? dbus_message_demarshal((const char *)data, (int)size, NULL)
		: NULL;
	struct bank_member m[2], want;
	struct bank_output o;
	bool member = false, want_member = false;

	if (!msg)
		msg = build(data, size);
	memset(m, 0, sizeof(m));
	m[0].present = m[1].present = true;
	want = m[0];
	bool ok = bank_items_apply(fields, msg, &m[0], &member);

	CHECK(ok == dbus_message_has_signature(msg, "a{sa{sv}}"));
	CHECK(oracle_items_apply(oracle_fields, msg, &want, &want_member) == ok);
	CHECK(!oracle_member_differs(&m[0], &want) && member == want_member);
	check_member(&m[0]);
	m[1] = m[0];
	/* Two packs, not one read twice: a shared unique id counts once. */
	snprintf(m[1].uid, sizeof(m[1].uid), "%s", strcmp(m[0].uid, "second") ? "second" : "third");
	bank_combine(m, 2, &(struct bank_input){ .expected = 3, .last_cvl_mv = 55000 }, &o);
	CHECK(o.online <= 2 && o.known == 2);
	if (o.online == 2) { /* n x the least share; a blocked pack or one without a CVL takes none */
		bool share = m[0].has_limit[BANK_CCL] && m[0].has_limit[BANK_CVL];
		double least = share ? m[0].limit[BANK_CCL] : 0;

		CHECK(o.ccl_ma == (m[0].blocking_charge ? 0 : (uint32_t)lround(least * 1000.0 * 2)));
	}
	CHECK(o.cvl_mv <= 55000 || o.online > 0);
	dbus_message_unref(msg);
	return 0;
}
