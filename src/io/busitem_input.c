/* SPDX-License-Identifier: MIT */
/*
 * The one door from the bus into the BusItem tree: SetValue. The argument's
 * D-Bus type is checked before any value is read (libdbus aborts the process
 * on a read of the wrong type), converted by explicit rules, or refused with
 * SetValue's error code, changing nothing, and logged once per path and
 * reason. The rules are in README.md, "Hostile input".
 */
#define G_LOG_DOMAIN "busitem"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "busitem_private.h"
#include "log.h"

/* ---- input from the bus ----------------------------------------------- */

/* Everything a client sends is checked here before any of it is read: the
 * arguments' signature per method, then the type of a SetValue variant
 * before its value (libdbus aborts the process on a read of the wrong
 * type). Conversion rules: README.md, "Hostile input". */

/* What a variant holds, as far as SetValue cares. */
enum value_class {
	CLASS_STRING,
	CLASS_OBJECT_PATH,
	CLASS_SIGNATURE,
	CLASS_BOOLEAN,
	CLASS_INTEGER,
	CLASS_DOUBLE,
	CLASS_UNIX_FD,
	CLASS_ARRAY,
	CLASS_DICT,
	CLASS_STRUCT,
	CLASS_VARIANT,
	CLASS_OTHER,
};

static const char *const class_names[] = {
	"a string",  "an object path", "a signature", "a boolean", "an integer", "a double",
	"a unix fd", "an array",       "a dict",      "a struct",  "a variant",  "of an unknown type",
};

/* Why a SetValue was refused; each is logged once per path (a bit of
 * busitem.logged). REFUSE_TYPE + a value_class are the wrong types. */
enum refusal {
	REFUSE_NONE,
	REFUSE_READ_ONLY,
	REFUSE_ARGS,
	REFUSE_RANGE,
	REFUSE_FRACTION,
	REFUSE_NOT_FINITE,
	REFUSE_OWNER,
	REFUSE_TYPE,
};

static enum value_class value_class(DBusMessageIter *var)
{
	switch (dbus_message_iter_get_arg_type(var)) {
	case DBUS_TYPE_STRING:
		return CLASS_STRING;
	case DBUS_TYPE_OBJECT_PATH:
		return CLASS_OBJECT_PATH;
	case DBUS_TYPE_SIGNATURE:
		return CLASS_SIGNATURE;
	case DBUS_TYPE_BOOLEAN:
		return CLASS_BOOLEAN;
	case DBUS_TYPE_BYTE:
	case DBUS_TYPE_INT16:
	case DBUS_TYPE_UINT16:
	case DBUS_TYPE_INT32:
	case DBUS_TYPE_UINT32:
	case DBUS_TYPE_INT64:
	case DBUS_TYPE_UINT64:
		return CLASS_INTEGER;
	case DBUS_TYPE_DOUBLE:
		return CLASS_DOUBLE;
	case DBUS_TYPE_UNIX_FD:
		return CLASS_UNIX_FD;
	case DBUS_TYPE_ARRAY:
		return dbus_message_iter_get_element_type(var) == DBUS_TYPE_DICT_ENTRY ? CLASS_DICT : CLASS_ARRAY;
	case DBUS_TYPE_STRUCT:
		return CLASS_STRUCT;
	case DBUS_TYPE_VARIANT:
		return CLASS_VARIANT;
	default:
		return CLASS_OTHER;
	}
}

/* An argument of CLASS_INTEGER or CLASS_BOOLEAN; false above INT64_MAX. */
static bool read_integer(DBusMessageIter *var, int64_t *n)
{
	DBusBasicValue b;

	dbus_message_iter_get_basic(var, &b);
	switch (dbus_message_iter_get_arg_type(var)) {
	case DBUS_TYPE_BYTE:
		*n = b.byt;
		break;
	case DBUS_TYPE_BOOLEAN:
		*n = b.bool_val != 0;
		break;
	case DBUS_TYPE_INT16:
		*n = b.i16;
		break;
	case DBUS_TYPE_UINT16:
		*n = b.u16;
		break;
	case DBUS_TYPE_INT32:
		*n = b.i32;
		break;
	case DBUS_TYPE_UINT32:
		*n = b.u32;
		break;
	case DBUS_TYPE_INT64:
		*n = b.i64;
		break;
	default:
		*n = (int64_t)b.u64;
		return b.u64 <= INT64_MAX;
	}
	return true;
}

/* The SetValue variant as the item's type: a string item takes only a
 * string; an int item any integer type, a boolean, or a double that is a
 * whole number, all within int32; a double item a finite double, a boolean
 * or an integer within +-2^53 (exact). Nothing else is read. */
static enum refusal convert(DBusMessageIter *var, const struct busitem *it, struct busitem_value *v)
{
	enum value_class cls = value_class(var);
	DBusBasicValue b;
	int64_t n;

	memset(v, 0, sizeof(*v));
	v->type = it->type;
	if (it->type == BUSITEM_STRING) {
		if (cls != CLASS_STRING)
			return REFUSE_TYPE + cls;
		dbus_message_iter_get_basic(var, &b);
		v->s = b.str;
		return REFUSE_NONE;
	}
	if (cls == CLASS_DOUBLE) {
		dbus_message_iter_get_basic(var, &b);
		if (!isfinite(b.dbl))
			return REFUSE_NOT_FINITE;
		if (it->type == BUSITEM_DOUBLE) {
			v->d = b.dbl;
			return REFUSE_NONE;
		}
		if (b.dbl != floor(b.dbl))
			return REFUSE_FRACTION;
		if (b.dbl < INT32_MIN || b.dbl > INT32_MAX)
			return REFUSE_RANGE;
		v->i = (int32_t)b.dbl;
		return REFUSE_NONE;
	}
	if (cls != CLASS_INTEGER && cls != CLASS_BOOLEAN)
		return REFUSE_TYPE + cls;
	if (!read_integer(var, &n))
		return REFUSE_RANGE;
	if (it->type == BUSITEM_DOUBLE) {
		if (n < -(INT64_C(1) << 53) || n > (INT64_C(1) << 53))
			return REFUSE_RANGE;
		v->d = (double)n;
		return REFUSE_NONE;
	}
	if (n < INT32_MIN || n > INT32_MAX)
		return REFUSE_RANGE;
	v->i = (int32_t)n;
	return REFUSE_NONE;
}

/* The value the owner refused, for the log (escaped, cut). */
static char *value_for_log(const struct busitem_value *v)
{
	switch (v->type) {
	case BUSITEM_INT:
		return g_strdup_printf("%d", v->i);
	case BUSITEM_DOUBLE:
		return g_strdup_printf("%g", v->d);
	case BUSITEM_STRING:
		break;
	}
	long n = g_utf8_strlen(v->s, -1);
	char *head = g_utf8_substring(v->s, 0, n > 40 ? 40 : n);
	char *esc = g_strescape(head, NULL);
	char *out = g_strdup_printf("'%s%s' (%ld characters)", esc, n > 40 ? "..." : "", n);

	g_free(head);
	g_free(esc);
	return out;
}

/* Log why a SetValue was refused, the first time per path and reason: the
 * MQTT bridges drop SetValue's code, so this line is all a user gets. */
static void log_refusal(struct busitem *it, enum refusal why, DBusMessage *msg, DBusMessageIter *var,
			const struct busitem_value *v, int err)
{
	static const char *const expect[] = { "an integer", "a number", "a string" };
	uint32_t bit = UINT32_C(1) << (why - 1);
	char *what = NULL;

	if (it->logged & bit)
		return;
	it->logged |= bit;
	if (why == REFUSE_ARGS) {
		what = g_strdup_printf("arguments (%s), expected one variant", dbus_message_get_signature(msg));
	} else if (why == REFUSE_OWNER) {
		char *val = value_for_log(v);

		what = g_strdup_printf("value %s not accepted (%s)", val, g_strerror(-err));
		g_free(val);
	} else if (why >= REFUSE_TYPE) {
		char *sig = dbus_message_iter_get_signature(var);

		what = g_strdup_printf("value is %s '%s', expected %s", class_names[why - REFUSE_TYPE], sig ? sig : "?",
				       expect[it->type]);
		dbus_free(sig);
	}
	LOG_WARN("SetValue %s refused: %s", it->path,
		 what                               ? what
			 : why == REFUSE_READ_ONLY  ? "read-only path"
			 : why == REFUSE_NOT_FINITE ? "value is not a finite number"
			 : why == REFUSE_FRACTION   ? "value is not a whole number, expected an integer"
			 : it->type == BUSITEM_INT  ? "value out of the int32 range"
						    : "value out of range (beyond 2^53)");
	g_free(what);
}

static int32_t refuse(struct busitem *it, enum refusal why, DBusMessage *msg, DBusMessageIter *var,
		      const struct busitem_value *v, int err)
{
	log_refusal(it, why, msg, var, v, err);
	return why == REFUSE_OWNER ? BUSITEM_SET_REFUSED : BUSITEM_SET_NOT_WRITABLE;
}

static bool same_value(const struct busitem *it, const struct busitem_value *v)
{
	if (!it->valid)
		return false;
	switch (it->type) {
	case BUSITEM_INT:
		return it->i == v->i;
	case BUSITEM_DOUBLE:
		return it->d == v->d;
	case BUSITEM_STRING:
		return strcmp(it->s, v->s) == 0;
	}
	return false;
}

int32_t busitem_set_from_bus(struct busitem *it, DBusMessage *msg)
{
	DBusMessageIter iter, var;
	struct busitem_value v;
	enum refusal why;

	if (!it->set_cb)
		return refuse(it, REFUSE_READ_ONLY, msg, NULL, NULL, 0);
	if (!dbus_message_has_signature(msg, DBUS_TYPE_VARIANT_AS_STRING))
		return refuse(it, REFUSE_ARGS, msg, NULL, NULL, 0);
	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_recurse(&iter, &var);
	why = convert(&var, it, &v);
	if (why != REFUSE_NONE)
		return refuse(it, why, msg, &var, NULL, 0);
	/* The owner sees an equal value too (it may act on the write itself,
	 * e.g. a reset); like velib, an equal value sends no signal. */
	int r = it->set_cb(it, &v, it->user_data);

	if (r < 0)
		return refuse(it, REFUSE_OWNER, msg, &var, &v, r);
	if (r == BUSITEM_SET_COMMAND || same_value(it, &v)) {
		busitem_flush(it->tree); /* what the owner changed itself */
		return BUSITEM_SET_OK;
	}
	switch (it->type) {
	case BUSITEM_INT:
		busitem_set_int(it, v.i);
		break;
	case BUSITEM_DOUBLE:
		busitem_set_double(it, v.d);
		break;
	case BUSITEM_STRING:
		busitem_set_string(it, v.s);
		break;
	}
	busitem_flush(it->tree);
	return BUSITEM_SET_OK;
}
