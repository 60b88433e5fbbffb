/* SPDX-License-Identifier: MIT */
/* Fuzz input -> a BusItem method call with arguments of every D-Bus type. */
#include "setvalue_recipe.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 6
#define SIG_ROOM 180 /* a signature stops growing containers here (< 256) */

struct src {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct src *s)
{
	if (!s->n)
		return 0;
	s->n--;
	return *s->p++;
}

static uint64_t take_n(struct src *s, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned k = 0; k < bytes; k++)
		v |= (uint64_t)take(s) << (8 * k);
	return v;
}

static const char basics[] = "ybnqiuxtdsogh";
#define N_BASICS (sizeof(basics) - 1)

/* One complete type into buf at *len. */
static void gen_sig(struct src *s, char *buf, size_t *len, int depth)
{
	unsigned t = take(s) % (N_BASICS + 5);

	if (t < N_BASICS || depth >= MAX_DEPTH || *len >= SIG_ROOM) {
		buf[(*len)++] = basics[t % N_BASICS];
		return;
	}
	switch (t - N_BASICS) {
	case 0:
	case 1:
		buf[(*len)++] = 'a';
		gen_sig(s, buf, len, depth + 1);
		break;
	case 2:
		buf[(*len)++] = 'a';
		buf[(*len)++] = '{';
		buf[(*len)++] = basics[take(s) % N_BASICS];
		gen_sig(s, buf, len, depth + 1);
		buf[(*len)++] = '}';
		break;
	case 3: {
		unsigned fields = 1 + take(s) % 3;

		buf[(*len)++] = '(';
		for (unsigned k = 0; k < fields; k++)
			gen_sig(s, buf, len, depth + 1);
		buf[(*len)++] = ')';
		break;
	}
	default:
		buf[(*len)++] = 'v';
		break;
	}
}

static void append_basic(DBusMessageIter *it, int type, struct src *s)
{
	static const char *const paths[] = { "/", "/CustomName", "/a/b_c/0" };
	static const char *const sigs[] = { "", "a{sv}", "v", "(ii)aai" };
	static int fd = -1;
	DBusBasicValue b;
	char str[4097];

	memset(&b, 0, sizeof(b));
	switch (type) {
	case DBUS_TYPE_BOOLEAN:
		b.bool_val = take(s) & 1;
		break;
	case DBUS_TYPE_BYTE:
		b.byt = (unsigned char)take(s);
		break;
	case DBUS_TYPE_INT16:
	case DBUS_TYPE_UINT16:
		b.u16 = (uint16_t)take_n(s, 2);
		break;
	case DBUS_TYPE_INT32:
	case DBUS_TYPE_UINT32:
		b.u32 = (uint32_t)take_n(s, 4);
		break;
	case DBUS_TYPE_OBJECT_PATH:
		b.str = (char *)paths[take(s) % 3];
		break;
	case DBUS_TYPE_SIGNATURE:
		b.str = (char *)sigs[take(s) % 4];
		break;
	case DBUS_TYPE_UNIX_FD:
		if (fd < 0)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		b.fd = fd;
		break;
	case DBUS_TYPE_STRING: {
		unsigned n = take(s);

		n = n == 255 ? sizeof(str) - 1 : n % 48; /* sometimes long */
		for (unsigned k = 0; k < n; k++) {
			unsigned c = take(s) & 0x7f;

			str[k] = (char)(c ? c : 'x'); /* ASCII: valid UTF-8 */
		}
		str[n] = '\0';
		b.str = str;
		break;
	}
	default: /* x t d: any 64 bits, NaN and infinities included */
		b.u64 = take_n(s, 8);
		break;
	}
	dbus_message_iter_append_basic(it, type, &b);
}

static void fill(DBusMessageIter *it, DBusSignatureIter *sig, struct src *s, int depth)
{
	int type = dbus_signature_iter_get_current_type(sig);
	DBusSignatureIter sub;
	DBusMessageIter c;

	if (dbus_type_is_basic(type)) {
		append_basic(it, type, s);
		return;
	}
	if (type == DBUS_TYPE_VARIANT) {
		char inner[256];
		size_t len = 0;

		gen_sig(s, inner, &len, depth);
		inner[len] = '\0';
		dbus_signature_iter_init(&sub, inner);
		dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, inner, &c);
		fill(&c, &sub, s, depth + 1);
		dbus_message_iter_close_container(it, &c);
		return;
	}
	dbus_signature_iter_recurse(sig, &sub);
	if (type == DBUS_TYPE_ARRAY) {
		char *element = dbus_signature_iter_get_signature(&sub);
		unsigned n = take(s) % 4;

		dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, element, &c);
		for (unsigned k = 0; k < n; k++) {
			DBusSignatureIter e = sub;

			fill(&c, &e, s, depth + 1);
		}
		dbus_message_iter_close_container(it, &c);
		dbus_free(element);
		return;
	}
	/* A struct or a dict entry: each field in turn. */
	dbus_message_iter_open_container(it, type, NULL, &c);
	do
		fill(&c, &sub, s, depth + 1);
	while (dbus_signature_iter_next(&sub));
	dbus_message_iter_close_container(it, &c);
}

/* One argument of a generated type (a variant if asked). */
static void append_generated(DBusMessageIter *it, struct src *s, bool variant)
{
	char buf[256];
	size_t len = 0;
	DBusSignatureIter sig;

	if (variant)
		buf[len++] = 'v';
	else
		gen_sig(s, buf, &len, 0);
	buf[len] = '\0';
	dbus_signature_iter_init(&sig, buf);
	fill(it, &sig, s, 0);
}

DBusMessage *recipe_build(const uint8_t *data, size_t size, bool *must_refuse)
{
	static const char *const paths[] = { "/CustomName",
					     "/Settings/ForceChargingOff",
					     "/Settings/Level",
					     "/Dc/0/Voltage",
					     "/Dc/0/Current",
					     "/",
					     "/Dc",
					     "/Settings",
					     "/Nope",
					     "/Dc/0/Voltage/x/y/z" };
	static const char *const ifaces[] = { "com.victronenergy.BusItem",           "com.victronenergy.BusItem",
					      "com.victronenergy.BusItem",           "com.victronenergy.BusItem",
					      "com.victronenergy.BusItem",           NULL,
					      "org.freedesktop.DBus.Introspectable", "org.example.Nope" };
	static const char *const members[] = { "SetValue", "SetValue", "SetValue", "SetValue",
					       "GetValue", "GetText",  "GetItems", "Introspect" };
	struct src s = { data, size };
	const char *path = paths[take(&s) % 10];
	const char *iface = ifaces[take(&s) % 8];
	const char *member = members[take(&s) % 8];
	unsigned layout = take(&s) % 8;
	DBusMessage *msg = dbus_message_new_method_call(NULL, path, iface, member);
	DBusMessageIter it;
	DBusMessageIter var;

	if (!msg)
		return NULL;
	dbus_message_set_serial(msg, 1);
	dbus_message_iter_init_append(msg, &it);
	if (layout <= 4) { /* one variant: the value is what decides */
		append_generated(&it, &s, true);
	} else if (layout == 5) { /* a bare value (which may be a variant) */
		append_generated(&it, &s, false);
	} else if (layout == 6) { /* a variant and more */
		append_generated(&it, &s, true);
		append_generated(&it, &s, false);
	} /* 7: no arguments */
	*must_refuse = true;
	if (dbus_message_has_signature(msg, "v")) {
		dbus_message_iter_init(msg, &it);
		dbus_message_iter_recurse(&it, &var);
		int t = dbus_message_iter_get_arg_type(&var);

		*must_refuse = !(t == DBUS_TYPE_STRING || t == DBUS_TYPE_DOUBLE || t == DBUS_TYPE_BOOLEAN ||
				 t == DBUS_TYPE_BYTE || t == DBUS_TYPE_INT16 || t == DBUS_TYPE_UINT16 ||
				 t == DBUS_TYPE_INT32 || t == DBUS_TYPE_UINT32 || t == DBUS_TYPE_INT64 ||
				 t == DBUS_TYPE_UINT64);
	}
	return msg;
}
