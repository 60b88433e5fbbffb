/* SPDX-License-Identifier: MIT */
/*
 * The rig the service tests share (test_service.c, test_service_signals.c,
 * test_service_control.c): the real dbus-jkbms against jkbms-sim on a real
 * pseudo-terminal, on a private dbus-daemon with the settings stand-in,
 * observed through an independent GDBus client that records the service's
 * signals; and readers of GetItems that fail the test on a wrong type.
 */
#ifndef SERVICE_WORLD_H
#define SERVICE_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

#include "bus_harness.h"
#include "sim_harness.h"

#define NAME "com.victronenergy.battery.ttyJK"

struct world {
	struct bus bus;
	struct simproc sim;
	struct child settings;
	struct child svc;
	char config[400];
	/* signals */
	GPtrArray *changes; /* a{sa{sv}} per ItemsChanged */
	unsigned props_changed;
	guint sub_items, sub_props, sub_owner;
	GVariant *items_at_name; /* GetItems taken in the NameOwnerChanged handler */
};

/* The world of the running test, for the teardown after a failure. */
extern struct world *world_current;

/* NameOwnerChanged: takes items_at_name the moment the service's name
 * appears (what dbusmonitor does). */
void on_owner(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface, const gchar *signal,
	      GVariant *params, gpointer data);

/* The fast test configuration plus extra, in the bus's directory. */
void write_config(struct world *w, const char *extra);
void start_settings(struct world *w);
void start_service(struct world *w, struct child *c, const char *link, const char *log);

/* Bus, settings (if settings), simulator (sim_args), service; waits for the
 * name and for items_at_name. */
struct world *up(const char *const *sim_args, const char *config_extra, bool settings);
/* The service exits cleanly on SIGTERM; everything stopped and freed. */
void down(struct world *w);
/* The same for a service that exits with code on SIGTERM or has already
 * exited with it. */
void down_code(struct world *w, int code);
/* cmocka teardown: stops every process a failed test left running. */
int teardown(void **state);

/* A path's value in GetItems items; each fails the test on another type. */
double dbl(GVariant *items, const char *path);
int32_t i32(GVariant *items, const char *path);
char *str(GVariant *items, const char *path);
bool invalid(GVariant *items, const char *path);
void assert_str(GVariant *items, const char *path, const char *want);

#endif
