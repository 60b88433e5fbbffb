/* SPDX-License-Identifier: MIT */
/*
 * The libdbus glue on the GLib main loop (src/io/dbus_glib.c), on a private
 * bus: a message libdbus queued while no bytes are left on the socket (read
 * by a blocking call while it waited for its reply) is still dispatched by
 * the loop, and once the queue is empty the loop has nothing to do (no
 * source stays ready, so it cannot spin); so is the error reply a call's
 * timeout queues.
 */
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dbus/dbus.h>

#include "bus_harness.h"
#include "dbus_glib.h"

#define IFACE "org.jkbms.Test"

static unsigned pings;
static struct bus bus; /* started and stopped by the group: a failed check leaves no daemon behind */

static int bus_up(void **state)
{
	(void)state;
	bus_start(&bus);
	return 0;
}

static int bus_down(void **state)
{
	(void)state;
	bus_stop(&bus);
	return 0;
}

static DBusHandlerResult count_pings(DBusConnection *conn, DBusMessage *msg, void *data)
{
	(void)conn;
	(void)data;
	if (dbus_message_is_signal(msg, IFACE, "Ping"))
		pings++;
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* Run what is ready, up to a bound: a source that stays ready would spin
 * the loop forever. Returns how many iterations dispatched something. */
static unsigned drain(void)
{
	unsigned n = 0;

	while (n < 1000 && g_main_context_iteration(NULL, FALSE))
		n++;
	return n;
}

/* A round trip to the bus: everything conn sent before has been routed. */
static void round_trip(DBusConnection *conn)
{
	DBusMessage *call = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
							 "GetId");
	DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, call, 3000, NULL);

	assert_non_null(reply);
	dbus_message_unref(reply);
	dbus_message_unref(call);
}

static void test_queued_by_a_blocking_call(void **state)
{
	const char *err = NULL;

	(void)state;
	DBusConnection *glued = dbus_glib_open_system(&err);
	DBusConnection *other = dbus_bus_get_private(DBUS_BUS_SYSTEM, NULL);

	assert_non_null(glued);
	assert_non_null(other);
	assert_true(dbus_connection_add_filter(glued, count_pings, NULL, NULL));
	DBusError err2;

	dbus_error_init(&err2);
	/* With an error to fill, it waits for the bus's reply: the rule is in
	 * place before the ping is sent. */
	dbus_bus_add_match(glued, "type='signal',interface='" IFACE "'", &err2);
	assert_false(dbus_error_is_set(&err2));
	/* Whatever the connection had to say at start (NameAcquired) is seen. */
	assert_true(drain() < 1000);

	/* The ping is routed to glued before glued's own call is answered, so
	 * the blocking call reads both and leaves the ping queued, with the
	 * socket empty behind it. */
	DBusMessage *ping = dbus_message_new_signal("/", IFACE, "Ping");

	assert_true(dbus_connection_send(other, ping, NULL));
	dbus_message_unref(ping);
	round_trip(other);
	round_trip(glued);
	assert_int_equal(pings, 0); /* not dispatched yet: only queued */

	gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

	while (pings == 0 && g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, FALSE);
	assert_int_equal(pings, 1);
	/* Nothing is left to do: a ready source now would spin the loop. */
	assert_true(drain() < 1000);
	assert_false(g_main_context_pending(NULL));
	assert_int_equal(pings, 1);

	dbus_connection_remove_filter(glued, count_pings, NULL);
	dbus_glib_detach(glued);
	dbus_connection_close(glued);
	dbus_connection_unref(glued);
	dbus_connection_close(other);
	dbus_connection_unref(other);
}

static void got_reply(DBusPendingCall *call, void *data)
{
	DBusMessage **out = data;

	*out = dbus_pending_call_steal_reply(call);
}

/* A call whose peer never answers: its timeout (a GLib timeout source, not
 * the socket) queues the error reply, and the loop dispatches it with
 * nothing on the socket to wake it. */
static void test_reply_timeout_dispatched(void **state)
{
	const char *err = NULL;
	DBusMessage *reply = NULL;
	DBusPendingCall *call = NULL;

	(void)state;
	DBusConnection *glued = dbus_glib_open_system(&err);
	DBusConnection *mute = dbus_bus_get_private(DBUS_BUS_SYSTEM, NULL); /* never reads */

	assert_non_null(glued);
	assert_non_null(mute);
	assert_true(drain() < 1000);
	DBusMessage *msg = dbus_message_new_method_call(dbus_bus_get_unique_name(mute), "/", IFACE, "Hang");

	assert_true(dbus_connection_send_with_reply(glued, msg, &call, 200));
	assert_non_null(call);
	dbus_message_unref(msg);
	assert_true(dbus_pending_call_set_notify(call, got_reply, &reply, NULL));

	gint64 until = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;

	while (!reply && g_get_monotonic_time() < until) { /* never blocked: a stuck reply fails, not hangs */
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(2000);
	}
	assert_non_null(reply);
	assert_int_equal(dbus_message_get_type(reply), DBUS_MESSAGE_TYPE_ERROR);
	assert_string_equal(dbus_message_get_error_name(reply), DBUS_ERROR_NO_REPLY);
	dbus_message_unref(reply);
	dbus_pending_call_unref(call);
	assert_true(drain() < 1000);
	assert_false(g_main_context_pending(NULL));

	dbus_glib_detach(glued);
	dbus_connection_close(glued);
	dbus_connection_unref(glued);
	dbus_connection_close(mute);
	dbus_connection_unref(mute);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queued_by_a_blocking_call),
		cmocka_unit_test(test_reply_timeout_dispatched),
	};

	return cmocka_run_group_tests(tests, bus_up, bus_down);
}
