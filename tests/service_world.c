/* SPDX-License-Identifier: MIT */
/* The rig the service tests share (service_world.h). */
#include "service_world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const fast_config = "[jkbms]\npoll_interval=0.25\nreply_timeout=0.2\nprobe_timeout=3\n"
				       "link_warning=1\nlink_lost=2\nsettings_timeout=2\n";

static void on_items_changed(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
			     const gchar *signal, GVariant *params, gpointer data)
{
	struct world *w = data;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal;
	g_ptr_array_add(w->changes, g_variant_get_child_value(params, 0));
}

static void on_props_changed(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
			     const gchar *signal, GVariant *params, gpointer data)
{
	struct world *w = data;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal, (void)params;
	w->props_changed++;
}

void on_owner(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface, const gchar *signal,
	      GVariant *params, gpointer data)
{
	struct world *w = data;
	const gchar *name, *old, *now;

	(void)c, (void)sender, (void)path, (void)iface, (void)signal;
	g_variant_get(params, "(&s&s&s)", &name, &old, &now);
	/* What dbusmonitor does: GetItems the moment the name appears. */
	if (strcmp(name, NAME) == 0 && *now && !w->items_at_name)
		w->items_at_name = bus_get_items(&w->bus, NAME);
}

void write_config(struct world *w, const char *extra)
{
	config_write(&w->bus, w->config, sizeof(w->config), fast_config, extra);
}

void start_settings(struct world *w)
{
	settings_start(&w->settings, &w->bus, NULL);
}

void start_service(struct world *w, struct child *c, const char *link, const char *log)
{
	service_spawn(c, &w->bus, log, link, w->config);
}

static bool have_items_at_name(void *ud)
{
	return ((struct world *)ud)->items_at_name != NULL;
}
struct world *world_current;

struct world *up(const char *const *sim_args, const char *config_extra, bool settings)
{
	struct world *w = g_new0(struct world, 1);

	world_current = w;
	bus_start(&w->bus);
	w->changes = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	/* Only the battery service's signals (the settings stand-in sends its own). */
	w->sub_items = g_dbus_connection_signal_subscribe(w->bus.conn, NAME, "com.victronenergy.BusItem",
							  "ItemsChanged", "/", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
							  on_items_changed, w, NULL);
	w->sub_props = g_dbus_connection_signal_subscribe(w->bus.conn, NAME, "com.victronenergy.BusItem",
							  "PropertiesChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
							  on_props_changed, w, NULL);
	w->sub_owner = g_dbus_connection_signal_subscribe(w->bus.conn, "org.freedesktop.DBus", "org.freedesktop.DBus",
							  "NameOwnerChanged", "/org/freedesktop/DBus", NAME,
							  G_DBUS_SIGNAL_FLAGS_NONE, on_owner, w, NULL);
	if (settings)
		start_settings(w);
	sim_start(&w->sim, sim_args);
	write_config(w, config_extra);
	start_service(w, &w->svc, w->sim.link, "service");
	wait_name_or_fail(&w->bus, &w->svc, NAME, 8000);
	/* NameHasOwner may answer before the NameOwnerChanged is dispatched. */
	assert_true(loop_until(have_items_at_name, w, 3000));
	return w;
}

/* After a failed assertion: stop every process the test started. */
int teardown(void **state)
{
	struct world *w = world_current;

	(void)state;
	world_current = NULL;
	if (!w)
		return 0;
	child_stop(&w->svc);
	if (w->settings.pid)
		child_stop(&w->settings);
	sim_stop(&w->sim);
	bus_stop(&w->bus);
	return 0;
}

void down(struct world *w)
{
	down_code(w, 0); /* SIGTERM is a clean exit */
}

void down_code(struct world *w, int code)
{
	world_current = NULL;
	assert_int_equal(child_stop_verbose(&w->svc), code);
	if (w->settings.pid)
		child_stop(&w->settings);
	sim_stop(&w->sim);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_items);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_props);
	g_dbus_connection_signal_unsubscribe(w->bus.conn, w->sub_owner);
	g_ptr_array_free(w->changes, TRUE);
	if (w->items_at_name)
		g_variant_unref(w->items_at_name);
	bus_stop(&w->bus);
	g_free(w);
}

double dbl(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE))
		fail_msg("%s is not a valid double (%s)", path, v ? g_variant_print(v, TRUE) : "absent");
	double d = g_variant_get_double(v);

	g_variant_unref(v);
	return d;
}

int32_t i32(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_INT32))
		fail_msg("%s is not a valid int32 (%s)", path, v ? g_variant_print(v, TRUE) : "absent");
	int32_t i = g_variant_get_int32(v);

	g_variant_unref(v);
	return i;
}

char *str(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
		fail_msg("%s is not a valid string (%s)", path, v ? g_variant_print(v, TRUE) : "absent");
	char *s = g_variant_dup_string(v, NULL);

	g_variant_unref(v);
	return s;
}

bool invalid(GVariant *items, const char *path)
{
	GVariant *v = items_value(items, path);
	bool r = value_is_invalid(v);

	if (!v)
		fail_msg("%s is absent", path);
	g_variant_unref(v);
	return r;
}

void assert_str(GVariant *items, const char *path, const char *want)
{
	char *s = str(items, path);

	if (strcmp(s, want) != 0)
		fail_msg("%s is '%s', want '%s'", path, s, want);
	g_free(s);
}
