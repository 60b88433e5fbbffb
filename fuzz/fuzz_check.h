/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer target here shares: libFuzzer's entry points, and
 * CHECK, the oracle's assertion, always on whatever NDEBUG says (the oracle
 * is the point): a failed one aborts, which libFuzzer reports as a crash.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHECK(x) \
	do { \
		if (!(x)) \
			abort(); \
	} while (0)

/* Optional: only the targets that prepare something define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
