/* SPDX-License-Identifier: MIT */
/*
 * Fuzz input -> a BusItem method call built with libdbus, so that every
 * D-Bus type reaches the tree with a valid signature: basic types with any
 * value, arrays, dicts, structs and variants nested in any order, unix fds.
 * Recipe: byte 0 picks the path, 1 the interface, 2 the method, 3 the
 * arguments (one variant mostly; or a bare value, a variant and more, none);
 * the rest are types and values, read as needed (zeros once used up).
 */
#ifndef SETVALUE_RECIPE_H
#define SETVALUE_RECIPE_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The call (with a serial), or NULL. *must_refuse: a SetValue that a leaf
 * must answer with 1 (not exactly one variant, or a variant holding
 * anything but a number or a string). */
DBusMessage *recipe_build(const uint8_t *data, size_t size, bool *must_refuse);

#endif
