/* SPDX-License-Identifier: MIT */
/* Configuration keys: validation, file loading, and the README documenting every key. */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static void test_set(void **state)
{
	struct config c;
	char err[200];

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.poll.interval_ms, 1000);
	assert_int_equal(config_set(&c, "poll_interval", "0.5", err, sizeof(err)), 0);
	assert_int_equal(c.poll.interval_ms, 500);
	assert_int_equal(config_set(&c, "max_charge_current", "100.5", err, sizeof(err)), 0);
	assert_int_equal(c.policy.max_charge_current_ma, 100500);
	assert_int_equal(config_set(&c, "properties_changed", "yes", err, sizeof(err)), 0);
	assert_true(c.properties_changed);
	assert_int_equal(config_set(&c, "device_instance", "12", err, sizeof(err)), 0);
	assert_int_equal(c.device_instance, 12);

	/* Refused values name the key and change nothing. */
	assert_int_equal(config_set(&c, "poll_interval", "abc", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "poll_interval: invalid value 'abc' (expected 0.1..60 s)");
	assert_int_equal(c.poll.interval_ms, 500);
	assert_int_equal(config_set(&c, "poll_interval", "nan", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set(&c, "poll_interval", "0.05", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set(&c, "baud", "9600.5", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "baud: invalid value '9600.5' (expected a whole number 1200..921600 baud)");
	assert_int_equal(config_set(&c, "properties_changed", "maybe", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "properties_changed: invalid value 'maybe' (expected true or false)");
	assert_int_equal(config_set(&c, "nonsense", "1", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown key 'nonsense'");
}

/* protocol and pb_addresses (docs/protocol-pb.md "Finding the packs"). */
static void test_protocol_keys(void **state)
{
	struct config c;
	char err[200];

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.protocol, CONFIG_PROTOCOL_AUTO);
	assert_int_equal(c.pb_addresses, 0xFFFE); /* 1..15 */
	assert_int_equal(config_set(&c, "protocol", "pb", err, sizeof(err)), 0);
	assert_int_equal(c.protocol, CONFIG_PROTOCOL_PB);
	assert_int_equal(config_set(&c, "protocol", "4E57", err, sizeof(err)), 0);
	assert_int_equal(c.protocol, CONFIG_PROTOCOL_4E57);
	assert_int_equal(config_set(&c, "protocol", "modbus", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "protocol: invalid value 'modbus' (expected auto, 4e57 or pb)");
	assert_int_equal(c.protocol, CONFIG_PROTOCOL_4E57);
	assert_int_equal(config_set(&c, "pb_addresses", "1,3, 5-7", err, sizeof(err)), 0);
	assert_int_equal(c.pb_addresses, 1u << 1 | 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7);
	assert_int_equal(config_set(&c, "pb_addresses", "15", err, sizeof(err)), 0);
	assert_int_equal(c.pb_addresses, 1u << 15);
	static const char *const bad[] = { "0-3", "16", "3-1", "", "1,,2", "a", "1-", "-3", "2-x", "1 2" };

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char want[200];

		assert_int_equal(config_set(&c, "pb_addresses", bad[k], err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want),
			 "pb_addresses: invalid value '%s' (expected addresses 1..15, e.g. 1-15 or 1,3,5-7)", bad[k]);
		assert_string_equal(err, want);
		assert_int_equal(c.pb_addresses, 1u << 15);
	}
}

/* The defaults of the embedded configurations are their modules' own. */
static void test_defaults(void **state)
{
	struct config c;
	struct poller_config poll;
	struct policy_config policy;

	(void)state;
	config_defaults(&c);
	poller_config_default(&poll);
	policy_config_default(&policy);
	assert_memory_equal(&c.poll, &poll, sizeof(poll));
	/* lost_discharge_time's documented default is the one exception. */
	assert_int_equal(c.policy.lost_discharge_ms, 600000);
	policy.lost_discharge_ms = c.policy.lost_discharge_ms;
	assert_memory_equal(&c.policy, &policy, sizeof(policy));
	/* README's defaults. */
	assert_int_equal(c.baud, 115200);
	assert_int_equal(c.poll.interval_ms, 1000);
	assert_int_equal(c.poll.reply_timeout_ms, 500);
	assert_int_equal(c.poll.warning_ms, 5000);
	assert_int_equal(c.poll.lost_ms, 30000);
	assert_int_equal(c.probe_timeout_ms, 5000);
	assert_int_equal(c.leave_bus_after_ms, 0);
	assert_int_equal(c.device_instance, 1);
	assert_int_equal(c.settings_timeout_ms, 5000);
	assert_false(c.properties_changed);
	assert_int_equal(c.ttg_floor_pct, 10);
	assert_int_equal(c.policy.max_charge_current_ma, 0);
	assert_int_equal(c.policy.charge_cell_mv, 0);
	assert_int_equal(c.policy.charge_min_temp_c, POLICY_UNSET_TEMP);
	assert_int_equal(c.policy.discharge_max_temp_c, POLICY_UNSET_TEMP);
	assert_int_equal(c.policy.max_absorption_ms, 120 * 60000);
	assert_int_equal(c.policy.rebulk_soc_pct, 0);
	assert_true(c.policy.mosfet_control);
	assert_false(c.policy.soc_taper);
	assert_string_equal(c.state_dir, "/data/var/lib/dbus-jkbms");
}

/* Every key lands in its field of the embedded configurations, converted. */
static void test_embedded(void **state)
{
	static const char ini[] = "[jkbms]\n"
				  "poll_interval=2\nreply_timeout=0.25\nlink_warning=7\nlink_lost=40\n"
				  "max_charge_current=150\nmax_discharge_current=200.5\n"
				  "charge_cell_voltage=3.45\nfloat_cell_voltage=3.375\n"
				  "rebulk_cell_voltage=3.3\nmin_cell_voltage=2.9\n"
				  "charge_min_temperature=-5\ncharge_max_temperature=45\n"
				  "discharge_min_temperature=-40\ndischarge_max_temperature=90\n"
				  "tail_current=2.5\nmax_absorption_time=90\nrebulk_soc=100\n"
				  "full_charge_days=365\nsoc_taper=true\nmosfet_control=no\n"
				  "lost_discharge_current=10\nlost_discharge_time=20\n";
	struct config c;
	char err[300];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_data(&c, ini, strlen(ini), "e.ini", NULL, err, sizeof(err)), 0);
	assert_int_equal(c.poll.interval_ms, 2000);
	assert_int_equal(c.poll.reply_timeout_ms, 250);
	assert_int_equal(c.poll.warning_ms, 7000);
	assert_int_equal(c.poll.lost_ms, 40000);
	assert_int_equal(c.poll.min_gap_ms, 100); /* not a key: the poller's default */
	assert_int_equal(c.policy.max_charge_current_ma, 150000);
	assert_int_equal(c.policy.max_discharge_current_ma, 200500);
	assert_int_equal(c.policy.charge_cell_mv, 3450);
	assert_int_equal(c.policy.float_cell_mv, 3375);
	assert_int_equal(c.policy.rebulk_cell_mv, 3300);
	assert_int_equal(c.policy.min_cell_mv, 2900);
	assert_int_equal(c.policy.charge_min_temp_c, -5);
	assert_int_equal(c.policy.charge_max_temp_c, 45);
	assert_int_equal(c.policy.discharge_min_temp_c, -40);
	assert_int_equal(c.policy.discharge_max_temp_c, 90);
	assert_int_equal(c.policy.tail_current_ma, 2500);
	assert_int_equal(c.policy.max_absorption_ms, 5400000);
	assert_int_equal(c.policy.rebulk_soc_pct, 100);   /* uint8_t */
	assert_int_equal(c.policy.full_charge_days, 365); /* uint16_t */
	assert_true(c.policy.soc_taper);
	assert_false(c.policy.mosfet_control);
	assert_int_equal(c.policy.lost_discharge_ma, 10000);
	assert_int_equal(c.policy.lost_discharge_ms, 20000);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);

	/* A refused value leaves the field as it was; the neighbours too. */
	assert_int_equal(config_set(&c, "charge_cell_voltage", "4.6", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "charge_cell_voltage: invalid value '4.6' (expected 2..4.5 V)");
	assert_int_equal(c.policy.charge_cell_mv, 3450);
	assert_int_equal(config_set(&c, "charge_min_temperature", "-41", err, sizeof(err)), -EINVAL);
	assert_int_equal(c.policy.charge_min_temp_c, -5);
	assert_int_equal(config_set(&c, "rebulk_soc", "0", err, sizeof(err)), 0);
	assert_int_equal(c.policy.rebulk_soc_pct, 0);
	assert_int_equal(c.policy.full_charge_days, 365);
	assert_int_equal(c.policy.float_cell_mv, 3375);
}

static char warned[512];

static void warn(const char *line)
{
	g_strlcat(warned, line, sizeof(warned));
	g_strlcat(warned, "\n", sizeof(warned));
}

static void test_load(void **state)
{
	struct config c;
	char err[300];
	char *dir = g_dir_make_tmp("jkcfg-XXXXXX", NULL);
	char *path = g_build_filename(dir, "a.ini", NULL);

	(void)state;
	config_defaults(&c);
	assert_true(g_file_set_contents(path, "# comment\n[jkbms]\nbaud=9600\nlink_lost=60\ntypo_key=1\n[other]\nx=1\n",
					-1, NULL));
	warned[0] = '\0';
	assert_int_equal(config_load(&c, path, false, warn, err, sizeof(err)), 0);
	assert_int_equal(c.baud, 9600);
	assert_int_equal(c.poll.lost_ms, 60000);
	assert_non_null(strstr(warned, "unknown key 'typo_key' ignored"));
	assert_non_null(strstr(warned, "unknown group [other] ignored"));

	assert_true(g_file_set_contents(path, "[jkbms]\nlink_warning=-1\n", -1, NULL));
	assert_int_equal(config_load(&c, path, false, warn, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "link_warning: invalid value '-1'"));
	assert_true(g_file_set_contents(path, "this is not ini\n", -1, NULL));
	assert_int_equal(config_load(&c, path, false, warn, err, sizeof(err)), -EINVAL);

	char *missing = g_build_filename(dir, "missing.ini", NULL);

	assert_int_equal(config_load(&c, missing, true, warn, err, sizeof(err)), 0);
	assert_int_equal(config_load(&c, missing, false, warn, err, sizeof(err)), -ENOENT);
	unlink(path);
	rmdir(dir);
	g_free(missing);
	g_free(path);
	g_free(dir);
}

/* docs/charge-control.md "Loss of communication": link_warning >= 2 and
 * link_lost >= 3 poll intervals. */
static void test_check_timing(void **state)
{
	struct config c;
	char err[300];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	/* 45 s polls against the default 5 s / 30 s: both too short, both named. */
	assert_int_equal(config_set(&c, "poll_interval", "45", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "poll_interval = 45 s needs link_warning >= 90 s (is 5 s) and "
			    "link_lost >= 135 s (is 30 s)");
	/* The edges: exactly 2 and 3 intervals pass, 1 ms less fails. */
	config_defaults(&c);
	assert_int_equal(config_set(&c, "poll_interval", "2.5", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0); /* 5 s, 30 s */
	assert_int_equal(config_set(&c, "link_warning", "4.999", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "poll_interval = 2.5 s needs link_warning >= 5 s (2 polls; is 4.999 s)");
	assert_non_null(strstr(err, "link_warning"));
	config_defaults(&c);
	assert_int_equal(config_set(&c, "poll_interval", "10", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "link_warning", "20", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0); /* link_lost 30 = 3 x 10 */
	assert_int_equal(config_set(&c, "link_lost", "29.999", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "poll_interval = 10 s needs link_lost >= 30 s (3 polls; is 29.999 s)");
	/* The fastest polls against the smallest windows the keys allow. */
	config_defaults(&c);
	assert_int_equal(config_set(&c, "poll_interval", "0.1", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "link_warning", "1", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "link_lost", "2", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	/* The slowest polls can always be made consistent. */
	assert_int_equal(config_set(&c, "poll_interval", "60", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "link_warning", "120", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "link_lost", "180", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
}

/* The check sees the file and the overrides together: a file that is fine
 * on its own fails once a slower poll is set on top of it, and the reverse. */
static void test_check_after_load(void **state)
{
	static const char ini[] = "[jkbms]\npoll_interval=20\nlink_warning=40\nlink_lost=60\n";
	struct config c;
	char err[300];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_data(&c, ini, strlen(ini), "a.ini", NULL, err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "poll_interval", "21", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "poll_interval"));
	assert_non_null(strstr(err, "link_warning"));
	assert_non_null(strstr(err, "link_lost"));
	/* Loading alone does not check: the overrides may still fix it. */
	static const char slow[] = "[jkbms]\npoll_interval=45\n";

	config_defaults(&c);
	assert_int_equal(config_load_data(&c, slow, strlen(slow), "b.ini", NULL, err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set(&c, "poll_interval", "1", err, sizeof(err)), 0);
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
}

static void test_readme_documents_every_key(void **state)
{
	gchar *readme = NULL;

	(void)state;
	assert_true(g_file_get_contents(README_PATH, &readme, NULL, NULL));
	for (size_t i = 0; config_key_name(i); i++) {
		char *needle = g_strdup_printf("`%s`", config_key_name(i));

		if (!strstr(readme, needle))
			fail_msg("README.md does not document the configuration key %s", needle);
		g_free(needle);
	}
	/* And the rule across keys (docs/charge-control.md "Loss of communication"). */
	assert_non_null(strstr(readme, "at least 2 × `poll_interval`"));
	assert_non_null(strstr(readme, "at least 3 × `poll_interval`"));
	g_free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_protocol_keys),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_check_timing),
		cmocka_unit_test(test_check_after_load),
		cmocka_unit_test(test_readme_documents_every_key),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
