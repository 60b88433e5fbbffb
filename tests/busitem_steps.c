/* SPDX-License-Identifier: MIT */
/*
 * Steps the BusItem tests share (busitem_steps.h): the tree's log caught,
 * a message's body checked against GDBus, a method call answered by
 * busitem_handle().
 */
#include "busitem_steps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

unsigned errors_logged;
char last_error[512];

static void log_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	(void)domain;
	(void)level;
	(void)data;
	errors_logged++;
	g_strlcpy(last_error, msg, sizeof(last_error));
}

int setup(void **state)
{
	(void)state;
	g_log_set_handler("busitem", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, log_cb, NULL);
	return 0;
}

uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The body of a little-endian message blob. */
static const uint8_t *blob_body(const uint8_t *blob, size_t n, size_t *len)
{
	assert_true(n >= 16);
	assert_int_equal(blob[0], 'l');
	*len = le32(blob + 4);
	assert_true(*len <= n);
	return blob + n - *len;
}

/* msg's body, as GDBus decodes it, is expect (GVariant text of the body
 * tuple), and its bytes are exactly what GDBus writes for that value. */
void assert_body(DBusMessage *msg, const char *expect)
{
	char *blob;
	int n;
	GError *err = NULL;

	assert_non_null(msg);
	assert_true(dbus_message_marshal(msg, &blob, &n));

	GDBusMessage *ours = g_dbus_message_new_from_blob((guchar *)blob, (gsize)n, G_DBUS_CAPABILITY_FLAGS_NONE, &err);

	if (!ours)
		fail_msg("GDBus refuses the message: %s", err->message);

	char *type = g_strdup_printf("(%s)", dbus_message_get_signature(msg));
	GVariant *want = g_variant_parse(G_VARIANT_TYPE(type), expect, NULL, NULL, &err);

	if (!want)
		fail_msg("bad expectation %s: %s", expect, err->message);

	GVariant *got = g_dbus_message_get_body(ours);

	if (!got || !g_variant_equal(got, want)) {
		char *g = got ? g_variant_print(got, TRUE) : g_strdup("(no body)");

		fail_msg("body %s, want %s", g, expect);
	}

	GDBusMessage *ref = g_dbus_message_new_signal("/", "a.b", "c");
	gsize rn;

	g_dbus_message_set_byte_order(ref, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
	g_dbus_message_set_body(ref, want);

	guchar *rblob = g_dbus_message_to_blob(ref, &rn, G_DBUS_CAPABILITY_FLAGS_NONE, &err);
	size_t ol, rl;
	const uint8_t *ob = blob_body((const uint8_t *)blob, (size_t)n, &ol);
	const uint8_t *rb = blob_body(rblob, rn, &rl);

	assert_int_equal(ol, rl);
	assert_memory_equal(ob, rb, ol);
	g_free(rblob);
	g_object_unref(ref);
	g_variant_unref(want);
	g_free(type);
	g_object_unref(ours);
	dbus_free(blob);
}

/* A method call answered by busitem_handle(); checks the reply's header. */
DBusMessage *call_args(struct busitem_tree *t, const char *path, const char *member, DBusMessage *m)
{
	static uint32_t serial = 100;

	if (!m)
		m = dbus_message_new_method_call(NULL, path, IFACE, member);
	dbus_message_set_serial(m, ++serial);
	assert_true(dbus_message_set_sender(m, ":1.42"));

	DBusMessage *r = busitem_handle(t, m);

	assert_non_null(r);
	assert_int_equal(dbus_message_get_type(r), DBUS_MESSAGE_TYPE_METHOD_RETURN);
	assert_int_equal(dbus_message_get_reply_serial(r), serial);
	assert_string_equal(dbus_message_get_destination(r), ":1.42");
	assert_true(dbus_message_get_no_reply(r));
	assert_int_not_equal(dbus_message_get_serial(r), 0);
	dbus_message_unref(m);
	return r;
}

void expect_reply(struct busitem_tree *t, const char *path, const char *member, const char *expect)
{
	DBusMessage *r = call_args(t, path, member, NULL);

	assert_body(r, expect);
	dbus_message_unref(r);
}
