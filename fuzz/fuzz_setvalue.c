/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the D-Bus side: any message libdbus accepts (bytes
 * through dbus_message_demarshal) goes to the BusItem tree. Oracle: a
 * method call for the tree always gets a reply; SetValue answers 0, 1 or 2
 * and a refused value changes nothing; no crash, leak or bad read.
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "busitem.h"

#define CHECK(x) \
	do { \
		if (!(x)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct busitem_tree *tree;
static struct busitem *flag, *level, *name;

static int flag_cb(struct busitem *it, const struct busitem_value *v, void *ud)
{
	(void)it, (void)ud;
	return v->i == 0 || v->i == 1 ? 0 : -EINVAL;
}

static int level_cb(struct busitem *it, const struct busitem_value *v, void *ud)
{
	(void)it, (void)ud;
	return v->d >= -10 && v->d <= 10 ? 0 : -ERANGE;
}

static int name_cb(struct busitem *it, const struct busitem_value *v, void *ud)
{
	(void)it, (void)ud;
	return strlen(v->s) <= 32 ? 0 : -EINVAL;
}

static void setup(void)
{
	tree = busitem_tree_new(NULL, true);
	flag = busitem_add(tree, "/Settings/ForceChargingOff", BUSITEM_INT, NULL, flag_cb, NULL);
	level = busitem_add(tree, "/Settings/Level", BUSITEM_DOUBLE, "%.2fV", level_cb, NULL);
	name = busitem_add(tree, "/CustomName", BUSITEM_STRING, NULL, name_cb, NULL);
	busitem_set_int(flag, 0);
	busitem_set_double(level, 1.5);
	busitem_set_string(name, "");
	busitem_set_double(busitem_add(tree, "/Dc/0/Voltage", BUSITEM_DOUBLE, "%.2fV", NULL, NULL), 53.2);
	busitem_add(tree, "/Dc/0/Current", BUSITEM_DOUBLE, "%.1fA", NULL, NULL); /* invalid */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!tree)
		setup();

	DBusMessage *msg = dbus_message_demarshal((const char *)data, (int)size, NULL);

	if (!msg)
		return 0;
	int32_t before_flag = busitem_get_int(flag);
	double before_level = busitem_get_double(level);
	DBusMessage *reply = busitem_handle(tree, msg);

	if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_METHOD_CALL && dbus_message_get_path(msg) &&
	    dbus_message_get_member(msg)) {
		CHECK(reply != NULL);
	}
	if (reply && dbus_message_is_method_call(msg, "com.victronenergy.BusItem", "SetValue") &&
	    dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN) {
		int32_t code = -1;

		CHECK(dbus_message_get_args(reply, NULL, DBUS_TYPE_INT32, &code, DBUS_TYPE_INVALID));
		CHECK(code == 0 || code == 1 || code == 2);
		if (code != 0) {
			CHECK(busitem_get_int(flag) == before_flag);
			CHECK(busitem_get_double(level) == before_level);
		}
	}
	CHECK(busitem_get_int(flag) == 0 || busitem_get_int(flag) == 1);
	CHECK(busitem_get_double(level) >= -10 && busitem_get_double(level) <= 10);
	CHECK(strlen(busitem_get_string(name)) <= 32);
	busitem_flush(tree);
	if (reply)
		dbus_message_unref(reply);
	dbus_message_unref(msg);
	return 0;
}
