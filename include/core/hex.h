/* SPDX-License-Identifier: MIT */
/*
 * Hex text <-> bytes, for frame files ("4E 57 01 1B ...") and logs.
 * Pure; no allocation.
 */
#ifndef HEX_H
#define HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when text holds only hex digits, "0x" prefixes and separators
 * (white space , : -), i.e. it is a hex dump rather than raw bytes. */
bool hex_is_text(const uint8_t *text, size_t len);

/* Parse a hex dump into out. Digits come in pairs; separators may stand
 * between pairs. Returns the byte count, -EINVAL for an odd or foreign
 * character (*bad_offset says where, may be NULL), -ENOSPC when out is full. */
int hex_parse(const uint8_t *text, size_t len, uint8_t *out, size_t size, size_t *bad_offset);

/* Format bytes as "4E 57 ..." into out (NUL-terminated, truncated to fit).
 * Returns the number of characters written, excluding the NUL. */
size_t hex_format(const uint8_t *data, size_t len, char *out, size_t size);

#endif /* HEX_H */
