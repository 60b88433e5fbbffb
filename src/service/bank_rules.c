/* SPDX-License-Identifier: MIT */
/*
 * What the bank asks the dbus-daemon to send it (docs/bank.md "Finding and
 * following members"): NameOwnerChanged of the battery names, and the
 * ItemsChanged of each member through a match rule of its own, scoped to
 * the member's well-known name. The daemon matches such a rule against the
 * connection that owns the name when a signal passes, so a rule follows
 * the name to its next owner.
 *
 * Not one rule for every ItemsChanged on "/": on a GX every service
 * (systemcalc, vebus, the chargers, other batteries) emits them there, and
 * the bank would wake for each one and for its own ItemsChanged too, to
 * drop them. A rule per member is still no polling: the members' signals
 * are all the bank reads after their GetItems.
 *
 * Each rule is added once and removed once: `followed` holds the names
 * with a rule. AddMatch and RemoveMatch are sent without waiting for the
 * daemon's answer (no blocking round trip in the main loop); an error is
 * not read. A member whose rule the daemon refused is not heard, and goes
 * offline after bank_member_timeout like any member that says nothing.
 */
#define G_LOG_DOMAIN "bank"

#include <errno.h>

#include "bank_private.h"
#include "log.h"

#define MATCH_OWNER \
	"type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS \
	"',member='NameOwnerChanged',arg0namespace='com.victronenergy.battery'"

/* The rule for name's ItemsChanged (a bus name holds no quote). */
static char *items_rule(const char *name)
{
	return g_strdup_printf("type='signal',sender='%s',interface='com.victronenergy.BusItem',"
			       "member='ItemsChanged',path='/'",
			       name);
}

int bank_rules_start(struct bank_service *b)
{
	DBusError err;

	b->followed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	dbus_error_init(&err);
	dbus_bus_add_match(b->conn, MATCH_OWNER, &err);
	if (dbus_error_is_set(&err)) {
		LOG_ERR("cannot watch the bus: %s", err.message);
		dbus_error_free(&err);
		return -EIO;
	}
	return 0;
}

void bank_rules_follow(struct bank_service *b, const char *name)
{
	if (g_hash_table_contains(b->followed, name))
		return;
	char *rule = items_rule(name);

	dbus_bus_add_match(b->conn, rule, NULL);
	g_free(rule);
	g_hash_table_add(b->followed, g_strdup(name));
}

void bank_rules_drop(struct bank_service *b, const char *name)
{
	if (!g_hash_table_contains(b->followed, name))
		return;
	char *rule = items_rule(name);

	dbus_bus_remove_match(b->conn, rule, NULL);
	g_free(rule);
	g_hash_table_remove(b->followed, name);
}

void bank_rules_stop(struct bank_service *b)
{
	/* The daemon drops a connection's rules with the connection. */
	if (b->followed)
		g_hash_table_destroy(b->followed);
	b->followed = NULL;
}
