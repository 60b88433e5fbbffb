/* SPDX-License-Identifier: MIT */
/* Hex dump parsing and formatting for frame files and log lines. */
#include "hex.h"

#include <errno.h>

static int digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_sep(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':' || c == '-';
}

static bool is_prefix(const uint8_t *t, size_t i, size_t len)
{
	return t[i] == '0' && i + 1 < len && (t[i + 1] == 'x' || t[i + 1] == 'X') && (i == 0 || is_sep(t[i - 1]));
}

bool hex_is_text(const uint8_t *t, size_t len)
{
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		if (is_prefix(t, i, len)) {
			i++;
			continue;
		}
		if (digit(t[i]) >= 0)
			digits++;
		else if (!is_sep(t[i]))
			return false;
	}
	return digits > 0;
}

int hex_parse(const uint8_t *t, size_t len, uint8_t *out, size_t size, size_t *bad_offset)
{
	size_t n = 0;
	int hi = -1;
	size_t hi_at = 0;

	for (size_t i = 0; i < len; i++) {
		if (hi < 0 && is_prefix(t, i, len)) {
			i++;
			continue;
		}
		int d = digit(t[i]);

		if (d < 0) {
			if (is_sep(t[i]) && hi < 0)
				continue;
			if (bad_offset)
				*bad_offset = hi >= 0 ? hi_at : i;
			return -EINVAL;
		}
		if (hi < 0) {
			hi = d;
			hi_at = i;
			continue;
		}
		if (n >= size)
			return -ENOSPC;
		out[n++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	if (hi >= 0) {
		if (bad_offset)
			*bad_offset = hi_at;
		return -EINVAL;
	}
	return (int)n;
}

size_t hex_format(const uint8_t *data, size_t len, char *out, size_t size)
{
	static const char xd[] = "0123456789ABCDEF";
	size_t o = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < len && o + 3 < size; i++) {
		if (i)
			out[o++] = ' ';
		out[o++] = xd[data[i] >> 4];
		out[o++] = xd[data[i] & 15];
	}
	out[o] = '\0';
	return o;
}
