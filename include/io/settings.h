/* SPDX-License-Identifier: MIT */
/*
 * Client of com.victronenergy.settings (localsettings): the device instance
 * (/Settings/Devices/<uid>/ClassAndVrmInstance) and the persisted
 * /CustomName, through AddSettings (docs/dbus-paths.md "Localsettings").
 * Asynchronous: waits for the settings service to appear without blocking
 * the main loop.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>

#define SETTINGS_SERVICE "com.victronenergy.settings"

/* Longest custom name (characters) taken from the settings; SetValue on
 * /CustomName allows the same. */
#define SETTINGS_CUSTOM_NAME_MAX 32

struct settings_client;

/* from_settings: false when the settings service did not answer in time (or
 * refused) and instance is the preferred one. custom_name may be "". */
typedef void (*settings_result_fn)(void *user_data, int instance, const char *custom_name, bool from_settings);

/* conn is borrowed and must outlive the client. */
struct settings_client *settings_client_new(DBusConnection *conn);
void settings_client_free(struct settings_client *sc);

/* Ask for the instance of device uid ([A-Za-z0-9_]) in class cls, preferring
 * `preferred`, waiting up to timeout_ms for the service. cb is called once. */
void settings_client_request(struct settings_client *sc, const char *cls, const char *uid, int preferred,
			     uint32_t timeout_ms, settings_result_fn cb, void *user_data);

/* Store the custom name (after a successful request); fire and forget. */
void settings_client_set_custom_name(struct settings_client *sc, const char *name);

#endif
