/* SPDX-License-Identifier: MIT */
/* Internals shared by transport.c and transport_serial.c. */
#ifndef TRANSPORT_PRIV_H
#define TRANSPORT_PRIV_H

#include <stdint.h>

#include "transport.h"

struct transport {
	int fd;
	enum transport_kind kind;
	void *priv;                            /* struct sp_port * for libserialport */
	int (*ops_flush)(struct transport *t); /* NULL: tcflush */
	void (*ops_close)(struct transport *t); /* NULL: close(fd) */
};

struct transport *transport_alloc(int fd, enum transport_kind kind);

#endif
