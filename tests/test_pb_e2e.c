/* SPDX-License-Identifier: MIT */
/*
 * JK PB packs end to end: the real dbus-jkbms on a private bus against PB
 * packs on a real pseudo-terminal (pb_peer.c), read through an independent
 * GDBus client. One pack and three (one service each, values and identity
 * from each pack's own frames), a pack that goes silent and comes back, a
 * device that is unplugged and replugged, a pack swapped for another, an
 * adapter that spews garbage, a master pack, the probe giving up
 * within probe_timeout, a pack that misses the probe's first question,
 * and a pack switched on after the start.
 */
#include <glib.h>
#include <math.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus_harness.h"
#include "pb_peer.h"

#define TTY "ttyPB"

static const char *const base_config = "[jkbms]\npoll_interval=0.5\nreply_timeout=0.3\nlink_warning=1\n"
				       "link_lost=2\nsettings_timeout=0.3\n";

struct world {
	struct bus bus;
	struct pb_peer peer;
	struct child svc;
	char config[400];
};

static struct world *current;

static double exit_after(struct world *w, double limit_s);

static void start_service(struct world *w, const char *extra)
{
	config_write(&w->bus, w->config, sizeof(w->config), base_config, extra);
	service_spawn(&w->svc, &w->bus, "service", w->peer.link, w->config);
}

/* The bus and the packs, no service yet. */
static struct world *packs_up(uint16_t packs)
{
	struct world *w = g_new0(struct world, 1);

	current = w;
	bus_start(&w->bus);
	pb_peer_start(&w->peer, TTY, packs);
	return w;
}

static struct world *up(uint16_t packs, const char *extra)
{
	struct world *w = packs_up(packs);

	start_service(w, extra);
	return w;
}

static void down(struct world *w)
{
	current = NULL;
	if (w->svc.pid && !w->svc.exited)
		assert_int_equal(child_stop_verbose(&w->svc), 0); /* SIGTERM is a clean exit */
	pb_peer_stop(&w->peer);
	bus_stop(&w->bus);
	g_free(w);
}

static int teardown(void **state)
{
	struct world *w = current;

	(void)state;
	current = NULL;
	if (!w)
		return 0;
	if (w->svc.pid && !w->svc.exited)
		child_stop(&w->svc);
	pb_peer_stop(&w->peer);
	bus_stop(&w->bus);
	return 0;
}

static void wait_name(struct world *w, const char *name)
{
	wait_name_or_fail(&w->bus, &w->svc, name, 8000);
}

/* A number a service publishes; NAN when invalid or of another type. */
static double num(struct world *w, const char *name, const char *path)
{
	return bus_number(&w->bus, name, path);
}

static void assert_text(struct world *w, const char *name, const char *path, const char *want)
{
	GVariant *v = bus_get_value(&w->bus, name, path);

	if (!g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) || strcmp(g_variant_get_string(v, NULL), want) != 0)
		fail_msg("%s %s is %s, want '%s'", name, path, g_variant_print(v, TRUE), want);
	g_variant_unref(v);
}

/* Poll until path reads want (within 0.001), or fail after timeout_ms. */
static void wait_value(struct world *w, const char *name, const char *path, double want, unsigned timeout_ms)
{
	bus_wait_number(&w->bus, name, path, want, 0.001, timeout_ms);
}

static bool log_has(struct world *w, const char *text)
{
	char *log = child_log(&w->svc);
	bool has = strstr(log, text) != NULL;

	g_free(log);
	return has;
}

/* What every pack publishes from its frames (the mrmanuel capture).
 * again: it was lost and is back, its limits still coming back calmly. */
static void assert_pack_again(struct world *w, const char *name, uint8_t addr, bool again)
{
	char serial[16], uid[32];

	wait_value(w, name, "/Soc", 50 + addr, 3000);
	assert_true(fabs(num(w, name, "/Dc/0/Voltage") - 52.695) < 0.006);
	assert_true(fabs(num(w, name, "/Dc/0/Current")) < 0.001);
	assert_int_equal(num(w, name, "/Connected"), 1);
	assert_int_equal(num(w, name, "/System/NrOfCellsPerBattery"), 16);
	assert_true(fabs(num(w, name, "/System/MinCellVoltage") - 3.293) < 0.0005);
	assert_true(fabs(num(w, name, "/System/MaxCellVoltage") - 3.294) < 0.0005);
	assert_true(fabs(num(w, name, "/System/MOSTemperature") - 20) < 0.01); /* 20.3 C */
	assert_true(fabs(num(w, name, "/Dc/0/Temperature") - 20) < 0.01);      /* (19.5 + 19.8) / 2, whole */
	assert_true(fabs(num(w, name, "/InstalledCapacity") - 280) < 0.01);
	/* Limits from its own settings: CCL 90 % of 60 A, DCL 90 % of 100 A. */
	if (again) {
		assert_true(num(w, name, "/Info/MaxChargeCurrent") > 0);
		assert_true(num(w, name, "/Info/MaxChargeCurrent") <= 54);
	} else {
		assert_true(fabs(num(w, name, "/Info/MaxChargeCurrent") - 54) < 0.01);
		assert_true(fabs(num(w, name, "/Info/MaxDischargeCurrent") - 90) < 0.01);
	}
	assert_true(num(w, name, "/Info/MaxChargeVoltage") > 50 && num(w, name, "/Info/MaxChargeVoltage") < 16 * 3.6);
	pb_peer_serial(addr, serial, sizeof(serial));
	snprintf(uid, sizeof(uid), "jkbms_%s", serial);
	assert_text(w, name, "/Serial", uid);
	assert_text(w, name, "/ProductName", "JK-BMS PB2A16S20P");
	assert_text(w, name, "/FirmwareVersion", "15.41");
	assert_text(w, name, "/HardwareVersion", "15A");
	char info[64];

	snprintf(info, sizeof(info), "115200 baud, JK PB RS-485 address %u, 15.41", addr);
	assert_text(w, name, "/ConnectionInformation", info);
}

static void assert_pack(struct world *w, const char *name, uint8_t addr)
{
	assert_pack_again(w, name, addr, false);
}

static void test_one_pack(void **state)
{
	struct world *w = up(1u << 1, "pb_addresses=1-3\n");

	(void)state;
	wait_name(w, "com.victronenergy.battery." TTY);
	assert_pack(w, "com.victronenergy.battery." TTY, 1);
	/* The setup was read (the limits above come from it); how often it
	 * was asked can be more than once (a request timed out under load and
	 * was repeated). The probe's live reads come first here. */
	int settings = g_atomic_int_get(&w->peer.requests[1][PB_TYPE_SETTINGS]);
	int info = g_atomic_int_get(&w->peer.requests[1][PB_TYPE_INFO]);
	int live = g_atomic_int_get(&w->peer.requests[1][PB_TYPE_LIVE]);

	assert_true(settings >= 1 && info >= 1);
	assert_true(log_has(w, "JK PB pack at address 1"));
	assert_true(log_has(w, "mosfet_control is off"));
	/* The setup passcode of the device-info frame is nowhere. */
	assert_false(log_has(w, "136913"));
	GVariant *items = bus_get_items(&w->bus, "com.victronenergy.battery." TTY);
	char *all = g_variant_print(items, TRUE);

	assert_null(strstr(all, "136913"));
	g_free(all);
	g_variant_unref(items);
	/* No MOSFET write for PB: forcing the charge FET off holds the
	 * charge limit at 0 instead; released, it comes back. */
	assert_int_equal(bus_set_value(&w->bus, "com.victronenergy.battery." TTY, "/Settings/ForceChargingOff",
				       g_variant_new_int32(1)),
			 0);
	wait_value(w, "com.victronenergy.battery." TTY, "/Info/MaxChargeCurrent", 0, 3000);
	assert_true(num(w, "com.victronenergy.battery." TTY, "/Info/MaxDischargeCurrent") > 0);
	assert_true(log_has(w, "has no MOSFET write: the charge FET is not switched"));
	assert_int_equal(bus_set_value(&w->bus, "com.victronenergy.battery." TTY, "/Settings/ForceChargingOff",
				       g_variant_new_int32(0)),
			 0);
	for (unsigned t = 0; t < 50 && !(num(w, "com.victronenergy.battery." TTY, "/Info/MaxChargeCurrent") > 0); t++)
		g_usleep(100000);
	assert_true(num(w, "com.victronenergy.battery." TTY, "/Info/MaxChargeCurrent") > 0);
	/* Live data every poll (0.5 s); settings and device info not again
	 * while the pack answers. */
	for (unsigned t = 0; t < 50 && g_atomic_int_get(&w->peer.requests[1][PB_TYPE_LIVE]) < live + 2; t++)
		g_usleep(100000);
	assert_int_equal(g_atomic_int_get(&w->peer.requests[1][PB_TYPE_SETTINGS]), settings);
	assert_int_equal(g_atomic_int_get(&w->peer.requests[1][PB_TYPE_INFO]), info);
	assert_true(g_atomic_int_get(&w->peer.requests[1][PB_TYPE_LIVE]) >= live + 2);
	down(w);
}

static void test_three_packs_one_silent(void **state)
{
	static const char *const names[] = { NULL, "com.victronenergy.battery." TTY "_1",
					     "com.victronenergy.battery." TTY "_2",
					     "com.victronenergy.battery." TTY "_3" };
	struct world *w = up(1u << 1 | 1u << 2 | 1u << 3, "protocol=pb\npb_addresses=1-4\n");

	(void)state;
	for (uint8_t a = 1; a <= 3; a++)
		wait_name(w, names[a]);
	for (uint8_t a = 1; a <= 3; a++)
		assert_pack(w, names[a], a);
	/* Pack 2 stops answering: lost on its own, the others carry on. */
	int settings_before = g_atomic_int_get(&w->peer.requests[2][PB_TYPE_SETTINGS]);

	g_atomic_int_set(&w->peer.silent[2], 1);
	wait_value(w, names[2], "/Connected", 0, 6000);
	assert_int_equal(num(w, names[2], "/Info/MaxChargeCurrent"), 0);
	assert_int_equal(num(w, names[1], "/Connected"), 1);
	assert_int_equal(num(w, names[3], "/Connected"), 1);
	assert_true(fabs(num(w, names[3], "/Info/MaxChargeCurrent") - 54) < 0.01);
	/* It answers again: its settings are read again, then it is back. */
	g_atomic_int_set(&w->peer.silent[2], 0);
	wait_value(w, names[2], "/Connected", 1, 6000);
	if (g_atomic_int_get(&w->peer.requests[2][PB_TYPE_SETTINGS]) <= settings_before) {
		char *log = child_log(&w->svc);

		fail_msg("settings not read again (%d, before %d); log:\n%s",
			 g_atomic_int_get(&w->peer.requests[2][PB_TYPE_SETTINGS]), settings_before, log);
	}
	assert_pack_again(w, names[2], 2, true);
	down(w);
}

static void test_unplug_replug(void **state)
{
	const char *name = "com.victronenergy.battery." TTY;
	struct world *w = up(1u << 4, "protocol=pb\npb_addresses=4\n");

	(void)state;
	wait_name(w, name);
	assert_pack(w, name, 4);
	g_atomic_int_set(&w->peer.unplugged, 1);
	wait_value(w, name, "/Connected", 0, 6000);
	assert_true(log_has(w, "device lost"));
	g_atomic_int_set(&w->peer.unplugged, 0);
	wait_value(w, name, "/Connected", 1, 8000);
	assert_true(log_has(w, "device back"));
	/* The setup is read again on the new connection, before its first
	 * live read: no limits from settings that may have changed while it
	 * was unplugged. (A count at this instant would be loose: under load
	 * a setup request may time out and be repeated.) */
	assert_int_equal(g_atomic_int_get(&w->peer.opens), 2);
	if (g_atomic_int_get(&w->peer.settings_before_live[4]) < 1) {
		char *log = child_log(&w->svc);

		fail_msg("live data read on the new connection before the settings (%d settings first); log:\n%s",
			 g_atomic_int_get(&w->peer.settings_before_live[4]), log);
	}
	assert_true(g_atomic_int_get(&w->peer.requests[4][PB_TYPE_SETTINGS]) >= 2);
	assert_true(g_atomic_int_get(&w->peer.requests[4][PB_TYPE_INFO]) >= 2);
	assert_pack_again(w, name, 4, true);
	down(w);
}

/* Another pack takes the place of the one at address 4 (its serial
 * differs): the service does not carry on as the old pack, with its
 * identity, state file and history, but says so and exits for the
 * supervisor to start it again as the new one. */
static void test_pack_swapped(void **state)
{
	const char *name = "com.victronenergy.battery." TTY;
	struct world *w = up(1u << 4, "protocol=pb\npb_addresses=4\n");
	char serial[16];

	(void)state;
	wait_name(w, name);
	assert_pack(w, name, 4);
	g_atomic_int_set(&w->peer.silent[4], 1);
	wait_value(w, name, "/Connected", 0, 6000);
	g_atomic_int_set(&w->peer.swapped[4], 1);
	g_atomic_int_set(&w->peer.silent[4], 0);
	exit_after(w, 6);
	if (!child_exited(&w->svc)) {
		char *log = child_log(&w->svc);

		fail_msg("still running as the old pack; /Serial: %s; log:\n%s",
			 g_variant_print(bus_get_value(&w->bus, name, "/Serial"), TRUE), log);
	}
	assert_true(WIFEXITED(w->svc.status) && WEXITSTATUS(w->svc.status) == 1);
	pb_peer_swapped_serial(4, serial, sizeof(serial));
	assert_true(log_has(w, serial));
	assert_true(log_has(w, "another pack"));
	down(w);
}

/* Junk between the replies and a master broadcasting: the pack's values
 * are still right, the master is reported once with what to do. */
static void test_garbage_and_master(void **state)
{
	const char *name = "com.victronenergy.battery." TTY;
	struct world *w = up(1u << 1, "pb_addresses=1-2\n");

	(void)state;
	g_atomic_int_set(&w->peer.garbage, 1);
	g_atomic_int_set(&w->peer.master_pack, 1);
	wait_name(w, name);
	assert_pack(w, name, 1);
	g_usleep(1500000);
	assert_int_equal(num(w, name, "/Connected"), 1);
	assert_pack(w, name, 1);
	assert_true(log_has(w, "a master pack (address 0) is broadcasting"));
	/* Its frames are counted as from the wrong address; junk is counted. */
	assert_true(num(w, name, "/Diagnostics/Link/Rejected/Address") >= 1);
	assert_true(log_has(w, "give every pack an address 1..15"));
	down(w);
}

/* --once on a PB bus: every pack found, one block each. */
static void test_once(void **state)
{
	struct world *w = up(1u << 1 | 1u << 2 | 1u << 3, "");
	const char *bin = service_bin();
	char *out = NULL, *err = NULL;
	int status = -1;

	(void)state;
	child_stop(&w->svc); /* only the tool talks to the packs */
	const char *json_argv[] = { bin, "--once", w->peer.link, "--json", "--pb-addresses", "1-4", NULL };

	assert_true(
		g_spawn_sync(NULL, (char **)json_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	gchar **lines = g_strsplit(g_strstrip(out), "\n", -1);

	assert_int_equal(g_strv_length(lines), 3);
	for (unsigned k = 0; k < 3; k++) {
		char soc[32], serial[48], pack_serial[16];

		snprintf(soc, sizeof(soc), "\"soc_pct\":%u,", 51 + k);
		pb_peer_serial((uint8_t)(k + 1), pack_serial, sizeof(pack_serial));
		snprintf(serial, sizeof(serial), "\"serial\":\"%s\"", pack_serial);
		assert_non_null(strstr(lines[k], ",\"protocol\":\"pb\"}"));
		assert_non_null(strstr(lines[k], soc));
		assert_non_null(strstr(lines[k], serial));
		assert_non_null(strstr(lines[k], "\"cell_ovp_v\":3.650,"));
		assert_null(strstr(lines[k], "136913"));
	}
	g_strfreev(lines);
	g_free(out);
	g_free(err);
	const char *text_argv[] = { bin, "--once", w->peer.link, "--protocol", "pb", "--pb-addresses", "2-3", NULL };

	assert_true(
		g_spawn_sync(NULL, (char **)text_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(
		strstr(out, "Address 2:\nJK PB JK_PB2A16S20P, hardware 15A, software 15.41, serial 40119491402"));
	assert_non_null(strstr(out, "Address 3:\n"));
	assert_null(strstr(out, "Address 1:"));
	assert_non_null(strstr(out, "SoC 53 %"));
	g_free(out);
	g_free(err);
	down(w);
}

/* How much slower than the debug build on an idle machine the test may
 * run: JK_TEST_TIME_SCALE, which tests/CMakeLists.txt sets for the
 * sanitizer and the qemu builds. Only the slack for a process's start and
 * end is scaled, never the service's own timing. */
static double time_scale(void)
{
	const char *v = getenv("JK_TEST_TIME_SCALE");
	double f = v ? g_ascii_strtod(v, NULL) : 1;

	return f >= 1 ? f : 1;
}

/* Waits up to limit_s (scaled) for the service to exit. Returns how long
 * it ran from the first byte it put on the pty (its probe's start; the
 * process's start is not counted), or from now when it sent nothing. */
static double exit_after(struct world *w, double limit_s)
{
	int64_t t0 = g_get_monotonic_time(), limit_us = (int64_t)(limit_s * time_scale() * 1e6);

	while (g_get_monotonic_time() - t0 < limit_us && !child_exited(&w->svc))
		g_usleep(20000);
	int64_t end = g_get_monotonic_time();
	int first = g_atomic_int_get(&w->peer.first_rx_ms);
	int64_t from = first >= 0 ? w->peer.start_us + (int64_t)first * 1000 : t0;

	return (end - from) / 1e6;
}

/* Nothing answers either protocol (silence, then only garbage): exit 1
 * within probe_timeout, without a name. The time is taken from the
 * probe's first request to the exit, with 0.5 s (scaled for slow builds)
 * for the exit and this test's 20 ms polling. */
static void test_probe_timeout(void **state)
{
	struct world *w = up(0, "probe_timeout=1.5\n");
	double s = exit_after(w, 4);

	(void)state;
	assert_true(child_exited(&w->svc));
	assert_true(WIFEXITED(w->svc.status) && WEXITSTATUS(w->svc.status) == 1);
	print_message("probe: exit %.2f s after the first request (scale %.0f)\n", s, time_scale());
	if (!(s <= 1.5 + 0.5 * time_scale()))
		fail_msg("exit %.2f s after the first request, probe_timeout 1.5 s", s);
	assert_true(log_has(w, "no JK-BMS answered"));
	assert_false(bus_has_owner(&w->bus, "com.victronenergy.battery." TTY));
	/* The whole PB scan of 15 addresses (0.3 s for 4E 57, 15 x 0.25 s for
	 * PB: 4.05 s by design, inside the default 5 s) is made even while the
	 * adapter spews garbage, which must not stretch the 250 ms per
	 * address: all 15 addresses were asked. probe_timeout is 7 s here, so
	 * that late wake-ups on a loaded test machine do not decide it. */
	child_stop(&w->svc);
	g_atomic_int_set(&w->peer.garbage, 1);
	g_atomic_int_set(&w->peer.first_rx_ms, -1);
	start_service(w, "probe_timeout=7\n");
	s = exit_after(w, 10);
	assert_true(child_exited(&w->svc));
	assert_true(WEXITSTATUS(w->svc.status) == 1);
	print_message("probe: exit %.2f s after the first request (scale %.0f)\n", s, time_scale());
	if (!(s <= 7.0 + 0.5 * time_scale()))
		fail_msg("exit %.2f s after the first request, probe_timeout 7 s", s);
	for (unsigned a = 1; a <= 15; a++) {
		if (g_atomic_int_get(&w->peer.requests[a][PB_TYPE_LIVE]) < 1) {
			char *log = child_log(&w->svc);

			char asked[64] = "";

			for (unsigned b = 1; b <= 15; b++)
				snprintf(asked + strlen(asked), sizeof(asked) - strlen(asked), "%d ",
					 g_atomic_int_get(&w->peer.requests[b][PB_TYPE_LIVE]));
			fail_msg("address %u never asked, after %.2f s (live requests per address 1..15: %s); log:\n%s",
				 a, s, asked, log);
		}
	}
	down(w);
}

/* A pack that misses the probe's one request (a corrupted frame) is
 * asked again before the probe settles: both packs are served, named by
 * address from the start, and the service keeps running. */
static void test_probe_second_pass(void **state)
{
	struct world *w = packs_up(1u << 1 | 1u << 2);

	(void)state;
	g_atomic_int_set(&w->peer.deaf[2], 1);
	start_service(w, "protocol=pb\npb_addresses=1-3\n");
	wait_name(w, "com.victronenergy.battery." TTY "_1");
	wait_name(w, "com.victronenergy.battery." TTY "_2");
	assert_pack(w, "com.victronenergy.battery." TTY "_2", 2);
	assert_false(bus_has_owner(&w->bus, "com.victronenergy.battery." TTY));
	assert_int_equal(g_atomic_int_get(&w->peer.deaf[2]), 0);
	assert_true(log_has(w, "JK PB pack at address 2"));
	assert_false(child_exited(&w->svc));
	down(w);
}

/* A pack switched on after the start: the running service asks one
 * missing address each pb_scan_interval, between the polls; when one
 * answers it says so and exits 1, and started again it serves both packs,
 * each named by its address. */
static void test_pack_after_start(void **state)
{
	static const char *const extra = "protocol=pb\npb_addresses=1-3\npb_scan_interval=0.5\n";
	const char *name = "com.victronenergy.battery." TTY;
	struct world *w = up(1u << 1, extra);

	(void)state;
	wait_name(w, name);
	assert_pack(w, name, 1);
	int asked2 = g_atomic_int_get(&w->peer.requests[2][PB_TYPE_LIVE]);
	int asked3 = g_atomic_int_get(&w->peer.requests[3][PB_TYPE_LIVE]);

	g_usleep(2200000);
	/* About one question each 0.5 s, the missing addresses in turn; the
	 * found pack is polled as before. */
	int more2 = g_atomic_int_get(&w->peer.requests[2][PB_TYPE_LIVE]) - asked2;
	int more3 = g_atomic_int_get(&w->peer.requests[3][PB_TYPE_LIVE]) - asked3;

	if (more2 < 1 || more3 < 1 || more2 + more3 > 6)
		fail_msg("scan asked address 2 %d and address 3 %d times in 2.2 s", more2, more3);
	assert_false(child_exited(&w->svc));
	assert_int_equal(num(w, name, "/Connected"), 1);
	assert_int_equal(g_atomic_int_get(&w->peer.requests[1][PB_TYPE_SETTINGS]), 1);
	g_atomic_int_set(&w->peer.present[3], 1);
	exit_after(w, 3);
	if (!child_exited(&w->svc)) {
		char *log = child_log(&w->svc);

		fail_msg("the pack at address 3 was not found while running; log:\n%s", log);
	}
	assert_true(WIFEXITED(w->svc.status) && WEXITSTATUS(w->svc.status) == 1);
	assert_true(log_has(w, "JK PB pack found at address 3 after start; restarting to serve it"));
	/* What the supervisor does: start it again. */
	child_stop(&w->svc);
	start_service(w, extra);
	wait_name(w, "com.victronenergy.battery." TTY "_1");
	wait_name(w, "com.victronenergy.battery." TTY "_3");
	assert_pack(w, "com.victronenergy.battery." TTY "_3", 3);
	assert_false(bus_has_owner(&w->bus, name));
	down(w);
}

/* Four parts, so that ctest can run them side by side: "bus" (packs
 * answering), "faults" (unplugged, garbage, a master), "probe" (nothing
 * answering) and "scan" (packs missed at start). No argument: all. */
int main(int argc, char **argv)
{
	const struct CMUnitTest bus[] = {
		cmocka_unit_test_teardown(test_one_pack, teardown),
		cmocka_unit_test_teardown(test_three_packs_one_silent, teardown),
		cmocka_unit_test_teardown(test_once, teardown),
	};
	const struct CMUnitTest faults[] = {
		cmocka_unit_test_teardown(test_unplug_replug, teardown),
		cmocka_unit_test_teardown(test_garbage_and_master, teardown),
		cmocka_unit_test_teardown(test_pack_swapped, teardown),
	};
	const struct CMUnitTest probe[] = {
		cmocka_unit_test_teardown(test_probe_timeout, teardown),
	};
	const struct CMUnitTest scan[] = {
		cmocka_unit_test_teardown(test_probe_second_pass, teardown),
		cmocka_unit_test_teardown(test_pack_after_start, teardown),
	};
	const char *part = argc > 1 ? argv[1] : "";
	int r = 0;

	if (!*part || strcmp(part, "bus") == 0)
		r |= cmocka_run_group_tests_name("bus", bus, NULL, NULL);
	if (!*part || strcmp(part, "faults") == 0)
		r |= cmocka_run_group_tests_name("faults", faults, NULL, NULL);
	if (!*part || strcmp(part, "probe") == 0)
		r |= cmocka_run_group_tests_name("probe", probe, NULL, NULL);
	if (!*part || strcmp(part, "scan") == 0)
		r |= cmocka_run_group_tests_name("scan", scan, NULL, NULL);
	return r;
}
