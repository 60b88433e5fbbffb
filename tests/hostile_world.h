/* SPDX-License-Identifier: MIT */
/*
 * The rig the hostile-input tests share (test_hostile.c,
 * test_hostile_settings.c): the real dbus-jkbms on a private bus with the
 * simulator and a settings stand-in, a model of the values that only
 * accepted writes may change, the checks run after each attack (alive,
 * still polling, values as modelled, refusals logged once), and the values
 * of every D-Bus type with the rules for what SetValue makes of them.
 */
#ifndef HOSTILE_WORLD_H
#define HOSTILE_WORLD_H
#include <stdbool.h>
#include <stddef.h>

#include <gio/gio.h>

#include "bus_harness.h"
#include "sim_harness.h"

#define NAME "com.victronenergy.battery.ttyJK"
#define BUSITEM "com.victronenergy.BusItem"

struct world {
	struct bus bus;
	struct simproc sim;
	struct child settings, svc;
	char config[400];
	GVariant *items0;  /* GetItems at the start */
	GHashTable *model; /* stable path -> the value it must have */
};

/* ---- the world --------------------------------------------------------- */

/* Start bus, settings stand-in (--misbehave misbehave, NULL for none),
 * simulator and service; take the model. */
struct world *up(const char *misbehave);
/* Alive at the end, clean exit on SIGTERM, everything stopped and freed. */
void down(struct world *w);
/* cmocka teardown: stops whatever a failed test left running. */
int teardown(void **state);

void fail_with_log(struct world *w, const char *what);
void assert_alive(struct world *w, const char *when);
void model_take(struct world *w);
/* Every path still there, none added, the stable ones as the model says. */
void model_check(struct world *w, const char *when);
/* The BMS is still being polled: the simulator sees new requests. */
void assert_polling(struct world *w);
/* Each "SetValue ... refused" line at most once, and few of them. */
void assert_refusals_logged_once(struct world *w);
void assert_log_has(struct world *w, const char *text);

/* ---- the rules, written independently of the service --------------------- */

enum kind {
	RO,
	NAME_PATH,
	FLAG,
	COMMAND /* /History/Clear: only 1, and the path keeps reading 0 */
};

/* The SetValue code for v on a path of kind k; *accepted gets the value it
 * then publishes (floating). README.md, "Hostile input". */
int expected(enum kind k, GVariant *v, GVariant **accepted);

struct target {
	const char *path;
	enum kind kind;
};

/* The paths the attacks write to, n_targets of them. */
extern const struct target targets[];
extern const size_t n_targets;

/* ---- values ------------------------------------------------------------ */

/* A 1 MiB string (floating). */
GVariant *huge_string(void);
/* Every basic type with edge values, and containers of every shape (plus a
 * 1 MiB string and array if huge). */
GPtrArray *every_value(bool huge);
/* prefix/N0/N1/... depth levels deep (g_free it). */
char *deep_path(int depth, const char *prefix);

#endif
