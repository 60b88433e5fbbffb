/* SPDX-License-Identifier: MIT */
/*
 * libserialport error paths, the port list (transport_list_ports) and the
 * --list-ports output, with libserialport replaced by linker-wrapped mocks
 * (-Wl,--wrap=sp_...). The real device path needs a USB adapter;
 * pseudo-terminals are covered by test_link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libserialport.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tool_link.h"
#include "transport.h"

/* The mock port handles are just distinct addresses. */
static char port_a, port_b;
static int freed, closed, flushed;
static int handle_fd = -1;
static int last_error = 0;
static enum sp_return fail_at_open, fail_at_get, fail_at_baud, fail_at_list;
static const char *usb_serial; /* the USB adapter's serial number */

enum sp_return __wrap_sp_get_port_by_name(const char *name, struct sp_port **out);
enum sp_return __wrap_sp_open(struct sp_port *p, enum sp_mode m);
enum sp_return __wrap_sp_set_baudrate(struct sp_port *p, int b);
enum sp_return __wrap_sp_set_bits(struct sp_port *p, int b);
enum sp_return __wrap_sp_set_parity(struct sp_port *p, enum sp_parity x);
enum sp_return __wrap_sp_set_stopbits(struct sp_port *p, int s);
enum sp_return __wrap_sp_set_flowcontrol(struct sp_port *p, enum sp_flowcontrol f);
enum sp_return __wrap_sp_get_port_handle(const struct sp_port *p, void *h);
enum sp_return __wrap_sp_close(struct sp_port *p);
void __wrap_sp_free_port(struct sp_port *p);
int __wrap_sp_last_error_code(void);
enum sp_return __wrap_sp_flush(struct sp_port *p, enum sp_buffer b);
enum sp_return __wrap_sp_list_ports(struct sp_port ***list);
void __wrap_sp_free_port_list(struct sp_port **list);
char *__wrap_sp_get_port_name(const struct sp_port *p);
char *__wrap_sp_get_port_description(const struct sp_port *p);
enum sp_transport __wrap_sp_get_port_transport(const struct sp_port *p);
enum sp_return __wrap_sp_get_port_usb_vid_pid(const struct sp_port *p, int *vid, int *pid);
char *__wrap_sp_get_port_usb_manufacturer(const struct sp_port *p);
char *__wrap_sp_get_port_usb_product(const struct sp_port *p);
char *__wrap_sp_get_port_usb_serial(const struct sp_port *p);

enum sp_return __wrap_sp_get_port_by_name(const char *name, struct sp_port **out)
{
	(void)name;
	if (fail_at_get)
		return fail_at_get;
	*out = (struct sp_port *)&port_a;
	return SP_OK;
}

enum sp_return __wrap_sp_open(struct sp_port *p, enum sp_mode m)
{
	assert_ptr_equal(p, &port_a);
	assert_int_equal(m, SP_MODE_READ_WRITE);
	return fail_at_open;
}

enum sp_return __wrap_sp_set_baudrate(struct sp_port *p, int b)
{
	(void)p;
	assert_int_equal(b, 115200);
	return fail_at_baud;
}

enum sp_return __wrap_sp_set_bits(struct sp_port *p, int b)
{
	(void)p;
	assert_int_equal(b, 8);
	return SP_OK;
}

enum sp_return __wrap_sp_set_parity(struct sp_port *p, enum sp_parity x)
{
	(void)p;
	assert_int_equal(x, SP_PARITY_NONE);
	return SP_OK;
}

enum sp_return __wrap_sp_set_stopbits(struct sp_port *p, int s)
{
	(void)p;
	assert_int_equal(s, 1);
	return SP_OK;
}

enum sp_return __wrap_sp_set_flowcontrol(struct sp_port *p, enum sp_flowcontrol f)
{
	(void)p;
	assert_int_equal(f, SP_FLOWCONTROL_NONE);
	return SP_OK;
}

enum sp_return __wrap_sp_get_port_handle(const struct sp_port *p, void *h)
{
	(void)p;
	*(int *)h = handle_fd;
	return SP_OK;
}

enum sp_return __wrap_sp_close(struct sp_port *p)
{
	(void)p;
	closed++;
	if (handle_fd >= 0)
		close(handle_fd);
	handle_fd = -1;
	return SP_OK;
}

void __wrap_sp_free_port(struct sp_port *p)
{
	(void)p;
	freed++;
}

int __wrap_sp_last_error_code(void)
{
	return last_error;
}

enum sp_return __wrap_sp_flush(struct sp_port *p, enum sp_buffer b)
{
	(void)p;
	assert_int_equal(b, SP_BUF_INPUT);
	flushed++;
	return SP_OK;
}

enum sp_return __wrap_sp_list_ports(struct sp_port ***list)
{
	static struct sp_port *ports[3] = { (struct sp_port *)&port_a, (struct sp_port *)&port_b, NULL };
	static struct sp_port *none[1] = { NULL };

	if (fail_at_list == SP_ERR_SUPP) { /* used as "no ports" */
		*list = none;
		return SP_OK;
	}
	if (fail_at_list)
		return fail_at_list;
	*list = ports;
	return SP_OK;
}

void __wrap_sp_free_port_list(struct sp_port **list)
{
	(void)list;
	freed++;
}

char *__wrap_sp_get_port_name(const struct sp_port *p)
{
	return (char *)(p == (void *)&port_a ? "/dev/ttyS0" : "/dev/ttyUSB0");
}

char *__wrap_sp_get_port_description(const struct sp_port *p)
{
	return (char *)(p == (void *)&port_a ? "ttyS0" : "USB Serial");
}

enum sp_transport __wrap_sp_get_port_transport(const struct sp_port *p)
{
	return p == (void *)&port_a ? SP_TRANSPORT_NATIVE : SP_TRANSPORT_USB;
}

enum sp_return __wrap_sp_get_port_usb_vid_pid(const struct sp_port *p, int *vid, int *pid)
{
	(void)p;
	*vid = 0x1a86;
	*pid = 0x7523;
	return SP_OK;
}

char *__wrap_sp_get_port_usb_manufacturer(const struct sp_port *p)
{
	(void)p;
	return (char *)"QinHeng Electronics";
}

char *__wrap_sp_get_port_usb_product(const struct sp_port *p)
{
	(void)p;
	return (char *)"USB Serial";
}

char *__wrap_sp_get_port_usb_serial(const struct sp_port *p)
{
	(void)p;
	return (char *)usb_serial;
}

static int reset(void **state)
{
	(void)state;
	freed = closed = flushed = 0;
	last_error = 0;
	fail_at_open = fail_at_get = fail_at_baud = fail_at_list = SP_OK;
	handle_fd = -1;
	usb_serial = NULL; /* CH340s often have none */
	return 0;
}

static void test_port_not_found(void **state)
{
	struct transport *t = NULL;

	(void)state;
	fail_at_get = SP_ERR_ARG;
	assert_int_equal(transport_serial_open("/dev/ttyUSB7", 115200, &t), -ENODEV);
	assert_null(t);
	assert_int_equal(freed, 0);
	fail_at_get = SP_ERR_MEM;
	assert_int_equal(transport_serial_open("/dev/ttyUSB7", 115200, &t), -ENOMEM);
}

static void test_open_fails_with_os_error(void **state)
{
	struct transport *t = NULL;

	(void)state;
	fail_at_open = SP_ERR_FAIL;
	last_error = EACCES;
	assert_int_equal(transport_serial_open("/dev/ttyUSB0", 115200, &t), -EACCES);
	assert_int_equal(freed, 1);
	assert_int_equal(closed, 0);
	last_error = EBUSY;
	assert_int_equal(transport_serial_open("/dev/ttyUSB0", 115200, &t), -EBUSY);
	last_error = 0; /* no OS detail: still an error */
	assert_int_equal(transport_serial_open("/dev/ttyUSB0", 115200, &t), -EIO);
	assert_null(t);
}

static void test_config_fails(void **state)
{
	struct transport *t = NULL;

	(void)state;
	fail_at_baud = SP_ERR_SUPP;
	assert_int_equal(transport_serial_open("/dev/ttyUSB0", 115200, &t), -ENOTSUP);
	assert_int_equal(closed, 1);
	assert_int_equal(freed, 1);
	assert_int_equal(transport_serial_open("/dev/ttyUSB0", 0, &t), -EINVAL);
	assert_null(t);
}

static void test_open_read_flush_free(void **state)
{
	struct transport *t = NULL;
	int fds[2];
	uint8_t buf[8];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	handle_fd = fds[0];
	assert_int_equal(transport_serial_open("/dev/ttyUSB0", 115200, &t), 0);
	assert_non_null(t);
	assert_int_equal(transport_get_kind(t), TRANSPORT_SERIAL);
	assert_int_equal(transport_fd(t), fds[0]);
	/* The fd was made non-blocking: an empty read is -EAGAIN, not a hang. */
	assert_int_equal(transport_read(t, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(write(fds[1], "NW", 2), 2);
	assert_int_equal(transport_read(t, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "NW", 2);
	assert_int_equal(transport_flush_input(t), 0);
	assert_int_equal(flushed, 1);
	transport_free(t);
	assert_int_equal(closed, 1);
	assert_int_equal(freed, 1);
	/* The writer's end sees the reader gone. */
	assert_int_equal(write(fds[1], "x", 1), -1);
	close(fds[1]);
}

static void test_list_ports(void **state)
{
	char *out = NULL, *err = NULL;
	size_t out_len, err_len;
	FILE *o = open_memstream(&out, &out_len), *e = open_memstream(&err, &err_len);

	(void)state;
	assert_int_equal(tool_list_ports(o, e), 0);
	fclose(o);
	fclose(e);
	assert_string_equal(out,
			    "/dev/ttyS0\tnative\tttyS0\n"
			    "/dev/ttyUSB0\tusb\tUSB Serial\tusb 1a86:7523\tmanufacturer QinHeng Electronics\t"
			    "product USB Serial\tserial -\n");
	assert_string_equal(err, "");
	assert_int_equal(freed, 1);
	free(out);
	free(err);

	o = open_memstream(&out, &out_len);
	e = open_memstream(&err, &err_len);
	fail_at_list = SP_ERR_SUPP;
	assert_int_equal(tool_list_ports(o, e), 0);
	fclose(o);
	fclose(e);
	assert_string_equal(out, "no serial ports found\n");
	free(out);
	free(err);

	o = open_memstream(&out, &out_len);
	e = open_memstream(&err, &err_len);
	fail_at_list = SP_ERR_FAIL;
	last_error = EACCES;
	assert_int_equal(tool_list_ports(o, e), 1);
	fclose(o);
	fclose(e);
	assert_string_equal(err, "cannot list serial ports: Permission denied\n");
	free(out);
	free(err);
}

static const char *or_null(const char *s)
{
	return s ? s : "NULL";
}

/* What transport_list_ports hands over, one line per port, into a 512-byte buffer. */
static void collect_port(void *user_data, const struct transport_port_info *p)
{
	char *buf = user_data;
	size_t used = strlen(buf);

	snprintf(buf + used, 512 - used, "%s|%s|%d|%04x:%04x|%s|%s|%s\n", or_null(p->name), or_null(p->description),
		 (int)p->bus, p->usb_vid, p->usb_pid, or_null(p->usb_manufacturer), or_null(p->usb_product),
		 or_null(p->usb_serial));
}

static void test_list_ports_api(void **state)
{
	char seen[512] = "";
	char expect[512];

	(void)state;
	usb_serial = "A50285BI";
	assert_int_equal(transport_list_ports(collect_port, seen), 2);
	snprintf(expect, sizeof(expect),
		 "/dev/ttyS0|ttyS0|%d|0000:0000|NULL|NULL|NULL\n"
		 "/dev/ttyUSB0|USB Serial|%d|1a86:7523|QinHeng Electronics|USB Serial|A50285BI\n",
		 TRANSPORT_BUS_NATIVE, TRANSPORT_BUS_USB);
	assert_string_equal(seen, expect);
	assert_int_equal(freed, 1); /* the list is freed */

	/* An empty string is "unknown". */
	seen[0] = '\0';
	usb_serial = "";
	assert_int_equal(transport_list_ports(collect_port, seen), 2);
	assert_non_null(strstr(seen, "|USB Serial|NULL\n"));

	/* No ports: fn is not called. */
	seen[0] = '\0';
	fail_at_list = SP_ERR_SUPP;
	assert_int_equal(transport_list_ports(collect_port, seen), 0);
	assert_string_equal(seen, "");

	/* Failures as -errno, fn not called, nothing to free. */
	freed = 0;
	fail_at_list = SP_ERR_FAIL;
	last_error = EACCES;
	assert_int_equal(transport_list_ports(collect_port, seen), -EACCES);
	fail_at_list = SP_ERR_MEM;
	assert_int_equal(transport_list_ports(collect_port, seen), -ENOMEM);
	assert_string_equal(seen, "");
	assert_int_equal(freed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_port_not_found, reset),
		cmocka_unit_test_setup(test_open_fails_with_os_error, reset),
		cmocka_unit_test_setup(test_config_fails, reset),
		cmocka_unit_test_setup(test_open_read_flush_free, reset),
		cmocka_unit_test_setup(test_list_ports, reset),
		cmocka_unit_test_setup(test_list_ports_api, reset),
	};

	signal(SIGPIPE, SIG_IGN); /* a write to a closed pipe must fail, not kill */
	return cmocka_run_group_tests_name("transport_serial", tests, NULL, NULL);
}
