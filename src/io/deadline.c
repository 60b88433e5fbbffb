/* SPDX-License-Identifier: MIT */
/* A GSource whose prepare() and check() read the due time (deadline.h). */
#include "deadline.h"

#include <stdbool.h>

struct deadline {
	GSource source; /* first: the source is the deadline */
	void (*fn)(void *data);
	void *data;
	bool armed;
	uint64_t due_ms;
};

static uint64_t now_ms(GSource *source)
{
	return (uint64_t)(g_source_get_time(source) / 1000);
}

static gboolean deadline_prepare(GSource *source, gint *timeout)
{
	struct deadline *d = (struct deadline *)source;
	uint64_t now;

	*timeout = -1;
	if (!d->armed)
		return FALSE;
	now = now_ms(source);
	if (now >= d->due_ms) {
		*timeout = 0;
		return TRUE;
	}
	/* Longer waits come back here early: harmless. */
	*timeout = (gint)MIN(d->due_ms - now, (uint64_t)G_MAXINT / 2);
	return FALSE;
}

static gboolean deadline_check(GSource *source)
{
	struct deadline *d = (struct deadline *)source;

	return d->armed && now_ms(source) >= d->due_ms;
}

static gboolean deadline_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	struct deadline *d = (struct deadline *)source;

	(void)cb;
	(void)data;
	d->armed = false;
	d->fn(d->data);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs deadline_funcs = {
	.prepare = deadline_prepare,
	.check = deadline_check,
	.dispatch = deadline_dispatch,
};

struct deadline *deadline_new(void (*fn)(void *data), void *data)
{
	struct deadline *d = (struct deadline *)g_source_new(&deadline_funcs, sizeof(struct deadline));

	d->fn = fn;
	d->data = data;
	g_source_set_name(&d->source, "deadline");
	/* Input ready at the same moment goes first: a reply that arrives as
	 * its deadline passes is read before the timeout is acted on. */
	g_source_set_priority(&d->source, G_PRIORITY_DEFAULT + 1);
	g_source_attach(&d->source, NULL);
	return d;
}

void deadline_set(struct deadline *d, uint64_t due_ms)
{
	d->armed = true;
	d->due_ms = due_ms;
}

void deadline_clear(struct deadline *d)
{
	d->armed = false;
}

bool deadline_armed(const struct deadline *d)
{
	return d->armed;
}

void deadline_free(struct deadline *d)
{
	if (!d)
		return;
	g_source_destroy(&d->source);
	g_source_unref(&d->source);
}
