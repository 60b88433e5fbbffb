/* SPDX-License-Identifier: MIT */
/*
 * The link over a real pseudo-terminal against jkbms-sim: values, every
 * fault mode, replies in pieces, link state transitions, reconnect after the
 * pty vanishes and comes back, and the MOSFET write sequence with read-back.
 */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "link.h"
#include "sim_harness.h"

struct fixture {
	struct simproc sim;
	struct link *link;
	unsigned snapshots;
	struct bms_snapshot last;
	enum poller_link states[64];
	unsigned nstates;
	unsigned writes;
	struct poller_write_result write;
	bool reenter; /* the next snapshot pulls the device away and queues a write */
	int reenter_write;
};

static void on_snapshot(void *ud, const struct bms_snapshot *s)
{
	struct fixture *f = ud;

	f->snapshots++;
	f->last = *s;
	if (f->reenter) {
		/* From inside the event: the pty goes away, then a write is
		 * queued, whose frame cannot be written. */
		f->reenter = false;
		sim_cmd(&f->sim, "disconnect 1");
		f->reenter_write = link_queue_write(f->link, BMS_FET_CHARGE, false);
	}
}

static void on_state(void *ud, enum poller_link old, enum poller_link now)
{
	struct fixture *f = ud;

	(void)old;
	if (f->nstates < 64)
		f->states[f->nstates++] = now;
}

static void on_write(void *ud, const struct poller_write_result *r)
{
	struct fixture *f = ud;

	f->writes++;
	f->write = *r;
}

/* The poll interval start() sets (a test may shorten it). */
static uint32_t interval_ms = 250;

static struct fixture *start(const char *const *sim_args)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct link_config cfg;
	struct link_events ev = { on_snapshot, on_state, on_write };

	sim_start(&f->sim, sim_args);
	link_config_default(&cfg);
	cfg.device = f->sim.link;
	/* Fast timings so that hours of link behaviour fit in seconds; the
	 * reply timeout stays generous for sanitizer builds on a busy machine. */
	cfg.poll.interval_ms = interval_ms;
	cfg.poll.reply_timeout_ms = 200;
	cfg.poll.warning_ms = 1000;
	cfg.poll.lost_ms = 2000;
	cfg.reopen_min_ms = 100;
	cfg.reopen_max_ms = 400;
	assert_int_equal(link_new(&cfg, &ev, f, &f->link), 0);
	link_start(f->link);
	return f;
}

static void stop(struct fixture *f)
{
	link_free(f->link);
	sim_stop(&f->sim);
	g_free(f);
}

static bool is_up(void *ud)
{
	return link_state(((struct fixture *)ud)->link) == POLLER_LINK_UP;
}

static bool is_lost(void *ud)
{
	return link_state(((struct fixture *)ud)->link) == POLLER_LINK_LOST;
}

static unsigned target;

static bool snapshots_reached(void *ud)
{
	return ((struct fixture *)ud)->snapshots >= target;
}

static bool saw_state(struct fixture *f, enum poller_link s)
{
	for (unsigned i = 0; i < f->nstates; i++) {
		if (f->states[i] == s)
			return true;
	}
	return false;
}

static void wait_snapshots(struct fixture *f, unsigned more)
{
	target = f->snapshots + more;
	assert_true(run_until(snapshots_reached, f, 5000));
}

static void test_values(void **state)
{
	static const char *const args[] = { "--cells", "8", "--current", "12.5", "--soc", "70", NULL };
	struct fixture *f = start(args);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	wait_snapshots(f, 3);
	assert_int_equal(f->last.cell_count, 8);
	assert_int_equal(f->last.current_ma, 12500);
	assert_int_equal(f->last.soc_pct, 70);
	assert_int_equal(f->last.settings.cell_ovp_mv, 3650);
	assert_int_equal(f->last.protocol_version, 1);
	assert_string_equal(f->last.software_version, "11.XW_S11.26");
	/* The simulator's own view agrees. */
	assert_int_equal((unsigned)sim_status(&f->sim, "voltage_mv") / 100, f->last.voltage_mv / 100);
	assert_int_equal(link_poller_counters(f->link)->misses, 0);
	stop(f);
}

static void test_old_firmware(void **state)
{
	static const char *const args[] = { "--cells", "20", "--protocol", "0", "--current", "-10", NULL };
	struct fixture *f = start(args);

	(void)state;
	wait_snapshots(f, 2);
	assert_int_equal(f->last.cell_count, 20);
	assert_false(f->last.has_extended);
	assert_int_equal(f->last.current_ma, -10000);
	stop(f);
}

static void test_silence_then_recovery(void **state)
{
	struct fixture *f = start(NULL);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	sim_cmd(&f->sim, "fault silent");
	assert_true(run_until(is_lost, f, 5000));
	assert_true(saw_state(f, POLLER_LINK_DEGRADED));
	assert_true(saw_state(f, POLLER_LINK_WARNING));
	const struct poller_counters *pc = link_poller_counters(f->link);

	assert_true(pc->timeouts >= 4);
	assert_true(pc->retries >= 2);
	assert_true(pc->misses >= 2);
	assert_true(pc->activations >= 1);
	assert_true(sim_status(&f->sim, "activations") >= 1);
	assert_int_equal(pc->link_lost, 1);
	sim_cmd(&f->sim, "fault none");
	assert_true(run_until(is_up, f, 3000));
	stop(f);
}

/* A fault mode that ruins every reply: no snapshot, counted rejections. */
static void bad_mode(const char *mode, enum codec_reject reason)
{
	struct fixture *f = start(NULL);

	assert_true(run_until(is_up, f, 3000));
	sim_cmd(&f->sim, "fault %s", mode);
	run_for(400); /* let a poll in flight finish */
	unsigned before = f->snapshots;
	uint64_t rejects = link_counters(f->link)->rejects[reason];

	assert_true(run_until(is_lost, f, 5000));
	assert_int_equal(f->snapshots, before);
	if (reason != CODEC_REJECT_NONE) {
		assert_true(link_counters(f->link)->rejects[reason] >= rejects + 3);
	}
	sim_cmd(&f->sim, "fault none");
	assert_true(run_until(is_up, f, 3000));
	stop(f);
}

static void test_garbage(void **state)
{
	struct fixture *f;

	(void)state;
	bad_mode("garbage", CODEC_REJECT_NONE);
	/* Garbage is skipped as junk bytes. */
	f = start(NULL);
	sim_cmd(&f->sim, "fault garbage");
	run_for(1500);
	assert_true(link_counters(f->link)->junk_bytes > 100);
	stop(f);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	bad_mode("badcrc", CODEC_REJECT_CHECKSUM);
}

static void test_truncated(void **state)
{
	(void)state;
	bad_mode("truncated", CODEC_REJECT_NONE);
}

/* Fault modes the link must ride through without missing a poll. */
static void good_mode(const char *mode, const char *arg)
{
	struct fixture *f = start(NULL);

	assert_true(run_until(is_up, f, 3000));
	sim_cmd(&f->sim, "fault %s %s", mode, arg);
	run_for(300);
	uint64_t misses = link_poller_counters(f->link)->misses;

	wait_snapshots(f, 6);
	assert_int_equal(link_state(f->link), POLLER_LINK_UP);
	assert_int_equal(link_poller_counters(f->link)->misses, misses);
	if (strcmp(mode, "echo") == 0) {
		assert_true(link_counters(f->link)->rejects[CODEC_REJECT_NOT_REPLY] >= 6);
	}
	stop(f);
}

static void test_echo(void **state)
{
	(void)state;
	good_mode("echo", "");
}

static void test_split(void **state)
{
	(void)state;
	good_mode("split", "8"); /* 8 pieces, 10 ms apart */
}

static void test_slow_within_deadline(void **state)
{
	(void)state;
	good_mode("slow", "60");
}

static void test_slow_beyond_deadline(void **state)
{
	struct fixture *f = start(NULL);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	/* Later than the reply deadline: each request times out and is
	 * retried; the late replies then land in a later request's window and
	 * are still fresh data, so the link degrades gracefully instead of
	 * going silent. */
	sim_cmd(&f->sim, "fault slow 450");
	run_for(300);
	uint64_t timeouts = link_poller_counters(f->link)->timeouts;
	uint64_t retries = link_poller_counters(f->link)->retries;

	wait_snapshots(f, 4);
	assert_true(link_poller_counters(f->link)->timeouts >= timeouts + 1);
	assert_true(link_poller_counters(f->link)->retries >= retries + 1);
	sim_cmd(&f->sim, "fault none");
	assert_true(run_until(is_up, f, 3000));
	stop(f);
}

/* The input is flushed before a request only when it may hold something
 * stale: at the start, after a timeout or junk; never in steady state. */
static void test_flush_only_after_trouble(void **state)
{
	struct fixture *f = start(NULL);
	const struct link_counters *c = link_counters(f->link);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	wait_snapshots(f, 4);
	assert_int_equal(c->flushes, 1); /* the first request only */
	assert_true(c->requests_sent >= 5);
	/* Late replies: every retry, and the read after a missed poll, flush. */
	sim_cmd(&f->sim, "fault slow 450");
	run_for(1200);
	assert_true(link_poller_counters(f->link)->timeouts >= 1);
	assert_true(c->flushes >= 2);
	/* Junk instead of replies: each next request flushes. */
	sim_cmd(&f->sim, "fault none");
	wait_snapshots(f, 2);
	uint64_t before = c->flushes;

	sim_cmd(&f->sim, "fault garbage");
	run_for(800);
	assert_true(c->flushes >= before + 2);
	sim_cmd(&f->sim, "fault none");
	wait_snapshots(f, 2);
	/* Clean again: no more flushes. */
	uint64_t settled = c->flushes, sent = c->requests_sent;

	wait_snapshots(f, 4);
	assert_true(c->requests_sent >= sent + 4);
	assert_int_equal(c->flushes, settled);
	stop(f);
}

static bool reopened(void *ud)
{
	struct fixture *f = ud;

	return link_counters(f->link)->reopens >= 1 && link_state(f->link) == POLLER_LINK_UP;
}

static void test_disconnect_and_return(void **state)
{
	struct fixture *f = start(NULL);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	/* The pty closes and its link disappears for 2.5 s, longer than the
	 * lost window: the link reports lost, then reopens by itself. */
	sim_cmd(&f->sim, "disconnect 2.5");
	assert_true(run_until(is_lost, f, 5000));
	assert_true(link_counters(f->link)->io_errors >= 1);
	assert_false(link_is_open(f->link));
	assert_true(run_until(reopened, f, 5000));
	assert_true(link_is_open(f->link));
	unsigned before = f->snapshots;

	wait_snapshots(f, 2);
	assert_true(f->snapshots > before);
	stop(f);
}

/* Re-entrancy: a write queued from inside a snapshot event, whose frame
 * fails because the device went away, frees nothing the read loop still
 * uses (events come after the loop; run under ASan in CI). */
static void test_failing_write_from_event(void **state)
{
	/* Replies come 150 ms late with a 100 ms interval: the next frame is
	 * due the moment a reply completes, so a write queued from its event
	 * is sent at once. */
	static const char *const slow[] = { "--fault", "slow:150", NULL };
	struct fixture *f;

	(void)state;
	interval_ms = 100;
	f = start(slow);
	interval_ms = 250;
	assert_true(run_until(is_up, f, 3000));
	f->reenter = true;
	wait_snapshots(f, 1);
	assert_false(f->reenter);
	assert_int_equal(f->reenter_write, 0);
	assert_true(run_until(reopened, f, 5000));
	assert_true(link_counters(f->link)->io_errors >= 1);
	unsigned before = f->snapshots;

	wait_snapshots(f, 2);
	assert_true(f->snapshots > before);
	stop(f);
}

static bool write_finished(void *ud)
{
	return ((struct fixture *)ud)->writes > 0;
}

static void test_write_success(void **state)
{
	struct fixture *f = start(NULL);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	assert_int_equal(link_queue_write(f->link, BMS_FET_CHARGE, 0), 0);
	assert_true(run_until(write_finished, f, 5000));
	assert_int_equal(f->write.status, POLLER_WRITE_OK);
	assert_int_equal(f->write.attempts, 1);
	assert_int_equal(sim_status(&f->sim, "charge_switch"), 0);
	assert_int_equal(sim_status(&f->sim, "passwords"), 1);
	assert_int_equal(sim_status(&f->sim, "writes_applied"), 1);
	wait_snapshots(f, 1);
	assert_false(f->last.status & BMS_STATUS_CHARGE_FET);
	assert_true(link_poller_counters(f->link)->write_acks >= 1);

	f->writes = 0;
	assert_int_equal(link_queue_write(f->link, BMS_FET_CHARGE, 1), 0);
	assert_true(run_until(write_finished, f, 5000));
	assert_int_equal(f->write.status, POLLER_WRITE_OK);
	assert_int_equal(sim_status(&f->sim, "charge_switch"), 1);
	stop(f);
}

static void test_write_not_applied(void **state)
{
	struct fixture *f = start(NULL);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	sim_cmd(&f->sim, "fault noapply");
	assert_int_equal(link_queue_write(f->link, BMS_FET_DISCHARGE, 0), 0);
	assert_true(run_until(write_finished, f, 8000));
	assert_int_equal(f->write.status, POLLER_WRITE_NOT_APPLIED);
	assert_int_equal(f->write.attempts, 3);
	assert_int_equal(sim_status(&f->sim, "writes_ignored"), 3);
	assert_int_equal(sim_status(&f->sim, "discharge_switch"), 1);
	/* Replies kept flowing: the link stayed up. */
	assert_int_equal(link_state(f->link), POLLER_LINK_UP);
	stop(f);
}

static void test_write_no_answer(void **state)
{
	struct fixture *f = start(NULL);

	(void)state;
	assert_true(run_until(is_up, f, 3000));
	sim_cmd(&f->sim, "fault silent");
	assert_int_equal(link_queue_write(f->link, BMS_FET_CHARGE, 0), 0);
	assert_true(run_until(write_finished, f, 10000));
	assert_int_equal(f->write.status, POLLER_WRITE_NO_ANSWER);
	assert_int_equal(f->write.attempts, 3);
	stop(f);
}

static void test_missing_device(void **state)
{
	struct link_config cfg;
	struct link *l = NULL;

	(void)state;
	link_config_default(&cfg);
	cfg.device = "/nonexistent/ttyUSB9";
	assert_int_equal(link_new(&cfg, NULL, NULL, &l), -ENOENT);
	assert_null(l);
	/* A character device that is no serial port: libserialport says so. */
	cfg.device = "/dev/null";
	assert_int_equal(link_new(&cfg, NULL, NULL, &l), -ENODEV);
	/* A plain file is refused before anything is opened. */
	cfg.device = TEST_SELF;
	assert_int_equal(link_new(&cfg, NULL, NULL, &l), -ENOTTY);
	assert_null(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_old_firmware),
		cmocka_unit_test(test_silence_then_recovery),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_slow_within_deadline),
		cmocka_unit_test(test_slow_beyond_deadline),
		cmocka_unit_test(test_flush_only_after_trouble),
		cmocka_unit_test(test_disconnect_and_return),
		cmocka_unit_test(test_failing_write_from_event),
		cmocka_unit_test(test_write_success),
		cmocka_unit_test(test_write_not_applied),
		cmocka_unit_test(test_write_no_answer),
		cmocka_unit_test(test_missing_device),
	};

	return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
