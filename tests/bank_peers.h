/* SPDX-License-Identifier: MIT */
/*
 * The rig of the bank tests whose members are played by the test
 * (test_bank_peers.c, test_bank_rules.c): the real dbus-jkbms --bank on a
 * private dbus-daemon with the settings stand-in, and members played
 * through GDBus, one connection each as a member service has, so that they
 * can publish what no real member would and be timed as the test needs.
 */
#ifndef BANK_PEERS_H
#define BANK_PEERS_H

#include <stdbool.h>

#include <gio/gio.h>

#include "bus_harness.h"

#define BANK "com.victronenergy.battery.jkbank"
#define PEERS 18
#define PEER_CALLS 8
#define PEER_ERROR "org.freedesktop.DBus.Error.Failed" /* what fail_reads answer */

/* A member played by the test: its own connection, name and values. */
struct peer {
	GDBusConnection *conn;
	GHashTable *values; /* path -> GVariant */
	guint reg;
	char name[64];    /* the battery name it owns, or "" */
	char *after_path; /* published with ItemsChanged right after the */
	GVariant *after;  /* next GetItems reply, when set */
	unsigned reads;   /* GetItems answered */
	/* A service alive but not answering, as on a GX still loading: the
	 * next fail_reads GetItems get an error, the next hold_reads none
	 * (held until the peer is down), errors first. */
	unsigned fail_reads, hold_reads;
	GSList *held;               /* GDBusMethodInvocation, unanswered */
	unsigned calls;             /* GetItems received, answered or not */
	gint64 call_us[PEER_CALLS]; /* when the first ones came (monotonic) */
};

struct peers_world {
	struct bus bus;
	struct child settings, bank;
	char config[400];
	struct peer p[PEERS];
	GDBusNodeInfo *node;
	char *bank_unique;        /* the bank's unique name, once asked */
	GDBusConnection *monitor; /* getitems_watch() */
	gint getitems;            /* GetItems seen by the monitor */
};

/* A private bus with the settings stand-in; no bank yet. */
struct peers_world *peers_world_up(void);
/* cmocka teardown: stops whatever the running test started. */
int peers_world_teardown(void **state);
/* dbus-jkbms --bank, up with its name. */
void peers_bank_start(struct peers_world *w);

/* Connect peer k (uid "PACKkk", CCL ccl, a member) and, when own, own its
 * battery name com.victronenergy.battery.peerKK. */
void peer_up(struct peers_world *w, unsigned k, double ccl, bool own);
void peer_own(struct peers_world *w, unsigned k);
/* Peer k takes the name of peer as from its owner (one NameOwnerChanged
 * from the old owner to the new). */
void peer_own_as(struct peers_world *w, unsigned k, unsigned as);
void peer_release(struct peers_world *w, unsigned k);
void peer_down(struct peer *p);
/* Set path's value without a signal (what the next GetItems returns). */
void peer_set(struct peer *p, const char *path, GVariant *v);
/* Publish path's new value with an ItemsChanged, as a member does. */
void peer_change(struct peer *p, const char *path, GVariant *v);
/* Publish path = v with an ItemsChanged right after answering the next
 * GetItems, before anything else (the reply holds the old value). */
void peer_change_after_reply(struct peer *p, const char *path, GVariant *v);
GVariant *invalid_value(void);
/* Until peer k has answered reads GetItems (fails the test after ms). */
void wait_reads(struct peers_world *w, unsigned k, unsigned reads, unsigned ms);
/* Until peer k was sent calls GetItems, answered or not (fails after ms). */
void wait_calls(struct peers_world *w, unsigned k, unsigned calls, unsigned ms);

/* Counts the GetItems method calls sent to name from now on, whoever owns
 * it or whether anyone does: a monitor of the dbus-daemon's (one per
 * world). getitems_seen() is the count so far. */
void getitems_watch(struct peers_world *w, const char *name);
unsigned getitems_seen(struct peers_world *w);

/* The bank's values. */
double bank_number(struct peers_world *w, const char *path);
char *bank_text(struct peers_world *w, const char *path);
void wait_number(struct peers_world *w, const char *path, double want, unsigned ms);
/* path keeps want for ms (the bank had time to take a change). */
void hold_number(struct peers_world *w, const char *path, double want, unsigned ms);

/* The match rules the bank's connection holds, as the dbus-daemon counts
 * them (org.freedesktop.DBus.Debug.Stats). */
unsigned bank_match_rules(struct peers_world *w);
/* Until the bank holds want rules (fails the test after ms). */
void wait_match_rules(struct peers_world *w, unsigned want, unsigned ms);
/* The bank's voluntary context switches so far (all its threads). */
unsigned long bank_wakeups(struct peers_world *w);

#endif
