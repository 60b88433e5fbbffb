/* SPDX-License-Identifier: MIT */
/*
 * The charge-control state that survives a restart (docs/charge-control.md
 * "What survives a restart"): one key file per BMS in the state directory,
 * naming the BMS's unique id, written crash-safely (file_atomic.h).
 */
#ifndef STATE_FILE_H
#define STATE_FILE_H

#include <stddef.h>

#include "policy.h"

/* Read path into *out. A file written for another BMS (uid differs), or
 * one that cannot be parsed, is not trusted: *out is left as it was, and
 * the reason is in err. Returns 0, -ENOENT when there is no file, or
 * -EINVAL/-EIO with err filled. A file of the first release (mode and
 * last_full only) is read too. */
int state_file_load(const char *path, const char *uid, struct policy_persist *out, char *err, size_t err_size);

/* Write path (creating its folder). Returns 0 or -errno with err filled. */
int state_file_save(const char *path, const char *uid, const struct policy_persist *p, char *err, size_t err_size);

#endif
