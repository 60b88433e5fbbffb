/* SPDX-License-Identifier: MIT */
/*
 * The battery's history kept across restarts (docs/dbus-paths.md
 * "History"): one key file per BMS, "<state_dir>/<uid>.history", naming the
 * BMS's unique id and the format's version and ending with a checksum of
 * everything before it, written crash-safely (file_atomic.h).
 */
#ifndef HISTORY_FILE_H
#define HISTORY_FILE_H

#include <stddef.h>

#include "history.h"

#define HISTORY_FILE_VERSION 1

/* Read path into *out. Returns 0; -ENOENT when there is no file; -EINVAL
 * when it must not be trusted (not a key file, a checksum that does not
 * match — a truncated or altered file —, another BMS's unique id, another
 * version, a value missing, malformed, out of range or implausible), with
 * the reason in err; -EIO when it cannot be read. *out is written only on
 * success. */
int history_file_load(const char *path, const char *uid, struct history_values *out, char *err, size_t err_size);

/* The same on the file's len bytes of text (any bytes). */
int history_file_parse(const char *text, size_t len, const char *uid, struct history_values *out, char *err,
		       size_t err_size);

/* Write path. Returns 0 or -errno with err filled. */
int history_file_save(const char *path, const char *uid, const struct history_values *v, char *err, size_t err_size);

#endif
