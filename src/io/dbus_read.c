/* SPDX-License-Identifier: MIT */
/* Reading the D-Bus wire format (dbus_read.h), as the specification lays
 * it out: every value aligned to its size (structs and dict entries to 8),
 * arrays prefixed with their byte length, strings with theirs and ended by
 * a NUL, signatures with a one-byte length; a message is a 12-byte fixed
 * header, the array of its (code, variant) header fields, padding to 8,
 * then the body. */
#include "dbus_read.h"

#include <string.h>

/* How deep structs and variants may nest in one value, and types in one
 * signature: D-Bus allows 32 arrays and 32 structs, and as many containers
 * of any kind (variants included) in all. */
#define WIRE_DEPTH_MAX 64

#define HEADER_SIGNATURE 8 /* the header field of the body's signature */

static bool host_big_endian(void)
{
	return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
}

void wire_read_init(struct wire_reader *r, const void *buf, size_t len, bool big_endian)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->swap = big_endian != host_big_endian();
}

/* The size of a fixed-size basic type (its alignment too), 0 for another. */
static size_t fixed_size(char c)
{
	switch (c) {
	case 'y':
		return 1;
	case 'n':
	case 'q':
		return 2;
	case 'b':
	case 'i':
	case 'u':
	case 'h':
		return 4;
	case 'x':
	case 't':
	case 'd':
		return 8;
	default:
		return 0;
	}
}

static bool is_basic(char c)
{
	return fixed_size(c) || c == 's' || c == 'o' || c == 'g';
}

/* The alignment of the type whose code is c (a valid one). */
static size_t type_align(char c)
{
	switch (c) {
	case 'g':
	case 'v':
		return 1;
	case 's':
	case 'o':
	case 'a':
		return 4;
	case '(':
	case '{':
		return 8;
	default:
		return fixed_size(c);
	}
}

/* Past the one complete type at s (a NUL-terminated signature), or NULL
 * if there is none. */
static const char *sig_next(const char *s, unsigned depth)
{
	if (depth > WIRE_DEPTH_MAX)
		return NULL;
	if (is_basic(*s) || *s == 'v')
		return s + 1;
	if (*s == 'a' && s[1] == '{') { /* a dict entry: a basic key, a value */
		if (!is_basic(s[2]))
			return NULL;
		s = sig_next(s + 3, depth + 1);
		return s && *s == '}' ? s + 1 : NULL;
	}
	if (*s == 'a')
		return sig_next(s + 1, depth + 1);
	if (*s != '(' || *++s == ')')
		return NULL; /* an empty struct is none */
	while (*s != ')') {
		s = sig_next(s, depth + 1);
		if (!s)
			return NULL;
	}
	return s + 1;
}

/* n bytes at the next multiple of align: *at is where they start. */
static bool take(struct wire_reader *r, size_t align, size_t n, size_t *at)
{
	size_t p = (r->pos + (align - 1)) & ~(align - 1);

	if (p > r->len || n > r->len - p)
		return false;
	*at = p;
	r->pos = p + n;
	return true;
}

static uint16_t u16_at(const struct wire_reader *r, size_t at)
{
	uint16_t v;

	memcpy(&v, r->buf + at, sizeof(v));
	return r->swap ? __builtin_bswap16(v) : v;
}

static uint32_t u32_at(const struct wire_reader *r, size_t at)
{
	uint32_t v;

	memcpy(&v, r->buf + at, sizeof(v));
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint64_t u64_at(const struct wire_reader *r, size_t at)
{
	uint64_t v;

	memcpy(&v, r->buf + at, sizeof(v));
	return r->swap ? __builtin_bswap64(v) : v;
}

bool wire_read_align(struct wire_reader *r, size_t n)
{
	size_t at;

	return take(r, n, 0, &at);
}

/* n bytes of text and their NUL, here. */
static bool read_text(struct wire_reader *r, size_t n, const char **s)
{
	if (n >= r->len - r->pos || r->buf[r->pos + n] != '\0')
		return false;
	*s = (const char *)r->buf + r->pos;
	r->pos += n + 1;
	return true;
}

bool wire_read_string(struct wire_reader *r, const char **s)
{
	size_t at;

	return take(r, 4, 4, &at) && read_text(r, u32_at(r, at), s);
}

static bool read_signature(struct wire_reader *r, const char **s)
{
	size_t at;

	return take(r, 1, 1, &at) && read_text(r, r->buf[at], s);
}

bool wire_read_array(struct wire_reader *r, size_t elem_align, size_t *end)
{
	size_t at;

	if (!take(r, 4, 4, &at))
		return false;
	uint32_t n = u32_at(r, at);

	if (!wire_read_align(r, elem_align) || n > r->len - r->pos)
		return false;
	*end = r->pos + n;
	return true;
}

/* A fixed-size value of type c (size bytes). */
static bool read_fixed(struct wire_reader *r, char c, size_t size, struct wire_value *v)
{
	size_t at;
	uint64_t u;

	if (!take(r, size, size, &at))
		return false;
	switch (c) {
	case 'y':
		v->v.i = r->buf[at];
		break;
	case 'n':
		v->v.i = (int16_t)u16_at(r, at);
		break;
	case 'q':
		v->v.i = u16_at(r, at);
		break;
	case 'i':
		v->v.i = (int32_t)u32_at(r, at);
		break;
	case 'x':
		v->v.i = (int64_t)u64_at(r, at);
		break;
	case 't':
		v->v.t = u64_at(r, at);
		break;
	case 'd':
		u = u64_at(r, at);
		memcpy(&v->v.d, &u, sizeof(u));
		break;
	default: /* b u h */
		v->v.i = u32_at(r, at);
		break;
	}
	return true;
}

/* One value of the complete type at *sig (moved past it): into *v if
 * basic, else skipped (v then holds what was read last inside). */
static bool walk(struct wire_reader *r, const char **sig, unsigned depth, struct wire_value *v)
{
	const char *s = *sig, *inner;
	size_t size = fixed_size(*s), end;

	if (depth > WIRE_DEPTH_MAX)
		return false;
	*sig = s + 1;
	if (size)
		return read_fixed(r, *s, size, v);
	switch (*s) {
	case 's':
	case 'o':
		return wire_read_string(r, &v->v.s);
	case 'g':
		return read_signature(r, &v->v.s);
	case 'v': /* exactly one complete type */
		if (!read_signature(r, &inner) || !walk(r, &inner, depth + 1, v))
			return false;
		return *inner == '\0';
	case 'a': /* its elements skipped whole: libdbus checked them */
		*sig = sig_next(s, 0);
		if (!*sig || !wire_read_array(r, type_align(s[1]), &end))
			return false;
		r->pos = end;
		return true;
	case '(':
		if (!wire_read_align(r, 8) || *++s == ')')
			return false;
		while (*s != ')') {
			if (!walk(r, &s, depth + 1, v))
				return false;
		}
		*sig = s + 1;
		return true;
	default:
		return false;
	}
}

bool wire_read_variant(struct wire_reader *r, struct wire_value *v)
{
	const char *sig;

	if (!read_signature(r, &sig))
		return false;
	char type = *sig;

	if (!walk(r, &sig, 0, v) || *sig != '\0')
		return false;
	v->type = type;
	return true;
}

bool wire_read_skip(struct wire_reader *r, const char **sig)
{
	struct wire_value v;

	return walk(r, sig, 0, &v);
}

bool wire_read_message(struct wire_reader *body, const char **sig, const void *msg, size_t len)
{
	const uint8_t *b = msg;
	struct wire_reader h;
	size_t end, code_at;

	*sig = "";
	if (len < 16 || (b[0] != 'l' && b[0] != 'B') || b[3] != 1)
		return false; /* a byte order, then the type, flags and version 1 */
	wire_read_init(&h, b, len, b[0] == 'B');
	uint32_t body_len = u32_at(&h, 4);

	h.pos = 12; /* after the serial: the header fields, each a (code, variant) */
	if (!wire_read_array(&h, 8, &end))
		return false;
	while (h.pos < end) {
		struct wire_value v;

		if (!wire_read_align(&h, 8) || !take(&h, 1, 1, &code_at) || !wire_read_variant(&h, &v))
			return false;
		if (b[code_at] == HEADER_SIGNATURE) {
			if (v.type != 'g')
				return false;
			*sig = v.v.s;
		}
	}
	if (h.pos != end || !wire_read_align(&h, 8) || h.len - h.pos != body_len)
		return false;
	wire_read_init(body, b + h.pos, body_len, b[0] == 'B');
	return true;
}
