/* SPDX-License-Identifier: MIT */
/* Who a BMS is, from its reply (identity.h). */
#include "identity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* What the JK app writes into the user-data fields before anyone changes
 * them: shared by many units, so not an identity. */
#define FACTORY_USER_DATA "Input Userda"
#define FACTORY_DEVICE_ID "Input Us"
#define FACTORY_MANUFACTURER "BT3072020120000200521001"
#define UID_PREFIX "jkbms_"
#define UID_MAX 40

void identity_sanitize(const char *in, size_t max, char *out, size_t n)
{
	size_t len = 0;

	for (const char *p = in; *p && len < max && len + 1 < n; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
			out[len++] = c;
		else if (c == ' ' || c == '-' || c == '.')
			out[len++] = '_';
	}
	out[len] = '\0';
}

/* "11.XW_S11.26" -> hardware "11.XW", firmware "11.26". */
static void split_version(const char *v, struct bms_identity *id)
{
	const char *sep = strstr(v, "_S");

	if (!sep) {
		id->hardware[0] = '\0';
		snprintf(id->firmware, sizeof(id->firmware), "%s", v);
		return;
	}
	size_t l = (size_t)(sep - v);

	while (l > 0 && v[l - 1] == '_')
		l--;
	snprintf(id->hardware, sizeof(id->hardware), "%.*s", (int)l, v);
	snprintf(id->firmware, sizeof(id->firmware), "%s", sep + 2);
}

/* A PB pack names itself: model "JK_PB2A16S20P" (or "JK-..."), hardware
 * and software versions apart, and a serial number that is unique. */
static bool identity_pb(const struct bms_snapshot *b, struct bms_identity *out)
{
	const char *model = b->pb.model;
	char clean[UID_MAX + 1];

	if (strncmp(model, "JK_", 3) == 0 || strncmp(model, "JK-", 3) == 0)
		model += 3;
	identity_sanitize(b->pb.serial, UID_MAX, clean, sizeof(clean));
	if (!clean[0])
		return false;
	snprintf(out->uid, sizeof(out->uid), UID_PREFIX "%s", clean);
	snprintf(out->product, sizeof(out->product), "JK-BMS%s%s", *model ? " " : "", model);
	snprintf(out->hardware, sizeof(out->hardware), "%s", b->pb.hardware);
	snprintf(out->firmware, sizeof(out->firmware), "%s", b->pb.software);
	return true;
}

void identity_of(const struct bms_snapshot *b, const char *tty, const char *usb_serial, int address,
		 struct bms_identity *out)
{
	memset(out, 0, sizeof(*out));
	if (b->protocol == BMS_PROTOCOL_PB && identity_pb(b, out))
		return;
	const char *src = tty;
	const char *model = strstr(b->manufacturer, "JK_");
	char clean[UID_MAX + 1];

	memset(out, 0, sizeof(*out));
	/* An identity the user gave the BMS, else the USB adapter's serial
	 * number, else the tty. */
	if (b->manufacturer[0] && strncmp(b->manufacturer, FACTORY_USER_DATA, strlen(FACTORY_USER_DATA)) != 0 &&
	    strcmp(b->manufacturer, FACTORY_MANUFACTURER) != 0)
		src = b->manufacturer;
	else if (b->device_id[0] && strcmp(b->device_id, FACTORY_DEVICE_ID) != 0)
		src = b->device_id;
	else if (usb_serial && usb_serial[0])
		src = usb_serial;
	identity_sanitize(src, UID_MAX, clean, sizeof(clean));
	if (address >= 0)
		snprintf(out->uid, sizeof(out->uid), UID_PREFIX "%s_%d", clean, address);
	else
		snprintf(out->uid, sizeof(out->uid), UID_PREFIX "%s", clean);
	snprintf(out->product, sizeof(out->product), "JK-BMS%s%s", model ? " " : "", model ? model + 3 : "");
	split_version(b->software_version, out);
}
