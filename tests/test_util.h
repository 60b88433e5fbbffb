/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmocka tests: captured frames and frame surgery. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "bms_types.h"

/* Load tests/data/<name> (a hex dump) into buf; fails the test on error.
 * Returns the byte count. */
size_t test_load_frame(const char *name, uint8_t *buf, size_t size);

/* A realistic snapshot with n cells for round trips (LiFePO4 defaults). */
void test_make_snapshot(struct bms_snapshot *s, unsigned n, unsigned seed);

#endif
