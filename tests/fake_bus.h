/* SPDX-License-Identifier: MIT */
/*
 * A BMS family of the tests' own, and the BMSs that speak it on a
 * pseudo-terminal (fake_bus.c).
 */
#ifndef FAKE_BUS_H
#define FAKE_BUS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bms_driver.h"

extern const struct bms_driver fake_bus_driver;

/* A T1 the BMS has no reading of (fake_bus.t1). */
#define FAKE_BUS_T1_MISSING INT8_MIN

struct fake_bus {
	int master;
	char path[128]; /* the pty the link opens */
	guint watch;
	uint32_t reply_timeout_ms;
	bool silent[256];       /* addresses that do not answer */
	int8_t t1[256];         /* sensor T1 per address, 20 C at the start */
	unsigned requests[256]; /* per address */
	unsigned overlaps;      /* a request while another was unanswered */
	unsigned write_errors;
	bool outstanding; /* the last request is unanswered */
	uint8_t outstanding_addr;
	int64_t outstanding_us;
};

/* Open the pty and answer requests from the main loop. Returns 0 or -errno. */
int fake_bus_open(struct fake_bus *b, uint32_t reply_timeout_ms);
void fake_bus_close(struct fake_bus *b);

#endif
