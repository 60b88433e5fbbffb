/* SPDX-License-Identifier: MIT */
/*
 * A small reader of the D-Bus wire format, the counterpart of dbus_wire.h:
 * the body of a whole marshalled message (dbus_message_marshal()), read in
 * place. libdbus's iterators check a type signature at every step: reading
 * a member's ItemsChanged (23 entries) with them cost the bank ~60k
 * instructions. Either byte order ('l' or 'B').
 *
 * Every read is bounds-checked: on anything inconsistent (a length past the
 * end, a string without its NUL, a variant whose signature is not one
 * complete type, nesting deeper than D-Bus allows) a call returns false,
 * and the caller gives up on the message; nothing is read outside the
 * buffer. The reader checks the structure only: what libdbus checked when
 * it received the message (UTF-8, no NUL inside a string, the padding's
 * zeros, the insides of arrays it skips) it takes as checked.
 */
#ifndef DBUS_READ_H
#define DBUS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_reader {
	const uint8_t *buf; /* the body: it starts 8-aligned, so offsets align as in the message */
	size_t len;
	size_t pos; /* the next byte to read; a caller may set it to an array's end to skip the rest */
	bool swap;  /* the message's byte order is not this machine's */
};

/* One value: a basic one read, or any other skipped whole. */
struct wire_value {
	char type; /* its D-Bus type code; for a container (skipped) its first: 'a', '(' or 'v' */
	union {
		int64_t i;     /* y b n q i u x h (b as on the wire: 0 or 1) */
		uint64_t t;    /* t */
		double d;      /* d */
		const char *s; /* s o g: NUL-terminated, inside the buffer */
	} v;
};

/* The body of the message of len bytes at msg (exactly one whole message)
 * in *body, and its signature in *sig ("" when it has none; inside msg).
 * false when the bytes are not a message. */
bool wire_read_message(struct wire_reader *body, const char **sig, const void *msg, size_t len);

/* A reader of the len bytes at buf as a body of the given byte order. */
void wire_read_init(struct wire_reader *r, const void *buf, size_t len, bool big_endian);

/* Move to the next multiple of n (1, 2, 4 or 8): a struct or dict entry
 * starts at 8. */
bool wire_read_align(struct wire_reader *r, size_t n);

/* A string or object path. */
bool wire_read_string(struct wire_reader *r, const char **s);

/* An array's length, then the padding to its first element (elem_align:
 * the element type's alignment, 8 for dict entries): its elements are
 * from r->pos up to *end (within the buffer). */
bool wire_read_array(struct wire_reader *r, size_t elem_align, size_t *end);

/* A variant: its value if of a basic type, else skipped. */
bool wire_read_variant(struct wire_reader *r, struct wire_value *v);

/* Skip one value of the complete type at *sig (a signature), *sig moved
 * past that type. */
bool wire_read_skip(struct wire_reader *r, const char **sig);

#endif
