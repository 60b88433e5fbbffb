/* SPDX-License-Identifier: MIT */
/*
 * Poller state machine, driven by hand with explicit time: schedule, retry,
 * reply deadline extension, activation, link states, MOSFET write sequence.
 * No sleeps anywhere.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "poller.h"

/* Everything sent during one poller_next() round. */
struct sent {
	unsigned n;
	uint8_t cmd[4];
	uint8_t type[4];
	uint8_t id[4];
	uint8_t value[4];
	bool flush[4];
	uint64_t until;
};

static void step(struct poller *p, uint64_t now, struct sent *s)
{
	struct poller_action a;

	memset(s, 0, sizeof(*s));
	for (;;) {
		poller_next(p, now, &a);
		if (a.kind == POLLER_ACT_WAIT && a.until_ms <= now)
			continue; /* a cycle ended: call again */
		if (a.kind == POLLER_ACT_WAIT) {
			s->until = a.until_ms;
			return;
		}
		assert_true(a.len >= 21 && a.len <= CODEC_REQUEST_MAX);
		/* Only the read that opens a cycle may go without a flush. */
		assert_true(a.flush_rx || a.frame[8] == CODEC_CMD_READ_ALL);
		assert_true(s->n < 4);
		s->flush[s->n] = a.flush_rx;
		s->cmd[s->n] = a.frame[8];
		s->type[s->n] = a.frame[10];
		s->id[s->n] = a.frame[11];
		s->value[s->n] = a.frame[12];
		s->n++;
	}
}

static struct bms_snapshot fets(bool charge, bool discharge)
{
	struct bms_snapshot s;

	memset(&s, 0, sizeof(s));
	s.status = (uint16_t)((charge ? BMS_STATUS_CHARGE_FET : 0) | (discharge ? BMS_STATUS_DISCHARGE_FET : 0));
	s.settings.charge_switch = charge;
	s.settings.discharge_switch = discharge;
	return s;
}

static void test_schedule_and_reply(void **state)
{
	struct poller p;
	struct sent s;
	struct bms_snapshot snap = fets(true, true);

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 1000);
	assert_int_equal(poller_link(&p), POLLER_LINK_CONNECTING);
	step(&p, 1000, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_READ_ALL);
	assert_false(s.flush[0]);        /* the link decides (it knows the bus) */
	assert_int_equal(s.until, 1500); /* reply deadline */
	assert_true(poller_on_snapshot(&p, &snap, 1030));
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
	step(&p, 1030, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.until, 2000); /* fixed rate: 1 s after the cycle began */
	step(&p, 1999, &s);
	assert_int_equal(s.n, 0);
	step(&p, 2000, &s);
	assert_int_equal(s.n, 1);
	/* A reply outside a request is not taken. */
	assert_true(poller_on_snapshot(&p, &snap, 2020));
	assert_false(poller_on_snapshot(&p, &snap, 2021));
	assert_int_equal(poller_counters(&p)->unexpected, 1);
	assert_int_equal(poller_counters(&p)->replies, 2);
	assert_int_equal(poller_counters(&p)->polls, 2);
}

static void test_retry_miss_activation(void **state)
{
	struct poller p;
	struct sent s;
	struct bms_snapshot snap = fets(true, true);

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &snap, 20));
	/* Three polls without an answer: each is tried twice. */
	step(&p, 1000, &s);
	assert_int_equal(s.n, 1);
	for (unsigned k = 1; k <= 3; k++) {
		uint64_t t = 1000 * k;

		assert_int_equal(s.until, t + 500);
		step(&p, t + 500, &s); /* deadline: one retry */
		assert_int_equal(s.n, 1);
		assert_int_equal(s.cmd[0], CODEC_CMD_READ_ALL);
		assert_true(s.flush[0]); /* the first attempt's reply may still come */
		assert_int_equal(poller_counters(&p)->retries, k);
		step(&p, t + 999, &s);
		assert_int_equal(s.n, 0);
		assert_int_equal(poller_counters(&p)->misses, k - 1);
		/* At t + 1000 the retry's deadline and the next poll coincide: the
		 * miss is counted and the next cycle starts at once. */
		step(&p, t + 1000, &s);
		assert_int_equal(poller_counters(&p)->misses, k);
		assert_int_equal(poller_link(&p), POLLER_LINK_DEGRADED);
		assert_int_equal(s.n, 1);
		if (k < 3) {
			assert_int_equal(s.cmd[0], CODEC_CMD_READ_ALL);
		}
	}
	/* After the third miss the next cycle opens with an activation frame,
	 * and the read follows after the 100 ms gap. */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_ACTIVATE);
	assert_int_equal(s.until, 4100);
	assert_true(s.flush[0]);
	step(&p, 4100, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_READ_ALL);
	assert_true(s.flush[0]); /* after the activation frame */
	assert_int_equal(poller_counters(&p)->activations, 1);
	assert_true(poller_on_snapshot(&p, &snap, 4130));
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
	assert_int_equal(poller_counters(&p)->timeouts, 6);
}

static void test_link_warning_lost_recovery(void **state)
{
	struct poller p;
	struct sent s;
	struct bms_snapshot snap = fets(true, true);

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &snap, 10));
	uint64_t t = 10;

	/* Nothing answers from now on; walk time in 10 ms steps. */
	uint64_t warn_at = 0, lost_at = 0;

	while (t < 40000) {
		t += 10;
		step(&p, t, &s);
		if (!warn_at && poller_link(&p) == POLLER_LINK_WARNING)
			warn_at = t;
		if (!lost_at && poller_link(&p) == POLLER_LINK_LOST)
			lost_at = t;
		assert_true(s.until > t);
	}
	assert_int_equal(warn_at, 5010);  /* 5 s after the last valid frame */
	assert_int_equal(lost_at, 30010); /* 30 s after it */
	assert_int_equal(poller_counters(&p)->link_lost, 1);
	assert_int_equal(poller_silence_ms(&p, 40000), 39990);
	/* The BMS answers again: straight back up. */
	while (p.phase != POLLER_PHASE_READ_SENT)
		step(&p, t += 10, &s);
	assert_true(poller_on_snapshot(&p, &snap, t));
	assert_int_equal(poller_link(&p), POLLER_LINK_UP);
	assert_int_equal(poller_counters(&p)->link_lost, 1);
}

static void test_wait_covers_link_change(void **state)
{
	struct poller_config cfg;
	struct poller p;
	struct sent s;
	struct bms_snapshot snap = fets(true, true);

	(void)state;
	poller_config_default(&cfg);
	cfg.interval_ms = 60000; /* slower than the warning */
	poller_init(&p, &cfg, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &snap, 10));
	step(&p, 10, &s);
	assert_int_equal(s.until, 5010); /* wake for the cable warning */
	step(&p, 5010, &s);
	assert_int_equal(poller_link(&p), POLLER_LINK_WARNING);
	assert_int_equal(s.until, 30010);
}

static void test_reply_still_arriving(void **state)
{
	struct poller p;
	struct sent s;

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	poller_on_rx(&p, 480, true);
	step(&p, 500, &s); /* bytes 20 ms ago: keep waiting */
	assert_int_equal(s.n, 0);
	assert_int_equal(s.until, 530);
	poller_on_rx(&p, 520, true);
	step(&p, 530, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.until, 570);
	step(&p, 570, &s); /* 50 ms of silence inside a frame: give up, retry */
	assert_int_equal(s.n, 1);
	assert_int_equal(poller_counters(&p)->timeouts, 1);

	/* A trickle never extends past reply_max_ms. */
	uint64_t t = 570;

	while (poller_counters(&p)->timeouts == 1) {
		t += 10;
		poller_on_rx(&p, t, true);
		step(&p, t, &s);
	}
	assert_int_equal(t, 570 + 2000);
}

static void test_bad_reply_retries_at_once(void **state)
{
	struct poller p;
	struct sent s;

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	poller_on_bad_reply(&p, 40);
	step(&p, 40, &s); /* min gap to the request not yet over */
	assert_int_equal(s.n, 0);
	assert_int_equal(s.until, 100);
	step(&p, 100, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(poller_counters(&p)->bad_replies, 1);
	assert_int_equal(poller_counters(&p)->timeouts, 0);
	assert_int_equal(poller_counters(&p)->retries, 1);
}

/* Run one write cycle at t (password, write, read-back) and answer the
 * read-back with snap (NULL: no answer). Returns the write frame's type. */
static uint8_t write_cycle(struct poller *p, uint64_t t, const struct bms_snapshot *snap, uint8_t id, uint8_t value)
{
	struct sent s;

	step(p, t, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_PASSWORD);
	assert_int_equal(s.until, t + 120);
	step(p, t + 119, &s);
	assert_int_equal(s.n, 0);
	step(p, t + 120, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_WRITE);
	assert_int_equal(s.id[0], id);
	assert_int_equal(s.value[0], value);
	uint8_t type = s.type[0];

	poller_on_write_ack(p, t + 130);
	step(p, t + 270, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_READ_ALL);
	assert_true(s.flush[0]); /* the read-back: after the write frame */
	if (snap) {
		assert_true(poller_on_snapshot(p, snap, t + 300));
	} else {
		step(p, t + 770, &s); /* retry */
		assert_int_equal(s.n, 1);
		step(p, t + 1270, &s); /* missed */
	}
	return type;
}

static void test_write_success(void **state)
{
	struct poller p;
	struct sent s;
	struct bms_snapshot on = fets(true, true), off = fets(false, true);
	struct poller_write_result r;

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &on, 20));
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 0), 0);
	assert_int_equal(poller_writes_pending(&p), 1);
	assert_int_equal(write_cycle(&p, 1000, &off, 0xAB, 0), CODEC_TYPE_REQUEST);
	assert_true(poller_take_write_result(&p, &r));
	assert_int_equal(r.status, POLLER_WRITE_OK);
	assert_int_equal(r.fet, BMS_FET_CHARGE);
	assert_int_equal(r.value, 0);
	assert_int_equal(r.attempts, 1);
	assert_false(poller_take_write_result(&p, &r));
	assert_int_equal(poller_writes_pending(&p), 0);
	assert_int_equal(poller_counters(&p)->writes_ok, 1);
	assert_int_equal(poller_counters(&p)->write_acks, 1);
	/* Next cycle is an ordinary read. */
	step(&p, 2000, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cmd[0], CODEC_CMD_READ_ALL);
	assert_false(s.flush[0]);
}

static void test_write_variant_learned(void **state)
{
	struct poller p;
	struct sent s;
	struct bms_snapshot on = fets(true, true), off = fets(true, false);
	struct poller_write_result r;

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &on, 20));
	assert_int_equal(poller_queue_write(&p, BMS_FET_DISCHARGE, 0), 0);
	/* Acknowledged but not applied with the ordinary form... */
	assert_int_equal(write_cycle(&p, 1000, &on, 0xAC, 0), CODEC_TYPE_REQUEST);
	assert_false(poller_take_write_result(&p, &r));
	/* ...so the forum's type-02 form is tried, and works. */
	assert_int_equal(write_cycle(&p, 2000, &off, 0xAC, 0), CODEC_TYPE_UPLOAD);
	assert_true(poller_take_write_result(&p, &r));
	assert_int_equal(r.status, POLLER_WRITE_OK);
	assert_int_equal(r.attempts, 2);
	/* The unit's form is remembered for the next write. */
	assert_int_equal(poller_queue_write(&p, BMS_FET_DISCHARGE, 1), 0);
	assert_int_equal(write_cycle(&p, 3000, &on, 0xAC, 1), CODEC_TYPE_UPLOAD);
	assert_true(poller_take_write_result(&p, &r));
	assert_int_equal(r.status, POLLER_WRITE_OK);
}

static void test_write_not_applied_and_no_answer(void **state)
{
	struct poller p;
	struct sent s;
	struct bms_snapshot on = fets(true, true);
	struct poller_write_result r;

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &on, 20));
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 0), 0);
	for (unsigned k = 1; k <= 3; k++) {
		assert_false(poller_take_write_result(&p, &r));
		write_cycle(&p, 1000 * k, &on, 0xAB, 0);
	}
	assert_true(poller_take_write_result(&p, &r));
	assert_int_equal(r.status, POLLER_WRITE_NOT_APPLIED);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(poller_counters(&p)->writes_failed, 1);

	assert_int_equal(poller_counters(&p)->timeouts, 0);
}

static void test_write_no_answer(void **state)
{
	struct poller_config cfg;
	struct poller p;
	struct sent s;
	struct bms_snapshot on = fets(true, true);
	struct poller_write_result r;

	(void)state;
	poller_config_default(&cfg);
	cfg.interval_ms = 2000;
	cfg.misses_before_activate = 0;
	poller_init(&p, &cfg, &bms_driver_4e57, 0, 0);
	step(&p, 0, &s);
	assert_true(poller_on_snapshot(&p, &on, 20));
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 0), 0);
	for (unsigned k = 1; k <= 3; k++) {
		assert_false(poller_take_write_result(&p, &r));
		write_cycle(&p, 2000 * k, NULL, 0xAB, 0);
	}
	assert_true(poller_take_write_result(&p, &r));
	assert_int_equal(r.status, POLLER_WRITE_NO_ANSWER);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(poller_counters(&p)->writes_failed, 1);
	assert_int_equal(poller_counters(&p)->misses, 3);
	assert_int_equal(poller_counters(&p)->activations, 0);
	assert_int_equal(poller_writes_pending(&p), 0);
}

static void test_queue_rules(void **state)
{
	struct poller p;

	(void)state;
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	assert_int_equal(poller_queue_write(&p, (enum bms_fet)BMS_FET_COUNT, 0), -EINVAL); /* no such FET */
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 0), 0);
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 1), 0); /* replaces */
	assert_int_equal(poller_writes_pending(&p), 1);
	assert_int_equal(p.queue[0].value, 1);
	assert_int_equal(poller_queue_write(&p, BMS_FET_DISCHARGE, 0), 0);
	p.writing = true; /* entry 0 in progress: a new AB write queues behind it */
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 0), 0);
	assert_int_equal(poller_writes_pending(&p), 3);
	assert_int_equal(poller_queue_write(&p, BMS_FET_DISCHARGE, 1), 0); /* replaces entry 1 */
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 1), 0);    /* replaces entry 2 */
	assert_int_equal(poller_writes_pending(&p), 3);
	p.queued = POLLER_WRITE_QUEUE;
	p.writing = false;
	p.queue[0].fet = p.queue[1].fet = p.queue[2].fet = p.queue[3].fet = BMS_FET_DISCHARGE;
	assert_int_equal(poller_queue_write(&p, BMS_FET_CHARGE, 0), -EBUSY);
}

/* Property: over an hour of random replies, silences, bad frames and
 * writes, no two frames are ever sent less than 100 ms apart, each cycle
 * writes at most once, and every write gets exactly one result. */
static void test_random_hour(void **state)
{
	struct poller p;
	struct poller_action a;
	struct bms_snapshot on = fets(true, true), off = fets(false, false);
	uint64_t last_send = 0, t = 0;
	bool any = false;
	unsigned queued = 0, results = 0, writes_this_cycle = 0;
	uint64_t cycles = 0;
	struct poller_write_result r;

	(void)state;
	srand(7);
	poller_init(&p, NULL, &bms_driver_4e57, 0, 0);
	while (t < 3600ull * 1000) {
		poller_next(&p, t, &a);
		if (a.kind == POLLER_ACT_SEND) {
			if (any)
				assert_true(t - last_send >= 100);
			any = true;
			last_send = t;
			if (a.frame[8] == CODEC_CMD_WRITE)
				writes_this_cycle++;
			if (p.counters.polls != cycles) {
				cycles = p.counters.polls;
				writes_this_cycle = a.frame[8] == CODEC_CMD_WRITE;
			}
			assert_true(writes_this_cycle <= 1);
			continue;
		}
		if (a.until_ms == t && p.phase == POLLER_PHASE_IDLE)
			continue; /* a cycle ended in a miss: call again */
		assert_true(a.until_ms > t);
		uint64_t next = a.until_ms;

		if (p.phase == POLLER_PHASE_READ_SENT) {
			int dice = rand() % 10;
			uint64_t at = t + 1 + (uint64_t)(rand() % 60);

			if (dice < 7 && at < next) {
				poller_on_rx(&p, at - 1, true);
				poller_on_snapshot(&p, rand() % 2 ? &on : &off, at);
				next = at;
			} else if (dice == 7 && at < next) {
				poller_on_bad_reply(&p, at);
				next = at;
			}
		}
		if (rand() % 50 == 0 &&
		    poller_queue_write(&p, rand() % 2 ? BMS_FET_CHARGE : BMS_FET_DISCHARGE, rand() % 2) == 0)
			queued++;
		while (poller_take_write_result(&p, &r))
			results++;
		t = next;
	}
	assert_true(p.counters.replies > 2000);
	assert_true(queued > 0);
	/* Replaced writes share a result; none is reported twice. */
	assert_true(results + poller_writes_pending(&p) <= queued);
	assert_int_equal(results, p.counters.writes_ok + p.counters.writes_failed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_and_reply),
		cmocka_unit_test(test_retry_miss_activation),
		cmocka_unit_test(test_link_warning_lost_recovery),
		cmocka_unit_test(test_wait_covers_link_change),
		cmocka_unit_test(test_reply_still_arriving),
		cmocka_unit_test(test_bad_reply_retries_at_once),
		cmocka_unit_test(test_write_success),
		cmocka_unit_test(test_write_variant_learned),
		cmocka_unit_test(test_write_not_applied_and_no_answer),
		cmocka_unit_test(test_write_no_answer),
		cmocka_unit_test(test_queue_rules),
		cmocka_unit_test(test_random_hour),
	};

	return cmocka_run_group_tests_name("poller", tests, NULL, NULL);
}
