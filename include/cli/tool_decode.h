/* SPDX-License-Identifier: MIT */
/* `dbus-jkbms --decode FILE`: decode a captured frame for a person. */
#ifndef TOOL_DECODE_H
#define TOOL_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decode the first BMS reply in data (hex text or raw bytes), print it as
 * JSON on out, and explain every rejected candidate on err. name labels the
 * messages. Returns 0 when a frame decoded, else 1. */
int tool_decode_buffer(const char *name, const uint8_t *data, size_t len, FILE *out, FILE *err);

/* Read path ("-" = stdin, at most 1 MiB) and run tool_decode_buffer(). */
int tool_decode_file(const char *path, FILE *out, FILE *err);

#endif /* TOOL_DECODE_H */
