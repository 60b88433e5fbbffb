/* SPDX-License-Identifier: MIT */
/* A shard of a cmocka group (test_shard.h). */
#include "test_shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_run_shard(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv)
{
	unsigned k = 0, parts = 1;
	char end;

	/* Digits and one slash only: %u alone takes "-4" as 4294967292. */
	if (argc > 2 ||
	    (argc == 2 &&
	     (strspn(argv[1], "0123456789/") != strlen(argv[1]) || sscanf(argv[1], "%u/%u%c", &k, &parts, &end) != 2 ||
	      parts == 0 || k >= parts))) {
		fprintf(stderr, "%s: usage: %s [K/N] (shard K of N, 0 <= K < N)\n", group, argv[0]);
		return 2;
	}

	struct CMUnitTest *pick = calloc(n ? n : 1, sizeof(*pick));
	size_t m = 0;

	if (!pick)
		return 2;
	for (size_t i = 0; i < n; i++) {
		if (i % parts == k)
			pick[m++] = tests[i];
	}
	if (m == 0) {
		fprintf(stderr, "%s: shard %u/%u holds no case (the group has %zu)\n", group, k, parts, n);
		free(pick);
		return 2;
	}

	int failed = _cmocka_run_group_tests(group, pick, m, NULL, NULL);

	free(pick);
	return failed;
}
