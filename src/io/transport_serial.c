/* SPDX-License-Identifier: MIT */
/*
 * Real serial ports through libserialport: open, 8N1 at the given baud, no
 * flow control. Reads and writes then go through the port's fd (the shared
 * code in transport.c), which the main loop watches, as libserialport's
 * header recommends for programs with their own event loop.
 */
#include "transport_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>

/* libserialport's codes as negative errno. SP_ERR_FAIL carries the OS
 * error, readable only right after the failing call. */
int transport_sp_error(enum sp_return r);

int transport_sp_error(enum sp_return r)
{
	switch (r) {
	case SP_OK: return 0;
	case SP_ERR_ARG: return -ENODEV; /* also "device not found" in sysfs */
	case SP_ERR_FAIL: {
		int e = sp_last_error_code();

		return e > 0 ? -e : -EIO;
	}
	case SP_ERR_MEM: return -ENOMEM;
	case SP_ERR_SUPP: return -ENOTSUP;
	}
	return r > 0 ? 0 : -EIO;
}

static int serial_flush(struct transport *t)
{
	return transport_sp_error(sp_flush(t->priv, SP_BUF_INPUT));
}

static void serial_close(struct transport *t)
{
	sp_close(t->priv);
	sp_free_port(t->priv);
}

int transport_serial_open(const char *path, unsigned baud, struct transport **out)
{
	struct sp_port *port = NULL;
	int fd = -1;
	int ret;

	if (baud == 0 || baud > 4000000)
		return -EINVAL;
	ret = transport_sp_error(sp_get_port_by_name(path, &port));
	if (ret < 0)
		return ret;
	ret = transport_sp_error(sp_open(port, SP_MODE_READ_WRITE));
	if (ret < 0) {
		sp_free_port(port);
		return ret;
	}
	if ((ret = transport_sp_error(sp_set_baudrate(port, (int)baud))) < 0 ||
	    (ret = transport_sp_error(sp_set_bits(port, 8))) < 0 ||
	    (ret = transport_sp_error(sp_set_parity(port, SP_PARITY_NONE))) < 0 ||
	    (ret = transport_sp_error(sp_set_stopbits(port, 1))) < 0 ||
	    (ret = transport_sp_error(sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE))) < 0 ||
	    (ret = transport_sp_error(sp_get_port_handle(port, &fd))) < 0)
		goto fail;

	/* The main loop reads the fd directly: it must not block. */
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		goto fail;
	}

	struct transport *t = transport_alloc(fd, TRANSPORT_SERIAL);

	if (!t) {
		ret = -ENOMEM;
		goto fail;
	}
	t->priv = port;
	t->ops_flush = serial_flush;
	t->ops_close = serial_close;
	*out = t;
	return 0;
fail:
	sp_close(port);
	sp_free_port(port);
	return ret;
}

int transport_usb_serial(const char *path, char *buf, size_t size)
{
	struct sp_port *port = NULL;
	int ret = -ENOENT;

	if (sp_get_port_by_name(path, &port) != SP_OK)
		return -ENOENT;
	if (sp_get_port_transport(port) == SP_TRANSPORT_USB) {
		const char *serial = sp_get_port_usb_serial(port);

		if (serial && *serial && size > 0) {
			snprintf(buf, size, "%s", serial);
			ret = 0;
		}
	}
	sp_free_port(port);
	return ret;
}
