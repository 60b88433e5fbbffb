/* SPDX-License-Identifier: MIT */
/* The one log handler: "level: message" lines on stderr. */
#include "log.h"

#include <stdio.h>

static void handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user_data)
{
	const bool *verbose = user_data;
	const char *tag;

	(void)domain;
	switch (level & G_LOG_LEVEL_MASK) {
	case G_LOG_LEVEL_ERROR:
	case G_LOG_LEVEL_CRITICAL:
		tag = "error";
		break;
	case G_LOG_LEVEL_WARNING:
		tag = "warning";
		break;
	case G_LOG_LEVEL_DEBUG:
		if (!verbose || !*verbose)
			return;
		tag = "debug";
		break;
	default:
		tag = "info";
		break;
	}
	fprintf(stderr, "%s: %s\n", tag, message);
}

void log_setup(const bool *verbose)
{
	g_log_set_default_handler(handler, (gpointer)verbose);
}
