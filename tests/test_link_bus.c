/* SPDX-License-Identifier: MIT */
/*
 * Several BMSs on one port (an RS-485 bus): the link polls every address
 * through the driver, one request on the bus at a time, routes each reply
 * to the unit that asked, and a unit that stops answering is lost on its
 * own while the others carry on; addresses missing at start are asked
 * between the polls. The BMSs are tests/fake_bus.c on a real
 * pseudo-terminal.
 */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_bus.h"
#include "link.h"
#include "sim_harness.h"

#define UNITS 3
#define REPLY_TIMEOUT_MS 200

struct unit_seen {
	unsigned snapshots;
	uint8_t last_addr, last_soc;
	unsigned writes;
};

struct bus {
	struct fake_bus fb;
	struct link *link;
	struct unit_seen unit[UNITS];
};

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

	assert_int_equal(fake_bus_open(&b->fb, REPLY_TIMEOUT_MS), 0);
	link_config_default(&cfg);
	cfg.device = b->fb.path;
	cfg.driver = &fake_bus_driver;
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

		link_bind(b->link, k, &ev, &b->unit[k]);
	}
	link_start(b->link);
	return b;
}

static void bus_down(struct bus *b)
{
	link_free(b->link);
	fake_bus_close(&b->fb);
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
	assert_int_equal(b->fb.overlaps, 0);
	bus_down(b);
}

static void test_one_silent_unit(void **state)
{
	struct bus *b = bus_up();

	(void)state;
	assert_true(run_until(all_up, b, 5000));
	b->fb.silent[3] = true;
	assert_true(run_until(third_lost, b, 5000));
	/* The others carried on, and the bus never had two requests at once. */
	unsigned before[2] = { b->unit[0].snapshots, b->unit[1].snapshots };

	/* A round is two answers and a silent unit's two timeouts (~0.5 s). */
	run_for(3000);
	assert_true(b->unit[0].snapshots >= before[0] + 4);
	assert_true(b->unit[1].snapshots >= before[1] + 4);
	assert_int_equal(link_unit_state(b->link, 0), POLLER_LINK_UP);
	assert_int_equal(link_unit_state(b->link, 1), POLLER_LINK_UP);
	assert_int_equal(b->fb.overlaps, 0);
	assert_true(link_unit_poller_counters(b->link, 2)->misses >= 1);
	assert_int_equal(link_unit_poller_counters(b->link, 0)->misses, 0);
	/* It comes back on its own. */
	b->fb.silent[3] = false;
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

struct scan_seen {
	unsigned found;
	uint8_t addr;
};

static void on_found(void *ud, uint8_t addr)
{
	struct scan_seen *f = ud;

	f->found++;
	f->addr = addr;
}

static bool scan_found(void *ud)
{
	return ((struct scan_seen *)ud)->found > 0;
}

/* Addresses missing at start are asked in turn, one each period, never
 * on top of a unit's request, and the units keep being polled; one that
 * answers is reported once and asked no more. */
static void test_scan_missing(void **state)
{
	struct bus *b = bus_up();
	struct scan_seen seen = { 0 };

	(void)state;
	b->fb.silent[4] = b->fb.silent[5] = true;
	link_scan(b->link, 1u << 4 | 1u << 5, 400, on_found, &seen);
	assert_true(run_until(all_up, b, 5000));
	unsigned before[UNITS] = { b->unit[0].snapshots, b->unit[1].snapshots, b->unit[2].snapshots };

	run_for(2500);
	unsigned asked = b->fb.requests[4] + b->fb.requests[5];

	if (b->fb.requests[4] < 1 || b->fb.requests[5] < 1 || asked > 7)
		fail_msg("asked address 4 %u and 5 %u times in 2.5 s", b->fb.requests[4], b->fb.requests[5]);
	assert_int_equal(b->fb.overlaps, 0);
	for (unsigned k = 0; k < UNITS; k++) {
		assert_true(b->unit[k].snapshots >= before[k] + 5); /* 300 ms polls */
		assert_int_equal(link_unit_state(b->link, k), POLLER_LINK_UP);
	}
	assert_int_equal(seen.found, 0);
	b->fb.silent[4] = false;
	assert_true(run_until(scan_found, &seen, 3000));
	assert_int_equal(seen.addr, 4);
	/* Its reply went to no unit. */
	for (unsigned k = 0; k < UNITS; k++)
		assert_int_equal(b->unit[k].last_addr, k + 1);
	unsigned asked4 = b->fb.requests[4], asked5 = b->fb.requests[5];

	run_for(1500);
	assert_int_equal(b->fb.requests[4], asked4);
	assert_true(b->fb.requests[5] > asked5);
	assert_int_equal(seen.found, 1);
	assert_int_equal(b->fb.overlaps, 0);
	bus_down(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_address_polled),
		cmocka_unit_test(test_one_silent_unit),
		cmocka_unit_test(test_write_to_one_unit),
		cmocka_unit_test(test_scan_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
