/* SPDX-License-Identifier: MIT */
/*
 * How the bank finds and follows its members (docs/bank.md "The bank
 * service"): every com.victronenergy.battery.* service is read once with
 * GetItems, at start (ListNames) and whenever its name gets an owner
 * (NameOwnerChanged); one whose /Bank/Member is 1 is a member, followed from
 * then on through its ItemsChanged only (no polling), which the daemon sends
 * the bank through a match rule for that member's name (bank_rules.c): a
 * rule is added before the name's GetItems and kept only while the name is a
 * member's. A member whose name loses its owner is offline at once.
 * A read that fails while the service stays on the bus (an error, or no
 * answer in CALL_TIMEOUT_MS, as from a GX still loading) is sent again
 * after a back-off (docs/bank.md "A read that fails").
 */
#define G_LOG_DOMAIN "bank"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bank_items.h"
#include "bank_private.h"
#include "log.h"

#define CALL_TIMEOUT_MS 3000
/* After a failed read, the next one: 2 s later, twice as long after each
 * further failure of that name's reads, at most 60 s. */
#define RETRY_FIRST_MS 2000
#define RETRY_LAST_MS 60000

/* ---- members -------------------------------------------------------------- */

static int member_by_owner(struct bank_service *b, const char *owner)
{
	for (unsigned k = 0; k < b->n; k++) {
		if (b->owner[k] && strcmp(b->owner[k], owner) == 0)
			return (int)k;
	}
	return -1;
}

/* Its slot: its own (the same bus name, still present: read again), else
 * the same unique id of a member gone (a pack on another port keeps its
 * position), else the same bus name, else a new one (-1: full). Two
 * services present with one unique id (the same user data set in two
 * BMSs) stay two members: merging them would hide a pack. */
static int member_slot(struct bank_service *b, const char *uid, const char *name)
{
	for (unsigned k = 0; k < b->n; k++) {
		if (b->m[k].present && strcmp(b->name[k], name) == 0)
			return (int)k;
	}
	for (unsigned k = 0; k < b->n; k++) {
		if (strcmp(b->m[k].uid, uid) != 0)
			continue;
		if (!b->m[k].present)
			return (int)k;
		LOG_WARN("%s has the unique id %s of %s too: give each BMS its own user data", name, uid, b->name[k]);
	}
	for (unsigned k = 0; k < b->n; k++) {
		if (!b->m[k].present && strcmp(b->name[k], name) == 0)
			return (int)k;
	}
	if (b->n < BANK_MAX_MEMBERS)
		return (int)b->n++;
	/* Full: a pack that is here now is watched rather than one gone. */
	for (unsigned k = 0; k < b->n; k++) {
		if (!b->m[k].present) {
			LOG_WARN("%s takes the place of %s (%s), gone", name, b->name[k], b->m[k].uid);
			return (int)k;
		}
	}
	return -1;
}

/* Returns false when no slot is free (name is unwatched). */
static bool member_found(struct bank_service *b, const char *name, const char *owner, const struct bank_member *m)
{
	int k = member_slot(b, m->uid, name);

	if (k < 0) {
		LOG_WARN("%s: a bank has at most %d members; not watched, so the bank does not charge", name,
			 BANK_MAX_MEMBERS);
		g_hash_table_add(b->unwatched, g_strdup(name));
		return false;
	}
	b->m[k] = *m;
	b->m[k].present = true;
	g_free(b->owner[k]);
	g_free(b->name[k]);
	b->owner[k] = g_strdup(owner);
	b->name[k] = g_strdup(name);
	b->heard_ms[k] = bank_now_ms();
	LOG_INFO("member %s (%s) %s", name, m->uid, m->connected ? "online" : "found, not connected");
	return true;
}

static struct bank_peer *probe(struct bank_service *b, const char *name, bool at_start);

/* A slot is free: read the packs that found none again. */
static void retry_unwatched(struct bank_service *b)
{
	GList *names = g_hash_table_get_keys(b->unwatched);

	for (GList *l = names; l; l = l->next)
		probe(b, l->data, false);
	g_list_free(names);
}

static void member_left(struct bank_service *b, unsigned k, const char *why)
{
	b->m[k].present = false;
	g_free(b->owner[k]);
	b->owner[k] = NULL;
	bank_rules_drop(b, b->name[k]);
	LOG_WARN("member %s left the %s", b->name[k], why);
	retry_unwatched(b);
}

static void member_gone(struct bank_service *b, const char *name)
{
	for (unsigned k = 0; k < b->n; k++) {
		if (b->m[k].present && strcmp(b->name[k], name) == 0)
			member_left(b, k, "bus");
	}
}

void bank_members_check_silent(struct bank_service *b, uint64_t now_ms)
{
	for (unsigned k = 0; k < b->n; k++) {
		struct bank_member *m = &b->m[k];

		if (!m->present || m->silent || now_ms - b->heard_ms[k] < b->cfg.bank_member_timeout_ms)
			continue;
		m->silent = true;
		LOG_WARN("member %s silent for %.0f s: offline until it speaks again", b->name[k],
			 (double)(now_ms - b->heard_ms[k]) / 1000.0);
	}
}

/* ---- discovery ------------------------------------------------------------ */

/* One answer the first combination waits for is in (or will never come). */
static void startup_step(struct bank_service *b)
{
	if (b->started || b->startup == 0 || --b->startup > 0)
		return;
	b->started = true;
	LOG_INFO("%u member(s) found at start", b->n);
}

/* A read still out is cancelled: a service there at start that left before
 * it answered is waited for no more (the caller publishes); so is a read
 * again that is waiting: the name lost its owner, a newer read replaces
 * this one, or the bank stops. */
static void peer_free(gpointer p)
{
	struct bank_peer *peer = p;

	if (peer->retry)
		g_source_remove(peer->retry);
	if (peer->call) {
		dbus_pending_call_cancel(peer->call);
		dbus_pending_call_unref(peer->call);
		if (peer->at_start)
			startup_step(peer->bank);
	}
	g_free(peer->name);
	g_free(peer);
}

/* The wait is over: the same name read again, a start read no more, its
 * next wait twice as long should this read fail too. The peer is replaced
 * (freed) by the new read. */
static gboolean read_again(gpointer data)
{
	struct bank_peer *peer = data;
	unsigned backoff_ms = MIN(peer->backoff_ms * 2, RETRY_LAST_MS);
	char *name = g_strdup(peer->name);
	struct bank_peer *next;

	peer->retry = 0; /* this source ends here: not for peer_free to remove */
	next = probe(peer->bank, name, false);
	if (next)
		next->backoff_ms = backoff_ms;
	g_free(name);
	return G_SOURCE_REMOVE;
}

/* No answer read from a service that is still on the bus as far as the
 * bank knows (one that left had its read cancelled): read it again later.
 * Once per failed read, so once per back-off step. */
static void read_failed(struct bank_peer *peer, DBusMessage *reply)
{
	const char *why = "no reply";

	if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR)
		why = dbus_message_get_error_name(reply); /* NoReply at the timeout */
	else if (reply)
		why = "a reply that cannot be read";
	LOG_WARN("%s: GetItems failed (%s); read again in %u s", peer->name, why, peer->backoff_ms / 1000);
	peer->retry = g_timeout_add(peer->backoff_ms, read_again, peer);
}

/* An error that says the service has no GetItems at all, as a battery
 * service of another kind may: final until it restarts (a new owner, read
 * then), so an answer like "no member", not a read to try again. */
static bool no_get_items(DBusMessage *reply)
{
	return dbus_message_is_error(reply, DBUS_ERROR_UNKNOWN_METHOD) ||
		dbus_message_is_error(reply, DBUS_ERROR_UNKNOWN_INTERFACE) ||
		dbus_message_is_error(reply, DBUS_ERROR_UNKNOWN_OBJECT);
}

static void get_items_reply(DBusPendingCall *call, void *data)
{
	struct bank_peer *peer = data;
	struct bank_service *b = peer->bank;
	DBusMessage *reply = dbus_pending_call_steal_reply(call);
	struct bank_member m;
	bool read = false, answered, member = false, followed = false;

	dbus_pending_call_unref(peer->call);
	peer->call = NULL;
	memset(&m, 0, sizeof(m));
	if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN)
		read = bank_items_apply(b->fields, reply, &m, &member);
	answered = read || (reply && no_get_items(reply));
	/* Found again if still no slot. A pack not watched whose read failed
	 * is still on the bus and still not watched until a read answers. */
	if (answered)
		g_hash_table_remove(b->unwatched, peer->name);
	if (read && member && dbus_message_get_sender(reply)) {
		if (!m.uid[0])
			snprintf(m.uid, sizeof(m.uid), "%s", peer->name);
		followed = member_found(b, peer->name, dbus_message_get_sender(reply), &m);
	}
	if (!followed) /* no member, no slot or no answer: added again with the next read */
		bank_rules_drop(b, peer->name);
	if (!answered) /* "no member" or no GetItems is an answer: read again only on a new owner */
		read_failed(peer, reply);
	else if (!read)
		LOG_INFO("%s has no GetItems (%s): no member", peer->name, dbus_message_get_error_name(reply));
	if (reply)
		dbus_message_unref(reply);
	if (peer->at_start) /* only these: another's answer is not theirs */
		startup_step(b);
	bank_publish(b);
}

/* Read name once (again after a restart of its service, or after this
 * read failed: read_failed); NULL when the GetItems cannot be sent.
 * The rule for name's ItemsChanged is added first, on the connection the
 * GetItems goes out on: the daemon takes a connection's messages in order,
 * so the rule is in place before the service gets the GetItems, and every
 * ItemsChanged it sends after its reply reaches the bank, after the reply.
 * A rule added once the reply is in would lose a change the service sent
 * in between; an ItemsChanged holds only the paths that changed, so the
 * bank would keep the reply's older value until that path changes again:
 * for a member's /Bank/MaxChargeCurrent, a charge limit above what its
 * pack allows now. A signal that comes before the reply is older than the
 * reply and dropped (on_items_changed). */
static struct bank_peer *probe(struct bank_service *b, const char *name, bool at_start)
{
	struct bank_peer *peer = g_new0(struct bank_peer, 1);
	DBusMessage *msg = dbus_message_new_method_call(name, "/", "com.victronenergy.BusItem", "GetItems");

	peer->bank = b;
	peer->name = g_strdup(name);
	peer->backoff_ms = RETRY_FIRST_MS;
	g_hash_table_replace(b->peers, peer->name, peer); /* cancels a read still out, or waiting */
	bank_rules_follow(b, name);
	if (!dbus_connection_send_with_reply(b->conn, msg, &peer->call, CALL_TIMEOUT_MS) || !peer->call) {
		LOG_WARN("%s: cannot send GetItems", name);
		bank_rules_drop(b, name);
		g_hash_table_remove(b->peers, name);
		peer = NULL;
	} else {
		peer->at_start = at_start;
		b->startup += at_start;
		dbus_pending_call_set_notify(peer->call, get_items_reply, peer, NULL);
	}
	dbus_message_unref(msg);
	return peer;
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
		g_hash_table_remove(b->peers, name); /* its read, out or waiting */
		g_hash_table_remove(b->unwatched, name);
		member_gone(b, name);
		bank_rules_drop(b, name); /* a service that was read, no member */
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
	b->heard_ms[k] = bank_now_ms();
	if (b->m[k].silent) {
		b->m[k].silent = false;
		LOG_INFO("member %s speaks again", b->name[k]);
	}
	if (!bank_items_apply(b->fields, msg, &b->m[k], &member))
		return;
	if (!member) /* /Bank/Member no longer 1: its values are no bank's */
		member_left(b, (unsigned)k, "bank");
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
	DBusPendingCall *call = NULL;
	int r;

	b->fields = bank_items_fields_new();
	b->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, peer_free);
	b->unwatched = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	dbus_connection_add_filter(b->conn, filter, b, NULL);
	r = bank_rules_start(b);
	if (r < 0)
		return r;
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
	b->startup = 0; /* reads cancelled now are no start to wait for */
	if (b->peers) {
		dbus_connection_remove_filter(b->conn, filter, b);
		g_hash_table_destroy(b->peers);
	}
	if (b->fields)
		g_hash_table_destroy(b->fields);
	if (b->unwatched)
		g_hash_table_destroy(b->unwatched);
	bank_rules_stop(b);
	for (unsigned k = 0; k < b->n; k++) {
		g_free(b->owner[k]);
		g_free(b->name[k]);
	}
}
