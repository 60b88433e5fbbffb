/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): the ItemsChanged the floors send, built
 * once with libdbus's iterators in the service's shape: one entry per path,
 * each {"Value": <double>, "Text": <string>}.
 */
#ifndef FLOOR_ITEMS_H
#define FLOOR_ITEMS_H

#include <dbus/dbus.h>

struct floor_item {
	const char *path;
	double value;
	const char *text;
};

/* An ItemsChanged signal on "/" with the n entries of head, then
 * /Voltages/Cell1..cells with their texts. */
DBusMessage *floor_items_changed(const struct floor_item *head, unsigned n, unsigned cells);

#endif
