/* SPDX-License-Identifier: MIT */
/* Seeds for fuzz_setvalue: marshalled BusItem calls of every kind, and
 * recipes (setvalue_recipe.h) for SetValue with containers.
 * Usage: make_seeds DIR */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	int n = 0;
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
