/* SPDX-License-Identifier: MIT */
/*
 * Several BMSs on one port (an RS-485 bus): the link polls every address
 * through the driver, one request on the bus at a time, routes each reply
 * to the unit that asked, and a unit that stops answering is lost on its
 * own while the others carry on. The test plays the bus on a real
 * pseudo-terminal with a small driver of its own (docs/architecture.md
 * "Drivers").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "link.h"
#include "sim_harness.h"

/* The test family: request F0 addr 0F; reply E0 addr soc 0E; write F1 addr
 * (fet << 1 | on) 0F, answered by the next reply. */
enum { REQ = 0xF0, WRITE = 0xF1, REQ_END = 0x0F, REP = 0xE0, REP_END = 0x0E };

struct test_rx {
	uint8_t buf[4];
	size_t len;
};

static int read_request(uint8_t addr, uint8_t *out, size_t size)
{
	if (size < 3)
		return -ENOSPC;
	out[0] = REQ, out[1] = addr, out[2] = REQ_END;
	return 3;
}

static int no_request(uint8_t addr, uint8_t *out, size_t size)
{
	(void)addr, (void)out, (void)size;
	return 0;
}

static int write_request(uint8_t addr, enum bms_fet fet, bool on, unsigned form, uint8_t *out, size_t size)
{
	(void)form;
	if (size < 4)
		return -ENOSPC;
	out[0] = WRITE, out[1] = addr, out[2] = (uint8_t)(fet << 1 | on), out[3] = REQ_END;
	return 4;
}

static void rx_reset(struct bms_rx *rx)
{
	((struct test_rx *)rx)->len = 0;
}

static size_t rx_pending(const struct bms_rx *rx)
{
	return ((const struct test_rx *)rx)->len;
}

static uint64_t rx_junk(const struct bms_rx *rx)
{
	(void)rx;
	return 0;
}

static int rx_feed(struct bms_rx *rx, const uint8_t *data, size_t len, size_t *used, struct bms_frame *out,
		   struct codec_error *err)
{
	struct test_rx *r = (struct test_rx *)rx;

	(void)err;
	for (*used = 0; *used < len;) {
		uint8_t b = data[(*used)++];

		if (r->len == 0 && b != REP)
			continue;
		r->buf[r->len++] = b;
		if (r->len == 4) {
			r->len = 0;
			memcpy(out->data, r->buf, 4);
			out->len = 4;
			return 1;
		}
	}
	return 0;
}

static enum bms_reply decode(const struct bms_frame *f, struct bms_snapshot *snap, struct codec_error *err)
{
	(void)err;
	memset(snap, 0, sizeof(*snap));
	snap->cell_count = 1;
	snap->cell_mv[0] = 3300;
	snap->voltage_mv = 3300;
	snap->soc_pct = f->data[2];
	snap->settings.board_address = f->data[1];
	snap->status = BMS_STATUS_CHARGE_FET | BMS_STATUS_DISCHARGE_FET;
	return BMS_REPLY_DATA;
}

static bool fet_shows(const struct bms_snapshot *s, enum bms_fet fet, bool on)
{
	(void)s, (void)fet;
	return on;
}

static const struct bms_driver test_driver = {
	.name = "test",
	.read_request = read_request,
	.activate_request = no_request,
	.unlock_request = no_request,
	.write_request = write_request,
	.write_forms = 1,
	.rx_reset = rx_reset,
	.rx_pending = rx_pending,
	.rx_junk = rx_junk,
	.rx_feed = rx_feed,
	.decode = decode,
	.fet_shows = fet_shows,
};

/* ---- the bus and three units ------------------------------------------- */

#define UNITS 3
#define REPLY_TIMEOUT_MS 200

struct bus;

struct unit_seen {
	struct bus *bus;
	unsigned snapshots;
	uint8_t last_addr, last_soc;
	unsigned writes;
};

struct bus {
	int master;
	char path[128];
	struct link *link;
	guint watch;
	bool silent[256];        /* addresses that do not answer */
	unsigned requests[256];  /* per address */
	unsigned overlaps;       /* a request while one was unanswered */
	bool outstanding;        /* the last request is unanswered */
	uint8_t outstanding_addr;
	int64_t outstanding_us;
	struct unit_seen unit[UNITS];
};

static void answer(struct bus *b, uint8_t addr)
{
	uint8_t reply[4] = { REP, addr, (uint8_t)(50 + addr), REP_END };

	assert_int_equal(write(b->master, reply, sizeof(reply)), (ssize_t)sizeof(reply));
}

/* The BMSs on the bus: every request is answered at once, except by a
 * silent address; a write is answered by nothing (its read-back is). */
static gboolean master_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct bus *b = data;
	uint8_t buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)cond;
	for (ssize_t i = 0; i + 2 < n; i++) {
		if ((buf[i] != REQ && buf[i] != WRITE) || (buf[i] == REQ && buf[i + 2] != REQ_END))
			continue;
		uint8_t addr = buf[i + 1];

		if (buf[i] == WRITE)
			continue;
		int64_t now = g_get_monotonic_time();

		b->requests[addr]++;
		/* Another request while the last was unanswered and not yet
		 * given up on would collide on a bus. */
		if (b->outstanding && b->outstanding_addr != addr &&
		    now - b->outstanding_us < REPLY_TIMEOUT_MS * 1000 - 20000)
			b->overlaps++;
		b->outstanding = b->silent[addr];
		b->outstanding_addr = addr;
		b->outstanding_us = now;
		if (!b->silent[addr])
			answer(b, addr);
	}
	return G_SOURCE_CONTINUE;
}

static void on_snapshot(void *ud, const struct bms_snapshot *s)
{
	struct unit_seen *u = ud;

	u->snapshots++;
	u->last_addr = s->settings.board_address;
	u->last_soc = s->soc_pct;
}

static void on_write(void *ud, const struct poller_write_result *r)
{
	struct unit_seen *u = ud;

	(void)r;
	u->writes++;
}

static struct bus *bus_up(void)
{
	struct bus *b = g_new0(struct bus, 1);
	struct link_config cfg;

	b->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(b->master >= 0);
	assert_int_equal(grantpt(b->master), 0);
	assert_int_equal(unlockpt(b->master), 0);
	snprintf(b->path, sizeof(b->path), "%s", ptsname(b->master));
	b->watch = g_unix_fd_add(b->master, G_IO_IN, master_cb, b);
	link_config_default(&cfg);
	cfg.device = b->path;
	cfg.driver = &test_driver;
	cfg.units = UNITS;
	cfg.addresses[0] = 1, cfg.addresses[1] = 2, cfg.addresses[2] = 3;
	cfg.poll.interval_ms = 300;
	cfg.poll.reply_timeout_ms = REPLY_TIMEOUT_MS;
	cfg.poll.warning_ms = 1000;
	cfg.poll.lost_ms = 2000;
	assert_int_equal(link_new(&cfg, NULL, NULL, &b->link), 0);
	assert_int_equal(link_units(b->link), UNITS);
	for (unsigned k = 0; k < UNITS; k++) {
		struct link_events ev = { .snapshot = on_snapshot, .write_done = on_write };

		b->unit[k].bus = b;
		link_bind(b->link, k, &ev, &b->unit[k]);
	}
	link_start(b->link);
	return b;
}

static void bus_down(struct bus *b)
{
	link_free(b->link);
	g_source_remove(b->watch);
	close(b->master);
	g_free(b);
}

static bool all_up(void *ud)
{
	struct bus *b = ud;

	for (unsigned k = 0; k < UNITS; k++) {
		if (b->unit[k].snapshots < 3)
			return false;
	}
	return true;
}

static bool third_lost(void *ud)
{
	return link_unit_state(((struct bus *)ud)->link, 2) == POLLER_LINK_LOST;
}

static void test_every_address_polled(void **state)
{
	struct bus *b = bus_up();

	(void)state;
	assert_true(run_until(all_up, b, 5000));
	for (unsigned k = 0; k < UNITS; k++) {
		/* Each reply reached the unit that asked. */
		assert_int_equal(b->unit[k].last_addr, k + 1);
		assert_int_equal(b->unit[k].last_soc, 50 + k + 1);
		assert_int_equal(link_unit_state(b->link, k), POLLER_LINK_UP);
	}
	assert_int_equal(b->overlaps, 0);
	bus_down(b);
}

static void test_one_silent_unit(void **state)
{
	struct bus *b = bus_up();

	(void)state;
	assert_true(run_until(all_up, b, 5000));
	b->silent[3] = true;
	assert_true(run_until(third_lost, b, 5000));
	/* The others carried on, and the bus never had two requests at once. */
	unsigned before[2] = { b->unit[0].snapshots, b->unit[1].snapshots };

	/* A round is two answers and a silent unit's two timeouts (~0.5 s). */
	run_for(3000);
	assert_true(b->unit[0].snapshots >= before[0] + 4);
	assert_true(b->unit[1].snapshots >= before[1] + 4);
	assert_int_equal(link_unit_state(b->link, 0), POLLER_LINK_UP);
	assert_int_equal(link_unit_state(b->link, 1), POLLER_LINK_UP);
	assert_int_equal(b->overlaps, 0);
	assert_true(link_unit_poller_counters(b->link, 2)->misses >= 1);
	assert_int_equal(link_unit_poller_counters(b->link, 0)->misses, 0);
	/* It comes back on its own. */
	b->silent[3] = false;
	unsigned back = b->unit[2].snapshots;

	run_for(1500);
	assert_true(b->unit[2].snapshots > back);
	bus_down(b);
}

static bool write_done(void *ud)
{
	return ((struct bus *)ud)->unit[1].writes > 0;
}

static void test_write_to_one_unit(void **state)
{
	struct bus *b = bus_up();

	(void)state;
	assert_true(run_until(all_up, b, 5000));
	assert_int_equal(link_unit_queue_write(b->link, 1, BMS_FET_CHARGE, true), 0);
	assert_int_equal(link_unit_queue_write(b->link, UNITS, BMS_FET_CHARGE, true), -EINVAL);
	assert_true(run_until(write_done, b, 3000));
	assert_int_equal(b->unit[0].writes, 0);
	assert_int_equal(b->unit[2].writes, 0);
	bus_down(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_address_polled),
		cmocka_unit_test(test_one_silent_unit),
		cmocka_unit_test(test_write_to_one_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
