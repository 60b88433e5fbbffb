/* SPDX-License-Identifier: MIT */
/* libdbus watches, timeouts and dispatch on the GLib main loop; and a
 * filter that drops bus-driver signals not sent by the bus. */
#define G_LOG_DOMAIN "dbus"

#include "dbus_glib.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <string.h>

#include "log.h"

struct glue {
	DBusConnection *conn;
	guint dispatch_source;
};

static dbus_int32_t glue_slot = -1;

static gboolean dispatch_cb(gpointer data)
{
	struct glue *g = data;

	g->dispatch_source = 0;
	dbus_connection_ref(g->conn);
	while (dbus_connection_dispatch(g->conn) == DBUS_DISPATCH_DATA_REMAINS)
		;
	dbus_connection_unref(g->conn);
	return G_SOURCE_REMOVE;
}

static void schedule_dispatch(struct glue *g)
{
	if (!g->dispatch_source)
		g->dispatch_source = g_idle_add(dispatch_cb, g);
}

static void dispatch_status_cb(DBusConnection *conn, DBusDispatchStatus status, void *data)
{
	(void)conn;
	if (status == DBUS_DISPATCH_DATA_REMAINS)
		schedule_dispatch(data);
}

/* ---- watches ----------------------------------------------------------- */

struct watch {
	DBusWatch *watch;
	struct glue *glue;
	guint source;
};

static gboolean watch_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct watch *w = data;
	unsigned flags = 0;

	(void)fd;
	if (cond & G_IO_IN)
		flags |= DBUS_WATCH_READABLE;
	if (cond & G_IO_OUT)
		flags |= DBUS_WATCH_WRITABLE;
	if (cond & G_IO_HUP)
		flags |= DBUS_WATCH_HANGUP;
	if (cond & G_IO_ERR)
		flags |= DBUS_WATCH_ERROR;
	/* Handling may remove the watch (a disconnect does), which frees w and
	 * this source: nothing of w may be touched afterwards. */
	struct glue *g = w->glue;

	dbus_watch_handle(w->watch, flags);
	schedule_dispatch(g);
	return G_SOURCE_CONTINUE;
}

static void watch_enable(struct watch *w)
{
	unsigned flags = dbus_watch_get_flags(w->watch);
	GIOCondition cond = G_IO_HUP | G_IO_ERR;

	if (flags & DBUS_WATCH_READABLE)
		cond |= G_IO_IN;
	if (flags & DBUS_WATCH_WRITABLE)
		cond |= G_IO_OUT;
	w->source = g_unix_fd_add(dbus_watch_get_unix_fd(w->watch), cond, watch_cb, w);
}

static void watch_disable(struct watch *w)
{
	if (w->source)
		g_source_remove(w->source);
	w->source = 0;
}

static dbus_bool_t add_watch_cb(DBusWatch *watch, void *data)
{
	struct watch *w = g_new0(struct watch, 1);

	w->watch = watch;
	w->glue = data;
	dbus_watch_set_data(watch, w, NULL);
	if (dbus_watch_get_enabled(watch))
		watch_enable(w);
	return TRUE;
}

static void remove_watch_cb(DBusWatch *watch, void *data)
{
	struct watch *w = dbus_watch_get_data(watch);

	(void)data;
	if (!w)
		return;
	watch_disable(w);
	dbus_watch_set_data(watch, NULL, NULL);
	g_free(w);
}

static void toggle_watch_cb(DBusWatch *watch, void *data)
{
	struct watch *w = dbus_watch_get_data(watch);

	(void)data;
	if (!w)
		return;
	watch_disable(w);
	if (dbus_watch_get_enabled(watch))
		watch_enable(w);
}

/* ---- timeouts ---------------------------------------------------------- */

struct timeout {
	DBusTimeout *timeout;
	guint source;
};

static gboolean timeout_cb(gpointer data)
{
	struct timeout *t = data;

	dbus_timeout_handle(t->timeout);
	return G_SOURCE_CONTINUE;
}

static void timeout_enable(struct timeout *t)
{
	t->source = g_timeout_add((guint)dbus_timeout_get_interval(t->timeout), timeout_cb, t);
}

static void timeout_disable(struct timeout *t)
{
	if (t->source)
		g_source_remove(t->source);
	t->source = 0;
}

static dbus_bool_t add_timeout_cb(DBusTimeout *timeout, void *data)
{
	struct timeout *t = g_new0(struct timeout, 1);

	(void)data;
	t->timeout = timeout;
	dbus_timeout_set_data(timeout, t, NULL);
	if (dbus_timeout_get_enabled(timeout))
		timeout_enable(t);
	return TRUE;
}

static void remove_timeout_cb(DBusTimeout *timeout, void *data)
{
	struct timeout *t = dbus_timeout_get_data(timeout);

	(void)data;
	if (!t)
		return;
	timeout_disable(t);
	dbus_timeout_set_data(timeout, NULL, NULL);
	g_free(t);
}

static void toggle_timeout_cb(DBusTimeout *timeout, void *data)
{
	struct timeout *t = dbus_timeout_get_data(timeout);

	(void)data;
	if (!t)
		return;
	timeout_disable(t);
	if (dbus_timeout_get_enabled(timeout))
		timeout_enable(t);
}

/* ---- forged bus signals ------------------------------------------------ */

/* Any client may send a signal to us that claims to be the bus's own
 * (NameLost, NameAcquired, NameOwnerChanged): the bus stamps the true
 * sender, so only "org.freedesktop.DBus" is believed. (A forged local
 * Disconnected never arrives: libdbus rejects the reserved interface on
 * the wire.) Installed first, so no later filter or handler sees a
 * forgery. */
static DBusHandlerResult forged_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	static bool logged;
	const char *sender = dbus_message_get_sender(msg);

	(void)conn;
	(void)data;
	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL ||
	    !dbus_message_has_interface(msg, DBUS_INTERFACE_DBUS) || (sender && strcmp(sender, DBUS_SERVICE_DBUS) == 0))
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (!logged)
		LOG_WARN("ignoring a %s signal from %s: only the bus sends those (logged once)",
			 dbus_message_get_member(msg), sender ? sender : "nobody");
	logged = true;
	return DBUS_HANDLER_RESULT_HANDLED;
}

/* ---- attach ------------------------------------------------------------ */

static void glue_free(void *data)
{
	struct glue *g = data;

	if (g->dispatch_source)
		g_source_remove(g->dispatch_source);
	g_free(g);
}

int dbus_glib_attach(DBusConnection *conn)
{
	if (!dbus_connection_allocate_data_slot(&glue_slot))
		return -ENOMEM;

	struct glue *g = g_new0(struct glue, 1);

	g->conn = conn;
	dbus_connection_set_data(conn, glue_slot, g, glue_free);
	if (!dbus_connection_add_filter(conn, forged_filter, NULL, NULL))
		return -ENOMEM;
	if (!dbus_connection_set_watch_functions(conn, add_watch_cb, remove_watch_cb, toggle_watch_cb, g, NULL) ||
	    !dbus_connection_set_timeout_functions(conn, add_timeout_cb, remove_timeout_cb, toggle_timeout_cb, g, NULL))
		return -ENOMEM;
	dbus_connection_set_dispatch_status_function(conn, dispatch_status_cb, g, NULL);
	if (dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS)
		schedule_dispatch(g);
	return 0;
}

void dbus_glib_detach(DBusConnection *conn)
{
	dbus_connection_remove_filter(conn, forged_filter, NULL);
	dbus_connection_set_watch_functions(conn, NULL, NULL, NULL, NULL, NULL);
	dbus_connection_set_timeout_functions(conn, NULL, NULL, NULL, NULL, NULL);
	dbus_connection_set_dispatch_status_function(conn, NULL, NULL, NULL);
	if (glue_slot >= 0) {
		dbus_connection_set_data(conn, glue_slot, NULL, NULL);
		dbus_connection_free_data_slot(&glue_slot);
	}
}

DBusConnection *dbus_glib_open_system(const char **err_msg)
{
	static char msg[256];
	DBusError err;

	dbus_error_init(&err);
	DBusConnection *conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);

	if (!conn) {
		g_strlcpy(msg, err.message ? err.message : "cannot connect", sizeof(msg));
		dbus_error_free(&err);
		*err_msg = msg;
		return NULL;
	}
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	if (dbus_glib_attach(conn) < 0) {
		dbus_connection_close(conn);
		dbus_connection_unref(conn);
		*err_msg = "out of memory";
		return NULL;
	}
	return conn;
}
