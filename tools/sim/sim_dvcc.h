/* SPDX-License-Identifier: MIT */
/*
 * The simulator's DVCC charger reads its limits the way Venus OS hands them
 * to a charger: CVL and CCL of the battery service on the system bus, once
 * a second. A limit that cannot be read is 0 (the charger stops).
 */
#ifndef SIM_DVCC_H
#define SIM_DVCC_H

#include <stdbool.h>
#include <stdint.h>

#include <dbus/dbus.h>

#include "sim_model.h"

struct sim_dvcc {
	bool from_bus;       /* false after "limits" set them by hand */
	const char *service; /* --dvcc-service, or NULL: the first battery */
	DBusConnection *bus;
	uint64_t next_ms;
	bool warned;
};

/* While the model has a DVCC charger: refresh its limits once a second. */
void sim_dvcc_poll(struct sim_dvcc *d, struct sim_model *m, uint64_t now_ms);

void sim_dvcc_close(struct sim_dvcc *d);

#endif
