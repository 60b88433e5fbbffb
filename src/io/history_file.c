/* SPDX-License-Identifier: MIT */
/*
 * The history file (history_file.h) on GLib's key file:
 *
 *   [battery]
 *   uid=jkbms_...
 *   version=1
 *   [history]
 *   cells_known=true
 *   min_cell_mv=2950
 *   ...
 *   [check]
 *   sha256=<of every byte before "[check]">
 *
 * Every key is required; one table says which, of what kind and range.
 */
#include "history_file.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "file_atomic.h"

#define CHECK_GROUP "[check]\n"

enum kind {
	K_BOOL,
	K_U16,
	K_I16,
	K_U32,
	K_I64,
	K_DOUBLE
};

static const struct field {
	const char *key;
	enum kind kind;
	size_t off;
} fields[] = {
#define F(key, kind, member) \
	{ \
		key, kind, offsetof(struct history_values, member) \
	}
	F("cells_known", K_BOOL, have_cells),
	F("min_cell_mv", K_U16, min_cell_mv),
	F("max_cell_mv", K_U16, max_cell_mv),
	F("voltage_known", K_BOOL, have_voltage),
	F("min_mv", K_U32, min_mv),
	F("max_mv", K_U32, max_mv),
	F("temperature_known", K_BOOL, have_temp),
	F("min_temp_c", K_I16, min_temp_c),
	F("max_temp_c", K_I16, max_temp_c),
	F("drawn_ah", K_DOUBLE, drawn_ah),
	F("charged_wh", K_DOUBLE, charged_wh),
	F("discharged_wh", K_DOUBLE, discharged_wh),
	F("deepest_ah", K_DOUBLE, deepest_ah),
	F("last_ah", K_DOUBLE, last_ah),
	F("discharges_ah", K_DOUBLE, discharges_ah),
	F("discharges", K_U32, discharges),
	F("full_discharges", K_U32, full_discharges),
	F("empty_counted", K_BOOL, empty_counted),
	F("last_full", K_I64, last_full_wall_s),
	F("low_voltage_alarms", K_U32, low_voltage_alarms),
	F("high_voltage_alarms", K_U32, high_voltage_alarms),
#undef F
};

static void put(GKeyFile *kf, const struct field *f, const struct history_values *v)
{
	const char *p = (const char *)v + f->off;

	switch (f->kind) {
	case K_BOOL:
		g_key_file_set_boolean(kf, "history", f->key, *(const bool *)p);
		break;
	case K_U16:
		g_key_file_set_int64(kf, "history", f->key, *(const uint16_t *)p);
		break;
	case K_I16:
		g_key_file_set_int64(kf, "history", f->key, *(const int16_t *)p);
		break;
	case K_U32:
		g_key_file_set_int64(kf, "history", f->key, *(const uint32_t *)p);
		break;
	case K_I64:
		g_key_file_set_int64(kf, "history", f->key, *(const int64_t *)p);
		break;
	case K_DOUBLE:
		g_key_file_set_double(kf, "history", f->key, *(const double *)p);
		break;
	}
}

/* One value, range-checked for its kind. False with err filled. */
static bool get(GKeyFile *kf, const struct field *f, struct history_values *v, char *err, size_t err_size)
{
	static const int64_t lo[] = { [K_U16] = 0, [K_I16] = INT16_MIN, [K_U32] = 0, [K_I64] = 0 };
	static const int64_t hi[] = {
		[K_U16] = UINT16_MAX, [K_I16] = INT16_MAX, [K_U32] = UINT32_MAX, [K_I64] = INT64_MAX
	};
	char *p = (char *)v + f->off;
	GError *e = NULL;
	bool b = false;
	double d = 0;
	gint64 n = 0;

	if (f->kind == K_BOOL)
		b = g_key_file_get_boolean(kf, "history", f->key, &e);
	else if (f->kind == K_DOUBLE)
		d = g_key_file_get_double(kf, "history", f->key, &e);
	else
		n = g_key_file_get_int64(kf, "history", f->key, &e);
	if (e) {
		snprintf(err, err_size, "%s: %s", f->key, e->message);
		g_error_free(e);
		return false;
	}
	if ((f->kind == K_DOUBLE && !isfinite(d)) ||
	    (f->kind != K_BOOL && f->kind != K_DOUBLE && (n < lo[f->kind] || n > hi[f->kind]))) {
		snprintf(err, err_size, "%s out of range", f->key);
		return false;
	}
	switch (f->kind) {
	case K_BOOL:
		*(bool *)p = b;
		break;
	case K_U16:
		*(uint16_t *)p = (uint16_t)n;
		break;
	case K_I16:
		*(int16_t *)p = (int16_t)n;
		break;
	case K_U32:
		*(uint32_t *)p = (uint32_t)n;
		break;
	case K_I64:
		*(int64_t *)p = n;
		break;
	case K_DOUBLE:
		*(double *)p = d;
		break;
	}
	return true;
}

/* The text before the checksum group, if its checksum matches. */
static bool checked(const char *text, gsize len, gsize *body)
{
	const char *at = g_strrstr_len(text, (gssize)len, "\n" CHECK_GROUP);

	if (!at)
		return false;
	*body = (gsize)(at - text) + 1;
	gchar *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, *body);
	gchar *line = g_strdup_printf("%ssha256=%s\n", CHECK_GROUP, want);
	bool ok = len - *body == strlen(line) && memcmp(text + *body, line, strlen(line)) == 0;

	g_free(line);
	g_free(want);
	return ok;
}

static int parse(GKeyFile *kf, const char *uid, struct history_values *out, char *err, size_t err_size)
{
	struct history_values v;
	gchar *file_uid = g_key_file_get_string(kf, "battery", "uid", NULL);
	gint64 version = g_key_file_get_int64(kf, "battery", "version", NULL);
	bool ok = false;

	memset(&v, 0, sizeof(v));
	if (!file_uid || strcmp(file_uid, uid) != 0)
		snprintf(err, err_size, "written for another BMS (%s)", file_uid ? file_uid : "no uid");
	else if (version != HISTORY_FILE_VERSION)
		snprintf(err, err_size, "version %lld, expected %d", (long long)version, HISTORY_FILE_VERSION);
	else {
		ok = true;
		for (size_t k = 0; k < G_N_ELEMENTS(fields) && ok; k++)
			ok = get(kf, &fields[k], &v, err, err_size);
		if (ok && !history_values_plausible(&v)) {
			snprintf(err, err_size, "implausible values");
			ok = false;
		}
	}
	g_free(file_uid);
	if (!ok)
		return -EINVAL;
	*out = v;
	return 0;
}

int history_file_parse(const char *text, size_t len, const char *uid, struct history_values *out, char *err,
		       size_t err_size)
{
	GKeyFile *kf = g_key_file_new();
	gsize body = 0;
	int r;

	if (!checked(text, len, &body)) {
		snprintf(err, err_size, "checksum missing or wrong (truncated or altered)");
		r = -EINVAL;
	} else if (!g_key_file_load_from_data(kf, text, body, G_KEY_FILE_NONE, NULL)) {
		snprintf(err, err_size, "not a key file");
		r = -EINVAL;
	} else {
		r = parse(kf, uid, out, err, err_size);
	}
	g_key_file_free(kf);
	return r;
}

int history_file_load(const char *path, const char *uid, struct history_values *out, char *err, size_t err_size)
{
	char *text = NULL;
	size_t len = 0;
	int r = file_read_all(path, &text, &len, err, err_size);

	if (r < 0)
		return r;
	r = history_file_parse(text, len, uid, out, err, err_size);
	g_free(text);
	return r;
}

int history_file_save(const char *path, const char *uid, const struct history_values *v, char *err, size_t err_size)
{
	GKeyFile *kf = g_key_file_new();
	gsize len = 0;

	g_key_file_set_string(kf, "battery", "uid", uid);
	g_key_file_set_int64(kf, "battery", "version", HISTORY_FILE_VERSION);
	for (size_t k = 0; k < G_N_ELEMENTS(fields); k++)
		put(kf, &fields[k], v);
	gchar *body = g_key_file_to_data(kf, &len, NULL);
	gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)body, len);
	gchar *text = g_strdup_printf("%s%ssha256=%s\n", body, CHECK_GROUP, sum);
	int r = file_write_atomic(path, text, strlen(text), err, err_size);

	g_free(text);
	g_free(sum);
	g_free(body);
	g_key_file_free(kf);
	return r;
}
