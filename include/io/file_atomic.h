/* SPDX-License-Identifier: MIT */
/*
 * The one place where the service replaces a file it keeps across restarts
 * (the state file, the history file): crash-safe, so that after a power cut
 * the file is either the old one or the new one, never a mix. And what is
 * done with a file that cannot be trusted: it is set aside, not deleted.
 */
#ifndef FILE_ATOMIC_H
#define FILE_ATOMIC_H

#include <stddef.h>

/* Replace path with len bytes of data: write them to "<path>.tmp", fsync
 * it, rename it over path, fsync the folder (created if missing). Returns 0
 * or -errno with err filled; path is untouched on failure. */
int file_write_atomic(const char *path, const char *data, size_t len, char *err, size_t err_size);

/* Read the whole of path into *text (g_free it; NUL-terminated) and its
 * length into *len. Returns 0, -ENOENT when there is no such file, or
 * -EIO with err filled. */
int file_read_all(const char *path, char **text, size_t *len, char *err, size_t err_size);

/* Rename path to "<path><suffix>" (replacing an older one there), so that
 * it is kept for a person to look at but never read again. Returns 0 or
 * -errno with err filled. */
int file_set_aside(const char *path, const char *suffix, char *err, size_t err_size);

#endif
