/* SPDX-License-Identifier: MIT */
/*
 * Inside the bank service (bank_*.c), not part of its interface: the
 * service record and what bank_service.c, bank_members.c, bank_rules.c and
 * bank_paths.c provide each other.
 */
#ifndef BANK_PRIVATE_H
#define BANK_PRIVATE_H

#include <glib.h>

#include "bank.h"
#include "bank_service.h"
#include "busitem.h"
#include "service_paths.h"
#include "settings.h"

#define BATTERY_PREFIX "com.victronenergy.battery."

/* A battery service being read (GetItems in flight), read, or waiting to be
 * read again after a failed read. */
struct bank_peer {
	struct bank_service *bank;
	char *name;
	DBusPendingCall *call;
	bool at_start;       /* listed at start, not answered yet: the first combination waits for it */
	guint retry;         /* the next read after this one failed, or 0 */
	unsigned backoff_ms; /* how long after a failure of this read the next one goes out */
};

struct bank_service {
	struct config cfg;
	DBusConnection *conn;
	struct busitem_tree *tree;
	struct settings_client *settings;
	service_quit_fn quit;
	void *quit_data;
	GPtrArray *defs;  /* struct path_def: the bank's paths (bank_paths.c) */
	GPtrArray *items; /* struct busitem, one per def */
	/* members (bank_members.c) */
	GHashTable *peers;          /* name -> struct bank_peer */
	GHashTable *fields;         /* member path -> struct bank_field */
	DBusPendingCall *list_call; /* ListNames at start */
	unsigned startup;           /* GetItems of the first ListNames still out (and not cancelled) */
	bool started;               /* every service there at start was read */
	struct bank_member m[BANK_MAX_MEMBERS];
	char *owner[BANK_MAX_MEMBERS]; /* unique name while present */
	char *name[BANK_MAX_MEMBERS];
	uint64_t heard_ms[BANK_MAX_MEMBERS]; /* its last GetItems reply or ItemsChanged */
	unsigned n;
	GHashTable *unwatched; /* names of members beyond BANK_MAX_MEMBERS */
	GHashTable *followed;  /* names with an ItemsChanged rule (bank_rules.c) */
	/* combination */
	struct bank_output out;
	struct bank_ramp ramp;
	uint32_t last_cvl_mv;
	bool registering, registered;
	guint tick_source;
};

/* bank_members.c */
int bank_members_start(struct bank_service *b);
void bank_members_stop(struct bank_service *b);
/* A member present but silent for bank_member_timeout is offline until it
 * speaks again (a hung service keeps its name). */
void bank_members_check_silent(struct bank_service *b, uint64_t now_ms);

/* bank_rules.c: the match rules. start adds the one for NameOwnerChanged
 * (-EIO when the daemon refuses it); follow adds name's ItemsChanged rule
 * unless it has one, drop removes it if it has one. */
int bank_rules_start(struct bank_service *b);
void bank_rules_follow(struct bank_service *b, const char *name);
void bank_rules_drop(struct bank_service *b, const char *name);
void bank_rules_stop(struct bank_service *b);

/* Monotonic ms. */
uint64_t bank_now_ms(void);

/* bank_service.c: combine and publish (one ItemsChanged). */
void bank_publish(struct bank_service *b);

/* bank_paths.c: the bank's paths, their type and text format those of the
 * battery service's own table. */
void bank_paths_build(struct bank_service *b, busitem_set_fn custom_name_set);
void bank_paths_publish(struct bank_service *b);
struct busitem *bank_item(struct bank_service *b, const char *path);

#endif
