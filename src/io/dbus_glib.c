/* SPDX-License-Identifier: MIT */
/* libdbus watches, timeouts and dispatch on the GLib main loop, without
 * waking the loop it runs in; and a filter that drops bus-driver signals
 * not sent by the bus. */
#define G_LOG_DOMAIN "dbus"

#include "dbus_glib.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"

/* The connection's one GSource. libdbus turns its watches on and off
 * (the write watch around every message it sends); adding or removing a
 * poll fd, or g_source_modify_unix_fd(), signals the context's wakeup
 * eventfd each time, which costs a write, a poll and a read per message.
 * Here the watches are GPollFDs of this source, added once: turning one on
 * or off only changes its events, which GLib reads afresh before every
 * poll (the loop runs in this thread, so it never sleeps in a poll built
 * before the change). Pending messages are seen in prepare() and
 * dispatched from this source, so nothing ever wakes the loop.
 *
 * Whether messages are pending is a flag libdbus keeps up to date through
 * its dispatch-status function: it calls it on every change of the status
 * it last reported (a watch handled, a message sent or dispatched, a
 * blocking call returned, a reply timed out). Asking it in every prepare()
 * and check() instead cost a lock, an unlock and the loader's work, ~800
 * instructions per connection per loop iteration. */
struct glue {
	GSource source; /* first: the source is the glue */
	DBusConnection *conn;
	GSList *watches;
	bool remains; /* libdbus has messages (or bytes) to dispatch */
};

struct watch {
	DBusWatch *watch;
	struct glue *glue;
	GPollFD pfd;
	gushort pending; /* revents taken in dispatch, not yet handled */
};

static dbus_int32_t glue_slot = -1;

static gushort watch_events(DBusWatch *watch)
{
	unsigned flags = dbus_watch_get_flags(watch);
	gushort events = 0;

	if (!dbus_watch_get_enabled(watch))
		return 0;
	if (flags & DBUS_WATCH_READABLE)
		events |= G_IO_IN;
	if (flags & DBUS_WATCH_WRITABLE)
		events |= G_IO_OUT;
	return events;
}

static gboolean glue_prepare(GSource *source, gint *timeout)
{
	struct glue *g = (struct glue *)source;

	*timeout = -1;
	return g->remains;
}

static gboolean glue_check(GSource *source)
{
	struct glue *g = (struct glue *)source;

	for (GSList *l = g->watches; l; l = l->next) {
		struct watch *w = l->data;

		if (w->pfd.events && w->pfd.revents)
			return TRUE;
	}
	return g->remains;
}

static unsigned watch_flags(gushort revents)
{
	unsigned flags = 0;

	if (revents & G_IO_IN)
		flags |= DBUS_WATCH_READABLE;
	if (revents & G_IO_OUT)
		flags |= DBUS_WATCH_WRITABLE;
	if (revents & G_IO_HUP)
		flags |= DBUS_WATCH_HANGUP;
	if (revents & G_IO_ERR)
		flags |= DBUS_WATCH_ERROR;
	return flags;
}

/* Handle each ready watch once. Handling one may add or remove watches (a
 * disconnect removes them all), so the list is rescanned after each. */
static void handle_watches(struct glue *g)
{
	for (GSList *l = g->watches; l; l = l->next) {
		struct watch *w = l->data;

		w->pending = w->pfd.events ? w->pfd.revents : 0;
		w->pfd.revents = 0;
	}
	for (bool again = true; again && !g_source_is_destroyed(&g->source);) {
		again = false;
		for (GSList *l = g->watches; l; l = l->next) {
			struct watch *w = l->data;
			gushort revents = w->pending;

			if (!revents)
				continue;
			w->pending = 0;
			dbus_watch_handle(w->watch, watch_flags(revents));
			again = true;
			break;
		}
	}
}

static gboolean glue_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	struct glue *g = (struct glue *)source;
	DBusConnection *conn = dbus_connection_ref(g->conn);

	(void)cb;
	(void)data;
	handle_watches(g);
	/* A handler may detach the glue (the source stays alive until this
	 * returns, GLib holds a reference). */
	while (!g_source_is_destroyed(&g->source) && dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
		;
	/* Emptied (or out of memory: tried again on the next change). Set here
	 * too: libdbus reports only a change from the status it last reported,
	 * which may be older than the one attach() read. */
	g->remains = false;
	dbus_connection_unref(conn);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs glue_funcs = {
	.prepare = glue_prepare,
	.check = glue_check,
	.dispatch = glue_dispatch,
};

/* ---- watches ----------------------------------------------------------- */

static dbus_bool_t add_watch_cb(DBusWatch *watch, void *data)
{
	struct glue *g = data;
	struct watch *w = g_new0(struct watch, 1);

	w->watch = watch;
	w->glue = g;
	w->pfd.fd = dbus_watch_get_unix_fd(watch);
	w->pfd.events = watch_events(watch);
	dbus_watch_set_data(watch, w, NULL);
	g->watches = g_slist_prepend(g->watches, w);
	g_source_add_poll(&g->source, &w->pfd);
	return TRUE;
}

static void remove_watch_cb(DBusWatch *watch, void *data)
{
	struct watch *w = dbus_watch_get_data(watch);

	(void)data;
	if (!w)
		return;
	if (!g_source_is_destroyed(&w->glue->source))
		g_source_remove_poll(&w->glue->source, &w->pfd);
	w->glue->watches = g_slist_remove(w->glue->watches, w);
	dbus_watch_set_data(watch, NULL, NULL);
	g_free(w);
}

/* No GLib call here: see struct glue. */
static void toggle_watch_cb(DBusWatch *watch, void *data)
{
	struct watch *w = dbus_watch_get_data(watch);

	(void)data;
	if (w)
		w->pfd.events = watch_events(watch);
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

static void status_cb(DBusConnection *conn, DBusDispatchStatus status, void *data)
{
	struct glue *g = data;

	(void)conn;
	g->remains = status == DBUS_DISPATCH_DATA_REMAINS;
}

static void glue_free(void *data)
{
	struct glue *g = data;

	g_source_destroy(&g->source);
	g_source_unref(&g->source);
}

int dbus_glib_attach(DBusConnection *conn)
{
	if (!dbus_connection_allocate_data_slot(&glue_slot))
		return -ENOMEM;

	struct glue *g = (struct glue *)g_source_new(&glue_funcs, sizeof(struct glue));

	g->conn = conn;
	g_source_set_name(&g->source, "libdbus");
	/* GLib takes a source's fds out of the poll set while it dispatches
	 * and puts them back after, each signalling the wakeup eventfd; a
	 * source that may recurse keeps them (and no nested loop runs here). */
	g_source_set_can_recurse(&g->source, TRUE);
	g_source_attach(&g->source, NULL);
	dbus_connection_set_data(conn, glue_slot, g, glue_free);
	if (!dbus_connection_add_filter(conn, forged_filter, NULL, NULL))
		return -ENOMEM;
	if (!dbus_connection_set_watch_functions(conn, add_watch_cb, remove_watch_cb, toggle_watch_cb, g, NULL) ||
	    !dbus_connection_set_timeout_functions(conn, add_timeout_cb, remove_timeout_cb, toggle_timeout_cb, g, NULL))
		return -ENOMEM;
	dbus_connection_set_dispatch_status_function(conn, status_cb, g, NULL);
	/* What came before (the Hello reply's neighbours): asked once. */
	g->remains = dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS;
	return 0;
}

void dbus_glib_detach(DBusConnection *conn)
{
	dbus_connection_remove_filter(conn, forged_filter, NULL);
	dbus_connection_set_dispatch_status_function(conn, NULL, NULL, NULL);
	dbus_connection_set_watch_functions(conn, NULL, NULL, NULL, NULL, NULL);
	dbus_connection_set_timeout_functions(conn, NULL, NULL, NULL, NULL, NULL);
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

enum dbus_glib_loss dbus_glib_loss(DBusMessage *msg, const char *name)
{
	const char *lost = NULL;

	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		LOG_ERR("lost the D-Bus connection; exiting for the supervisor to restart us");
		return DBUS_GLIB_LOST_CONNECTION;
	}
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameLost") &&
	    dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &lost, DBUS_TYPE_INVALID) && lost &&
	    strcmp(lost, name) == 0) {
		LOG_ERR("lost the bus name %s; exiting", lost);
		return DBUS_GLIB_LOST_NAME;
	}
	return DBUS_GLIB_LOST_NOTHING;
}
