/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): the floor of the bank (dbus-jkbms --bank)
 * per member update, for scripts/bench.sh to measure the bank against with
 * bench_members playing the members. What the bank cannot avoid for each
 * member's ItemsChanged: receiving it through libdbus on a match rule for
 * that member's name, as the bank holds one per member (so neither the
 * signals of other services nor its own come back to it), and sending one
 * ItemsChanged of the bank's usual size (6 entries: voltage, current,
 * power, the two capacities and the charge limit moving on its ramp). The
 * message is read into libdbus, which checks it as it does for the bank,
 * but not looked into: no values, no combination.
 * libdbus is driven by its watch, as the service's glue does it: poll(2)
 * on the socket, dbus_watch_handle() when it is readable, then the
 * messages popped (dbus_connection_read_write() would poll a second time).
 * The members are the battery services on the bus when it starts
 * (bench.sh starts it once they all have their names).
 * Usage: bench_floor_bank   (runs until SIGTERM or SIGINT)
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "floor_items.h"

#define BATTERY_PREFIX "com.victronenergy.battery."
#define BANK_NAME "com.victronenergy.battery.jkbank"
#define MATCH_MEMBER "type='signal',sender='%s',interface='com.victronenergy.BusItem',member='ItemsChanged',path='/'"
#define WATCHES_MAX 4

static volatile sig_atomic_t stop;
static DBusWatch *watches[WATCHES_MAX];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static dbus_bool_t add_watch(DBusWatch *w, void *data)
{
	(void)data;
	for (unsigned k = 0; k < WATCHES_MAX; k++) {
		if (!watches[k]) {
			watches[k] = w;
			return TRUE;
		}
	}
	return FALSE;
}

static void remove_watch(DBusWatch *w, void *data)
{
	(void)data;
	for (unsigned k = 0; k < WATCHES_MAX; k++) {
		if (watches[k] == w)
			watches[k] = NULL;
	}
}

static void toggle_watch(DBusWatch *w, void *data)
{
	(void)w, (void)data; /* the events are read from the watch before each poll */
}

static unsigned watch_wants(DBusWatch *w)
{
	return w && dbus_watch_get_enabled(w) ? dbus_watch_get_flags(w) : 0;
}

/* poll(2) on the socket for what the enabled watches want, then hand each
 * watch what came. Returns false when the poll failed (a signal). */
static bool wait_and_read(int fd)
{
	struct pollfd pfd = { .fd = fd };

	for (unsigned k = 0; k < WATCHES_MAX; k++) {
		unsigned wants = watch_wants(watches[k]);

		pfd.events |= (wants & DBUS_WATCH_READABLE ? POLLIN : 0) | (wants & DBUS_WATCH_WRITABLE ? POLLOUT : 0);
	}
	if (poll(&pfd, 1, -1) < 0)
		return false;

	unsigned got = (pfd.revents & POLLIN ? DBUS_WATCH_READABLE : 0) |
		(pfd.revents & POLLOUT ? DBUS_WATCH_WRITABLE : 0) | (pfd.revents & POLLHUP ? DBUS_WATCH_HANGUP : 0) |
		(pfd.revents & POLLERR ? DBUS_WATCH_ERROR : 0);

	for (unsigned k = 0; k < WATCHES_MAX; k++) {
		unsigned flags = got & (watch_wants(watches[k]) | DBUS_WATCH_HANGUP | DBUS_WATCH_ERROR);

		if (watch_wants(watches[k]) && flags)
			dbus_watch_handle(watches[k], flags);
	}
	return true;
}

/* The bank's ItemsChanged for one member update. */
static DBusMessage *items_changed(void)
{
	static const struct floor_item head[] = {
		{ "/Dc/0/Voltage", 52.81, "52.81V" },
		{ "/Dc/0/Current", 213.4, "213.40A" },
		{ "/Dc/0/Power", 11269, "11269W" },
		{ "/Capacity", 2240.0, "2240.0Ah" },
		{ "/ConsumedAmphours", -2240.0, "-2240.0Ah" },
		{ "/Info/MaxChargeCurrent", 1280.4, "1280.4A" },
	};

	return floor_items_changed(head, sizeof(head) / sizeof(head[0]), 0);
}

/* A rule for each battery service on the bus but the bank's name. Returns
 * how many, or -1 (err set). */
static int follow_members(DBusConnection *conn, DBusError *err)
{
	DBusMessage *call = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
							 "ListNames");
	DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, call, 3000, err);
	char **names = NULL;
	int n = 0, followed = 0;

	dbus_message_unref(call);
	if (!reply)
		return -1;
	if (!dbus_message_get_args(reply, err, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names, &n, DBUS_TYPE_INVALID)) {
		dbus_message_unref(reply);
		return -1;
	}
	for (int k = 0; k < n && !dbus_error_is_set(err); k++) {
		char rule[320];

		if (strncmp(names[k], BATTERY_PREFIX, strlen(BATTERY_PREFIX)) != 0 || strcmp(names[k], BANK_NAME) == 0)
			continue;
		snprintf(rule, sizeof(rule), MATCH_MEMBER, names[k]);
		dbus_bus_add_match(conn, rule, err);
		followed++;
	}
	dbus_free_string_array(names);
	dbus_message_unref(reply);
	return dbus_error_is_set(err) ? -1 : followed;
}

int main(void)
{
	DBusError err;

	dbus_error_init(&err);
	DBusConnection *conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
	int members = conn ? follow_members(conn, &err) : -1;

	if (members < 0) {
		fprintf(stderr, "bench_floor_bank: %s\n", err.message);
		return 1;
	}
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	if (!dbus_connection_set_watch_functions(conn, add_watch, remove_watch, toggle_watch, NULL, NULL)) {
		fprintf(stderr, "bench_floor_bank: out of memory\n");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	DBusMessage *tmpl = items_changed();
	unsigned long updates = 0;
	int fd = -1;

	dbus_connection_get_unix_fd(conn, &fd);
	printf("floor: ready, %d members\n", members);
	fflush(stdout);
	while (!stop && dbus_connection_get_is_connected(conn)) {
		DBusMessage *msg;

		if (!wait_and_read(fd))
			continue;
		while ((msg = dbus_connection_pop_message(conn)) != NULL) {
			if (dbus_message_is_signal(msg, "com.victronenergy.BusItem", "ItemsChanged")) {
				DBusMessage *m = dbus_message_copy(tmpl);

				dbus_connection_send(conn, m, NULL);
				dbus_message_unref(m);
				updates++;
			}
			dbus_message_unref(msg);
		}
	}
	fprintf(stderr, "floor: %lu member updates\n", updates);
	dbus_message_unref(tmpl);
	dbus_connection_close(conn);
	dbus_connection_unref(conn);
	return 0;
}
