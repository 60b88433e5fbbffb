/* SPDX-License-Identifier: MIT */
/*
 * A byte pipe to the BMS: real serial ports through libserialport,
 * pseudo-terminals (the simulator, socat) through plain termios because
 * libserialport cannot open them. Non-blocking; the caller watches
 * transport_fd() in its main loop. No protocol here. Also the system's list
 * of serial ports with their USB identity, so that nothing above this layer
 * needs libserialport.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum transport_kind {
	TRANSPORT_SERIAL,  /* libserialport */
	TRANSPORT_TERMIOS, /* open(2) + termios: pseudo-terminals */
};

struct transport;

/* Open path at baud (8N1, no flow control, non-blocking), choosing the
 * implementation: termios for a pseudo-terminal, libserialport otherwise.
 * Returns 0 with *out set, -ENOENT when path does not exist, -EINVAL for an
 * unsupported baud rate, or another -errno. */
int transport_open(const char *path, unsigned baud, struct transport **out);

/* The two back ends, for callers and tests that want one. */
int transport_serial_open(const char *path, unsigned baud, struct transport **out);
int transport_termios_open(const char *path, unsigned baud, struct transport **out);

/* True when path (after symlinks) is a pseudo-terminal. */
bool transport_path_is_pty(const char *path);

/* Read what is available: a positive count, -EAGAIN when nothing is (also
 * for a 0-byte read), or -errno (-EIO) when the device is gone. A hang-up
 * that reads as "nothing" shows as POLLHUP on transport_fd(). */
ssize_t transport_read(struct transport *t, void *buf, size_t len);

/* Write all of buf (waiting briefly for room). 0 or -errno. */
int transport_write(struct transport *t, const void *buf, size_t len);

/* Drop unread input. 0 or -errno. */
int transport_flush_input(struct transport *t);

int transport_fd(const struct transport *t);
enum transport_kind transport_get_kind(const struct transport *t);
const char *transport_kind_name(enum transport_kind kind);

/* Close and free; NULL is allowed. */
void transport_free(struct transport *t);

/* The USB serial number of the adapter behind path, if libserialport knows
 * one. Returns 0 with buf filled, or -ENOENT. */
int transport_usb_serial(const char *path, char *buf, size_t size);

/* Where a serial port sits. */
enum transport_bus {
	TRANSPORT_BUS_UNKNOWN,
	TRANSPORT_BUS_NATIVE, /* a UART of the machine itself */
	TRANSPORT_BUS_USB,    /* a USB adapter */
	TRANSPORT_BUS_BLUETOOTH,
};

/* One serial port of the system. A string is NULL when unknown; all are
 * valid only during the call that hands them over. */
struct transport_port_info {
	const char *name; /* the device: /dev/ttyUSB0 */
	const char *description;
	enum transport_bus bus;
	/* USB adapters only (0 and NULL otherwise, and when unknown): */
	unsigned usb_vid, usb_pid;
	const char *usb_manufacturer;
	const char *usb_product;
	const char *usb_serial;
};

typedef void (*transport_port_fn)(void *user_data, const struct transport_port_info *port);

/* Call fn for each serial port of the system, in the system's order.
 * Returns the number of ports, or -errno when they cannot be listed (fn
 * is then not called). */
int transport_list_ports(transport_port_fn fn, void *user_data);

#endif /* TRANSPORT_H */
