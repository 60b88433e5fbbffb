/* SPDX-License-Identifier: MIT */
/*
 * The poller with the JK PB driver, by hand with explicit time: settings
 * and device info are read once before the first live read and again
 * after the pack was lost, the settings every 30 s in between, device
 * info may go unanswered, the family's
 * 120 ms gap and 250 ms reply timeout hold, and there are no writes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "poller.h"

#define ADDR 5

/* One poller_next(): the trigger register sent (0 = none) and when to call
 * again. */
static uint16_t next(struct poller *p, uint64_t now, uint64_t *until)
{
	struct poller_action a;
	bool poller_idle_before;

	for (;;) {
		poller_idle_before = poller_idle(p);
		poller_next(p, now, &a);
		if (a.kind == POLLER_ACT_WAIT && a.until_ms <= now)
			continue;
		break;
	}
	*until = a.until_ms;
	if (a.kind == POLLER_ACT_WAIT)
		return 0;
	assert_int_equal(a.len, PB_REQUEST_LEN);
	assert_int_equal(a.frame[0], ADDR);
	assert_int_equal(a.frame[1], 0x10);
	assert_int_equal(pb_crc16(a.frame, 9), (uint16_t)(a.frame[9] | a.frame[10] << 8));

	uint16_t reg = (uint16_t)(a.frame[2] << 8 | a.frame[3]);

	/* Setup reads flush; so does a live read after one or after a failed
	 * attempt. Only a live read opening a cycle leaves it to the link. */
	assert_true(a.flush_rx || (reg == PB_REG_LIVE && poller_idle_before));
	struct poller_action w;

	/* One request at a time: then it waits for the reply. */
	poller_next(p, now, &w);
	assert_int_equal(w.kind, POLLER_ACT_WAIT);
	*until = w.until_ms;
	return reg;
}

static void start(struct poller *p)
{
	struct poller_config c;

	poller_config_default(&c);
	poller_config_for(&c, &bms_driver_pb);
	assert_int_equal(c.min_gap_ms, 120);
	assert_int_equal(c.reply_timeout_ms, 250);
	poller_init(p, &c, &bms_driver_pb, ADDR, 1000);
}

/* The settings request went out at t: the pack answers it 40 ms later,
 * then the device-info request and the live read go out, each the
 * family's 120 ms after the request before it, and are answered. */
static void answer_setup(struct poller *p, struct bms_snapshot *snap, uint64_t t, uint64_t *until)
{
	poller_on_setup(p, t + 40);
	assert_int_equal(next(p, t + 120, until), PB_REG_INFO);
	poller_on_setup(p, t + 160);
	assert_int_equal(next(p, t + 240, until), PB_REG_LIVE);
	assert_true(poller_on_snapshot(p, snap, t + 280));
}

/* Started, and the pack answered the setup and the first live read. */
static void start_up(struct poller *p, struct bms_snapshot *snap, uint64_t *until)
{
	memset(snap, 0, sizeof(*snap));
	start(p);
	assert_int_equal(next(p, 1000, until), PB_REG_SETTINGS);
	answer_setup(p, snap, 1000, until);
}

/* Three polls from t on, 1 s apart, each a live read and its retry left
 * unanswered; returns when the next poll is due. */
static uint64_t miss_three(struct poller *p, uint64_t t, uint64_t *until)
{
	for (int miss = 0; miss < 3; miss++, t += 1000) {
		assert_int_equal(next(p, t, until), PB_REG_LIVE);
		assert_int_equal(next(p, t + 250, until), PB_REG_LIVE);
		assert_int_equal(next(p, t + 500, until), 0);
	}
	return t;
}

static void test_setup_then_live(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	start(&p);
	assert_int_equal(next(&p, 1000, &until), PB_REG_SETTINGS);
	assert_int_equal(until, 1250); /* 250 ms reply timeout */
	poller_on_setup(&p, 1040);
	assert_int_equal(next(&p, 1040, &until), 0);
	assert_int_equal(until, 1120); /* the 120 ms gap after the request */
	assert_int_equal(next(&p, 1120, &until), PB_REG_INFO);
	poller_on_setup(&p, 1160);
	assert_int_equal(next(&p, 1240, &until), PB_REG_LIVE);
	assert_true(poller_on_snapshot(&p, &snap, 1280));
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
	assert_int_equal(poller_counters(&p)->setups, 2);
	/* Later polls read live data only. */
	for (uint64_t t = 2000; t < 6000; t += 1000) {
		assert_int_equal(next(&p, t, &until), PB_REG_LIVE);
		assert_true(poller_on_snapshot(&p, &snap, t + 40));
	}
	/* A reopened device: the setup again. */
	poller_resetup(&p);
	assert_int_equal(next(&p, 6000, &until), PB_REG_SETTINGS);
	/* PB has no writes. */
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, false), -ENOTSUP);
	assert_int_equal(poller_writes_pending(&p), 0);
}

/* Device info unanswered twice: on with the live read. Settings
 * unanswered twice: a missed poll, and the settings first again. */
static void test_optional_and_required(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until;

	(void)state;
	memset(&snap, 0, sizeof(snap));
	start(&p);
	assert_int_equal(next(&p, 1000, &until), PB_REG_SETTINGS);
	poller_on_setup(&p, 1040);
	assert_int_equal(next(&p, 1120, &until), PB_REG_INFO);
	assert_int_equal(next(&p, 1370, &until), PB_REG_INFO); /* the retry */
	assert_int_equal(next(&p, 1620, &until), PB_REG_LIVE); /* skipped */
	assert_true(poller_on_snapshot(&p, &snap, 1660));
	assert_int_equal(poller_counters(&p)->retries, 1);

	start(&p);
	assert_int_equal(next(&p, 1000, &until), PB_REG_SETTINGS);
	assert_int_equal(next(&p, 1250, &until), PB_REG_SETTINGS);
	assert_int_equal(next(&p, 1500, &until), 0); /* a miss: the cycle ends */
	assert_int_equal(poller_counters(&p)->misses, 1);
	assert_int_equal(next(&p, 2000, &until), PB_REG_SETTINGS);
}

/* Lost: the next time it answers, the setup is read again. */
static void test_setup_after_lost(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until, t;

	(void)state;
	start_up(&p, &snap, &until);
	/* Silence for 31 s: every request unanswered. */
	for (t = 2000; t < 33000; t += 50) {
		uint16_t reg = next(&p, t, &until);

		assert_true(reg == 0 || reg == PB_REG_LIVE || reg == PB_REG_SETTINGS);
		if (poller_link(&p) == POLLER_LINK_LOST)
			break;
	}
	assert_int_equal(poller_link(&p), POLLER_LINK_LOST);
	uint16_t reg;

	do {
		reg = next(&p, t += 50, &until);
	} while (reg == 0);
	assert_int_equal(reg, PB_REG_SETTINGS);
}

/* Three polls missed in a row: the settings trigger, then the live one
 * (the fallback for firmware that answers live data only after another
 * request). */
static void test_wake_with_settings(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until, t = 3000;

	(void)state;
	start_up(&p, &snap, &until);
	t = miss_three(&p, t, &until);
	assert_int_equal(poller_counters(&p)->misses, 3);
	assert_int_equal(next(&p, t, &until), PB_REG_SETTINGS);
	poller_on_setup(&p, t + 40);
	assert_int_equal(next(&p, t + 120, &until), PB_REG_LIVE);
	assert_true(poller_on_snapshot(&p, &snap, t + 160));
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
}

/* The settings are read again while the pack runs, so that a change made
 * in the JK app reaches the limits (docs/charge-control.md "Implausible
 * BMS settings": settings changed at run time take effect). A refresh
 * that goes unanswered is not retried and costs no live read. */
static void test_settings_refreshed(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until, t, last = 1240;
	unsigned refreshes = 0;

	(void)state;
	start_up(&p, &snap, &until);
	for (t = 2000; t < 66000; t += 1000) {
		uint16_t reg = next(&p, t, &until);

		if (reg == PB_REG_SETTINGS) {
			/* Every 30 s, not sooner. */
			assert_true(t >= last + 30000 && t < last + 32000);
			last = t;
			refreshes++;
			if (refreshes == 1) {
				poller_on_setup(&p, t + 40);
				reg = next(&p, t + 120, &until);
			} else {
				/* Unanswered: no retry, the live read at once. */
				reg = next(&p, t + 250, &until);
			}
		}
		assert_int_equal(reg, PB_REG_LIVE);
		assert_true(poller_on_snapshot(&p, &snap, t + 400));
		assert_int_equal(poller_link(&p), POLLER_LINK_UP);
	}
	assert_int_equal(refreshes, 2);
	assert_int_equal(poller_counters(&p)->misses, 0);
	assert_int_equal(poller_counters(&p)->retries, 0);
}

/* Lost, then its third miss in a row makes the wake-up due just as it
 * answers again: the setup still comes first, device info included, so
 * that no live data goes out before the pack has said who it is (it may
 * be another pack now). */
static void test_setup_before_wake_after_lost(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until, t = 2000;
	uint16_t reg;

	(void)state;
	start_up(&p, &snap, &until);
	/* Silent until lost, and on until a miss count that is a multiple of
	 * three (the wake-up is due at the next cycle). */
	while (poller_link(&p) != POLLER_LINK_LOST || poller_counters(&p)->misses % 3 != 0) {
		next(&p, t, &until);
		t = until > t ? until : t + 1;
	}
	while ((reg = next(&p, t, &until)) == 0)
		t = until;
	assert_int_equal(reg, PB_REG_SETTINGS);
	/* It answers everything from here on. */
	answer_setup(&p, &snap, t, &until);
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
}

/* The device reopened between the wake-up trigger (sent while it was
 * away) and the live read: the settings and device info are read before
 * any live data is taken, so no limits come from settings that may have
 * changed while it was unplugged. */
static void test_reopen_after_wake(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until, t = 3000;

	(void)state;
	start_up(&p, &snap, &until);
	t = miss_three(&p, t, &until);
	assert_int_equal(next(&p, t, &until), PB_REG_SETTINGS); /* the wake-up, lost */
	poller_resetup(&p);                                     /* the device is back */
	assert_int_equal(next(&p, t + 120, &until), PB_REG_SETTINGS);
	poller_on_setup(&p, t + 160);
	assert_int_equal(next(&p, t + 240, &until), PB_REG_INFO);
	poller_on_setup(&p, t + 280);
	assert_int_equal(next(&p, t + 400, &until), PB_REG_LIVE);
	assert_true(poller_on_snapshot(&p, &snap, t + 440));
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
}

/* Reopened (or lost) while a live read is out: its answer is not taken;
 * the setup is read first, then live data again. */
static void test_resetup_during_read(void **state)
{
	struct poller p;
	struct bms_snapshot snap;
	uint64_t until;

	(void)state;
	start_up(&p, &snap, &until);
	assert_int_equal(next(&p, 2000, &until), PB_REG_LIVE);
	poller_resetup(&p);
	assert_false(poller_on_snapshot(&p, &snap, 2040));
	assert_int_equal(poller_counters(&p)->replies, 1);
	assert_int_equal(next(&p, 2120, &until), PB_REG_SETTINGS);
	poller_on_setup(&p, 2160);
	assert_int_equal(next(&p, 2240, &until), PB_REG_INFO);
	poller_on_setup(&p, 2280);
	assert_int_equal(next(&p, 2400, &until), PB_REG_LIVE);
	assert_true(poller_on_snapshot(&p, &snap, 2440));
	assert_int_equal(poller_counters(&p)->replies, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_then_live),    cmocka_unit_test(test_optional_and_required),
		cmocka_unit_test(test_setup_after_lost),   cmocka_unit_test(test_wake_with_settings),
		cmocka_unit_test(test_settings_refreshed), cmocka_unit_test(test_setup_before_wake_after_lost),
		cmocka_unit_test(test_reopen_after_wake),  cmocka_unit_test(test_resetup_during_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
