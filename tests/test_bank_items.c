/* SPDX-License-Identifier: MIT */
/*
 * How the bank reads a member's values (src/service/bank_items.c, over the
 * wire reader): a member update and a GetItems reply read right, Venus's
 * invalid values, and for thousands of random messages of either byte
 * order (every type of value, the bank's paths and others) the very member
 * that the old reading with libdbus's iterators gave (bank_items_oracle.c).
 * Bytes that are not a whole message change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bank_items.h"
#include "bank_items_oracle.h"
#include "wire_build.h"

static GHashTable *fields, *oracle_fields;

static int setup(void **state)
{
	(void)state;
	fields = bank_items_fields_new();
	oracle_fields = oracle_items_fields_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	g_hash_table_destroy(fields);
	g_hash_table_destroy(oracle_fields);
	return 0;
}

/* Every field the same, bit for bit (NaNs too). */
static void assert_same(const struct bank_member *a, const struct bank_member *b, unsigned n)
{
	const char *field = oracle_member_differs(a, b);

	if (field)
		fail_msg("%s differs (message %u)", field, n);
}

static DBusMessage *from_bytes(const struct wb *msg)
{
	DBusError err = DBUS_ERROR_INIT;
	DBusMessage *m = dbus_message_demarshal((const char *)msg->buf, (int)msg->len, &err);

	if (!m) /* libdbus accepts what the test wrote */
		fail_msg("libdbus refuses the message: %s", err.message);
	return m;
}

/* {path: {"Value": <d>v, "Text": <s>""}}; NULL path: the end. */
static DBusMessage *update(bool big, const char *const *paths, const double *v)
{
	struct wb body, msg;
	struct wb_array items, props;

	wb_init(&body, big);
	wb_init(&msg, big);
	wb_items_begin(&body, &items);
	for (unsigned k = 0; paths[k]; k++) {
		wb_item_begin(&body, &props, paths[k]);
		wb_key(&body, "Value");
		wb_sig(&body, "d");
		wb_double(&body, v[k]);
		wb_key(&body, "Text");
		wb_sig(&body, "s");
		wb_string(&body, "");
		wb_item_end(&body, &props);
	}
	wb_items_end(&body, &items);
	wb_message(&msg, "a{sa{sv}}", &body, 11);
	DBusMessage *m = from_bytes(&msg);

	wb_free(&body);
	wb_free(&msg);
	return m;
}

/* A member update: its values read, the cells (no path of the bank's)
 * passed over; /Bank/Member absent leaves *member as it was. */
static void test_member_update(void **state)
{
	(void)state;
	static const char *const paths[] = { "/Dc/0/Voltage",
					     "/Voltages/Cell1",
					     "/Dc/0/Current",
					     "/Voltages/Cell2",
					     "/System/MaxCellVoltage",
					     "/Bank/MaxChargeCurrent",
					     NULL };
	static const double v[] = { 52.81, 3.3, -13.5, 3.31, 3.304, 120 };

	for (int big = 0; big <= 1; big++) {
		DBusMessage *m = update(big, paths, v);
		struct bank_member got = { .present = true };
		bool member = true;

		assert_true(bank_items_apply(fields, m, &got, &member));
		assert_true(member);
		assert_true(got.has[BANK_VOLTAGE] && got.value[BANK_VOLTAGE] == 52.81);
		assert_true(got.has[BANK_CURRENT] && got.value[BANK_CURRENT] == -13.5);
		assert_true(got.has[BANK_MAX_CELL] && got.value[BANK_MAX_CELL] == 3.304);
		assert_true(got.has_limit[BANK_CCL] && got.limit[BANK_CCL] == 120);
		assert_false(got.has[BANK_SOC] || got.has[BANK_MIN_CELL] || got.has_limit[BANK_CVL]);
		assert_true(got.present);
		dbus_message_unref(m);
	}
}

/* A variant of each kind for one path: "Value" only, read as the bank's. */
static DBusMessage *one_value(const char *path, const char *sig, const void *value, int type)
{
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");
	DBusMessageIter it, arr, entry, props, kv, var, sub;
	const char *key = "Value";

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sa{sv}}", &arr);
	dbus_message_iter_open_container(&arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &path);
	dbus_message_iter_open_container(&entry, DBUS_TYPE_ARRAY, "{sv}", &props);
	dbus_message_iter_open_container(&props, DBUS_TYPE_DICT_ENTRY, NULL, &kv);
	dbus_message_iter_append_basic(&kv, DBUS_TYPE_STRING, &key);
	dbus_message_iter_open_container(&kv, DBUS_TYPE_VARIANT, sig, &var);
	if (value) {
		dbus_message_iter_append_basic(&var, type, value);
	} else { /* Venus's invalid value: an empty array */
		dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, sig + 1, &sub);
		dbus_message_iter_close_container(&var, &sub);
	}
	dbus_message_iter_close_container(&kv, &var);
	dbus_message_iter_close_container(&props, &kv);
	dbus_message_iter_close_container(&entry, &props);
	dbus_message_iter_close_container(&arr, &entry);
	dbus_message_iter_close_container(&it, &arr);
	return m;
}

/* Apply one value to a member that had everything; as the oracle does. */
static void apply_one(struct bank_member *got, bool *member, const char *path, const char *sig, const void *value,
		      int type)
{
	DBusMessage *m = one_value(path, sig, value, type);
	struct bank_member want;
	bool want_member;

	memset(got, 0, sizeof(*got));
	memset(got->has, 1, sizeof(got->has));
	memset(got->has_limit, 1, sizeof(got->has_limit));
	snprintf(got->uid, sizeof(got->uid), "before");
	got->connected = true;
	*member = true;
	want = *got;
	want_member = *member;
	assert_true(bank_items_apply(fields, m, got, member));
	assert_true(oracle_items_apply(oracle_fields, m, &want, &want_member));
	assert_same(got, &want, 0);
	assert_int_equal(*member, want_member);
	dbus_message_unref(m);
}

/* Venus's invalid value (an empty array), other types, numbers out of
 * range: what the bank takes of each. */
static void test_values(void **state)
{
	(void)state;
	struct bank_member got;
	bool member;
	int32_t i;
	uint32_t u = 1;
	double d;
	const char *s = "jkbms_0042";

	apply_one(&got, &member, "/Soc", "ai", NULL, 0);
	assert_false(got.has[BANK_SOC]);
	apply_one(&got, &member, "/Connected", "ai", NULL, 0);
	assert_false(got.connected);
	apply_one(&got, &member, "/Serial", "ai", NULL, 0);
	assert_string_equal(got.uid, "");
	apply_one(&got, &member, "/Serial", "s", &s, DBUS_TYPE_STRING);
	assert_string_equal(got.uid, "jkbms_0042");
	apply_one(&got, &member, "/Serial", "o", &(const char *){ "/a" }, DBUS_TYPE_OBJECT_PATH);
	assert_string_equal(got.uid, ""); /* a string only */
	apply_one(&got, &member, "/Bank/Member", "ai", NULL, 0);
	assert_false(member);
	apply_one(&got, &member, "/Bank/Member", "u", &u, DBUS_TYPE_UINT32);
	assert_false(member); /* an int32 or a double only */
	i = 1;
	apply_one(&got, &member, "/Bank/Member", "i", &i, DBUS_TYPE_INT32);
	assert_true(member);
	d = NAN;
	apply_one(&got, &member, "/Dc/0/Voltage", "d", &d, DBUS_TYPE_DOUBLE);
	assert_false(got.has[BANK_VOLTAGE]);
	d = -1;
	apply_one(&got, &member, "/Bank/MaxChargeCurrent", "d", &d, DBUS_TYPE_DOUBLE);
	assert_false(got.has_limit[BANK_CCL]);
	i = 2;
	apply_one(&got, &member, "/Alarms/BmsCable", "i", &i, DBUS_TYPE_INT32);
	assert_int_equal(got.alarm[BANK_ALARM_BMS_CABLE], 2);
	i = 3;
	apply_one(&got, &member, "/Alarms/BmsCable", "i", &i, DBUS_TYPE_INT32);
	assert_int_equal(got.alarm[BANK_ALARM_BMS_CABLE], 0);
	d = 1;
	apply_one(&got, &member, "/System/NrOfModulesBlockingDischarge", "d", &d, DBUS_TYPE_DOUBLE);
	assert_true(got.blocking_discharge);
}

/* A random a{sa{sv}} of the bank's paths and others, in msg. */
static void random_items(struct wb *msg, bool big, const char *const *paths, unsigned n_paths, uint32_t *st)
{
	static const char *const keys[] = { "Value", "Text", "value", "Valu", "ValueX" };
	struct wb body;
	struct wb_array items, props;

	wb_init(&body, big);
	wb_init(msg, big);
	wb_items_begin(&body, &items);
	for (uint32_t e = wb_rand(st) % 30; e; e--) {
		wb_item_begin(&body, &props, paths[wb_rand(st) % n_paths]);
		for (uint32_t k = wb_rand(st) % 4; k; k--) {
			wb_key(&body, keys[wb_rand(st) % 4 ? 0 : wb_rand(st) % 5]);
			wb_random_variant(&body, st);
		}
		wb_item_end(&body, &props);
	}
	wb_items_end(&body, &items);
	wb_message(msg, "a{sa{sv}}", &body, 1 + wb_rand(st) % 1000);
	wb_free(&body);
}

/* Thousands of random messages: the same member, the same /Bank/Member,
 * the same answer as the old reading; the member carried from one message
 * to the next. */
static void test_same_as_libdbus(void **state)
{
	(void)state;
	static const char *const junk[] = { "/Voltages/Cell1", "/Nope", "/Soc/", "/soc", "", "/" };
	GList *keys = g_hash_table_get_keys(fields);
	unsigned n_paths = 0;
	const char *paths[128];
	struct bank_member got, want;
	bool got_member = false, want_member = false;
	uint32_t st = 0x2545f491;

	for (GList *l = keys; l && n_paths < 100; l = l->next)
		paths[n_paths++] = l->data;
	g_list_free(keys);
	assert_true(n_paths > 20);
	for (size_t k = 0; k < sizeof(junk) / sizeof(junk[0]); k++)
		paths[n_paths++] = junk[k];
	memset(&got, 0, sizeof(got));
	want = got;
	for (unsigned n = 0; n < 4000; n++) {
		struct wb msg;

		random_items(&msg, wb_rand(&st) % 2, paths, n_paths, &st);
		DBusMessage *m = from_bytes(&msg);

		assert_int_equal(bank_items_apply(fields, m, &got, &got_member),
				 oracle_items_apply(oracle_fields, m, &want, &want_member));
		assert_same(&got, &want, n);
		assert_int_equal(got_member, want_member);
		dbus_message_unref(m);
		wb_free(&msg);
	}
}

/* Not an a{sa{sv}}: refused, as before. */
static void test_other_signature(void **state)
{
	(void)state;
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");
	DBusMessageIter it, arr;
	struct bank_member got = { .uid = "kept" };
	bool member = true;

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &arr);
	dbus_message_iter_close_container(&it, &arr);
	assert_false(bank_items_apply(fields, m, &got, &member));
	assert_false(oracle_items_apply(oracle_fields, m, &got, &member));
	assert_string_equal(got.uid, "kept");
	dbus_message_unref(m);
}

/* Bytes cut at every length, with the body's length made to fit: false,
 * and nothing of what was read before the cut applied. */
static void test_cut_changes_nothing(void **state)
{
	(void)state;
	static const char *const paths[] = { "/Serial", "/Dc/0/Voltage",   "/Bank/Member",           "/Connected",
					     "/Soc",    "/Voltages/Cell1", "/Bank/MaxChargeVoltage", NULL };
	static const double v[] = { 1, 52.5, 1, 1, 40, 3.3, 55.2 };
	DBusMessage *m = update(false, paths, v);
	char *bytes;
	int len;

	assert_true(dbus_message_marshal(m, &bytes, &len));
	const uint8_t *b = (const uint8_t *)bytes;
	unsigned whole = 0;
	size_t body_at = (size_t)len - (size_t)(b[4] | b[5] << 8);

	for (size_t cut = 0; cut < (size_t)len; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);
		struct bank_member got = { .uid = "before" }, before = got;
		bool member = false;

		memcpy(c, bytes, cut);
		if (cut >= body_at + 8) { /* the body's length, and its array's */
			size_t n = cut - body_at;

			c[4] = (uint8_t)n, c[5] = (uint8_t)(n >> 8), c[6] = c[7] = 0;
			n -= 8;
			c[body_at] = (uint8_t)n, c[body_at + 1] = (uint8_t)(n >> 8);
			c[body_at + 2] = c[body_at + 3] = 0;
		}
		if (bank_items_apply_wire(fields, c, cut, &got, &member)) {
			/* cut between two entries: a message of fewer */
			DBusMessage *fewer = dbus_message_demarshal((const char *)c, (int)cut, NULL);

			assert_non_null(fewer);
			dbus_message_unref(fewer);
			whole++;
		} else {
			assert_same(&got, &before, (unsigned)cut);
			assert_false(member);
		}
		free(c);
	}
	assert_int_equal(whole, 7); /* before the first entry, after each but the last */
	dbus_free(bytes);
	dbus_message_unref(m);
}

/* Inconsistent bytes past values already read: none of them applied. */
static void test_bad_later_changes_nothing(void **state)
{
	(void)state;
	for (int bad = 0; bad < 2; bad++) {
		struct wb body, msg;
		struct wb_array items, props;
		struct bank_member got = { .uid = "before" }, before = got;
		bool member = false;

		wb_init(&body, false);
		wb_init(&msg, false);
		wb_items_begin(&body, &items);
		wb_item_begin(&body, &props, "/Serial");
		wb_key(&body, "Value");
		wb_sig(&body, "s");
		wb_string(&body, "after");
		wb_item_end(&body, &props);
		wb_item_begin(&body, &props, "/Soc");
		wb_key(&body, "Value");
		wb_sig(&body, bad ? "z" : "d"); /* no type */
		wb_double(&body, 50);
		wb_item_end(&body, &props);
		wb_items_end(&body, &items);
		wb_message(&msg, "a{sa{sv}}", &body, 2);
		assert_int_equal(bank_items_apply_wire(fields, msg.buf, msg.len, &got, &member), !bad);
		if (bad)
			assert_same(&got, &before, 0);
		else
			assert_true(strcmp(got.uid, "after") == 0 && got.has[BANK_SOC] && got.value[BANK_SOC] == 50);

		/* A body too short for the array's length. */
		body.len = 3;
		wb_message(&msg, "a{sa{sv}}", &body, 2);
		assert_false(bank_items_apply_wire(fields, msg.buf, msg.len, &got, &member));
		wb_free(&body);
		wb_free(&msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_update),       cmocka_unit_test(test_values),
		cmocka_unit_test(test_same_as_libdbus),     cmocka_unit_test(test_other_signature),
		cmocka_unit_test(test_cut_changes_nothing), cmocka_unit_test(test_bad_later_changes_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
