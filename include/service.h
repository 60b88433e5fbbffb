/* SPDX-License-Identifier: MIT */
/*
 * The Venus OS battery service: binds the BMS link to the BusItem tree as
 * com.victronenergy.battery.<tty> (venus-dbus.md). Owns the start-up order
 * (paths first, name only after the first good reply and the device
 * instance), publishes one ItemsChanged per poll, and applies the
 * loss-of-communication rules (charge-control.md §6). The only code that
 * knows both the BMS and D-Bus.
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <dbus/dbus.h>

#include "config.h"

struct service;

/* Called when the service wants the process to end with exit code `code`. */
typedef void (*service_quit_fn)(void *user_data, int code);

/* Open device, build every path on conn (borrowed) and start polling.
 * Returns 0 or -errno (-ENOENT: no such device; the reason is logged). */
int service_new(const struct config *cfg, const char *device, DBusConnection *conn, service_quit_fn quit,
		void *user_data, struct service **out);
void service_free(struct service *s);

/* The bus name it registers, e.g. "com.victronenergy.battery.ttyUSB0". */
const char *service_bus_name(const struct service *s);

#endif
