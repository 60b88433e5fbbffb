/* SPDX-License-Identifier: MIT */
/* Configuration keys, their validation, the INI loader, and the checks
 * across keys once everything is applied. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_kind {
	KEY_UINT,    /* integer */
	KEY_INT,     /* signed integer */
	KEY_SECONDS, /* seconds (decimal) stored as ms */
	KEY_AMPS,    /* amperes (decimal) stored as mA */
	KEY_BOOL,
	KEY_VOLTS,     /* volts (decimal) stored as mV */
	KEY_TEMP,      /* whole degrees C, signed */
	KEY_MINUTES,   /* minutes (decimal) stored as ms */
	KEY_STRING,    /* text stored in a char array */
	KEY_PROTOCOL,  /* auto, 4e57 or pb into a uint8_t */
	KEY_ADDRESSES, /* PB addresses "1-15", "1,3,5-7" into a uint16_t mask */
};

struct key {
	const char *name;
	enum key_kind kind;
	size_t offset;
	size_t size;     /* of the field: 1, 2 or 4 bytes for numbers */
	double min, max; /* in the key's user unit */
	const char *unit;
};

#define K(n, kind, field, lo, hi, unit) \
	{ \
		n, kind, offsetof(struct config, field), sizeof(((struct config *)0)->field), lo, hi, unit \
	}

static const struct key keys[] = {
	K("baud", KEY_UINT, baud, 1200, 921600, "baud"),
	K("poll_interval", KEY_SECONDS, poll.interval_ms, 0.1, 60, "s"),
	K("reply_timeout", KEY_SECONDS, poll.reply_timeout_ms, 0.1, 5, "s"),
	K("probe_timeout", KEY_SECONDS, probe_timeout_ms, 1, 600, "s"),
	K("link_warning", KEY_SECONDS, poll.warning_ms, 1, 600, "s"),
	K("link_lost", KEY_SECONDS, poll.lost_ms, 2, 3600, "s"),
	K("leave_bus_after", KEY_SECONDS, leave_bus_after_ms, 0, 86400, "s"),
	K("device_instance", KEY_INT, device_instance, 0, 999, ""),
	K("settings_timeout", KEY_SECONDS, settings_timeout_ms, 0, 600, "s"),
	K("properties_changed", KEY_BOOL, properties_changed, 0, 1, ""),
	K("max_charge_current", KEY_AMPS, policy.max_charge_current_ma, 0, 2000, "A"),
	K("max_discharge_current", KEY_AMPS, policy.max_discharge_current_ma, 0, 2000, "A"),
	K("time_to_go_soc", KEY_UINT, ttg_floor_pct, 0, 99, "%"),
	K("charge_cell_voltage", KEY_VOLTS, policy.charge_cell_mv, 2.0, 4.5, "V"),
	K("float_cell_voltage", KEY_VOLTS, policy.float_cell_mv, 2.0, 4.5, "V"),
	K("rebulk_cell_voltage", KEY_VOLTS, policy.rebulk_cell_mv, 2.0, 4.5, "V"),
	K("min_cell_voltage", KEY_VOLTS, policy.min_cell_mv, 1.5, 4.0, "V"),
	K("charge_min_temperature", KEY_TEMP, policy.charge_min_temp_c, -40, 60, "C"),
	K("charge_max_temperature", KEY_TEMP, policy.charge_max_temp_c, -40, 90, "C"),
	K("discharge_min_temperature", KEY_TEMP, policy.discharge_min_temp_c, -40, 60, "C"),
	K("discharge_max_temperature", KEY_TEMP, policy.discharge_max_temp_c, -40, 90, "C"),
	K("tail_current", KEY_AMPS, policy.tail_current_ma, 0, 500, "A"),
	K("max_absorption_time", KEY_MINUTES, policy.max_absorption_ms, 1, 1440, "min"),
	K("rebulk_soc", KEY_UINT, policy.rebulk_soc_pct, 0, 100, "%"),
	K("full_charge_days", KEY_UINT, policy.full_charge_days, 0, 365, "days"),
	K("soc_taper", KEY_BOOL, policy.soc_taper, 0, 1, ""),
	K("mosfet_control", KEY_BOOL, policy.mosfet_control, 0, 1, ""),
	K("lost_discharge_current", KEY_AMPS, policy.lost_discharge_ma, 0, 2000, "A"),
	K("lost_discharge_time", KEY_SECONDS, policy.lost_discharge_ms, 0, 86400, "s"),
	K("state_dir", KEY_STRING, state_dir, 1, 159, "characters"),
	K("protocol", KEY_PROTOCOL, protocol, 0, 0, ""),
	K("pb_addresses", KEY_ADDRESSES, pb_addresses, 1, 15, ""),
	K("pb_scan_interval", KEY_SECONDS, pb_scan_interval_ms, 0, 3600, "s"),
	K("bank", KEY_BOOL, bank, 0, 1, ""),
	K("bank_packs", KEY_UINT, bank_packs, 0, 16, "packs"),
	K("bank_member_timeout", KEY_SECONDS, bank_member_timeout_ms, 2, 600, "s"),
};

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->baud = 115200;
	c->probe_timeout_ms = 5000;
	c->leave_bus_after_ms = 0;
	c->device_instance = 1;
	c->settings_timeout_ms = 5000;
	c->properties_changed = false;
	c->ttg_floor_pct = 10;
	c->bank_member_timeout_ms = 30000;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", "/data/var/lib/dbus-jkbms");
	c->protocol = CONFIG_PROTOCOL_AUTO;
	c->pb_addresses = 0xFFFE; /* 1..15 */
	c->pb_scan_interval_ms = 30000;
	poller_config_default(&c->poll);
	policy_config_default(&c->policy);
}

const char *config_key_name(size_t i)
{
	return i < sizeof(keys) / sizeof(keys[0]) ? keys[i].name : NULL;
}

static bool parse_number(const char *text, double *out)
{
	char *end;

	while (g_ascii_isspace(*text))
		text++;
	if (!*text)
		return false;
	double v = g_ascii_strtod(text, &end);

	while (g_ascii_isspace(*end))
		end++;
	if (*end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* The factor from the key's user unit to the stored one. */
static double scale(enum key_kind kind)
{
	switch (kind) {
	case KEY_SECONDS:
	case KEY_AMPS:
	case KEY_VOLTS:
		return 1000;
	case KEY_MINUTES:
		return 60000;
	case KEY_UINT:
	case KEY_INT:
	case KEY_TEMP:
	case KEY_BOOL:
	case KEY_STRING:
	case KEY_PROTOCOL:
	case KEY_ADDRESSES:
		break;
	}
	return 1;
}

/* Store a range-checked whole number into a field of 1, 2 or 4 bytes. A
 * signed field takes its two's complement through the unsigned type of
 * its width (the exact-width types guarantee it). */
static void store(char *field, size_t size, long v)
{
	if (size == sizeof(uint8_t))
		*(uint8_t *)field = (uint8_t)v;
	else if (size == sizeof(uint16_t))
		*(uint16_t *)field = (uint16_t)v;
	else
		*(uint32_t *)field = (uint32_t)v;
}

static int set_protocol(uint8_t *field, const struct key *k, const char *value, char *err, size_t n)
{
	static const char *const names[] = {
		[CONFIG_PROTOCOL_AUTO] = "auto", [CONFIG_PROTOCOL_4E57] = "4e57", [CONFIG_PROTOCOL_PB] = "pb"
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (g_ascii_strcasecmp(value, names[i]) == 0) {
			*field = (uint8_t)i;
			return 0;
		}
	}
	snprintf(err, n, "%s: invalid value '%s' (expected auto, 4e57 or pb)", k->name, value);
	return -EINVAL;
}

/* One address or a range a-b, within min..max. */
static bool parse_range(const char *item, const struct key *k, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a = strtoul(item, &end, 10), b = a;

	if (end == item || !g_ascii_isdigit(*item))
		return false;
	if (*end == '-') {
		const char *second = end + 1;

		if (!g_ascii_isdigit(*second))
			return false;
		b = strtoul(second, &end, 10);
	}
	if (*end || a > b || a < k->min || b > k->max)
		return false;
	*lo = (unsigned)a, *hi = (unsigned)b;
	return true;
}

/* "1-15", "1,3,5-7": comma-separated addresses and ranges. */
static int set_addresses(uint16_t *field, const struct key *k, const char *value, char *err, size_t n)
{
	gchar **items = g_strsplit(value, ",", -1);
	uint16_t mask = 0;
	bool ok = items[0] != NULL;

	for (gchar **it = items; *it && ok; it++) {
		unsigned lo = 0, hi = 0; /* set when parse_range() succeeds; gcc -Os cannot tell */

		g_strstrip(*it);
		ok = parse_range(*it, k, &lo, &hi);
		for (unsigned a = lo; ok && a <= hi; a++)
			mask |= (uint16_t)(1u << a);
	}
	g_strfreev(items);
	if (!ok) {
		snprintf(err, n, "%s: invalid value '%s' (expected addresses %g..%g, e.g. 1-15 or 1,3,5-7)", k->name,
			 value, k->min, k->max);
		return -EINVAL;
	}
	*field = mask;
	return 0;
}

static int set_key(struct config *c, const struct key *k, const char *value, char *err, size_t n)
{
	char *field = (char *)c + k->offset;
	double v;

	if (k->kind == KEY_PROTOCOL)
		return set_protocol((uint8_t *)field, k, value, err, n);
	if (k->kind == KEY_ADDRESSES)
		return set_addresses((uint16_t *)field, k, value, err, n);

	if (k->kind == KEY_BOOL) {
		if (g_ascii_strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
		    g_ascii_strcasecmp(value, "yes") == 0) {
			*(bool *)field = true;
			return 0;
		}
		if (g_ascii_strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
		    g_ascii_strcasecmp(value, "no") == 0) {
			*(bool *)field = false;
			return 0;
		}
		snprintf(err, n, "%s: invalid value '%s' (expected true or false)", k->name, value);
		return -EINVAL;
	}
	if (k->kind == KEY_STRING) {
		size_t len = strlen(value);

		if (len < k->min || len > k->max) {
			snprintf(err, n, "%s: invalid value '%s' (expected %g..%g %s)", k->name, value, k->min, k->max,
				 k->unit);
			return -EINVAL;
		}
		memcpy(field, value, len + 1);
		return 0;
	}
	/* Written as !(in range) so that NaN fails too. */
	if (!parse_number(value, &v) || !(v >= k->min && v <= k->max) ||
	    ((k->kind == KEY_UINT || k->kind == KEY_INT || k->kind == KEY_TEMP) && v != floor(v))) {
		bool whole = k->kind == KEY_UINT || k->kind == KEY_INT || k->kind == KEY_TEMP;

		snprintf(err, n, "%s: invalid value '%s' (expected %s%g..%g%s%s)", k->name, value,
			 whole ? "a whole number " : "", k->min, k->max, *k->unit ? " " : "", k->unit);
		return -EINVAL;
	}
	store(field, k->size, lround(v * scale(k->kind)));
	return 0;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t n)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) == 0)
			return set_key(c, &keys[i], value, err, n);
	}
	snprintf(err, n, "unknown key '%s'", key);
	return -ENOENT;
}

/* Apply a loaded key file; name labels the messages. */
static int apply(struct config *c, GKeyFile *kf, const char *name, void (*warn)(const char *line), char *err, size_t n)
{
	int ret = 0;
	gchar **groups = g_key_file_get_groups(kf, NULL);

	for (gchar **g = groups; *g && ret == 0; g++) {
		if (strcmp(*g, CONFIG_GROUP) != 0) {
			if (warn) {
				char line[256];

				snprintf(line, sizeof(line), "%s: unknown group [%s] ignored (keys belong in [%s])",
					 name, *g, CONFIG_GROUP);
				warn(line);
			}
			continue;
		}
		gchar **names = g_key_file_get_keys(kf, *g, NULL, NULL);

		for (gchar **k = names; *k && ret == 0; k++) {
			gchar *value = g_key_file_get_value(kf, *g, *k, NULL);
			char msg[200];
			int r = config_set(c, *k, value ? value : "", msg, sizeof(msg));

			if (r == -ENOENT) {
				if (warn) {
					char line[256];

					snprintf(line, sizeof(line), "%s: unknown key '%s' ignored", name, *k);
					warn(line);
				}
			} else if (r < 0) {
				snprintf(err, n, "%s: %s", name, msg);
				ret = r;
			}
			g_free(value);
		}
		g_strfreev(names);
	}
	g_strfreev(groups);
	return ret;
}

int config_load_data(struct config *c, const char *data, size_t len, const char *name, void (*warn)(const char *line),
		     char *err, size_t n)
{
	GKeyFile *kf = g_key_file_new();
	GError *e = NULL;
	int ret;

	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &e)) {
		snprintf(err, n, "%s: %s", name, e->message);
		g_error_free(e);
		g_key_file_free(kf);
		return -EINVAL;
	}
	ret = apply(c, kf, name, warn, err, n);
	g_key_file_free(kf);
	return ret;
}

int config_load(struct config *c, const char *path, bool missing_ok, void (*warn)(const char *line), char *err,
		size_t n)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *e = NULL;

	if (!g_file_get_contents(path, &data, &len, &e)) {
		bool missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
		int ret = 0;

		if (!(missing && missing_ok)) {
			snprintf(err, n, "%s: %s", path, e->message);
			ret = missing ? -ENOENT : -EINVAL;
		}
		g_error_free(e);
		return ret;
	}

	int ret = config_load_data(c, data, len, path, warn, err, n);

	g_free(data);
	return ret;
}

/* docs/charge-control.md "Loss of communication": the link must be able
 * to miss a poll before it warns, and two before it is lost. With
 * link_lost below a few poll intervals every slow poll would drop the
 * limits to 0 and bring them back: the link flaps lost/up forever
 * (poll_interval = 45 s against the default link_lost = 30 s). */
int config_check(const struct config *c, char *err, size_t n)
{
	uint64_t poll = c->poll.interval_ms;
	bool warning_ok = c->poll.warning_ms >= 2 * poll;
	bool lost_ok = c->poll.lost_ms >= 3 * poll;

	if (warning_ok && lost_ok)
		return 0;
	if (!warning_ok && !lost_ok)
		snprintf(err, n,
			 "poll_interval = %g s needs link_warning >= %g s (is %g s) and link_lost >= %g s (is %g s)",
			 poll / 1000.0, 2 * poll / 1000.0, c->poll.warning_ms / 1000.0, 3 * poll / 1000.0,
			 c->poll.lost_ms / 1000.0);
	else if (!warning_ok)
		snprintf(err, n, "poll_interval = %g s needs link_warning >= %g s (2 polls; is %g s)", poll / 1000.0,
			 2 * poll / 1000.0, c->poll.warning_ms / 1000.0);
	else
		snprintf(err, n, "poll_interval = %g s needs link_lost >= %g s (3 polls; is %g s)", poll / 1000.0,
			 3 * poll / 1000.0, c->poll.lost_ms / 1000.0);
	return -EINVAL;
}
