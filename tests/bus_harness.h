/* SPDX-License-Identifier: MIT */
/*
 * Whole-daemon test harness: a private system-bus stand-in
 * (scripts/private-bus.sh), child processes with their logs, and a GDBus
 * client (an implementation independent of the service's libdbus code);
 * and the pieces every whole-daemon rig starts the service with (its
 * configuration, the settings stand-in, waiting for its name, its stop).
 */
#ifndef BUS_HARNESS_H
#define BUS_HARNESS_H

#include <gio/gio.h>
#include <stdbool.h>
#include <sys/types.h>

struct bus {
	char dir[256];
	char address[600];
	pid_t daemon_pid;
	GDBusConnection *conn;
};

struct child {
	pid_t pid;
	char log[320];
	int status;
	bool exited;
};

/* Start a private bus in a fresh directory, export its address as
 * DBUS_SYSTEM_BUS_ADDRESS for children, and connect a client. */
void bus_start(struct bus *b);
void bus_stop(struct bus *b);

/* Spawn argv (NULL-terminated) with stdout+stderr to dir/<name>.log. */
void child_spawn(struct child *c, const struct bus *b, const char *name, const char *const *argv);
/* SIGTERM, then wait (SIGKILL after 3 s). Returns the exit status. */
int child_stop(struct child *c);
/* Has it exited? Fills c->status. */
bool child_exited(struct child *c);
/* The child's log as a string (g_free it). */
char *child_log(const struct child *c);

bool bus_has_owner(struct bus *b, const char *name);
/* Iterate until name has an owner or timeout. */
bool bus_wait_name(struct bus *b, const char *name, unsigned timeout_ms);

/* Calls on a service; NULL (and *error) on a D-Bus error. */
GVariant *bus_call(struct bus *b, const char *dest, const char *path, const char *iface, const char *method,
		   GVariant *args, GError **error);
/* GetItems as a{sa{sv}} (floating ref removed; unref it). */
GVariant *bus_get_items(struct bus *b, const char *dest);
/* The "Value" of path in a GetItems result; NULL if absent; an invalid
 * value is returned as the empty "ai" variant. Unref the result. */
GVariant *items_value(GVariant *items, const char *path);
bool value_is_invalid(GVariant *v);
/* SetValue returning its code. */
int bus_set_value(struct bus *b, const char *dest, const char *path, GVariant *value);
/* GetValue of one path (unwrapped variant; unref it). */
GVariant *bus_get_value(struct bus *b, const char *dest, const char *path);

/* Iterate the default main context until cond(ud) or timeout. */
bool loop_until(bool (*cond)(void *ud), void *ud, unsigned timeout_ms);

/* ---- the service under test --------------------------------------------- */

/* The dbus-jkbms a rig starts: $JKBMS_BIN (another build of the service
 * run against the same checks, e.g. the static armhf release under qemu),
 * else the build's own. */
const char *service_bin(void);
/* Writes <bus dir>/jkbms.ini: base, then state_dir=<bus dir>/state, then
 * extra (NULL: nothing); its path into path. */
void config_write(const struct bus *b, char *path, size_t size, const char *base, const char *extra);
/* Spawns service_bin() on link (a tty, or --bank) with --config config;
 * its log <log>.log. */
void service_spawn(struct child *c, const struct bus *b, const char *log, const char *link, const char *config);
/* The settings stand-in (--misbehave how, unless how is NULL), up with its
 * name. */
void settings_start(struct child *c, struct bus *b, const char *how);
/* Waits for name; fails the test with c's log when it does not come. */
void wait_name_or_fail(struct bus *b, const struct child *c, const char *name, unsigned timeout_ms);
/* child_stop(), printing the child's log unless it exited 0. */
int child_stop_verbose(struct child *c);
/* For a teardown: a child must exit 0 on SIGTERM, or have exited 0 already
 * (under the sanitizers a finding, a leak at exit too, is a non-zero exit).
 * 0 when it did, was never started, or its test saw it end (child_exited()
 * or child_stop() said so: how it ended is that test's business); else -1
 * with its log printed. */
int child_stop_clean(struct child *c);
/* A number a service publishes: an int32 or a double; NAN otherwise. */
double bus_number(struct bus *b, const char *dest, const char *path);
/* Polls path every 100 ms until it is within tol of want; fails the test
 * after timeout_ms with the last value. */
void bus_wait_number(struct bus *b, const char *dest, const char *path, double want, double tol, unsigned timeout_ms);

#endif
