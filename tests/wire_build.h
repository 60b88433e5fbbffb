/* SPDX-License-Identifier: MIT */
/*
 * For the tests of the wire reader (include/io/dbus_read.h): a writer of
 * D-Bus messages in either byte order, so that big-endian messages, which
 * libdbus never builds on this machine, can be made and handed to
 * dbus_message_demarshal() (which checks every byte of them) and read back.
 * Also values of random types for an a{sa{sv}} (the bank's input).
 */
#ifndef WIRE_BUILD_H
#define WIRE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wb {
	uint8_t *buf;
	size_t len, cap;
	bool big;
};

void wb_init(struct wb *w, bool big);
void wb_free(struct wb *w);

void wb_align(struct wb *w, size_t n);
void wb_u8(struct wb *w, uint8_t v);
void wb_u16(struct wb *w, uint16_t v);
void wb_u32(struct wb *w, uint32_t v);
void wb_u64(struct wb *w, uint64_t v);
void wb_double(struct wb *w, double v);
void wb_string(struct wb *w, const char *s); /* also an object path */
void wb_sig(struct wb *w, const char *s);

/* An array: begin writes the length slot and the padding to the elements
 * (elem_align); end fills in the length. */
size_t wb_array_begin(struct wb *w, size_t elem_align, size_t *start);
void wb_array_end(struct wb *w, size_t slot, size_t start);

/* A whole ItemsChanged signal on "/" in out (of out's byte order) whose
 * body is the bytes of body (written from offset 0) with signature sig. */
void wb_message(struct wb *out, const char *sig, const struct wb *body, uint32_t serial);

/* An a{sa{sv}} body: wb_items_begin() opens the array; per entry,
 * wb_item_begin() writes its path and opens its properties, then per
 * property wb_key() and a variant (its signature, then its value);
 * wb_item_end() closes the entry, wb_items_end() the array. */
struct wb_array {
	size_t slot, start;
};
void wb_items_begin(struct wb *w, struct wb_array *a);
void wb_item_begin(struct wb *w, struct wb_array *props, const char *path);
void wb_key(struct wb *w, const char *key);
void wb_item_end(struct wb *w, const struct wb_array *props);
void wb_items_end(struct wb *w, const struct wb_array *a);

/* A small deterministic random source (xorshift). */
uint32_t wb_rand(uint32_t *state);

/* A variant of a random type and value: every basic type but h (no fds
 * travel with the message), empty and full arrays, a dict, structs, a
 * variant in a variant; numbers near the bank's limits and beyond, NaN,
 * infinities; strings short and long. */
void wb_random_variant(struct wb *w, uint32_t *state);

#endif
