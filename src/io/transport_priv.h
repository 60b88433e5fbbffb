/* SPDX-License-Identifier: MIT */
/*
 * Between the front of the transports (transport.c) and its back ends.
 * The front owns struct transport and its fd; it hands opening, dropping
 * input and closing to a back end through that back end's ops table. A
 * back end knows nothing of struct transport and calls nothing in
 * transport.c: calls go one way, from the front to the back ends.
 */
#ifndef TRANSPORT_PRIV_H
#define TRANSPORT_PRIV_H

#include "transport.h"

struct transport_ops {
	enum transport_kind kind;
	/* Open path at baud, 8N1, no flow control, the fd non-blocking.
	 * Returns 0 with *fd and *priv (the back end's own state) set, or
	 * -errno with nothing left open. */
	int (*open)(const char *path, unsigned baud, int *fd, void **priv);
	/* Drop unread input. 0 or -errno. */
	int (*flush_input)(int fd, void *priv);
	/* Close and release what open returned. */
	void (*close)(int fd, void *priv);
};

/* The libserialport back end (transport_serial.c), for real serial ports.
 * The termios one, for pseudo-terminals, is private to transport.c. */
extern const struct transport_ops transport_serial_ops;

#endif
