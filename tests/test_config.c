/* SPDX-License-Identifier: MIT */
/* Configuration keys: validation, file loading, and the README documenting every key. */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	assert_int_equal(c.poll_interval_ms, 1000);
	assert_int_equal(config_set(&c, "poll_interval", "0.5", err, sizeof(err)), 0);
	assert_int_equal(c.poll_interval_ms, 500);
	assert_int_equal(config_set(&c, "max_charge_current", "100.5", err, sizeof(err)), 0);
	assert_int_equal(c.max_charge_current_ma, 100500);
	assert_int_equal(config_set(&c, "properties_changed", "yes", err, sizeof(err)), 0);
	assert_true(c.properties_changed);
	assert_int_equal(config_set(&c, "device_instance", "12", err, sizeof(err)), 0);
	assert_int_equal(c.device_instance, 12);

	/* Refused values name the key and change nothing. */
	assert_int_equal(config_set(&c, "poll_interval", "abc", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "poll_interval: invalid value 'abc' (expected 0.1..60 s)");
	assert_int_equal(c.poll_interval_ms, 500);
	assert_int_equal(config_set(&c, "poll_interval", "nan", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set(&c, "poll_interval", "0.05", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set(&c, "baud", "9600.5", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "baud: invalid value '9600.5' (expected a whole number 1200..921600 baud)");
	assert_int_equal(config_set(&c, "properties_changed", "maybe", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "properties_changed: invalid value 'maybe' (expected true or false)");
	assert_int_equal(config_set(&c, "nonsense", "1", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown key 'nonsense'");
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
	assert_true(g_file_set_contents(path, "# comment\n[jkbms]\nbaud=9600\nlink_lost=60\ntypo_key=1\n[other]\nx=1\n", -1,
					NULL));
	warned[0] = '\0';
	assert_int_equal(config_load(&c, path, false, warn, err, sizeof(err)), 0);
	assert_int_equal(c.baud, 9600);
	assert_int_equal(c.link_lost_ms, 60000);
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

/* charge-control.md §9.7: link_warning >= 2 and link_lost >= 3 poll intervals. */
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
	assert_string_equal(err, "poll_interval = 45 s needs link_warning >= 90 s (is 5 s) and "
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
	/* And the rule across keys (charge-control.md §9.7). */
	assert_non_null(strstr(readme, "at least 2 × `poll_interval`"));
	assert_non_null(strstr(readme, "at least 3 × `poll_interval`"));
	g_free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_check_timing),
		cmocka_unit_test(test_check_after_load),
		cmocka_unit_test(test_readme_documents_every_key),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
