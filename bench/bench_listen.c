/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): listens on the system bus for S seconds and
 * counts every message the services send (signals, and replies to others),
 * recording the monotonic arrival time of each ItemsChanged. With the
 * simulator's --trace file of reply send times it prints the latency from
 * the last byte of a reply to the ItemsChanged it causes.
 * Usage: bench_listen SERVICE[,SERVICE...] SECONDS [SIM_TRACE_FILE]
 * (several services: the packs of one PB bus, each with its own name)
 */
#include <dbus/dbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EVENTS 100000
#define MAX_SERVICES 16

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t items_at[MAX_EVENTS];
static uint64_t sends[MAX_EVENTS];
static uint64_t lat[MAX_EVENTS];

/* The unique name owning SERVICE (malloc'd), or NULL: match rules on it see
 * every message the service sends. */
static char *service_owner(DBusConnection *c, const char *service, DBusError *err)
{
	DBusMessage *m = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
						      "org.freedesktop.DBus", "GetNameOwner");
	dbus_message_append_args(m, DBUS_TYPE_STRING, &service, DBUS_TYPE_INVALID);
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 2000, err);
	const char *owner = NULL;

	dbus_message_unref(m);
	if (!r || !dbus_message_get_args(r, err, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID)) {
		fprintf(stderr, "bench_listen: %s has no owner\n", service);
		return NULL;
	}
	char *unique = strdup(owner);

	dbus_message_unref(r);
	return unique;
}

/* Become a monitor of everything the n unique names send; false (reported)
 * on failure. */
static int become_monitor(DBusConnection *c, char **unique, unsigned n, DBusError *err)
{
	char rules[MAX_SERVICES][256];
	DBusMessage *m = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
						      "org.freedesktop.DBus.Monitoring", "BecomeMonitor");
	DBusMessageIter it, arr;
	uint32_t flags = 0;

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &arr);
	for (unsigned k = 0; k < n; k++) {
		const char *rp = rules[k];

		snprintf(rules[k], sizeof(rules[k]), "sender='%s'", unique[k]);
		dbus_message_iter_append_basic(&arr, DBUS_TYPE_STRING, &rp);
	}
	dbus_message_iter_close_container(&it, &arr);
	dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &flags);
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 2000, err);

	dbus_message_unref(m);
	if (!r) {
		fprintf(stderr, "bench_listen: BecomeMonitor: %s\n", err->message);
		return 0;
	}
	dbus_message_unref(r);
	return 1;
}

static int is_one_of(const char *sender, char **unique, unsigned n)
{
	for (unsigned k = 0; sender && k < n; k++) {
		if (strcmp(sender, unique[k]) == 0)
			return 1;
	}
	return 0;
}

/* Count what the n unique names send for SECONDS, printing the totals;
 * returns the number of ItemsChanged recorded in items_at[]. */
static unsigned long listen_for(DBusConnection *c, char **unique, unsigned n, double seconds)
{
	unsigned long messages = 0, signals = 0, items = 0, props = 0;
	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);

	while (now_ns() < end) {
		dbus_connection_read_write(c, 100);
		DBusMessage *msg;

		while ((msg = dbus_connection_pop_message(c)) != NULL) {
			if (is_one_of(dbus_message_get_sender(msg), unique, n)) {
				messages++;
				if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_SIGNAL) {
					signals++;
					if (dbus_message_has_member(msg, "ItemsChanged") && items < MAX_EVENTS)
						items_at[items++] = now_ns();
					if (dbus_message_has_member(msg, "PropertiesChanged"))
						props++;
				}
			}
			dbus_message_unref(msg);
		}
	}
	printf("listen_seconds=%.1f messages=%lu signals=%lu items_changed=%lu properties_changed=%lu\n", seconds,
	       messages, signals, items, props);
	return items;
}

/* The latency from each reply in the simulator's TRACE file to the
 * ItemsChanged it causes (median, p95, max). */
static void print_latency(const char *trace, unsigned long items)
{
	FILE *f = fopen(trace, "r");
	unsigned long n = 0, k = 0, nl = 0;
	unsigned long long v;

	while (f && n < MAX_EVENTS && fscanf(f, "%llu", &v) == 1)
		sends[n++] = v;
	if (f)
		fclose(f);
	/* Each ItemsChanged follows the latest reply sent before it. */
	for (unsigned long i = 0; i < items; i++) {
		while (k + 1 < n && sends[k + 1] <= items_at[i])
			k++;
		if (n && sends[k] <= items_at[i] && items_at[i] - sends[k] < 1000000000ull)
			lat[nl++] = items_at[i] - sends[k];
	}
	if (nl) {
		qsort(lat, nl, sizeof(lat[0]), cmp_u64);
		printf("latency_samples=%lu latency_median_us=%.0f latency_p95_us=%.0f latency_max_us=%.0f\n", nl,
		       lat[nl / 2] / 1e3, lat[nl * 95 / 100] / 1e3, lat[nl - 1] / 1e3);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_listen SERVICE[,SERVICE...] SECONDS [SIM_TRACE_FILE]\n");
		return 2;
	}
	char *services = strdup(argv[1]), *save = NULL;
	double seconds = atof(argv[2]);
	char *unique[MAX_SERVICES];
	unsigned n = 0;
	DBusError err;

	dbus_error_init(&err);
	DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);

	if (!c) {
		fprintf(stderr, "bench_listen: %s\n", err.message);
		return 1;
	}
	for (char *name = strtok_r(services, ",", &save); name && n < MAX_SERVICES; name = strtok_r(NULL, ",", &save)) {
		unique[n] = service_owner(c, name, &err);
		if (!unique[n++])
			return 1;
	}
	if (!n || !become_monitor(c, unique, n, &err))
		return 1;
	unsigned long items = listen_for(c, unique, n, seconds);

	if (argc > 3)
		print_latency(argv[3], items);
	for (unsigned k = 0; k < n; k++)
		free(unique[k]);
	free(services);
	dbus_connection_close(c);
	dbus_connection_unref(c);
	return 0;
}
