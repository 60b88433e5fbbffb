/* SPDX-License-Identifier: MIT */
/*
 * One serial port and the BMSs on it: opens the link with one unit per
 * address, makes each unit its own battery service (its own model, policy
 * and bus name), and ends the process when no BMS answers at all within
 * probe_timeout (docs/architecture.md "Ports, units and services").
 */
#ifndef PORT_H
#define PORT_H

#include <dbus/dbus.h>

#include "bms_driver.h"
#include "config.h"
#include "service.h"

struct port;

/* The BMSs a port serves: the family and their addresses. */
struct port_units {
	const struct bms_driver *driver;
	unsigned count;
	uint8_t addresses[16];
};

/* One BMS of the 4E 57 family on the port. */
void port_units_single(struct port_units *u);

/* Open device and start polling every unit; a service registers per unit
 * once it answered. quit ends the process with an exit code. Returns 0 or
 * -errno (-ENOENT: no such device; the reason is logged). */
int port_new(const struct config *cfg, const char *device, const struct port_units *units, DBusConnection *conn,
	     service_quit_fn quit, void *user_data, struct port **out);
void port_free(struct port *p);

/* The service of unit k (NULL past the last). */
struct service *port_service(struct port *p, unsigned k);

#endif
