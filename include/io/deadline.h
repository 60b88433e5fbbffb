/* SPDX-License-Identifier: MIT */
/*
 * A timer that is moved, not replaced: one GSource in the default main
 * context whose due time is a plain field. Setting or clearing it calls no
 * GLib function (no source is created or destroyed, nothing is allocated,
 * the loop is not woken): the loop reads the due time before each poll.
 * For timers re-armed on every event (the link's next deadline, the
 * policy tick). One thread: set it only from the thread running the
 * default context. Times are link_now_ms()'s: g_get_monotonic_time() / 1000.
 */
#ifndef DEADLINE_H
#define DEADLINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct deadline;

/* A deadline that calls fn(data) once each time it falls due; not armed.
 * Its priority is just below G_PRIORITY_DEFAULT: fd sources ready in the
 * same iteration are dispatched first. */
struct deadline *deadline_new(void (*fn)(void *data), void *data);

/* Fall due at due_ms (at once when it has passed); replaces any earlier
 * time. Disarmed before fn is called, so fn may set it again. */
void deadline_set(struct deadline *d, uint64_t due_ms);
void deadline_clear(struct deadline *d);
bool deadline_armed(const struct deadline *d);

/* Destroy; NULL allowed. */
void deadline_free(struct deadline *d);

#endif
