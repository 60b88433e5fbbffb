/* SPDX-License-Identifier: MIT */
/*
 * One cmocka group split into shards that ctest runs at once (the long
 * end-to-end groups mostly wait on the service's real-time holds). Every
 * case belongs to exactly one shard, so a case added to the group runs
 * without touching the build.
 */
#ifndef TEST_SHARD_H
#define TEST_SHARD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Runs the cases of tests[0..n) whose index is K modulo N for an argument
 * "K/N" (tests/CMakeLists.txt jk_test SHARDS), all of them without one. A
 * malformed argument or an empty shard fails: nothing passes unrun. */
int test_run_shard(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv);

#define TEST_RUN_SHARD(group, tests, argc, argv) \
	test_run_shard(group, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)

#endif
