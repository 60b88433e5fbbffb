/* SPDX-License-Identifier: MIT */
/*
 * The Venus OS battery service of one BMS (one unit of a port's link),
 * bound to the BusItem tree as com.victronenergy.battery.<tty>
 * (docs/dbus-paths.md). Owns the start-up order (paths first, the name only
 * after the first good reply and the device instance), publishes one
 * ItemsChanged per poll, and applies the loss-of-communication rules
 * (docs/charge-control.md). The only code that knows both the BMS and
 * D-Bus.
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <dbus/dbus.h>

#include "config.h"
#include "link.h"

struct service;

/* Where a service lives: its unit of a link (owned by the port), the tty
 * and USB serial for its identity, and the bus name it will own. */
struct service_where {
	struct link *link;
	unsigned unit;
	const char *tty;
	const char *usb_serial;
	const char *bus_name;
	int address; /* on a port with several BMSs, else -1 */
};

/* Called when the service wants the process to end with exit code `code`. */
typedef void (*service_quit_fn)(void *user_data, int code);

/* Build every path on conn (borrowed) and listen to the unit's events;
 * the name is requested after its first reply. Returns 0 or -errno. */
int service_new(const struct config *cfg, const struct service_where *where, DBusConnection *conn, service_quit_fn quit,
		void *user_data, struct service **out);
void service_free(struct service *s);

/* Has its BMS answered yet? */
bool service_found(const struct service *s);

/* The bus name it registers, e.g. "com.victronenergy.battery.ttyUSB0". */
const char *service_bus_name(const struct service *s);

#endif
