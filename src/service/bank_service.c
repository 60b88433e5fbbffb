/* SPDX-License-Identifier: MIT */
/*
 * com.victronenergy.battery.jkbank (docs/bank.md): the paths first, the
 * name only once a member is online with valid limits and the device
 * instance came from localsettings; one combination and one ItemsChanged
 * per member update, and a tick of its own so that the ramp and the
 * loss-of-communication rules run while no member says anything.
 */
#define G_LOG_DOMAIN "bank"

#include <errno.h>
#include <string.h>

#include "bank_private.h"
#include "dbus_glib.h"
#include "log.h"

#define BANK_TICK_MS 1000
#define BANK_SETTINGS_UID "jkbms_bank"

static void quit(struct bank_service *b, int code)
{
	if (b->quit)
		b->quit(b->quit_data, code);
}

uint64_t bank_now_ms(void)
{
	return (uint64_t)g_get_monotonic_time() / 1000;
}

static int custom_name_set_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct bank_service *b = data;

	if (g_utf8_strlen(v->s, -1) > SETTINGS_CUSTOM_NAME_MAX)
		return -EINVAL;
	if (strcmp(busitem_get_string(item), v->s) == 0)
		return 0;
	settings_client_set_custom_name(b->settings, v->s);
	LOG_INFO("custom name set to '%s'", v->s);
	return 0;
}

/* ---- registration -------------------------------------------------------- */

static void request_name(struct bank_service *b)
{
	DBusError err;

	dbus_error_init(&err);
	int r = dbus_bus_request_name(b->conn, BANK_BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);

	if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		LOG_ERR("cannot own " BANK_BUS_NAME ": %s", dbus_error_is_set(&err) ? err.message : "already owned");
		dbus_error_free(&err);
		quit(b, 1);
		return;
	}
	b->registered = true;
	LOG_INFO("registered " BANK_BUS_NAME " as device instance %d with %u of %u packs online",
		 busitem_get_int(bank_item(b, "/DeviceInstance")), b->out.online, b->out.known);
}

static void settings_done(void *data, int instance, const char *custom_name, bool from_settings)
{
	struct bank_service *b = data;

	(void)from_settings;
	busitem_set_int(bank_item(b, "/DeviceInstance"), instance);
	busitem_set_string(bank_item(b, "/CustomName"), custom_name);
	busitem_flush(b->tree);
	request_name(b);
}

/* ---- publishing ---------------------------------------------------------- */

static void log_changes(const struct bank_output *was, const struct bank_output *o)
{
	if (was->online != o->online || was->known != o->known)
		LOG_INFO("%u of %u packs online", o->online, o->known);
	if (strcmp(was->charge_limitation, o->charge_limitation) != 0 ||
	    strcmp(was->discharge_limitation, o->discharge_limitation) != 0 || (was->ccl_ma == 0) != (o->ccl_ma == 0) ||
	    (was->dcl_ma == 0) != (o->dcl_ma == 0))
		LOG_INFO("limits: CVL %.2f V, CCL %.1f A (%s), DCL %.1f A (%s)", o->cvl_mv / 1000.0, o->ccl_ma / 1000.0,
			 o->charge_limitation, o->dcl_ma / 1000.0, o->discharge_limitation);
}

void bank_publish(struct bank_service *b)
{
	struct bank_output was = b->out;

	if (!b->started)
		return; /* the first combination waits for every member there at start */
	struct bank_input in = {
		.expected = b->cfg.bank_packs,
		.unwatched = g_hash_table_size(b->unwatched),
		.last_cvl_mv = b->last_cvl_mv,
	};

	bank_combine(b->m, b->n, &in, &b->out);
	bank_ramp_apply(&b->ramp, bank_now_ms(), &b->out);
	if (b->out.has_limits)
		b->last_cvl_mv = b->out.cvl_mv;
	log_changes(&was, &b->out);
	bank_paths_publish(b);
	busitem_flush(b->tree);
	if (!b->registering && b->out.online > 0 && b->out.has_limits) {
		b->registering = true;
		settings_client_request(b->settings, "battery", BANK_SETTINGS_UID, b->cfg.device_instance,
					b->cfg.settings_timeout_ms, settings_done, b);
	}
}

static gboolean tick_cb(gpointer data)
{
	bank_members_check_silent(data, bank_now_ms());
	bank_publish(data);
	return G_SOURCE_CONTINUE;
}

static DBusHandlerResult bus_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct bank_service *b = data;
	enum dbus_glib_loss lost = dbus_glib_loss(msg, BANK_BUS_NAME);

	(void)conn;
	if (lost != DBUS_GLIB_LOST_NOTHING)
		quit(b, 1);
	return lost == DBUS_GLIB_LOST_CONNECTION ? DBUS_HANDLER_RESULT_HANDLED : DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* ---- life cycle ---------------------------------------------------------- */

int bank_service_new(const struct config *cfg, DBusConnection *conn, service_quit_fn quit_fn, void *user_data,
		     struct bank_service **out)
{
	struct bank_service *b = g_new0(struct bank_service, 1);
	int r;

	b->cfg = *cfg;
	b->conn = conn;
	b->quit = quit_fn;
	b->quit_data = user_data;
	b->defs = g_ptr_array_new_with_free_func(g_free);
	b->items = g_ptr_array_new();
	b->tree = busitem_tree_new(conn, cfg->properties_changed);
	if (!b->tree) {
		LOG_ERR("cannot register the object tree");
		bank_service_free(b);
		return -ENOMEM;
	}
	dbus_connection_add_filter(conn, bus_filter, b, NULL);
	b->settings = settings_client_new(conn);
	bank_paths_build(b, custom_name_set_cb);
	r = bank_members_start(b);
	if (r < 0) {
		bank_service_free(b);
		return r;
	}
	b->tick_source = g_timeout_add(BANK_TICK_MS, tick_cb, b);
	LOG_INFO("bank: looking for members (%s)",
		 cfg->bank_packs ? "bank_packs set" : "any number; bank_packs not set");
	*out = b;
	return 0;
}

void bank_service_free(struct bank_service *b)
{
	if (!b)
		return;
	if (b->tick_source)
		g_source_remove(b->tick_source);
	bank_members_stop(b);
	settings_client_free(b->settings);
	if (b->conn)
		dbus_connection_remove_filter(b->conn, bus_filter, b);
	busitem_tree_free(b->tree);
	if (b->items)
		g_ptr_array_free(b->items, TRUE);
	if (b->defs)
		g_ptr_array_free(b->defs, TRUE);
	g_free(b);
}
