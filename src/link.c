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

#include "log.h"

struct link {
	char *device;
	struct link_config cfg;
	struct link_events events;
	void *user_data;
	struct transport *t;
	guint fd_source;
	guint timer_source;
	guint reopen_source;
	uint32_t backoff_ms;
	bool reopen_logged;
	bool started;
	struct bms_rx rx;
	struct poller poller;
	enum poller_link reported;
	struct link_counters counters;
	/* replies waiting for delivery (a read may carry more than one) */
	struct bms_snapshot snaps[LINK_SNAPSHOTS];
	unsigned nsnaps;
	bool pumping, again;
};

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
	poller_config_default(&c->poll);
	c->reopen_min_ms = 1000;
	c->reopen_max_ms = 30000;
}

/* Deliver what happened: replies, then a change of the link state, then
 * finished writes. Callbacks may queue writes (the pump goes round again). */
static void deliver(struct link *l)
{
	enum poller_link now = poller_link(&l->poller);
	struct poller_write_result r;

	for (unsigned k = 0; k < l->nsnaps; k++) {
		if (l->events.snapshot)
			l->events.snapshot(l->user_data, &l->snaps[k]);
	}
	l->nsnaps = 0;
	if (now != l->reported) {
		enum poller_link old = l->reported;

		l->reported = now;
		if (now == POLLER_LINK_UP || now == POLLER_LINK_LOST || now == POLLER_LINK_WARNING)
			LOG_INFO("%s: link %s", l->device, poller_link_name(now));
		else
			LOG_DBG("%s: link %s", l->device, poller_link_name(now));
		if (l->events.state)
			l->events.state(l->user_data, old, now);
	}
	while (poller_take_write_result(&l->poller, &r)) {
		if (l->events.write_done)
			l->events.write_done(l->user_data, &r);
	}
}

static gboolean reopen_cb(gpointer data);
static gboolean readable_cb(gint fd, GIOCondition cond, gpointer data);

static void attach(struct link *l)
{
	l->fd_source = g_unix_fd_add(transport_fd(l->t), G_IO_IN | G_IO_HUP | G_IO_ERR, readable_cb, l);
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
	attach(l);
	pump(l);
	return G_SOURCE_REMOVE;
}

static gboolean timer_cb(gpointer data)
{
	struct link *l = data;

	l->timer_source = 0;
	pump(l);
	return G_SOURCE_REMOVE;
}

static void handle_frame(struct link *l, const struct bms_frame *f, uint64_t now)
{
	struct bms_snapshot snap;
	struct codec_error e;

	l->counters.frames++;
	switch (l->cfg.driver->decode(f, &snap, &e)) {
	case BMS_REPLY_WRITE_ACK:
		poller_on_write_ack(&l->poller, now);
		return;
	case BMS_REPLY_BAD: {
		char msg[160];

		l->counters.rejects[e.reason]++;
		codec_error_format(&e, 0, msg, sizeof(msg));
		LOG_DBG("%s: reply rejected: %s", l->device, msg);
		poller_on_bad_reply(&l->poller, now);
		return;
	}
	case BMS_REPLY_DATA:
		break;
	}
	/* Only a reply to our request is delivered (later, see deliver()). */
	if (poller_on_snapshot(&l->poller, &snap, now) && l->nsnaps < LINK_SNAPSHOTS)
		l->snaps[l->nsnaps++] = snap;
}

static void feed(struct link *l, const uint8_t *data, size_t len, uint64_t now)
{
	struct bms_frame frame;
	struct codec_error e;

	for (;;) {
		size_t used = 0;
		int r = l->cfg.driver->rx_feed(&l->rx, data, len, &used, &frame, &e);

		data += used;
		len -= used;
		if (r == 0)
			break;
		if (r < 0) {
			l->counters.rejects[e.reason]++;
			LOG_DBG("%s: frame rejected: %s", l->device, codec_reject_name(e.reason));
			continue;
		}
		handle_frame(l, &frame, now);
	}
	l->counters.junk_bytes = l->cfg.driver->rx_junk(&l->rx);
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
	}
	if (!got && (cond & (G_IO_HUP | G_IO_ERR))) {
		l->fd_source = 0;
		device_lost(l, -EIO);
		pump(l);
		return G_SOURCE_REMOVE;
	}
	poller_on_rx(&l->poller, now, l->cfg.driver->rx_pending(&l->rx) > 0);
	pump(l);
	return G_SOURCE_CONTINUE;
}

static void run(struct link *l)
{
	struct poller_action act;
	uint64_t now = link_now_ms();

	if (!l->started)
		return;
	for (;;) {
		poller_next(&l->poller, now, &act);
		if (act.kind == POLLER_ACT_WAIT)
			break;
		if (!l->t)
			continue; /* the device is away: the request is lost, the poller times out */
		if (act.flush_rx) {
			transport_flush_input(l->t);
			l->cfg.driver->rx_reset(&l->rx);
		}
		int r = transport_write(l->t, act.frame, act.len);

		if (r < 0) {
			device_lost(l, r);
			continue;
		}
		l->counters.requests_sent++;
	}
	if (l->timer_source)
		g_source_remove(l->timer_source);
	uint64_t delay = act.until_ms > now ? act.until_ms - now : 0;

	l->timer_source = g_timeout_add((guint)MIN(delay, 60000), timer_cb, l);
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

int link_new(const struct link_config *cfg, const struct link_events *events, void *user_data,
	     struct link **out)
{
	struct transport *t = NULL;
	int r = transport_open(cfg->device, cfg->baud, &t);

	if (r < 0)
		return r;

	struct link *l = g_new0(struct link, 1);

	l->cfg = *cfg;
	l->device = g_strdup(cfg->device);
	l->cfg.device = l->device;
	if (events)
		l->events = *events;
	l->user_data = user_data;
	l->t = t;
	l->reported = POLLER_LINK_CONNECTING;
	LOG_INFO("%s: opened with %s at %u 8N1", l->device, transport_kind_name(transport_get_kind(t)), cfg->baud);
	poller_init(&l->poller, &l->cfg.poll, l->cfg.driver, l->cfg.address, link_now_ms());
	attach(l);
	*out = l;
	return 0;
}

void link_start(struct link *l)
{
	l->started = true;
	poller_init(&l->poller, &l->cfg.poll, l->cfg.driver, l->cfg.address, link_now_ms());
	pump(l);
}

int link_queue_write(struct link *l, enum bms_fet fet, bool on)
{
	int r = poller_queue_write(&l->poller, fet, on);

	if (r == 0)
		pump(l);
	return r;
}

enum poller_link link_state(const struct link *l)
{
	return poller_link(&l->poller);
}

const struct poller_counters *link_poller_counters(const struct link *l)
{
	return poller_counters(&l->poller);
}

const struct link_counters *link_counters(const struct link *l)
{
	return &l->counters;
}

bool link_is_open(const struct link *l)
{
	return l->t != NULL;
}

void link_log_totals(const struct link *l)
{
	const struct poller_counters *p = link_poller_counters(l);
	const struct link_counters *c = link_counters(l);

	LOG_INFO("%s: link totals: polls %llu, replies %llu, requests sent %llu, timeouts %llu, retries %llu, "
		 "rejected checksum %llu, rejected echo %llu, junk bytes %llu, reopens %llu, writes ok %llu, "
		 "writes failed %llu",
		 l->device, (unsigned long long)p->polls, (unsigned long long)p->replies, (unsigned long long)c->requests_sent,
		 (unsigned long long)p->timeouts, (unsigned long long)p->retries,
		 (unsigned long long)c->rejects[CODEC_REJECT_CHECKSUM],
		 (unsigned long long)c->rejects[CODEC_REJECT_NOT_REPLY], (unsigned long long)c->junk_bytes,
		 (unsigned long long)c->reopens, (unsigned long long)p->writes_ok, (unsigned long long)p->writes_failed);
}

void link_free(struct link *l)
{
	if (!l)
		return;
	if (l->fd_source)
		g_source_remove(l->fd_source);
	if (l->timer_source)
		g_source_remove(l->timer_source);
	if (l->reopen_source)
		g_source_remove(l->reopen_source);
	transport_free(l->t);
	g_free(l->device);
	g_free(l);
}
