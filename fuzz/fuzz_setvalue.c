/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the D-Bus side of the BusItem tree. An input that is
 * a whole marshalled message goes in as such (dbus_message_demarshal); any
 * other input is a recipe (setvalue_recipe.h) for a call built with
 * libdbus: a path, a method, and arguments of every D-Bus type, containers
 * nested in any order, variants in variants, unix fds. libdbus runs with
 * DBUS_FATAL_WARNINGS=1, as strict as on a GX, so reading a value of the
 * wrong type aborts. Oracle: a call for the tree gets a reply; SetValue
 * answers 0, 1 or 2; a container, a variant, an object path, a signature or
 * an fd is refused with 1; a refused value changes nothing.
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "busitem.h"
#include "setvalue_recipe.h"
#include "fuzz_check.h"

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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* Read by libdbus at its first warning: every warning and failed
	 * check then aborts (failed checks already do by default). */
	setenv("DBUS_FATAL_WARNINGS", "1", 1);
	return 0;
}

/* Whole messages as the bus would deliver them; else a recipe. */
static DBusMessage *message_from(const uint8_t *data, size_t size, bool *must_refuse)
{
	*must_refuse = false;
	if (size >= 16 && size < 1 << 20 &&
	    dbus_message_demarshal_bytes_needed((const char *)data, (int)size) == (int)size)
		return dbus_message_demarshal((const char *)data, (int)size, NULL);
	return recipe_build(data, size, must_refuse);
}

static void check_set_value(DBusMessage *msg, DBusMessage *reply, bool must_refuse, int32_t before_flag,
			    double before_level, const char *before_name)
{
	int32_t code = -1;

	if (!dbus_message_is_method_call(msg, "com.victronenergy.BusItem", "SetValue") ||
	    dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_METHOD_RETURN)
		return;
	CHECK(dbus_message_get_args(reply, NULL, DBUS_TYPE_INT32, &code, DBUS_TYPE_INVALID));
	CHECK(code == 0 || code == 1 || code == 2);
	/* Only numbers and strings are ever read (README.md, "Hostile input"). */
	if (must_refuse)
		CHECK(code == 1);
	if (code != 0) {
		CHECK(busitem_get_int(flag) == before_flag);
		CHECK(busitem_get_double(level) == before_level);
		CHECK(strcmp(busitem_get_string(name), before_name) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool must_refuse;

	if (!tree)
		setup();

	DBusMessage *msg = message_from(data, size, &must_refuse);

	if (!msg)
		return 0;
	int32_t before_flag = busitem_get_int(flag);
	double before_level = busitem_get_double(level);
	char before_name[64];

	strncpy(before_name, busitem_get_string(name), sizeof(before_name) - 1);
	before_name[sizeof(before_name) - 1] = '\0';
	DBusMessage *reply = busitem_handle(tree, msg);

	if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_METHOD_CALL && dbus_message_get_path(msg) &&
	    dbus_message_get_member(msg)) {
		CHECK(reply != NULL);
	}
	if (reply)
		check_set_value(msg, reply, must_refuse, before_flag, before_level, before_name);
	CHECK(busitem_get_int(flag) == 0 || busitem_get_int(flag) == 1);
	CHECK(busitem_get_double(level) >= -10 && busitem_get_double(level) <= 10);
	CHECK(strlen(busitem_get_string(name)) <= 32);
	busitem_flush(tree);
	if (reply)
		dbus_message_unref(reply);
	dbus_message_unref(msg);
	return 0;
}
