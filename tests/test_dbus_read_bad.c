/* SPDX-License-Identifier: MIT */
/*
 * The wire reader (include/io/dbus_read.h) on bytes that are not a right
 * message: cut at every length, every length field and byte changed, bad
 * variant signatures, nesting too deep. Each buffer is allocated at its
 * exact size, so under ASan a read past it fails the test. The rule: the
 * reader refuses, or (for bytes libdbus also accepts) reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dbus/dbus.h>

#include "dbus_read.h"
#include "read_steps.h"
#include "wire_build.h"

static uint8_t *copy_of(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

/* The message with the containers (every kind of skip), of either order. */
static void containers_message(struct wb *msg, bool big)
{
	struct wb body;

	wb_init(&body, big);
	wb_init(msg, big);
	read_wb_containers(&body);
	wb_message(msg, "a{sa{sv}}", &body, 3);
	wb_free(&body);
}

static void put_u32_at(uint8_t *p, uint32_t v, bool big)
{
	for (int k = 0; k < 4; k++)
		p[big ? 3 - k : k] = (uint8_t)(v >> (8 * k));
}

/* Cut at every length: refused; also with the header's body length made
 * to match the cut, so that the body's own lengths are what refuses it. */
static void test_truncated_message(void **state)
{
	(void)state;
	for (int big = 0; big <= 1; big++) {
		struct wb msg;
		struct read_items got;
		struct wire_reader r;
		const char *sig;

		containers_message(&msg, big);
		assert_true(read_items(msg.buf, msg.len, &got));
		assert_true(wire_read_message(&r, &sig, msg.buf, msg.len));
		size_t body_at = msg.len - r.len;

		for (size_t len = 0; len < msg.len; len++) {
			uint8_t *cut = copy_of(msg.buf, len);

			assert_false(read_items(cut, len, &got));
			if (len >= body_at) {
				put_u32_at(cut + 4, (uint32_t)(len - body_at), big);
				assert_true(wire_read_message(&r, &sig, cut, len));
				assert_false(read_body(&r, &got));
				assert_true(r.pos <= r.len);
			}
			free(cut);
		}
		wb_free(&msg);
	}
}

/* Every variant of a body read alone from a buffer that ends inside it:
 * refused at every length, whatever its type. */
static void cut_each_variant(const struct wb *body)
{
	struct wire_reader r;
	size_t starts[READ_PROPS_MAX], ends[READ_PROPS_MAX], n = 0, end, props;

	wire_read_init(&r, body->buf, body->len, body->big);
	assert_true(wire_read_array(&r, 8, &end));
	while (r.pos < end) {
		const char *path, *key;
		struct wire_value v;

		assert_true(wire_read_align(&r, 8) && wire_read_string(&r, &path) && wire_read_array(&r, 8, &props));
		while (r.pos < props) {
			assert_true(wire_read_align(&r, 8) && wire_read_string(&r, &key));
			assert_true(n < READ_PROPS_MAX);
			starts[n] = r.pos;
			assert_true(wire_read_variant(&r, &v));
			ends[n++] = r.pos;
		}
	}
	assert_true(n > 0);
	for (size_t k = 0; k < n; k++) {
		for (size_t len = starts[k]; len < ends[k]; len++) {
			uint8_t *cut = copy_of(body->buf, len);
			struct wire_value v;

			wire_read_init(&r, cut, len, body->big);
			r.pos = starts[k];
			assert_false(wire_read_variant(&r, &v));
			free(cut);
		}
	}
}

static void test_truncated_variants(void **state)
{
	(void)state;
	static const struct read_case cases[] = {
		{ "/y", 'y', .i = 1 },       { "/n", 'n', .i = 2 }, { "/i", 'i', .i = 3 },
		{ "/x", 'x', .i = 4 },       { "/d", 'd', .d = 5 }, { "/s", 's', .s = "six" },
		{ "/g", 'g', .s = "a{sv}" }, { "/b", 'b', .i = 1 }, { "/s0", 's', .s = "" },
	};

	for (int big = 0; big <= 1; big++) {
		struct wb body;

		wb_init(&body, big);
		read_wb_containers(&body);
		cut_each_variant(&body);
		wb_free(&body);

		struct wb msg;
		struct wire_reader r;
		const char *sig;

		read_wb_cases(&msg, big, cases, sizeof(cases) / sizeof(cases[0]));
		assert_true(wire_read_message(&r, &sig, msg.buf, msg.len));
		body.buf = (uint8_t *)r.buf, body.len = r.len, body.big = big;
		cut_each_variant(&body);
		wb_free(&msg);
	}
}

/* One byte or one u32 changed anywhere: the reader never reads outside
 * the bytes, and reads whatever libdbus accepts. */
static void check_changed(const uint8_t *bytes, size_t len)
{
	uint8_t *c = copy_of(bytes, len);
	struct read_items got;
	bool ours = read_items(c, len, &got);
	DBusMessage *m = dbus_message_demarshal((const char *)c, (int)len, NULL);

	if (m && dbus_message_has_signature(m, "a{sa{sv}}"))
		assert_true(ours);
	if (m)
		dbus_message_unref(m);
	free(c);
}

static void test_changed_bytes(void **state)
{
	(void)state;
	static const uint8_t bytes[] = { 0, 1, 2, 3, 7, 8, 0x7f, 0x80, 0xff, 'a', '(', ')', '{', '}', 'v', 'i', 'd' };
	static const uint32_t words[] = { 0, 1, 4, 8, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff };

	for (int big = 0; big <= 1; big++) {
		struct wb msg;

		containers_message(&msg, big);
		uint8_t *c = copy_of(msg.buf, msg.len);

		for (size_t at = 0; at < msg.len; at++) {
			for (size_t k = 0; k < sizeof(bytes); k++) {
				c[at] = bytes[k];
				check_changed(c, msg.len);
			}
			c[at] = msg.buf[at];
		}
		for (size_t at = 0; at + 4 <= msg.len; at += 4) {
			for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
				put_u32_at(c + at, words[k], big);
				check_changed(c, msg.len);
			}
			memcpy(c + at, msg.buf + at, 4);
		}
		free(c);
		wb_free(&msg);
	}
}

/* A body of one property {"/p": {"Value": <sig>...}}: the signature as
 * written, then 32 bytes of ones for whatever value it names. */
static bool read_with_signature(const char *sig, struct wire_value *v)
{
	struct wb body;
	struct wb_array items, props;
	struct wire_reader r;
	size_t end;
	const char *key, *path;

	wb_init(&body, false);
	wb_items_begin(&body, &items);
	wb_item_begin(&body, &props, "/p");
	wb_key(&body, "Value");
	wb_sig(&body, sig);
	for (int k = 0; k < 32; k++)
		wb_u8(&body, 1);
	wb_item_end(&body, &props);
	wb_items_end(&body, &items);
	wire_read_init(&r, body.buf, body.len, false);
	assert_true(wire_read_array(&r, 8, &end) && wire_read_align(&r, 8) && wire_read_string(&r, &path));
	assert_true(wire_read_array(&r, 8, &end) && wire_read_align(&r, 8) && wire_read_string(&r, &key));
	bool ok = wire_read_variant(&r, v);

	wb_free(&body);
	return ok;
}

static void test_bad_signatures(void **state)
{
	(void)state;
	static const char *const bad[] = { "",       "a",  "(", "()",  "(i", "{sv}", "a{vs}", "a{s}",
					   "a{sii}", "ii", "z", "a(i", ")",  "a{ii", "av)",   "\x01" };
	struct wire_value v;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		if (read_with_signature(bad[k], &v))
			fail_msg("signature \"%s\" read", bad[k]);
	}
	assert_true(read_with_signature("h", &v)); /* a file descriptor's index is a u32 */
	assert_int_equal(v.type, 'h');
	assert_true(v.v.i == 0x01010101);
}

/* A string, a path or a signature without its NUL, last in the bytes: the
 * reader would run past them. */
static void test_missing_nul(void **state)
{
	(void)state;
	static const char *const sigs[] = { "s", "o", "g" };

	for (size_t k = 0; k < 3; k++) {
		struct wb body;
		struct wb_array items, props;
		struct read_items got;
		struct wire_reader r;

		wb_init(&body, k == 1);
		wb_items_begin(&body, &items);
		wb_item_begin(&body, &props, "/p");
		wb_key(&body, "Value");
		wb_sig(&body, sigs[k]);
		if (k == 2)
			wb_sig(&body, "ai");
		else
			wb_string(&body, "/abc");
		wb_item_end(&body, &props);
		wb_items_end(&body, &items);
		wire_read_init(&r, body.buf, body.len, body.big);
		assert_true(read_body(&r, &got));
		assert_int_equal(got.p[0].v.type, sigs[k][0]);
		body.buf[body.len - 1] = 'x';
		uint8_t *c = copy_of(body.buf, body.len);

		wire_read_init(&r, c, body.len, body.big);
		assert_false(read_body(&r, &got));
		free(c);
		wb_free(&body);
	}
}

/* A Value of n variants in each other, around an int32, in msg. */
static void nested_variants(struct wb *msg, unsigned n, bool big)
{
	struct wb body;
	struct wb_array items, props;

	wb_init(&body, big);
	wb_init(msg, big);
	wb_items_begin(&body, &items);
	wb_item_begin(&body, &props, "/p");
	wb_key(&body, "Value");
	for (unsigned k = 0; k < n; k++)
		wb_sig(&body, "v");
	wb_sig(&body, "i");
	wb_u32(&body, 42);
	wb_item_end(&body, &props);
	wb_items_end(&body, &items);
	wb_message(msg, "a{sa{sv}}", &body, 1);
	wb_free(&body);
}

/* As deep as libdbus accepts, read; much deeper, refused (not a stack
 * overflow). */
static void test_nesting(void **state)
{
	(void)state;
	unsigned accepted = 0;

	for (unsigned n = 0; n <= 80; n++) {
		struct wb msg;
		struct read_items got;

		nested_variants(&msg, n, n % 2);
		DBusMessage *m = dbus_message_demarshal((const char *)msg.buf, (int)msg.len, NULL);

		if (m) {
			accepted = n;
			assert_true(read_items(msg.buf, msg.len, &got));
			assert_int_equal(got.p[0].v.type, n ? 'v' : 'i');
			assert_true(got.p[0].v.v.i == 42);
			dbus_message_unref(m);
		}
		wb_free(&msg);
	}
	assert_true(accepted >= 50 && accepted < 80);

	struct wb msg;
	struct read_items got;

	nested_variants(&msg, 5000, false);
	assert_false(read_items(msg.buf, msg.len, &got));
	wb_free(&msg);

	/* Signatures nested deeper than D-Bus allows. */
	char sig[256];
	struct wire_value v;

	memset(sig, '(', 127);
	sig[127] = 'i';
	memset(sig + 128, ')', 127);
	sig[255] = '\0';
	assert_false(read_with_signature(sig, &v));
	memset(sig, 'a', 254);
	sig[254] = 'i';
	sig[255] = '\0';
	assert_false(read_with_signature(sig, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_message), cmocka_unit_test(test_truncated_variants),
		cmocka_unit_test(test_changed_bytes),     cmocka_unit_test(test_bad_signatures),
		cmocka_unit_test(test_missing_nul),       cmocka_unit_test(test_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
