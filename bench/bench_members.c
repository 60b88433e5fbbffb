/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): plays N bank members on the system bus for
 * dbus-jkbms --bank, each on a D-Bus connection of its own, named
 * com.victronenergy.battery.benchN, with the paths a member publishes
 * (the BusItem tree of the real service, 16 cell paths included). Each
 * member sends one ItemsChanged per "poll" at RATE polls per second with
 * what changes every poll of a pack under a moving current: voltage,
 * current, power, capacity, consumed Ah, every cell, the cell extremes and
 * the limits now and then. Writes the number of updates sent so far to
 * COUNT_FILE on SIGUSR1 and at exit.
 * Usage: bench_members N RATE COUNT_FILE
 */
#include <glib-unix.h>
#include <signal.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "busitem.h"
#include "dbus_glib.h"

#define MAX_MEMBERS 16
#define CELLS 16

struct member {
	DBusConnection *conn;
	struct busitem_tree *tree;
	struct busitem *v, *i, *p, *cap, *used, *minv, *maxv, *ccl, *cells[CELLS];
	unsigned k;
};

static struct member members[MAX_MEMBERS];
static unsigned n_members, next;
static guint64 updates;
static const char *count_file;

static struct busitem *add(struct busitem_tree *t, const char *path, enum busitem_type type, const char *fmt)
{
	struct busitem *it = busitem_add(t, path, type, fmt, NULL, NULL);

	if (!it) {
		fprintf(stderr, "bench_members: cannot add %s\n", path);
		exit(1);
	}
	return it;
}

static void build(struct member *m, unsigned k)
{
	struct busitem_tree *t = m->tree;
	char buf[64];

	m->k = k;
	snprintf(buf, sizeof(buf), "jkbms_BENCH%02u", k);
	busitem_set_string(add(t, "/Serial", BUSITEM_STRING, NULL), buf);
	busitem_set_int(add(t, "/Connected", BUSITEM_INT, NULL), 1);
	busitem_set_int(add(t, "/Bank/Member", BUSITEM_INT, NULL), 1);
	busitem_set_double(add(t, "/Bank/MaxChargeVoltage", BUSITEM_DOUBLE, "%.2fV"), 55.2);
	busitem_set_double(add(t, "/Bank/MaxDischargeCurrent", BUSITEM_DOUBLE, "%.1fA"), 150);
	busitem_set_double(add(t, "/Bank/BatteryLowVoltage", BUSITEM_DOUBLE, "%.2fV"), 44.8);
	busitem_set_double(add(t, "/Bank/FloatVoltage", BUSITEM_DOUBLE, "%.2fV"), 54.0);
	busitem_set_double(add(t, "/InstalledCapacity", BUSITEM_DOUBLE, "%.1fAh"), 280);
	busitem_set_double(add(t, "/Soc", BUSITEM_DOUBLE, "%.0f%%"), 50 + k);
	busitem_set_double(add(t, "/Dc/0/Temperature", BUSITEM_DOUBLE, "%.1fC"), 21);
	busitem_set_string(add(t, "/System/MinVoltageCellId", BUSITEM_STRING, NULL), "C3");
	busitem_set_string(add(t, "/System/MaxVoltageCellId", BUSITEM_STRING, NULL), "C7");
	busitem_set_int(add(t, "/System/NrOfModulesBlockingCharge", BUSITEM_INT, NULL), 0);
	busitem_set_int(add(t, "/System/NrOfModulesBlockingDischarge", BUSITEM_INT, NULL), 0);
	busitem_set_string(add(t, "/Info/ChargeLimitation", BUSITEM_STRING, NULL), "Configured maximum");
	busitem_set_string(add(t, "/Info/DischargeLimitation", BUSITEM_STRING, NULL), "Configured maximum");
	busitem_set_int(add(t, "/Alarms/BmsCable", BUSITEM_INT, NULL), 0);
	busitem_set_int(add(t, "/Alarms/HighCellVoltage", BUSITEM_INT, NULL), 0);
	m->v = add(t, "/Dc/0/Voltage", BUSITEM_DOUBLE, "%.2fV");
	m->i = add(t, "/Dc/0/Current", BUSITEM_DOUBLE, "%.2fA");
	m->p = add(t, "/Dc/0/Power", BUSITEM_DOUBLE, "%.0fW");
	m->cap = add(t, "/Capacity", BUSITEM_DOUBLE, "%.1fAh");
	m->used = add(t, "/ConsumedAmphours", BUSITEM_DOUBLE, "%.1fAh");
	m->minv = add(t, "/System/MinCellVoltage", BUSITEM_DOUBLE, "%.3fV");
	m->maxv = add(t, "/System/MaxCellVoltage", BUSITEM_DOUBLE, "%.3fV");
	m->ccl = add(t, "/Bank/MaxChargeCurrent", BUSITEM_DOUBLE, "%.1fA");
	for (unsigned c = 0; c < CELLS; c++) {
		snprintf(buf, sizeof(buf), "/Voltages/Cell%u", c + 1);
		m->cells[c] = add(t, buf, BUSITEM_DOUBLE, "%.3fV");
	}
}

/* One poll of member m: every value moves a little. */
static void poll_member(struct member *m)
{
	double x = sin((double)updates / 7.0 + m->k);
	double cell = 3.300 + 0.010 * x;

	busitem_set_double(m->v, round((cell * CELLS) * 100) / 100);
	busitem_set_double(m->i, round(20 * x * 100) / 100);
	busitem_set_double(m->p, round(20 * x * cell * CELLS * 10) / 10);
	busitem_set_double(m->cap, round((140 + 5 * x) * 10) / 10);
	busitem_set_double(m->used, round((-140 + 5 * x) * 10) / 10);
	busitem_set_double(m->minv, round((cell - 0.004) * 1000) / 1000);
	busitem_set_double(m->maxv, round((cell + 0.004) * 1000) / 1000);
	busitem_set_double(m->ccl, updates % 10 == 0 ? 100 : 120);
	for (unsigned c = 0; c < CELLS; c++)
		busitem_set_double(m->cells[c], round((cell + 0.001 * ((c * 3) % 9) - 0.004) * 1000) / 1000);
	busitem_flush(m->tree);
	updates++;
}

static gboolean tick(gpointer data)
{
	(void)data;
	poll_member(&members[next]);
	next = (next + 1) % n_members;
	return G_SOURCE_CONTINUE;
}

static void write_count(void)
{
	FILE *f = fopen(count_file, "w");

	if (f) {
		fprintf(f, "%" G_GUINT64_FORMAT "\n", updates);
		fclose(f);
	}
}

static gboolean count_signal(gpointer data)
{
	(void)data;
	write_count();
	return G_SOURCE_CONTINUE;
}

static gboolean stop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	if (argc != 4 || atoi(argv[1]) < 1 || atoi(argv[1]) > MAX_MEMBERS || atof(argv[2]) <= 0) {
		fprintf(stderr, "usage: bench_members N(1..16) RATE(polls/s per member) COUNT_FILE\n");
		return 2;
	}
	n_members = (unsigned)atoi(argv[1]);
	count_file = argv[3];
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);

	for (unsigned k = 0; k < n_members; k++) {
		const char *why = NULL;
		char name[64];

		members[k].conn = dbus_glib_open_system(&why);
		if (!members[k].conn) {
			fprintf(stderr, "bench_members: %s\n", why);
			return 1;
		}
		members[k].tree = busitem_tree_new(members[k].conn, false);
		build(&members[k], k);
		busitem_flush(members[k].tree);
		snprintf(name, sizeof(name), "com.victronenergy.battery.bench%u", k);
		dbus_bus_request_name(members[k].conn, name, DBUS_NAME_FLAG_DO_NOT_QUEUE, NULL);
	}
	/* The members' polls spread evenly over each period. */
	g_timeout_add((guint)(1000.0 / (atof(argv[2]) * n_members)), tick, NULL);
	g_unix_signal_add(SIGUSR1, count_signal, NULL);
	g_unix_signal_add(SIGTERM, stop, loop);
	g_unix_signal_add(SIGINT, stop, loop);
	g_main_loop_run(loop);
	write_count();
	for (unsigned k = 0; k < n_members; k++) {
		busitem_tree_free(members[k].tree);
		dbus_glib_detach(members[k].conn);
		dbus_connection_close(members[k].conn);
		dbus_connection_unref(members[k].conn);
	}
	g_main_loop_unref(loop);
	return 0;
}
