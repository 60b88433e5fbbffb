/* SPDX-License-Identifier: MIT */
/*
 * The history file (src/io/history_file.c) and the crash-safe write it
 * shares with the state file (src/io/file_atomic.c), on real files: a round
 * trip keeps every value exactly, and every file that must not be trusted
 * is refused with its reason — garbage, a truncated file, an altered value,
 * another BMS's, another version, a value out of range or implausible (the
 * last three with a correct checksum, so the check behind it is reached).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "file_atomic.h"
#include "history_file.h"

#define UID "jkbms_Armins__"

struct dir {
	gchar *path, *file;
};

static struct dir mkdir_tmp(void)
{
	struct dir d;

	d.path = g_dir_make_tmp("histfile-XXXXXX", NULL);
	assert_non_null(d.path);
	d.file = g_build_filename(d.path, "sub", UID ".history", NULL); /* the folder is created */
	return d;
}

static void rm_dir(struct dir *d)
{
	gchar *cmd = g_strdup_printf("rm -rf '%s'", d->path);

	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	g_free(d->file);
	g_free(d->path);
}

static struct history_values sample(void)
{
	struct history_values v;

	memset(&v, 0, sizeof(v));
	v.have_cells = v.have_voltage = v.have_temp = true;
	v.min_cell_mv = 2901, v.max_cell_mv = 3612;
	v.min_mv = 46512, v.max_mv = 57444;
	v.min_temp_c = -7, v.max_temp_c = 41;
	v.drawn_ah = 1234.5678901234567;
	v.charged_wh = 98765.43210987654;
	v.discharged_wh = 0.1 + 0.2;
	v.deepest_ah = 250.125, v.last_ah = 80.5;
	v.discharges = 3, v.discharges_ah = 400.75;
	v.full_discharges = 2, v.empty_counted = true;
	v.last_full_wall_s = 1800000123;
	v.low_voltage_alarms = 4, v.high_voltage_alarms = 4000000000u;
	return v;
}

static void round_trip(void **state)
{
	struct dir d = mkdir_tmp();
	struct history_values v = sample(), back;
	char err[256];

	(void)state;
	assert_int_equal(history_file_load(d.file, UID, &back, err, sizeof(err)), -ENOENT);
	assert_int_equal(history_file_save(d.file, UID, &v, err, sizeof(err)), 0);
	gchar *tmp = g_strconcat(d.file, ".tmp", NULL);

	assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS)); /* renamed into place */
	g_free(tmp);
	memset(&back, 0xAA, sizeof(back));
	assert_int_equal(history_file_load(d.file, UID, &back, err, sizeof(err)), 0);
	assert_true(back.drawn_ah == v.drawn_ah && back.charged_wh == v.charged_wh &&
		    back.discharged_wh == v.discharged_wh && back.deepest_ah == v.deepest_ah &&
		    back.last_ah == v.last_ah && back.discharges_ah == v.discharges_ah);
	assert_int_equal(back.min_cell_mv, 2901);
	assert_int_equal(back.max_mv, 57444);
	assert_int_equal(back.min_temp_c, -7);
	assert_int_equal(back.high_voltage_alarms, 4000000000u);
	assert_int_equal(back.last_full_wall_s, 1800000123);
	assert_true(back.empty_counted && back.have_temp);
	/* A second save replaces the first. */
	v.full_discharges = 9;
	assert_int_equal(history_file_save(d.file, UID, &v, err, sizeof(err)), 0);
	assert_int_equal(history_file_load(d.file, UID, &back, err, sizeof(err)), 0);
	assert_int_equal(back.full_discharges, 9);
	rm_dir(&d);
}

/* Replace `from` by `to` in the file and give it a correct checksum again. */
static void rewrite(const char *path, const char *from, const char *to)
{
	gchar *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	char *check = strstr(text, "[check]\n");

	assert_non_null(check);
	*check = '\0';
	assert_non_null(strstr(text, from));
	gchar **parts = g_strsplit(text, from, 2);
	gchar *body = g_strjoin(to, parts[0], parts[1], NULL);
	gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, body, -1);
	gchar *out = g_strdup_printf("%s[check]\nsha256=%s\n", body, sum);

	assert_true(g_file_set_contents(path, out, -1, NULL));
	g_free(out);
	g_free(sum);
	g_free(body);
	g_strfreev(parts);
	g_free(text);
}

/* Save the sample, damage the file with `damage`, expect -EINVAL and a
 * reason containing `why`, and *out untouched. */
static void refused(void (*damage)(const char *path), const char *why)
{
	struct dir d = mkdir_tmp();
	struct history_values v = sample(), back;
	char err[256] = "";

	assert_int_equal(history_file_save(d.file, UID, &v, err, sizeof(err)), 0);
	damage(d.file);
	memset(&back, 0x5A, sizeof(back));
	struct history_values untouched = back;

	assert_int_equal(history_file_load(d.file, UID, &back, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("reason '%s', want '%s'", err, why);
	assert_memory_equal(&back, &untouched, sizeof(back));
	rm_dir(&d);
}

static void garbage(const char *p)
{
	assert_true(g_file_set_contents(p, "\x01\x02 not a history \xff", -1, NULL));
}

static void truncated(const char *p)
{
	gchar *text = NULL;
	gsize len = 0;

	assert_true(g_file_get_contents(p, &text, &len, NULL));
	assert_true(g_file_set_contents(p, text, (gssize)(len / 2), NULL));
	g_free(text);
}

static void cut_last_byte(const char *p)
{
	gchar *text = NULL;
	gsize len = 0;

	assert_true(g_file_get_contents(p, &text, &len, NULL));
	assert_true(g_file_set_contents(p, text, (gssize)len - 1, NULL));
	g_free(text);
}

static void altered(const char *p)
{
	gchar *text = NULL;

	assert_true(g_file_get_contents(p, &text, NULL, NULL));
	char *at = strstr(text, "full_discharges=2");

	assert_non_null(at);
	at[16] = '7'; /* hand-edited, checksum left */
	assert_true(g_file_set_contents(p, text, -1, NULL));
	g_free(text);
}

static void foreign(const char *p)
{
	rewrite(p, "uid=" UID, "uid=jkbms_Armins");
}

static void version(const char *p)
{
	rewrite(p, "version=1", "version=2");
}

static void negative(const char *p)
{
	rewrite(p, "low_voltage_alarms=4", "low_voltage_alarms=-4");
}

static void missing_key(const char *p)
{
	rewrite(p, "empty_counted=true\n", "");
}

static void implausible(const char *p)
{
	rewrite(p, "last_ah=80.5", "last_ah=300"); /* deeper than the deepest */
}

static void not_a_number(const char *p)
{
	rewrite(p, "drawn_ah=", "drawn_ah=nan");
}

static void refusals(void **state)
{
	(void)state;
	refused(garbage, "checksum");
	refused(truncated, "checksum");
	refused(cut_last_byte, "checksum");
	refused(altered, "checksum");
	refused(foreign, "another BMS (jkbms_Armins)");
	refused(version, "version 2");
	refused(negative, "low_voltage_alarms out of range");
	refused(missing_key, "empty_counted");
	refused(implausible, "implausible");
	refused(not_a_number, "drawn_ah");
}

static void atomic_and_aside(void **state)
{
	struct dir d = mkdir_tmp();
	char err[256];
	gchar *text = NULL;

	(void)state;
	assert_int_equal(file_write_atomic(d.file, "one", 3, err, sizeof(err)), 0);
	assert_int_equal(file_write_atomic(d.file, "two!", 4, err, sizeof(err)), 0);
	assert_true(g_file_get_contents(d.file, &text, NULL, NULL));
	assert_string_equal(text, "two!");
	g_free(text);
	assert_int_equal(file_set_aside(d.file, ".bad", err, sizeof(err)), 0);
	assert_false(g_file_test(d.file, G_FILE_TEST_EXISTS));
	gchar *bad = g_strconcat(d.file, ".bad", NULL);

	assert_true(g_file_get_contents(bad, &text, NULL, NULL));
	assert_string_equal(text, "two!");
	g_free(text);
	g_free(bad);
	/* A folder that cannot be created: an error naming it, nothing else. */
	assert_true(g_file_set_contents(d.file, "x", -1, NULL));
	gchar *under_file = g_build_filename(d.file, "h.history", NULL);

	assert_true(file_write_atomic(under_file, "y", 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(file_set_aside(under_file, ".bad", err, sizeof(err)) < 0, 1);
	g_free(under_file);
	rm_dir(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refusals),
		cmocka_unit_test(atomic_and_aside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
