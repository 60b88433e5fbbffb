/* SPDX-License-Identifier: MIT */
/*
 * Who a BMS is, from its reply (pure): the unique id the service keeps its
 * settings and state under, the product name, hardware and firmware
 * versions (docs/dbus-paths.md "Identity").
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <stddef.h>

#include "bms_types.h"

struct bms_identity {
	char uid[64];      /* "jkbms_" + an identity that survives tty renumbering */
	char product[48];  /* "JK-BMS B2A24S15P" */
	char hardware[20]; /* "11.XW" */
	char firmware[20]; /* "11.26" */
};

/* usb_serial may be empty. address: the BMS's on a bus with several, else
 * -1; it makes the unique ids of BMSs sharing a port and an adapter differ. */
void identity_of(const struct bms_snapshot *b, const char *tty, const char *usb_serial, int address,
		 struct bms_identity *out);

/* Keep [A-Za-z0-9_], turn ' ', '-', '.' into '_', drop the rest; at most max
 * characters (a D-Bus name element or a file name). */
void identity_sanitize(const char *in, size_t max, char *out, size_t n);

#endif
