/* SPDX-License-Identifier: MIT */
/*
 * The service configuration: defaults, an INI file (GLib key file, group
 * [jkbms]) and command-line overrides, all validated by one key table. An
 * unknown key is a warning naming it; an invalid value is an error naming
 * it. Every key is documented in README.md.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where Venus OS keeps persistent configuration. */
#define CONFIG_DEFAULT_PATH "/data/conf/dbus-jkbms.ini"
#define CONFIG_GROUP "jkbms"

struct config {
	unsigned baud;                 /* baud, 115200 */
	uint32_t poll_interval_ms;     /* poll_interval (s), 1 */
	uint32_t reply_timeout_ms;     /* reply_timeout (s), 0.5 */
	uint32_t probe_timeout_ms;     /* probe_timeout (s), 5: exit when no BMS answers */
	uint32_t link_warning_ms;      /* link_warning (s), 5 */
	uint32_t link_lost_ms;         /* link_lost (s), 30 */
	uint32_t leave_bus_after_ms;   /* leave_bus_after (s), 0 = never */
	int32_t device_instance;       /* device_instance, 1: preferred VRM instance */
	uint32_t settings_timeout_ms;  /* settings_timeout (s), 5 */
	bool properties_changed;       /* properties_changed, false */
	uint32_t max_charge_current_ma;    /* max_charge_current (A), 0 = from the BMS */
	uint32_t max_discharge_current_ma; /* max_discharge_current (A), 0 = from the BMS */
	uint32_t ttg_floor_pct;        /* time_to_go_soc (%), 10 */
	/* Charge control (charge-control.md); 0 / CONFIG_UNSET_TEMP = derive
	 * from the BMS's protection settings. */
	uint16_t charge_cell_mv;       /* charge_cell_voltage (V) */
	uint16_t float_cell_mv;        /* float_cell_voltage (V) */
	uint16_t rebulk_cell_mv;       /* rebulk_cell_voltage (V) */
	uint16_t min_cell_mv;          /* min_cell_voltage (V) */
	int16_t charge_min_temp_c;     /* charge_min_temperature (C) */
	int16_t charge_max_temp_c;     /* charge_max_temperature (C) */
	int16_t discharge_min_temp_c;  /* discharge_min_temperature (C) */
	int16_t discharge_max_temp_c;  /* discharge_max_temperature (C) */
	uint32_t tail_current_ma;      /* tail_current (A) */
	uint32_t max_absorption_ms;    /* max_absorption_time (min), 120 */
	uint32_t rebulk_soc_pct;       /* rebulk_soc (%), 0 = off */
	uint32_t full_charge_days;     /* full_charge_days, 0 = off */
	bool soc_taper;                /* soc_taper, false */
	bool mosfet_control;           /* mosfet_control, true */
	uint32_t lost_discharge_ma;    /* lost_discharge_current (A), 0 = off */
	uint32_t lost_discharge_ms;    /* lost_discharge_time (s), 600 */
	char state_dir[160];           /* state_dir, /data/var/lib/dbus-jkbms */
};

#define CONFIG_UNSET_TEMP INT16_MIN

/* Fill *cfg with the defaults. */
void config_defaults(struct config *cfg);

/* Set one key from text, validated. Returns 0, or -EINVAL with a message
 * naming the key and the allowed range in err, or -ENOENT for an unknown key. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_size);

/* Load path. missing_ok: a file that does not exist is fine (the default
 * path). Unknown keys and groups are reported through warn (one line each,
 * may be NULL). Returns 0, or -errno with the reason in err (an unreadable
 * file, a syntax error, an invalid value naming the key). */
int config_load(struct config *cfg, const char *path, bool missing_ok, void (*warn)(const char *line),
		char *err, size_t err_size);

/* The same from text in memory (name labels the messages). */
int config_load_data(struct config *cfg, const char *data, size_t len, const char *name,
		     void (*warn)(const char *line), char *err, size_t err_size);

/* The rules across keys, checked once the file and the command line are
 * applied (charge-control.md §9.7): link_warning >= 2 x poll_interval and
 * link_lost >= 3 x poll_interval. Returns 0, or -EINVAL with a message in
 * err naming poll_interval and the key that is too short. */
int config_check(const struct config *cfg, char *err, size_t err_size);

/* Iterate the key table (for documentation checks): returns the name of
 * key i, or NULL past the end. */
const char *config_key_name(size_t i);

#endif
