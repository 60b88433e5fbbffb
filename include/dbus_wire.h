/* SPDX-License-Identifier: MIT */
/*
 * A minimal writer of the D-Bus wire format (little endian), for the one
 * hot message: the ItemsChanged signal sent every poll. Building it with
 * libdbus's iterators costs ~8000 instructions per item (each container
 * validates its signature); writing the bytes directly and handing the
 * finished message to dbus_message_demarshal() costs a fraction. Used for
 * signals only; method replies still go through libdbus.
 */
#ifndef DBUS_WIRE_H
#define DBUS_WIRE_H

#include <dbus/dbus.h>
#include <stddef.h>
#include <stdint.h>

struct wire {
	uint8_t *buf;
	size_t len;
	size_t cap;
};

void wire_init(struct wire *w);
void wire_reset(struct wire *w);
void wire_free(struct wire *w);

void wire_align(struct wire *w, size_t n);
void wire_byte(struct wire *w, uint8_t v);
void wire_u32(struct wire *w, uint32_t v);
void wire_i32(struct wire *w, int32_t v);
void wire_double(struct wire *w, double v);
void wire_string(struct wire *w, const char *s);    /* also object paths */
void wire_signature(struct wire *w, const char *s);

/* Arrays: begin writes the length slot and aligns to the element alignment;
 * end patches the length. */
size_t wire_array_begin(struct wire *w, size_t elem_align, size_t *start);
void wire_array_end(struct wire *w, size_t slot, size_t start);

/* A signal with the given body (signature sig) as a libdbus message, or
 * NULL if libdbus rejects the bytes. serial must not be 0. */
DBusMessage *wire_signal(const char *path, const char *iface, const char *member, const char *sig,
			 const struct wire *body, uint32_t serial);

#endif
