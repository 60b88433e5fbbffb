/* SPDX-License-Identifier: MIT */
/* One serial port and the BMSs on it (port.h). */
#define G_LOG_DOMAIN "port"

#include "port.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "dbus_glib.h"
#include "identity.h"
#include "link.h"
#include "log.h"
#include "transport.h"

struct port {
	char *device;
	struct link *link;
	struct service *services[LINK_UNITS_MAX];
	/* Each service has its paths on a connection of its own (every
	 * battery service publishes /Dc/0/Voltage); the first is the
	 * caller's, the others the port opens. */
	DBusConnection *conns[LINK_UNITS_MAX];
	unsigned count;
	uint32_t probe_timeout_ms;
	guint probe_source;
	service_quit_fn quit;
	void *quit_data;
};

void port_units_single(struct port_units *u)
{
	memset(u, 0, sizeof(*u));
	u->driver = &bms_driver_4e57;
	u->count = 1;
}

/* com.victronenergy.battery.<tty>, with _<address> when the port has
 * several BMSs. A name element must not start with a digit. */
static char *bus_name(const char *tty, const struct port_units *u, unsigned k)
{
	char clean[65];

	identity_sanitize(tty, 64, clean, sizeof(clean));
	if (u->count == 1)
		return g_strdup_printf("com.victronenergy.battery.%s%s", g_ascii_isdigit(clean[0]) ? "_" : "", clean);
	return g_strdup_printf("com.victronenergy.battery.%s%s_%u", g_ascii_isdigit(clean[0]) ? "_" : "", clean,
			       u->addresses[k]);
}

static gboolean probe_timeout_cb(gpointer data)
{
	struct port *p = data;

	p->probe_source = 0;
	for (unsigned k = 0; k < p->count; k++) {
		if (service_found(p->services[k]))
			return G_SOURCE_REMOVE;
	}
	LOG_ERR("no JK-BMS answered on %s within %.1f s; exiting without registering", p->device,
		p->probe_timeout_ms / 1000.0);
	if (p->quit)
		p->quit(p->quit_data, 1);
	return G_SOURCE_REMOVE;
}

/* A pack that was not there at start answered: the port's units and the
 * services' names (one pack: <tty>, several: <tty>_<address>) are fixed
 * at start, so the supervisor starts the service again to probe them all
 * (docs/protocol-pb.md "Packs that come later"). */
static void pack_found(void *data, uint8_t addr)
{
	struct port *p = data;

	LOG_WARN("%s: JK PB pack found at address %u after start; restarting to serve it", p->device, addr);
	if (p->quit)
		p->quit(p->quit_data, 1);
}

/* PB: keep asking the pb_addresses that did not answer at start. */
static void scan_missing(struct port *p, const struct config *cfg, const struct port_units *u)
{
	uint16_t missing = cfg->pb_addresses;

	if (u->driver != &bms_driver_pb)
		return;
	for (unsigned k = 0; k < u->count; k++)
		missing &= (uint16_t) ~(1u << u->addresses[k]);
	link_scan(p->link, missing, cfg->pb_scan_interval_ms, pack_found, p);
}

static int open_link(struct port *p, const struct config *cfg, const struct port_units *u)
{
	struct link_config lc;

	link_config_default(&lc);
	lc.device = p->device;
	lc.baud = cfg->baud;
	lc.poll = cfg->poll;
	lc.driver = u->driver;
	lc.units = p->count;
	memcpy(lc.addresses, u->addresses, sizeof(lc.addresses));
	int r = link_new(&lc, NULL, NULL, &p->link);

	if (r < 0)
		LOG_ERR("cannot open %s: %s", p->device, g_strerror(-r));
	return r;
}

int port_new(const struct config *cfg, const char *device, const struct port_units *units, DBusConnection *conn,
	     service_quit_fn quit, void *user_data, struct port **out)
{
	struct port *p = g_new0(struct port, 1);
	char usb_serial[64] = "";
	char *tty = g_path_get_basename(device);
	int r;

	p->device = g_strdup(device);
	p->count = units->count >= 1 && units->count <= LINK_UNITS_MAX ? units->count : 1;
	p->probe_timeout_ms = cfg->probe_timeout_ms;
	p->quit = quit;
	p->quit_data = user_data;
	transport_usb_serial(device, usb_serial, sizeof(usb_serial));
	r = open_link(p, cfg, units);
	for (unsigned k = 0; r == 0 && k < p->count; k++) {
		struct service_where where = { p->link,    k,    tty,
					       usb_serial, NULL, p->count > 1 ? units->addresses[k] : -1 };
		const char *why = NULL;

		p->conns[k] = k ? dbus_glib_open_system(&why) : conn;
		if (!p->conns[k]) {
			LOG_ERR("cannot open a D-Bus connection for the BMS at address %u: %s", units->addresses[k],
				why);
			r = -EIO;
			break;
		}

		where.bus_name = bus_name(tty, units, k);
		r = service_new(cfg, &where, p->conns[k], quit, user_data, &p->services[k]);
		g_free((char *)where.bus_name);
	}
	g_free(tty);
	if (r < 0) {
		port_free(p);
		return r;
	}
	p->probe_source = g_timeout_add(cfg->probe_timeout_ms, probe_timeout_cb, p);
	scan_missing(p, cfg, units);
	link_start(p->link);
	*out = p;
	return 0;
}

void port_free(struct port *p)
{
	if (!p)
		return;
	if (p->probe_source)
		g_source_remove(p->probe_source);
	if (p->link)
		link_log_totals(p->link); /* what went wrong over the whole run */
	for (unsigned k = 0; k < p->count; k++) {
		service_free(p->services[k]);
		if (k && p->conns[k]) {
			dbus_glib_detach(p->conns[k]);
			dbus_connection_close(p->conns[k]);
			dbus_connection_unref(p->conns[k]);
		}
	}
	link_free(p->link);
	g_free(p->device);
	g_free(p);
}

struct service *port_service(struct port *p, unsigned k)
{
	return k < p->count ? p->services[k] : NULL;
}
