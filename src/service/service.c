/* SPDX-License-Identifier: MIT */
/*
 * com.victronenergy.battery.<tty>: binds the BMS link to the BusItem tree
 * (docs/dbus-paths.md). The paths come from one const table
 * (service_paths.c); this file owns the start-up order (paths first, the
 * name only after the first good reply and the device instance), the link
 * events, and one ItemsChanged per poll. Charge control is in
 * service_control.c, the state file in service_state.c.
 */
#define G_LOG_DOMAIN "service"

#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dbus_glib.h"
#include "log.h"
#include "service_private.h"
#include "version.h"

/* Link counters that grow every poll are published at most this often,
 * at once when something went wrong. */
#define DIAG_PERIOD_MS 10000

static void quit(struct service *s, int code)
{
	if (s->quit)
		s->quit(s->quit_data, code);
}

struct busitem *service_item(struct service *s, const char *path)
{
	return s->items[service_path_index(path)];
}

/* ---- writable paths ------------------------------------------------------ */

static int custom_name_set_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct service *s = data;

	if (g_utf8_strlen(v->s, -1) > SETTINGS_CUSTOM_NAME_MAX)
		return -EINVAL;
	/* A flood of equal writes neither fills the log nor the settings. */
	if (strcmp(busitem_get_string(item), v->s) == 0)
		return 0;
	settings_client_set_custom_name(s->settings, v->s);
	LOG_INFO("custom name set to '%s'", v->s);
	return 0;
}

static int force_set_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct service *s = data;
	unsigned f = item == service_item(s, "/Settings/ForceChargingOff") ? POLICY_FET_CHARGE : POLICY_FET_DISCHARGE;

	if (v->i != 0 && v->i != 1)
		return -EINVAL;
	s->reset_lock[f] = true; /* any write of the force path resets a chatter lock */
	if (s->force_off[f] == (v->i == 1))
		return 0;
	s->force_off[f] = v->i == 1;
	LOG_INFO("%s FET: %s by the user", f == POLICY_FET_CHARGE ? "charge" : "discharge",
		 v->i ? "forced off" : "released to automatic control");
	return 0;
}

/* /History/Clear: 1 clears the history; the path stays 0 (a command). */
static int history_clear_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct service *s = data;

	(void)item;
	if (v->i != 1)
		return -EINVAL;
	service_history_clear(s);
	service_publish_history(s);
	return BUSITEM_SET_COMMAND;
}

/* ---- the tree ------------------------------------------------------------ */

static void build_tree(struct service *s)
{
	char *conn = g_strdup_printf("Serial %s", s->tty);

	s->items = g_new0(struct busitem *, service_path_count);
	for (size_t k = 0; k < service_path_count; k++) {
		const struct path_def *d = &service_paths[k];
		busitem_set_fn set = NULL;

		if (service_path_member_only(d) && !s->cfg.bank)
			continue; /* s->items[k] stays NULL: never published */
		if (strcmp(d->path, "/CustomName") == 0)
			set = custom_name_set_cb;
		else if (g_str_has_prefix(d->path, "/Settings/Force"))
			set = force_set_cb;
		else if (strcmp(d->path, "/History/Clear") == 0)
			set = history_clear_cb;
		/* A double without a unit would be published unrounded. */
		g_assert(d->type != BUSITEM_DOUBLE || d->unit != UNIT_NONE);
		s->items[k] = busitem_add(s->tree, d->path, d->type, service_path_format(d), set, set ? s : NULL);
		g_assert(s->items[k]); /* a duplicate or malformed path is a bug in the table */
	}
	busitem_set_string(service_item(s, "/Mgmt/ProcessName"), "dbus-jkbms");
	busitem_set_string(service_item(s, "/Mgmt/ProcessVersion"), DBUS_JKBMS_VERSION);
	busitem_set_string(service_item(s, "/Mgmt/Connection"), conn);
	busitem_set_int(service_item(s, "/ProductId"), VENUS_PRODUCT_ID);
	busitem_set_string(service_item(s, "/ProductName"), "JK-BMS");
	busitem_set_string(service_item(s, "/CustomName"), "");
	busitem_set_int(service_item(s, "/Settings/ForceChargingOff"), 0);
	busitem_set_int(service_item(s, "/Settings/ForceDischargingOff"), 0);
	busitem_set_int(service_item(s, "/History/Clear"), 0);
	g_free(conn);
}

/* Cell paths exist once the cell count is known (first reply), which is
 * before the name is requested. */
static void add_cells(struct service *s, unsigned n)
{
	for (unsigned k = 0; k < n && k < BMS_MAX_CELLS; k++) {
		char path[32];

		snprintf(path, sizeof(path), "/Voltages/Cell%u", k + 1);
		s->cells[k] = busitem_add(s->tree, path, BUSITEM_DOUBLE, units[UNIT_CELL_V].text, NULL, NULL);
		g_assert(s->cells[k]);
	}
	s->ncells = n < BMS_MAX_CELLS ? n : BMS_MAX_CELLS;
}

static void publish_identity(struct service *s)
{
	const struct bms_snapshot *b = &s->bat.snap;
	char info[96];

	identity_of(b, s->tty, s->usb_serial, s->address, &s->id);
	snprintf(s->id_serial, sizeof(s->id_serial), "%s", b->protocol == BMS_PROTOCOL_PB ? b->pb.serial : "");
	busitem_set_string(service_item(s, "/FirmwareVersion"), s->id.firmware);
	busitem_set_string(service_item(s, "/HardwareVersion"), s->id.hardware);
	busitem_set_string(service_item(s, "/ProductName"), s->id.product);
	busitem_set_string(service_item(s, "/Serial"), s->id.uid);
	if (b->protocol == BMS_PROTOCOL_PB)
		snprintf(info, sizeof(info), "%u baud, JK PB RS-485 address %u, %s", s->cfg.baud,
			 link_unit_address(s->link, s->unit), b->software_version);
	else
		snprintf(info, sizeof(info), "%u baud, protocol %u, %s", s->cfg.baud, b->protocol_version,
			 b->software_version);
	busitem_set_string(service_item(s, "/ConnectionInformation"), info);
}

/* ---- publishing -------------------------------------------------------------- */

/* Counters: at once when one of the trouble counters moved, else at most
 * every DIAG_PERIOD_MS, so the ones that grow every poll do not add paths
 * to every ItemsChanged. */
static bool counters_due(struct service *s, const struct service_view *v)
{
	const struct poller_counters *p = v->polls;
	const struct link_counters *c = v->counters;
	uint64_t now = link_now_ms();
	uint64_t trouble = link_rejects_total(c) + c->junk_bytes + c->io_errors + c->reopens + p->timeouts +
		p->bad_replies + p->writes_ok + p->writes_failed + p->activations;

	if (trouble == s->diag_trouble && now - s->diag_at < DIAG_PERIOD_MS && s->diag_at)
		return false;
	s->diag_trouble = trouble;
	s->diag_at = now;
	return true;
}

static struct service_view view_of(struct service *s)
{
	struct service_view v = {
		.member = s->cfg.bank,
		.bat = &s->bat,
		.pol = s->have_pout ? &s->pout : NULL,
		.hist = s->hist.path ? &s->hist.h : NULL,
		.wall_s = g_get_real_time() / 1000000,
		.link = link_unit_state(s->link, s->unit),
		.polls = link_unit_poller_counters(s->link, s->unit),
		.counters = link_counters(s->link),
	};

	return v;
}

static void publish_paths(struct service *s, bool lost)
{
	struct service_view v = view_of(s);
	bool counters = counters_due(s, &v);

	for (size_t k = 0; k < service_path_count; k++) {
		const struct path_def *d = &service_paths[k];

		if (!s->items[k] || d->group == PATH_FIXED || (d->group == PATH_COUNTER && !counters))
			continue;
		if (d->group == PATH_MEASURE && lost)
			busitem_invalidate(s->items[k]);
		else if (!(lost && d->group == PATH_INFO))
			service_path_publish(s->items[k], d, &v);
	}
	for (unsigned k = 0; k < s->ncells; k++) {
		if (lost)
			busitem_invalidate(s->cells[k]);
		else
			service_cell_publish(s->cells[k], &v, k);
	}
}

void service_publish_history(struct service *s)
{
	struct service_view v = view_of(s);

	for (size_t k = 0; k < service_path_count; k++) {
		if (service_paths[k].group == PATH_HISTORY)
			service_path_publish(s->items[k], &service_paths[k], &v);
	}
}

void service_publish(struct service *s, bool fresh)
{
	bool lost = link_unit_state(s->link, s->unit) == POLLER_LINK_LOST;

	if (!s->bat.valid)
		return;
	if (lost)
		battery_stale(&s->bat);
	service_run_policy(s, fresh, lost);
	service_history_step(s, fresh, lost);
	publish_paths(s, lost);
	busitem_flush(s->tree);
}

/* ---- registration -------------------------------------------------------------- */

static void request_name(struct service *s)
{
	DBusError err;

	dbus_error_init(&err);
	int r = dbus_bus_request_name(s->conn, s->bus_name, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);

	if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		LOG_ERR("cannot own %s: %s", s->bus_name, dbus_error_is_set(&err) ? err.message : "already owned");
		dbus_error_free(&err);
		quit(s, 1);
		return;
	}
	s->phase = PHASE_RUNNING;
	LOG_INFO("registered %s as device instance %d, %.0f ms after the first reply", s->bus_name,
		 busitem_get_int(service_item(s, "/DeviceInstance")), (double)(link_now_ms() - s->first_reply_ms));
}

static void settings_done(void *data, int instance, const char *custom_name, bool from_settings)
{
	struct service *s = data;

	(void)from_settings;
	busitem_set_int(service_item(s, "/DeviceInstance"), instance);
	busitem_set_string(service_item(s, "/CustomName"), custom_name);
	busitem_flush(s->tree);
	request_name(s);
}

static void first_reply(struct service *s)
{
	const struct bms_snapshot *b = &s->bat.snap;

	s->phase = PHASE_REGISTERING;
	s->first_reply_ms = link_now_ms();
	if (b->protocol == BMS_PROTOCOL_PB)
		LOG_INFO("JK PB pack found for %s: %s, software %s, serial %s, %u cells", s->bus_name, b->pb.model,
			 b->software_version, b->pb.serial[0] ? b->pb.serial : "(none)", b->cell_count);
	else
		LOG_INFO("JK-BMS found for %s: %s, %u cells, protocol %u", s->bus_name, b->software_version,
			 b->cell_count, b->protocol_version);
	if (s->cfg.bank)
		LOG_INFO("bank member: the limits go under /Bank/, /Info/ limits stay invalid (docs/bank.md)");
	add_cells(s, b->cell_count);
	publish_identity(s);
	service_state_load(s);
	service_history_load(s);
	service_publish(s, true);
	settings_client_request(s->settings, "battery", s->id.uid, s->cfg.device_instance, s->cfg.settings_timeout_ms,
				settings_done, s);
}

/* ---- link events ------------------------------------------------------------------ */

/* A PB pack names itself by its serial: another serial where ours was is
 * another pack, put in its place while we ran (it answers once the old
 * one was lost and the setup is read again). Its data must not go out
 * under the old pack's identity, state file and history: exit, and the
 * supervisor starts us again as the new pack. */
static bool another_pack(struct service *s, const struct bms_snapshot *b)
{
	if (s->swapped)
		return true;
	if (s->phase == PHASE_PROBING || !s->id_serial[0] || b->protocol != BMS_PROTOCOL_PB || !b->pb.has_info ||
	    !b->pb.serial[0] || strcmp(b->pb.serial, s->id_serial) == 0)
		return false;
	LOG_WARN("%s: another pack (serial %s) answers where serial %s was: exiting, to start again with its own "
		 "identity, state and history",
		 s->bus_name, b->pb.serial, s->id_serial);
	s->swapped = true;
	quit(s, 1);
	return true;
}

static void on_snapshot(void *data, const struct bms_snapshot *b)
{
	struct service *s = data;

	if (another_pack(s, b))
		return;
	battery_update(&s->bat, b, link_now_ms());
	if (s->phase == PHASE_PROBING)
		first_reply(s);
	else
		service_publish(s, true);
}

static gboolean leave_bus_cb(gpointer data)
{
	struct service *s = data;

	s->leave_source = 0;
	LOG_WARN("BMS lost for longer than leave_bus_after: leaving the bus");
	quit(s, 1);
	return G_SOURCE_REMOVE;
}

static void on_state(void *data, enum poller_link old, enum poller_link now)
{
	struct service *s = data;

	(void)old;
	if (now == POLLER_LINK_LOST && s->cfg.leave_bus_after_ms && !s->leave_source)
		s->leave_source = g_timeout_add(s->cfg.leave_bus_after_ms, leave_bus_cb, s);
	if (now != POLLER_LINK_LOST && s->leave_source) {
		g_source_remove(s->leave_source);
		s->leave_source = 0;
	}
	service_publish(s, false);
}

static void on_write(void *data, const struct poller_write_result *r)
{
	service_write_done(data, r);
}

static DBusHandlerResult bus_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct service *s = data;
	enum dbus_glib_loss lost = dbus_glib_loss(msg, s->bus_name);

	(void)conn;
	if (lost != DBUS_GLIB_LOST_NOTHING)
		quit(s, 1);
	return lost == DBUS_GLIB_LOST_CONNECTION ? DBUS_HANDLER_RESULT_HANDLED : DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* ---- life cycle ------------------------------------------------------------------- */

int service_new(const struct config *cfg, const struct service_where *where, DBusConnection *conn,
		service_quit_fn quit_fn, void *user_data, struct service **out)
{
	struct service *s = g_new0(struct service, 1);
	struct link_events ev = { on_snapshot, on_state, on_write };

	s->cfg = *cfg;
	if (!link_driver(where->link)->write_request && s->cfg.policy.mosfet_control) {
		/* docs/protocol-pb.md "Writes": control stays with the limits. */
		LOG_INFO("%s: this BMS family has no confirmed MOSFET write: the charge and discharge limits do the "
			 "control, mosfet_control is off",
			 where->bus_name);
		s->cfg.policy.mosfet_control = false;
	}
	s->link = where->link;
	s->unit = where->unit;
	s->address = where->address;
	s->tty = g_strdup(where->tty);
	s->bus_name = g_strdup(where->bus_name);
	snprintf(s->usb_serial, sizeof(s->usb_serial), "%s", where->usb_serial ? where->usb_serial : "");
	s->conn = conn;
	s->quit = quit_fn;
	s->quit_data = user_data;
	battery_init(&s->bat, cfg->ttg_floor_pct);
	policy_init(&s->pstate);
	s->tick = deadline_new(service_tick_cb, s);
	s->tree = busitem_tree_new(conn, cfg->properties_changed);
	if (!s->tree) {
		LOG_ERR("cannot register the object tree");
		service_free(s);
		return -ENOMEM;
	}
	dbus_connection_add_filter(conn, bus_filter, s, NULL);
	s->settings = settings_client_new(conn);
	build_tree(s);
	link_bind(s->link, s->unit, &ev, s);
	*out = s;
	return 0;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	if (s->leave_source)
		g_source_remove(s->leave_source);
	deadline_free(s->tick);
	service_state_free(s);
	service_history_free(s);
	settings_client_free(s->settings);
	if (s->conn)
		dbus_connection_remove_filter(s->conn, bus_filter, s);
	busitem_tree_free(s->tree);
	g_free(s->items);
	g_free(s->tty);
	g_free(s->bus_name);
	g_free(s);
}

bool service_found(const struct service *s)
{
	return s->phase != PHASE_PROBING;
}

const char *service_bus_name(const struct service *s)
{
	return s->bus_name;
}
