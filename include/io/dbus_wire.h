/* SPDX-License-Identifier: MIT */
/*
 * A minimal writer of the D-Bus wire format (little endian): the one encoder
 * of every message the BusItem tree sends (ItemsChanged, PropertiesChanged,
 * and the replies to GetItems, GetValue, GetText, SetValue, Introspect).
 * libdbus's iterators validate a signature per container: with them the
 * whole service cost ~263k instructions per poll (16 cells, every value
 * changing, callgrind), written here ~170k. A message is written header
 * first, then its body. wire_finish() hands the bytes to
 * dbus_message_demarshal(), which checks all of them, so a writer bug gives
 * NULL, never a bad message: right for replies, but it was 124k of the 170k
 * for the ItemsChanged of every poll. wire_send() therefore writes a signal
 * straight onto the connection's socket: the bus daemon checks every
 * message it receives anyway (and would disconnect a sender of a bad one),
 * and the tests read every signal back through libdbus, which checks it.
 */
#ifndef DBUS_WIRE_H
#define DBUS_WIRE_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t body; /* where the body starts (8-aligned, so offsets align as in the message) */
};

void wire_init(struct wire *w);
void wire_free(struct wire *w);

void wire_align(struct wire *w, size_t n); /* n: 1, 2, 4 or 8 */
void wire_byte(struct wire *w, uint8_t v);
void wire_u32(struct wire *w, uint32_t v);
void wire_i32(struct wire *w, int32_t v);
void wire_double(struct wire *w, double v);
void wire_string(struct wire *w, const char *s);          /* also object paths; valid UTF-8 */
void wire_signature(struct wire *w, const char *s);       /* also a variant's type */
void wire_bytes(struct wire *w, const void *p, size_t n); /* bytes as they are, no alignment */

/* Numbers as text, without printf (the hot path of every ItemsChanged): a
 * string of prefix, v and suffix. v in decimal, or in upper-case hex of its
 * two's complement; a double with decimals 0-6 as printf's "%.*f" writes it
 * (rounding included), except that it never writes "-0". */
void wire_text_int(struct wire *w, const char *prefix, int32_t v, bool hex, const char *suffix);
void wire_text_fixed(struct wire *w, const char *prefix, double v, int decimals, const char *suffix);

/* Arrays: begin writes the length slot and aligns to the element alignment;
 * end patches the length. */
size_t wire_array_begin(struct wire *w, size_t elem_align, size_t *start);
void wire_array_end(struct wire *w, size_t slot, size_t start);

/* Start a message in w (emptied first): its header, for a body of signature
 * sig that the caller then writes. A signal from path, or the method return
 * to call (to its sender and serial). */
void wire_begin_signal(struct wire *w, const char *path, const char *iface, const char *member, const char *sig);
void wire_begin_return(struct wire *w, DBusMessage *call, const char *sig);

/* The message as libdbus holds it (unref it), or NULL if libdbus rejects the
 * bytes. serial must not be 0 (nor the serial of the call a return answers). */
DBusMessage *wire_finish(struct wire *w, uint32_t serial);

/* How long the rest of a message begun on the socket may wait for room. */
#define WIRE_SEND_WAIT_MS 1000

/* Send the message written in w on conn (of the thread running it; libdbus
 * must not be sending from another thread). When libdbus has nothing
 * queued, the bytes go straight onto the socket in one call; otherwise, or
 * when the socket is full, through dbus_message_demarshal() and libdbus's
 * queue, so the order of messages is kept. Returns 0; -EMSGSIZE (too
 * long) or -EINVAL (libdbus refused the bytes: an encoder bug) with
 * nothing sent; or -ETIMEDOUT when a message begun could not be finished
 * within WIRE_SEND_WAIT_MS: the stream is then corrupt and conn is closed
 * (its owner sees Disconnected). */
int wire_send(struct wire *w, DBusConnection *conn, uint32_t serial);

#endif
