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

#include "policy.h"
#include "poller.h"

/* Where Venus OS keeps persistent configuration. */
#define CONFIG_DEFAULT_PATH "/data/conf/dbus-jkbms.ini"
#define CONFIG_GROUP "jkbms"

/* Which BMS family a port speaks (protocol). */
enum config_protocol {
	CONFIG_PROTOCOL_AUTO = 0, /* probe 4E 57, then PB */
	CONFIG_PROTOCOL_4E57,
	CONFIG_PROTOCOL_PB,
};

/* The service's own keys, then the poller's and the policy's configuration
 * as those modules take it: the key table writes straight into them, in
 * their units (mV, mA, ms, °C). Their defaults are the modules' own
 * (poller_config_default(), policy_config_default()); in policy, 0 (or
 * POLICY_UNSET_TEMP for a temperature) = derive from the BMS. */
struct config {
	unsigned baud;                   /* baud, 115200 */
	uint32_t probe_timeout_ms;       /* probe_timeout (s), 5: exit when no BMS answers */
	uint32_t leave_bus_after_ms;     /* leave_bus_after (s), 0 = never */
	int32_t device_instance;         /* device_instance, 1: preferred VRM instance */
	uint32_t settings_timeout_ms;    /* settings_timeout (s), 5 */
	bool properties_changed;         /* properties_changed, false */
	uint32_t ttg_floor_pct;          /* time_to_go_soc (%), 10 */
	char state_dir[160];             /* state_dir, /data/var/lib/dbus-jkbms */
	uint8_t protocol;                /* protocol, auto (enum config_protocol) */
	uint16_t pb_addresses;           /* pb_addresses, 1-15: bit n = address n */
	uint32_t pb_scan_interval_ms;    /* pb_scan_interval (s), 30: ask a missing address, 0 = never */
	bool bank;                       /* bank, false: a member of a bank (docs/bank.md) */
	uint32_t bank_packs;             /* bank_packs, 0: packs the bank expects (0 = any) */
	uint32_t bank_member_timeout_ms; /* bank_member_timeout (s), 30: a silent member is offline */
	/* poll_interval, reply_timeout, link_warning and link_lost (s) in
	 * interval_ms, reply_timeout_ms, warning_ms and lost_ms. */
	struct poller_config poll;
	/* The charge control keys (docs/charge-control.md), one field each. */
	struct policy_config policy;
};

/* Fill *cfg with the defaults: the service's own keys here, the poller's
 * and the policy's from poller_config_default() and policy_config_default(). */
void config_defaults(struct config *cfg);

/* Set one key from text, validated. Returns 0, or -EINVAL with a message
 * naming the key and the allowed range in err, or -ENOENT for an unknown key. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_size);

/* Load path. missing_ok: a file that does not exist is fine (the default
 * path). Unknown keys and groups are reported through warn (one line each,
 * may be NULL). Returns 0, or -errno with the reason in err (an unreadable
 * file, a syntax error, an invalid value naming the key). */
int config_load(struct config *cfg, const char *path, bool missing_ok, void (*warn)(const char *line), char *err,
		size_t err_size);

/* The same from text in memory (name labels the messages). */
int config_load_data(struct config *cfg, const char *data, size_t len, const char *name, void (*warn)(const char *line),
		     char *err, size_t err_size);

/* The rules across keys, checked once the file and the command line are
 * applied (docs/charge-control.md "Loss of communication"): link_warning
 * >= 2 x poll_interval and link_lost >= 3 x poll_interval. Returns 0, or
 * -EINVAL with a message in err naming poll_interval and the key that is
 * too short. */
int config_check(const struct config *cfg, char *err, size_t err_size);

/* Iterate the key table (for documentation checks): returns the name of
 * key i, or NULL past the end. */
const char *config_key_name(size_t i);

#endif
