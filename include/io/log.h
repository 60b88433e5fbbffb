/* SPDX-License-Identifier: MIT */
/*
 * Logging for multilog: plain lines on stderr, no timestamps or colour
 * (multilog stamps them). LOG_DBG only with -v. Over g_log, so GLib's own
 * warnings take the same path.
 */
#ifndef LOG_H
#define LOG_H

#include <glib.h>
#include <stdbool.h>

#define LOG_ERR(...) g_log(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, __VA_ARGS__)
#define LOG_WARN(...) g_log(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, __VA_ARGS__)
#define LOG_INFO(...) g_log(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, __VA_ARGS__)
#define LOG_DBG(...) g_log(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Install the stderr handler. *verbose (owned by the caller, must outlive
 * logging) enables debug lines and may change at run time. */
void log_setup(const bool *verbose);

#endif
