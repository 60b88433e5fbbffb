/* SPDX-License-Identifier: MIT */
/* Wiring checks for people: `--once DEVICE` and `--list-ports`. */
#ifndef TOOL_LINK_H
#define TOOL_LINK_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Find what answers on DEVICE as the service would (protocol, pb_addresses,
 * probe_timeout), poll each BMS until one valid reply (or give up after a
 * few seconds) and print each as text or JSON, one block per PB pack.
 * Returns 0, or 1 with the reason on err. */
int tool_once(const struct config *cfg, const char *device, bool json, FILE *out, FILE *err);

/* List serial ports with their USB identity. Returns 0, or 1 on error. */
int tool_list_ports(FILE *out, FILE *err);

#endif
