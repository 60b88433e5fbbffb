/* SPDX-License-Identifier: MIT */
/*
 * The battery service's state file: loaded once the BMS's unique id is
 * known, written when what it holds changes; a change of the charge mode
 * alone at most once a minute, which FETs are ours at once
 * (docs/charge-control.md "What survives a restart").
 */
#define G_LOG_DOMAIN "service"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "service_private.h"
#include "state_file.h"

#define STATE_MODE_PERIOD_MS 60000

static void write_now(struct service *s)
{
	struct service_state *st = &s->state;
	char err[256];

	if (st->source)
		g_source_remove(st->source);
	st->source = 0;
	if (state_file_save(st->path, s->id.uid, &st->saved, err, sizeof(err)) < 0) {
		if (!st->warned)
			LOG_WARN("cannot save the charge state to %s: %s", st->path, err);
		st->warned = true;
		return;
	}
	st->written_ms = link_now_ms();
}

static gboolean due_cb(gpointer data)
{
	struct service *s = data;

	s->state.source = 0;
	write_now(s);
	return G_SOURCE_REMOVE;
}

void service_state_save(struct service *s)
{
	struct service_state *st = &s->state;
	struct policy_persist now;

	if (!st->path)
		return;
	policy_persist_get(&s->pstate, &now);
	if (memcmp(&now, &st->saved, sizeof(now)) == 0)
		return;
	bool fets = memcmp(now.fet_owned, st->saved.fet_owned, sizeof(now.fet_owned)) != 0 ||
		memcmp(now.fet_forced, st->saved.fet_forced, sizeof(now.fet_forced)) != 0 ||
		memcmp(now.fet_locked, st->saved.fet_locked, sizeof(now.fet_locked)) != 0;
	uint64_t since = link_now_ms() - st->written_ms;

	st->saved = now;
	if (fets || !st->written_ms || since >= STATE_MODE_PERIOD_MS)
		write_now(s);
	else if (!st->source)
		st->source = g_timeout_add((guint)(STATE_MODE_PERIOD_MS - since), due_cb, s);
}

void service_state_load(struct service *s)
{
	struct service_state *st = &s->state;
	char err[256];

	st->path = g_strdup_printf("%s/%s.state", s->cfg.state_dir, s->id.uid);
	policy_persist_get(&s->pstate, &st->saved);
	int r = state_file_load(st->path, s->id.uid, &st->saved, err, sizeof(err));

	if (r == -ENOENT)
		return;
	if (r < 0) {
		LOG_WARN("charge state in %s not used: %s", st->path, err);
		return;
	}
	policy_restore(&s->pstate, &st->saved);
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++)
		s->force_off[f] = st->saved.fet_forced[f];
	busitem_set_int(service_item(s, "/Settings/ForceChargingOff"), s->force_off[POLICY_FET_CHARGE]);
	busitem_set_int(service_item(s, "/Settings/ForceDischargingOff"), s->force_off[POLICY_FET_DISCHARGE]);
	LOG_INFO("charge state restored from %s: %s%s%s%s%s", st->path, policy_mode_name(st->saved.mode),
		 st->saved.fet_owned[POLICY_FET_CHARGE] ? ", charge FET switched off by us" : "",
		 st->saved.fet_owned[POLICY_FET_DISCHARGE] ? ", discharge FET switched off by us" : "",
		 st->saved.fet_forced[POLICY_FET_CHARGE] ? ", charge FET forced off" : "",
		 st->saved.fet_forced[POLICY_FET_DISCHARGE] ? ", discharge FET forced off" : "");
}

void service_state_free(struct service *s)
{
	if (s->state.source)
		write_now(s); /* a deferred mode change */
	g_free(s->state.path);
}
