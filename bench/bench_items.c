/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper (not a test): how the bank reads one member update.
 * Calls bank_items_apply() on the ItemsChanged a member sends each poll
 * (bench_members' shape: the seven values that move and 16 cells, each
 * {"Value": <double>, "Text": <string>}), received as the bank receives it
 * (demarshalled from the bytes), N times. Run it under callgrind with
 * --toggle-collect=bank_items_apply: the instructions per call are the
 * total over N.
 * Usage: bench_items [N]   (default 1000)
 */
#include <stdio.h>
#include <stdlib.h>

#include "bank_items.h"
#include "floor_items.h"

int main(int argc, char **argv)
{
	static const struct floor_item head[] = {
		{ "/Dc/0/Voltage", 52.81, "52.81V" },
		{ "/Dc/0/Current", 13.4, "13.40A" },
		{ "/Dc/0/Power", 707, "707W" },
		{ "/Capacity", 140.0, "140.0Ah" },
		{ "/ConsumedAmphours", -140.0, "-140.0Ah" },
		{ "/System/MinCellVoltage", 3.296, "3.296V" },
		{ "/System/MaxCellVoltage", 3.304, "3.304V" },
	};
	long n = argc > 1 ? atol(argv[1]) : 1000;
	DBusMessage *built = floor_items_changed(head, sizeof(head) / sizeof(head[0]), 16);
	char *bytes = NULL;
	int len = 0;

	dbus_message_set_serial(built, 7);
	if (!dbus_message_marshal(built, &bytes, &len))
		return 1;
	DBusMessage *msg = dbus_message_demarshal(bytes, len, NULL);
	GHashTable *fields = bank_items_fields_new();
	struct bank_member m = { .present = true };
	bool member = true;
	long applied = 0;

	for (long k = 0; k < n; k++)
		applied += bank_items_apply(fields, msg, &m, &member);
	printf("%ld of %ld applied (%d bytes): V %.2f, max cell %.3f\n", applied, n, len, m.value[BANK_VOLTAGE],
	       m.value[BANK_MAX_CELL]);
	g_hash_table_destroy(fields);
	dbus_message_unref(msg);
	dbus_message_unref(built);
	dbus_free(bytes);
	return applied == n ? 0 : 1;
}
