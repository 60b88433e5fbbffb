/* SPDX-License-Identifier: MIT */
/*
 * The state file (state_file.h) on GLib's key file:
 *
 *   [battery]
 *   uid=jkbms_...
 *   [charge]
 *   mode=Float
 *   last_full=1800000000
 *   [fet]
 *   charge_owned=true
 *   charge_forced=false
 *   charge_locked=false
 *   discharge_owned=false
 *   discharge_forced=false
 *   discharge_locked=false
 */
#include "state_file.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "file_atomic.h"

static const char *const fet_names[POLICY_FET_COUNT] = { "charge", "discharge" };

static bool parse_mode(const char *text, enum policy_mode *out)
{
	for (int m = POLICY_MODE_BULK; m <= POLICY_MODE_FLOAT; m++) {
		if (strcmp(text, policy_mode_name((enum policy_mode)m)) == 0) {
			*out = (enum policy_mode)m;
			return true;
		}
	}
	return false;
}

/* The first release wrote "mode=Float\nlast_full=N\n" without groups. */
static int load_legacy(const char *text, struct policy_persist *out)
{
	struct policy_persist p = *out;
	gchar **lines = g_strsplit(text, "\n", -1);
	bool any = false;

	for (gchar **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, "mode="))
			any |= parse_mode(*l + 5, &p.mode);
		else if (g_str_has_prefix(*l, "last_full="))
			p.last_full_wall_s = g_ascii_strtoll(*l + 10, NULL, 10);
	}
	g_strfreev(lines);
	if (!any)
		return -EINVAL;
	*out = p;
	return 0;
}

static int parse(GKeyFile *kf, const char *uid, struct policy_persist *out, char *err, size_t err_size)
{
	struct policy_persist p = *out;
	gchar *file_uid = g_key_file_get_string(kf, "battery", "uid", NULL);
	gchar *mode = g_key_file_get_string(kf, "charge", "mode", NULL);
	int r = 0;

	if (!file_uid || strcmp(file_uid, uid) != 0) {
		snprintf(err, err_size, "written for another BMS (%s)", file_uid ? file_uid : "no uid");
		r = -EINVAL;
	} else if (!mode || !parse_mode(mode, &p.mode)) {
		snprintf(err, err_size, "charge mode '%s' unknown", mode ? mode : "");
		r = -EINVAL;
	} else {
		p.last_full_wall_s = g_key_file_get_int64(kf, "charge", "last_full", NULL);
		for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_owned", fet_names[f]);
			p.fet_owned[f] = g_key_file_get_boolean(kf, "fet", key, NULL);
			snprintf(key, sizeof(key), "%s_forced", fet_names[f]);
			p.fet_forced[f] = g_key_file_get_boolean(kf, "fet", key, NULL);
			snprintf(key, sizeof(key), "%s_locked", fet_names[f]);
			p.fet_locked[f] = g_key_file_get_boolean(kf, "fet", key, NULL);
		}
		*out = p;
	}
	g_free(file_uid);
	g_free(mode);
	return r;
}

int state_file_load(const char *path, const char *uid, struct policy_persist *out, char *err, size_t err_size)
{
	char *text = NULL;
	size_t len = 0;
	int r = file_read_all(path, &text, &len, err, err_size);

	if (r < 0)
		return r;
	GKeyFile *kf = g_key_file_new();

	if (g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, NULL)) {
		r = parse(kf, uid, out, err, err_size);
	} else {
		r = load_legacy(text, out);
		if (r < 0)
			snprintf(err, err_size, "not a state file");
	}
	g_key_file_free(kf);
	g_free(text);
	return r;
}

int state_file_save(const char *path, const char *uid, const struct policy_persist *p, char *err, size_t err_size)
{
	GKeyFile *kf = g_key_file_new();
	int r;

	g_key_file_set_string(kf, "battery", "uid", uid);
	g_key_file_set_string(kf, "charge", "mode", policy_mode_name(p->mode));
	g_key_file_set_int64(kf, "charge", "last_full", p->last_full_wall_s);
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_owned", fet_names[f]);
		g_key_file_set_boolean(kf, "fet", key, p->fet_owned[f]);
		snprintf(key, sizeof(key), "%s_forced", fet_names[f]);
		g_key_file_set_boolean(kf, "fet", key, p->fet_forced[f]);
		snprintf(key, sizeof(key), "%s_locked", fet_names[f]);
		g_key_file_set_boolean(kf, "fet", key, p->fet_locked[f]);
	}
	gsize len = 0;
	gchar *data = g_key_file_to_data(kf, &len, NULL);

	r = file_write_atomic(path, data, len, err, err_size);
	g_free(data);
	g_key_file_free(kf);
	return r;
}
