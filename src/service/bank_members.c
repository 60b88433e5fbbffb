/* SPDX-License-Identifier: MIT */
/*
 * How the bank finds and follows its members (docs/bank.md "The bank
 * service"): every com.victronenergy.battery.* service is read once with
 * GetItems, at start (ListNames) and whenever its name gets an owner
 * (NameOwnerChanged); one whose /Bank/Member is 1 is a member, followed from
 * then on through its ItemsChanged only (one match rule for all, no
 * polling). A member whose name loses its owner is offline at once.
 */
#define G_LOG_DOMAIN "bank"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bank_private.h"
#include "log.h"

#define CALL_TIMEOUT_MS 3000
#define MATCH_OWNER \
	"type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS \
	"',member='NameOwnerChanged',arg0namespace='com.victronenergy.battery'"
#define MATCH_ITEMS "type='signal',interface='com.victronenergy.BusItem',member='ItemsChanged',path='/'"

/* What a member path feeds. */
enum field_kind {
	F_VALUE,      /* a measurement (enum bank_value) */
	F_LIMIT,      /* a /Bank/ limit (enum bank_limit) */
	F_ALARM,      /* an alarm level */
	F_CONNECTED,  /* /Connected */
	F_BLOCK,      /* /System/NrOfModulesBlocking*: 0 charge, 1 discharge */
	F_CELL_ID,    /* 0 min, 1 max */
	F_LIMITATION, /* 0 charge, 1 discharge */
	F_SERIAL,     /* the unique id */
	F_MEMBER,     /* /Bank/Member */
};

struct bank_field {
	enum field_kind kind;
	unsigned arg;
};

static const struct {
	const char *path;
	struct bank_field f;
} field_table[] = {
	{ "/Dc/0/Voltage", { F_VALUE, BANK_VOLTAGE } },
	{ "/Dc/0/Current", { F_VALUE, BANK_CURRENT } },
	{ "/Dc/0/Power", { F_VALUE, BANK_POWER } },
	{ "/Dc/0/Temperature", { F_VALUE, BANK_TEMPERATURE } },
	{ "/Soc", { F_VALUE, BANK_SOC } },
	{ "/Capacity", { F_VALUE, BANK_CAPACITY } },
	{ "/InstalledCapacity", { F_VALUE, BANK_INSTALLED } },
	{ "/ConsumedAmphours", { F_VALUE, BANK_CONSUMED } },
	{ "/System/MinCellVoltage", { F_VALUE, BANK_MIN_CELL } },
	{ "/System/MaxCellVoltage", { F_VALUE, BANK_MAX_CELL } },
	{ "/System/MinVoltageCellId", { F_CELL_ID, 0 } },
	{ "/System/MaxVoltageCellId", { F_CELL_ID, 1 } },
	{ "/System/NrOfModulesBlockingCharge", { F_BLOCK, 0 } },
	{ "/System/NrOfModulesBlockingDischarge", { F_BLOCK, 1 } },
	{ "/Bank/MaxChargeVoltage", { F_LIMIT, BANK_CVL } },
	{ "/Bank/MaxChargeCurrent", { F_LIMIT, BANK_CCL } },
	{ "/Bank/MaxDischargeCurrent", { F_LIMIT, BANK_DCL } },
	{ "/Bank/BatteryLowVoltage", { F_LIMIT, BANK_BLV } },
	{ "/Bank/FloatVoltage", { F_LIMIT, BANK_FLOAT } },
	{ "/Bank/Member", { F_MEMBER, 0 } },
	{ "/Info/ChargeLimitation", { F_LIMITATION, 0 } },
	{ "/Info/DischargeLimitation", { F_LIMITATION, 1 } },
	{ "/Connected", { F_CONNECTED, 0 } },
	{ "/Serial", { F_SERIAL, 0 } },
	{ "/Alarms/BmsCable", { F_ALARM, BANK_ALARM_BMS_CABLE } },
};

static void build_fields(struct bank_service *b)
{
	static struct bank_field alarms[POLICY_ALARM_COUNT];

	b->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (size_t k = 0; k < G_N_ELEMENTS(field_table); k++)
		g_hash_table_insert(b->fields, g_strdup(field_table[k].path), (gpointer)&field_table[k].f);
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++) {
		alarms[a] = (struct bank_field){ F_ALARM, a };
		g_hash_table_insert(b->fields, g_strdup_printf("/Alarms/%s", policy_alarm_name((enum policy_alarm)a)),
				    &alarms[a]);
	}
}

/* ---- reading values ----------------------------------------------------- */

/* A variant's number (int or double); false when invalid (an empty array)
 * or of another type. */
static bool variant_number(DBusMessageIter *var, double *out)
{
	int32_t i;

	switch (dbus_message_iter_get_arg_type(var)) {
	case DBUS_TYPE_DOUBLE:
		dbus_message_iter_get_basic(var, out);
		return true;
	case DBUS_TYPE_INT32:
		dbus_message_iter_get_basic(var, &i);
		*out = i;
		return true;
	default:
		return false;
	}
}

static const char *variant_string(DBusMessageIter *var)
{
	const char *s = "";

	if (dbus_message_iter_get_arg_type(var) == DBUS_TYPE_STRING)
		dbus_message_iter_get_basic(var, &s);
	return s;
}

static void apply_field(struct bank_member *m, const struct bank_field *f, DBusMessageIter *var, bool *member)
{
	double x = 0;
	bool ok = variant_number(var, &x);

	switch (f->kind) {
	case F_VALUE:
		m->value[f->arg] = x;
		m->has[f->arg] = ok;
		break;
	case F_LIMIT:
		m->limit[f->arg] = x;
		m->has_limit[f->arg] = ok;
		break;
	case F_ALARM:
		m->alarm[f->arg] = ok && x >= 0 && x <= 2 ? (uint8_t)x : 0;
		break;
	case F_CONNECTED:
		m->connected = ok && x == 1;
		break;
	case F_BLOCK:
		*(f->arg ? &m->blocking_discharge : &m->blocking_charge) = ok && x > 0;
		break;
	case F_CELL_ID:
		snprintf(f->arg ? m->max_cell_id : m->min_cell_id, sizeof(m->min_cell_id), "%s", variant_string(var));
		break;
	case F_LIMITATION:
		snprintf(f->arg ? m->discharge_limitation : m->charge_limitation, sizeof(m->charge_limitation), "%s",
			 variant_string(var));
		break;
	case F_SERIAL:
		snprintf(m->uid, sizeof(m->uid), "%s", variant_string(var));
		break;
	case F_MEMBER:
		*member = ok && x == 1;
		break;
	}
}

/* Apply an a{sa{sv}} (GetItems reply or ItemsChanged) to m; false if the
 * message is not one. */
static bool apply_items(struct bank_service *b, DBusMessage *msg, struct bank_member *m, bool *member)
{
	DBusMessageIter it, arr, entry, props, kv, var;

	if (!dbus_message_has_signature(msg, "a{sa{sv}}"))
		return false;
	dbus_message_iter_init(msg, &it);
	dbus_message_iter_recurse(&it, &arr);
	for (; dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&arr)) {
		const char *path;

		dbus_message_iter_recurse(&arr, &entry);
		dbus_message_iter_get_basic(&entry, &path);
		const struct bank_field *f = g_hash_table_lookup(b->fields, path);

		if (!f)
			continue;
		dbus_message_iter_next(&entry);
		dbus_message_iter_recurse(&entry, &props);
		for (; dbus_message_iter_get_arg_type(&props) == DBUS_TYPE_DICT_ENTRY; dbus_message_iter_next(&props)) {
			const char *key;

			dbus_message_iter_recurse(&props, &kv);
			dbus_message_iter_get_basic(&kv, &key);
			if (strcmp(key, "Value") != 0)
				continue;
			dbus_message_iter_next(&kv);
			dbus_message_iter_recurse(&kv, &var);
			apply_field(m, f, &var, member);
		}
	}
	return true;
}

/* ---- members -------------------------------------------------------------- */

static int member_by_owner(struct bank_service *b, const char *owner)
{
	for (unsigned k = 0; k < b->n; k++) {
		if (b->owner[k] && strcmp(b->owner[k], owner) == 0)
			return (int)k;
	}
	return -1;
}

/* Its slot: the same unique id (a pack on another port keeps its
 * position), else the same bus name, else a new one (-1: full). */
static int member_slot(struct bank_service *b, const char *uid, const char *name)
{
	for (unsigned k = 0; k < b->n; k++) {
		if (uid[0] && strcmp(b->m[k].uid, uid) == 0)
			return (int)k;
	}
	for (unsigned k = 0; k < b->n; k++) {
		if (!b->m[k].present && strcmp(b->name[k], name) == 0)
			return (int)k;
	}
	if (b->n == BANK_MAX_MEMBERS)
		return -1;
	return (int)b->n++;
}

static void member_found(struct bank_service *b, const char *name, const char *owner, const struct bank_member *m)
{
	int k = member_slot(b, m->uid, name);

	if (k < 0) {
		LOG_WARN("%s: a bank has at most %d members; ignored", name, BANK_MAX_MEMBERS);
		return;
	}
	b->m[k] = *m;
	b->m[k].present = true;
	g_free(b->owner[k]);
	g_free(b->name[k]);
	b->owner[k] = g_strdup(owner);
	b->name[k] = g_strdup(name);
	LOG_INFO("member %s (%s) %s", name, m->uid, m->connected ? "online" : "found, not connected");
}

static void member_gone(struct bank_service *b, const char *name)
{
	for (unsigned k = 0; k < b->n; k++) {
		if (b->m[k].present && strcmp(b->name[k], name) == 0) {
			b->m[k].present = false;
			g_free(b->owner[k]);
			b->owner[k] = NULL;
			LOG_WARN("member %s left the bus", name);
		}
	}
}

/* ---- discovery ------------------------------------------------------------ */

static void peer_free(gpointer p)
{
	struct bank_peer *peer = p;

	if (peer->call) {
		dbus_pending_call_cancel(peer->call);
		dbus_pending_call_unref(peer->call);
	}
	g_free(peer->name);
	g_free(peer);
}

static void startup_step(struct bank_service *b)
{
	if (b->started || b->startup == 0 || --b->startup > 0)
		return;
	b->started = true;
	LOG_INFO("%u member(s) found at start", b->n);
}

static void get_items_reply(DBusPendingCall *call, void *data)
{
	struct bank_peer *peer = data;
	struct bank_service *b = peer->bank;
	DBusMessage *reply = dbus_pending_call_steal_reply(call);
	struct bank_member m;
	bool member = false;

	dbus_pending_call_unref(peer->call);
	peer->call = NULL;
	memset(&m, 0, sizeof(m));
	if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN &&
	    apply_items(b, reply, &m, &member) && member && dbus_message_get_sender(reply)) {
		if (!m.uid[0])
			snprintf(m.uid, sizeof(m.uid), "%s", peer->name);
		member_found(b, peer->name, dbus_message_get_sender(reply), &m);
	}
	if (reply)
		dbus_message_unref(reply);
	startup_step(b);
	bank_publish(b);
}

/* Read name once (again after a restart of its service). */
static void probe(struct bank_service *b, const char *name, bool at_start)
{
	struct bank_peer *peer = g_new0(struct bank_peer, 1);
	DBusMessage *msg = dbus_message_new_method_call(name, "/", "com.victronenergy.BusItem", "GetItems");

	peer->bank = b;
	peer->name = g_strdup(name);
	g_hash_table_replace(b->peers, peer->name, peer); /* cancels a read still out */
	if (at_start)
		b->startup++;
	if (!dbus_connection_send_with_reply(b->conn, msg, &peer->call, CALL_TIMEOUT_MS) || !peer->call) {
		LOG_WARN("%s: cannot send GetItems", name);
		g_hash_table_remove(b->peers, name);
		if (at_start)
			b->startup--;
	} else {
		dbus_pending_call_set_notify(peer->call, get_items_reply, peer, NULL);
	}
	dbus_message_unref(msg);
}

static bool is_battery(const char *name)
{
	return g_str_has_prefix(name, BATTERY_PREFIX) && strcmp(name, BANK_BUS_NAME) != 0;
}

static void list_names_reply(DBusPendingCall *call, void *data)
{
	struct bank_service *b = data;
	DBusMessage *reply = dbus_pending_call_steal_reply(call);
	char **names = NULL;
	int n = 0;

	dbus_pending_call_unref(call);
	b->list_call = NULL;
	b->startup = 1; /* held until every GetItems was sent */
	if (reply &&
	    dbus_message_get_args(reply, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names, &n, DBUS_TYPE_INVALID)) {
		for (int k = 0; k < n; k++) {
			if (is_battery(names[k]))
				probe(b, names[k], true);
		}
		dbus_free_string_array(names);
	} else {
		LOG_ERR("ListNames failed: members are found as they start");
	}
	if (reply)
		dbus_message_unref(reply);
	startup_step(b);
	bank_publish(b);
}

static void on_owner_changed(struct bank_service *b, DBusMessage *msg)
{
	const char *name, *old, *now;

	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old, DBUS_TYPE_STRING, &now,
				   DBUS_TYPE_INVALID) ||
	    !is_battery(name))
		return;
	if (*old) {
		g_hash_table_remove(b->peers, name);
		member_gone(b, name);
	}
	if (*now)
		probe(b, name, false);
	bank_publish(b);
}

static void on_items_changed(struct bank_service *b, DBusMessage *msg)
{
	const char *sender = dbus_message_get_sender(msg);
	int k = sender ? member_by_owner(b, sender) : -1;
	bool member = true;

	if (k < 0)
		return; /* not a member, or not read yet: its GetItems reply is newer */
	if (apply_items(b, msg, &b->m[k], &member))
		bank_publish(b);
}

static DBusHandlerResult filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	(void)conn;
	if (dbus_message_is_signal(msg, "com.victronenergy.BusItem", "ItemsChanged"))
		on_items_changed(data, msg);
	else if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged"))
		on_owner_changed(data, msg);
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

int bank_members_start(struct bank_service *b)
{
	DBusError err;
	DBusPendingCall *call = NULL;

	build_fields(b);
	b->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, peer_free);
	dbus_connection_add_filter(b->conn, filter, b, NULL);
	dbus_error_init(&err);
	dbus_bus_add_match(b->conn, MATCH_OWNER, &err);
	if (!dbus_error_is_set(&err))
		dbus_bus_add_match(b->conn, MATCH_ITEMS, &err);
	if (dbus_error_is_set(&err)) {
		LOG_ERR("cannot watch the bus: %s", err.message);
		dbus_error_free(&err);
		return -EIO;
	}
	DBusMessage *msg = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
							"ListNames");

	if (!dbus_connection_send_with_reply(b->conn, msg, &call, CALL_TIMEOUT_MS) || !call) {
		dbus_message_unref(msg);
		return -ENOMEM;
	}
	dbus_pending_call_set_notify(call, list_names_reply, b, NULL);
	dbus_message_unref(msg);
	b->list_call = call;
	return 0;
}

void bank_members_stop(struct bank_service *b)
{
	if (b->list_call) {
		dbus_pending_call_cancel(b->list_call);
		dbus_pending_call_unref(b->list_call);
	}
	if (b->peers) {
		dbus_connection_remove_filter(b->conn, filter, b);
		g_hash_table_destroy(b->peers);
	}
	if (b->fields)
		g_hash_table_destroy(b->fields);
	for (unsigned k = 0; k < b->n; k++) {
		g_free(b->owner[k]);
		g_free(b->name[k]);
	}
}
