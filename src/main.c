/* SPDX-License-Identifier: MIT */
/*
 * dbus-jkbms entry point: parses the command line and hands over to the
 * tool or service it names. No logic lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tool_decode.h"
#include "tool_link.h"
#include "version.h"

struct app {
	bool verbose;
	bool json;
	unsigned baud;
	const char *decode;
	const char *once;
	bool list_ports;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dbus-jkbms --decode FILE\n"
		"       dbus-jkbms --once DEVICE [--json] [--baud N]\n"
		"       dbus-jkbms --list-ports\n"
		"\n"
		"  --decode FILE   decode a captured JK-BMS reply (hex text or raw bytes,\n"
		"                  '-' for stdin) and print it as JSON\n"
		"  --once DEVICE   poll the BMS on DEVICE once and print what it says\n"
		"  --json          with --once: print JSON (the same as --decode)\n"
		"  --baud N        serial speed (default 115200)\n"
		"  --list-ports    list serial ports with their USB vendor, product, serial\n"
		"  -v, --verbose   debug logging\n"
		"  -h, --help      show this help\n"
		"  --version       print the version\n");
}

static int parse_baud(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1200 || v > 921600)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_DECODE = 256, OPT_VERSION, OPT_ONCE, OPT_JSON, OPT_BAUD, OPT_LIST_PORTS };
	static const struct option opts[] = {
		{ "decode", required_argument, NULL, OPT_DECODE },
		{ "once", required_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "baud", required_argument, NULL, OPT_BAUD },
		{ "list-ports", no_argument, NULL, OPT_LIST_PORTS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct app app = { .baud = 115200 };
	int c;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DECODE:
			app.decode = optarg;
			break;
		case OPT_ONCE:
			app.once = optarg;
			break;
		case OPT_JSON:
			app.json = true;
			break;
		case OPT_BAUD:
			if (parse_baud(optarg, &app.baud) < 0) {
				fprintf(stderr, "dbus-jkbms: invalid --baud '%s' (1200..921600)\n", optarg);
				return 2;
			}
			break;
		case OPT_LIST_PORTS:
			app.list_ports = true;
			break;
		case 'v':
			app.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case OPT_VERSION:
			printf("dbus-jkbms %s\n", DBUS_JKBMS_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "dbus-jkbms: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_setup(&app.verbose);
	if (app.decode)
		return tool_decode_file(app.decode, stdout, stderr);
	if (app.once)
		return tool_once(app.once, app.baud, app.json, stdout, stderr);
	if (app.list_ports)
		return tool_list_ports(stdout, stderr);
	usage(stderr);
	return 2;
}
