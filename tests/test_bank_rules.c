/* SPDX-License-Identifier: MIT */
/*
 * How the bank listens (docs/bank.md "Finding and following members"): a
 * match rule per member, scoped to its battery name, and one for
 * NameOwnerChanged; nothing else, so that the ItemsChanged of every other
 * service on a GX (and the bank's own) never wake it. Its members are
 * played by the test (bank_peers.c); the rules are counted by the
 * dbus-daemon itself (org.freedesktop.DBus.Debug.Stats).
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

/* The rule for NameOwnerChanged, which the bank always holds. */
#define OWNER_RULE 1
/* The signals of a non-member in the wake-up test, 3 ms apart. */
#define NOISE_SIGNALS 200
#define NOISE_GAP_US 3000

/* Peer k on the bus with battery name but no member: /Bank/Member absent
 * (member < 0) or member. */
static void non_member_up(struct peers_world *w, unsigned k, int member)
{
	peer_up(w, k, 60, false);
	if (member < 0)
		g_hash_table_remove(w->p[k].values, "/Bank/Member");
	else
		peer_set(&w->p[k], "/Bank/Member", g_variant_new_int32(member));
	peer_own(w, k);
}

/* The bank holds want rules, and still does a while later (none came late,
 * none is left to go). Called once the bank has taken what changed. */
static void rules_settle(struct peers_world *w, unsigned want)
{
	wait_match_rules(w, want, 3000);
	run_for(300);
	assert_int_equal(bank_match_rules(w), want);
}

/* Every member, and only a member, has a rule: one, whatever happened to
 * its name. A service that is no member loses the rule its GetItems was
 * read under; one that leaves the bank or the bus loses its own; one that
 * comes back gets one again. */
static void test_rules_follow_members(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 70, true);
	non_member_up(w, 2, -1);
	non_member_up(w, 3, 0);
	peers_bank_start(w);
	wait_number(w, "/System/NrOfModulesOnline", 2, 5000);
	rules_settle(w, OWNER_RULE + 2);
	/* A non-member that comes while the bank runs gets none either. */
	non_member_up(w, 4, 0);
	wait_reads(w, 4, 1, 3000);
	rules_settle(w, OWNER_RULE + 2);

	/* Member 1 leaves the bank, staying on the bus. */
	peer_change(&w->p[1], "/Bank/Member", g_variant_new_int32(0));
	wait_number(w, "/System/NrOfModulesOnline", 1, 3000);
	rules_settle(w, OWNER_RULE + 1);
	/* Its service restarts as a member: a rule again. */
	peer_set(&w->p[1], "/Bank/Member", g_variant_new_int32(1));
	peer_release(w, 1);
	peer_own(w, 1);
	wait_number(w, "/System/NrOfModulesOnline", 2, 3000);
	rules_settle(w, OWNER_RULE + 2);

	/* Member 0's name is released, then owned again. */
	peer_release(w, 0);
	wait_number(w, "/System/NrOfModulesOnline", 1, 3000);
	rules_settle(w, OWNER_RULE + 1);
	peer_own(w, 0);
	wait_number(w, "/System/NrOfModulesOnline", 2, 3000);
	rules_settle(w, OWNER_RULE + 2);

	/* Another connection takes member 0's name over (one NameOwnerChanged
	 * from the old owner to the new): still one rule for that name. */
	peer_up(w, 5, 20, false);
	peer_own_as(w, 5, 0);
	wait_number(w, "/Info/MaxChargeCurrent", 2 * 20, 3000);
	rules_settle(w, OWNER_RULE + 2);
	/* The rule follows the name's new owner. */
	peer_change(&w->p[5], "/Bank/MaxChargeCurrent", g_variant_new_double(10));
	wait_number(w, "/Info/MaxChargeCurrent", 2 * 10, 3000);
}

/* A battery service that is no member, talking fast (as systemcalc, the
 * chargers and other batteries do on a GX), does not wake the bank: the
 * daemon no longer sends it those signals. Its wake-ups while 200 signals
 * pass, 3 ms apart (some 0.7 s), are those of its own 1 s tick: one or
 * two. Taking the signals costs at least one per 3 ms gap, as the bank
 * handles one in well under a millisecond and then sleeps again, so
 * about 200. The bound, a quarter of the signals, is far from both: the
 * bank would have to read four signals per wake-up to pass while taking
 * them, and wake for 50 other reasons in 0.7 s to fail without. */
static void test_non_member_does_not_wake(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	non_member_up(w, 1, -1);
	peers_bank_start(w);
	wait_number(w, "/Info/MaxChargeCurrent", 50, 5000);
	wait_match_rules(w, OWNER_RULE + 1, 3000);
	run_for(200);
	unsigned long before = bank_wakeups(w);

	for (unsigned k = 0; k < NOISE_SIGNALS; k++) {
		peer_change(&w->p[1], "/Dc/0/Voltage", g_variant_new_double(52.0 + 0.01 * k));
		g_usleep(NOISE_GAP_US);
	}
	run_for(100); /* the last ones taken, if they come */
	unsigned long woke = bank_wakeups(w) - before;

	print_message("the bank woke %lu times while %u signals of a non-member passed\n", woke, NOISE_SIGNALS);
	assert_true(woke < NOISE_SIGNALS / 4);
	/* It still hears its member. */
	peer_change(&w->p[0], "/Bank/MaxChargeCurrent", g_variant_new_double(40));
	wait_number(w, "/Info/MaxChargeCurrent", 40, 3000);
}

/* A member publishes a change right after answering GetItems, before
 * anything else: the change reaches the bank. The rule for the member's
 * name must be in place before its reply goes out; a change published
 * after the reply and lost would leave the reply's older value in the
 * bank until the path changes again, for a limit perhaps never. Both ways
 * in: a member there at the bank's start (ListNames) and one that comes
 * later (NameOwnerChanged). */
static void test_update_right_after_reply(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, false);
	peer_change_after_reply(&w->p[0], "/Bank/MaxChargeCurrent", g_variant_new_double(40));
	peer_own(w, 0);
	peers_bank_start(w);
	wait_number(w, "/Info/MaxChargeCurrent", 40, 3000);
	/* One that comes later: 60 A in its reply, 15 A right after; the
	 * bank's CCL is then two shares of the least. */
	peer_up(w, 1, 60, false);
	peer_change_after_reply(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(15));
	peer_own(w, 1);
	wait_number(w, "/System/NrOfModulesOnline", 2, 3000);
	wait_number(w, "/Info/MaxChargeCurrent", 2 * 15, 3000);
	hold_number(w, "/Info/MaxChargeCurrent", 2 * 15, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rules_follow_members, peers_world_teardown),
		cmocka_unit_test_teardown(test_non_member_does_not_wake, peers_world_teardown),
		cmocka_unit_test_teardown(test_update_right_after_reply, peers_world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
