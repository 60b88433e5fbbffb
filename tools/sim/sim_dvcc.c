/* SPDX-License-Identifier: MIT */
/* The DVCC charger's limits from D-Bus (see sim_dvcc.h). */
#include "sim_dvcc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_find.h"

static double bus_get_double(DBusConnection *c, const char *service, const char *path, bool *ok)
{
	DBusMessage *m = dbus_message_new_method_call(service, path, "com.victronenergy.BusItem", "GetValue");
	DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 300, NULL);
	DBusMessageIter it, var;
	double v = 0;

	dbus_message_unref(m);
	*ok = false;
	if (!r)
		return 0;
	if (dbus_message_iter_init(r, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_VARIANT) {
		dbus_message_iter_recurse(&it, &var);
		if (dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_DOUBLE) {
			dbus_message_iter_get_basic(&var, &v);
			*ok = true;
		}
	}
	dbus_message_unref(r);
	return v;
}

void sim_dvcc_poll(struct sim_dvcc *d, struct sim_model *m, uint64_t now)
{
	if (m->charger != SIM_CHARGER_DVCC || !d->from_bus || now < d->next_ms)
		return;
	d->next_ms = now + 1000;
	if (!d->bus) {
		d->bus = dbus_bus_get_private(DBUS_BUS_SYSTEM, NULL);
		if (!d->bus) {
			if (!d->warned)
				fprintf(stderr, "jkbms-sim: no system bus: the DVCC charger has no limits\n");
			d->warned = true;
			d->next_ms = now + 5000;
			return;
		}
		dbus_connection_set_exit_on_disconnect(d->bus, FALSE);
	}
	char *svc = d->service ? strdup(d->service) : bus_find_battery(d->bus, 300);
	bool ok_cvl = false, ok_ccl = false;

	if (svc) {
		double cvl = bus_get_double(d->bus, svc, "/Info/MaxChargeVoltage", &ok_cvl);
		double ccl = bus_get_double(d->bus, svc, "/Info/MaxChargeCurrent", &ok_ccl);

		/* DVCC applies only valid limits; without them the charger stops. */
		m->charger_cvl_v = ok_cvl ? cvl : 0;
		m->charger_ccl_a = ok_ccl ? ccl : 0;
	}
	free(svc);
}

void sim_dvcc_close(struct sim_dvcc *d)
{
	if (!d->bus)
		return;
	dbus_connection_close(d->bus);
	dbus_connection_unref(d->bus);
	d->bus = NULL;
}
