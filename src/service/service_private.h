/* SPDX-License-Identifier: MIT */
/*
 * Inside the battery service (service*.c), not part of its interface: the
 * service record, and what service.c, service_control.c and
 * service_state.c provide each other.
 */
#ifndef SERVICE_PRIVATE_H
#define SERVICE_PRIVATE_H

#include <glib.h>

#include "battery.h"
#include "busitem.h"
#include "config.h"
#include "deadline.h"
#include "history.h"
#include "identity.h"
#include "link.h"
#include "policy.h"
#include "service.h"
#include "service_paths.h"
#include "settings.h"

enum service_phase {
	PHASE_PROBING,     /* no valid reply yet */
	PHASE_REGISTERING, /* first reply in; waiting for the device instance */
	PHASE_RUNNING,     /* name owned */
};

/* The state file (service_state.c). */
struct service_state {
	char *path;
	struct policy_persist saved; /* what the file holds */
	uint64_t written_ms;
	guint source; /* a deferred write */
	bool warned;
};

/* The history and its file (service_history.c). */
struct service_history {
	char *path; /* NULL until the unique id is known */
	struct history h;
	bool written; /* a write was tried */
	uint64_t written_ms;
	guint source; /* the next write */
	bool warned;
};

struct service {
	struct config cfg;
	char *tty, *bus_name;
	char usb_serial[64];
	int address; /* on a port with several BMSs, else -1 */
	struct bms_identity id;
	char id_serial[17]; /* the PB serial the identity is from, "" when none */
	bool swapped;       /* another pack answers: leaving */
	DBusConnection *conn;
	struct busitem_tree *tree;
	struct settings_client *settings;
	struct link *link; /* the port's */
	unsigned unit;
	service_quit_fn quit;
	void *quit_data;
	enum service_phase phase;
	guint leave_source;
	struct deadline *tick;  /* the policy tick (service_control.c) */
	struct busitem **items; /* one per service_paths[] entry */
	struct busitem *cells[BMS_MAX_CELLS];
	unsigned ncells;
	struct battery bat;
	/* charge control (service_control.c) */
	struct policy_state pstate;
	struct policy_output pout;
	bool have_pout;
	bool force_off[POLICY_FET_COUNT];
	bool reset_lock[POLICY_FET_COUNT];
	enum policy_fet_result fet_result[POLICY_FET_COUNT];
	bool no_write_logged; /* the family has no FET write: said once */
	uint32_t clamps_logged;
	struct service_state state;
	struct service_history hist;
	uint64_t first_reply_ms;
	uint64_t diag_trouble, diag_at; /* link counters last published */
};

/* The item of a path the service sets itself. */
struct busitem *service_item(struct service *s, const char *path);

/* Everything from the battery and the link state; one flush. fresh: a new
 * reply arrived. */
void service_publish(struct service *s, bool fresh);

/* The /History/ paths alone (after a clear; the caller flushes). */
void service_publish_history(struct service *s);

/* service_control.c: run the policy, queue its FET writes, log what
 * changed, keep the state file; re-arms the policy's own tick. */
void service_run_policy(struct service *s, bool fresh, bool lost);

/* The policy tick: runs the policy and publishes without a frame. */
void service_tick_cb(void *data);

/* A FET write finished (a link event). */
void service_write_done(struct service *s, const struct poller_write_result *r);

/* service_state.c */
void service_state_load(struct service *s);
void service_state_save(struct service *s);
void service_state_free(struct service *s);

/* service_history.c */
void service_history_load(struct service *s);
/* After the policy ran: feed the history, keep its file. */
void service_history_step(struct service *s, bool fresh, bool lost);
/* /History/Clear. */
void service_history_clear(struct service *s);
/* Writes what changed since the last write. */
void service_history_free(struct service *s);

#endif
