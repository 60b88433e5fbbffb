/* SPDX-License-Identifier: MIT */
/*
 * jkbms-view: a live view of battery services, read back from D-Bus with
 * GetItems the way the GX GUI reads it. Refreshes every second until Ctrl-C.
 * Usage: jkbms-view [--once | --list | --get PATH | --set PATH INT] [SERVICE]
 * Without SERVICE the view shows every com.victronenergy.battery.* on the
 * system bus, one block each (several PB packs on one port are one service
 * each); --get and --set take the first; --list prints the names.
 */
#include <dbus/dbus.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_find.h"
#include "dbus_dict.h"

#define MAX_ITEMS 512

struct item {
	char path[96];
	char text[96];
	double num;
	bool valid;
	bool is_string;
};

static struct item items[MAX_ITEMS];
static int n_items;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const struct item *find(const char *path)
{
	for (int i = 0; i < n_items; i++) {
		if (strcmp(items[i].path, path) == 0)
			return &items[i];
	}
	return NULL;
}

static const char *text(const char *path)
{
	const struct item *it = find(path);

	return it ? it->text : "(missing)";
}

static int get_items(DBusConnection *c, const char *service)
{
	DBusMessage *m = dbus_message_new_method_call(service, "/", "com.victronenergy.BusItem", "GetItems");
	DBusError err;
	DBusMessageIter it, arr, e, dict, var;

	dbus_error_init(&err);
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 2000, &err);

	dbus_message_unref(m);
	if (!r) {
		fprintf(stderr, "jkbms-view: %s: %s\n", service, err.message);
		dbus_error_free(&err);
		return -1;
	}
	n_items = 0;
	dbus_message_iter_init(r, &it);
	dbus_message_iter_recurse(&it, &arr);
	while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY && n_items < MAX_ITEMS) {
		struct item *x = &items[n_items++];
		const char *p;

		memset(x, 0, sizeof(*x));
		dbus_message_iter_recurse(&arr, &e);
		dbus_message_iter_get_basic(&e, &p);
		snprintf(x->path, sizeof(x->path), "%s", p);
		dbus_message_iter_next(&e);
		dbus_message_iter_recurse(&e, &dict);
		const char *key;

		while (dbus_dict_next(&dict, &key, &var)) {
			int t = dbus_message_iter_get_arg_type(&var);

			if (strcmp(key, "Text") == 0 && t == DBUS_TYPE_STRING) {
				const char *s;

				dbus_message_iter_get_basic(&var, &s);
				snprintf(x->text, sizeof(x->text), "%s", s);
			} else if (strcmp(key, "Value") == 0) {
				DBusBasicValue b;

				x->valid = t != DBUS_TYPE_ARRAY;
				x->is_string = t == DBUS_TYPE_STRING;
				if (t == DBUS_TYPE_DOUBLE) {
					dbus_message_iter_get_basic(&var, &b);
					x->num = b.dbl;
				} else if (t == DBUS_TYPE_INT32) {
					dbus_message_iter_get_basic(&var, &b);
					x->num = b.i32;
				}
			}
		}
		dbus_message_iter_next(&arr);
	}
	dbus_message_unref(r);
	return 0;
}

/* What the GX's Battery -> History page shows. */
static void show_history(void)
{
	printf("History    cells %s..%s, pack %s..%s, %s..%s\n", text("/History/MinimumCellVoltage"),
	       text("/History/MaximumCellVoltage"), text("/History/MinimumVoltage"), text("/History/MaximumVoltage"),
	       text("/History/MinimumTemperature"), text("/History/MaximumTemperature"));
	printf("           charged %s, discharged %s, drawn %s; discharge deepest %s, last %s, average %s\n",
	       text("/History/ChargedEnergy"), text("/History/DischargedEnergy"), text("/History/TotalAhDrawn"),
	       text("/History/DeepestDischarge"), text("/History/LastDischarge"), text("/History/AverageDischarge"));
	printf("           full discharges %s, since the last full charge %s, voltage alarms low %s high %s, "
	       "cycles %s\n",
	       text("/History/FullDischarges"), text("/History/TimeSinceLastFullCharge"),
	       text("/History/LowVoltageAlarms"), text("/History/HighVoltageAlarms"), text("/History/ChargeCycles"));
}

/* A bank of parallel packs (dbus-jkbms --bank): its packs instead of a
 * link, cells and sensors. */
static bool show_bank(void)
{
	const struct item *c = find("/Mgmt/Connection");

	if (!c || strncmp(c->text, "Bank of", 7) != 0)
		return false;
	printf("Packs      %s: %s online, %s offline, %s blocking charge, %s blocking discharge; cable alarm %s\n",
	       text("/Mgmt/Connection"), text("/System/NrOfModulesOnline"), text("/System/NrOfModulesOffline"),
	       text("/System/NrOfModulesBlockingCharge"), text("/System/NrOfModulesBlockingDischarge"),
	       text("/Alarms/BmsCable"));
	printf("Battery    %s  %s  %s  SoC %s  %s  (%s of %s)\n", text("/Dc/0/Voltage"), text("/Dc/0/Current"),
	       text("/Dc/0/Power"), text("/Soc"), text("/Dc/0/Temperature"), text("/Capacity"),
	       text("/InstalledCapacity"));
	printf("Cells      min %s (%s), max %s (%s)\n", text("/System/MinCellVoltage"),
	       text("/System/MinVoltageCellId"), text("/System/MaxCellVoltage"), text("/System/MaxVoltageCellId"));
	return true;
}

static void show_pack(int cells)
{
	printf("Link       connected %s, cable alarm %s, state %s; /State %s, /ErrorCode %s\n", text("/Connected"),
	       text("/Alarms/BmsCable"), text("/Diagnostics/Link/State"), text("/State"), text("/ErrorCode"));
	printf("Battery    %s  %s  %s  SoC %s  %s\n", text("/Dc/0/Voltage"), text("/Dc/0/Current"), text("/Dc/0/Power"),
	       text("/Soc"), text("/Dc/0/Temperature"));
	printf("Cells     ");
	for (int i = 1; i <= cells; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/Voltages/Cell%d", i);
		printf(" %s", text(p));
		if (i % 8 == 0 && i < cells)
			printf("\n          ");
	}
	printf("\n           min %s (%s), max %s (%s), diff %s, balancing %s\n", text("/System/MinCellVoltage"),
	       text("/System/MinVoltageCellId"), text("/System/MaxCellVoltage"), text("/System/MaxVoltageCellId"),
	       text("/Voltages/Diff"), text("/Balancing"));
	printf("           midpoint %s, deviation %s\n", text("/Dc/0/MidVoltage"), text("/Dc/0/MidVoltageDeviation"));
	printf("Temps      MOSFET %s, T1 %s, T2 %s\n", text("/System/MOSTemperature"), text("/System/Temperature1"),
	       text("/System/Temperature2"));
}

static void show_alarms(void)
{
	int shown = 0;

	printf("Alarms    ");
	for (int i = 0; i < n_items; i++) {
		if (strncmp(items[i].path, "/Alarms/", 8) == 0 && items[i].valid && items[i].num != 0) {
			printf(" %s=%g", items[i].path + 8, items[i].num);
			shown++;
		}
	}
	printf("%s\n", shown ? "" : " none");
}

static void show(const char *service)
{
	const struct item *n = find("/System/NrOfCellsPerBattery");
	int cells = n && n->valid ? (int)n->num : 0;
	bool bank;

	printf("%s  (device instance %s, %s)\n", service, text("/DeviceInstance"), text("/ProductName"));
	bank = show_bank();
	if (!bank)
		show_pack(cells);
	printf("Limits     CVL %s  CCL %s  DCL %s  low %s\n", text("/Info/MaxChargeVoltage"),
	       text("/Info/MaxChargeCurrent"), text("/Info/MaxDischargeCurrent"), text("/Info/BatteryLowVoltage"));
	if (bank)
		printf("           charge: %s; discharge: %s\n", text("/Info/ChargeLimitation"),
		       text("/Info/DischargeLimitation"));
	else
		printf("           mode %s; charge: %s; discharge: %s\n", text("/Info/ChargeMode"),
		       text("/Info/ChargeLimitation"), text("/Info/DischargeLimitation"));
	show_alarms();
	if (!bank)
		show_history();
	if (!bank)
		printf("Polls      %s sent, %s answered, %s timeouts, %s rejected frames\n",
		       text("/Diagnostics/Link/Polls"), text("/Diagnostics/Link/Replies"),
		       text("/Diagnostics/Link/Timeouts"), text("/Diagnostics/Link/RejectedFrames"));
	fflush(stdout);
}

struct options {
	bool once, list;
	const char *service, *get, *set_path;
	long set_value;
};

static void parse_args(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			o->once = true;
		else if (strcmp(argv[i], "--list") == 0)
			o->list = true;
		else if (strcmp(argv[i], "--get") == 0 && i + 1 < argc)
			o->get = argv[++i];
		else if (strcmp(argv[i], "--set") == 0 && i + 2 < argc) {
			o->set_path = argv[++i];
			o->set_value = strtol(argv[++i], NULL, 0);
		} else
			o->service = argv[i];
	}
}

/* The service named, or the first battery service to appear (malloc'd); NULL
 * (reported) if none does. */
static char *find_service(DBusConnection *c, const char *service)
{
	char *found = service ? strdup(service) : NULL;

	for (int tries = 0; !found && tries < 100 && !stop; tries++) {
		found = bus_find_battery(c, 2000);
		if (!found)
			usleep(100000);
	}
	if (!found)
		fprintf(stderr, "jkbms-view: no com.victronenergy.battery.* service on the bus\n");
	return found;
}

/* SetValue with an int32, for scripts: prints the returned code. */
static int set_value(DBusConnection *c, const char *found, const char *set_path, long set_value)
{
	DBusMessage *m = dbus_message_new_method_call(found, set_path, "com.victronenergy.BusItem", "SetValue");
	DBusMessageIter it, var;
	int32_t v = (int32_t)set_value, code = -1;

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "i", &var);
	dbus_message_iter_append_basic(&var, DBUS_TYPE_INT32, &v);
	dbus_message_iter_close_container(&it, &var);
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 2000, NULL);

	dbus_message_unref(m);
	if (!r || !dbus_message_get_args(r, NULL, DBUS_TYPE_INT32, &code, DBUS_TYPE_INVALID)) {
		fprintf(stderr, "jkbms-view: SetValue %s failed\n", set_path);
		return 1;
	}
	dbus_message_unref(r);
	printf("%d\n", code);
	return 0;
}

/* One value, for scripts: the number, the text, or "invalid". */
static int get_value(DBusConnection *c, const char *found, const char *get)
{
	if (get_items(c, found) < 0)
		return 1;
	const struct item *it = find(get);

	if (!it) {
		fprintf(stderr, "jkbms-view: %s has no path %s\n", found, get);
		return 1;
	}
	if (!it->valid)
		printf("invalid\n");
	else if (it->is_string)
		printf("%s\n", it->text);
	else
		printf("%g\n", it->num);
	return 0;
}

#define MAX_SERVICES 64

/* One refresh: the service named, or every battery service on the bus
 * (looked up again each time: packs come and go). False when none could be
 * read. */
static bool show_all(DBusConnection *c, const char *service, bool clear)
{
	char *names[MAX_SERVICES];
	int n = 0, shown = 0;

	if (service)
		names[n++] = strdup(service);
	else
		n = bus_find_batteries(c, 2000, names, MAX_SERVICES);
	if (clear)
		printf("\033[H\033[2J");
	for (int i = 0; i < n; i++) {
		if (names[i] && get_items(c, names[i]) == 0) {
			printf("%s", shown++ ? "\n" : "");
			show(names[i]);
		}
		free(names[i]);
	}
	fflush(stdout);
	return shown > 0;
}

/* The live view: once, or every second until a signal. */
static int watch(DBusConnection *c, const char *service, bool once)
{
	do {
		if (!show_all(c, service, !once && isatty(STDOUT_FILENO)) && (once || service))
			return 1;
		if (!once)
			sleep(1);
	} while (!once && !stop);
	return 0;
}

static int list(DBusConnection *c)
{
	char *names[MAX_SERVICES];
	int n = bus_find_batteries(c, 2000, names, MAX_SERVICES);

	for (int i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	return n < 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	DBusError err;

	parse_args(argc, argv, &o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dbus_error_init(&err);
	DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);

	if (!c) {
		fprintf(stderr, "jkbms-view: %s\n", err.message);
		return 1;
	}
	char *found = o.list ? NULL : find_service(c, o.service);
	int ret;

	if (o.list) {
		ret = list(c);
	} else if (!found) {
		ret = 1;
	} else if (o.set_path) {
		ret = set_value(c, found, o.set_path, o.set_value);
	} else if (o.get) {
		ret = get_value(c, found, o.get);
	} else {
		ret = watch(c, o.service, o.once);
	}
	free(found);
	dbus_connection_close(c);
	dbus_connection_unref(c);
	return ret;
}
