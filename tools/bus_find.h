/* SPDX-License-Identifier: MIT */
/* For the tools: the com.victronenergy.battery.* names on a bus. */
#ifndef BUS_FIND_H
#define BUS_FIND_H

#include <dbus/dbus.h>

/* The first name (free() it), or NULL when there is none or the bus did
 * not answer within timeout_ms. */
char *bus_find_battery(DBusConnection *c, int timeout_ms);

/* Every name, in natural order (battery.ttyUSB0_2 before _10), at most max
 * of them, into names (free() each). Returns the count, or -1 when the bus
 * did not answer within timeout_ms. */
int bus_find_batteries(DBusConnection *c, int timeout_ms, char **names, int max);

#endif
