/* SPDX-License-Identifier: MIT */
/* Seeds for fuzz_setvalue: marshalled BusItem calls of every kind, and
 * recipes (setvalue_recipe.h) for SetValue with containers; with "items",
 * for fuzz_dbus_read: marshalled ItemsChanged of the bank's paths, and
 * their bodies after a byte-order byte.
 * Usage: make_seeds DIR [items] */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void save(const char *dir, int n, DBusMessage *m)
{
	char *buf = NULL, path[512];
	int len = 0;

	dbus_message_set_serial(m, (dbus_uint32_t)n + 1);
	if (!dbus_message_marshal(m, &buf, &len))
		exit(1);
	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, (size_t)len, f) != (size_t)len)
		exit(1);
	fclose(f);
	dbus_free(buf);
	dbus_message_unref(m);
}

static DBusMessage *call(const char *path, const char *member)
{
	return dbus_message_new_method_call("com.victronenergy.battery.ttyX", path, "com.victronenergy.BusItem",
					    member);
}

static DBusMessage *set(const char *path, int type, const void *v)
{
	DBusMessage *m = call(path, "SetValue");
	DBusMessageIter it, var;
	char sig[2] = { (char)type, 0 };

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, sig, &var);
	dbus_message_iter_append_basic(&var, type, v);
	dbus_message_iter_close_container(&it, &var);
	return m;
}

/* Recipes: path, interface, method, layout (0: one variant), then types
 * and values. */
static void save_recipes(const char *dir)
{
	static const unsigned char recipes[][20] = {
		{ 0, 0, 0, 0, 13, 4, 3, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0 },  /* /CustomName <ai [1,2,3]> */
		{ 1, 0, 0, 0, 15, 9, 17, 1, 3, 'a', 'b', 'c', 4, 7, 0, 0, 0 }, /* flag <a{sv}> */
		{ 0, 0, 0, 0, 16, 1, 4, 1, 0, 0, 0, 9, 1, 'x' },               /* <(is)> */
		{ 1, 0, 0, 0, 17, 4, 1, 0, 0, 0 },                             /* <<1>> */
		{ 1, 0, 0, 0, 12 },                                            /* a unix fd */
		{ 2, 0, 0, 6, 8, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f },               /* NaN, then more */
	};

	for (size_t k = 0; k < sizeof(recipes) / sizeof(recipes[0]); k++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/recipe-%02zu", dir, k);
		FILE *f = fopen(path, "wb");

		if (!f || fwrite(recipes[k], 1, sizeof(recipes[k]), f) != sizeof(recipes[k]))
			exit(1);
		fclose(f);
	}
}

/* One {path: {"Value": <sig>..., "Text": <s>text}}; value NULL: Venus's
 * invalid value, an empty array of sig's element type. */
static void item(DBusMessageIter *arr, const char *path, const char *sig, const void *value)
{
	DBusMessageIter entry, props, kv, var, sub;
	const char *keys[] = { "Value", "Text" }, *text = "12.5V";

	dbus_message_iter_open_container(arr, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &path);
	dbus_message_iter_open_container(&entry, DBUS_TYPE_ARRAY, "{sv}", &props);
	for (int k = 0; k < 2; k++) {
		dbus_message_iter_open_container(&props, DBUS_TYPE_DICT_ENTRY, NULL, &kv);
		dbus_message_iter_append_basic(&kv, DBUS_TYPE_STRING, &keys[k]);
		dbus_message_iter_open_container(&kv, DBUS_TYPE_VARIANT, k ? "s" : sig, &var);
		if (k) {
			dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &text);
		} else if (value) {
			dbus_message_iter_append_basic(&var, sig[0], value);
		} else {
			dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, sig + 1, &sub);
			dbus_message_iter_close_container(&var, &sub);
		}
		dbus_message_iter_close_container(&kv, &var);
		dbus_message_iter_close_container(&props, &kv);
	}
	dbus_message_iter_close_container(&entry, &props);
	dbus_message_iter_close_container(arr, &entry);
}

static void save_bytes(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, n, f) != n)
		exit(1);
	fclose(f);
}

/* A member's ItemsChanged, whole and its body alone. */
static void save_items(const char *dir)
{
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");
	DBusMessageIter it, arr;
	double v = 52.5, soc = 80;
	int32_t one = 1;
	const char *serial = "jkbms_0042", *id = "C7";
	char *buf;
	int len;

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sa{sv}}", &arr);
	item(&arr, "/Dc/0/Voltage", "d", &v);
	item(&arr, "/Soc", "d", &soc);
	item(&arr, "/Serial", "s", &serial);
	item(&arr, "/System/MaxVoltageCellId", "s", &id);
	item(&arr, "/Bank/Member", "i", &one);
	item(&arr, "/Connected", "i", &one);
	item(&arr, "/Bank/MaxChargeCurrent", "ai", NULL);
	item(&arr, "/Voltages/Cell1", "d", &v);
	dbus_message_iter_close_container(&it, &arr);
	dbus_message_set_serial(m, 1);
	if (!dbus_message_marshal(m, &buf, &len))
		exit(1);
	save_bytes(dir, "items-message", buf, (size_t)len);
	/* The body starts at the 8-aligned end of the header fields. */
	size_t body = ((size_t)16 + ((unsigned char)buf[12] | (unsigned char)buf[13] << 8) + 7) & ~(size_t)7;

	buf[body - 1] = 0; /* the byte before it: little endian */
	save_bytes(dir, "items-body", buf + body - 1, (size_t)len - body + 1);
	dbus_free(buf);
	dbus_message_unref(m);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	int n = 0;

	if (argc > 2 && strcmp(argv[2], "items") == 0) {
		save_items(dir);
		return 0;
	}
	int32_t one = 1, two = 2;
	double d = 3.5, big = 1e9;
	const char *s = "Shed battery";
	dbus_bool_t b = 1;
	int64_t x = 5000000000ll;

	save(dir, n++, set("/Settings/ForceChargingOff", DBUS_TYPE_INT32, &one));
	save(dir, n++, set("/Settings/ForceChargingOff", DBUS_TYPE_INT32, &two));
	save(dir, n++, set("/Settings/ForceChargingOff", DBUS_TYPE_BOOLEAN, &b));
	save(dir, n++, set("/Settings/ForceChargingOff", DBUS_TYPE_INT64, &x));
	save(dir, n++, set("/Settings/Level", DBUS_TYPE_DOUBLE, &d));
	save(dir, n++, set("/Settings/Level", DBUS_TYPE_DOUBLE, &big));
	save(dir, n++, set("/CustomName", DBUS_TYPE_STRING, &s));
	save(dir, n++, set("/Dc/0/Voltage", DBUS_TYPE_DOUBLE, &d));
	save(dir, n++, call("/", "GetItems"));
	save(dir, n++, call("/", "GetValue"));
	save(dir, n++, call("/Dc", "GetText"));
	save(dir, n++, call("/Dc/0/Current", "GetValue"));
	save(dir, n++, call("/Nope", "GetValue"));
	save(dir, n++,
	     dbus_message_new_method_call(NULL, "/Dc/0", "org.freedesktop.DBus.Introspectable", "Introspect"));
	save_recipes(dir);
	return 0;
}
