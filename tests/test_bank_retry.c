/* SPDX-License-Identifier: MIT */
/*
 * The bank (docs/bank.md "A read that fails") reads a battery service again
 * when its GetItems failed while the service stayed on the bus: an error
 * answer, or none within the call's 3 s, as from a GX still loading at
 * boot. Then 2 s later, twice that after each further failure (up to 60 s);
 * never after an answer that says "no member", and no more once the name
 * has lost its owner. The real dbus-jkbms --bank on a private dbus-daemon,
 * its members played by the test (bank_peers.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bank_peers.h"
#include "sim_harness.h"

#define NO_REPLY "org.freedesktop.DBus.Error.NoReply" /* libdbus's, at a call's timeout */

/* Seconds from peer k's GetItems number from to number from + 1. */
static double call_gap_s(struct peers_world *w, unsigned k, unsigned from)
{
	assert_true(from + 1 < PEER_CALLS && from + 1 < w->p[k].calls);
	return (double)(w->p[k].call_us[from + 1] - w->p[k].call_us[from]) / 1e6;
}

/* How often the bank logged that a GetItems of name failed. */
static unsigned failures_logged(struct peers_world *w, const char *name)
{
	char *log = child_log(&w->bank);
	char *head = g_strdup_printf("%s: GetItems failed (", name);
	unsigned n = 0;

	for (const char *at = strstr(log, head); at; at = strstr(at + 1, head))
		n++;
	g_free(head);
	g_free(log);
	return n;
}

/* Whether the bank warned of a failed GetItems of name with error and the
 * back-off (s) before it reads it again. */
static bool failure_logged(struct peers_world *w, const char *name, const char *error, unsigned backoff_s)
{
	char *log = child_log(&w->bank);
	char *line = g_strdup_printf("warning: %s: GetItems failed (%s); read again in %u s\n", name, error, backoff_s);
	bool found = strstr(log, line) != NULL;

	if (!found)
		print_message("the bank's log, without \"%s\":\n%s", line, log);
	g_free(line);
	g_free(log);
	return found;
}

/* A member answers its first two GetItems with an error: the bank starts
 * without it (its start read is done), reads it again 2 s after the first
 * error and 4 s after the second, and takes it in once it answers: two
 * online, CCL 2 x its 20 A. Then it is read no more. */
static void test_error_read_again(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 20, true);
	w->p[1].fail_reads = 2;
	peers_bank_start(w);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	assert_float_equal(bank_number(w, "/Info/MaxChargeCurrent"), 50, 1e-6);
	wait_number(w, "/System/NrOfModulesOnline", 2, 9000);
	wait_number(w, "/Info/MaxChargeCurrent", 40, 2000);
	assert_int_equal(w->p[1].calls, 3);
	assert_in_range((unsigned)(call_gap_s(w, 1, 0) * 10), 19, 30);
	assert_in_range((unsigned)(call_gap_s(w, 1, 1) * 10), 39, 50);
	hold_number(w, "/System/NrOfModulesOnline", 2, 2500);
	assert_int_equal(w->p[1].calls, 3);
	assert_int_equal(failures_logged(w, w->p[1].name), 2);
	assert_true(failure_logged(w, w->p[1].name, PEER_ERROR, 2));
	assert_true(failure_logged(w, w->p[1].name, PEER_ERROR, 4));
	assert_int_equal(failures_logged(w, w->p[0].name), 0);
}

/* Both batteries there at the start fail their first read: one answers
 * with an error, the other not at all. The first one's second read is no
 * start read: the bank waits for the silent one until its GetItems times
 * out (3 s), starts with the first, then reads the silent one again 2 s
 * later and takes it in. */
static void test_unanswered_start_read_again(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	w->p[0].fail_reads = 1;
	peer_up(w, 1, 20, true);
	w->p[1].hold_reads = 1;
	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
	wait_reads(w, 0, 1, 5000); /* its second GetItems, answered */
	assert_int_equal(w->p[0].calls, 2);
	assert_int_equal(w->p[1].calls, 1);
	run_for(300);
	assert_false(bus_has_owner(&w->bus, BANK));
	wait_name_or_fail(&w->bus, &w->bank, BANK, 3000);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	wait_number(w, "/System/NrOfModulesOnline", 2, 4000);
	wait_number(w, "/Info/MaxChargeCurrent", 40, 2000);
	assert_int_equal(w->p[1].calls, 2);
	assert_true(call_gap_s(w, 1, 0) >= 4.9); /* the 3 s timeout, then 2 s */
	assert_int_equal(failures_logged(w, w->p[1].name), 1);
	assert_true(failure_logged(w, w->p[1].name, NO_REPLY, 2));
	assert_int_equal(failures_logged(w, w->p[0].name), 1);
	assert_true(failure_logged(w, w->p[0].name, PEER_ERROR, 2));
}

/* A read again is no start read: a battery there at the start fails its
 * first read, and its second is still out (it will time out) when the last
 * start read is done (another battery's, timed out at 3 s). The bank
 * starts then, with the member that answered, without waiting for it. */
static void test_read_again_no_start_read(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 20, true);
	w->p[0].fail_reads = 1;
	w->p[0].hold_reads = 1;
	peer_up(w, 1, 20, true);
	w->p[1].hold_reads = 1;
	peer_up(w, 2, 50, true);
	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
	wait_calls(w, 0, 2, 4000); /* at 2 s: times out at 5 s */
	assert_false(bus_has_owner(&w->bus, BANK));
	wait_name_or_fail(&w->bus, &w->bank, BANK, 2000); /* at 3 s */
	assert_int_equal(w->p[0].calls, 2);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	assert_float_equal(bank_number(w, "/Info/MaxChargeCurrent"), 50, 1e-6);
}

/* An answer that says "no member" (/Bank/Member 0) is no failure: the
 * service is not read again, whether it was its first read or one after
 * an error. */
static void test_non_member_not_read_again(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 20, true);
	peer_set(&w->p[1], "/Bank/Member", g_variant_new_int32(0));
	w->p[1].fail_reads = 1;
	peer_up(w, 2, 20, true);
	peer_set(&w->p[2], "/Bank/Member", g_variant_new_int32(0));
	peers_bank_start(w);
	wait_calls(w, 1, 2, 4000);
	run_for(5000);
	assert_int_equal(w->p[1].calls, 2);
	assert_int_equal(w->p[2].calls, 1);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	assert_float_equal(bank_number(w, "/Info/MaxChargeCurrent"), 50, 1e-6);
	assert_int_equal(failures_logged(w, w->p[1].name), 1);
	assert_true(failure_logged(w, w->p[1].name, PEER_ERROR, 2));
	assert_int_equal(failures_logged(w, w->p[2].name), 0);
}

/* A battery that keeps failing loses its name during the back-off: the
 * bank sends no GetItems to that name any more, counted by a monitor on
 * the bus (which does see one sent to a name nobody owns). Another that
 * keeps failing is waiting for its next read when the bank is stopped:
 * the bank exits 0 (under ASan: nothing leaked). */
static void test_gone_during_backoff(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 20, true);
	w->p[1].fail_reads = 100;
	char *name = g_strdup(w->p[1].name);

	getitems_watch(w, name);
	peers_bank_start(w);
	wait_calls(w, 1, 2, 4000); /* fails again: the next in 4 s */
	peer_release(w, 1);
	run_for(5500);
	assert_int_equal(getitems_seen(w), 2);
	assert_int_equal(w->p[1].calls, 2);
	assert_int_equal(failures_logged(w, name), 2); /* a read sent to no owner would fail too */
	assert_true(failure_logged(w, name, PEER_ERROR, 4));
	/* The monitor counts a GetItems to the name without an owner. */
	GError *err = NULL;

	assert_null(bus_call(&w->bus, name, "/", "com.victronenergy.BusItem", "GetItems", NULL, &err));
	g_clear_error(&err);
	for (unsigned t = 0; t < 100 && getitems_seen(w) < 3; t++)
		run_for(20);
	assert_int_equal(getitems_seen(w), 3);
	g_free(name);

	peer_up(w, 2, 20, true);
	w->p[2].fail_reads = 100;
	wait_calls(w, 2, 1, 3000);
	run_for(300);
	assert_true(failure_logged(w, w->p[2].name, PEER_ERROR, 2));
	assert_false(child_exited(&w->bank));
	assert_int_equal(child_stop(&w->bank), 0);
}

/* Whether the bank says a pack is not watched (and so charges nothing). */
static bool says_not_watched(struct peers_world *w)
{
	char *why = bank_text(w, "/Info/ChargeLimitation");
	bool yes = strstr(why, "not watched") != NULL;

	g_free(why);
	return yes;
}

static bool read_failed_logged(void *ud)
{
	struct peers_world *w = ud;

	return failures_logged(w, w->p[16].name) > 0;
}

/* Sixteen members fill the bank and a 17th pack is not watched: no
 * charge. A member leaves and the 17th is read to take its slot, but that
 * read fails. The pack is still on the bus and still unwatched: the bank
 * keeps CCL 0 ("not watched") through the back-off, and charges only once
 * the read again takes the pack in. */
static void test_unwatched_read_fails(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	for (unsigned k = 0; k < 16; k++)
		peer_up(w, k, 50, true);
	peers_bank_start(w);
	wait_number(w, "/System/NrOfModulesOnline", 16, 8000);
	peer_up(w, 16, 50, true);
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
	assert_true(says_not_watched(w));
	w->p[16].fail_reads = 1;
	peer_down(&w->p[3]);
	if (!loop_until(read_failed_logged, w, 3000))
		fail_msg("no failed read of %s logged", w->p[16].name);
	run_for(500); /* the read again is 2 s after the failure */
	assert_int_equal(w->p[16].calls, 2);
	assert_true(says_not_watched(w));
	assert_float_equal(bank_number(w, "/Info/MaxChargeCurrent"), 0, 0);
	wait_calls(w, 16, 3, 3000);
	wait_number(w, "/System/NrOfModulesOnline", 16, 2000);
	for (unsigned t = 0; t < 100 && says_not_watched(w); t++)
		run_for(20);
	assert_false(says_not_watched(w));
}

/* A battery service of another kind that has no GetItems at all (an older
 * one: dbus-flashmq falls back to GetValue for these) answers
 * UnknownMethod, as GDBus does for an object it does not have. That is an
 * answer, as final as "no member": read once, not again every minute. */
static void test_no_getitems_not_read_again(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 20, true);
	assert_true(g_dbus_connection_unregister_object(w->p[1].conn, w->p[1].reg));
	w->p[1].reg = 0;
	getitems_watch(w, w->p[1].name);
	peers_bank_start(w);
	run_for(3000); /* a read again would go out 2 s after the first */
	assert_int_equal(getitems_seen(w), 1);
	assert_int_equal(failures_logged(w, w->p[1].name), 0);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	assert_float_equal(bank_number(w, "/Info/MaxChargeCurrent"), 50, 1e-6);
}

/* A battery that keeps failing is waiting for its next read when another
 * service takes its name: the new owner is read at once and taken in, and
 * the old wait is dropped (were it not, it would read the name again,
 * now the new owner's, 4 s after the last failure). */
static void test_new_owner_during_backoff(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 20, true);
	w->p[1].fail_reads = 100;
	peers_bank_start(w);
	wait_calls(w, 1, 2, 4000); /* fails again: the next in 4 s */
	peer_up(w, 2, 20, false);
	peer_own_as(w, 2, 1);
	wait_number(w, "/System/NrOfModulesOnline", 2, 2000);
	run_for(5000);
	assert_int_equal(w->p[1].calls, 2);
	assert_int_equal(w->p[2].calls, 1);
	assert_float_equal(bank_number(w, "/Info/MaxChargeCurrent"), 40, 1e-6);
	assert_false(child_exited(&w->bank));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_error_read_again, peers_world_teardown),
		cmocka_unit_test_teardown(test_unanswered_start_read_again, peers_world_teardown),
		cmocka_unit_test_teardown(test_read_again_no_start_read, peers_world_teardown),
		cmocka_unit_test_teardown(test_non_member_not_read_again, peers_world_teardown),
		cmocka_unit_test_teardown(test_gone_during_backoff, peers_world_teardown),
		cmocka_unit_test_teardown(test_unwatched_read_fails, peers_world_teardown),
		cmocka_unit_test_teardown(test_no_getitems_not_read_again, peers_world_teardown),
		cmocka_unit_test_teardown(test_new_owner_during_backoff, peers_world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
