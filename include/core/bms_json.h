/* SPDX-License-Identifier: MIT */
/*
 * A decoded snapshot as one JSON object, in SI units with the unit in each
 * key (the format of `dbus-jkbms --decode` and `--once --json`, documented in
 * README.md). Pure; writes into a caller buffer.
 */
#ifndef BMS_JSON_H
#define BMS_JSON_H

#include <stddef.h>

#include "bms_types.h"

/* Large enough for 32 cells and every field. */
#define BMS_JSON_MAX 8192

/* Write the JSON object (no trailing newline) into buf. Returns its length,
 * or -ENOSPC when size is too small (buf then holds a truncated string). */
int bms_json_format(const struct bms_snapshot *s, char *buf, size_t size);

#endif /* BMS_JSON_H */
