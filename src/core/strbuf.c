/* SPDX-License-Identifier: MIT */
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void strbuf_init(struct strbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->pos = 0;
	sb->full = false;
	if (size)
		buf[0] = '\0';
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	size_t room = sb->pos < sb->size ? sb->size - sb->pos : 0;

	va_start(ap, fmt);
	int n = vsnprintf(sb->buf + sb->pos, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		sb->full = true;
		sb->pos = sb->size ? sb->size - 1 : 0;
		return;
	}
	sb->pos += (size_t)n;
}

int strbuf_result(const struct strbuf *sb)
{
	return sb->full ? -ENOSPC : (int)sb->pos;
}
