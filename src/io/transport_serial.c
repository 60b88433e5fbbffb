/* SPDX-License-Identifier: MIT */
/*
 * The libserialport back end, and the only user of libserialport: real
 * serial ports opened 8N1 at the given baud without flow control, the
 * system's list of ports, and the USB identity of an adapter. After opening,
 * the front (transport.c) reads and writes the port's fd, which the main
 * loop watches, as libserialport's header recommends for programs with
 * their own event loop. Nothing here calls into transport.c.
 */
#include "transport_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>

/* libserialport's codes as negative errno. SP_ERR_FAIL carries the OS
 * error, readable only right after the failing call. */
static int sp_error(enum sp_return r)
{
	switch (r) {
	case SP_OK:
		return 0;
	case SP_ERR_ARG:
		return -ENODEV; /* also "device not found" in sysfs */
	case SP_ERR_FAIL: {
		int e = sp_last_error_code();

		return e > 0 ? -e : -EIO;
	}
	case SP_ERR_MEM:
		return -ENOMEM;
	case SP_ERR_SUPP:
		return -ENOTSUP;
	}
	return r > 0 ? 0 : -EIO;
}

static int serial_open(const char *path, unsigned baud, int *fd_out, void **priv)
{
	struct sp_port *port = NULL;
	int fd = -1;
	int ret;

	if (baud == 0 || baud > 4000000)
		return -EINVAL;
	ret = sp_error(sp_get_port_by_name(path, &port));
	if (ret < 0)
		return ret;
	ret = sp_error(sp_open(port, SP_MODE_READ_WRITE));
	if (ret < 0) {
		sp_free_port(port);
		return ret;
	}
	if ((ret = sp_error(sp_set_baudrate(port, (int)baud))) < 0 || (ret = sp_error(sp_set_bits(port, 8))) < 0 ||
	    (ret = sp_error(sp_set_parity(port, SP_PARITY_NONE))) < 0 ||
	    (ret = sp_error(sp_set_stopbits(port, 1))) < 0 ||
	    (ret = sp_error(sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE))) < 0 ||
	    (ret = sp_error(sp_get_port_handle(port, &fd))) < 0)
		goto fail;

	/* The main loop reads the fd directly: it must not block. */
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		goto fail;
	}
	*fd_out = fd;
	*priv = port;
	return 0;
fail:
	sp_close(port);
	sp_free_port(port);
	return ret;
}

static int serial_flush_input(int fd, void *priv)
{
	(void)fd;
	return sp_error(sp_flush(priv, SP_BUF_INPUT));
}

/* sp_close closes the fd as well. */
static void serial_close(int fd, void *priv)
{
	(void)fd;
	sp_close(priv);
	sp_free_port(priv);
}

const struct transport_ops transport_serial_ops = {
	.kind = TRANSPORT_SERIAL,
	.open = serial_open,
	.flush_input = serial_flush_input,
	.close = serial_close,
};

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

/* NULL for what libserialport does not know (NULL or ""). */
static const char *known(const char *s)
{
	return s && *s ? s : NULL;
}

static enum transport_bus bus_of(enum sp_transport t)
{
	switch (t) {
	case SP_TRANSPORT_NATIVE:
		return TRANSPORT_BUS_NATIVE;
	case SP_TRANSPORT_USB:
		return TRANSPORT_BUS_USB;
	case SP_TRANSPORT_BLUETOOTH:
		return TRANSPORT_BUS_BLUETOOTH;
	}
	return TRANSPORT_BUS_UNKNOWN;
}

static void port_info(struct sp_port *p, struct transport_port_info *info)
{
	*info = (struct transport_port_info){
		.name = sp_get_port_name(p),
		.description = known(sp_get_port_description(p)),
		.bus = bus_of(sp_get_port_transport(p)),
	};
	if (info->bus != TRANSPORT_BUS_USB)
		return;

	int vid = 0, pid = 0;

	if (sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK && vid >= 0 && pid >= 0) {
		info->usb_vid = (unsigned)vid;
		info->usb_pid = (unsigned)pid;
	}
	info->usb_manufacturer = known(sp_get_port_usb_manufacturer(p));
	info->usb_product = known(sp_get_port_usb_product(p));
	info->usb_serial = known(sp_get_port_usb_serial(p));
}

int transport_list_ports(transport_port_fn fn, void *user_data)
{
	struct sp_port **ports = NULL;
	int ret = sp_error(sp_list_ports(&ports));

	if (ret < 0)
		return ret;

	int n = 0;

	for (; ports[n]; n++) {
		struct transport_port_info info;

		port_info(ports[n], &info);
		fn(user_data, &info);
	}
	sp_free_port_list(ports);
	return n;
}
