/* SPDX-License-Identifier: MIT */
/*
 * The BusItem tree's texts and the wire writer under them (busitem.c,
 * busitem_encode.c, dbus_wire.c): the text formats busitem_add() accepts
 * and refuses, number texts against printf, and libdbus refusing bad
 * bytes. Replies are checked against GDBus (busitem_steps.c). The messages
 * and signals: test_busitem.c.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "busitem.h"
#include "busitem_steps.h"
#include "dbus_wire.h"

/* ---- text formats --------------------------------------------------------- */

struct accepted {
	enum busitem_type type;
	const char *fmt;
	double v; /* for ints: converted */
	const char *text;
};

static void test_formats_accepted(void **state)
{
	static const struct accepted cases[] = {
		{ BUSITEM_INT, NULL, 42, "42" },
		{ BUSITEM_INT, NULL, -7, "-7" },
		{ BUSITEM_INT, "%d", INT32_MIN, "-2147483648" },
		{ BUSITEM_INT, "%dW", 250, "250W" },
		{ BUSITEM_INT, "%d%%", 5, "5%" },
		{ BUSITEM_INT, "0x%X", 0xFFFF, "0xFFFF" },
		{ BUSITEM_INT, "0x%X", -1, "0xFFFFFFFF" },
		{ BUSITEM_INT, "%X", 0, "0" },
		{ BUSITEM_INT, "№ %d of 16 ✓", 3, "№ 3 of 16 ✓" },
		{ BUSITEM_DOUBLE, NULL, 0.1, "0.1" },
		{ BUSITEM_DOUBLE, NULL, 1e20, "1e+20" },
		{ BUSITEM_DOUBLE, "%.0f%%", 99.5, "100%" },
		{ BUSITEM_DOUBLE, "%.0f%%", 98.5, "99%" }, /* the value is rounded first, a tie away from 0 */
		{ BUSITEM_DOUBLE, "%.2fV", 53.2, "53.20V" },
		{ BUSITEM_DOUBLE, "%.3fV", 3.2994999, "3.299V" },
		{ BUSITEM_DOUBLE, "%.1f°C", -0.04, "0.0°C" },    /* never "-0" */
		{ BUSITEM_DOUBLE, "%.1f°C", -12.35, "-12.4°C" }, /* -12.35 * 10 is the tie -123.5 */
		{ BUSITEM_DOUBLE, "%.6f", 1, "1.000000" },
		{ BUSITEM_DOUBLE, "%.0fs", 1e15, "1000000000000000s" },
		{ BUSITEM_DOUBLE, "%.2fAh", -1e300, NULL }, /* checked against printf below */
		{ BUSITEM_DOUBLE, "≈%.1fkWh", 2.25, "≈2.3kWh" },
		{ BUSITEM_DOUBLE, "%%%.1f%%", 2.35, "%2.4%" },
		{ BUSITEM_STRING, NULL, 0, "x" },
	};

	(void)state;
	errors_logged = 0;
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct accepted *c = &cases[k];
		struct busitem_tree *t = busitem_tree_new(NULL, false);
		struct busitem *it = busitem_add(t, "/X", c->type, c->fmt, NULL, NULL);
		char want[400];

		assert_non_null(it);
		if (c->type == BUSITEM_INT)
			busitem_set_int(it, (int32_t)c->v);
		else if (c->type == BUSITEM_DOUBLE)
			busitem_set_double(it, c->v);
		else
			busitem_set_string(it, c->text);
		if (c->text)
			snprintf(want, sizeof(want), "('%s',)", c->text);
		else
			snprintf(want, sizeof(want), "('%.2fAh',)", c->v);
		expect_reply(t, "/X", "GetText", want);
		busitem_tree_free(t);
	}
	if (errors_logged)
		fail_msg("logged: %s", last_error);
}

struct refused {
	enum busitem_type type;
	const char *fmt;
};

static void test_formats_refused(void **state)
{
	static const struct refused cases[] = {
		{ BUSITEM_INT, "" },
		{ BUSITEM_INT, "W" },
		{ BUSITEM_INT, "%" },
		{ BUSITEM_INT, "%s" },
		{ BUSITEM_INT, "%x" },
		{ BUSITEM_INT, "%i" },
		{ BUSITEM_INT, "%u" },
		{ BUSITEM_INT, "%ld" },
		{ BUSITEM_INT, "%5d" },
		{ BUSITEM_INT, "%-d" },
		{ BUSITEM_INT, "%+d" },
		{ BUSITEM_INT, "%d %d" },
		{ BUSITEM_INT, "%d%" },
		{ BUSITEM_INT, "%%d" },
		{ BUSITEM_INT, "%.2f" },
		{ BUSITEM_INT, "0x%X\xff" },
		{ BUSITEM_DOUBLE, "" },
		{ BUSITEM_DOUBLE, "%f" },
		{ BUSITEM_DOUBLE, "%.f" },
		{ BUSITEM_DOUBLE, "%.7f" },
		{ BUSITEM_DOUBLE, "%.10f" },
		{ BUSITEM_DOUBLE, "%.2e" },
		{ BUSITEM_DOUBLE, "%g" },
		{ BUSITEM_DOUBLE, "%d" },
		{ BUSITEM_DOUBLE, "%8.2f" },
		{ BUSITEM_DOUBLE, "%.2fV%" },
		{ BUSITEM_DOUBLE, "%.2f%.2f" },
		{ BUSITEM_DOUBLE, "%.2fV\xc3" },
		{ BUSITEM_STRING, "%s" },
		{ BUSITEM_STRING, "" },
		{ BUSITEM_STRING, "text" },
	};

	(void)state;
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct busitem_tree *t = busitem_tree_new(NULL, false);

		errors_logged = 0;
		assert_null(busitem_add(t, "/X", cases[k].type, cases[k].fmt, NULL, NULL));
		assert_int_equal(errors_logged, 1);
		assert_non_null(strstr(last_error, "/X: bad text format"));
		assert_non_null(strstr(last_error, "want"));
		assert_null(busitem_find(t, "/X"));
		assert_non_null(busitem_add(t, "/X", cases[k].type, NULL, NULL, NULL));
		busitem_tree_free(t);
	}
	errors_logged = 0;
}

/* ---- number texts against printf ------------------------------------------ */

/* The string the writer wrote at the start of w. */
static const char *wire_text(const struct wire *w)
{
	assert_int_equal(le32(w->buf) + 5, w->len);
	assert_int_equal(w->buf[w->len - 1], 0);
	return (const char *)w->buf + 4;
}

static void check_fixed(struct wire *w, double v, int decimals)
{
	char want[400];
	int n = snprintf(want, sizeof(want), "<%.*f>", decimals, v);

	if (want[1] == '-' && strspn(want + 2, "0.") == (size_t)n - 3) /* "-0.00": we never write it */
		memmove(want + 1, want + 2, (size_t)n - 1);
	w->len = 0;
	wire_text_fixed(w, "<", v, decimals, ">");
	if (strcmp(wire_text(w), want) != 0)
		fail_msg("%.17g with %d decimals: %s, printf %s", v, decimals, wire_text(w), want);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_number_texts(void **state)
{
	static const double special[] = {
		0,    -0.0,  0.5,   1.5,    2.5,     -2.5,    0.125,      0.375,          1.005, 2.675,
		1e-7, -1e-7, 0.05,  -0.05,  53.2,    3.3445,  123456.789, 999999.9999995, 1e14,  9.99999999e14,
		1e15, -1e15, 1e300, -1e300, DBL_MAX, DBL_MIN, INFINITY,   -INFINITY,      NAN,
	};
	struct wire w;

	(void)state;
	wire_init(&w);
	for (int d = 0; d <= 6; d++) {
		for (unsigned k = 0; k < sizeof(special) / sizeof(special[0]); k++)
			check_fixed(&w, special[k], d);
		for (unsigned k = 0; k < 3000; k++) {
			uint64_t r = next_random();
			double mant = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
			double v = ldexp(mant, (int)(r % 60) - 20) * ((r >> 8) & 1 ? -1 : 1);

			check_fixed(&w, v, d);
			/* Ties and near-ties: multiples of 2^-m, and their neighbours. */
			double tie = ldexp((double)(r % 100000), -(int)(r % 9));

			check_fixed(&w, tie, d);
			check_fixed(&w, nextafter(tie, INFINITY), d);
			check_fixed(&w, nextafter(tie, -INFINITY), d);
		}
	}

	const int32_t ints[] = { 0, 1, -1, 9, 10, INT32_MAX, INT32_MIN, 0xFFFF, -65536 };
	char want[64];

	for (unsigned k = 0; k < sizeof(ints) / sizeof(ints[0]) + 2000; k++) {
		int32_t v = k < sizeof(ints) / sizeof(ints[0]) ? ints[k] : (int32_t)next_random();

		w.len = 0;
		wire_text_int(&w, "", v, false, "°");
		snprintf(want, sizeof(want), "%d°", v);
		assert_string_equal(wire_text(&w), want);
		w.len = 0;
		wire_text_int(&w, "0x", v, true, "");
		snprintf(want, sizeof(want), "0x%X", (unsigned)v);
		assert_string_equal(wire_text(&w), want);
	}
	wire_free(&w);
}

/* ---- the writer's own checks ------------------------------------------------ */

static void test_wire_refused(void **state)
{
	struct wire w;

	(void)state;
	wire_init(&w);
	/* Well formed: accepted, and what was written is what libdbus reads. */
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "sid");
	wire_string(&w, "ok");
	wire_i32(&w, -3);
	wire_double(&w, 0.5);

	DBusMessage *m = wire_finish(&w, 9);

	assert_non_null(m);
	assert_int_equal(dbus_message_get_serial(m), 9);
	assert_body(m, "('ok', -3, 0.5)");
	dbus_message_unref(m);

	/* Invalid UTF-8, a body that does not match its signature, serial 0. */
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "s");
	wire_string(&w, "a\xff");
	assert_null(wire_finish(&w, 1));
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "s");
	wire_i32(&w, 1000);
	assert_null(wire_finish(&w, 1));
	wire_begin_signal(&w, "/A", IFACE, "ItemsChanged", "i");
	wire_i32(&w, 1);
	assert_null(wire_finish(&w, 0));
	wire_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_accepted),
		cmocka_unit_test(test_formats_refused),
		cmocka_unit_test(test_number_texts),
		cmocka_unit_test(test_wire_refused),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
