/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): the floor of one poll, the unavoidable I/O
 * and nothing else, for scripts/bench.sh to measure the service against.
 * Each poll it wakes on a timer (poll(2)'s timeout), writes the live-data
 * request to the pty, reads until the family's deframer holds the whole
 * reply, and sends one ItemsChanged with the entries the service sends when
 * every cell changes, through libdbus. The messages are built once with
 * libdbus's iterators (floor_items.c); each poll sends a copy
 * (dbus_message_copy() copies the bytes without checking them again), with
 * its own serial. No decoding, no policy, no values that change: what
 * remains is the cost the service cannot avoid.
 *
 * 4e57 (the default): one BMS, its read-all request, 22 entries (16 cells).
 * pb: a bus of PACKS packs at addresses 1..PACKS, each polled every
 * INTERVAL_MS, 23 entries per pack (16 cells and the midpoint). As the
 * service does (docs/architecture.md "Ports, units and services"), each
 * pack has a D-Bus connection of its own and its ItemsChanged goes out on
 * it, and the requests on the shared bus are at least the family's gap
 * apart (bms_driver_pb.min_gap_ms): pack k is asked gap × k after pack 1.
 * The gap is kept because the packs need it, so any program on that bus
 * waits it. No reply timeout is kept: in the steady state every pack
 * answers within a few ms, and the service folds its own into the timeout
 * of the poll(2) it makes anyway. The pack is known from the sender the
 * deframer reads in the acknowledgement, so the floor never waits for a
 * reply before the next request: the gap is far longer than a reply.
 *
 * Usage: bench_floor [--protocol 4e57|pb] [--packs N] TTY INTERVAL_MS
 *        (runs until SIGTERM or SIGINT)
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
#include "floor_items.h"

#define PACKS_MAX PB_ADDR_MAX

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

/* The ItemsChanged the service sends each poll with 16 changing cells; a
 * PB pack's has the midpoint voltage too. */
static DBusMessage *items_changed(const struct bms_driver *drv)
{
	static const struct floor_item head[] = {
		{ "/Dc/0/Voltage", 53.19, "53.19V" },
		{ "/Dc/0/Current", 29.78, "29.78A" },
		{ "/Dc/0/Power", 1584, "1584W" },
		{ "/System/MinCellVoltage", 3.322, "3.322V" },
		{ "/System/MaxCellVoltage", 3.331, "3.331V" },
		{ "/Voltages/Sum", 53.19, "53.19V" },
		{ "/Dc/0/MidVoltage", 26.59, "26.59V" },
	};
	unsigned n = sizeof(head) / sizeof(head[0]);

	return floor_items_changed(head, drv == &bms_driver_pb ? n : n - 1, 16);
}

struct floor {
	const struct bms_driver *drv;
	unsigned packs;
	int interval, gap;
	int fd;
	DBusConnection *conn[PACKS_MAX];
	uint8_t req[PACKS_MAX][BMS_REQUEST_MAX];
	int req_len[PACKS_MAX];
};

/* Parse the command line into *f; false after a usage message. */
static bool parse(int argc, char **argv, struct floor *f, const char **tty)
{
	int i = 1;

	f->drv = &bms_driver_4e57;
	f->packs = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--protocol") == 0 && strcmp(argv[i + 1], "pb") == 0)
			f->drv = &bms_driver_pb;
		else if (strcmp(argv[i], "--protocol") == 0 && strcmp(argv[i + 1], "4e57") == 0)
			f->drv = &bms_driver_4e57;
		else if (strcmp(argv[i], "--packs") == 0)
			f->packs = (unsigned)atoi(argv[i + 1]);
		else
			break;
	}
	if (argc - i == 2) {
		*tty = argv[i];
		f->interval = atoi(argv[i + 1]);
		f->gap = (int)f->drv->min_gap_ms;
		if (f->packs >= 1 && f->packs <= PACKS_MAX && (f->drv == &bms_driver_pb || f->packs == 1) &&
		    f->interval > f->gap * ((int)f->packs - 1))
			return true;
	}
	fprintf(stderr,
		"usage: bench_floor [--protocol 4e57|pb] [--packs N (pb: 1..%d)] TTY INTERVAL_MS\n"
		"(INTERVAL_MS above the gap between requests times N - 1)\n",
		PACKS_MAX);
	return false;
}

/* Open the port and one bus connection per pack; build the requests. */
static bool open_all(struct floor *f, const char *tty)
{
	DBusError err;

	f->fd = open_pty(tty);
	if (f->fd < 0) {
		fprintf(stderr, "bench_floor: cannot open %s: %s\n", tty, strerror(errno));
		return false;
	}
	dbus_error_init(&err);
	for (unsigned k = 0; k < f->packs; k++) {
		f->conn[k] = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
		if (!f->conn[k]) {
			fprintf(stderr, "bench_floor: %s\n", err.message);
			return false;
		}
		dbus_connection_set_exit_on_disconnect(f->conn[k], FALSE);
		/* 4E 57 has one BMS at address 0; PB packs are 1..N. */
		f->req_len[k] = f->drv->read_request(f->drv == &bms_driver_pb ? (uint8_t)(k + 1) : 0, f->req[k],
						     sizeof(f->req[k]));
		if (f->req_len[k] <= 0)
			return false;
	}
	return true;
}

/* The requests in turn, a gap apart, each pack every interval; each
 * complete reply answered with its pack's ItemsChanged. */
static void run(struct floor *f)
{
	DBusMessage *tmpl = items_changed(f->drv);
	struct pollfd pfd[1 + PACKS_MAX];
	uint8_t buf[512];
	struct bms_rx rx = { 0 };
	struct bms_frame frame;
	struct codec_error cerr;
	unsigned long polls = 0, replies = 0;
	unsigned turn = 0;

	pfd[0] = (struct pollfd){ .fd = f->fd, .events = POLLIN };
	for (unsigned k = 0; k < f->packs; k++) {
		int fd = -1;

		dbus_connection_get_unix_fd(f->conn[k], &fd);
		pfd[1 + k] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	f->drv->rx_reset(&rx);
	printf("floor: ready\n");
	fflush(stdout);
	for (int64_t cycle = now_ms(), next = cycle; !stop;) {
		int64_t now = now_ms();

		if (now >= next) {
			if (write(f->fd, f->req[turn], (size_t)f->req_len[turn]) != f->req_len[turn])
				break;
			polls++;
			turn = (turn + 1) % f->packs;
			if (turn == 0)
				cycle += f->interval;
			next = cycle + (int64_t)turn * f->gap;
			continue;
		}
		if (poll(pfd, 1 + f->packs, (int)(next - now)) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			ssize_t n = read(f->fd, buf, sizeof(buf));
			size_t used = 0;

			frame.addr = -1;
			if (n > 0 && f->drv->rx_feed(&rx, buf, (size_t)n, &used, &frame, &cerr) == 1) {
				unsigned k = frame.addr >= 1 && (unsigned)frame.addr <= f->packs
					? (unsigned)frame.addr - 1
					: 0;
				DBusMessage *m = dbus_message_copy(tmpl);

				dbus_connection_send(f->conn[k], m, NULL);
				dbus_message_unref(m);
				replies++;
			}
		}
		for (unsigned k = 0; k < f->packs; k++) {
			if (pfd[1 + k].revents) /* nothing is sent to us but the bus's own signals */
				dbus_connection_read_write_dispatch(f->conn[k], 0);
		}
	}
	fprintf(stderr, "floor: %lu polls, %lu replies\n", polls, replies);
	dbus_message_unref(tmpl);
}

int main(int argc, char **argv)
{
	struct floor f = { .fd = -1 };
	const char *tty = NULL;

	if (!parse(argc, argv, &f, &tty))
		return 2;
	if (!open_all(&f, tty))
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	run(&f);
	for (unsigned k = 0; k < f.packs; k++) {
		dbus_connection_close(f.conn[k]);
		dbus_connection_unref(f.conn[k]);
	}
	close(f.fd);
	return 0;
}
