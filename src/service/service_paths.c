/* SPDX-License-Identifier: MIT */
/*
 * The battery service's path table (service_paths.h) and its getters: each
 * reads one value of the battery model, the policy's output or the link,
 * in Venus's units. Each double path names its unit, which fixes its
 * resolution and text (units.h); the BusItem rounds the value to it.
 */
#include "service_paths.h"
#include "service_paths_groups.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DIAG "/Diagnostics/Link/"

static const struct bms_snapshot *snap(const struct service_view *v)
{
	return &v->bat->snap;
}

int32_t service_path_i32(uint64_t v)
{
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* A getter a line: name, then what goes into the value. */
#define GET_D(name, expr) \
	static enum path_result name(const struct service_view *v, unsigned arg, struct path_value *o) \
	{ \
		(void)arg; \
		(void)v; \
		o->d = (expr); \
		return PATH_SET; \
	}
#define GET_I(name, expr) \
	static enum path_result name(const struct service_view *v, unsigned arg, struct path_value *o) \
	{ \
		(void)arg; \
		(void)v; \
		o->i = (expr); \
		return PATH_SET; \
	}

/* ---- measurements ---------------------------------------------------------- */

GET_D(get_voltage, snap(v)->voltage_mv / 1000.0)
GET_D(get_current, snap(v)->current_ma / 1000.0)
GET_D(get_power, v->bat->show.power_w)
GET_D(get_temperature, v->bat->show.temp_avg_c)
GET_D(get_soc, snap(v)->soc_pct)
GET_D(get_installed, v->bat->show.installed_ah)
GET_D(get_capacity, v->bat->show.capacity_ah)
GET_D(get_consumed, v->bat->show.consumed_ah)
GET_D(get_mos_temp, snap(v)->temp_c[BMS_TEMP_MOSFET])
GET_D(get_temp1, snap(v)->temp_c[BMS_TEMP_T1])
GET_D(get_temp2, snap(v)->temp_c[BMS_TEMP_T2])
GET_D(get_min_temp, v->bat->cells.tmin_c)
GET_D(get_max_temp, v->bat->cells.tmax_c)
GET_I(get_cells_per_battery, (int32_t)v->bat->snap.cell_count)
GET_I(get_one, 1)
GET_I(get_zero, 0)
GET_I(get_blocking_charge, !(snap(v)->status & BMS_STATUS_CHARGE_FET))
GET_I(get_blocking_discharge, !(snap(v)->status & BMS_STATUS_DISCHARGE_FET))
GET_I(get_balancing, !!(snap(v)->status & BMS_STATUS_BALANCING))
GET_I(get_allow_balance, snap(v)->settings.balancer_enabled ? 1 : 0)
GET_I(get_cycles, snap(v)->cycles)
GET_D(get_total_charged, snap(v)->cycle_capacity_ah)

static enum path_result get_soh(const struct service_view *v, unsigned arg, struct path_value *o)
{
	(void)arg;
	if (!v->bat->show.have_soh)
		return PATH_INVALID;
	o->d = v->bat->show.soh_pct;
	return PATH_SET;
}

static enum path_result get_time_to_go(const struct service_view *v, unsigned arg, struct path_value *o)
{
	(void)arg;
	if (v->bat->show.ttg_s < 0)
		return PATH_INVALID;
	/* Whole minutes: the 5-minute average does not know it closer. */
	o->d = (double)((v->bat->show.ttg_s + 30) / 60 * 60);
	return PATH_SET;
}

/* arg 0: lowest, 1: highest measured cell (voltage, or its id "C7"). */
static enum path_result get_cell_v(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct battery_display *d = &v->bat->show;

	if (!d->any)
		return PATH_KEEP;
	o->d = (arg ? d->max_mv : d->min_mv) / 1000.0;
	return PATH_SET;
}

static enum path_result get_cell_id(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct battery_display *d = &v->bat->show;

	if (!d->any)
		return PATH_KEEP;
	o->s = battery_cell_name(arg ? d->max_idx : d->min_idx, o->buf);
	return PATH_SET;
}

static enum path_result get_temp_id(const struct service_view *v, unsigned arg, struct path_value *o)
{
	o->s = (arg ? v->bat->show.tmax_id : v->bat->show.tmin_id) == 1 ? "T1" : "T2";
	return PATH_SET;
}

/* arg 0: the sum of the measured cells, 1: their spread. */
static enum path_result get_cell_sum(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct battery_display *d = &v->bat->show;

	if (!d->any)
		return PATH_KEEP;
	o->d = (arg ? (uint32_t)(d->max_mv - d->min_mv) : d->sum_mv) / 1000.0;
	return PATH_SET;
}

/* ---- charge control and state ----------------------------------------------- */

/* The limit arg % 4 names: 0 CVL, 1 CCL, 2 DCL, 3 battery-low voltage. */
enum path_result service_path_limit(const struct policy_output *p, unsigned arg, struct path_value *o)
{
	if (!p)
		return PATH_KEEP;
	switch (arg % 4) {
	case 0:
		o->d = p->cvl_mv / 1000.0;
		break;
	case 1:
		o->d = p->ccl_ma / 1000.0;
		break;
	case 2:
		o->d = p->dcl_ma / 1000.0;
		break;
	default:
		if (!p->battery_low_mv)
			return PATH_KEEP; /* implausible settings derive none */
		o->d = p->battery_low_mv / 1000.0;
	}
	return PATH_SET;
}

/* arg 0-3: CVL, CCL, DCL, battery-low voltage under /Info/ (invalid on a
 * bank member, so that systemcalc never takes one pack as the BMS; the
 * member's own are under /Bank/, service_paths_bank.c). */
static enum path_result get_limit(const struct service_view *v, unsigned arg, struct path_value *o)
{
	if (v->member)
		return PATH_INVALID;
	return service_path_limit(v->pol, arg, o);
}

/* arg 0: mode, 1: charge limitation, 2: discharge limitation. */
static enum path_result get_limit_text(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct policy_output *p = v->pol;

	if (!p)
		return PATH_KEEP;
	o->s = arg == 0 ? policy_mode_name(p->mode) : arg == 1 ? p->charge_limitation : p->discharge_limitation;
	return PATH_SET;
}

static enum path_result get_allow(const struct service_view *v, unsigned arg, struct path_value *o)
{
	if (!v->pol)
		return PATH_KEEP;
	o->i = arg ? v->pol->allow_discharge : v->pol->allow_charge;
	return PATH_SET;
}

static enum path_result get_alarm(const struct service_view *v, unsigned arg, struct path_value *o)
{
	if (!v->pol)
		return PATH_KEEP;
	o->i = v->pol->alarm[arg];
	return PATH_SET;
}

GET_I(get_bms_cable, v->link == POLLER_LINK_LOST ? 2 : v->link == POLLER_LINK_WARNING ? 1 : 0)
GET_I(get_connected, v->link != POLLER_LINK_LOST)
GET_I(get_temp_sensor, v->bat->show.temp_sensor_bad ? 1 : 0)

/* The one error a user is shown (docs/dbus-paths.md "State and error
 * code"): the link first, since without it nothing else is known. */
static int32_t venus_error(const struct service_view *v)
{
	if (v->link == POLLER_LINK_LOST)
		return VENUS_ERROR_COMM;
	if (v->bat->cells.unmeasured)
		return VENUS_ERROR_MEASURE;
	return VENUS_ERROR_NONE;
}

GET_I(get_error_code, venus_error(v))
GET_I(get_state, venus_error(v) == VENUS_ERROR_NONE ? VENUS_STATE_RUNNING : VENUS_STATE_ERROR)

/* arg 0: the midpoint voltage, 1: its deviation; invalid unless every cell
 * is measured. */
static enum path_result get_mid(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct battery_display *d = &v->bat->show;

	if (!d->have_mid)
		return PATH_INVALID;
	o->d = arg ? d->mid_dev_pct : d->mid_v;
	return PATH_SET;
}

/* ---- link diagnostics -------------------------------------------------------- */

static enum path_result get_link_state(const struct service_view *v, unsigned arg, struct path_value *o)
{
	(void)arg;
	o->s = poller_link_name(v->link);
	return PATH_SET;
}

enum counter {
	C_POLLS,
	C_REPLIES,
	C_TIMEOUTS,
	C_RETRIES,
	C_MISSES,
	C_BAD,
	C_REJECTS,
	C_JUNK,
	C_REOPENS,
	C_IO_ERRORS,
	C_ACTIVATIONS,
	C_WRITES_OK,
	C_WRITES_FAILED,
	C_SENT,
};

static enum path_result get_counter(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct poller_counters *p = v->polls;
	const struct link_counters *c = v->counters;
	const uint64_t values[] = {
		[C_POLLS] = p->polls,
		[C_REPLIES] = p->replies,
		[C_TIMEOUTS] = p->timeouts,
		[C_RETRIES] = p->retries,
		[C_MISSES] = p->misses,
		[C_BAD] = p->bad_replies,
		[C_REJECTS] = link_rejects_total(c),
		[C_JUNK] = c->junk_bytes,
		[C_REOPENS] = c->reopens,
		[C_IO_ERRORS] = c->io_errors,
		[C_ACTIVATIONS] = p->activations,
		[C_WRITES_OK] = p->writes_ok,
		[C_WRITES_FAILED] = p->writes_failed,
		[C_SENT] = c->requests_sent,
	};

	o->i = service_path_i32(values[arg]);
	return PATH_SET;
}

static enum path_result get_reject(const struct service_view *v, unsigned arg, struct path_value *o)
{
	o->i = service_path_i32(v->counters->rejects[arg]);
	return PATH_SET;
}

/* ---- the table ------------------------------------------------------------------ */

#define FIXED(p, t, f) \
	{ \
		p, t, f, PATH_FIXED, NULL, 0, UNIT_NONE \
	}
#define MEASURE(p, t, f, g, a) \
	{ \
		p, t, f, PATH_MEASURE, g, a, UNIT_NONE \
	}
#define INFO(p, t, f, g) \
	{ \
		p, t, f, PATH_INFO, g, 0, UNIT_NONE \
	}
#define CONTROL(p, t, f, g, a) \
	{ \
		p, t, f, PATH_CONTROL, g, a, UNIT_NONE \
	}
/* Doubles: the unit gives the resolution and the text. */
#define MEASURE_D(p, u, g, a) \
	{ \
		p, BUSITEM_DOUBLE, NULL, PATH_MEASURE, g, a, u \
	}
#define INFO_D(p, u, g) \
	{ \
		p, BUSITEM_DOUBLE, NULL, PATH_INFO, g, 0, u \
	}
#define CONTROL_D(p, u, g, a) \
	{ \
		p, BUSITEM_DOUBLE, NULL, PATH_CONTROL, g, a, u \
	}
#define HISTORY(p, t, f, g, a) \
	{ \
		"/History/" p, t, f, PATH_HISTORY, g, a, UNIT_NONE \
	}
#define HISTORY_D(p, u, g, a) \
	{ \
		"/History/" p, BUSITEM_DOUBLE, NULL, PATH_HISTORY, g, a, u \
	}
#define ALARM(name, a) CONTROL("/Alarms/" name, BUSITEM_INT, NULL, get_alarm, a)
#define COUNTER(name, a) \
	{ \
		DIAG name, BUSITEM_INT, NULL, PATH_COUNTER, get_counter, a, UNIT_NONE \
	}
#define REJECT(name, a) \
	{ \
		DIAG "Rejected/" name, BUSITEM_INT, NULL, PATH_COUNTER, get_reject, a, UNIT_NONE \
	}

/* The paths, each double with its unit: the table of resolutions that
 * docs/dbus-paths.md lists. */
const struct path_def service_paths[] = {
	/* Mandatory (docs/dbus-paths.md "Identity"). */
	FIXED("/Mgmt/ProcessName", BUSITEM_STRING, NULL),
	FIXED("/Mgmt/ProcessVersion", BUSITEM_STRING, NULL),
	FIXED("/Mgmt/Connection", BUSITEM_STRING, NULL),
	FIXED("/DeviceInstance", BUSITEM_INT, NULL),
	FIXED("/ProductId", BUSITEM_INT, "0x%X"),
	FIXED("/ProductName", BUSITEM_STRING, NULL),
	FIXED("/FirmwareVersion", BUSITEM_STRING, NULL),
	FIXED("/HardwareVersion", BUSITEM_STRING, NULL),
	FIXED("/Serial", BUSITEM_STRING, NULL),
	CONTROL("/Connected", BUSITEM_INT, NULL, get_connected, 0),
	FIXED("/CustomName", BUSITEM_STRING, NULL),
	CONTROL("/State", BUSITEM_INT, NULL, get_state, 0),
	CONTROL("/ErrorCode", BUSITEM_INT, NULL, get_error_code, 0),
	FIXED("/ConnectionInformation", BUSITEM_STRING, NULL),
	/* Measurements. */
	MEASURE_D("/Dc/0/Voltage", UNIT_V, get_voltage, 0),
	MEASURE_D("/Dc/0/Current", UNIT_A, get_current, 0),
	MEASURE_D("/Dc/0/Power", UNIT_W, get_power, 0),
	MEASURE_D("/Dc/0/Temperature", UNIT_C, get_temperature, 0),
	MEASURE_D("/Dc/0/MidVoltage", UNIT_V, get_mid, 0),
	MEASURE_D("/Dc/0/MidVoltageDeviation", UNIT_PCT, get_mid, 1),
	MEASURE_D("/Soc", UNIT_PCT, get_soc, 0),
	MEASURE_D("/Soh", UNIT_PCT, get_soh, 0),
	MEASURE_D("/Capacity", UNIT_AH, get_capacity, 0),
	INFO_D("/InstalledCapacity", UNIT_AH, get_installed),
	MEASURE_D("/ConsumedAmphours", UNIT_AH, get_consumed, 0),
	MEASURE_D("/TimeToGo", UNIT_S, get_time_to_go, 0),
	/* System summary. */
	MEASURE_D("/System/MinCellVoltage", UNIT_CELL_V, get_cell_v, 0),
	MEASURE_D("/System/MaxCellVoltage", UNIT_CELL_V, get_cell_v, 1),
	MEASURE("/System/MinVoltageCellId", BUSITEM_STRING, NULL, get_cell_id, 0),
	MEASURE("/System/MaxVoltageCellId", BUSITEM_STRING, NULL, get_cell_id, 1),
	MEASURE_D("/System/MinCellTemperature", UNIT_C, get_min_temp, 0),
	MEASURE_D("/System/MaxCellTemperature", UNIT_C, get_max_temp, 0),
	MEASURE("/System/MinTemperatureCellId", BUSITEM_STRING, NULL, get_temp_id, 0),
	MEASURE("/System/MaxTemperatureCellId", BUSITEM_STRING, NULL, get_temp_id, 1),
	MEASURE_D("/System/MOSTemperature", UNIT_C, get_mos_temp, 0),
	MEASURE_D("/System/Temperature1", UNIT_C, get_temp1, 0),
	MEASURE_D("/System/Temperature2", UNIT_C, get_temp2, 0),
	INFO("/System/NrOfCellsPerBattery", BUSITEM_INT, NULL, get_cells_per_battery),
	INFO("/System/NrOfModulesOnline", BUSITEM_INT, NULL, get_one),
	INFO("/System/NrOfModulesOffline", BUSITEM_INT, NULL, get_zero),
	MEASURE("/System/NrOfModulesBlockingCharge", BUSITEM_INT, NULL, get_blocking_charge, 0),
	MEASURE("/System/NrOfModulesBlockingDischarge", BUSITEM_INT, NULL, get_blocking_discharge, 0),
	INFO("/System/NrOfBatteries", BUSITEM_INT, NULL, get_one),
	INFO("/System/BatteriesParallel", BUSITEM_INT, NULL, get_one),
	INFO("/System/BatteriesSeries", BUSITEM_INT, NULL, get_one),
	MEASURE_D("/Voltages/Sum", UNIT_CELL_V, get_cell_sum, 0),
	MEASURE_D("/Voltages/Diff", UNIT_CELL_V, get_cell_sum, 1),
	MEASURE("/Balancing", BUSITEM_INT, NULL, get_balancing, 0),
	MEASURE("/Io/AllowToCharge", BUSITEM_INT, NULL, get_allow, 0),
	MEASURE("/Io/AllowToDischarge", BUSITEM_INT, NULL, get_allow, 1),
	MEASURE("/Io/AllowToBalance", BUSITEM_INT, NULL, get_allow_balance, 0),
	INFO("/Settings/HasTemperature", BUSITEM_INT, NULL, get_one),
	/* DVCC (docs/charge-control.md). */
	CONTROL_D("/Info/MaxChargeVoltage", UNIT_V, get_limit, 0),
	CONTROL_D("/Info/MaxChargeCurrent", UNIT_A, get_limit, 1),
	CONTROL_D("/Info/MaxDischargeCurrent", UNIT_A, get_limit, 2),
	CONTROL_D("/Info/BatteryLowVoltage", UNIT_V, get_limit, 3),
	/* A bank member's own limits (docs/bank.md). */
	CONTROL_D("/Bank/MaxChargeVoltage", UNIT_V, service_get_bank_limit, 4),
	CONTROL_D("/Bank/MaxChargeCurrent", UNIT_A, service_get_bank_limit, 5),
	CONTROL_D("/Bank/MaxDischargeCurrent", UNIT_A, service_get_bank_limit, 6),
	CONTROL_D("/Bank/BatteryLowVoltage", UNIT_V, service_get_bank_limit, 7),
	CONTROL_D("/Bank/FloatVoltage", UNIT_V, service_get_bank_limit, 8),
	CONTROL("/Bank/Member", BUSITEM_INT, NULL, service_get_bank_limit, 9),
	CONTROL("/Info/ChargeMode", BUSITEM_STRING, NULL, get_limit_text, 0),
	CONTROL("/Info/ChargeLimitation", BUSITEM_STRING, NULL, get_limit_text, 1),
	CONTROL("/Info/DischargeLimitation", BUSITEM_STRING, NULL, get_limit_text, 2),
	/* Alarms: published as 0 while inactive. */
	ALARM("LowSoc", POLICY_ALARM_LOW_SOC),
	ALARM("HighInternalTemperature", POLICY_ALARM_HIGH_INTERNAL_TEMP),
	ALARM("HighVoltage", POLICY_ALARM_HIGH_VOLTAGE),
	ALARM("LowVoltage", POLICY_ALARM_LOW_VOLTAGE),
	ALARM("HighTemperature", POLICY_ALARM_HIGH_TEMP),
	ALARM("LowTemperature", POLICY_ALARM_LOW_TEMP),
	ALARM("HighChargeTemperature", POLICY_ALARM_HIGH_CHARGE_TEMP),
	ALARM("LowChargeTemperature", POLICY_ALARM_LOW_CHARGE_TEMP),
	ALARM("HighChargeCurrent", POLICY_ALARM_HIGH_CHARGE_CURRENT),
	ALARM("HighDischargeCurrent", POLICY_ALARM_HIGH_DISCHARGE_CURRENT),
	ALARM("CellImbalance", POLICY_ALARM_CELL_IMBALANCE),
	ALARM("HighCellVoltage", POLICY_ALARM_HIGH_CELL_VOLTAGE),
	ALARM("LowCellVoltage", POLICY_ALARM_LOW_CELL_VOLTAGE),
	ALARM("InternalFailure", POLICY_ALARM_INTERNAL_FAILURE),
	ALARM("Contactor", POLICY_ALARM_CONTACTOR),
	CONTROL("/Alarms/BmsCable", BUSITEM_INT, NULL, get_bms_cable, 0),
	CONTROL("/Alarms/BatteryTemperatureSensor", BUSITEM_INT, NULL, get_temp_sensor, 0),
	/* Manual MOSFET control (writable). */
	FIXED("/Settings/ForceChargingOff", BUSITEM_INT, NULL),
	FIXED("/Settings/ForceDischargingOff", BUSITEM_INT, NULL),
	/* History. */
	INFO("/History/ChargeCycles", BUSITEM_INT, NULL, get_cycles),
	INFO_D("/History/TotalAhCharged", UNIT_AH, get_total_charged),
	HISTORY_D("MinimumCellVoltage", UNIT_CELL_V, service_get_hist_cell, 0),
	HISTORY_D("MaximumCellVoltage", UNIT_CELL_V, service_get_hist_cell, 1),
	HISTORY_D("MinimumVoltage", UNIT_V, service_get_hist_volt, 0),
	HISTORY_D("MaximumVoltage", UNIT_V, service_get_hist_volt, 1),
	HISTORY_D("MinimumTemperature", UNIT_C, service_get_hist_temp, 0),
	HISTORY_D("MaximumTemperature", UNIT_C, service_get_hist_temp, 1),
	HISTORY_D("TotalAhDrawn", UNIT_AH, service_get_hist_ah, H_DRAWN),
	HISTORY_D("DeepestDischarge", UNIT_AH, service_get_hist_ah, H_DEEPEST),
	HISTORY_D("LastDischarge", UNIT_AH, service_get_hist_ah, H_LAST),
	HISTORY_D("AverageDischarge", UNIT_AH, service_get_hist_ah, H_AVERAGE),
	HISTORY_D("ChargedEnergy", UNIT_KWH, service_get_hist_energy, 0),
	HISTORY_D("DischargedEnergy", UNIT_KWH, service_get_hist_energy, 1),
	HISTORY("FullDischarges", BUSITEM_INT, NULL, service_get_hist_count, 0),
	HISTORY("LowVoltageAlarms", BUSITEM_INT, NULL, service_get_hist_count, 1),
	HISTORY("HighVoltageAlarms", BUSITEM_INT, NULL, service_get_hist_count, 2),
	HISTORY("TimeSinceLastFullCharge", BUSITEM_INT, "%ds", service_get_hist_since_full, 0),
	/* Writable: 1 clears the history above (not ChargeCycles, TotalAhCharged: the BMS's). */
	FIXED("/History/Clear", BUSITEM_INT, NULL),
	/* Link diagnostics. */
	CONTROL(DIAG "State", BUSITEM_STRING, NULL, get_link_state, 0),
	COUNTER("Polls", C_POLLS),
	COUNTER("Replies", C_REPLIES),
	COUNTER("Timeouts", C_TIMEOUTS),
	COUNTER("Retries", C_RETRIES),
	COUNTER("MissedPolls", C_MISSES),
	COUNTER("BadReplies", C_BAD),
	COUNTER("RejectedFrames", C_REJECTS),
	COUNTER("JunkBytes", C_JUNK),
	COUNTER("Reopens", C_REOPENS),
	COUNTER("IoErrors", C_IO_ERRORS),
	COUNTER("Activations", C_ACTIVATIONS),
	COUNTER("WritesOk", C_WRITES_OK),
	COUNTER("WritesFailed", C_WRITES_FAILED),
	COUNTER("RequestsSent", C_SENT),
	REJECT("Length", CODEC_REJECT_LENGTH),
	REJECT("EndByte", CODEC_REJECT_END_BYTE),
	REJECT("Checksum", CODEC_REJECT_CHECKSUM),
	REJECT("NotReply", CODEC_REJECT_NOT_REPLY),
	REJECT("Command", CODEC_REJECT_COMMAND),
	REJECT("UnknownId", CODEC_REJECT_UNKNOWN_ID),
	REJECT("DuplicateId", CODEC_REJECT_DUPLICATE_ID),
	REJECT("WalkEnd", CODEC_REJECT_WALK_END),
	REJECT("Cells", CODEC_REJECT_CELLS),
	REJECT("MissingId", CODEC_REJECT_MISSING_ID),
	REJECT("Temperature", CODEC_REJECT_TEMPERATURE),
	REJECT("Soc", CODEC_REJECT_SOC),
	REJECT("VoltageSum", CODEC_REJECT_VOLTAGE_SUM),
	REJECT("FrameType", CODEC_REJECT_FRAME_TYPE),
	REJECT("Ack", CODEC_REJECT_ACK),
	REJECT("Address", CODEC_REJECT_ADDRESS),
};

const size_t service_path_count = sizeof(service_paths) / sizeof(service_paths[0]);

size_t service_path_index(const char *path)
{
	for (size_t k = 0; k < service_path_count; k++) {
		if (strcmp(service_paths[k].path, path) == 0)
			return k;
	}
	assert(!"a path the service sets itself is missing from the table");
	return 0;
}

size_t service_alarm_index(enum policy_alarm a)
{
	for (size_t k = 0; k < service_path_count; k++) {
		if (service_paths[k].get == get_alarm && service_paths[k].arg == (unsigned)a)
			return k;
	}
	assert(!"every alarm has a path");
	return 0;
}

const char *service_path_format(const struct path_def *def)
{
	return def->unit != UNIT_NONE ? units[def->unit].text : def->fmt;
}

void service_path_publish(struct busitem *item, const struct path_def *def, const struct service_view *v)
{
	struct path_value o;

	memset(&o, 0, sizeof(o));
	switch (def->get(v, def->arg, &o)) {
	case PATH_KEEP:
		return;
	case PATH_INVALID:
		busitem_invalidate(item);
		return;
	case PATH_SET:
		break;
	}
	switch (def->type) {
	case BUSITEM_INT:
		busitem_set_int(item, o.i);
		break;
	case BUSITEM_DOUBLE:
		busitem_set_double(item, o.d);
		break;
	case BUSITEM_STRING:
		busitem_set_string(item, o.s ? o.s : "");
		break;
	}
}

void service_cell_publish(struct busitem *item, const struct service_view *v, unsigned k)
{
	const struct bms_snapshot *s = snap(v);

	/* 0 mV is a missing sense lead, published as invalid. */
	if (k >= s->cell_count || !s->cell_mv[k])
		busitem_invalidate(item);
	else
		busitem_set_double(item, s->cell_mv[k] / 1000.0); /* UNIT_CELL_V (service.c) */
}
