/* SPDX-License-Identifier: MIT */
/* Appending formatted text to a caller's fixed buffer, noting overflow. Pure. */
#ifndef STRBUF_H
#define STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t size;
	size_t pos;
	bool full;
};

/* buf must hold at least 1 byte; it is kept NUL-terminated. */
void strbuf_init(struct strbuf *sb, char *buf, size_t size);

/* Append; on overflow the text is truncated and the buffer marked full. */
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The length written, or -ENOSPC if anything was cut. */
int strbuf_result(const struct strbuf *sb);

#endif
