/* SPDX-License-Identifier: MIT */
/*
 * A tree of values exported as Victron's com.victronenergy.BusItem
 * interface (docs/dbus-paths.md "Paths" and "Signals") through one
 * fallback handler on "/":
 * GetValue/GetText/SetValue on leaves, GetValue/GetText on "/" and every
 * intermediate node (relative keys), GetItems on "/", Introspect everywhere,
 * invalid values as an empty "ai". Changes are collected and sent as one
 * ItemsChanged per busitem_flush(), holding only the paths whose value
 * changed; optionally also a PropertiesChanged from each changed leaf.
 * Knows nothing about batteries.
 */
#ifndef BUSITEM_H
#define BUSITEM_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>

enum busitem_type {
	BUSITEM_INT,    /* "i" */
	BUSITEM_DOUBLE, /* "d" */
	BUSITEM_STRING, /* "s" */
};

/* A value as SetValue received it, converted to the item's type. */
struct busitem_value {
	enum busitem_type type;
	int32_t i;
	double d;
	const char *s; /* valid during the callback only */
};

/* SetValue codes (velib): 0 accepted, 1 not writable, not one variant, or a
 * value of the wrong type or out of range, 2 refused by the owner. Each
 * refusal is logged once per path and reason. */
enum busitem_set_result {
	BUSITEM_SET_OK = 0,
	BUSITEM_SET_NOT_WRITABLE = 1,
	BUSITEM_SET_REFUSED = 2,
};

struct busitem;
struct busitem_tree;

/* Validates (and may act on) a SetValue, also of the value the item already
 * has. Return 0 to accept (the item then takes the value and signals a
 * change), BUSITEM_SET_COMMAND to accept a command the item does not keep
 * (it keeps its value; what the owner set meanwhile is flushed), or a
 * negative errno to refuse (the caller gets 2 and nothing changes). */
#define BUSITEM_SET_COMMAND 1
typedef int (*busitem_set_fn)(struct busitem *item, const struct busitem_value *value, void *user_data);

/* Extra methods on "/" (e.g. com.victronenergy.Settings.AddSettings in a
 * settings stand-in): return DBUS_HANDLER_RESULT_NOT_YET_HANDLED to let the
 * BusItem handling proceed. */
typedef DBusHandlerResult (*busitem_method_fn)(struct busitem_tree *tree, DBusMessage *msg, void *user_data);

/* A tree on conn (borrowed, must outlive the tree). properties_changed adds
 * a PropertiesChanged signal per changed leaf to each flush. Registers the
 * "/" fallback handler. conn may be NULL (tests, fuzzing): nothing is
 * registered or sent. Returns NULL on failure. */
struct busitem_tree *busitem_tree_new(DBusConnection *conn, bool properties_changed);
void busitem_tree_free(struct busitem_tree *tree);

void busitem_tree_set_method_handler(struct busitem_tree *tree, busitem_method_fn fn, void *user_data);

/* Add a leaf at path ("/A/B", no trailing slash). text_fmt formats GetText
 * of a valid value (invalid is "---"), parsed once here: literal text around
 * one number, "%d" or "%X" for an int (e.g. "0x%X"), "%.Nf" with N 0-6 for a
 * double (e.g. "%.2fV", "%.0f%%", rounded as printf does but never "-0");
 * "%%" is '%', the text UTF-8. NULL is the default: "%d", "%g", the string
 * itself; a string item takes no other. set_cb NULL makes the item read-only. The new item is
 * invalid and not marked changed. Returns the item (owned by the tree), or
 * NULL if path exists or is malformed, or the format is refused (logged). */
struct busitem *busitem_add(struct busitem_tree *tree, const char *path, enum busitem_type type, const char *text_fmt,
			    busitem_set_fn set_cb, void *user_data);

struct busitem *busitem_find(const struct busitem_tree *tree, const char *path);
const char *busitem_path(const struct busitem *item);
enum busitem_type busitem_get_type(const struct busitem *item);

/* Setters: a change of value or validity marks the item for the next flush;
 * an equal value does nothing. A double with a "%.Nf" format is first
 * rounded to N places, to the double nearest that decimal (units.h
 * round_decimals), so its value says what its text says. A setter of the wrong type is a programmer
 * error (logged, ignored). Strings are copied; invalid UTF-8 is repaired. */
void busitem_set_int(struct busitem *item, int32_t v);
void busitem_set_double(struct busitem *item, double v);
void busitem_set_string(struct busitem *item, const char *v);
void busitem_invalidate(struct busitem *item);

bool busitem_is_valid(const struct busitem *item);
int32_t busitem_get_int(const struct busitem *item);
double busitem_get_double(const struct busitem *item);
const char *busitem_get_string(const struct busitem *item);

/* Answer one method call on the tree (what the "/" handler does): the
 * reply (unref it), or NULL when msg is not a method call for the tree.
 * Any message is safe: arguments are type-checked before they are read
 * (methods other than SetValue take none: InvalidArgs). */
DBusMessage *busitem_handle(struct busitem_tree *tree, DBusMessage *msg);

/* Send what changed since the last flush: one ItemsChanged (plus the
 * PropertiesChanged signals if enabled). Returns the number of changed
 * paths (0: nothing sent). */
unsigned busitem_flush(struct busitem_tree *tree);

/* Signals sent so far (for benchmarks and tests). */
uint64_t busitem_signals_sent(const struct busitem_tree *tree);

#endif
