/* SPDX-License-Identifier: MIT */
/*
 * The paths a battery service publishes, as one const table (path, type,
 * text format, group, getter), in the manner of BlueZ's property tables.
 * The getters read the battery model, the policy's output and the link's
 * counters; they do no arithmetic beyond units and rounding. The list is
 * mirrored in docs/dbus-paths.md and README.md.
 */
#ifndef SERVICE_PATHS_H
#define SERVICE_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "battery.h"
#include "busitem.h"
#include "history.h"
#include "link.h"
#include "policy.h"
#include "units.h"

/* Venus OS numbers (docs/dbus-paths.md). */
#define VENUS_PRODUCT_ID 0xFFFF /* no Victron product id: no systemcalc quirk applies */
#define VENUS_STATE_RUNNING 9
#define VENUS_STATE_ERROR 10
/* /ErrorCode: Victron's BMS error list (VE_REG_BMS_ERROR); /State is
 * VENUS_STATE_ERROR exactly while it is not VENUS_ERROR_NONE. */
#define VENUS_ERROR_NONE 0
#define VENUS_ERROR_MEASURE 7 /* "Battery measure error": a cell not measured */
#define VENUS_ERROR_COMM 23   /* "Battery comm. error": the link is lost */

struct bank_output;

/* What the getters read. */
struct service_view {
	bool member;                    /* a member of a bank: its limits under /Bank/, /Info/ limits invalid */
	const struct bank_output *bank; /* the bank service's combination (bank_paths.c), else NULL */
	const struct battery *bat;
	const struct policy_output *pol; /* NULL before the policy ran */
	const struct history *hist;      /* NULL before it was loaded */
	int64_t wall_s;                  /* wall clock, for the time since the last full charge */
	enum poller_link link;
	const struct poller_counters *polls;
	const struct link_counters *counters;
};

enum path_group {
	PATH_FIXED,   /* set by the service itself (identity, settings, writable paths) */
	PATH_INFO,    /* from the battery, kept while the link is lost */
	PATH_MEASURE, /* from the battery, invalid while the link is lost */
	PATH_CONTROL, /* limits, alarms and link state: always published */
	PATH_COUNTER, /* link counters: at once on trouble, else at most every 10 s */
	PATH_HISTORY, /* the history: always published, kept while the link is lost */
};

enum path_result {
	PATH_SET,
	PATH_INVALID,
	PATH_KEEP
};

struct path_value {
	int32_t i;
	double d;
	const char *s;
	char buf[64];
};

typedef enum path_result (*path_get_fn)(const struct service_view *v, unsigned arg, struct path_value *out);

struct path_def {
	const char *path;
	enum busitem_type type;
	const char *fmt; /* GetText of an int or string; a double's comes from its unit */
	enum path_group group;
	path_get_fn get; /* NULL for PATH_FIXED */
	unsigned arg;    /* e.g. which alarm */
	enum unit unit;  /* a double's unit and resolution (units.h), else UNIT_NONE */
};

extern const struct path_def service_paths[];
extern const size_t service_path_count;

/* A path that exists only on a bank member: /Bank/... (docs/bank.md). */
bool service_path_member_only(const struct path_def *def);

/* Index of a path in the table, for the service's own paths; the path must
 * be there. */
size_t service_path_index(const char *path);

/* Index of an alarm's path ("/Alarms/LowSoc"). */
size_t service_alarm_index(enum policy_alarm a);

/* The GetText format of a path (what busitem_add() takes, the bank's paths
 * too): its unit's for a double, whose value busitem_set_double() then
 * rounds to that unit's resolution (units.h). */
const char *service_path_format(const struct path_def *def);

/* Set item from def's getter (or invalidate it, or leave it). */
void service_path_publish(struct busitem *item, const struct path_def *def, const struct service_view *v);

/* The value of cell k (0-based): invalid when the BMS does not measure it. */
void service_cell_publish(struct busitem *item, const struct service_view *v, unsigned k);

#endif
