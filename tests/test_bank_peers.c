/* SPDX-License-Identifier: MIT */
/*
 * The bank (docs/bank.md) against members it cannot trust: the real
 * dbus-jkbms --bank on a private dbus-daemon, its members played by the
 * test (bank_peers.c) so that they can publish what no real member would:
 * a non-member speaking in a member's name, a member that leaves the bank
 * while it stays on the bus, more packs than a bank holds, and a battery
 * there at the bank's start that never answers.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "bank_peers.h"
#include "sim_harness.h"

/* A process that is no member speaks in a member's words: ItemsChanged on
 * "/" with a huge CCL and /Bank/Member 1. The bank takes a member's values
 * from that member's connection only. */
static void test_spoofed_items_changed(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peers_bank_start(w);
	wait_number(w, "/Info/MaxChargeCurrent", 50, 5000);
	peer_up(w, 1, 50, false); /* on the bus, owns no battery name */
	peer_change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(900));
	peer_change(&w->p[1], "/Serial", g_variant_new_string("PACK00"));
	hold_number(w, "/Info/MaxChargeCurrent", 50, 500);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 1, 0);
	/* The member's own change is taken. */
	peer_change(&w->p[0], "/Bank/MaxChargeCurrent", g_variant_new_double(40));
	wait_number(w, "/Info/MaxChargeCurrent", 40, 3000);
}

/* A member's CCL goes invalid while /Connected stays 1: no limit, no
 * charge; a type the bank does not read (a string), NaN, infinity, a
 * negative or absurd number are no limit either. */
static void test_member_limit_invalid(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 70, true);
	peers_bank_start(w);
	wait_number(w, "/Info/MaxChargeCurrent", 100, 5000);
	peer_change(&w->p[1], "/Bank/MaxChargeCurrent", invalid_value());
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
	peer_change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_string("70"));
	hold_number(w, "/Info/MaxChargeCurrent", 0, 300);
	/* Numbers no pack publishes are no limit either. */
	const double odd[] = { NAN, INFINITY, -5, 1e9 };

	for (unsigned k = 0; k < G_N_ELEMENTS(odd); k++) {
		peer_change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(odd[k]));
		hold_number(w, "/Info/MaxChargeCurrent", 0, 200);
	}
	/* Valid again: two shares of the least (a rise, on the ramp). */
	peer_change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(70));
	run_for(1200);
	assert_true(bank_number(w, "/Info/MaxChargeCurrent") > 0);
	assert_true(bank_number(w, "/Info/MaxChargeCurrent") < 100);
	/* A full pack (CCL 0) bounds every share. */
	peer_change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(0));
	hold_number(w, "/Info/MaxChargeCurrent", 0, 500);
}

/* A member that publishes /Bank/Member = 0 (its service left the bank and
 * its /Info/ limits are its own again) is no member any more: it leaves
 * the counts and the limits, as one that left the bus. */
static void test_member_leaves_bank(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	peer_up(w, 1, 70, true);
	peers_bank_start(w);
	wait_number(w, "/System/NrOfModulesOnline", 2, 5000);
	peer_change(&w->p[1], "/Bank/Member", g_variant_new_int32(0));
	wait_number(w, "/System/NrOfModulesOnline", 1, 3000);
	/* It no longer speaks for the bank: its CCL is not taken. */
	peer_change(&w->p[1], "/Bank/MaxChargeCurrent", g_variant_new_double(10));
	hold_number(w, "/System/NrOfModulesOnline", 1, 300);
}

static bool charging_watched(void *ud)
{
	struct peers_world *w = ud;
	char *why = bank_text(w, "/Info/ChargeLimitation");
	bool ok = !strstr(why, "not watched") && bank_number(w, "/Info/MaxChargeCurrent") > 0;

	g_free(why);
	return ok;
}

/* Sixteen members fill the bank. A 17th pack on the bus is not watched,
 * so nothing charges: the bank cannot see whether that pack is full. One
 * member leaves the bus for good: the 17th (another unique id, another
 * name) takes the slot of the one gone and charge resumes on the ramp. */
static void test_full_bank_replaced_pack(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	for (unsigned k = 0; k < 16; k++)
		peer_up(w, k, 50, true);
	peers_bank_start(w);
	wait_number(w, "/System/NrOfModulesOnline", 16, 8000);
	wait_number(w, "/Info/MaxChargeCurrent", 800, 3000);
	peer_up(w, 16, 50, true);
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
	char *why = bank_text(w, "/Info/ChargeLimitation");

	assert_non_null(strstr(why, "1 pack not watched"));
	g_free(why);
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 16, 0);
	assert_float_equal(bank_number(w, "/Info/MaxDischargeCurrent"), 1600, 1e-6);
	/* A rule for NameOwnerChanged and one per member: none for the pack
	 * not watched (test_bank_rules.c). */
	wait_match_rules(w, 1 + 16, 3000);

	peer_down(&w->p[3]);
	if (!loop_until(charging_watched, w, 4000))
		fail_msg("CCL %g after a slot freed", bank_number(w, "/Info/MaxChargeCurrent"));
	assert_float_equal(bank_number(w, "/System/NrOfModulesOnline"), 16, 0);
	wait_match_rules(w, 1 + 16, 3000);
	/* The new pack is watched: it is full, and the bank stops. */
	peer_change(&w->p[16], "/Bank/MaxChargeCurrent", g_variant_new_double(0));
	wait_number(w, "/Info/MaxChargeCurrent", 0, 3000);
}

/* Peer k up with its battery name, its object served by a main context
 * nobody runs: it never answers a GetItems (returned: unref it once the
 * peer is down). */
static GMainContext *mute_peer_up(struct peers_world *w, unsigned k)
{
	GMainContext *mute = g_main_context_new();

	g_main_context_push_thread_default(mute);
	peer_up(w, k, 50, true);
	g_main_context_pop_thread_default(mute);
	return mute;
}

/* A battery there at the bank's start leaves the bus before it answers
 * the bank's GetItems: the bank no longer waits for that answer, and
 * starts with the members that did answer. */
static void test_start_pack_leaves_unanswered(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	GMainContext *mute = mute_peer_up(w, 1);

	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
	wait_reads(w, 0, 1, 5000); /* the ListNames reply is in: both read */
	peer_release(w, 1);        /* well before the GetItems times out */
	wait_name_or_fail(&w->bus, &w->bank, BANK, 5000);
	wait_number(w, "/Info/MaxChargeCurrent", 50, 3000);
	peer_down(&w->p[1]);
	g_main_context_unref(mute);
}

/* A pack that comes while the bank starts does not stand in for one there
 * at the start: the bank's first combination waits for the answer of
 * every battery it found at start, however many others answered since. */
static void test_start_waits_for_every_pack(void **state)
{
	struct peers_world *w = peers_world_up();

	(void)state;
	peer_up(w, 0, 50, true);
	GMainContext *mute = mute_peer_up(w, 1);

	service_spawn(&w->bank, &w->bus, "bank", "--bank", w->config);
	wait_reads(w, 0, 1, 5000);
	/* Two packs come: their answers are not the silent one's. */
	peer_up(w, 2, 60, true);
	peer_up(w, 3, 70, true);
	wait_reads(w, 2, 1, 3000);
	wait_reads(w, 3, 1, 3000);
	run_for(500);
	assert_false(bus_has_owner(&w->bus, BANK));
	/* The silent one's GetItems times out (3 s): then the bank starts. */
	wait_name_or_fail(&w->bus, &w->bank, BANK, 5000);
	wait_number(w, "/System/NrOfModulesOnline", 3, 3000);
	peer_down(&w->p[1]);
	g_main_context_unref(mute);
}

/* The dbus-daemon goes away (as when it restarts): the bank exits 1,
 * saying why, for its supervisor to start it again on the new bus. */
static void test_bus_lost(void **state)
{
	struct peers_world *w = peers_world_up();
	char *log;

	(void)state;
	peer_up(w, 0, 50, true);
	peers_bank_start(w);
	assert_int_equal(kill(w->bus.daemon_pid, SIGTERM), 0);
	for (unsigned t = 0; t < 100 && !child_exited(&w->bank); t++)
		g_usleep(50000);
	assert_true(child_exited(&w->bank));
	assert_true(WIFEXITED(w->bank.status) && WEXITSTATUS(w->bank.status) == 1);
	log = child_log(&w->bank);
	assert_non_null(strstr(log, "lost the D-Bus connection; exiting for the supervisor to restart us"));
	g_free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_spoofed_items_changed, peers_world_teardown),
		cmocka_unit_test_teardown(test_member_limit_invalid, peers_world_teardown),
		cmocka_unit_test_teardown(test_member_leaves_bank, peers_world_teardown),
		cmocka_unit_test_teardown(test_full_bank_replaced_pack, peers_world_teardown),
		cmocka_unit_test_teardown(test_start_pack_leaves_unanswered, peers_world_teardown),
		cmocka_unit_test_teardown(test_start_waits_for_every_pack, peers_world_teardown),
		cmocka_unit_test_teardown(test_bus_lost, peers_world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
