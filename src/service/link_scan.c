/* SPDX-License-Identifier: MIT */
/*
 * Looking for BMSs that did not answer at start (link.h link_scan()): one
 * question each period, to the missing addresses in turn, in a gap
 * between the units' poll cycles (docs/protocol-pb.md "Packs that come
 * later"). Part of the link: it holds the bus while its question is out.
 */
#define G_LOG_DOMAIN "link"

#include <glib.h>

#include "deadline.h"
#include "link_private.h"
#include "log.h"

void link_scan(struct link *l, uint16_t addresses, uint32_t period_ms, link_found_fn found, void *user_data)
{
	l->scan.addresses = period_ms ? addresses : 0;
	l->scan.period_ms = period_ms;
	l->scan.due_ms = link_now_ms() + period_ms;
	l->scan.cb = found;
	l->scan.user_data = user_data;
	if (l->started)
		deadline_set(l->timer, link_now_ms());
}

/* A frame while the scan's question is out: from the address asked, a
 * BMS that was not there at start (reported later, link_scan_deliver()). */
void link_scan_frame(struct link *l, const struct bms_frame *f)
{
	if (f->addr == l->scan.out) {
		LOG_DBG("%s: address %d answered the scan", l->device, f->addr);
		l->scan.found = l->scan.out;
		l->scan.addresses &= (uint16_t) ~(1u << l->scan.out);
		l->scan.out = -1;
		return;
	}
	l->counters.rejects[CODEC_REJECT_ADDRESS]++;
	if (f->addr == 0)
		link_master_heard(l);
}

/* Bytes came while the question is out: a reply still arriving is not cut. */
void link_scan_on_rx(struct link *l, uint64_t now, bool partial)
{
	if (partial)
		l->scan.until_ms = MAX(l->scan.until_ms,
				       MIN(now + l->cfg.poll.rx_gap_ms, l->scan.sent_ms + l->cfg.poll.reply_max_ms));
}

/* Report an address that answered (after the read loop). */
void link_scan_deliver(struct link *l)
{
	if (l->scan.found < 0)
		return;
	uint8_t a = (uint8_t)l->scan.found;

	l->scan.found = -1;
	if (l->scan.cb)
		l->scan.cb(l->scan.user_data, a);
}

/* Ask the next missing address (link_scan()) when the scan is due and
 * the bus free, in a gap between polls: no unit's poll is due within one
 * exchange, unless the scan is a whole period late (a bus with no gaps:
 * then it goes before the units, late_only). */
void link_scan_step(struct link *l, uint64_t now, uint64_t free_at, uint64_t *until, bool late_only)
{
	uint64_t poll = UINT64_MAX, at = MAX(l->scan.due_ms, free_at);
	uint64_t late = l->scan.due_ms + l->scan.period_ms;
	unsigned a = l->scan.next;

	if (!l->scan.addresses || l->holder >= 0 || l->scan.out >= 0 || (late_only && now < late))
		return;
	for (unsigned k = 0; k < l->nunits; k++)
		poll = MIN(poll, poller_due(&l->units[k].poller));
	if (now < at || (poll < now + l->cfg.poll.reply_timeout_ms + l->cfg.poll.min_gap_ms && now < late)) {
		*until = MIN(*until, now < at ? at : late);
		return;
	}
	while (!(l->scan.addresses & (1u << (a % LINK_UNITS_MAX))))
		a++;
	a %= LINK_UNITS_MAX;
	l->scan.next = a + 1;
	l->scan.due_ms = now + l->scan.period_ms;

	struct poller_action act = { .kind = POLLER_ACT_SEND };
	int len = l->cfg.driver->read_request((uint8_t)a, act.frame, sizeof(act.frame));

	if (len <= 0)
		return;
	act.len = (size_t)len;
	LOG_DBG("%s: asking address %u, not found at start", l->device, a);
	link_send_frame(l, &act, now);
	l->scan.out = (int)a;
	l->scan.sent_ms = now;
	l->scan.until_ms = now + l->cfg.poll.reply_timeout_ms;
	*until = MIN(*until, l->scan.until_ms);
}
