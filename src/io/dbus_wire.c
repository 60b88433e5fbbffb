/* SPDX-License-Identifier: MIT */
/* The D-Bus wire format, little endian, as the specification lays it out:
 * every value aligned to its size (structs and dict entries to 8), arrays
 * prefixed with their byte length, strings with theirs and a NUL; a message
 * is a header (fixed part, then an array of (code, variant) fields) padded
 * to 8, then the body. */
#include "dbus_wire.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void wire_init(struct wire *w)
{
	memset(w, 0, sizeof(*w));
}

void wire_free(struct wire *w)
{
	free(w->buf);
	wire_init(w);
}

static __attribute__((noinline)) void grow(struct wire *w, size_t n)
{
	size_t cap = w->cap ? w->cap * 2 : 4096;

	while (cap < w->len + n)
		cap *= 2;
	uint8_t *b = realloc(w->buf, cap);

	if (!b)
		abort(); /* as GLib does on allocation failure */
	w->buf = b;
	w->cap = cap;
}

/* Called for every few bytes written: the growing stays out of line. */
static inline uint8_t *room(struct wire *w, size_t n)
{
	if (w->len + n > w->cap)
		grow(w, n);

	uint8_t *p = w->buf + w->len;

	w->len += n;
	return p;
}

/* Little endian u32 at off (patching what was written). */
static void put_u32_at(struct wire *w, size_t off, uint32_t v)
{
	w->buf[off] = (uint8_t)v, w->buf[off + 1] = (uint8_t)(v >> 8);
	w->buf[off + 2] = (uint8_t)(v >> 16), w->buf[off + 3] = (uint8_t)(v >> 24);
}

void wire_align(struct wire *w, size_t n)
{
	size_t pad = (0 - w->len) & (n - 1); /* n is 1, 2, 4 or 8 */

	if (pad) {
		uint8_t *p = room(w, pad);

		while (pad--)
			*p++ = 0;
	}
}

void wire_byte(struct wire *w, uint8_t v)
{
	*room(w, 1) = v;
}

void wire_u32(struct wire *w, uint32_t v)
{
	wire_align(w, 4);
	uint8_t *p = room(w, 4);

	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

void wire_i32(struct wire *w, int32_t v)
{
	wire_u32(w, (uint32_t)v);
}

void wire_double(struct wire *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	wire_align(w, 8);
	uint8_t *p = room(w, 8);

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

void wire_string(struct wire *w, const char *s)
{
	size_t n = strlen(s);

	wire_u32(w, (uint32_t)n);
	memcpy(room(w, n + 1), s, n + 1);
}

void wire_bytes(struct wire *w, const void *p, size_t n)
{
	memcpy(room(w, n), p, n);
}

void wire_signature(struct wire *w, const char *s)
{
	size_t n = strlen(s);

	wire_byte(w, (uint8_t)n);
	memcpy(room(w, n + 1), s, n + 1);
}

/* u in base 10 or 16 (upper case), at least min_digits digits, a decimal
 * point before the last point digits (0: none; min_digits > point), written
 * backwards to end before. Returns the first character. */
static char *digits(char *end, uint64_t u, unsigned base, int min_digits, int point)
{
	static const char glyph[] = "0123456789ABCDEF";
	char *p = end;
	int n = 0;

	/* In 32 bits once the value fits, by constants: on the GX's Cortex-A7
	 * a 64-bit or variable division is a library call, and a text has a
	 * few digits each poll. */
	for (; u > UINT32_MAX; u /= base) {
		*--p = glyph[u % base];
		if (++n == point)
			*--p = '.';
	}
	for (uint32_t v = (uint32_t)u; v || n < min_digits; v = base == 16 ? v >> 4 : v / 10) {
		*--p = glyph[base == 16 ? v & 15 : v % 10];
		if (++n == point)
			*--p = '.';
	}
	return p;
}

/* A text: prefix, the number's characters from p to end, suffix. */
static void text(struct wire *w, const char *prefix, const char *p, const char *end, const char *suffix)
{
	size_t np = strlen(prefix), nn = (size_t)(end - p), ns = strlen(suffix);

	wire_u32(w, (uint32_t)(np + nn + ns));
	uint8_t *out = room(w, np + nn + ns + 1);

	memcpy(out, prefix, np);
	memcpy(out + np, p, nn);
	memcpy(out + np + nn, suffix, ns);
	out[np + nn + ns] = 0;
}

void wire_text_int(struct wire *w, const char *prefix, int32_t v, bool hex, const char *suffix)
{
	char buf[16], *end = buf + sizeof(buf);
	char *p = digits(end, hex || v >= 0 ? (uint32_t)v : -(uint64_t)v, hex ? 16 : 10, 1, 0);

	if (!hex && v < 0)
		*--p = '-';
	text(w, prefix, p, end, suffix);
}

/* |v| * 10^decimals rounded to an integer as printf rounds: from the exact
 * binary value, half to even only on an exact tie, which fma() tells from a
 * product that merely rounded onto one. */
static uint64_t scaled(double v, double scale)
{
	double a = fabs(v) * scale, whole = floor(a);
	uint64_t u = (uint64_t)whole;

	if (a - whole > 0.5) {
		u++;
	} else if (a - whole == 0.5) {
		double lost = fma(fabs(v), scale, -a); /* exactly what the product rounded away */

		if (lost > 0 || (lost == 0 && (u & 1)))
			u++;
	}
	return u;
}

void wire_text_fixed(struct wire *w, const char *prefix, double v, int decimals, const char *suffix)
{
	static const double pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };

	decimals = decimals < 0 ? 0 : (decimals > 6 ? 6 : decimals);
	if (fabs(v) * pow10[decimals] < 1e15) {
		char buf[32], *end = buf + sizeof(buf); /* 16 digits, a point and a sign at most */
		uint64_t u = scaled(v, pow10[decimals]);
		char *p = digits(end, u, 10, decimals + 1, decimals);

		if (v < 0 && u != 0)
			*--p = '-';
		text(w, prefix, p, end, suffix);
	} else { /* huge (up to 317 characters), or not finite: rare enough for printf */
		char big[320];
		int n = snprintf(big, sizeof(big), "%.*f", decimals, v);
		size_t len = n < 0 ? 0 : ((size_t)n < sizeof(big) ? (size_t)n : sizeof(big) - 1);

		text(w, prefix, big, big + len, suffix);
	}
}

size_t wire_array_begin(struct wire *w, size_t elem_align, size_t *start)
{
	wire_u32(w, 0);
	size_t slot = w->len - 4;

	wire_align(w, elem_align); /* padding before the first element is not counted */
	*start = w->len;
	return slot;
}

void wire_array_end(struct wire *w, size_t slot, size_t start)
{
	put_u32_at(w, slot, (uint32_t)(w->len - start));
}

/* Each header field is a struct (yv), 8-aligned. */
static void field_string(struct wire *w, uint8_t code, const char *type, const char *value)
{
	wire_align(w, 8);
	wire_byte(w, code);
	wire_signature(w, type);
	if (type[0] == 'g')
		wire_signature(w, value);
	else
		wire_string(w, value);
}

static void field_u32(struct wire *w, uint8_t code, uint32_t value)
{
	wire_align(w, 8);
	wire_byte(w, code);
	wire_signature(w, "u");
	wire_u32(w, value);
}

/* The fixed part of a header; the body length and serial are patched by
 * wire_finish(). Returns the field array's length slot. */
static size_t header_begin(struct wire *w, uint8_t type, size_t *start)
{
	w->len = 0;
	wire_byte(w, 'l');
	wire_byte(w, type);
	wire_byte(w, DBUS_HEADER_FLAG_NO_REPLY_EXPECTED);
	wire_byte(w, 1); /* protocol version */
	wire_u32(w, 0);  /* body length */
	wire_u32(w, 0);  /* serial */
	return wire_array_begin(w, 8, start);
}

static void header_end(struct wire *w, const char *sig, size_t slot, size_t start)
{
	field_string(w, DBUS_HEADER_FIELD_SIGNATURE, "g", sig);
	wire_array_end(w, slot, start);
	wire_align(w, 8); /* the body starts 8-aligned */
	w->body = w->len;
}

void wire_begin_signal(struct wire *w, const char *path, const char *iface, const char *member, const char *sig)
{
	size_t start, slot = header_begin(w, DBUS_MESSAGE_TYPE_SIGNAL, &start);

	field_string(w, DBUS_HEADER_FIELD_PATH, "o", path);
	field_string(w, DBUS_HEADER_FIELD_INTERFACE, "s", iface);
	field_string(w, DBUS_HEADER_FIELD_MEMBER, "s", member);
	header_end(w, sig, slot, start);
}

void wire_begin_return(struct wire *w, DBusMessage *call, const char *sig)
{
	size_t start, slot = header_begin(w, DBUS_MESSAGE_TYPE_METHOD_RETURN, &start);
	const char *sender = dbus_message_get_sender(call);

	field_u32(w, DBUS_HEADER_FIELD_REPLY_SERIAL, dbus_message_get_serial(call));
	if (sender)
		field_string(w, DBUS_HEADER_FIELD_DESTINATION, "s", sender);
	header_end(w, sig, slot, start);
}

static bool seal(struct wire *w, uint32_t serial)
{
	if (w->len > DBUS_MAXIMUM_MESSAGE_LENGTH)
		return false;
	put_u32_at(w, 4, (uint32_t)(w->len - w->body));
	put_u32_at(w, 8, serial);
	return true;
}

DBusMessage *wire_finish(struct wire *w, uint32_t serial)
{
	if (!seal(w, serial))
		return NULL;
	return dbus_message_demarshal((const char *)w->buf, (int)w->len, NULL);
}

/* All of buf on a non-blocking socket: 0, -EAGAIN when nothing could be
 * written, or another -errno. Once a message has begun, the rest must
 * follow before any other byte, so a partial write waits for room (Linux
 * does not split a message this small on a Unix socket: it goes whole or
 * not at all, but the code does not rely on that). */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (done == 0)
				return -EAGAIN;
			if (poll(&pfd, 1, WIRE_SEND_WAIT_MS) > 0)
				continue;
			return -ETIMEDOUT;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int wire_send(struct wire *w, DBusConnection *conn, uint32_t serial)
{
	int fd = -1;

	if (!seal(w, serial))
		return -EMSGSIZE;
	/* Straight onto the socket when libdbus holds nothing to send (so the
	 * order of messages is kept) and the connection is a socket. */
	if (dbus_connection_get_is_connected(conn) && !dbus_connection_has_messages_to_send(conn) &&
	    dbus_connection_get_socket(conn, &fd)) {
		int r = write_all(fd, w->buf, w->len);

		if (r != -EAGAIN && (r == 0 || r == -ETIMEDOUT)) {
			if (r < 0) /* half a message is on the wire: the stream is lost */
				dbus_connection_close(conn);
			return r;
		}
		/* Nothing written (a full socket, or an error libdbus will see
		 * and report as a disconnect): let libdbus queue it. */
	}

	DBusMessage *m = dbus_message_demarshal((const char *)w->buf, (int)w->len, NULL);

	if (!m)
		return -EINVAL;
	dbus_connection_send(conn, m, NULL);
	dbus_message_unref(m);
	return 0;
}
