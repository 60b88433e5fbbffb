/* SPDX-License-Identifier: MIT */
/*
 * The rig the end-to-end safety tests share (test_safety_e2e.c,
 * test_safety_e2e_fet.c): up to three BMSs, each a jkbms-sim on a real
 * pseudo-terminal with the real dbus-jkbms on its tty, on a private
 * dbus-daemon with the settings stand-in; the view a test reads from one
 * GetItems, failures collected over a test, and the steps that make a
 * service switch a charge FET off and back on.
 */
#ifndef SAFETY_WORLD_H
#define SAFETY_WORLD_H

#include <stdbool.h>

#include <gio/gio.h>

#include "bus_harness.h"
#include "sim_harness.h"

#define MAX_UNITS 3

/* One BMS: a simulator and the service on its tty. */
struct unit {
	struct simproc sim;
	struct child svc;
	char tty[16];
	char name[64];
	unsigned starts;
};

struct world {
	struct bus bus;
	struct child settings;
	char config[400];
	struct unit u[MAX_UNITS];
	unsigned n;
};

/* What a test reads from the service, from one GetItems. */
struct view {
	double cvl, ccl, dcl;                                            /* NAN: invalid */
	int internal_failure, contactor, bms_cable, connected, blocking; /* -1: invalid or absent */
	char limitation[160];
	bool cell16_invalid;
};

/* Monotonic seconds. */
double now_s(void);
/* Sleep one step; false once timeout_s has passed since t0. */
bool wait_step(double t0, double timeout_s);

/* (Re)start the service of u and wait for its name. */
void start_service(struct world *w, struct unit *u);
/* Bus, settings stand-in and the configuration (the fast link plus
 * config_extra); no BMS yet. */
struct world *world_up(const char *config_extra);
/* A simulator on ttyJK, ttyJK2, ... and its service, up with a first frame. */
struct unit *unit_up(struct world *w, const char *const *sim_args);
/* Every process the test started; also the teardown after a failure. */
int teardown(void **state);

void view_read(struct world *w, struct unit *u, struct view *out);
/* The view as text, for failure messages. */
const char *describe(const struct view *v);
/* The simulator's charge FET: 1 on, 0 off. */
int fet(struct unit *u);

/* Failures collected over a test, reported together at its end. */
struct verdict {
	GString *text;
};

void expect(struct verdict *v, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fails the test with every failed expectation, if any. */
void verdict_end(struct verdict *v);

/* docs/charge-control.md "MOSFET control": a high cell (OVP - 30 mV and
 * more) with a charger that ignores the limits and current flowing: the
 * service switches the charge FET off after 5 s. Cell 5 sits ~3.62 V, below the BMS's own OVP. */
void provoke_charge_off(struct unit *u);
/* Fails the test unless the charge FET goes off within 30 s. */
void wait_charge_off(struct world *w, struct unit *u);
/* The cell back to normal and no current: clear by any hysteresis. */
void clear_condition(struct unit *u);
/* Wait for the charge FET to come on; seconds since t_ref, or NAN. */
double wait_charge_on(struct unit *u, double t_ref, double timeout_s);

#endif
