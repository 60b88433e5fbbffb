/* SPDX-License-Identifier: MIT */
/* The bank with members played by the test: see bank_peers.h. */
#include "bank_peers.h"
#include "sim_harness.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BUSITEM_IFACE "com.victronenergy.BusItem"
#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"

static const char introspection[] = "<node><interface name='com.victronenergy.BusItem'>"
				    "<method name='GetItems'><arg type='a{sa{sv}}' direction='out'/></method>"
				    "</interface></node>";

static struct peers_world *current;

static GVariant *items_of(struct peer *p, const char *only)
{
	GVariantBuilder b;
	GHashTableIter it;
	gpointer k, v;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
	g_hash_table_iter_init(&it, p->values);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (only && strcmp(only, k) != 0)
			continue;
		GVariantBuilder props;

		g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&props, "{sv}", "Value", (GVariant *)v);
		g_variant_builder_add(&props, "{sv}", "Text", g_variant_new_string(""));
		g_variant_builder_add(&b, "{sa{sv}}", (const char *)k, &props);
	}
	return g_variant_builder_end(&b);
}

static void on_call(GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface, const gchar *method,
		    GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
	struct peer *p = data;

	(void)c, (void)sender, (void)path, (void)iface, (void)method, (void)params;
	if (p->calls < PEER_CALLS)
		p->call_us[p->calls] = g_get_monotonic_time();
	p->calls++;
	if (p->fail_reads) {
		p->fail_reads--;
		g_dbus_method_invocation_return_dbus_error(inv, PEER_ERROR, "not ready");
		return;
	}
	if (p->hold_reads) {
		p->hold_reads--;
		p->held = g_slist_prepend(p->held, inv);
		return;
	}
	g_dbus_method_invocation_return_value(inv, g_variant_new_tuple((GVariant *[]){ items_of(p, NULL) }, 1));
	p->reads++;
	if (p->after) { /* queued behind the reply on the same connection */
		GVariant *v = p->after;
		char *path_after = p->after_path;

		p->after = NULL;
		p->after_path = NULL;
		peer_change(p, path_after, v);
		g_variant_unref(v);
		g_free(path_after);
	}
}

static const GDBusInterfaceVTable vtable = { on_call, NULL, NULL, { 0 } };

void peer_set(struct peer *p, const char *path, GVariant *v)
{
	g_hash_table_replace(p->values, g_strdup(path), g_variant_ref_sink(v));
}

void peer_change(struct peer *p, const char *path, GVariant *v)
{
	peer_set(p, path, v);
	GVariant *params = g_variant_new_tuple((GVariant *[]){ items_of(p, path) }, 1);

	assert_true(g_dbus_connection_emit_signal(p->conn, NULL, "/", BUSITEM_IFACE, "ItemsChanged", params, NULL));
	g_dbus_connection_flush_sync(p->conn, NULL, NULL);
}

void peer_change_after_reply(struct peer *p, const char *path, GVariant *v)
{
	g_free(p->after_path);
	if (p->after)
		g_variant_unref(p->after);
	p->after_path = g_strdup(path);
	p->after = g_variant_ref_sink(v);
}

GVariant *invalid_value(void)
{
	return g_variant_new_from_data(G_VARIANT_TYPE("ai"), NULL, 0, TRUE, NULL, NULL);
}

struct count_wait {
	const unsigned *count;
	unsigned want;
};

static bool count_reached(void *ud)
{
	struct count_wait *x = ud;

	return *x->count >= x->want;
}

void wait_reads(struct peers_world *w, unsigned k, unsigned reads, unsigned ms)
{
	struct count_wait x = { &w->p[k].reads, reads };

	if (!loop_until(count_reached, &x, ms))
		fail_msg("%s answered %u GetItems, want %u", w->p[k].name, w->p[k].reads, reads);
}

void wait_calls(struct peers_world *w, unsigned k, unsigned calls, unsigned ms)
{
	struct count_wait x = { &w->p[k].calls, calls };

	if (!loop_until(count_reached, &x, ms))
		fail_msg("%s was sent %u GetItems, want %u", w->p[k].name, w->p[k].calls, calls);
}

/* RequestName or ReleaseName, which answer 1 when done (primary owner,
 * released). */
static void request(struct peer *p, const char *method, GVariant *args)
{
	GError *err = NULL;
	GVariant *r = g_dbus_connection_call_sync(p->conn, DBUS_NAME, DBUS_PATH, DBUS_NAME, method, args,
						  G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, &err);
	guint32 code = 0;

	if (!r)
		fail_msg("%s %s: %s", method, p->name, err->message);
	g_variant_get(r, "(u)", &code);
	g_variant_unref(r);
	if (code != 1)
		fail_msg("%s %s: %u", method, p->name, code);
}

/* RequestName's flags: 1 allow replacement, 2 replace existing, 4 do not
 * queue. */
void peer_own(struct peers_world *w, unsigned k)
{
	peer_own_as(w, k, k);
}

void peer_own_as(struct peers_world *w, unsigned k, unsigned as)
{
	struct peer *p = &w->p[k];

	snprintf(p->name, sizeof(p->name), "com.victronenergy.battery.peer%02u", as);
	request(p, "RequestName", g_variant_new("(su)", p->name, k == as ? 1 | 4 : 2 | 4));
	if (k != as)
		w->p[as].name[0] = '\0';
}

void peer_release(struct peers_world *w, unsigned k)
{
	struct peer *p = &w->p[k];

	request(p, "ReleaseName", g_variant_new("(s)", p->name));
	p->name[0] = '\0';
}

void peer_up(struct peers_world *w, unsigned k, double ccl, bool own)
{
	struct peer *p = &w->p[k];
	GError *err = NULL;
	char uid[16];

	p->conn = g_dbus_connection_new_for_address_sync(w->bus.address,
							 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							 NULL, NULL, &err);
	assert_non_null(p->conn);
	p->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	snprintf(uid, sizeof(uid), "PACK%02u", k);
	peer_set(p, "/Serial", g_variant_new_string(uid));
	peer_set(p, "/Connected", g_variant_new_int32(1));
	peer_set(p, "/Bank/Member", g_variant_new_int32(1));
	peer_set(p, "/Bank/MaxChargeVoltage", g_variant_new_double(55.2));
	peer_set(p, "/Bank/MaxChargeCurrent", g_variant_new_double(ccl));
	peer_set(p, "/Bank/MaxDischargeCurrent", g_variant_new_double(100));
	peer_set(p, "/Bank/FloatVoltage", g_variant_new_double(53.6));
	peer_set(p, "/Dc/0/Voltage", g_variant_new_double(53.0));
	peer_set(p, "/Soc", g_variant_new_double(50));
	peer_set(p, "/InstalledCapacity", g_variant_new_double(100));
	peer_set(p, "/Info/ChargeLimitation", g_variant_new_string("Configured maximum"));
	p->reg = g_dbus_connection_register_object(p->conn, "/", w->node->interfaces[0], &vtable, p, NULL, &err);
	assert_true(p->reg > 0);
	if (own)
		peer_own(w, k);
}

void peer_down(struct peer *p)
{
	if (!p->conn)
		return;
	/* Answered at last, long after the caller's timeout. */
	for (GSList *l = p->held; l; l = l->next)
		g_dbus_method_invocation_return_dbus_error(l->data, PEER_ERROR, "too late");
	g_slist_free(p->held);
	g_dbus_connection_unregister_object(p->conn, p->reg);
	g_dbus_connection_close_sync(p->conn, NULL, NULL);
	g_object_unref(p->conn);
	g_hash_table_destroy(p->values);
	g_free(p->after_path);
	if (p->after)
		g_variant_unref(p->after);
	memset(p, 0, sizeof(*p));
}

struct peers_world *peers_world_up(void)
{
	struct peers_world *w = g_new0(struct peers_world, 1);

	current = w;
	w->node = g_dbus_node_info_new_for_xml(introspection, NULL);
	bus_start(&w->bus);
	settings_start(&w->settings, &w->bus, NULL);
	snprintf(w->config, sizeof(w->config), "%s/jkbms.ini", w->bus.dir);
	assert_true(g_file_set_contents(w->config, "[jkbms]\nsettings_timeout=2\n", -1, NULL));
	return w;
}

void peers_bank_start(struct peers_world *w)
{
	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
	wait_name_or_fail(&w->bus, &w->bank, BANK, 8000);
}

int peers_world_teardown(void **state)
{
	struct peers_world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;

	int clean = child_stop_clean(&w->bank);

	if (w->monitor) {
		g_dbus_connection_close_sync(w->monitor, NULL, NULL);
		g_object_unref(w->monitor);
	}
	for (unsigned k = 0; k < PEERS; k++)
		peer_down(&w->p[k]);
	child_stop(&w->settings);
	bus_stop(&w->bus);
	g_dbus_node_info_unref(w->node);
	g_free(w->bank_unique);
	g_free(w);
	return clean;
}

/* ---- the GetItems sent ---------------------------------------------------- */

/* In GDBus's worker thread. A method call a monitor is sent is counted and
 * dropped: a monitor may send nothing (the daemon would disconnect it),
 * not even GDBus's own answer to a call it has no object for. */
static GDBusMessage *count_getitems(GDBusConnection *c, GDBusMessage *msg, gboolean incoming, gpointer data)
{
	struct peers_world *w = data;

	(void)c;
	if (!incoming || g_dbus_message_get_message_type(msg) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
		return msg; /* BecomeMonitor's reply among them */
	if (g_strcmp0(g_dbus_message_get_member(msg), "GetItems") == 0)
		g_atomic_int_inc(&w->getitems);
	g_object_unref(msg);
	return NULL;
}

void getitems_watch(struct peers_world *w, const char *name)
{
	GError *err = NULL;
	char *rule = g_strdup_printf("type='method_call',member='GetItems',destination='%s'", name);
	const char *rules[] = { rule, NULL };

	assert_null(w->monitor);
	w->monitor = g_dbus_connection_new_for_address_sync(w->bus.address,
							    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
								    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
							    NULL, NULL, &err);
	assert_non_null(w->monitor);
	g_dbus_connection_add_filter(w->monitor, count_getitems, w, NULL);
	GVariant *r = g_dbus_connection_call_sync(w->monitor, DBUS_NAME, DBUS_PATH, "org.freedesktop.DBus.Monitoring",
						  "BecomeMonitor", g_variant_new("(^asu)", rules, 0), NULL,
						  G_DBUS_CALL_FLAGS_NONE, 2000, NULL, &err);

	if (!r)
		fail_msg("BecomeMonitor: %s", err->message);
	g_variant_unref(r);
	g_free(rule);
}

unsigned getitems_seen(struct peers_world *w)
{
	return (unsigned)g_atomic_int_get(&w->getitems);
}

/* ---- the bank's values ---------------------------------------------------- */

struct wait {
	struct peers_world *w;
	const char *path;
	double want;
};

double bank_number(struct peers_world *w, const char *path)
{
	return bus_number(&w->bus, BANK, path);
}

char *bank_text(struct peers_world *w, const char *path)
{
	GVariant *v = bus_get_value(&w->bus, BANK, path);
	char *t = g_strdup(v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ? g_variant_get_string(v, NULL) : "");

	if (v)
		g_variant_unref(v);
	return t;
}

static bool number_is(void *ud)
{
	struct wait *x = ud;

	return fabs(bank_number(x->w, x->path) - x->want) < 1e-6;
}

void wait_number(struct peers_world *w, const char *path, double want, unsigned ms)
{
	struct wait x = { w, path, want };

	if (!loop_until(number_is, &x, ms))
		fail_msg("%s is %g, want %g", path, bank_number(w, path), want);
}

void hold_number(struct peers_world *w, const char *path, double want, unsigned ms)
{
	run_for(ms);
	assert_float_equal(bank_number(w, path), want, 1e-6);
}

/* ---- the bank's connection ------------------------------------------------ */

/* The unique name of the connection of process pid, or NULL. */
static char *unique_of_pid(struct bus *b, pid_t pid)
{
	GVariant *r = bus_call(b, DBUS_NAME, DBUS_PATH, DBUS_NAME, "ListNames", NULL, NULL);
	GVariantIter *it;
	const char *name;
	char *found = NULL;

	assert_non_null(r);
	g_variant_get(r, "(as)", &it);
	while (!found && g_variant_iter_next(it, "&s", &name)) {
		GVariant *p = name[0] == ':' ? bus_call(b, DBUS_NAME, DBUS_PATH, DBUS_NAME,
							"GetConnectionUnixProcessID", g_variant_new("(s)", name), NULL)
					     : NULL;
		guint32 id = 0;

		if (!p)
			continue;
		g_variant_get(p, "(u)", &id);
		g_variant_unref(p);
		if ((pid_t)id == pid)
			found = g_strdup(name);
	}
	g_variant_iter_free(it);
	g_variant_unref(r);
	return found;
}

unsigned bank_match_rules(struct peers_world *w)
{
	GError *err = NULL;
	guint32 n = 0;

	if (!w->bank_unique)
		w->bank_unique = unique_of_pid(&w->bus, w->bank.pid);
	if (!w->bank_unique)
		fail_msg("the bank (pid %d) has no connection on the bus", (int)w->bank.pid);
	GVariant *r = bus_call(&w->bus, DBUS_NAME, DBUS_PATH, "org.freedesktop.DBus.Debug.Stats", "GetConnectionStats",
			       g_variant_new("(s)", w->bank_unique), &err);

	if (!r)
		fail_msg("GetConnectionStats %s: %s", w->bank_unique, err->message);
	GVariant *stats = g_variant_get_child_value(r, 0);

	if (!g_variant_lookup(stats, "MatchRules", "u", &n))
		fail_msg("GetConnectionStats: no MatchRules");
	g_variant_unref(stats);
	g_variant_unref(r);
	return n;
}

struct rules_wait {
	struct peers_world *w;
	unsigned want;
};

static bool rules_are(void *ud)
{
	struct rules_wait *x = ud;

	return bank_match_rules(x->w) == x->want;
}

void wait_match_rules(struct peers_world *w, unsigned want, unsigned ms)
{
	struct rules_wait x = { w, want };

	if (!loop_until(rules_are, &x, ms)) {
		char *log = child_log(&w->bank);

		print_message("the bank's log:\n");
		fputs(log, stdout);
		g_free(log);
		fail_msg("the bank holds %u match rules, want %u", bank_match_rules(w), want);
	}
}

unsigned long bank_wakeups(struct peers_world *w)
{
	char *dir_path = g_strdup_printf("/proc/%d/task", (int)w->bank.pid);
	GDir *dir = g_dir_open(dir_path, 0, NULL);
	const char *task;
	unsigned long n = 0;

	assert_non_null(dir);
	while ((task = g_dir_read_name(dir)) != NULL) {
		char *file = g_strdup_printf("%s/%s/status", dir_path, task);
		char *text = NULL;
		const char *at;

		if (g_file_get_contents(file, &text, NULL, NULL) &&
		    (at = strstr(text, "\nvoluntary_ctxt_switches:")) != NULL)
			n += strtoul(at + strlen("\nvoluntary_ctxt_switches:"), NULL, 10);
		g_free(text);
		g_free(file);
	}
	g_dir_close(dir);
	g_free(dir_path);
	return n;
}
