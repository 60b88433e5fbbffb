/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): the floor of one poll, the unavoidable I/O
 * and nothing else, for scripts/bench.sh to measure the service against.
 * Each poll it wakes on a timer (poll(2)'s timeout), writes the read-all
 * request to the pty, reads until the deframer holds the whole reply, and
 * sends one ItemsChanged of 22 entries (the paths and texts the service
 * sends with 16 changing cells) through libdbus. The message is built once
 * with libdbus's iterators; each poll sends a copy of it (dbus_message_copy()
 * copies the bytes without checking them again), with its own serial. No
 * decoding, no policy, no values that change: what remains is the cost the
 * service cannot avoid.
 * Usage: bench_floor TTY INTERVAL_MS   (runs until SIGTERM or SIGINT)
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bms_driver.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_pty(const char *path)
{
	struct termios tio;
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || tcgetattr(fd, &tio) < 0)
		return -1;
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	return tcsetattr(fd, TCSANOW, &tio) < 0 ? -1 : fd;
}

/* {"Value": <double>, "Text": <string>} for one path. */
static void append_item(DBusMessageIter *dict, const char *path, double value, const char *text)
{
	static const char *keys[] = { "Value", "Text" };
	DBusMessageIter entry, inner, pair, var;

	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &path);
	dbus_message_iter_open_container(&entry, DBUS_TYPE_ARRAY, "{sv}", &inner);
	for (int k = 0; k < 2; k++) {
		dbus_message_iter_open_container(&inner, DBUS_TYPE_DICT_ENTRY, NULL, &pair);
		dbus_message_iter_append_basic(&pair, DBUS_TYPE_STRING, &keys[k]);
		dbus_message_iter_open_container(&pair, DBUS_TYPE_VARIANT, k == 0 ? "d" : "s", &var);
		if (k == 0)
			dbus_message_iter_append_basic(&var, DBUS_TYPE_DOUBLE, &value);
		else
			dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &text);
		dbus_message_iter_close_container(&pair, &var);
		dbus_message_iter_close_container(&inner, &pair);
	}
	dbus_message_iter_close_container(&entry, &inner);
	dbus_message_iter_close_container(dict, &entry);
}

/* The ItemsChanged the service sends each poll with 16 changing cells. */
static DBusMessage *items_changed(void)
{
	static const struct {
		const char *path;
		double value;
		const char *text;
	} head[] = {
		{ "/Dc/0/Voltage", 53.19, "53.19V" },
		{ "/Dc/0/Current", 29.78, "29.78A" },
		{ "/Dc/0/Power", 1584, "1584W" },
		{ "/System/MinCellVoltage", 3.322, "3.322V" },
		{ "/System/MaxCellVoltage", 3.331, "3.331V" },
		{ "/Voltages/Sum", 53.19, "53.19V" },
	};
	DBusMessage *m = dbus_message_new_signal("/", "com.victronenergy.BusItem", "ItemsChanged");
	DBusMessageIter it, dict;

	dbus_message_set_no_reply(m, TRUE);
	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sa{sv}}", &dict);
	for (size_t k = 0; k < sizeof(head) / sizeof(head[0]); k++)
		append_item(&dict, head[k].path, head[k].value, head[k].text);
	for (int c = 1; c <= 16; c++) {
		char path[32], text[16];

		snprintf(path, sizeof(path), "/Voltages/Cell%d", c);
		snprintf(text, sizeof(text), "%.3fV", 3.32 + c * 0.001);
		append_item(&dict, path, 3.32 + c * 0.001, text);
	}
	dbus_message_iter_close_container(&it, &dict);
	return m;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_floor TTY INTERVAL_MS\n");
		return 2;
	}

	int interval = atoi(argv[2]);
	int fd = open_pty(argv[1]);

	if (fd < 0 || interval <= 0) {
		fprintf(stderr, "bench_floor: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}

	DBusError err;

	dbus_error_init(&err);
	DBusConnection *conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);

	if (!conn) {
		fprintf(stderr, "bench_floor: %s\n", err.message);
		return 1;
	}
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	const struct bms_driver *drv = &bms_driver_4e57;
	DBusMessage *tmpl = items_changed();
	uint8_t req[BMS_REQUEST_MAX], buf[512];
	int req_len = drv->read_request(0, req, sizeof(req));
	struct bms_rx rx = { 0 };
	struct bms_frame frame;
	struct codec_error cerr;
	int dbus_fd = -1;
	unsigned long polls = 0, replies = 0;

	dbus_connection_get_unix_fd(conn, &dbus_fd);
	drv->rx_reset(&rx);
	printf("floor: ready\n");
	fflush(stdout);
	for (int64_t next = now_ms(); !stop;) {
		int64_t now = now_ms();

		if (now >= next) {
			if (write(fd, req, (size_t)req_len) != req_len)
				break;
			polls++;
			next += interval;
			continue;
		}

		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = dbus_fd, .events = POLLIN } };

		if (poll(pfd, 2, (int)(next - now)) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			ssize_t n = read(fd, buf, sizeof(buf));
			size_t used = 0;

			if (n > 0 && drv->rx_feed(&rx, buf, (size_t)n, &used, &frame, &cerr) == 1) {
				DBusMessage *m = dbus_message_copy(tmpl);

				dbus_connection_send(conn, m, NULL);
				dbus_message_unref(m);
				replies++;
			}
		}
		if (pfd[1].revents) /* nothing is sent to us but the bus's own signals */
			dbus_connection_read_write_dispatch(conn, 0);
	}
	fprintf(stderr, "floor: %lu polls, %lu replies\n", polls, replies);
	dbus_message_unref(tmpl);
	dbus_connection_close(conn);
	dbus_connection_unref(conn);
	close(fd);
	return 0;
}
