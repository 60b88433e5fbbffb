/* SPDX-License-Identifier: MIT */
/*
 * The front of the transports: struct transport, the reads and writes on
 * its fd (the fd the main loop watches), and the choice of a back end, to
 * which opening, dropping input and closing go through an ops table
 * (transport_priv.h). The termios back end, for pseudo-terminals, is here;
 * the libserialport one is transport_serial.c. Calls go one way only, from
 * this file to the back ends.
 */
#include "transport_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

struct transport {
	int fd;
	void *priv; /* the back end's state (libserialport: its struct sp_port) */
	const struct transport_ops *ops;
};

const char *transport_kind_name(enum transport_kind kind)
{
	switch (kind) {
	case TRANSPORT_SERIAL:
		return "libserialport";
	case TRANSPORT_TERMIOS:
		return "termios (pseudo-terminal)";
	}
	return "?";
}

bool transport_path_is_pty(const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real) || stat(real, &st) < 0 || !S_ISCHR(st.st_mode))
		return false;
	/* Unix98 pty secondaries are majors 136..143 (Documentation/admin-guide/devices.txt). */
	return strncmp(real, "/dev/pts/", 9) == 0 || (major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143);
}

/* The termios back end: open(2) and a raw termios setting, for the
 * pseudo-terminals libserialport cannot open. */

static int baud_to_speed(unsigned baud, speed_t *speed)
{
	static const struct {
		unsigned baud;
		speed_t speed;
	} table[] = {
		{ 1200, B1200 },     { 2400, B2400 },     { 4800, B4800 },     { 9600, B9600 },
		{ 19200, B19200 },   { 38400, B38400 },   { 57600, B57600 },   { 115200, B115200 },
		{ 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].baud == baud) {
			*speed = table[i].speed;
			return 0;
		}
	}
	return -EINVAL;
}

/* The -errno of the call that just failed, once fd is closed. */
static int close_failed(int fd)
{
	int e = -errno;

	close(fd);
	return e;
}

static int termios_open(const char *path, unsigned baud, int *fd_out, void **priv)
{
	speed_t speed;
	struct termios tio;

	*priv = NULL;
	if (baud_to_speed(baud, &speed) < 0)
		return -EINVAL;

	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &tio) < 0)
		return close_failed(fd);
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
	cfsetispeed(&tio, speed);
	cfsetospeed(&tio, speed);
	tio.c_cc[VMIN] = 1; /* with O_NONBLOCK: EAGAIN when empty, 0 only at hang-up */
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio) < 0)
		return close_failed(fd);
	*fd_out = fd;
	return 0;
}

static int termios_flush_input(int fd, void *priv)
{
	(void)priv;
	if (tcflush(fd, TCIFLUSH) == 0)
		return 0;
	if (errno != ENOTTY && errno != EINVAL)
		return -errno;
	/* Not a tty (a pipe): read and drop what is there. */
	uint8_t junk[256];

	while (read(fd, junk, sizeof(junk)) > 0)
		;
	return 0;
}

static void termios_close(int fd, void *priv)
{
	(void)priv;
	if (fd >= 0)
		close(fd);
}

static const struct transport_ops termios_ops = {
	.kind = TRANSPORT_TERMIOS,
	.open = termios_open,
	.flush_input = termios_flush_input,
	.close = termios_close,
};

/* The front. */

static int open_with(const struct transport_ops *ops, const char *path, unsigned baud, struct transport **out)
{
	int fd = -1;
	void *priv = NULL;
	int ret = ops->open(path, baud, &fd, &priv);

	if (ret < 0)
		return ret;

	struct transport *t = calloc(1, sizeof(*t));

	if (!t) {
		ops->close(fd, priv);
		return -ENOMEM;
	}
	t->fd = fd;
	t->priv = priv;
	t->ops = ops;
	*out = t;
	return 0;
}

int transport_termios_open(const char *path, unsigned baud, struct transport **out)
{
	return open_with(&termios_ops, path, baud, out);
}

int transport_serial_open(const char *path, unsigned baud, struct transport **out)
{
	return open_with(&transport_serial_ops, path, baud, out);
}

int transport_open(const char *path, unsigned baud, struct transport **out)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	/* libserialport needs /sys/class/tty/<name>, which a pty lacks
	 * (sigrokproject/libserialport#4): use termios for those. */
	if (transport_path_is_pty(path))
		return transport_termios_open(path, baud, out);
	return transport_serial_open(path, baud, out);
}

ssize_t transport_read(struct transport *t, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(t->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	/* 0 is "nothing now" on a tty with VMIN = 0 (libserialport's setting),
	 * so a hang-up is detected from POLLHUP/EIO instead. */
	if (n == 0)
		return -EAGAIN;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

int transport_write(struct transport *t, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(t->fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* 22-byte requests normally fit at once; wait briefly. */
			struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };
			int r = poll(&pfd, 1, 100);

			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int transport_flush_input(struct transport *t)
{
	return t->ops->flush_input(t->fd, t->priv);
}

int transport_fd(const struct transport *t)
{
	return t->fd;
}

enum transport_kind transport_get_kind(const struct transport *t)
{
	return t->ops->kind;
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	t->ops->close(t->fd, t->priv);
	free(t);
}
