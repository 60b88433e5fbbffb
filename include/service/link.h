/* SPDX-License-Identifier: MIT */
/*
 * A live, self-healing link to one BMS: runs the poller over a transport in
 * the GLib main loop (one fd watch, one timer), deframes and decodes replies
 * through the family's driver, reopens a vanished device with backoff, and
 * counts everything that goes wrong. Events are delivered after the read
 * loop, never from inside it. Knows GLib, not D-Bus.
 */
#ifndef LINK_H
#define LINK_H

#include <stdint.h>

#include "bms_driver.h"
#include "bms_types.h"
#include "poller.h"
#include "transport.h"

/* Replies one read may deliver at most. */
#define LINK_SNAPSHOTS 4
/* BMSs one port may serve (an RS-485 bus takes addresses 1..15). */
#define LINK_UNITS_MAX 16

struct link_config {
	const char *device;                /* path, copied by link_new() */
	unsigned baud;                     /* default 115200 */
	const struct bms_driver *driver;   /* default the 4E 57 family */
	unsigned units;                    /* BMSs sharing the port (bus), default 1 */
	uint8_t addresses[LINK_UNITS_MAX]; /* theirs, default 0 */
	struct poller_config poll;
	uint32_t reopen_min_ms; /* first reopen attempt after a loss, default 1000 */
	uint32_t reopen_max_ms; /* backoff ceiling, default 30000 */
};

void link_config_default(struct link_config *cfg);

struct link_events {
	/* A valid reply to our poll. */
	void (*snapshot)(void *user_data, const struct bms_snapshot *snap);
	/* The link state changed. */
	void (*state)(void *user_data, enum poller_link old_state, enum poller_link new_state);
	/* A queued MOSFET write finished. */
	void (*write_done)(void *user_data, const struct poller_write_result *result);
};

struct link_counters {
	uint64_t rejects[CODEC_REJECT_COUNT]; /* per reason, deframer and decoder */
	uint64_t junk_bytes;                  /* skipped while hunting for a frame start */
	uint64_t bytes_in;
	uint64_t frames;        /* checksum-valid BMS frames */
	uint64_t requests_sent; /* frames written to the device */
	uint64_t flushes;       /* input flushed before a request (it may have been stale) */
	uint64_t reopens;       /* successful reopens after a loss */
	uint64_t io_errors;     /* device lost / read or write failures */
};

struct link;

/* Open cfg->device and prepare the link; nothing is sent before
 * link_start(). events may have NULL members. Returns 0 or -errno from the
 * transport (-ENOENT: no such device). */
int link_new(const struct link_config *cfg, const struct link_events *events, void *user_data, struct link **out);

/* A BMS that answered the scan at address addr. */
typedef void (*link_found_fn)(void *user_data, uint8_t addr);

/* Look for BMSs that did not answer at start: ask one of addresses (bit n
 * = address n, none a unit's) every period_ms, in turn, in a gap between
 * the units' poll cycles, with the driver's read request and the reply
 * timeout. An address whose frame (it carries its sender, like PB's)
 * answers is taken off the list and reported through found, from the main
 * loop after the read loop. period_ms 0 or no addresses: no scan. */
void link_scan(struct link *l, uint16_t addresses, uint32_t period_ms, link_found_fn found, void *user_data);

/* Bind a unit's events (link_new() binds every unit to the ones given). */
void link_bind(struct link *l, unsigned unit, const struct link_events *events, void *user_data);

unsigned link_units(const struct link *l);
const struct bms_driver *link_driver(const struct link *l);
uint8_t link_unit_address(const struct link *l, unsigned unit);

/* Start polling (first request at once). */
void link_start(struct link *l);

/* Queue a MOSFET write for a unit (see poller_queue_write()). Safe from
 * inside an event; never calls an event itself (the write goes out from
 * the main loop). -EINVAL for a unit the link does not have. */
int link_unit_queue_write(struct link *l, unsigned unit, enum bms_fet fet, bool on);
enum poller_link link_unit_state(const struct link *l, unsigned unit);
const struct poller_counters *link_unit_poller_counters(const struct link *l, unsigned unit);

/* The same for the first unit (a port with one BMS). */
int link_queue_write(struct link *l, enum bms_fet fet, bool on);

enum poller_link link_state(const struct link *l);
const struct poller_counters *link_poller_counters(const struct link *l);
const struct link_counters *link_counters(const struct link *l);
/* True while the device is open. */
bool link_is_open(const struct link *l);

/* Frames rejected, all reasons together. */
uint64_t link_rejects_total(const struct link_counters *c);

/* Log the totals: what went wrong over the whole run. */
void link_log_totals(const struct link *l);

/* Stop and free; NULL allowed. */
void link_free(struct link *l);

/* Monotonic milliseconds, the clock the link gives the poller. */
uint64_t link_now_ms(void);

#endif /* LINK_H */
