/* SPDX-License-Identifier: MIT */
/* Steps of the wire reader's tests (read_steps.h). */
#include "read_steps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

bool read_body(struct wire_reader *r, struct read_items *out)
{
	size_t end, props;

	out->n = 0;
	if (!wire_read_array(r, 8, &end))
		return false;
	while (r->pos < end) {
		const char *path;

		if (!wire_read_align(r, 8) || !wire_read_string(r, &path) || !wire_read_array(r, 8, &props))
			return false;
		while (r->pos < props) {
			struct read_prop *p = &out->p[out->n < READ_PROPS_MAX ? out->n++ : READ_PROPS_MAX - 1];

			p->path = path;
			if (!wire_read_align(r, 8) || !wire_read_string(r, &p->key) || !wire_read_variant(r, &p->v))
				return false;
		}
		if (r->pos != props)
			return false;
	}
	return r->pos == end && end == r->len;
}

bool read_items(const void *bytes, size_t len, struct read_items *out)
{
	struct wire_reader r;
	const char *sig;

	out->n = 0;
	return wire_read_message(&r, &sig, bytes, len) && strcmp(sig, "a{sa{sv}}") == 0 && read_body(&r, out);
}

void read_check_case(const struct wire_value *v, const struct read_case *c)
{
	assert_int_equal(v->type, c->type);
	switch (c->type) {
	case 't':
		assert_true(v->v.t == c->t);
		break;
	case 'd':
		assert_true(v->v.d == c->d);
		break;
	case 's':
	case 'o':
	case 'g':
		assert_string_equal(v->v.s, c->s);
		break;
	default:
		assert_true(v->v.i == c->i);
		break;
	}
}

/* Open {path: {key: <sig>...}}: the variant's iterator is it[4]. */
static void open_prop(DBusMessageIter *it, const char *path, const char *key, const char *sig)
{
	dbus_message_iter_open_container(&it[0], DBUS_TYPE_DICT_ENTRY, NULL, &it[1]);
	dbus_message_iter_append_basic(&it[1], DBUS_TYPE_STRING, &path);
	dbus_message_iter_open_container(&it[1], DBUS_TYPE_ARRAY, "{sv}", &it[2]);
	dbus_message_iter_open_container(&it[2], DBUS_TYPE_DICT_ENTRY, NULL, &it[3]);
	dbus_message_iter_append_basic(&it[3], DBUS_TYPE_STRING, &key);
	dbus_message_iter_open_container(&it[3], DBUS_TYPE_VARIANT, sig, &it[4]);
}

/* Close the variant and the property; with next, open another property
 * of the same entry (key, sig), else close the entry. */
static void close_prop(DBusMessageIter *it, const char *key, const char *sig)
{
	dbus_message_iter_close_container(&it[3], &it[4]);
	dbus_message_iter_close_container(&it[2], &it[3]);
	if (key) {
		dbus_message_iter_open_container(&it[2], DBUS_TYPE_DICT_ENTRY, NULL, &it[3]);
		dbus_message_iter_append_basic(&it[3], DBUS_TYPE_STRING, &key);
		dbus_message_iter_open_container(&it[3], DBUS_TYPE_VARIANT, sig, &it[4]);
		return;
	}
	dbus_message_iter_close_container(&it[1], &it[2]);
	dbus_message_iter_close_container(&it[0], &it[1]);
}

static DBusMessage *items_new(DBusMessageIter *top, DBusMessageIter *arr)
{
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");

	dbus_message_set_serial(m, 5);
	dbus_message_iter_init_append(m, top);
	dbus_message_iter_open_container(top, DBUS_TYPE_ARRAY, "{sa{sv}}", arr);
	return m;
}

DBusMessage *read_libdbus_cases(const struct read_case *cases, size_t n)
{
	DBusMessageIter top, it[5];
	DBusMessage *m = items_new(&top, &it[0]);

	for (size_t k = 0; k < n; k++) {
		const struct read_case *c = &cases[k];
		char sig[2] = { c->type, '\0' };
		union {
			uint8_t y;
			dbus_bool_t b;
			int16_t n;
			uint16_t q;
			int32_t i;
			uint32_t u;
			int64_t x;
			uint64_t t;
			double d;
			const char *s;
		} v;

		switch (c->type) {
		case 'y':
			v.y = (uint8_t)c->i;
			break;
		case 'b':
			v.b = (dbus_bool_t)c->i;
			break;
		case 'n':
			v.n = (int16_t)c->i;
			break;
		case 'q':
			v.q = (uint16_t)c->i;
			break;
		case 'i':
			v.i = (int32_t)c->i;
			break;
		case 'u':
			v.u = (uint32_t)c->i;
			break;
		case 'x':
			v.x = c->i;
			break;
		case 't':
			v.t = c->t;
			break;
		case 'd':
			v.d = c->d;
			break;
		default:
			v.s = c->s;
			break;
		}
		open_prop(it, c->path, "Value", sig);
		dbus_message_iter_append_basic(&it[4], c->type, &v);
		close_prop(it, NULL, NULL);
	}
	dbus_message_iter_close_container(&top, &it[0]);
	return m;
}

void read_wb_cases(struct wb *msg, bool big, const struct read_case *cases, size_t n)
{
	struct wb body;
	struct wb_array items, props;

	wb_init(&body, big);
	wb_init(msg, big);
	wb_items_begin(&body, &items);
	for (size_t k = 0; k < n; k++) {
		const struct read_case *c = &cases[k];

		wb_item_begin(&body, &props, c->path);
		wb_key(&body, "Value");
		wb_sig(&body, (char[]){ c->type, '\0' });
		switch (c->type) {
		case 'y':
			wb_u8(&body, (uint8_t)c->i);
			break;
		case 'n':
		case 'q':
			wb_u16(&body, (uint16_t)c->i);
			break;
		case 'b':
		case 'i':
		case 'u':
			wb_u32(&body, (uint32_t)c->i);
			break;
		case 'x':
			wb_u64(&body, (uint64_t)c->i);
			break;
		case 't':
			wb_u64(&body, c->t);
			break;
		case 'd':
			wb_double(&body, c->d);
			break;
		case 'g':
			wb_sig(&body, c->s);
			break;
		default:
			wb_string(&body, c->s);
			break;
		}
		wb_item_end(&body, &props);
	}
	wb_items_end(&body, &items);
	wb_message(msg, "a{sa{sv}}", &body, 7);
	wb_free(&body);
}

const char *const read_containers[READ_CONTAINERS] = {
	"ai", "ai", "ad", "ad",    "ay",  "a{sv}", "(is)", "(y(dv))",
	"v",  "v",  "as", "a(yd)", "aai", "(ady)", /* the padding of an empty array of doubles, then a byte */
};

/* Container k's value by wire_build (after its signature). */
static void wb_container(struct wb *w, unsigned k)
{
	struct wb_array a, b;

	switch (k) {
	case 0: /* empty */
	case 2:
	case 11:
		a.slot = wb_array_begin(w, k == 0 ? 4 : 8, &a.start);
		break;
	case 1:
	case 12:
		a.slot = wb_array_begin(w, 4, &a.start);
		for (uint32_t i = 1; i <= 3; i++) {
			if (k == 1) {
				wb_u32(w, i);
				continue;
			}
			b.slot = wb_array_begin(w, 4, &b.start);
			if (i == 1)
				wb_u32(w, 1);
			wb_array_end(w, b.slot, b.start);
		}
		break;
	case 3:
		a.slot = wb_array_begin(w, 8, &a.start);
		wb_double(w, 1.5);
		break;
	case 4:
		a.slot = wb_array_begin(w, 1, &a.start);
		wb_u8(w, 1), wb_u8(w, 2), wb_u8(w, 3);
		break;
	case 5:
		a.slot = wb_array_begin(w, 8, &a.start);
		wb_key(w, "k");
		wb_sig(w, "y");
		wb_u8(w, 7);
		break;
	case 6:
		wb_align(w, 8);
		wb_u32(w, 0xfffffff9);
		wb_string(w, "seven");
		return;
	case 7:
		wb_align(w, 8);
		wb_u8(w, 1);
		wb_align(w, 8);
		wb_double(w, 2.5);
		wb_sig(w, "q");
		wb_u16(w, 3);
		return;
	case 8:
		wb_sig(w, "i");
		wb_u32(w, 7);
		return;
	case 9:
		wb_sig(w, "ai");
		a.slot = wb_array_begin(w, 4, &a.start);
		break;
	case 13:
		wb_align(w, 8);
		a.slot = wb_array_begin(w, 8, &a.start);
		wb_array_end(w, a.slot, a.start);
		wb_u8(w, 9);
		return;
	default: /* 10 */
		a.slot = wb_array_begin(w, 4, &a.start);
		wb_string(w, "a");
		wb_string(w, "bc");
		break;
	}
	wb_array_end(w, a.slot, a.start);
}

void read_wb_containers(struct wb *body)
{
	struct wb_array items, props;
	char path[8];

	wb_items_begin(body, &items);
	for (unsigned k = 0; k < READ_CONTAINERS; k++) {
		snprintf(path, sizeof(path), "/c%u", k);
		wb_item_begin(body, &props, path);
		wb_key(body, "Value");
		wb_sig(body, read_containers[k]);
		wb_container(body, k);
		wb_key(body, "Text");
		wb_sig(body, "d");
		wb_double(body, 100.5 + k);
		wb_item_end(body, &props);
	}
	wb_items_end(body, &items);
}

/* Container k's value by libdbus, into var. */
static void libdbus_container(DBusMessageIter *var, unsigned k)
{
	static const char *elem[READ_CONTAINERS] = { "i",  "i",  "d",  "d", "y",    "{sv}", NULL,
						     NULL, NULL, NULL, "s", "(yd)", "ai",   NULL };
	DBusMessageIter a, b, c;
	int32_t i = 7, i3[] = { 1, 2, 3 }, seven = -7;
	const int32_t *pi = i3;
	uint8_t y[] = { 1, 2, 3 }, one = 1, y7 = 7;
	const uint8_t *py = y;
	double d = 1.5, d25 = 2.5;
	uint16_t q = 3;
	const char *s = "seven", *key = "k", *sa[] = { "a", "bc" };

	if (k == 6 || k == 7 || k == 13) {
		dbus_message_iter_open_container(var, DBUS_TYPE_STRUCT, NULL, &a);
		if (k == 13) {
			dbus_message_iter_open_container(&a, DBUS_TYPE_ARRAY, "d", &b);
			dbus_message_iter_close_container(&a, &b);
			dbus_message_iter_append_basic(&a, DBUS_TYPE_BYTE, &y[2]);
		} else if (k == 6) {
			dbus_message_iter_append_basic(&a, DBUS_TYPE_INT32, &seven);
			dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &s);
		} else {
			dbus_message_iter_append_basic(&a, DBUS_TYPE_BYTE, &one);
			dbus_message_iter_open_container(&a, DBUS_TYPE_STRUCT, NULL, &b);
			dbus_message_iter_append_basic(&b, DBUS_TYPE_DOUBLE, &d25);
			dbus_message_iter_open_container(&b, DBUS_TYPE_VARIANT, "q", &c);
			dbus_message_iter_append_basic(&c, DBUS_TYPE_UINT16, &q);
			dbus_message_iter_close_container(&b, &c);
			dbus_message_iter_close_container(&a, &b);
		}
		dbus_message_iter_close_container(var, &a);
		return;
	}
	if (k == 8 || k == 9) {
		dbus_message_iter_open_container(var, DBUS_TYPE_VARIANT, k == 8 ? "i" : "ai", &a);
		if (k == 8)
			dbus_message_iter_append_basic(&a, DBUS_TYPE_INT32, &i);
		else
			libdbus_container(&a, 0);
		dbus_message_iter_close_container(var, &a);
		return;
	}
	dbus_message_iter_open_container(var, DBUS_TYPE_ARRAY, elem[k], &a);
	switch (k) {
	case 1:
		dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_INT32, &pi, 3);
		break;
	case 3:
		dbus_message_iter_append_basic(&a, DBUS_TYPE_DOUBLE, &d);
		break;
	case 4:
		dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &py, 3);
		break;
	case 5:
		dbus_message_iter_open_container(&a, DBUS_TYPE_DICT_ENTRY, NULL, &b);
		dbus_message_iter_append_basic(&b, DBUS_TYPE_STRING, &key);
		dbus_message_iter_open_container(&b, DBUS_TYPE_VARIANT, "y", &c);
		dbus_message_iter_append_basic(&c, DBUS_TYPE_BYTE, &y7);
		dbus_message_iter_close_container(&b, &c);
		dbus_message_iter_close_container(&a, &b);
		break;
	case 10:
		dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &sa[0]);
		dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &sa[1]);
		break;
	case 12:
		for (int n = 0; n < 3; n++) {
			dbus_message_iter_open_container(&a, DBUS_TYPE_ARRAY, "i", &b);
			if (n == 0)
				dbus_message_iter_append_basic(&b, DBUS_TYPE_INT32, &pi[0]);
			dbus_message_iter_close_container(&a, &b);
		}
		break;
	default: /* empty */
		break;
	}
	dbus_message_iter_close_container(var, &a);
}

DBusMessage *read_libdbus_containers(void)
{
	DBusMessageIter top, it[5];
	DBusMessage *m = items_new(&top, &it[0]);
	char path[8];

	for (unsigned k = 0; k < READ_CONTAINERS; k++) {
		double d = 100.5 + k;

		snprintf(path, sizeof(path), "/c%u", k);
		open_prop(it, path, "Value", read_containers[k]);
		libdbus_container(&it[4], k);
		close_prop(it, "Text", "d");
		dbus_message_iter_append_basic(&it[4], DBUS_TYPE_DOUBLE, &d);
		close_prop(it, NULL, NULL);
	}
	dbus_message_iter_close_container(&top, &it[0]);
	return m;
}
