/* SPDX-License-Identifier: MIT */
/*
 * The battery service's history (docs/dbus-paths.md "History"): restored
 * from "<state_dir>/<uid>.history" once the BMS's unique id is known, fed
 * every publishing pass, written when it changed but at most once a minute,
 * and on the way out (SIGTERM). A file that cannot be trusted is set aside
 * as "<file>.bad" with a warning, and the history starts empty.
 */
#define G_LOG_DOMAIN "service"

#include <errno.h>

#include "file_atomic.h"
#include "history_file.h"
#include "log.h"
#include "service_private.h"

#define HISTORY_SAVE_PERIOD_MS 60000
#define HISTORY_BAD_SUFFIX ".bad"

static void write_now(struct service *s)
{
	struct service_history *sh = &s->hist;
	char err[256];

	if (sh->source)
		g_source_remove(sh->source);
	sh->source = 0;
	sh->written_ms = link_now_ms();
	sh->written = true;
	if (history_file_save(sh->path, s->id.uid, &sh->h.v, err, sizeof(err)) < 0) {
		if (!sh->warned)
			LOG_WARN("cannot save the history to %s: %s", sh->path, err);
		sh->warned = true;
		return; /* tried again with the next change, a minute on */
	}
	sh->warned = false;
	history_saved(&sh->h);
}

static gboolean due_cb(gpointer data)
{
	struct service *s = data;

	s->hist.source = 0;
	if (s->hist.h.changed)
		write_now(s);
	return G_SOURCE_REMOVE;
}

/* A change is written at once when nothing was written for a minute,
 * else when the minute is up. */
static void save_soon(struct service *s)
{
	struct service_history *sh = &s->hist;
	uint64_t since = link_now_ms() - sh->written_ms;

	if (!sh->path || !sh->h.changed || sh->source)
		return;
	if (!sh->written || since >= HISTORY_SAVE_PERIOD_MS)
		write_now(s);
	else
		sh->source = g_timeout_add((guint)(HISTORY_SAVE_PERIOD_MS - since), due_cb, s);
}

void service_history_load(struct service *s)
{
	struct service_history *sh = &s->hist;
	struct history_values v;
	char err[256], err2[256];

	sh->path = g_strdup_printf("%s/%s.history", s->cfg.state_dir, s->id.uid);
	int r = history_file_load(sh->path, s->id.uid, &v, err, sizeof(err));

	if (r == 0) {
		history_restore(&sh->h, &v);
		LOG_INFO("history restored from %s", sh->path);
		return;
	}
	history_init(&sh->h);
	if (r == -ENOENT) {
		/* The charge state may know the last full charge already. */
		sh->h.v.last_full_wall_s = s->pstate.last_full_wall_s;
	} else if (r == -EINVAL && file_set_aside(sh->path, HISTORY_BAD_SUFFIX, err2, sizeof(err2)) == 0) {
		LOG_WARN("history in %s not trusted (%s): set aside as %s%s, starting an empty history", sh->path, err,
			 sh->path, HISTORY_BAD_SUFFIX);
	} else {
		LOG_WARN("history in %s not used (%s%s%s): starting an empty history", sh->path, err,
			 r == -EINVAL ? "; " : "", r == -EINVAL ? err2 : "");
	}
	sh->h.changed = true;
}

void service_history_step(struct service *s, bool fresh, bool lost)
{
	struct history_input in = {
		.bat = &s->bat,
		.pol = s->have_pout ? &s->pout : NULL,
		.fresh = fresh,
		.lost = lost,
		.now_ms = link_now_ms(),
		.wall_s = g_get_real_time() / 1000000,
	};

	if (!s->hist.path)
		return; /* not loaded yet: the unique id is not known */
	history_step(&s->hist.h, &in);
	save_soon(s);
}

void service_history_clear(struct service *s)
{
	history_clear(&s->hist.h);
	LOG_INFO("history cleared by the user");
	save_soon(s);
}

void service_history_free(struct service *s)
{
	struct service_history *sh = &s->hist;

	if (sh->path && sh->h.changed)
		write_now(s);
	if (sh->source)
		g_source_remove(sh->source);
	g_free(sh->path);
}
