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

#include "config.h"
#include "dbus_glib.h"
#include "log.h"
#include "service.h"
#include "tool_decode.h"
#include "tool_link.h"
#include "version.h"

struct app {
	bool verbose;
	bool json;
	const char *config_path;
	const char *decode;
	const char *once;
	bool list_ports;
	const char *device;
	struct config cfg;
	GMainLoop *loop;
	DBusConnection *conn;
	struct service *service;
	int exit_code;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dbus-jkbms [options] DEVICE      run the Venus OS battery service\n"
		"       dbus-jkbms --once DEVICE [--json]\n"
		"       dbus-jkbms --decode FILE\n"
		"       dbus-jkbms --list-ports\n"
		"\n"
		"  --config FILE              configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  --baud N                   serial speed (default 115200)\n"
		"  --poll-interval S          seconds between polls (default 1)\n"
		"  --device-instance N        preferred VRM device instance (default 1)\n"
		"  --max-charge-current A     ceiling for the charge current limit\n"
		"  --max-discharge-current A  ceiling for the discharge current limit\n"
		"  --probe-timeout S          exit when no BMS answers within S seconds (default 5)\n"
		"  --once DEVICE              poll the BMS once and print what it says\n"
		"  --json                     with --once: print JSON\n"
		"  --decode FILE              decode a captured reply ('-' = stdin) as JSON\n"
		"  --list-ports               list serial ports with their USB identity\n"
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
	LOG_INFO("dbus-jkbms %s on %s", DBUS_JKBMS_VERSION, app->device);
	if (service_new(&app->cfg, app->device, app->conn, quit_cb, app, &app->service) < 0) {
		app->exit_code = 1;
	} else {
		g_main_loop_run(app->loop);
	}
	service_free(app->service);
	dbus_glib_detach(app->conn);
	dbus_connection_close(app->conn);
	dbus_connection_unref(app->conn);
	g_main_loop_unref(app->loop);
	return app->exit_code;
}

int main(int argc, char **argv)
{
	enum {
		OPT_DECODE = 256, OPT_VERSION, OPT_ONCE, OPT_JSON, OPT_LIST_PORTS, OPT_CONFIG,
		OPT_KEY, /* options that set a configuration key */
	};
	static const struct option opts[] = {
		{ "decode", required_argument, NULL, OPT_DECODE },
		{ "once", required_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "list-ports", no_argument, NULL, OPT_LIST_PORTS },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "baud", required_argument, NULL, OPT_KEY },
		{ "poll-interval", required_argument, NULL, OPT_KEY },
		{ "device-instance", required_argument, NULL, OPT_KEY },
		{ "max-charge-current", required_argument, NULL, OPT_KEY },
		{ "max-discharge-current", required_argument, NULL, OPT_KEY },
		{ "probe-timeout", required_argument, NULL, OPT_KEY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct app app = { 0 };
	/* Command-line keys apply after the file, so they are kept until then. */
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	int c, idx = 0, ret = 2;

	config_defaults(&app.cfg);
	while ((c = getopt_long(argc, argv, "hv", opts, &idx)) != -1) {
		switch (c) {
		case OPT_DECODE: app.decode = optarg; break;
		case OPT_ONCE: app.once = optarg; break;
		case OPT_JSON: app.json = true; break;
		case OPT_LIST_PORTS: app.list_ports = true; break;
		case OPT_CONFIG: app.config_path = optarg; break;
		case OPT_KEY: {
			char *key = g_strdup(opts[idx].name);

			g_strdelimit(key, "-", '_');
			g_ptr_array_add(keys, key);
			g_ptr_array_add(keys, g_strdup(optarg));
			break;
		}
		case 'v': app.verbose = true; break;
		case 'h': usage(stdout); ret = 0; goto out;
		case OPT_VERSION: printf("dbus-jkbms %s\n", DBUS_JKBMS_VERSION); ret = 0; goto out;
		default: usage(stderr); goto out;
		}
	}
	log_setup(&app.verbose);
	if (app.decode) {
		ret = tool_decode_file(app.decode, stdout, stderr);
		goto out;
	}
	if (app.list_ports) {
		ret = tool_list_ports(stdout, stderr);
		goto out;
	}

	char err[320];
	bool default_path = !app.config_path;

	if (config_load(&app.cfg, default_path ? CONFIG_DEFAULT_PATH : app.config_path, default_path, warn_line,
			err, sizeof(err)) < 0) {
		fprintf(stderr, "dbus-jkbms: configuration: %s\n", err);
		goto out;
	}
	for (guint k = 0; k + 1 < keys->len; k += 2) {
		char msg[200];
		const char *key = g_ptr_array_index(keys, k);

		if (config_set(&app.cfg, key, g_ptr_array_index(keys, k + 1), msg, sizeof(msg)) < 0) {
			fprintf(stderr, "dbus-jkbms: invalid option: %s\n", msg);
			goto out;
		}
	}
	if (app.once) {
		ret = tool_once(app.once, app.cfg.baud, app.json, stdout, stderr);
		goto out;
	}
	if (config_check(&app.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "dbus-jkbms: configuration: %s\n", err);
		goto out;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "dbus-jkbms: %s\n", optind == argc ? "no DEVICE given" : "more than one DEVICE given");
		usage(stderr);
		goto out;
	}
	app.device = argv[optind];
	ret = run_service(&app);
out:
	g_ptr_array_free(keys, TRUE);
	return ret;
}
