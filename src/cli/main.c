/* SPDX-License-Identifier: MIT */
/*
 * dbus-jkbms entry point: parses the command line, loads the configuration
 * and hands over to the tool or the service it names. One struct app owns
 * everything and tears it down in reverse order. No logic lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_service.h"
#include "config.h"
#include "dbus_glib.h"
#include "log.h"
#include "port.h"
#include "probe.h"
#include "tool_decode.h"
#include "tool_link.h"
#include "version.h"

struct app {
	bool verbose;
	bool json;
	const char *config_path;
	const char *decode;
	bool once;
	bool list_ports;
	bool bank;
	const char *device;
	const char *extra; /* a second positional argument: an error */
	GPtrArray *keys;   /* command-line keys, applied after the file */
	struct config cfg;
	GMainLoop *loop;
	DBusConnection *conn;
	struct port *port;
	struct bank_service *bank_service;
	int exit_code;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dbus-jkbms [options] DEVICE      run the Venus OS battery service\n"
		"       dbus-jkbms --once [--json] [options] DEVICE\n"
		"       dbus-jkbms --decode FILE\n"
		"       dbus-jkbms --list-ports\n"
		"       dbus-jkbms --bank [options]      run the bank of parallel packs (" BANK_BUS_NAME ")\n"
		"\n"
		"  --config FILE              configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  --baud N                   serial speed (default 115200)\n"
		"  --poll-interval S          seconds between polls (default 1)\n"
		"  --device-instance N        preferred VRM device instance (default 1)\n"
		"  --max-charge-current A     ceiling for the charge current limit\n"
		"  --max-discharge-current A  ceiling for the discharge current limit\n"
		"  --probe-timeout S          exit when no BMS answers within S seconds (default 5)\n"
		"  --protocol P               auto (default), 4e57 or pb (JK PB packs on RS-485)\n"
		"  --pb-addresses LIST        PB addresses to look for (default 1-15; e.g. 1,3,5-7)\n"
		"  --once                     poll the BMS on DEVICE once and print what it says\n"
		"  --json                     with --once: print JSON\n"
		"  --decode FILE              decode a captured reply ('-' = stdin) as JSON\n"
		"  --list-ports               list serial ports with their USB identity\n"
		"  --bank                     combine the member services (bank = true) into one battery\n"
		"  -v, --verbose              debug logging\n"
		"  -h, --help                 this help\n"
		"  --version                  print the version\n");
}

static void warn_line(const char *line)
{
	LOG_WARN("%s", line);
}

static void quit_cb(void *data, int code)
{
	struct app *app = data;

	app->exit_code = code;
	g_main_loop_quit(app->loop);
}

static gboolean signal_cb(gpointer data)
{
	struct app *app = data;

	LOG_INFO("terminating on signal");
	app->exit_code = 0;
	g_main_loop_quit(app->loop);
	return G_SOURCE_CONTINUE;
}

/* What the port serves: 4E 57 as configured, else what the probe finds
 * within probe_timeout. Returns 0 or -errno (logged). */
static int find_units(struct app *app, struct port_units *units)
{
	if (app->cfg.protocol == CONFIG_PROTOCOL_4E57) {
		port_units_single(units);
		return 0;
	}
	int r = probe_port(&app->cfg, app->device, app->cfg.probe_timeout_ms, units, NULL);

	if (r == -ENODEV)
		LOG_ERR("no JK-BMS answered on %s within %.1f s (%s); exiting without registering", app->device,
			app->cfg.probe_timeout_ms / 1000.0,
			app->cfg.protocol == CONFIG_PROTOCOL_PB ? "JK PB at the pb_addresses"
								: "neither 4E 57 nor JK PB at the pb_addresses");
	else if (r < 0)
		LOG_ERR("cannot open %s: %s", app->device, g_strerror(-r));
	return r;
}

/* The bank, or the port with its BMSs. Returns 0 or -1. */
static int start(struct app *app)
{
	struct port_units units;

	if (app->bank) {
		LOG_INFO("dbus-jkbms %s: the bank", DBUS_JKBMS_VERSION);
		return bank_service_new(&app->cfg, app->conn, quit_cb, app, &app->bank_service) < 0 ? -1 : 0;
	}
	LOG_INFO("dbus-jkbms %s on %s", DBUS_JKBMS_VERSION, app->device);
	if (find_units(app, &units) < 0)
		return -1;
	return port_new(&app->cfg, app->device, &units, app->conn, quit_cb, app, &app->port) < 0 ? -1 : 0;
}

static int run_service(struct app *app)
{
	const char *why = NULL;

	app->conn = dbus_glib_open_system(&why);
	if (!app->conn) {
		LOG_ERR("cannot connect to the system bus: %s", why);
		return 1;
	}
	app->loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, signal_cb, app);
	g_unix_signal_add(SIGINT, signal_cb, app);
	if (start(app) < 0)
		app->exit_code = 1;
	else
		g_main_loop_run(app->loop);
	bank_service_free(app->bank_service);
	port_free(app->port);
	dbus_glib_detach(app->conn);
	dbus_connection_close(app->conn);
	dbus_connection_unref(app->conn);
	g_main_loop_unref(app->loop);
	return app->exit_code;
}

static const struct option opts[] = {
	{ "decode", required_argument, NULL, 'd' },
	/* --once=DEVICE still names the device, as it did before --once
	 * became a flag; --once DEVICE leaves DEVICE a positional argument. */
	{ "once", optional_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "list-ports", no_argument, NULL, 'l' },
	{ "bank", no_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "baud", required_argument, NULL, 'k' },
	{ "poll-interval", required_argument, NULL, 'k' },
	{ "device-instance", required_argument, NULL, 'k' },
	{ "max-charge-current", required_argument, NULL, 'k' },
	{ "max-discharge-current", required_argument, NULL, 'k' },
	{ "probe-timeout", required_argument, NULL, 'k' },
	{ "protocol", required_argument, NULL, 'k' },
	{ "pb-addresses", required_argument, NULL, 'k' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void add_positional(struct app *app, const char *arg)
{
	if (!app->device)
		app->device = arg;
	else if (!app->extra)
		app->extra = arg;
}

/* One option; returns -1 to go on, else the exit status. */
static int take_option(struct app *app, int c, int idx)
{
	switch (c) {
	case 1:
		add_positional(app, optarg);
		break; /* an operand, in place */
	case 'd':
		app->decode = optarg;
		break;
	case 'o':
		app->once = true;
		if (optarg)
			add_positional(app, optarg);
		break;
	case 'j':
		app->json = true;
		break;
	case 'l':
		app->list_ports = true;
		break;
	case 'b':
		app->bank = true;
		break;
	case 'c':
		app->config_path = optarg;
		break;
	case 'k': {
		char *key = g_strdup(opts[idx].name);

		g_strdelimit(key, "-", '_');
		g_ptr_array_add(app->keys, key);
		g_ptr_array_add(app->keys, g_strdup(optarg));
		break;
	}
	case 'v':
		app->verbose = true;
		break;
	case 'h':
		usage(stdout);
		return 0;
	case 'V':
		printf("dbus-jkbms %s\n", DBUS_JKBMS_VERSION);
		return 0;
	default: /* getopt has named the option */
		fprintf(stderr, "Try 'dbus-jkbms --help'.\n");
		return 2;
	}
	return -1;
}

/* Options and operands in any order: a leading '-' in the option string
 * hands every operand over in place (as option 1), whatever
 * POSIXLY_CORRECT says; those after "--" are left at optind. Then the
 * number of operands is checked against the mode. Returns -1 to go on,
 * else the exit status. */
static int parse_args(struct app *app, int argc, char **argv)
{
	int c, idx = 0, ret;

	while ((c = getopt_long(argc, argv, "-hv", opts, &idx)) != -1) {
		ret = take_option(app, c, idx);
		if (ret >= 0)
			return ret;
	}
	for (int i = optind; i < argc; i++)
		add_positional(app, argv[i]);
	if (app->bank && (app->once || app->decode || app->list_ports)) {
		fprintf(stderr,
			"dbus-jkbms: --bank runs the bank service; it does not combine with --once, --decode "
			"or --list-ports\n");
		return 2;
	}
	if (app->decode || app->list_ports || app->bank) {
		if (app->device) {
			fprintf(stderr, "dbus-jkbms: unexpected argument '%s' (%s takes no DEVICE)\n", app->device,
				app->decode               ? "--decode"
					: app->list_ports ? "--list-ports"
							  : "--bank");
			return 2;
		}
		return -1;
	}
	if (!app->device || app->extra) {
		if (!app->device)
			fprintf(stderr, "dbus-jkbms: no DEVICE given\n");
		else
			fprintf(stderr, "dbus-jkbms: more than one DEVICE given: '%s' and '%s'\n", app->device,
				app->extra);
		fprintf(stderr, "Try 'dbus-jkbms --help'.\n");
		return 2;
	}
	return -1;
}

/* The file, then the command-line keys over it. Returns 0 or 2. */
static int load_config(struct app *app)
{
	char err[320];
	bool default_path = !app->config_path;

	if (config_load(&app->cfg, default_path ? CONFIG_DEFAULT_PATH : app->config_path, default_path, warn_line, err,
			sizeof(err)) < 0) {
		fprintf(stderr, "dbus-jkbms: configuration: %s\n", err);
		return 2;
	}
	for (guint k = 0; k + 1 < app->keys->len; k += 2) {
		char msg[200];
		const char *key = g_ptr_array_index(app->keys, k);

		if (config_set(&app->cfg, key, g_ptr_array_index(app->keys, k + 1), msg, sizeof(msg)) < 0) {
			fprintf(stderr, "dbus-jkbms: invalid option: %s\n", msg);
			return 2;
		}
	}
	return 0;
}

static int run(struct app *app)
{
	char err[320];

	log_setup(&app->verbose);
	if (app->decode)
		return tool_decode_file(app->decode, stdout, stderr);
	if (app->list_ports)
		return tool_list_ports(stdout, stderr);
	if (load_config(app) != 0)
		return 2;
	if (app->once)
		return tool_once(&app->cfg, app->device, app->json, stdout, stderr);
	if (config_check(&app->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "dbus-jkbms: configuration: %s\n", err);
		return 2;
	}
	return run_service(app);
}

int main(int argc, char **argv)
{
	struct app app = { 0 };
	int ret;

	/* Command-line keys apply after the file, so they are kept until then. */
	app.keys = g_ptr_array_new_with_free_func(g_free);
	config_defaults(&app.cfg);
	ret = parse_args(&app, argc, argv);
	if (ret < 0)
		ret = run(&app);
	g_ptr_array_free(app.keys, TRUE);
	return ret;
}
