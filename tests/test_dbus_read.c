/* SPDX-License-Identifier: MIT */
/*
 * The wire reader (include/io/dbus_read.h) on messages libdbus built or
 * accepted: every basic type in a variant, containers skipped with the
 * right alignment, both byte orders, a message's header. Its refusals
 * (truncation, bad lengths and signatures, nesting) are in
 * test_dbus_read_bad.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dbus/dbus.h>

#include "dbus_read.h"
#include "read_steps.h"
#include "wire_build.h"

/* The values every test reads: the extremes of each basic type. */
static const struct read_case cases[] = {
	{ "/y0", 'y', .i = 0 },          { "/y1", 'y', .i = 255 },
	{ "/b0", 'b', .i = 0 },          { "/b1", 'b', .i = 1 },
	{ "/n0", 'n', .i = -1 },         { "/n1", 'n', .i = INT16_MIN },
	{ "/n2", 'n', .i = INT16_MAX },  { "/q0", 'q', .i = 65535 },
	{ "/i0", 'i', .i = -1 },         { "/i1", 'i', .i = INT32_MIN },
	{ "/i2", 'i', .i = INT32_MAX },  { "/u0", 'u', .i = UINT32_MAX },
	{ "/x0", 'x', .i = INT64_MIN },  { "/x1", 'x', .i = -2 },
	{ "/t0", 't', .t = UINT64_MAX }, { "/t1", 't', .t = 0x0102030405060708 },
	{ "/d0", 'd', .d = -2.5 },       { "/d1", 'd', .d = 1e300 },
	{ "/d2", 'd', .d = -INFINITY },  { "/s0", 's', .s = "" },
	{ "/s1", 's', .s = "C7" },       { "/o0", 'o', .s = "/Dc/0" },
	{ "/g0", 'g', .s = "a{sv}" },    { "/g1", 'g', .s = "" },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void check_cases(const struct read_items *got)
{
	assert_int_equal(got->n, N_CASES);
	for (size_t k = 0; k < N_CASES; k++) {
		assert_string_equal(got->p[k].path, cases[k].path);
		assert_string_equal(got->p[k].key, "Value");
		read_check_case(&got->p[k].v, &cases[k]);
	}
}

/* Built by libdbus's iterators and marshalled: little endian here. */
static void test_basic_types_libdbus(void **state)
{
	(void)state;
	DBusMessage *m = read_libdbus_cases(cases, N_CASES);
	struct read_items got;
	char *bytes;
	int len;

	assert_true(dbus_message_marshal(m, &bytes, &len));
	assert_int_equal(bytes[0], 'l');
	assert_true(read_items(bytes, (size_t)len, &got));
	check_cases(&got);
	dbus_free(bytes);
	dbus_message_unref(m);
}

/* The same values written in each byte order: libdbus accepts both sets
 * of bytes, and both read the same. */
static void test_basic_types_both_orders(void **state)
{
	(void)state;
	for (int big = 0; big <= 1; big++) {
		struct wb msg;
		struct read_items got;

		read_wb_cases(&msg, big, cases, N_CASES);
		assert_int_equal(msg.buf[0], big ? 'B' : 'l');
		DBusMessage *m = dbus_message_demarshal((const char *)msg.buf, (int)msg.len, NULL);

		assert_non_null(m);
		assert_true(dbus_message_has_signature(m, "a{sa{sv}}"));
		assert_true(read_items(msg.buf, msg.len, &got));
		check_cases(&got);

		/* What libdbus hands on when asked for the bytes again: the
		 * bank's path (bank_items_apply()). */
		char *bytes;
		int len;

		assert_true(dbus_message_marshal(m, &bytes, &len));
		assert_int_equal(bytes[0], big ? 'B' : 'l'); /* as received */
		assert_true(read_items(bytes, (size_t)len, &got));
		check_cases(&got);
		dbus_free(bytes);
		dbus_message_unref(m);
		wb_free(&msg);
	}
}

/* Containers in variants are skipped whole, each with its own alignment,
 * so the value after each one reads right. */
static void test_containers_skipped(void **state)
{
	(void)state;
	for (int big = 0; big <= 1; big++) {
		struct wb body, msg;
		struct read_items got;

		wb_init(&body, big);
		wb_init(&msg, big);
		read_wb_containers(&body);
		wb_message(&msg, "a{sa{sv}}", &body, 9);
		DBusMessage *m = dbus_message_demarshal((const char *)msg.buf, (int)msg.len, NULL);

		assert_non_null(m); /* libdbus agrees the bytes are right */
		dbus_message_unref(m);
		assert_true(read_items(msg.buf, msg.len, &got));
		assert_int_equal(got.n, 2 * READ_CONTAINERS);
		for (unsigned k = 0; k < READ_CONTAINERS; k++) {
			const struct read_prop *c = &got.p[2 * k], *after = &got.p[2 * k + 1];

			assert_int_equal(c->v.type, read_containers[k][0]);
			assert_string_equal(c->key, "Value");
			assert_string_equal(after->key, "Text");
			assert_int_equal(after->v.type, 'd');
			assert_true(after->v.v.d == 100.5 + k);
		}
		wb_free(&body);
		wb_free(&msg);
	}
}

/* The same containers built by libdbus's iterators. */
static void test_containers_libdbus(void **state)
{
	(void)state;
	DBusMessage *m = read_libdbus_containers();
	struct read_items got;
	char *bytes;
	int len;

	assert_true(dbus_message_marshal(m, &bytes, &len));
	assert_true(read_items(bytes, (size_t)len, &got));
	assert_int_equal(got.n, 2 * READ_CONTAINERS);
	for (unsigned k = 0; k < READ_CONTAINERS; k++) {
		assert_int_equal(got.p[2 * k].v.type, read_containers[k][0]);
		assert_true(got.p[2 * k + 1].v.v.d == 100.5 + k);
	}
	dbus_free(bytes);
	dbus_message_unref(m);
}

/* wire_read_skip() walks any body by its signature. */
static void test_skip_by_signature(void **state)
{
	(void)state;
	DBusMessage *m = read_libdbus_containers();
	struct wire_reader r;
	const char *sig;
	char *bytes;
	int len;

	assert_true(dbus_message_marshal(m, &bytes, &len));
	assert_true(wire_read_message(&r, &sig, bytes, (size_t)len));
	assert_string_equal(sig, "a{sa{sv}}");
	assert_true(wire_read_skip(&r, &sig));
	assert_int_equal(*sig, '\0');
	assert_int_equal(r.pos, r.len);
	dbus_free(bytes);
	dbus_message_unref(m);

	/* A body of several values: a struct, then a dict, then a variant. */
	m = dbus_message_new_signal("/", "x.y", "Z");
	DBusMessageIter it, sub, e, v;
	int32_t i = 5;
	double d = 2.25;
	const char *s = "k";

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_STRUCT, NULL, &sub);
	dbus_message_iter_append_basic(&sub, DBUS_TYPE_INT32, &i);
	dbus_message_iter_append_basic(&sub, DBUS_TYPE_DOUBLE, &d);
	dbus_message_iter_close_container(&it, &sub);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{si}", &sub);
	dbus_message_iter_open_container(&sub, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &s);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_INT32, &i);
	dbus_message_iter_close_container(&sub, &e);
	dbus_message_iter_close_container(&it, &sub);
	dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "d", &v);
	dbus_message_iter_append_basic(&v, DBUS_TYPE_DOUBLE, &d);
	dbus_message_iter_close_container(&it, &v);
	assert_true(dbus_message_marshal(m, &bytes, &len));
	assert_true(wire_read_message(&r, &sig, bytes, (size_t)len));
	assert_string_equal(sig, "(id)a{si}v");
	for (int k = 0; k < 3; k++)
		assert_true(wire_read_skip(&r, &sig));
	assert_int_equal(*sig, '\0');
	assert_int_equal(r.pos, r.len);
	dbus_free(bytes);
	dbus_message_unref(m);
}

/* The header: a message without a body has the empty signature; the
 * fixed part and the length must be right. */
static void test_header(void **state)
{
	(void)state;
	DBusMessage *m = dbus_message_new_signal("/a/long/path/to/pad/the/header", "com.example.If", "Member");
	struct wire_reader r;
	const char *sig;
	char *bytes;
	int len;

	dbus_message_set_sender(m, ":1.42");
	assert_true(dbus_message_marshal(m, &bytes, &len));
	assert_true(wire_read_message(&r, &sig, bytes, (size_t)len));
	assert_string_equal(sig, "");
	assert_int_equal(r.len, 0);

	char *copy = malloc((size_t)len + 1);

	memcpy(copy, bytes, (size_t)len);
	copy[len] = 0;
	assert_false(wire_read_message(&r, &sig, copy, (size_t)len + 1)); /* a byte too many */
	copy[0] = 'x';
	assert_false(wire_read_message(&r, &sig, copy, (size_t)len)); /* no byte order */
	copy[0] = 'l';
	copy[3] = 2;
	assert_false(wire_read_message(&r, &sig, copy, (size_t)len)); /* another version */
	copy[3] = 1;
	assert_true(wire_read_message(&r, &sig, copy, (size_t)len));
	copy[4] = 8; /* a body longer than the bytes */
	assert_false(wire_read_message(&r, &sig, copy, (size_t)len));
	free(copy);
	dbus_free(bytes);
	dbus_message_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_types_libdbus), cmocka_unit_test(test_basic_types_both_orders),
		cmocka_unit_test(test_containers_skipped),  cmocka_unit_test(test_containers_libdbus),
		cmocka_unit_test(test_skip_by_signature),   cmocka_unit_test(test_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
