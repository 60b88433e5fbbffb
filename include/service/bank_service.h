/* SPDX-License-Identifier: MIT */
/*
 * The bank service com.victronenergy.battery.jkbank (docs/bank.md): finds
 * the member services by themselves (NameOwnerChanged and /Bank/Member),
 * reads each once with GetItems and then follows their ItemsChanged, and
 * publishes the combination (bank_combine()) as one battery that DVCC
 * controls. Never writes to a member or a BMS.
 */
#ifndef BANK_SERVICE_H
#define BANK_SERVICE_H

#include <dbus/dbus.h>

#include "config.h"
#include "service.h"

#define BANK_BUS_NAME "com.victronenergy.battery.jkbank"

struct bank_service;

/* Build the tree on conn (borrowed) and start finding members; the name is
 * requested once a member is online with valid limits. Returns 0 or
 * -errno. */
int bank_service_new(const struct config *cfg, DBusConnection *conn, service_quit_fn quit, void *user_data,
		     struct bank_service **out);
void bank_service_free(struct bank_service *b);

#endif
