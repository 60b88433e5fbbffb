/* SPDX-License-Identifier: MIT */
/*
 * Inside the link (link.c, link_scan.c), not part of its interface: the
 * link record and what the two files provide each other.
 */
#ifndef LINK_PRIVATE_H
#define LINK_PRIVATE_H

#include <glib.h>

#include "link.h"

/* One BMS on the port: its poller, its events, what waits for delivery. */
struct unit {
	uint8_t address;
	struct poller poller;
	enum poller_link reported;
	struct link_events events;
	void *user_data;
	/* what its replies said so far (a PB pack's settings, identity, data) */
	struct bms_snapshot acc;
	/* replies waiting for delivery (a read may carry more than one) */
	struct bms_snapshot snaps[LINK_SNAPSHOTS];
	unsigned nsnaps;
};

struct deadline;

struct link {
	char *device;
	struct link_config cfg;
	struct transport *t;
	guint fd_source;
	struct deadline *timer; /* the poller's next deadline */
	guint reopen_source;
	uint32_t backoff_ms;
	bool reopen_logged;
	bool started;
	struct bms_rx rx;
	struct link_counters counters;
	/* The units share the bus: one at a time runs a poll cycle (holds the
	 * bus); replies go to it. The next is offered the bus in turn. */
	struct unit units[LINK_UNITS_MAX];
	unsigned nunits;
	int holder;           /* unit holding the bus, -1 = none */
	unsigned last_holder; /* where a reply with no holder goes */
	unsigned next_offer;
	uint64_t bus_sent_ms; /* last frame on the bus */
	bool bus_sent;
	bool rx_clean; /* the last frame sent got one valid answer, and nothing came after it */
	bool pumping, again;
	bool master_logged;
	/* Looking for BMSs that did not answer at start (link_scan()). */
	struct {
		uint16_t addresses; /* still missing */
		uint32_t period_ms;
		uint64_t due_ms, sent_ms, until_ms;
		unsigned next; /* where the round goes on */
		int out;       /* the address asked, holding the bus; -1 = none */
		int found;     /* an address that answered, to deliver; -1 = none */
		link_found_fn cb;
		void *user_data;
	} scan;
};

/* Put one frame on the bus (the device away: it is lost, and times out). */
void link_send_frame(struct link *l, const struct poller_action *act, uint64_t now);
/* A master pack broadcasts: logged once. */
void link_master_heard(struct link *l);

/* link_scan.c: a frame while the scan's question is out; bytes then;
 * an address that answered, reported after the read loop; the scan's
 * turn on a free bus (late_only: before the units, only when late). */
void link_scan_frame(struct link *l, const struct bms_frame *f);
void link_scan_on_rx(struct link *l, uint64_t now, bool partial);
void link_scan_deliver(struct link *l);
void link_scan_step(struct link *l, uint64_t now, uint64_t free_at, uint64_t *until, bool late_only);

#endif
