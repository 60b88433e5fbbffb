/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "bus_harness.h"

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef PRIVATE_BUS_SCRIPT
#error "PRIVATE_BUS_SCRIPT must be defined by the build"
#endif

void bus_start(struct bus *b)
{
	char cmd[512], line[512];
	GError *err = NULL;

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "%s/jkbus-XXXXXX", g_get_tmp_dir());
	assert_non_null(mkdtemp(b->dir));
	snprintf(cmd, sizeof(cmd), "%s start %s", PRIVATE_BUS_SCRIPT, b->dir);
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "DBUS_SYSTEM_BUS_ADDRESS=", 24) == 0)
			snprintf(b->address, sizeof(b->address), "%s", line + 24);
		else if (strncmp(line, "PID=", 4) == 0)
			b->daemon_pid = atoi(line + 4);
	}
	assert_int_equal(pclose(p), 0);
	assert_true(b->address[0] && b->daemon_pid > 0);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", b->address, 1);
	b->conn = g_dbus_connection_new_for_address_sync(b->address,
							 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							 NULL, NULL, &err);
	if (!b->conn)
		fail_msg("cannot connect to the private bus: %s", err->message);
}

void bus_stop(struct bus *b)
{
	char cmd[512];

	if (b->conn) {
		g_dbus_connection_close_sync(b->conn, NULL, NULL);
		g_object_unref(b->conn);
		b->conn = NULL;
	}
	snprintf(cmd, sizeof(cmd), "%s stop %s", PRIVATE_BUS_SCRIPT, b->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

void child_spawn(struct child *c, const struct bus *b, const char *name, const char *const *argv)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->log, sizeof(c->log), "%s/%s.log", b->dir, name);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		int fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);

		dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
}

bool child_exited(struct child *c)
{
	if (c->exited)
		return true;
	if (c->pid > 0 && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->exited = true;
	return c->exited;
}

int child_stop(struct child *c)
{
	if (c->pid <= 0)
		return -1;
	if (!child_exited(c)) {
		kill(c->pid, SIGTERM);
		for (int i = 0; i < 300 && !child_exited(c); i++)
			usleep(10000);
		if (!child_exited(c)) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &c->status, 0);
			c->exited = true;
		}
	}
	return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status);
}

char *child_log(const struct child *c)
{
	gchar *text = NULL;

	if (!g_file_get_contents(c->log, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

GVariant *bus_call(struct bus *b, const char *dest, const char *path, const char *iface, const char *method,
		   GVariant *args, GError **error)
{
	return g_dbus_connection_call_sync(b->conn, dest, path, iface, method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 3000,
					   NULL, error);
}

bool bus_has_owner(struct bus *b, const char *name)
{
	GVariant *r = bus_call(b, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "NameHasOwner", g_variant_new("(s)", name), NULL);
	gboolean has = FALSE;

	if (r) {
		g_variant_get(r, "(b)", &has);
		g_variant_unref(r);
	}
	return has;
}

struct name_wait {
	struct bus *b;
	const char *name;
};

static bool name_owned(void *ud)
{
	struct name_wait *w = ud;

	return bus_has_owner(w->b, w->name);
}

bool bus_wait_name(struct bus *b, const char *name, unsigned timeout_ms)
{
	struct name_wait w = { b, name };

	return loop_until(name_owned, &w, timeout_ms);
}

GVariant *bus_get_items(struct bus *b, const char *dest)
{
	GError *err = NULL;
	GVariant *r = bus_call(b, dest, "/", "com.victronenergy.BusItem", "GetItems", NULL, &err);

	if (!r)
		fail_msg("GetItems on %s: %s", dest, err->message);
	GVariant *items = g_variant_get_child_value(r, 0);

	g_variant_unref(r);
	return items;
}

GVariant *items_value(GVariant *items, const char *path)
{
	GVariant *entry = g_variant_lookup_value(items, path, G_VARIANT_TYPE("a{sv}"));

	if (!entry)
		return NULL;
	GVariant *v = g_variant_lookup_value(entry, "Value", NULL);

	g_variant_unref(entry);
	return v;
}

bool value_is_invalid(GVariant *v)
{
	return v && g_variant_is_of_type(v, G_VARIANT_TYPE("ai")) && g_variant_n_children(v) == 0;
}

int bus_set_value(struct bus *b, const char *dest, const char *path, GVariant *value)
{
	GError *err = NULL;
	GVariant *r = bus_call(b, dest, path, "com.victronenergy.BusItem", "SetValue", g_variant_new("(v)", value),
			       &err);
	int32_t code;

	if (!r)
		fail_msg("SetValue %s: %s", path, err->message);
	g_variant_get(r, "(i)", &code);
	g_variant_unref(r);
	return code;
}

GVariant *bus_get_value(struct bus *b, const char *dest, const char *path)
{
	GError *err = NULL;
	GVariant *r = bus_call(b, dest, path, "com.victronenergy.BusItem", "GetValue", NULL, &err);
	GVariant *v;

	if (!r)
		fail_msg("GetValue %s: %s", path, err->message);
	g_variant_get(r, "(v)", &v);
	g_variant_unref(r);
	return v;
}

static gboolean wake(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

bool loop_until(bool (*cond)(void *ud), void *ud, unsigned timeout_ms)
{
	bool expired = false;
	guint id = g_timeout_add(timeout_ms, wake, &expired);

	while (!cond(ud) && !expired) {
		/* Poll at least every 20 ms: conditions may depend on other processes. */
		bool tick = false;
		guint t = g_timeout_add(20, wake, &tick);

		g_main_context_iteration(NULL, TRUE);
		if (!tick)
			g_source_remove(t);
	}
	if (!expired)
		g_source_remove(id);
	return cond(ud);
}

/* ---- the service under test --------------------------------------------- */

#ifndef DBUS_JKBMS_BIN
#error "DBUS_JKBMS_BIN must be defined by the build"
#endif
#ifndef FAKE_SETTINGS_BIN
#error "FAKE_SETTINGS_BIN must be defined by the build"
#endif

const char *service_bin(void)
{
	const char *bin = getenv("JKBMS_BIN");

	return bin ? bin : DBUS_JKBMS_BIN;
}

void config_write(const struct bus *b, char *path, size_t size, const char *base, const char *extra)
{
	char *text = g_strdup_printf("%sstate_dir=%s/state\n%s", base, b->dir, extra ? extra : "");

	snprintf(path, size, "%s/jkbms.ini", b->dir);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(text);
}

void service_spawn(struct child *c, const struct bus *b, const char *log, const char *link, const char *config)
{
	const char *argv[] = { service_bin(), link, "--config", config, NULL };

	child_spawn(c, b, log, argv);
}

void settings_start(struct child *c, struct bus *b, const char *how)
{
	const char *argv[] = { FAKE_SETTINGS_BIN, how ? "--misbehave" : NULL, how, NULL };

	child_spawn(c, b, "settings", argv);
	assert_true(bus_wait_name(b, "com.victronenergy.settings", 5000));
}

void wait_name_or_fail(struct bus *b, const struct child *c, const char *name, unsigned timeout_ms)
{
	if (!bus_wait_name(b, name, timeout_ms)) {
		char *log = child_log(c);

		fail_msg("%s did not register; its log:\n%s", name, log);
	}
}

int child_stop_clean(struct child *c)
{
	if (c->pid <= 0 || c->exited) { /* never started, or its test saw it end */
		child_stop(c);
		return 0;
	}
	return child_stop_verbose(c) == 0 ? 0 : -1;
}

int child_stop_verbose(struct child *c)
{
	int code = child_stop(c);

	if (code != 0) {
		char *log = child_log(c);

		print_message("log of %s:\n%s\n", c->log, log);
		g_free(log);
	}
	return code;
}

double bus_number(struct bus *b, const char *dest, const char *path)
{
	GVariant *v = bus_get_value(b, dest, path);
	double d = g_variant_is_of_type(v, G_VARIANT_TYPE_INT32) ? g_variant_get_int32(v)
		: g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(v)
								 : NAN;

	g_variant_unref(v);
	return d;
}

void bus_wait_number(struct bus *b, const char *dest, const char *path, double want, double tol, unsigned timeout_ms)
{
	double v = NAN;

	for (unsigned t = 0; t <= timeout_ms; t += 100) {
		v = bus_number(b, dest, path);
		if (fabs(v - want) <= tol)
			return;
		g_usleep(100000);
	}
	fail_msg("%s %s is %g, want %g", dest, path, v, want);
}
