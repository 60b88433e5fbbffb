/* SPDX-License-Identifier: MIT */
/*
 * Poll scheduling and link supervision for one BMS at one address, through
 * its family's driver (docs/architecture.md "Drivers"; the link states of
 * docs/charge-control.md "Loss of communication"). Pure: time comes in as
 * an argument, actions go out as data.
 */
#include "poller.h"

#include <errno.h>
#include <string.h>

void poller_config_default(struct poller_config *c)
{
	c->interval_ms = 1000;
	c->min_gap_ms = 100;
	c->reply_timeout_ms = 500;
	c->rx_gap_ms = 50;
	c->reply_max_ms = 2000;
	c->password_gap_ms = 120;
	c->write_settle_ms = 150;
	c->warning_ms = 5000;
	c->lost_ms = 30000;
	c->misses_before_activate = 3;
	c->write_attempts = 3;
}

void poller_config_for(struct poller_config *c, const struct bms_driver *drv)
{
	if (drv->min_gap_ms > c->min_gap_ms)
		c->min_gap_ms = drv->min_gap_ms;
	if (drv->reply_timeout_ms && drv->reply_timeout_ms < c->reply_timeout_ms)
		c->reply_timeout_ms = drv->reply_timeout_ms;
}

const char *poller_link_name(enum poller_link link)
{
	switch (link) {
	case POLLER_LINK_CONNECTING:
		return "connecting";
	case POLLER_LINK_UP:
		return "up";
	case POLLER_LINK_DEGRADED:
		return "degraded";
	case POLLER_LINK_WARNING:
		return "no data (cable warning)";
	case POLLER_LINK_LOST:
		return "lost";
	}
	return "?";
}

const char *poller_write_status_name(enum poller_write_status status)
{
	switch (status) {
	case POLLER_WRITE_OK:
		return "ok";
	case POLLER_WRITE_NOT_APPLIED:
		return "acknowledged but not applied";
	case POLLER_WRITE_NO_ANSWER:
		return "no answer";
	}
	return "?";
}

void poller_init(struct poller *p, const struct poller_config *cfg, const struct bms_driver *drv, uint8_t addr,
		 uint64_t now)
{
	memset(p, 0, sizeof(*p));
	if (cfg)
		p->cfg = *cfg;
	else
		poller_config_default(&p->cfg);
	p->start_ms = now;
	p->next_poll_ms = now;
	p->link = POLLER_LINK_CONNECTING;
	p->drv = drv;
	p->addr = addr;
	p->setup_needed = drv->setup_request != NULL;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t poller_silence_ms(const struct poller *p, uint64_t now)
{
	uint64_t since = p->has_good ? p->last_good_ms : p->start_ms;

	return now > since ? now - since : 0;
}

/* The link state follows from the time since the last valid frame and
 * whether the last poll was missed (docs/charge-control.md "Loss of
 * communication"). */
static void update_link(struct poller *p, uint64_t now)
{
	uint64_t silence = poller_silence_ms(p, now);
	enum poller_link link;

	if (silence >= p->cfg.lost_ms)
		link = POLLER_LINK_LOST;
	else if (!p->has_good)
		link = POLLER_LINK_CONNECTING;
	else if (silence >= p->cfg.warning_ms)
		link = POLLER_LINK_WARNING;
	else if (p->consecutive_misses > 0)
		link = POLLER_LINK_DEGRADED;
	else
		link = POLLER_LINK_UP;
	if (link == POLLER_LINK_LOST && p->link != POLLER_LINK_LOST) {
		p->counters.link_lost++;
		/* When it answers again it may be another pack, or changed. */
		poller_resetup(p);
	}
	p->link = link;
}

/* When the link state would next change with no event. */
static uint64_t next_link_change(const struct poller *p)
{
	uint64_t since = p->has_good ? p->last_good_ms : p->start_ms;

	switch (p->link) {
	case POLLER_LINK_CONNECTING:
	case POLLER_LINK_WARNING:
		return since + p->cfg.lost_ms;
	case POLLER_LINK_UP:
	case POLLER_LINK_DEGRADED:
		return since + p->cfg.warning_ms;
	case POLLER_LINK_LOST:
		break;
	}
	return UINT64_MAX;
}

static void send(struct poller *p, uint64_t now, struct poller_action *act, int len, bool flush)
{
	act->kind = POLLER_ACT_SEND;
	act->len = len > 0 ? (size_t)len : 0;
	act->flush_rx = flush;
	act->until_ms = now;
	p->last_send_ms = now;
	p->has_sent = true;
}

static void send_read(struct poller *p, uint64_t now, struct poller_action *act)
{
	/* A read after another frame of this cycle (a failed attempt, an
	 * activation, a write) may meet that frame's late answer: stale input
	 * goes first. The read that opens a cycle leaves it to the link, which
	 * knows whether the last exchange on the bus ended cleanly
	 * (docs/protocol-4e57.md "Receiving a stream"). */
	send(p, now, act, p->drv->read_request(p->addr, act->frame, sizeof(act->frame)), p->phase != POLLER_PHASE_IDLE);
	p->phase = POLLER_PHASE_READ_SENT;
	p->read_sent_ms = now;
	p->deadline_ms = now + p->cfg.reply_timeout_ms;
	p->rx_partial = false;
	p->attempt_bad = false;
	p->attempt_done = false;
}

/* The next setup request, or the read when the setup is complete. */
static void send_setup(struct poller *p, uint64_t now, struct poller_action *act)
{
	bool more = p->setup_needed && !(p->refreshing && p->setup_step >= p->drv->refresh_steps);
	int len = more ? p->drv->setup_request(p->addr, p->setup_step, act->frame, sizeof(act->frame)) : 0;

	if (len <= 0) {
		p->setup_needed = false;
		p->refreshing = false;
		if (p->drv->refresh_ms)
			p->refresh_ms = now + p->drv->refresh_ms;
		send_read(p, now, act);
		return;
	}
	send(p, now, act, len, true);
	p->phase = POLLER_PHASE_SETUP_SENT;
	p->read_sent_ms = now;
	p->deadline_ms = now + p->cfg.reply_timeout_ms;
	p->rx_partial = false;
	p->attempt_bad = false;
	p->attempt_done = false;
}

static void finish_cycle(struct poller *p, uint64_t now)
{
	p->phase = POLLER_PHASE_IDLE;
	p->writing = false;
	/* Fixed rate without bursts: the next poll is one interval after this
	 * cycle began, or now when that has passed already. */
	p->next_poll_ms = max_u64(p->cycle_ms + p->cfg.interval_ms, now);
	update_link(p, now);
}

static void write_done(struct poller *p, enum poller_write_status status)
{
	struct poller_write *w = &p->queue[0];

	p->result.fet = w->fet;
	p->result.value = w->value;
	p->result.status = status;
	p->result.attempts = w->attempts;
	p->result.form = w->form;
	p->result_ready = true;
	if (status == POLLER_WRITE_OK) {
		p->counters.writes_ok++;
		p->write_form = w->form; /* remember the form this unit accepts */
	} else {
		p->counters.writes_failed++;
	}
	memmove(&p->queue[0], &p->queue[1], (p->queued - 1) * sizeof(p->queue[0]));
	p->queued--;
}

/* An attempt of queue[0] failed: retry in a later cycle or give up. After
 * a "not applied", try the driver's next frame form (for 4E 57 the type-02
 * form, docs/protocol-4e57.md "Requests"). */
static void write_attempt_failed(struct poller *p, enum poller_write_status status)
{
	struct poller_write *w = &p->queue[0];

	if (w->attempts >= p->cfg.write_attempts) {
		write_done(p, status);
		return;
	}
	if (status == POLLER_WRITE_NOT_APPLIED && p->drv->write_forms > 1)
		w->form = (w->form + 1) % p->drv->write_forms;
}

/* The steps of a cycle. Each returns true when it put a frame into *act,
 * else sets *wait to when it next has something to do. */

/* Due: wake a sleeping BMS first (where the family has such a request),
 * then a queued write (unlock, write, read back), else a read. */
static bool start_cycle(struct poller *p, uint64_t now, uint64_t gap_until, struct poller_action *act, uint64_t *wait)
{
	uint64_t due = max_u64(p->next_poll_ms, gap_until);
	int len;

	if (now < due) {
		*wait = due;
		return false;
	}
	p->cycle_ms = now;
	p->attempt = 0;
	p->counters.polls++;
	/* The setup, when due, comes first: no read before it, and for PB its
	 * first request is the wake-up anyway. */
	if (p->activate_pending && p->setup_needed)
		p->activate_pending = false;
	if (p->activate_pending) {
		/* docs/protocol-4e57.md "Activation". */
		p->activate_pending = false;
		len = p->drv->activate_request(p->addr, act->frame, sizeof(act->frame));
		if (len > 0) {
			p->counters.activations++;
			send(p, now, act, len, true);
			p->phase = POLLER_PHASE_ACTIVATE_SENT;
			return true;
		}
	}
	if (!p->setup_needed && p->refresh_ms && now >= p->refresh_ms) {
		p->setup_needed = true;
		p->refreshing = true;
		p->setup_step = 0;
	}
	if (p->setup_needed) {
		send_setup(p, now, act);
		return true;
	}
	if (p->queued > 0) {
		p->writing = true;
		p->queue[0].attempts++;
		len = p->drv->unlock_request(p->addr, act->frame, sizeof(act->frame));
		p->phase = POLLER_PHASE_PASSWORD_SENT;
		if (len > 0) {
			send(p, now, act, len, true);
			return true;
		}
		poller_next(p, now, act); /* no unlock: write at once */
		if (act->kind == POLLER_ACT_SEND)
			return true;
		*wait = act->until_ms;
		return false;
	}
	send_read(p, now, act);
	return true;
}

/* A frame whose next step comes `after` it was sent, and never within the
 * gap between two frames. */
static bool after(struct poller *p, uint64_t now, uint64_t gap_until, uint32_t after_ms, uint64_t *wait)
{
	uint64_t due = max_u64(p->last_send_ms + after_ms, gap_until);

	if (now < due) {
		*wait = due;
		return false;
	}
	return true;
}

static void send_write(struct poller *p, uint64_t now, struct poller_action *act)
{
	struct poller_write *w = &p->queue[0];

	send(p, now, act, p->drv->write_request(p->addr, w->fet, w->value, w->form, act->frame, sizeof(act->frame)),
	     true);
	p->phase = POLLER_PHASE_WRITE_SENT;
}

/* The read is out: wait for the reply, retry once, or count a miss. */
static bool awaiting_reply(struct poller *p, uint64_t now, uint64_t gap_until, struct poller_action *act,
			   uint64_t *wait)
{
	if (now < p->deadline_ms) {
		*wait = p->deadline_ms;
		return false;
	}
	/* Never cut a reply that is still arriving: extend while bytes keep
	 * coming, up to reply_max_ms after the request. */
	if (p->rx_partial && !p->attempt_bad && now < p->last_rx_ms + p->cfg.rx_gap_ms &&
	    now < p->read_sent_ms + p->cfg.reply_max_ms) {
		p->deadline_ms = min_u64(p->last_rx_ms + p->cfg.rx_gap_ms, p->read_sent_ms + p->cfg.reply_max_ms);
		*wait = p->deadline_ms;
		return false;
	}
	if (!p->attempt_done) {
		p->attempt_done = true;
		if (!p->attempt_bad)
			p->counters.timeouts++;
	}
	bool skip = p->phase == POLLER_PHASE_SETUP_SENT &&
		((p->drv->setup_optional & (1u << p->setup_step)) || p->refreshing);

	if ((p->attempt == 0 || skip) && now < gap_until) {
		*wait = gap_until;
		return false;
	}
	/* A refresh is not retried: the values read before stay. */
	if (p->attempt == 0 && !(skip && p->refreshing)) {
		p->attempt = 1;
		p->counters.retries++;
		/* Lost during this cycle: the retry reads the setup first. */
		if (p->phase == POLLER_PHASE_SETUP_SENT || p->setup_needed)
			send_setup(p, now, act);
		else
			send_read(p, now, act);
		return true;
	}
	if (skip) {
		/* An optional step went unanswered: on with the next. */
		p->setup_step++;
		p->attempt = 0;
		send_setup(p, now, act);
		return true;
	}
	p->counters.misses++;
	p->consecutive_misses++;
	if (p->cfg.misses_before_activate && p->consecutive_misses % p->cfg.misses_before_activate == 0)
		p->activate_pending = true;
	if (p->writing)
		write_attempt_failed(p, POLLER_WRITE_NO_ANSWER);
	finish_cycle(p, now);
	/* The cycle is over: hand back (another BMS may use the bus) and be
	 * called again at once. */
	*wait = now;
	return false;
}

void poller_next(struct poller *p, uint64_t now, struct poller_action *act)
{
	uint64_t gap_until, wait = UINT64_MAX;
	bool sent = false;

	memset(act, 0, sizeof(*act));
	update_link(p, now);
	gap_until = p->has_sent ? p->last_send_ms + p->cfg.min_gap_ms : now;
	switch (p->phase) {
	case POLLER_PHASE_IDLE:
		sent = start_cycle(p, now, gap_until, act, &wait);
		break;
	case POLLER_PHASE_ACTIVATE_SENT:
		/* The device may have been reopened since the wake-up went out
		 * (to nothing): a setup still needed comes before the read. */
		if ((sent = after(p, now, gap_until, 0, &wait))) {
			if (p->setup_needed)
				send_setup(p, now, act);
			else
				send_read(p, now, act);
		}
		break;
	case POLLER_PHASE_PASSWORD_SENT:
		if ((sent = after(p, now, gap_until, p->cfg.password_gap_ms, &wait)))
			send_write(p, now, act);
		break;
	case POLLER_PHASE_WRITE_SENT:
		if ((sent = after(p, now, gap_until, p->cfg.write_settle_ms, &wait)))
			send_read(p, now, act);
		break;
	case POLLER_PHASE_READ_SENT:
	case POLLER_PHASE_SETUP_SENT:
		sent = awaiting_reply(p, now, gap_until, act, &wait);
		break;
	case POLLER_PHASE_SETUP_NEXT:
		if ((sent = after(p, now, gap_until, 0, &wait)))
			send_setup(p, now, act);
		break;
	}
	if (sent)
		return;
	act->kind = POLLER_ACT_WAIT;
	act->until_ms = min_u64(wait, next_link_change(p));
}

void poller_on_rx(struct poller *p, uint64_t now, bool partial)
{
	p->last_rx_ms = now;
	p->rx_partial = partial;
}

bool poller_on_snapshot(struct poller *p, const struct bms_snapshot *snap, uint64_t now)
{
	if (p->phase != POLLER_PHASE_READ_SENT) {
		p->counters.unexpected++;
		return false;
	}
	if (p->setup_needed) {
		/* Reopened or lost while this read was out: its limits would
		 * rest on settings that may have changed. Read the setup now,
		 * and take live data after it (docs/protocol-pb.md). */
		p->counters.unexpected++;
		p->phase = POLLER_PHASE_SETUP_NEXT;
		p->attempt = 0;
		p->rx_partial = false;
		p->last_rx_ms = now;
		return false;
	}
	p->counters.replies++;
	p->has_good = true;
	p->last_good_ms = now;
	p->consecutive_misses = 0;
	p->rx_partial = false;
	if (p->writing) {
		const struct poller_write *w = &p->queue[0];

		if (p->drv->fet_shows(snap, w->fet, w->value))
			write_done(p, POLLER_WRITE_OK);
		else
			write_attempt_failed(p, POLLER_WRITE_NOT_APPLIED);
	}
	finish_cycle(p, now);
	return true;
}

void poller_on_setup(struct poller *p, uint64_t now)
{
	if (p->phase == POLLER_PHASE_ACTIVATE_SENT) {
		/* The family's wake-up request was a setup request (PB). */
		p->counters.setups++;
		return;
	}
	if (p->phase != POLLER_PHASE_SETUP_SENT) {
		p->counters.unexpected++;
		return;
	}
	p->counters.setups++;
	p->last_rx_ms = now;
	p->rx_partial = false;
	p->setup_step++;
	p->attempt = 0;
	p->phase = POLLER_PHASE_SETUP_NEXT;
}

void poller_resetup(struct poller *p)
{
	if (!p->drv->setup_request)
		return;
	p->setup_needed = true;
	p->setup_step = 0;
	p->refreshing = false;
}

void poller_on_bad_reply(struct poller *p, uint64_t now)
{
	p->counters.bad_replies++;
	if (p->phase != POLLER_PHASE_READ_SENT && p->phase != POLLER_PHASE_SETUP_SENT)
		return;
	/* The BMS has answered this attempt; waiting longer gains nothing. */
	p->attempt_bad = true;
	p->rx_partial = false;
	p->deadline_ms = now;
}

void poller_on_write_ack(struct poller *p, uint64_t now)
{
	(void)now;
	p->counters.write_acks++;
}

int poller_queue_write(struct poller *p, enum bms_fet fet, bool on)
{
	if ((unsigned)fet >= BMS_FET_COUNT)
		return -EINVAL;
	if (!p->drv->write_request)
		return -ENOTSUP;
	/* Entry 0 may be in progress in this cycle; later ones are not. */
	for (size_t i = p->writing ? 1 : 0; i < p->queued; i++) {
		if (p->queue[i].fet == fet) {
			p->queue[i].value = on;
			p->queue[i].attempts = 0;
			return 0;
		}
	}
	if (p->queued >= POLLER_WRITE_QUEUE)
		return -EBUSY;
	p->queue[p->queued].fet = fet;
	p->queue[p->queued].value = on;
	p->queue[p->queued].attempts = 0;
	p->queue[p->queued].form = p->write_form;
	p->queued++;
	return 0;
}

size_t poller_writes_pending(const struct poller *p)
{
	return p->queued;
}

bool poller_take_write_result(struct poller *p, struct poller_write_result *out)
{
	if (!p->result_ready)
		return false;
	*out = p->result;
	p->result_ready = false;
	return true;
}

enum poller_link poller_link(const struct poller *p)
{
	return p->link;
}

bool poller_idle(const struct poller *p)
{
	return p->phase == POLLER_PHASE_IDLE;
}

uint64_t poller_watch(struct poller *p, uint64_t now)
{
	update_link(p, now);
	return next_link_change(p);
}

uint64_t poller_due(const struct poller *p)
{
	return p->phase == POLLER_PHASE_IDLE ? p->next_poll_ms : 0;
}

const struct poller_counters *poller_counters(const struct poller *p)
{
	return &p->counters;
}
