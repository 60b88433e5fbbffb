/* SPDX-License-Identifier: MIT */
/*
 * The bank's paths (docs/bank.md): one const table of path, group, getter;
 * each path's type, unit and text format are those of the battery
 * service's table (service_paths.c), and every double is rounded by the
 * BusItem to its unit's resolution (units.h), so a pack and the bank
 * publish a value alike. The getters read the combination
 * (struct bank_output) and do no arithmetic beyond units and rounding.
 */
#include <stdio.h>
#include <string.h>

#include "bank_private.h"
#include "version.h"

static const struct bank_output *bo(const struct service_view *v)
{
	return v->bank;
}

static enum path_result get_value(const struct service_view *v, unsigned arg, struct path_value *o)
{
	if (!bo(v)->has[arg])
		return PATH_INVALID;
	o->d = bo(v)->value[arg];
	return PATH_SET;
}

static enum path_result get_cell_id(const struct service_view *v, unsigned arg, struct path_value *o)
{
	if (!bo(v)->has[arg ? BANK_MAX_CELL : BANK_MIN_CELL])
		return PATH_INVALID;
	o->s = arg ? bo(v)->max_cell_id : bo(v)->min_cell_id;
	return PATH_SET;
}

enum count {
	N_ONLINE,
	N_OFFLINE,
	N_BLOCK_CHARGE,
	N_BLOCK_DISCHARGE,
	N_KNOWN,
	N_CONNECTED,
	N_STATE,
	N_ERROR,
	N_ALLOW_CHARGE,
	N_ALLOW_DISCHARGE,
};

static enum path_result get_count(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct bank_output *b = bo(v);
	const int32_t values[] = {
		[N_ONLINE] = (int32_t)b->online,
		[N_OFFLINE] = (int32_t)(bank_packs_total(b) - b->online),
		[N_BLOCK_CHARGE] = (int32_t)b->blocking_charge,
		[N_BLOCK_DISCHARGE] = (int32_t)b->blocking_discharge,
		[N_KNOWN] = (int32_t)bank_packs_total(b),
		[N_CONNECTED] = b->online > 0,
		/* No pack online: "Battery comm. error", as a pack's lost link. */
		[N_STATE] = b->online > 0 ? VENUS_STATE_RUNNING : VENUS_STATE_ERROR,
		[N_ERROR] = b->online > 0 ? VENUS_ERROR_NONE : VENUS_ERROR_COMM,
		[N_ALLOW_CHARGE] = b->has_limits && b->ccl_ma > 0,
		[N_ALLOW_DISCHARGE] = b->has_limits && b->dcl_ma > 0,
	};

	o->i = values[arg];
	return PATH_SET;
}

static enum path_result get_connection(const struct service_view *v, unsigned arg, struct path_value *o)
{
	(void)arg;
	snprintf(o->buf, sizeof(o->buf), "Bank of %u packs", bank_packs_total(bo(v)));
	o->s = o->buf;
	return PATH_SET;
}

/* arg 0-3: CVL, CCL, DCL, battery-low voltage; as the battery service's. */
static enum path_result get_limit(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct bank_output *b = bo(v);

	if (!b->has_limits || (arg == 3 && !b->blv_mv))
		return PATH_INVALID;
	const uint32_t raw[] = { b->cvl_mv, b->ccl_ma, b->dcl_ma, b->blv_mv };

	o->d = raw[arg] / 1000.0;
	return PATH_SET;
}

static enum path_result get_limitation(const struct service_view *v, unsigned arg, struct path_value *o)
{
	o->s = arg ? bo(v)->discharge_limitation : bo(v)->charge_limitation;
	return PATH_SET;
}

static enum path_result get_alarm(const struct service_view *v, unsigned arg, struct path_value *o)
{
	o->i = bo(v)->alarm[arg];
	return PATH_SET;
}

#define FIXED(p) \
	{ \
		p, BUSITEM_INT, NULL, PATH_FIXED, NULL, 0, UNIT_NONE \
	}
#define GET(p, g, a) \
	{ \
		p, BUSITEM_INT, NULL, PATH_CONTROL, g, a, UNIT_NONE \
	}

/* Type and format are filled from the battery service's table. */
static const struct path_def bank_table[] = {
	FIXED("/Mgmt/ProcessName"),
	FIXED("/Mgmt/ProcessVersion"),
	GET("/Mgmt/Connection", get_connection, 0),
	FIXED("/DeviceInstance"),
	FIXED("/ProductId"),
	FIXED("/ProductName"),
	FIXED("/FirmwareVersion"),
	FIXED("/Serial"),
	GET("/Connected", get_count, N_CONNECTED),
	FIXED("/CustomName"),
	GET("/State", get_count, N_STATE),
	GET("/ErrorCode", get_count, N_ERROR),
	GET("/Dc/0/Voltage", get_value, BANK_VOLTAGE),
	GET("/Dc/0/Current", get_value, BANK_CURRENT),
	GET("/Dc/0/Power", get_value, BANK_POWER),
	GET("/Dc/0/Temperature", get_value, BANK_TEMPERATURE),
	GET("/Soc", get_value, BANK_SOC),
	GET("/Capacity", get_value, BANK_CAPACITY),
	GET("/InstalledCapacity", get_value, BANK_INSTALLED),
	GET("/ConsumedAmphours", get_value, BANK_CONSUMED),
	GET("/System/MinCellVoltage", get_value, BANK_MIN_CELL),
	GET("/System/MaxCellVoltage", get_value, BANK_MAX_CELL),
	GET("/System/MinVoltageCellId", get_cell_id, 0),
	GET("/System/MaxVoltageCellId", get_cell_id, 1),
	GET("/System/NrOfModulesOnline", get_count, N_ONLINE),
	GET("/System/NrOfModulesOffline", get_count, N_OFFLINE),
	GET("/System/NrOfModulesBlockingCharge", get_count, N_BLOCK_CHARGE),
	GET("/System/NrOfModulesBlockingDischarge", get_count, N_BLOCK_DISCHARGE),
	GET("/System/NrOfBatteries", get_count, N_KNOWN),
	GET("/System/BatteriesParallel", get_count, N_KNOWN),
	GET("/Io/AllowToCharge", get_count, N_ALLOW_CHARGE),
	GET("/Io/AllowToDischarge", get_count, N_ALLOW_DISCHARGE),
	GET("/Info/MaxChargeVoltage", get_limit, 0),
	GET("/Info/MaxChargeCurrent", get_limit, 1),
	GET("/Info/MaxDischargeCurrent", get_limit, 2),
	GET("/Info/BatteryLowVoltage", get_limit, 3),
	GET("/Info/ChargeLimitation", get_limitation, 0),
	GET("/Info/DischargeLimitation", get_limitation, 1),
	GET("/Alarms/BmsCable", get_alarm, BANK_ALARM_BMS_CABLE),
};

static void add(struct bank_service *b, const struct path_def *d, busitem_set_fn set)
{
	const struct path_def *same = &service_paths[service_path_index(d->path)];
	struct path_def *def = g_new(struct path_def, 1);
	bool writable = strcmp(d->path, "/CustomName") == 0;

	/* Everything but the getter is the battery service's own entry. */
	*def = *same;
	def->group = d->group;
	def->get = d->get;
	def->arg = d->arg;
	struct busitem *it = busitem_add(b->tree, def->path, def->type, service_path_format(def), writable ? set : NULL,
					 writable ? b : NULL);

	g_assert(it); /* a duplicate path is a bug in the table */
	g_ptr_array_add(b->defs, def);
	g_ptr_array_add(b->items, it);
}

void bank_paths_build(struct bank_service *b, busitem_set_fn custom_name_set)
{
	for (size_t k = 0; k < G_N_ELEMENTS(bank_table); k++)
		add(b, &bank_table[k], custom_name_set);
	/* Every alarm of a pack, by the battery service's own path. */
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++) {
		struct path_def d = GET(service_paths[service_alarm_index((enum policy_alarm)a)].path, get_alarm, a);

		add(b, &d, NULL);
	}
	busitem_set_string(bank_item(b, "/Mgmt/ProcessName"), "dbus-jkbms");
	busitem_set_string(bank_item(b, "/Mgmt/ProcessVersion"), DBUS_JKBMS_VERSION);
	busitem_set_string(bank_item(b, "/FirmwareVersion"), DBUS_JKBMS_VERSION);
	busitem_set_int(bank_item(b, "/ProductId"), VENUS_PRODUCT_ID);
	busitem_set_string(bank_item(b, "/ProductName"), "JK-BMS bank");
	busitem_set_string(bank_item(b, "/Serial"), "jkbms_bank");
	busitem_set_string(bank_item(b, "/CustomName"), "");
}

struct busitem *bank_item(struct bank_service *b, const char *path)
{
	for (guint k = 0; k < b->defs->len; k++) {
		const struct path_def *d = g_ptr_array_index(b->defs, k);

		if (strcmp(d->path, path) == 0)
			return g_ptr_array_index(b->items, k);
	}
	g_assert_not_reached();
	return NULL;
}

void bank_paths_publish(struct bank_service *b)
{
	struct service_view v = { .bank = &b->out };

	for (guint k = 0; k < b->defs->len; k++) {
		const struct path_def *d = g_ptr_array_index(b->defs, k);

		if (d->group != PATH_FIXED)
			service_path_publish(g_ptr_array_index(b->items, k), d, &v);
	}
}
