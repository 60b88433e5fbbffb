/* SPDX-License-Identifier: MIT */
/*
 * dbus-jkbms entry point: parses the command line and hands over to the
 * tool or service it names. No logic lives here.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool_decode.h"
#include "version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dbus-jkbms --decode FILE\n"
		"\n"
		"  --decode FILE   decode a captured JK-BMS reply (hex text or raw bytes,\n"
		"                  '-' for stdin) and print it as JSON\n"
		"  -h, --help      show this help\n"
		"  --version       print the version\n");
}

int main(int argc, char **argv)
{
	enum { OPT_DECODE = 256, OPT_VERSION };
	static const struct option opts[] = {
		{ "decode", required_argument, NULL, OPT_DECODE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *decode = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DECODE:
			decode = optarg;
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
	if (decode)
		return tool_decode_file(decode, stdout, stderr);
	usage(stderr);
	return 2;
}
