/* SPDX-License-Identifier: MIT */
/*
 * Runs a libdbus DBusConnection inside the default GLib main context: its
 * watches become the poll fds of one GSource, which also dispatches pending
 * messages, so that libdbus turning a watch on or off never wakes the loop
 * (dbus_glib.c says why); its timeouts are GLib timeouts. One thread: the
 * connection is used only from the thread running the default context.
 * No D-Bus objects here.
 */
#ifndef DBUS_GLIB_H
#define DBUS_GLIB_H

#include <dbus/dbus.h>

/* Attach conn to the default main context. Returns 0 or -ENOMEM. */
int dbus_glib_attach(DBusConnection *conn);

/* Detach (before closing the connection). */
void dbus_glib_detach(DBusConnection *conn);

/* Open a private connection to the system bus (honours
 * DBUS_SYSTEM_BUS_ADDRESS) and attach it. Returns NULL with the reason in
 * *err_msg (static text or from libdbus, valid until the next call). */
DBusConnection *dbus_glib_open_system(const char **err_msg);

/* What a connection filter sees when the service loses its place on the
 * bus: the connection itself (libdbus's local Disconnected) or its name
 * (NameLost for name). Either is logged here; the caller exits 1 for its
 * supervisor to start it again. */
enum dbus_glib_loss {
	DBUS_GLIB_LOST_NOTHING,
	DBUS_GLIB_LOST_CONNECTION,
	DBUS_GLIB_LOST_NAME,
};
enum dbus_glib_loss dbus_glib_loss(DBusMessage *msg, const char *name);

#endif
