/* SPDX-License-Identifier: MIT */
/*
 * jkbms-sim: plays a JK-BMS on a pseudo-terminal, so the service and its
 * tests run without hardware. Answers read-all with frames from the
 * project's encoder, applies 0xAB/0xAC writes only after a password frame,
 * moves its values with a small physical model, and injects the faults real
 * links show. Driven by options at start and line commands on stdin
 * (see sim_control_usage()). With --protocol pb it plays up to 15 JK PB
 * packs on one RS-485 bus instead (sim_pb.c). This file: the pty, the
 * options, the control lines on the link and the main loop; the answers and
 * their faults are in sim_link.c, the pack model's commands in
 * sim_control.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim_control.h"
#include "sim_link.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int pty_create(struct sim *s)
{
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return -errno;
	const char *name = ptsname(m);

	if (!name) {
		close(m);
		return -errno;
	}
	snprintf(s->pty, sizeof(s->pty), "%s", name);
	/* Hold the secondary open ourselves: the pty then survives the service
	 * closing and reopening it, and our closing it is a real hang-up. */
	int sl = open(s->pty, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (sl < 0) {
		close(m);
		return -errno;
	}
	tcgetattr(sl, &tio);
	cfmakeraw(&tio);
	cfsetspeed(&tio, B115200);
	tcsetattr(sl, TCSANOW, &tio);
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	s->master = m;
	s->slave = sl;
	if (s->link_path) {
		unlink(s->link_path);
		if (symlink(s->pty, s->link_path) < 0) {
			int e = -errno;

			fprintf(stderr, "jkbms-sim: cannot link %s: %s\n", s->link_path, strerror(errno));
			return e;
		}
	}
	say("pty %s", s->pty);
	return 0;
}

static void pty_destroy(struct sim *s)
{
	if (s->link_path)
		unlink(s->link_path);
	if (s->master >= 0)
		close(s->master);
	if (s->slave >= 0)
		close(s->slave);
	s->master = s->slave = -1;
	s->nout = 0;
	codec_rx_reset(&s->rx);
	s->pbus.rx_len = 0;
}

static void read_master(struct sim *s, uint64_t now)
{
	uint8_t buf[512];
	ssize_t n;

	while ((n = read(s->master, buf, sizeof(buf))) > 0) {
		if (s->pb) {
			sim_pb_feed(s, buf, (size_t)n, now);
			continue;
		}
		const uint8_t *p = buf;
		size_t left = (size_t)n;

		for (;;) {
			struct codec_frame fr;
			struct codec_error e;
			size_t used = 0;
			int r = codec_feed(&s->rx, p, left, &used, &fr, &e);

			p += used;
			left -= used;
			if (r == 0)
				break;
			if (r == 1)
				sim_link_request(s, fr.data, fr.len, now);
		}
	}
}

static void flush_out(struct sim *s, uint64_t now)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < s->nout; i++) {
		if (s->out[i].at_ms <= now && s->master >= 0) {
			if (write(s->master, s->out[i].data, s->out[i].len) < 0 && errno != EAGAIN)
				fprintf(stderr, "jkbms-sim: write: %s\n", strerror(errno));
			if (s->trace && s->out[i].reply_end) {
				struct timespec ts;

				clock_gettime(CLOCK_MONOTONIC, &ts);
				fprintf(s->trace, "%llu\n",
					(unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
				fflush(s->trace);
			}
			continue;
		}
		s->out[keep++] = s->out[i];
	}
	s->nout = keep;
}

static void print_status(struct sim *s)
{
	struct bms_snapshot snap;
	double vmax = 0, real_max = 0;
	unsigned unmeasured = 0;

	sim_model_snapshot(&s->model, &snap);
	for (unsigned i = 0; i < snap.cell_count; i++) {
		double real = sim_model_cell_mv(&s->model, i);

		vmax = snap.cell_mv[i] > vmax ? snap.cell_mv[i] : vmax;
		real_max = real > real_max ? real : real_max;
		unmeasured += s->model.cell_unmeasured[i];
	}
	say("status soc=%.2f current=%.2f voltage_mv=%u max_cell_mv=%.0f status=%u alarms=%u charge_switch=%d "
	    "discharge_switch=%d requests=%lu reads=%lu replies=%lu passwords=%lu writes_applied=%lu "
	    "writes_ignored=%lu activations=%lu faults=%lu connected=%d fault=%s charger=%d charger_a=%.2f "
	    "charger_cvl=%.2f charger_ccl=%.1f f_silent=%lu f_garbage=%lu f_badcrc=%lu f_truncated=%lu f_split=%lu "
	    "f_slow=%lu f_echo=%lu f_late=%lu real_max_cell_mv=%.0f unmeasured=%u reported_soc=%u noise_mv=%.1f "
	    "resistance_mohm=%.2f",
	    s->model.soc * 100, s->model.current_actual_a, snap.voltage_mv, vmax, snap.status, snap.alarms,
	    s->model.charge_switch, s->model.discharge_switch, s->requests, s->reads, s->replies, s->passwords,
	    s->writes_applied, s->writes_ignored, s->activations, s->f.total, s->master >= 0,
	    sim_fault_names[s->f.mode], s->model.charger, s->model.i_chg, s->model.charger_cvl_v,
	    s->model.charger_ccl_a, s->f.count[FAULT_SILENT], s->f.count[FAULT_GARBAGE], s->f.count[FAULT_BADCRC],
	    s->f.count[FAULT_TRUNCATED], s->f.count[FAULT_SPLIT], s->f.count[FAULT_SLOW], s->f.count[FAULT_ECHO],
	    s->f.count[FAULT_LATE], real_max, unmeasured, snap.soc_pct, s->model.noise_mv, s->model.resistance_mohm);
}

/* One control line; answers "ok ..." or "error ...". The commands on
 * the pack model are in sim_control.c; those on the link are here. */
static void command(struct sim *s, char *line, uint64_t now)
{
	char a[32] = "", b[32] = "", c[32] = "", answer[1024];
	int n = sscanf(line, "%31s %31s %31s", a, b, c);

	if (n <= 0)
		return;
	if (s->pb && sim_pb_command(s, line, answer, sizeof(answer))) {
		say("%s", answer);
	} else if (strcmp(a, "status") == 0) {
		print_status(s);
	} else if (strcmp(a, "fault") == 0 && n >= 2 && sim_faults_set(&s->f, b, n >= 3 ? (unsigned)atoi(c) : 0)) {
		say("ok fault %s", sim_fault_names[s->f.mode]);
	} else if (strcmp(a, "disconnect") == 0 && n == 2) {
		pty_destroy(s);
		s->reappear_at = now + (uint64_t)(atof(b) * 1000);
		say("ok disconnect");
	} else if (strcmp(a, "limits") == 0 && n == 3) {
		s->model.charger_cvl_v = atof(b);
		s->model.charger_ccl_a = atof(c);
		s->dvcc.from_bus = false;
		say("ok limits %.2f V %.1f A", s->model.charger_cvl_v, s->model.charger_ccl_a);
	} else if (strcmp(a, "quit") == 0) {
		quit = 1;
		say("ok quit");
	} else if (sim_control_command(&s->model, line, answer, sizeof(answer))) {
		say("%s", answer);
	} else {
		say("error unknown command: %s", line);
	}
}

static void read_stdin(struct sim *s, uint64_t now)
{
	static char line[512];
	static size_t len;
	char buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) {
			s->stdin_open = false;
			if (s->exit_on_eof)
				quit = 1;
		}
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			line[len] = '\0';
			command(s, line, now);
			len = 0;
		} else if (len + 1 < sizeof(line)) {
			line[len++] = buf[i];
		}
	}
}

/* --fault MODE[:ARG] */
static bool parse_fault_option(struct sim *s, const char *arg)
{
	char name[32];
	const char *colon = strchr(arg, ':');
	size_t l = colon ? (size_t)(colon - arg) : strlen(arg);

	snprintf(name, sizeof(name), "%.*s", (int)l, arg);
	if (!sim_faults_set(&s->f, name, colon ? (unsigned)atoi(colon + 1) : 0)) {
		fprintf(stderr, "jkbms-sim: unknown fault '%s'\n", name);
		return false;
	}
	return true;
}

/* The options and the model they set up. Returns -1 to run, or the exit
 * status. */
/* What the command line asks for beyond the simulator's own fields. */
struct start_options {
	unsigned cells, protocol;
	bool pb;
	unsigned packs, first_address, master_ms;
	double soc, current, capacity;
	const char *id, *device_id, *scenario;
};

/* --protocol: 1 or 0 (the 4E 57 0xC0 layout), 4e57 (= 1), or pb. */
static bool parse_protocol(const char *arg, struct start_options *o)
{
	o->pb = strcmp(arg, "pb") == 0;
	if (o->pb || strcmp(arg, "4e57") == 0)
		return true;
	if (strcmp(arg, "0") != 0 && strcmp(arg, "1") != 0)
		return false;
	o->protocol = (unsigned)atoi(arg);
	return true;
}

/* --protocol, and the PB bus: --packs, --first-address, --master[=S]. */
static bool parse_bus_option(int opt, const char *arg, struct start_options *o)
{
	switch (opt) {
	case 'p':
		if (!parse_protocol(arg, o)) {
			fprintf(stderr, "jkbms-sim: --protocol 1|0|4e57|pb, not '%s'\n", arg);
			return false;
		}
		break;
	case 'n':
		o->packs = (unsigned)atoi(arg);
		break;
	case 'a':
		o->first_address = (unsigned)atoi(arg);
		break;
	default: {
		double period = arg ? atof(arg) : 5;

		if (!(period > 0 && period <= 3600)) {
			fprintf(stderr, "jkbms-sim: --master=S: S in 0..3600 seconds, not '%s'\n", arg);
			return false;
		}
		o->master_ms = (unsigned)(1000 * period);
		if (!o->master_ms)
			o->master_ms = 1; /* a master with a period that rounds to 0 */
		break;
	}
	}
	return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse_options(struct sim *s, int argc, char **argv, struct start_options *o)
{
	static const struct option opts[] = {
		{ "cells", required_argument, NULL, 'c' },        { "link", required_argument, NULL, 'l' },
		{ "protocol", required_argument, NULL, 'p' },     { "soc", required_argument, NULL, 's' },
		{ "current", required_argument, NULL, 'i' },      { "fault", required_argument, NULL, 'f' },
		{ "speed", required_argument, NULL, 'x' },        { "seed", required_argument, NULL, 'r' },
		{ "exit-on-eof", no_argument, NULL, 'e' },        { "help", no_argument, NULL, 'h' },
		{ "id", required_argument, NULL, 'u' },           { "scenario", required_argument, NULL, 'S' },
		{ "dvcc-service", required_argument, NULL, 'D' }, { "trace", required_argument, NULL, 'T' },
		{ "packs", required_argument, NULL, 'n' },        { "first-address", required_argument, NULL, 'a' },
		{ "master", optional_argument, NULL, 'm' },       { "device-id", required_argument, NULL, 'd' },
		{ "capacity", required_argument, NULL, 'C' },     { NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->cells = (unsigned)atoi(optarg);
			break;
		case 'l':
			s->link_path = optarg;
			break;
		case 'p':
		case 'n':
		case 'a':
		case 'm':
			if (!parse_bus_option(opt, optarg, o))
				return 2;
			break;
		case 's':
			o->soc = atof(optarg);
			break;
		case 'i':
			o->current = atof(optarg);
			break;
		case 'C':
			o->capacity = atof(optarg);
			break;
		case 'x':
			s->speed = atof(optarg);
			break;
		case 'r':
			s->rng = (unsigned)atoi(optarg);
			break;
		case 'e':
			s->exit_on_eof = true;
			break;
		case 'u':
			o->id = optarg;
			break;
		case 'd':
			o->device_id = optarg;
			break;
		case 'S':
			o->scenario = optarg;
			break;
		case 'D':
			s->dvcc.service = optarg;
			break;
		case 'T':
			s->trace = fopen(optarg, "a"); /* appends: readers may truncate it */
			if (!s->trace) {
				fprintf(stderr, "jkbms-sim: cannot write %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 'f':
			if (!parse_fault_option(s, optarg))
				return 2;
			break;
		case 'h':
			sim_control_usage(stdout);
			return 0;
		default:
			sim_control_usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* PB mode: every pack's model as the options say (after the common checks). */
static int setup_pb(struct sim *s, const struct start_options *o)
{
	struct sim_pb *b = &s->pbus;

	if (!sim_pb_init(b, o->packs, o->first_address, o->master_ms, o->cells, s->rng, o->id))
		return 2;
	s->pb = true;
	for (unsigned i = 0; i < b->count; i++) {
		struct sim_model *m = &b->packs[i].model;

		b->packs[i].f = s->f; /* --fault: every pack */
		m->soc = o->soc / 100;
		m->current_a = o->current;
		if (o->scenario && !sim_control_scenario(m, o->scenario)) {
			fprintf(stderr, "jkbms-sim: unknown scenario '%s' (%s)\n", o->scenario, SIM_CONTROL_SCENARIOS);
			return 2;
		}
	}
	return -1;
}

static int setup(struct sim *s, int argc, char **argv)
{
	struct start_options o = { .cells = 16, .protocol = 1, .soc = 60, .packs = 1, .first_address = 1 };
	int r = parse_options(s, argc, argv, &o);
	unsigned cells = o.cells, protocol = o.protocol;
	double soc = o.soc;
	const char *id = o.id, *scenario = o.scenario;

	if (r >= 0)
		return r;
	if (cells < 1 || cells > BMS_MAX_CELLS || protocol > 1 || soc < 0 || soc > 100 || s->speed <= 0 ||
	    !(o.capacity == 0 || (o.capacity >= 1 && o.capacity <= 2000))) {
		fprintf(stderr,
			"jkbms-sim: --cells 1..32, --protocol 0|1, --soc 0..100, --speed > 0, --capacity 1..2000\n");
		return 2;
	}
	if (!o.pb && (o.packs != 1 || o.first_address != 1 || o.master_ms)) {
		fprintf(stderr, "jkbms-sim: --packs, --first-address and --master need --protocol pb\n");
		return 2;
	}
	sim_model_init(&s->model, cells, (uint8_t)protocol);
	if (o.capacity > 0) {
		s->model.capacity_ah = o.capacity;
		s->model.base.settings.capacity_ah = (uint32_t)o.capacity;
		s->model.base.settings.actual_capacity_ah = (uint32_t)o.capacity;
	}
	s->model.soc = soc / 100;
	s->model.current_a = o.current;
	s->model.rng = s->rng;
	if (scenario && !sim_control_scenario(&s->model, scenario)) {
		fprintf(stderr, "jkbms-sim: unknown scenario '%s' (%s)\n", scenario, SIM_CONTROL_SCENARIOS);
		return 2;
	}
	if (o.pb)
		return setup_pb(s, &o);
	if (id) {
		/* The user data the JK app writes: 0xB4 carries its first 8 chars,
		 * 0xBA the first 12 followed by the model. */
		snprintf(s->model.base.device_id, sizeof(s->model.base.device_id), "%.8s", id);
		snprintf(s->model.base.manufacturer, sizeof(s->model.base.manufacturer), "%-12.12sJK_B2A24S15P", id);
	}
	if (o.device_id) /* 0xB4 alone, as typed: the user data stays the factory's */
		snprintf(s->model.base.device_id, sizeof(s->model.base.device_id), "%.8s", o.device_id);
	return -1;
}

/* The DVCC charger's limits; in PB mode the first pack's charger reads them
 * and every pack's charger obeys them. */
static void dvcc_poll(struct sim *s, uint64_t now)
{
	struct sim_pb *b = &s->pbus;

	if (!s->pb) {
		sim_dvcc_poll(&s->dvcc, &s->model, now);
		return;
	}
	sim_dvcc_poll(&s->dvcc, &b->packs[0].model, now);
	for (unsigned i = 1; i < b->count && s->dvcc.from_bus; i++) {
		b->packs[i].model.charger_cvl_v = b->packs[0].model.charger_cvl_v;
		b->packs[i].model.charger_ccl_a = b->packs[0].model.charger_ccl_a;
	}
}

static void run(struct sim *s)
{
	s->last_step = now_ms();
	while (!quit) {
		uint64_t now = now_ms();
		int timeout = 100;

		for (unsigned i = 0; i < s->nout; i++) {
			int64_t d = (int64_t)s->out[i].at_ms - (int64_t)now;

			timeout = d < timeout ? (d < 0 ? 0 : (int)d) : timeout;
		}
		struct pollfd pfd[2] = {
			{ .fd = s->master, .events = POLLIN },
			{ .fd = s->stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		now = now_ms();
		double dt = (double)(now - s->last_step) / 1000.0 * s->speed;

		if (s->pb)
			sim_pb_tick(s, dt, now);
		else
			sim_model_step(&s->model, dt);
		s->last_step = now;
		if (pfd[1].revents)
			read_stdin(s, now);
		if (s->master >= 0 && (pfd[0].revents & POLLIN))
			read_master(s, now);
		flush_out(s, now);
		dvcc_poll(s, now);
		if (s->master < 0 && s->reappear_at && now >= s->reappear_at) {
			s->reappear_at = 0;
			if (pty_create(s) < 0)
				fprintf(stderr, "jkbms-sim: cannot recreate the pty\n");
		}
	}
}

int main(int argc, char **argv)
{
	static struct sim s;

	s.master = s.slave = -1;
	s.rx.accept_requests = true;
	s.speed = 1;
	s.rng = 1;
	s.dvcc.from_bus = true;
	int ret = setup(&s, argc, argv);

	if (ret >= 0)
		return ret;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	s.stdin_open = true;
	if (pty_create(&s) < 0) {
		fprintf(stderr, "jkbms-sim: cannot create a pseudo-terminal: %s\n", strerror(errno));
		return 1;
	}
	run(&s);
	pty_destroy(&s);
	if (s.trace)
		fclose(s.trace);
	sim_dvcc_close(&s.dvcc);
	return 0;
}
