/* SPDX-License-Identifier: MIT */
/* Steps the wire reader's tests share (test_dbus_read*.c): messages built
 * by libdbus or by wire_build, and a walk of an a{sa{sv}} with the reader. */
#ifndef READ_STEPS_H
#define READ_STEPS_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbus_read.h"
#include "wire_build.h"

/* One property read: the path of its entry, its key, its value. */
struct read_prop {
	const char *path, *key;
	struct wire_value v;
};

#define READ_PROPS_MAX 64

struct read_items {
	struct read_prop p[READ_PROPS_MAX];
	unsigned n;
};

/* Every property of the a{sa{sv}} message of len bytes at bytes (at most
 * READ_PROPS_MAX); false as soon as a read fails. */
bool read_items(const void *bytes, size_t len, struct read_items *out);

/* The same for a body alone. */
bool read_body(struct wire_reader *r, struct read_items *out);

/* A basic value to write and read back: its path, type, and value (i for
 * y b n q i u x, t, d, s for s o g). */
struct read_case {
	const char *path;
	char type;
	int64_t i;
	uint64_t t;
	double d;
	const char *s;
};

void read_check_case(const struct wire_value *v, const struct read_case *c);

/* An ItemsChanged with {path: {"Value": <value>}} per case, by libdbus. */
DBusMessage *read_libdbus_cases(const struct read_case *cases, size_t n);

/* The same by wire_build, in msg (wb_free() it). */
void read_wb_cases(struct wb *msg, bool big, const struct read_case *cases, size_t n);

/* Containers in a variant, by signature: per container k an entry "/cK"
 * with "Value": that container and "Text": <double>100.5 + k. */
#define READ_CONTAINERS 14
extern const char *const read_containers[READ_CONTAINERS];

void read_wb_containers(struct wb *body);
DBusMessage *read_libdbus_containers(void);

#endif
