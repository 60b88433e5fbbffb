/* SPDX-License-Identifier: MIT */
/*
 * Keeps one core busy at the scheduler's lowest priority (SCHED_IDLE), for
 * scripts/bench.sh BENCH_BUSY=1: any other task that wakes takes the core at
 * once, and the core never goes idle. On a virtual machine leaving idle is
 * an exit to the host, and the host may run other guests on an idle core,
 * which leaves its caches cold; both weigh on whichever task wakes first.
 * With every core kept busy the CPU windows measure the programs' own work
 * with warm caches. The loop touches no memory.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

int main(void)
{
	struct sched_param p = { .sched_priority = 0 };

	if (sched_setscheduler(0, SCHED_IDLE, &p) != 0) {
		fprintf(stderr, "bench_busy: SCHED_IDLE refused: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
	}
}
