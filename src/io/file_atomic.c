/* SPDX-License-Identifier: MIT */
/* Crash-safe replacement of a file, and setting an untrusted one aside
 * (file_atomic.h). */
#include "file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(int e, const char *what, const char *path, char *err, size_t err_size)
{
	snprintf(err, err_size, "%s %s: %s", what, path, strerror(e));
	return -e;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is durable only once the folder's entry is on disk. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int file_write_atomic(const char *path, const char *data, size_t len, char *err, size_t err_size)
{
	gchar *dir = g_path_get_dirname(path);
	gchar *tmp = g_strconcat(path, ".tmp", NULL);
	int r = 0, fd;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		r = fail(errno, "cannot create", dir, err, err_size);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = fail(errno, "cannot create", tmp, err, err_size);
		goto out;
	}
	r = write_all(fd, data, len);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r) {
		fail(-r, "cannot write", tmp, err, err_size);
	} else if (rename(tmp, path) < 0) {
		r = fail(errno, "cannot rename to", path, err, err_size);
	} else {
		r = sync_dir(dir);
		if (r)
			fail(-r, "cannot sync", dir, err, err_size);
	}
	if (r)
		unlink(tmp); /* a rename that failed leaves it; nothing else reads it */
out:
	g_free(tmp);
	g_free(dir);
	return r;
}

int file_set_aside(const char *path, const char *suffix, char *err, size_t err_size)
{
	gchar *to = g_strconcat(path, suffix, NULL);
	int r = 0;

	if (rename(path, to) < 0)
		r = fail(errno, "cannot rename to", to, err, err_size);
	g_free(to);
	return r;
}

int file_read_all(const char *path, char **text, size_t *len, char *err, size_t err_size)
{
	gsize n = 0;
	GError *e = NULL;

	if (!g_file_get_contents(path, text, &n, &e)) {
		int r = e->code == G_FILE_ERROR_NOENT ? -ENOENT : -EIO;

		snprintf(err, err_size, "%s", e->message);
		g_error_free(e);
		return r;
	}
	*len = n;
	return 0;
}
