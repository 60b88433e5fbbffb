/* SPDX-License-Identifier: MIT */
/* Run jkbms-sim as a child on a real pseudo-terminal and script it. */
#ifndef SIM_HARNESS_H
#define SIM_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct simproc {
	pid_t pid;
	int to_sim;     /* its stdin */
	FILE *from_sim; /* its stdout */
	char dir[256];  /* private temporary directory */
	char link[300]; /* dir/ttyJK: the symlink the service opens */
};

/* Start the simulator with extra arguments (NULL-terminated list, may be
 * NULL) and wait for its "pty" line. Fails the test on error. */
void sim_start(struct simproc *sp, const char *const *args);
/* The same with the link named `name` (the service's tty name). */
void sim_start_named(struct simproc *sp, const char *name, const char *const *args);

/* Send one command; return its answer line (static buffer), skipping
 * asynchronous "pty" lines. */
const char *sim_cmd(struct simproc *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A numeric field of the "status" line. */
double sim_status(struct simproc *sp, const char *key);

void sim_stop(struct simproc *sp);

/* Iterate the default GLib main context until cond(ud) is true or
 * timeout_ms passes. Returns cond's final value. */
bool run_until(bool (*cond)(void *ud), void *ud, unsigned timeout_ms);

/* Iterate the main context for ms milliseconds. */
void run_for(unsigned ms);

#endif
