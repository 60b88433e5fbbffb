/* SPDX-License-Identifier: MIT */
/* For the tools: the first com.victronenergy.battery.* name on a bus. */
#ifndef BUS_FIND_H
#define BUS_FIND_H

#include <dbus/dbus.h>

/* The name (free() it), or NULL when there is none or the bus did not
 * answer within timeout_ms. */
char *bus_find_battery(DBusConnection *c, int timeout_ms);

#endif
