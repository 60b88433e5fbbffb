/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the wire reader (src/io/dbus_read.c) on arbitrary
 * bytes, read as a whole message; and, so that the fuzzer need not find a
 * header first, the input past its first byte (whose low bit picks the
 * byte order) read as the body of an a{sa{sv}} in a signal the target
 * wraps it in. Each message is walked by its signature
 * (wire_read_skip()), property by property, and as the bank reads it
 * (bank_items_apply_wire()). Oracles: nothing is read outside the bytes
 * (ASan: each buffer is of its exact size) and every string read ends
 * inside them; bytes the reader refuses change no member; a message
 * libdbus accepts (dbus_message_demarshal(), all the bytes) with the
 * bank's signature is one the reader accepts, and the member read from it is the one the old
 * reading with libdbus's iterators gives (tests/bank_items_oracle.c).
 */
#include <dbus/dbus.h>
#include <stdlib.h>
#include <string.h>

#include "bank_items.h"
#include "bank_items_oracle.h"
#include "dbus_read.h"
#include "fuzz_check.h"

static GHashTable *fields, *oracle_fields;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fields = bank_items_fields_new();
	oracle_fields = oracle_items_fields_new();
	return 0;
}

/* A string the reader returned: it ends inside the message. */
static void check_string(const char *s, const uint8_t *msg, size_t len)
{
	CHECK((const uint8_t *)s >= msg && (const uint8_t *)s < msg + len);
	CHECK(memchr(s, '\0', (size_t)(msg + len - (const uint8_t *)s)));
}

/* The properties of an a{sa{sv}} body, one by one. */
static void walk_items(struct wire_reader *r, const uint8_t *msg, size_t len)
{
	size_t end, props;

	if (!wire_read_array(r, 8, &end))
		return;
	while (r->pos < end) {
		const char *path, *key;
		struct wire_value v;

		if (!wire_read_align(r, 8) || !wire_read_string(r, &path) || !wire_read_array(r, 8, &props))
			return;
		check_string(path, msg, len);
		while (r->pos < props) {
			if (!wire_read_align(r, 8) || !wire_read_string(r, &key) || !wire_read_variant(r, &v))
				return;
			check_string(key, msg, len);
			if (v.type == 's' || v.type == 'o' || v.type == 'g')
				check_string(v.v.s, msg, len);
			CHECK(r->pos <= r->len);
		}
	}
}

/* Every way of reading msg; true when it is a message of the bank's
 * signature that the bank read. */
static bool read_all(const uint8_t *msg, size_t len, struct bank_member *m, bool *member)
{
	struct wire_reader body, r;
	const char *sig, *s;

	if (wire_read_message(&body, &sig, msg, len)) {
		CHECK(body.buf >= msg && body.buf + body.len == msg + len);
		if (*sig) /* else "" of no signature field */
			check_string(sig, msg, len);
		r = body;
		for (s = sig; *s && wire_read_skip(&r, &s);)
			CHECK(r.pos <= r.len && s <= sig + strlen(sig));
		r = body;
		walk_items(&r, msg, len);
	}
	struct bank_member before = *m;
	bool ok = bank_items_apply_wire(fields, msg, len, m, member);

	if (!ok)
		CHECK(!oracle_member_differs(m, &before) && !*member);
	return ok;
}

/* Read msg; when libdbus accepts it, as the old reading does. */
static void check_message(const uint8_t *msg, size_t len)
{
	struct bank_member m, want;
	bool member = false, want_member = false;

	memset(&m, 0, sizeof(m));
	want = m;
	bool ok = read_all(msg, len, &m, &member);
	DBusMessage *dm = dbus_message_demarshal((const char *)msg, (int)len, NULL);

	if (!dm)
		return;
	if (dbus_message_demarshal_bytes_needed((const char *)msg, (int)len) != (int)len) {
		dbus_message_unref(dm); /* libdbus read a message from the start of msg, not all of it */
		return;
	}
	CHECK(ok == dbus_message_has_signature(dm, "a{sa{sv}}"));
	CHECK(oracle_items_apply(oracle_fields, dm, &want, &want_member) == ok);
	CHECK(!oracle_member_differs(&m, &want));
	CHECK(member == want_member);
	dbus_message_unref(dm);
}

static void put32(uint8_t *p, uint32_t v, bool big)
{
	for (int k = 0; k < 4; k++)
		p[big ? 3 - k : k] = (uint8_t)(v >> (8 * k));
}

/* One header field at *at: code, a variant of type t (s, o or g), its text. */
static void header_field(uint8_t *h, size_t *at, uint8_t code, char t, const char *text, bool big)
{
	size_t n = strlen(text);

	*at = (*at + 7) & ~(size_t)7;
	h[(*at)++] = code;
	h[(*at)++] = 1;
	h[(*at)++] = (uint8_t)t;
	h[(*at)++] = 0;
	if (t == 'g') {
		h[(*at)++] = (uint8_t)n;
	} else {
		put32(h + *at, (uint32_t)n, big);
		*at += 4;
	}
	memcpy(h + *at, text, n + 1);
	*at += n + 1;
}

/* body as the body of an a{sa{sv}} signal, in the given byte order. */
static void check_body(const uint8_t *body, size_t n, bool big)
{
	uint8_t h[128] = { big ? 'B' : 'l', 4, 1, 1 };
	size_t at = 16;

	header_field(h, &at, 1, 'o', "/", big);
	header_field(h, &at, 2, 's', "com.victronenergy.BusItem", big);
	header_field(h, &at, 3, 's', "ItemsChanged", big);
	header_field(h, &at, 8, 'g', "a{sa{sv}}", big);
	put32(h + 4, (uint32_t)n, big);
	put32(h + 8, 1, big);
	put32(h + 12, (uint32_t)(at - 16), big);
	at = (at + 7) & ~(size_t)7;

	uint8_t *msg = malloc(at + n);

	CHECK(msg);
	memcpy(msg, h, at);
	memcpy(msg + at, body, n);
	check_message(msg, at + n);
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_message(data, size);
	if (size > 0)
		check_body(data + 1, size - 1, data[0] & 1);
	return 0;
}
