/* SPDX-License-Identifier: MIT */
/* Wiring checks for people: `--once DEVICE` and `--list-ports`. */
#ifndef TOOL_LINK_H
#define TOOL_LINK_H

#include <stdbool.h>
#include <stdio.h>

/* Poll DEVICE until one valid reply (or give up after a few seconds) and
 * print it as text or JSON. Returns 0, or 1 with the reason on err. */
int tool_once(const char *device, unsigned baud, bool json, FILE *out, FILE *err);

/* List serial ports with their USB identity. Returns 0, or 1 on error. */
int tool_list_ports(FILE *out, FILE *err);

#endif
