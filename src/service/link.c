/* SPDX-License-Identifier: MIT */
/*
 * The poll loop of one BMS in the GLib main loop. The poller decides what
 * and when, the driver knows the protocol; this file moves bytes, keeps
 * one timer armed for the poller's next deadline, and reopens the device
 * with backoff when it vanishes.
 *
 * No re-entrancy: what happened (replies, link state, write results) is
 * collected while bytes are read and the poller runs, and delivered to the
 * events only afterwards, from the top of each entry point (pump()). An
 * event that queues a write makes the pump go round once more; it never
 * runs the poller, or touches the transport, from inside the read loop.
 */
#define G_LOG_DOMAIN "link"

#include "link.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <string.h>

#include "deadline.h"
#include "link_private.h"
#include "log.h"

static void pump(struct link *l);

uint64_t link_now_ms(void)
{
	return (uint64_t)(g_get_monotonic_time() / 1000);
}

void link_config_default(struct link_config *c)
{
	memset(c, 0, sizeof(*c));
	c->baud = 115200;
	c->driver = &bms_driver_4e57;
	c->units = 1;
	poller_config_default(&c->poll);
	c->reopen_min_ms = 1000;
	c->reopen_max_ms = 30000;
}

/* Deliver what happened to one unit: replies, then a change of its link
 * state, then finished writes. Callbacks may queue writes (the pump goes
 * round again). */
static void deliver_unit(struct link *l, struct unit *u)
{
	enum poller_link now = poller_link(&u->poller);
	struct poller_write_result r;

	for (unsigned k = 0; k < u->nsnaps; k++) {
		if (u->events.snapshot)
			u->events.snapshot(u->user_data, &u->snaps[k]);
	}
	u->nsnaps = 0;
	if (now != u->reported) {
		enum poller_link old = u->reported;

		u->reported = now;
		if (now == POLLER_LINK_UP || now == POLLER_LINK_LOST || now == POLLER_LINK_WARNING)
			LOG_INFO("%s: address %u: link %s", l->device, u->address, poller_link_name(now));
		else
			LOG_DBG("%s: address %u: link %s", l->device, u->address, poller_link_name(now));
		if (u->events.state)
			u->events.state(u->user_data, old, now);
	}
	while (poller_take_write_result(&u->poller, &r)) {
		if (u->events.write_done)
			u->events.write_done(u->user_data, &r);
	}
}

static void deliver(struct link *l)
{
	for (unsigned k = 0; k < l->nunits; k++)
		deliver_unit(l, &l->units[k]);
	link_scan_deliver(l);
}

static gboolean reopen_cb(gpointer data);
static gboolean readable_cb(gint fd, GIOCondition cond, gpointer data);

static void attach(struct link *l)
{
	l->rx_clean = false; /* whatever waits in a reopened port is flushed */
	l->fd_source = g_unix_fd_add(transport_fd(l->t), G_IO_IN | G_IO_HUP | G_IO_ERR, readable_cb, l);
	/* Without this GLib takes the fd out of the poll set around every
	 * dispatch and puts it back, signalling its wakeup eventfd both times:
	 * two writes, a poll and a read per reply. readable_cb() never runs
	 * the loop, so it cannot recurse. */
	g_source_set_can_recurse(g_main_context_find_source_by_id(NULL, l->fd_source), TRUE);
	l->cfg.driver->rx_reset(&l->rx);
}

static void device_lost(struct link *l, int err)
{
	LOG_WARN("%s: device lost (%s); reopening with backoff", l->device, g_strerror(-err));
	l->counters.io_errors++;
	if (l->fd_source)
		g_source_remove(l->fd_source);
	l->fd_source = 0;
	transport_free(l->t);
	l->t = NULL;
	l->cfg.driver->rx_reset(&l->rx);
	l->backoff_ms = l->cfg.reopen_min_ms;
	l->reopen_logged = false;
	if (!l->reopen_source)
		l->reopen_source = g_timeout_add(l->backoff_ms, reopen_cb, l);
}

static gboolean reopen_cb(gpointer data)
{
	struct link *l = data;
	int r = transport_open(l->device, l->cfg.baud, &l->t);

	l->reopen_source = 0;
	if (r < 0) {
		if (!l->reopen_logged)
			LOG_DBG("%s: reopen failed (%s), retrying", l->device, g_strerror(-r));
		l->reopen_logged = true;
		l->backoff_ms = MIN(l->backoff_ms * 2, l->cfg.reopen_max_ms);
		l->reopen_source = g_timeout_add(l->backoff_ms, reopen_cb, l);
		return G_SOURCE_REMOVE;
	}
	LOG_INFO("%s: device back, reopened (%s)", l->device, transport_kind_name(transport_get_kind(l->t)));
	l->counters.reopens++;
	/* Whatever is on the other end now: read its setup again. */
	for (unsigned k = 0; k < l->nunits; k++)
		poller_resetup(&l->units[k].poller);
	attach(l);
	pump(l);
	return G_SOURCE_REMOVE;
}

static void timer_cb(void *data)
{
	pump(data);
}

/* A reply carries its sender (PB): it must be the unit that holds the bus.
 * Address 0 is a master pack broadcasting on its own: reported once, its
 * frames are not ours. Returns false when the frame is dropped. */
void link_master_heard(struct link *l)
{
	if (!l->master_logged)
		LOG_WARN("%s: a master pack (address 0) is broadcasting on this bus: give every pack an address "
			 "1..15 with its DIP switches (none at 0), then restart it; the master's frames are ignored",
			 l->device);
	l->master_logged = true;
}

static bool sender_ok(struct link *l, const struct bms_frame *f, struct unit *u, uint64_t now)
{
	if (f->addr < 0 || f->addr == u->address)
		return true;
	l->counters.rejects[CODEC_REJECT_ADDRESS]++;
	if (f->addr == 0) {
		link_master_heard(l);
		return false;
	}
	LOG_DBG("%s: reply from address %d while polling address %u", l->device, f->addr, u->address);
	poller_on_bad_reply(&u->poller, now);
	return false;
}

/* Returns true when the frame answered the request on the bus. */
static bool handle_frame(struct link *l, const struct bms_frame *f, uint64_t now)
{
	/* A reply answers the unit that holds the bus. */
	struct unit *u = &l->units[l->holder >= 0 ? (unsigned)l->holder : l->last_holder];
	struct codec_error e;

	l->counters.frames++;
	if (l->scan.out >= 0) {
		link_scan_frame(l, f);
		return false;
	}
	if (!sender_ok(l, f, u, now))
		return false;
	switch (l->cfg.driver->decode(f, &u->acc, &e)) {
	case BMS_REPLY_WRITE_ACK:
		poller_on_write_ack(&u->poller, now);
		return false;
	case BMS_REPLY_SETUP: /* answered, but the next request flushes anyway */
		poller_on_setup(&u->poller, now);
		return false;
	case BMS_REPLY_BAD: {
		char msg[160];

		l->counters.rejects[e.reason]++;
		codec_error_format(&e, 0, msg, sizeof(msg));
		LOG_DBG("%s: reply rejected: %s", l->device, msg);
		poller_on_bad_reply(&u->poller, now);
		return false;
	}
	case BMS_REPLY_DATA:
		break;
	}
	/* Only a reply to our request is delivered (later, see deliver()). */
	if (!poller_on_snapshot(&u->poller, &u->acc, now))
		return false;
	if (u->nsnaps < LINK_SNAPSHOTS)
		u->snaps[u->nsnaps++] = u->acc;
	return true;
}

/* Deframe and handle what arrived, and keep rx_clean: true only when the
 * last thing received is a whole valid answer to the request (a frame
 * after it, a rejected one, junk or a partial frame make it false). */
static void feed(struct link *l, const uint8_t *data, size_t len, uint64_t now)
{
	const struct bms_driver *drv = l->cfg.driver;
	struct bms_frame frame;
	struct codec_error e;
	uint64_t junk = 0;

	l->rx_clean = false;
	for (;;) {
		size_t used = 0;
		int r;

		frame.addr = -1;
		r = drv->rx_feed(&l->rx, data, len, &used, &frame, &e);

		data += used;
		len -= used;
		if (r == 0)
			break;
		l->rx_clean = false;
		if (r < 0) {
			l->counters.rejects[e.reason]++;
			LOG_DBG("%s: frame rejected: %s", l->device, codec_reject_name(e.reason));
			continue;
		}
		if (handle_frame(l, &frame, now)) {
			l->rx_clean = true;
			junk = drv->rx_junk(&l->rx);
		}
	}
	l->counters.junk_bytes = drv->rx_junk(&l->rx);
	if (drv->rx_pending(&l->rx) > 0 || l->counters.junk_bytes != junk)
		l->rx_clean = false;
}

static gboolean readable_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct link *l = data;
	uint8_t buf[512];
	uint64_t now = link_now_ms();
	bool got = false;

	(void)fd;
	for (;;) {
		ssize_t n = transport_read(l->t, buf, sizeof(buf));

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			l->fd_source = 0; /* removed by returning G_SOURCE_REMOVE */
			device_lost(l, (int)n);
			pump(l);
			return G_SOURCE_REMOVE;
		}
		got = true;
		l->counters.bytes_in += (uint64_t)n;
		feed(l, buf, (size_t)n, now);
		/* A short read took all there was: asking again would only get
		 * EAGAIN. Bytes that come later wake the loop again. */
		if ((size_t)n < sizeof(buf))
			break;
	}
	if (!got && (cond & (G_IO_HUP | G_IO_ERR))) {
		l->fd_source = 0;
		device_lost(l, -EIO);
		pump(l);
		return G_SOURCE_REMOVE;
	}
	bool partial = l->cfg.driver->rx_pending(&l->rx) > 0;

	if (l->scan.out < 0)
		poller_on_rx(&l->units[l->holder >= 0 ? (unsigned)l->holder : l->last_holder].poller, now, partial);
	else
		link_scan_on_rx(l, now, partial);
	pump(l);
	return G_SOURCE_CONTINUE;
}

/* Put one frame the poller asked for on the bus. */
void link_send_frame(struct link *l, const struct poller_action *act, uint64_t now)
{
	l->bus_sent_ms = now;
	l->bus_sent = true;
	if (!l->t)
		return; /* the device is away: the request is lost, the poller times out */
	/* Stale input is possible only when the last exchange did not end
	 * cleanly (docs/protocol-4e57.md "Receiving a stream"): flush then,
	 * and not before every request (a system call per poll). */
	if (act->flush_rx || !l->rx_clean) {
		transport_flush_input(l->t);
		l->cfg.driver->rx_reset(&l->rx);
		l->counters.flushes++;
	}
	l->rx_clean = false;
	int r = transport_write(l->t, act->frame, act->len);

	if (r < 0) {
		device_lost(l, r);
		return;
	}
	l->counters.requests_sent++;
}

/* Let unit k send what it wants now; returns true when it sent a frame,
 * else lowers *until to when it next wants to run. */
static bool unit_step(struct link *l, unsigned k, uint64_t now, uint64_t *until)
{
	struct poller_action act;

	poller_next(&l->units[k].poller, now, &act);
	if (act.kind == POLLER_ACT_WAIT) {
		*until = MIN(*until, act.until_ms);
		return false;
	}
	link_send_frame(l, &act, now);
	return true;
}

/* The bus holder runs its cycle to its end; then the bus is offered to
 * the units in turn, one frame gap after the last one on the bus, and to
 * the scan. Units that wait only have their link state kept up to date. */
static void run(struct link *l)
{
	uint64_t now = link_now_ms(), until = UINT64_MAX;

	if (!l->started)
		return;
	if (l->scan.out >= 0 && now >= l->scan.until_ms)
		l->scan.out = -1; /* nobody there */
	if (l->scan.out >= 0)
		until = l->scan.until_ms;
	if (l->holder >= 0) {
		struct poller *p = &l->units[l->holder].poller;

		while (!poller_idle(p) && unit_step(l, (unsigned)l->holder, now, &until))
			;
		if (poller_idle(p))
			l->holder = -1;
	}
	uint64_t free_at = l->bus_sent ? l->bus_sent_ms + l->cfg.poll.min_gap_ms : now;

	if (now >= free_at)
		link_scan_step(l, now, free_at, &until, true);

	for (unsigned n = 0; n < l->nunits; n++) {
		unsigned k = (l->next_offer + n) % l->nunits;

		if (l->holder >= 0 || l->scan.out >= 0 || now < free_at) {
			struct poller *p = &l->units[k].poller;

			until = MIN(until, poller_watch(p, now));
			if (l->holder < 0 && l->scan.out < 0)
				until = MIN(until, MAX(poller_due(p), free_at));
			continue;
		}
		if (unit_step(l, k, now, &until)) {
			struct poller *p = &l->units[k].poller;

			l->holder = (int)k;
			l->last_holder = k;
			l->next_offer = (k + 1) % l->nunits;
			while (!poller_idle(p) && unit_step(l, k, now, &until))
				;
			if (poller_idle(p))
				l->holder = -1;
		}
	}
	if (now >= free_at)
		link_scan_step(l, now, free_at, &until, false);
	else if (l->scan.addresses && l->holder < 0 && l->scan.out < 0)
		until = MIN(until, MAX(l->scan.due_ms, free_at));
	/* Moved, not replaced: no GLib call per poll (deadline.h). */
	deadline_set(l->timer, MIN(until, now + 60000));
}

/* Every entry point ends here: run the poller, then deliver what happened;
 * again while the events queued more work. */
static void pump(struct link *l)
{
	if (l->pumping) {
		l->again = true;
		return;
	}
	l->pumping = true;
	do {
		l->again = false;
		run(l);
		deliver(l);
	} while (l->again);
	l->pumping = false;
}

int link_new(const struct link_config *cfg, const struct link_events *events, void *user_data, struct link **out)
{
	struct transport *t = NULL;
	int r = transport_open(cfg->device, cfg->baud, &t);

	if (r < 0)
		return r;

	struct link *l = g_new0(struct link, 1);

	l->timer = deadline_new(timer_cb, l);

	l->cfg = *cfg;
	poller_config_for(&l->cfg.poll, l->cfg.driver);
	l->device = g_strdup(cfg->device);
	l->cfg.device = l->device;
	l->nunits = cfg->units >= 1 && cfg->units <= LINK_UNITS_MAX ? cfg->units : 1;
	l->holder = -1;
	l->scan.out = l->scan.found = -1;
	for (unsigned k = 0; k < l->nunits; k++) {
		struct unit *u = &l->units[k];

		u->address = cfg->addresses[k];
		u->reported = POLLER_LINK_CONNECTING;
		if (events)
			u->events = *events;
		u->user_data = user_data;
	}
	l->t = t;
	LOG_INFO("%s: opened with %s at %u 8N1", l->device, transport_kind_name(transport_get_kind(t)), cfg->baud);
	for (unsigned k = 0; k < l->nunits; k++)
		poller_init(&l->units[k].poller, &l->cfg.poll, l->cfg.driver, l->units[k].address, link_now_ms());
	attach(l);
	*out = l;
	return 0;
}

void link_start(struct link *l)
{
	l->started = true;
	for (unsigned k = 0; k < l->nunits; k++)
		poller_init(&l->units[k].poller, &l->cfg.poll, l->cfg.driver, l->units[k].address, link_now_ms());
	pump(l);
}

void link_bind(struct link *l, unsigned unit, const struct link_events *events, void *user_data)
{
	if (unit >= l->nunits)
		return;
	l->units[unit].events = *events;
	l->units[unit].user_data = user_data;
}

unsigned link_units(const struct link *l)
{
	return l->nunits;
}

const struct bms_driver *link_driver(const struct link *l)
{
	return l->cfg.driver;
}

uint8_t link_unit_address(const struct link *l, unsigned unit)
{
	return l->units[unit < l->nunits ? unit : 0].address;
}

int link_unit_queue_write(struct link *l, unsigned unit, enum bms_fet fet, bool on)
{
	if (unit >= l->nunits)
		return -EINVAL;
	int r = poller_queue_write(&l->units[unit].poller, fet, on);

	if (r != 0)
		return r;
	/* Never call back into the caller from here: inside an event the
	 * pump goes round again; otherwise it runs from the main loop at
	 * once. */
	if (l->pumping) {
		l->again = true;
	} else {
		deadline_set(l->timer, link_now_ms());
	}
	return 0;
}

enum poller_link link_unit_state(const struct link *l, unsigned unit)
{
	return poller_link(&l->units[unit < l->nunits ? unit : 0].poller);
}

const struct poller_counters *link_unit_poller_counters(const struct link *l, unsigned unit)
{
	return poller_counters(&l->units[unit < l->nunits ? unit : 0].poller);
}

int link_queue_write(struct link *l, enum bms_fet fet, bool on)
{
	return link_unit_queue_write(l, 0, fet, on);
}

enum poller_link link_state(const struct link *l)
{
	return link_unit_state(l, 0);
}

const struct poller_counters *link_poller_counters(const struct link *l)
{
	return link_unit_poller_counters(l, 0);
}

const struct link_counters *link_counters(const struct link *l)
{
	return &l->counters;
}

bool link_is_open(const struct link *l)
{
	return l->t != NULL;
}

uint64_t link_rejects_total(const struct link_counters *c)
{
	uint64_t n = 0;

	for (int k = 1; k < CODEC_REJECT_COUNT; k++)
		n += c->rejects[k];
	return n;
}

void link_log_totals(const struct link *l)
{
	const struct poller_counters *p = link_poller_counters(l);
	const struct link_counters *c = link_counters(l);

	LOG_INFO("%s: link totals: polls %llu, replies %llu, requests sent %llu, timeouts %llu, retries %llu, "
		 "rejected checksum %llu, rejected echo %llu, junk bytes %llu, reopens %llu, writes ok %llu, "
		 "writes failed %llu",
		 l->device, (unsigned long long)p->polls, (unsigned long long)p->replies,
		 (unsigned long long)c->requests_sent, (unsigned long long)p->timeouts, (unsigned long long)p->retries,
		 (unsigned long long)c->rejects[CODEC_REJECT_CHECKSUM],
		 (unsigned long long)c->rejects[CODEC_REJECT_NOT_REPLY], (unsigned long long)c->junk_bytes,
		 (unsigned long long)c->reopens, (unsigned long long)p->writes_ok,
		 (unsigned long long)p->writes_failed);
}

void link_free(struct link *l)
{
	if (!l)
		return;
	if (l->fd_source)
		g_source_remove(l->fd_source);
	deadline_free(l->timer);
	if (l->reopen_source)
		g_source_remove(l->reopen_source);
	transport_free(l->t);
	g_free(l->device);
	g_free(l);
}
