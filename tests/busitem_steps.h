/* SPDX-License-Identifier: MIT */
/*
 * Steps the BusItem tests share (test_busitem*.c): the tree's log caught,
 * a message's body checked against GDBus, a method call answered by
 * busitem_handle().
 */
#ifndef BUSITEM_STEPS_H
#define BUSITEM_STEPS_H

#include <dbus/dbus.h>
#include <gio/gio.h>
#include <stdint.h>

#include "busitem.h"

#define IFACE "com.victronenergy.BusItem"

/* What the tree logged since the count was last cleared, and the last line. */
extern unsigned errors_logged;
extern char last_error[512];

/* The group setup: catches the tree's log ("busitem"). */
int setup(void **state);

uint32_t le32(const uint8_t *p);

/* msg's body, as GDBus decodes it, is expect (GVariant text of the body
 * tuple), and its bytes are exactly what GDBus writes for that value. */
void assert_body(DBusMessage *msg, const char *expect);

/* A method call answered by busitem_handle() (m, or one without arguments
 * when NULL); checks the reply's header. */
DBusMessage *call_args(struct busitem_tree *t, const char *path, const char *member, DBusMessage *m);

/* The reply to member on path has the body expect. */
void expect_reply(struct busitem_tree *t, const char *path, const char *member, const char *expect);

#endif
