/* SPDX-License-Identifier: MIT */
/*
 * com.victronenergy.battery.<tty>: the paths of venus-dbus.md §2-3 filled
 * from the BMS link. The single list of published paths lives here and is
 * mirrored in README.md.
 */
#define G_LOG_DOMAIN "service"

#include "service.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "busitem.h"
#include "link.h"
#include "log.h"
#include "policy.h"
#include "settings.h"
#include "state_file.h"
#include "ttg.h"
#include "version.h"

#define PRODUCT_ID 0xFFFF /* no Victron product id: no systemcalc quirk applies */

enum phase {
	PHASE_PROBING,     /* no valid reply yet */
	PHASE_REGISTERING, /* first reply in; waiting for the device instance */
	PHASE_RUNNING,     /* name owned */
};

struct items {
	struct busitem *device_instance, *custom_name, *product_name, *firmware, *hardware, *serial, *connected;
	struct busitem *state, *error_code, *connection_info;
	struct busitem *voltage, *current, *power, *temperature, *soc, *soh, *capacity, *installed_capacity;
	struct busitem *consumed_ah, *time_to_go;
	struct busitem *min_cell_v, *max_cell_v, *min_cell_id, *max_cell_id, *min_temp, *max_temp, *min_temp_id,
		*max_temp_id, *mos_temp, *temp1, *temp2, *cells_per_battery, *modules_online, *modules_offline,
		*blocking_charge, *blocking_discharge, *nr_batteries, *parallel, *series;
	struct busitem *volt_sum, *volt_diff, *cells[BMS_MAX_CELLS];
	struct busitem *balancing, *allow_charge, *allow_discharge, *allow_balance;
	struct busitem *cvl, *ccl, *dcl, *low_voltage, *charge_mode, *charge_limitation, *discharge_limitation;
	struct busitem *alarms[POLICY_ALARM_COUNT], *bms_cable;
	struct busitem *force_off[POLICY_FET_COUNT];
	struct busitem *charge_cycles, *total_charged;
	struct busitem *diag_state, *diag_polls, *diag_replies, *diag_timeouts, *diag_retries, *diag_misses,
		*diag_bad, *diag_junk, *diag_reopens, *diag_io_errors, *diag_rejects, *diag_writes_ok,
		*diag_writes_failed, *diag_activations, *diag_sent, *diag_reject[CODEC_REJECT_COUNT];
};

struct service {
	struct config cfg;
	char *device;
	char *tty;
	char *bus_name;
	char *uid;
	char usb_serial[64];
	DBusConnection *conn;
	struct busitem_tree *tree;
	struct settings_client *settings;
	struct link *link;
	service_quit_fn quit;
	void *quit_data;
	enum phase phase;
	guint probe_source;
	guint leave_source;
	struct items it;
	GPtrArray *measurements; /* invalid while the link is lost */
	struct bms_snapshot snap;
	bool have_snap;
	struct ttg ttg;
	/* charge control */
	struct policy_config pcfg;
	struct policy_state pstate;
	struct policy_output pout;
	bool have_pout;
	bool force_off[POLICY_FET_COUNT];
	bool reset_lock[POLICY_FET_COUNT];
	enum policy_fet_result fet_result[POLICY_FET_COUNT];
	uint32_t clamps_logged;
	char *state_path;
	bool state_warned;
	struct policy_persist saved; /* what the state file holds */
	uint64_t state_written_ms;
	guint state_source;          /* a deferred write of the state file */
	guint tick_source;           /* the policy's own tick */
	uint64_t policy_ms;          /* when the policy last ran */
	uint64_t first_reply_ms;
	uint64_t diag_trouble;   /* sum of the error counters last published */
	uint64_t diag_at;        /* when the link counters were last published */
};

static void quit(struct service *s, int code)
{
	if (s->quit)
		s->quit(s->quit_data, code);
}

/* ---- building the tree ------------------------------------------------- */

static struct busitem *add(struct service *s, const char *path, enum busitem_type type, const char *fmt)
{
	struct busitem *it = busitem_add(s->tree, path, type, fmt, NULL, NULL);

	g_assert(it); /* a duplicate or malformed path is a bug in this file */
	return it;
}

static struct busitem *measure(struct service *s, const char *path, enum busitem_type type, const char *fmt)
{
	struct busitem *it = add(s, path, type, fmt);

	g_ptr_array_add(s->measurements, it);
	return it;
}

static int custom_name_set_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct service *s = data;

	if (g_utf8_strlen(v->s, -1) > SETTINGS_CUSTOM_NAME_MAX)
		return -EINVAL;
	/* A flood of equal writes neither fills the log nor the settings. */
	if (strcmp(busitem_get_string(item), v->s) == 0)
		return 0;
	settings_client_set_custom_name(s->settings, v->s);
	LOG_INFO("custom name set to '%s'", v->s);
	return 0;
}

static int force_set_cb(struct busitem *item, const struct busitem_value *v, void *data)
{
	struct service *s = data;
	unsigned f = item == s->it.force_off[POLICY_FET_CHARGE] ? POLICY_FET_CHARGE : POLICY_FET_DISCHARGE;

	if (v->i != 0 && v->i != 1)
		return -EINVAL;
	s->reset_lock[f] = true; /* any write of the force path resets a chatter lock */
	if (s->force_off[f] == (v->i == 1))
		return 0;
	s->force_off[f] = v->i == 1;
	LOG_INFO("%s FET: %s by the user", f == POLICY_FET_CHARGE ? "charge" : "discharge",
		 v->i ? "forced off" : "released to automatic control");
	return 0;
}

static void build_tree(struct service *s)
{
	struct items *i = &s->it;
	char *conn = g_strdup_printf("Serial %s", s->tty);

	/* Mandatory paths (venus-dbus.md §2.2). */
	busitem_set_string(add(s, "/Mgmt/ProcessName", BUSITEM_STRING, NULL), "dbus-jkbms");
	busitem_set_string(add(s, "/Mgmt/ProcessVersion", BUSITEM_STRING, NULL), DBUS_JKBMS_VERSION);
	busitem_set_string(add(s, "/Mgmt/Connection", BUSITEM_STRING, NULL), conn);
	i->device_instance = add(s, "/DeviceInstance", BUSITEM_INT, NULL);
	busitem_set_int(add(s, "/ProductId", BUSITEM_INT, "0x%X"), PRODUCT_ID);
	i->product_name = add(s, "/ProductName", BUSITEM_STRING, NULL);
	busitem_set_string(i->product_name, "JK-BMS");
	i->firmware = add(s, "/FirmwareVersion", BUSITEM_STRING, NULL);
	i->hardware = add(s, "/HardwareVersion", BUSITEM_STRING, NULL);
	i->serial = add(s, "/Serial", BUSITEM_STRING, NULL);
	i->connected = add(s, "/Connected", BUSITEM_INT, NULL);
	i->custom_name = busitem_add(s->tree, "/CustomName", BUSITEM_STRING, NULL, custom_name_set_cb, s);
	busitem_set_string(i->custom_name, "");
	i->state = add(s, "/State", BUSITEM_INT, NULL);
	i->error_code = add(s, "/ErrorCode", BUSITEM_INT, NULL);
	busitem_set_int(i->error_code, 0);
	i->connection_info = add(s, "/ConnectionInformation", BUSITEM_STRING, NULL);
	g_free(conn);

	/* Measurements (§3.1). */
	i->voltage = measure(s, "/Dc/0/Voltage", BUSITEM_DOUBLE, "%.2fV");
	i->current = measure(s, "/Dc/0/Current", BUSITEM_DOUBLE, "%.2fA");
	i->power = measure(s, "/Dc/0/Power", BUSITEM_DOUBLE, "%.0fW");
	i->temperature = measure(s, "/Dc/0/Temperature", BUSITEM_DOUBLE, "%.1fC");
	i->soc = measure(s, "/Soc", BUSITEM_DOUBLE, "%.0f%%");
	i->soh = measure(s, "/Soh", BUSITEM_DOUBLE, "%.0f%%");
	i->capacity = measure(s, "/Capacity", BUSITEM_DOUBLE, "%.1fAh");
	i->installed_capacity = add(s, "/InstalledCapacity", BUSITEM_DOUBLE, "%.1fAh");
	i->consumed_ah = measure(s, "/ConsumedAmphours", BUSITEM_DOUBLE, "%.1fAh");
	i->time_to_go = measure(s, "/TimeToGo", BUSITEM_DOUBLE, "%.0fs");

	/* System summary (§3.4). */
	i->min_cell_v = measure(s, "/System/MinCellVoltage", BUSITEM_DOUBLE, "%.3fV");
	i->max_cell_v = measure(s, "/System/MaxCellVoltage", BUSITEM_DOUBLE, "%.3fV");
	i->min_cell_id = measure(s, "/System/MinVoltageCellId", BUSITEM_STRING, NULL);
	i->max_cell_id = measure(s, "/System/MaxVoltageCellId", BUSITEM_STRING, NULL);
	i->min_temp = measure(s, "/System/MinCellTemperature", BUSITEM_DOUBLE, "%.1fC");
	i->max_temp = measure(s, "/System/MaxCellTemperature", BUSITEM_DOUBLE, "%.1fC");
	i->min_temp_id = measure(s, "/System/MinTemperatureCellId", BUSITEM_STRING, NULL);
	i->max_temp_id = measure(s, "/System/MaxTemperatureCellId", BUSITEM_STRING, NULL);
	i->mos_temp = measure(s, "/System/MOSTemperature", BUSITEM_DOUBLE, "%.1fC");
	i->temp1 = measure(s, "/System/Temperature1", BUSITEM_DOUBLE, "%.1fC");
	i->temp2 = measure(s, "/System/Temperature2", BUSITEM_DOUBLE, "%.1fC");
	i->cells_per_battery = add(s, "/System/NrOfCellsPerBattery", BUSITEM_INT, NULL);
	i->modules_online = add(s, "/System/NrOfModulesOnline", BUSITEM_INT, NULL);
	i->modules_offline = add(s, "/System/NrOfModulesOffline", BUSITEM_INT, NULL);
	i->blocking_charge = measure(s, "/System/NrOfModulesBlockingCharge", BUSITEM_INT, NULL);
	i->blocking_discharge = measure(s, "/System/NrOfModulesBlockingDischarge", BUSITEM_INT, NULL);
	i->nr_batteries = add(s, "/System/NrOfBatteries", BUSITEM_INT, NULL);
	i->parallel = add(s, "/System/BatteriesParallel", BUSITEM_INT, NULL);
	i->series = add(s, "/System/BatteriesSeries", BUSITEM_INT, NULL);
	busitem_set_int(i->nr_batteries, 1);
	busitem_set_int(i->parallel, 1);
	busitem_set_int(i->series, 1);
	i->volt_sum = measure(s, "/Voltages/Sum", BUSITEM_DOUBLE, "%.3fV");
	i->volt_diff = measure(s, "/Voltages/Diff", BUSITEM_DOUBLE, "%.3fV");
	i->balancing = measure(s, "/Balancing", BUSITEM_INT, NULL);
	i->allow_charge = measure(s, "/Io/AllowToCharge", BUSITEM_INT, NULL);
	i->allow_discharge = measure(s, "/Io/AllowToDischarge", BUSITEM_INT, NULL);
	i->allow_balance = measure(s, "/Io/AllowToBalance", BUSITEM_INT, NULL);
	busitem_set_int(add(s, "/Settings/HasTemperature", BUSITEM_INT, NULL), 1);

	/* DVCC (§3.2). */
	i->cvl = add(s, "/Info/MaxChargeVoltage", BUSITEM_DOUBLE, "%.2fV");
	i->ccl = add(s, "/Info/MaxChargeCurrent", BUSITEM_DOUBLE, "%.1fA");
	i->dcl = add(s, "/Info/MaxDischargeCurrent", BUSITEM_DOUBLE, "%.1fA");
	i->low_voltage = add(s, "/Info/BatteryLowVoltage", BUSITEM_DOUBLE, "%.2fV");
	i->charge_mode = add(s, "/Info/ChargeMode", BUSITEM_STRING, NULL);
	i->charge_limitation = add(s, "/Info/ChargeLimitation", BUSITEM_STRING, NULL);
	i->discharge_limitation = add(s, "/Info/DischargeLimitation", BUSITEM_STRING, NULL);

	/* Alarms (§3.3): published as 0 while inactive. */
	for (unsigned k = 0; k < POLICY_ALARM_COUNT; k++) {
		char path[64];

		snprintf(path, sizeof(path), "/Alarms/%s", policy_alarm_name((enum policy_alarm)k));
		i->alarms[k] = add(s, path, BUSITEM_INT, NULL);
	}
	i->bms_cable = add(s, "/Alarms/BmsCable", BUSITEM_INT, NULL);

	/* Manual MOSFET control (charge-control.md §7). */
	i->force_off[POLICY_FET_CHARGE] =
		busitem_add(s->tree, "/Settings/ForceChargingOff", BUSITEM_INT, NULL, force_set_cb, s);
	i->force_off[POLICY_FET_DISCHARGE] =
		busitem_add(s->tree, "/Settings/ForceDischargingOff", BUSITEM_INT, NULL, force_set_cb, s);
	busitem_set_int(i->force_off[POLICY_FET_CHARGE], 0);
	busitem_set_int(i->force_off[POLICY_FET_DISCHARGE], 0);

	/* History (§3.5). */
	i->charge_cycles = add(s, "/History/ChargeCycles", BUSITEM_INT, NULL);
	i->total_charged = add(s, "/History/TotalAhCharged", BUSITEM_DOUBLE, "%.0fAh");

	/* Link diagnostics. */
	i->diag_state = add(s, "/Diagnostics/Link/State", BUSITEM_STRING, NULL);
	i->diag_polls = add(s, "/Diagnostics/Link/Polls", BUSITEM_INT, NULL);
	i->diag_replies = add(s, "/Diagnostics/Link/Replies", BUSITEM_INT, NULL);
	i->diag_timeouts = add(s, "/Diagnostics/Link/Timeouts", BUSITEM_INT, NULL);
	i->diag_retries = add(s, "/Diagnostics/Link/Retries", BUSITEM_INT, NULL);
	i->diag_misses = add(s, "/Diagnostics/Link/MissedPolls", BUSITEM_INT, NULL);
	i->diag_bad = add(s, "/Diagnostics/Link/BadReplies", BUSITEM_INT, NULL);
	i->diag_rejects = add(s, "/Diagnostics/Link/RejectedFrames", BUSITEM_INT, NULL);
	i->diag_junk = add(s, "/Diagnostics/Link/JunkBytes", BUSITEM_INT, NULL);
	i->diag_reopens = add(s, "/Diagnostics/Link/Reopens", BUSITEM_INT, NULL);
	i->diag_io_errors = add(s, "/Diagnostics/Link/IoErrors", BUSITEM_INT, NULL);
	i->diag_activations = add(s, "/Diagnostics/Link/Activations", BUSITEM_INT, NULL);
	i->diag_writes_ok = add(s, "/Diagnostics/Link/WritesOk", BUSITEM_INT, NULL);
	i->diag_writes_failed = add(s, "/Diagnostics/Link/WritesFailed", BUSITEM_INT, NULL);
	i->diag_sent = add(s, "/Diagnostics/Link/RequestsSent", BUSITEM_INT, NULL);
	/* One counter per rejection reason, e.g. /Diagnostics/Link/Rejected/Checksum. */
	static const char *const reasons[CODEC_REJECT_COUNT] = {
		[CODEC_REJECT_LENGTH] = "Length", [CODEC_REJECT_END_BYTE] = "EndByte",
		[CODEC_REJECT_CHECKSUM] = "Checksum", [CODEC_REJECT_NOT_REPLY] = "NotReply",
		[CODEC_REJECT_COMMAND] = "Command", [CODEC_REJECT_UNKNOWN_ID] = "UnknownId",
		[CODEC_REJECT_DUPLICATE_ID] = "DuplicateId", [CODEC_REJECT_WALK_END] = "WalkEnd",
		[CODEC_REJECT_CELLS] = "Cells", [CODEC_REJECT_MISSING_ID] = "MissingId",
		[CODEC_REJECT_TEMPERATURE] = "Temperature", [CODEC_REJECT_SOC] = "Soc",
		[CODEC_REJECT_VOLTAGE_SUM] = "VoltageSum",
	};

	for (int k = 1; k < CODEC_REJECT_COUNT; k++) {
		char path[64];

		snprintf(path, sizeof(path), "/Diagnostics/Link/Rejected/%s", reasons[k]);
		i->diag_reject[k] = add(s, path, BUSITEM_INT, NULL);
	}
}

/* Cell paths exist once the cell count is known (first reply), which is
 * before the name is requested. */
static void add_cells(struct service *s, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		char path[32];

		snprintf(path, sizeof(path), "/Voltages/Cell%u", k + 1);
		s->it.cells[k] = measure(s, path, BUSITEM_DOUBLE, "%.3fV");
	}
	busitem_set_int(s->it.cells_per_battery, (int32_t)n);
}

/* ---- publishing -------------------------------------------------------- */

static double round_to(double v, double step)
{
	return round(v / step) * step;
}

static void set_i32(struct busitem *it, uint64_t v)
{
	busitem_set_int(it, v > INT32_MAX ? INT32_MAX : (int32_t)v);
}

/* "11.XW_S11.26" -> hardware "11.XW", firmware "11.26". */
static void split_version(const char *v, char *hw, size_t hn, char *fw, size_t fn)
{
	const char *sep = strstr(v, "_S");

	if (!sep) {
		snprintf(hw, hn, "%s", "");
		snprintf(fw, fn, "%s", v);
		return;
	}
	size_t l = (size_t)(sep - v);

	while (l > 0 && v[l - 1] == '_')
		l--;
	snprintf(hw, hn, "%.*s", (int)l, v);
	snprintf(fw, fn, "%s", sep + 2);
}

static void publish_identity(struct service *s, const struct bms_snapshot *b)
{
	char hw[20], fw[20], name[48], info[96];
	const char *model = strstr(b->manufacturer, "JK_");

	split_version(b->software_version, hw, sizeof(hw), fw, sizeof(fw));
	busitem_set_string(s->it.firmware, fw);
	busitem_set_string(s->it.hardware, hw);
	snprintf(name, sizeof(name), "JK-BMS%s%s", model ? " " : "", model ? model + 3 : "");
	busitem_set_string(s->it.product_name, name);
	snprintf(info, sizeof(info), "%u baud, protocol %u, %s", s->cfg.baud, b->protocol_version,
		 b->software_version);
	busitem_set_string(s->it.connection_info, info);
}

static void publish_measurements(struct service *s, const struct bms_snapshot *b)
{
	struct items *i = &s->it;
	double v = b->voltage_mv / 1000.0, a = b->current_ma / 1000.0;
	unsigned n = b->cell_count, imin = 0, imax = 0;
	uint32_t sum = 0;
	bool any = false;

	busitem_set_double(i->voltage, round_to(v, 0.01));
	busitem_set_double(i->current, round_to(a, 0.01));
	busitem_set_double(i->power, round_to((double)b->voltage_mv * b->current_ma / 1e6, 0.1));
	busitem_set_double(i->temperature, (b->temp_c[BMS_TEMP_T1] + b->temp_c[BMS_TEMP_T2]) / 2.0);
	busitem_set_double(i->soc, b->soc_pct);
	if (b->settings.actual_capacity_ah && b->settings.capacity_ah)
		busitem_set_double(i->soh, round_to(100.0 * b->settings.actual_capacity_ah / b->settings.capacity_ah, 1));
	else
		busitem_invalidate(i->soh);
	double cap = b->settings.capacity_ah;

	busitem_set_double(i->installed_capacity, cap);
	busitem_set_double(i->capacity, round_to(cap * b->soc_pct / 100.0, 0.1));
	busitem_set_double(i->consumed_ah, round_to(-cap * (100 - b->soc_pct) / 100.0, 0.1));
	int64_t ttg = ttg_seconds(&s->ttg, b->soc_pct, b->settings.capacity_ah, s->cfg.ttg_floor_pct);

	if (ttg >= 0)
		busitem_set_double(i->time_to_go, round_to((double)ttg, 60));
	else
		busitem_invalidate(i->time_to_go);

	/* Cells: 0 mV is a missing sense lead, published as invalid. */
	for (unsigned k = 0; k < n && k < BMS_MAX_CELLS; k++) {
		if (!i->cells[k])
			continue;
		if (!b->cell_mv[k]) {
			busitem_invalidate(i->cells[k]);
			continue;
		}
		busitem_set_double(i->cells[k], b->cell_mv[k] / 1000.0);
		sum += b->cell_mv[k];
		if (!any || b->cell_mv[k] < b->cell_mv[imin])
			imin = k;
		if (!any || b->cell_mv[k] > b->cell_mv[imax])
			imax = k;
		any = true;
	}
	if (any) {
		char id[16];

		busitem_set_double(i->min_cell_v, b->cell_mv[imin] / 1000.0);
		busitem_set_double(i->max_cell_v, b->cell_mv[imax] / 1000.0);
		snprintf(id, sizeof(id), "C%u", imin + 1);
		busitem_set_string(i->min_cell_id, id);
		snprintf(id, sizeof(id), "C%u", imax + 1);
		busitem_set_string(i->max_cell_id, id);
		busitem_set_double(i->volt_sum, sum / 1000.0);
		busitem_set_double(i->volt_diff, (b->cell_mv[imax] - b->cell_mv[imin]) / 1000.0);
	}
	int16_t t1 = b->temp_c[BMS_TEMP_T1], t2 = b->temp_c[BMS_TEMP_T2];

	busitem_set_double(i->min_temp, t1 < t2 ? t1 : t2);
	busitem_set_double(i->max_temp, t1 > t2 ? t1 : t2);
	busitem_set_string(i->min_temp_id, t1 <= t2 ? "T1" : "T2");
	busitem_set_string(i->max_temp_id, t1 >= t2 ? "T1" : "T2");
	busitem_set_double(i->mos_temp, b->temp_c[BMS_TEMP_MOSFET]);
	busitem_set_double(i->temp1, t1);
	busitem_set_double(i->temp2, t2);
	busitem_set_int(i->modules_online, 1);
	busitem_set_int(i->modules_offline, 0);
	busitem_set_int(i->blocking_charge, !(b->status & BMS_STATUS_CHARGE_FET));
	busitem_set_int(i->blocking_discharge, !(b->status & BMS_STATUS_DISCHARGE_FET));
	busitem_set_int(i->balancing, !!(b->status & BMS_STATUS_BALANCING));
	busitem_set_int(i->allow_balance, b->settings.balancer_enabled ? 1 : 0);
	busitem_set_int(i->charge_cycles, b->cycles);
	busitem_set_double(i->total_charged, b->cycle_capacity_ah);
}

/* ---- charge control ---------------------------------------------------- */

/* The state file: written when what it holds changes; a change of the
 * charge mode alone at most once a minute (docs/charge-control.md "What
 * survives a restart"). Which FETs are ours is written at once. */
#define STATE_MODE_PERIOD_MS 60000

static void write_state(struct service *s)
{
	char err[256];

	if (s->state_source)
		g_source_remove(s->state_source);
	s->state_source = 0;
	if (state_file_save(s->state_path, s->uid, &s->saved, err, sizeof(err)) < 0) {
		if (!s->state_warned)
			LOG_WARN("cannot save the charge state to %s: %s", s->state_path, err);
		s->state_warned = true;
		return;
	}
	s->state_written_ms = link_now_ms();
}

static gboolean state_due_cb(gpointer data)
{
	struct service *s = data;

	s->state_source = 0;
	write_state(s);
	return G_SOURCE_REMOVE;
}

static void save_state(struct service *s)
{
	struct policy_persist now;

	if (!s->state_path)
		return;
	policy_persist_get(&s->pstate, &now);
	if (memcmp(&now, &s->saved, sizeof(now)) == 0)
		return;
	bool fets = memcmp(now.fet_owned, s->saved.fet_owned, sizeof(now.fet_owned)) != 0 ||
		    memcmp(now.fet_forced, s->saved.fet_forced, sizeof(now.fet_forced)) != 0;
	uint64_t since = link_now_ms() - s->state_written_ms;

	s->saved = now;
	if (fets || !s->state_written_ms || since >= STATE_MODE_PERIOD_MS)
		write_state(s);
	else if (!s->state_source)
		s->state_source = g_timeout_add((guint)(STATE_MODE_PERIOD_MS - since), state_due_cb, s);
}

static void load_state(struct service *s)
{
	char err[256];

	s->state_path = g_strdup_printf("%s/%s.state", s->cfg.state_dir, s->uid);
	policy_persist_get(&s->pstate, &s->saved);
	int r = state_file_load(s->state_path, s->uid, &s->saved, err, sizeof(err));

	if (r == -ENOENT)
		return;
	if (r < 0) {
		LOG_WARN("charge state in %s not used: %s", s->state_path, err);
		return;
	}
	policy_restore(&s->pstate, &s->saved);
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		s->force_off[f] = s->saved.fet_forced[f];
		busitem_set_int(s->it.force_off[f], s->force_off[f]);
	}
	LOG_INFO("charge state restored from %s: %s%s%s%s%s", s->state_path, policy_mode_name(s->saved.mode),
		 s->saved.fet_owned[POLICY_FET_CHARGE] ? ", charge FET switched off by us" : "",
		 s->saved.fet_owned[POLICY_FET_DISCHARGE] ? ", discharge FET switched off by us" : "",
		 s->saved.fet_forced[POLICY_FET_CHARGE] ? ", charge FET forced off" : "",
		 s->saved.fet_forced[POLICY_FET_DISCHARGE] ? ", discharge FET forced off" : "");
}

static void log_clamps(struct service *s, const struct policy_params *p)
{
	static const struct {
		uint32_t bit;
		const char *what;
	} clamps[] = {
		{ POLICY_CLAMP_CHARGE_CELL, "charge_cell_voltage" },
		{ POLICY_CLAMP_FLOAT_CELL, "float_cell_voltage" },
		{ POLICY_CLAMP_REBULK_CELL, "rebulk_cell_voltage" },
		{ POLICY_CLAMP_MIN_CELL, "min_cell_voltage" },
		{ POLICY_CLAMP_CHARGE_CURRENT, "max_charge_current" },
		{ POLICY_CLAMP_DISCHARGE_CURRENT, "max_discharge_current" },
		{ POLICY_CLAMP_CHARGE_TEMP, "charge_min/max_temperature" },
		{ POLICY_CLAMP_DISCHARGE_TEMP, "discharge_min/max_temperature" },
	};

	for (size_t k = 0; k < sizeof(clamps) / sizeof(clamps[0]); k++) {
		if ((p->clamped & clamps[k].bit) && !(s->clamps_logged & clamps[k].bit))
			LOG_WARN("%s is outside the BMS's protection window; clamped into it (charge %.3f V, float "
				 "%.3f V, floor %.3f V, CCL %.1f A, DCL %.1f A)",
				 clamps[k].what, p->v_chg_mv / 1000.0, p->v_flt_mv / 1000.0, p->v_min_mv / 1000.0,
				 p->ccl_ceiling_ma / 1000.0, p->dcl_ceiling_ma / 1000.0);
	}
	s->clamps_logged |= p->clamped;
}

/* The policy runs at least every second, frames or not (docs/charge-control.md
 * "Loss of communication"); a little slack keeps the tick from racing the
 * next reply when polling once a second. */
#define POLICY_TICK_MS 1100

static void publish(struct service *s, bool fresh);

static gboolean tick_cb(gpointer data)
{
	struct service *s = data;

	s->tick_source = 0;
	publish(s, false);
	return G_SOURCE_REMOVE;
}

static void run_policy(struct service *s, bool fresh, bool lost)
{
	struct policy_input in = {
		.snap = &s->snap,
		.fresh = fresh,
		.lost = lost,
		.now_ms = link_now_ms(),
		.wall_s = g_get_real_time() / 1000000,
	};
	struct policy_output o;
	enum policy_mode old_mode = s->pstate.mode;

	s->policy_ms = in.now_ms;
	/* The policy's own tick: it runs at least this often, frames or not,
	 * so every time-based rule fires while the BMS is silent. */
	if (s->tick_source)
		g_source_remove(s->tick_source);
	s->tick_source = g_timeout_add(POLICY_TICK_MS, tick_cb, s);

	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		in.force_off[f] = s->force_off[f];
		in.reset_lock[f] = s->reset_lock[f];
		in.fet_result[f] = s->fet_result[f];
		s->reset_lock[f] = false;
		s->fet_result[f] = POLICY_FET_RESULT_NONE;
	}
	policy_compute(&s->pcfg, &in, &s->pstate, &o, &s->pstate);
	log_clamps(s, &o.params);
	if (s->pstate.mode != old_mode)
		LOG_INFO("charge mode %s -> %s", policy_mode_name(old_mode), policy_mode_name(s->pstate.mode));
	save_state(s);
	for (unsigned a = 0; a < POLICY_ALARM_COUNT; a++) {
		if (s->have_pout && o.alarm[a] != s->pout.alarm[a])
			LOG_INFO("alarm %s %s (level %u)", policy_alarm_name((enum policy_alarm)a),
				 o.alarm[a] > s->pout.alarm[a] ? "raised" : "cleared", o.alarm[a]);
		busitem_set_int(s->it.alarms[a], o.alarm[a]);
	}
	if (!s->have_pout || strcmp(o.charge_limitation, s->pout.charge_limitation) != 0 ||
	    strcmp(o.discharge_limitation, s->pout.discharge_limitation) != 0 || (o.ccl_ma == 0) != (s->pout.ccl_ma == 0) ||
	    (o.dcl_ma == 0) != (s->pout.dcl_ma == 0))
		LOG_INFO("limits: CVL %.2f V, CCL %.1f A (%s), DCL %.1f A (%s)", o.cvl_mv / 1000.0, o.ccl_ma / 1000.0,
			 o.charge_limitation, o.dcl_ma / 1000.0, o.discharge_limitation);
	for (unsigned f = 0; f < POLICY_FET_COUNT; f++) {
		if (o.fet_request[f] == POLICY_FET_NONE)
			continue;
		uint8_t id = f == POLICY_FET_CHARGE ? 0xAB : 0xAC;
		int r = link_queue_write(s->link, id, o.fet_request[f] == POLICY_FET_ON);

		LOG_INFO("switching the %s FET %s", f == POLICY_FET_CHARGE ? "charge" : "discharge",
			 o.fet_request[f] == POLICY_FET_ON ? "on" : "off");
		if (r < 0) {
			LOG_WARN("cannot queue the FET write: %s", g_strerror(-r));
			s->fet_result[f] = POLICY_FET_RESULT_NOT_APPLIED;
		}
	}
	s->pout = o;
	s->have_pout = true;
	busitem_set_double(s->it.cvl, round_to(o.cvl_mv / 1000.0, 0.01));
	busitem_set_double(s->it.ccl, round_to(o.ccl_ma / 1000.0, 0.1));
	busitem_set_double(s->it.dcl, round_to(o.dcl_ma / 1000.0, 0.1));
	if (o.battery_low_mv)
		busitem_set_double(s->it.low_voltage, round_to(o.battery_low_mv / 1000.0, 0.01));
	busitem_set_string(s->it.charge_mode, policy_mode_name(o.mode));
	busitem_set_string(s->it.charge_limitation, o.charge_limitation);
	busitem_set_string(s->it.discharge_limitation, o.discharge_limitation);
	if (!lost) {
		busitem_set_int(s->it.allow_charge, o.allow_charge);
		busitem_set_int(s->it.allow_discharge, o.allow_discharge);
	}
}

/* Link counters: at once when something went wrong, otherwise at most every
 * 10 s, so that the counters that grow every poll (polls, replies) do not
 * add three paths to every ItemsChanged. */
#define DIAG_PERIOD_MS 10000

static void publish_diagnostics(struct service *s)
{
	const struct poller_counters *p = link_poller_counters(s->link);
	const struct link_counters *c = link_counters(s->link);
	uint64_t rejects = 0, now = link_now_ms();

	for (int k = 1; k < CODEC_REJECT_COUNT; k++)
		rejects += c->rejects[k];
	uint64_t trouble = rejects + p->timeouts + p->bad_replies + c->io_errors + c->reopens + p->writes_ok +
			   p->writes_failed + p->activations + c->junk_bytes;

	busitem_set_string(s->it.diag_state, poller_link_name(link_state(s->link)));
	if (trouble == s->diag_trouble && now - s->diag_at < DIAG_PERIOD_MS && s->diag_at)
		return;
	s->diag_trouble = trouble;
	s->diag_at = now;
	set_i32(s->it.diag_polls, p->polls);
	set_i32(s->it.diag_replies, p->replies);
	set_i32(s->it.diag_timeouts, p->timeouts);
	set_i32(s->it.diag_retries, p->retries);
	set_i32(s->it.diag_misses, p->misses);
	set_i32(s->it.diag_bad, p->bad_replies);
	set_i32(s->it.diag_rejects, rejects);
	set_i32(s->it.diag_junk, c->junk_bytes);
	set_i32(s->it.diag_reopens, c->reopens);
	set_i32(s->it.diag_io_errors, c->io_errors);
	set_i32(s->it.diag_activations, p->activations);
	set_i32(s->it.diag_writes_ok, p->writes_ok);
	set_i32(s->it.diag_writes_failed, p->writes_failed);
	set_i32(s->it.diag_sent, c->requests_sent);
	for (int k = 1; k < CODEC_REJECT_COUNT; k++)
		set_i32(s->it.diag_reject[k], c->rejects[k]);
}

/* Everything from the last snapshot and the link state; one flush.
 * fresh: a new poll arrived. */
static void publish(struct service *s, bool fresh)
{
	enum poller_link link = link_state(s->link);
	bool lost = link == POLLER_LINK_LOST;

	if (!s->have_snap)
		return;
	if (lost) {
		/* charge-control.md §6: after the lost window the measurements
		 * are invalid and the limits zero; CVL stays valid so that DVCC
		 * keeps this service as the BMS and applies the zeros. */
		for (guint k = 0; k < s->measurements->len; k++)
			busitem_invalidate(g_ptr_array_index(s->measurements, k));
		ttg_reset(&s->ttg);
	} else {
		publish_measurements(s, &s->snap);
	}
	run_policy(s, fresh, lost);
	busitem_set_int(s->it.bms_cable, lost ? 2 : (link == POLLER_LINK_WARNING ? 1 : 0));
	busitem_set_int(s->it.connected, lost ? 0 : 1);
	busitem_set_int(s->it.state, lost ? 10 : 9);
	publish_diagnostics(s);
	busitem_flush(s->tree);
}

/* ---- registration ------------------------------------------------------ */

static char *sanitize(const char *in, size_t max)
{
	GString *g = g_string_new(NULL);

	for (const char *p = in; *p && g->len < max; p++) {
		if (g_ascii_isalnum(*p) || *p == '_')
			g_string_append_c(g, *p);
		else if (*p == ' ' || *p == '-' || *p == '.')
			g_string_append_c(g, '_');
	}
	return g_string_free(g, FALSE);
}

/* A unique id that survives tty renumbering where possible: an identity the
 * user gave the BMS, else the USB adapter's serial number, else the tty. */
static char *make_uid(struct service *s, const struct bms_snapshot *b)
{
	const char *src = s->tty;

	/* Factory defaults are shared by many units: not an identity. */
	if (b->manufacturer[0] && !g_str_has_prefix(b->manufacturer, "Input Userda") &&
	    strcmp(b->manufacturer, "BT3072020120000200521001") != 0)
		src = b->manufacturer;
	else if (b->device_id[0] && strcmp(b->device_id, "Input Us") != 0)
		src = b->device_id;
	else if (s->usb_serial[0])
		src = s->usb_serial;

	char *clean = sanitize(src, 40);
	char *uid = g_strdup_printf("jkbms_%s", clean);

	g_free(clean);
	return uid;
}

static void request_name(struct service *s)
{
	DBusError err;

	dbus_error_init(&err);
	int r = dbus_bus_request_name(s->conn, s->bus_name, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);

	if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		LOG_ERR("cannot own %s: %s", s->bus_name, dbus_error_is_set(&err) ? err.message : "already owned");
		dbus_error_free(&err);
		quit(s, 1);
		return;
	}
	s->phase = PHASE_RUNNING;
	LOG_INFO("registered %s as device instance %d, %.0f ms after the first reply", s->bus_name,
		 busitem_get_int(s->it.device_instance), (double)(link_now_ms() - s->first_reply_ms));
}

static void settings_done(void *data, int instance, const char *custom_name, bool from_settings)
{
	struct service *s = data;

	(void)from_settings;
	busitem_set_int(s->it.device_instance, instance);
	busitem_set_string(s->it.custom_name, custom_name);
	busitem_flush(s->tree);
	request_name(s);
}

static void on_snapshot(void *data, const struct bms_snapshot *b)
{
	struct service *s = data;

	s->snap = *b;
	s->have_snap = true;
	ttg_update(&s->ttg, b->current_ma, link_now_ms());
	if (s->phase == PHASE_PROBING) {
		s->phase = PHASE_REGISTERING;
		s->first_reply_ms = link_now_ms();
		if (s->probe_source)
			g_source_remove(s->probe_source);
		s->probe_source = 0;
		LOG_INFO("JK-BMS found: %s, %u cells, protocol %u", b->software_version, b->cell_count,
			 b->protocol_version);
		add_cells(s, b->cell_count);
		publish_identity(s, b);
		s->uid = make_uid(s, b);
		busitem_set_string(s->it.serial, s->uid);
		load_state(s);
		publish(s, true);
		settings_client_request(s->settings, "battery", s->uid, s->cfg.device_instance,
					s->cfg.settings_timeout_ms, settings_done, s);
		return;
	}
	publish(s, true);
}

static gboolean leave_bus_cb(gpointer data)
{
	struct service *s = data;

	s->leave_source = 0;
	LOG_WARN("BMS lost for longer than leave_bus_after: leaving the bus");
	quit(s, 1);
	return G_SOURCE_REMOVE;
}

static void on_state(void *data, enum poller_link old, enum poller_link now)
{
	struct service *s = data;

	(void)old;
	if (now == POLLER_LINK_LOST && s->cfg.leave_bus_after_ms && !s->leave_source)
		s->leave_source = g_timeout_add(s->cfg.leave_bus_after_ms, leave_bus_cb, s);
	if (now != POLLER_LINK_LOST && s->leave_source) {
		g_source_remove(s->leave_source);
		s->leave_source = 0;
	}
	publish(s, false);
}

static void on_write(void *data, const struct poller_write_result *r)
{
	struct service *s = data;

	unsigned f = r->id == 0xAB ? POLICY_FET_CHARGE : POLICY_FET_DISCHARGE;

	if (r->status == POLLER_WRITE_OK)
		LOG_INFO("%s FET %s: verified after %u attempt(s)", r->id == 0xAB ? "charge" : "discharge",
			 r->value ? "on" : "off", r->attempts);
	else
		LOG_ERR("%s FET %s failed: %s after %u attempt(s)", r->id == 0xAB ? "charge" : "discharge",
			r->value ? "on" : "off", poller_write_status_name(r->status), r->attempts);
	s->fet_result[f] = r->status == POLLER_WRITE_OK		 ? POLICY_FET_RESULT_OK
			   : r->status == POLLER_WRITE_NO_ANSWER ? POLICY_FET_RESULT_NO_ANSWER
								 : POLICY_FET_RESULT_NOT_APPLIED;
	publish(s, false);
}

static gboolean probe_timeout_cb(gpointer data)
{
	struct service *s = data;

	s->probe_source = 0;
	LOG_ERR("no JK-BMS answered on %s within %.1f s; exiting without registering", s->device,
		s->cfg.probe_timeout_ms / 1000.0);
	quit(s, 1);
	return G_SOURCE_REMOVE;
}

static DBusHandlerResult bus_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
	struct service *s = data;

	(void)conn;
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		LOG_ERR("lost the D-Bus connection; exiting for the supervisor to restart us");
		quit(s, 1);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameLost")) {
		const char *name = NULL;

		if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID) && name &&
		    strcmp(name, s->bus_name) == 0) {
			LOG_ERR("lost the bus name %s; exiting", name);
			quit(s, 1);
		}
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* ---- life cycle -------------------------------------------------------- */

int service_new(const struct config *cfg, const char *device, DBusConnection *conn, service_quit_fn quit_fn,
		void *user_data, struct service **out)
{
	struct service *s = g_new0(struct service, 1);
	struct link_config lc;
	struct link_events ev = { on_snapshot, on_state, on_write };

	s->cfg = *cfg;
	s->device = g_strdup(device);
	s->tty = g_path_get_basename(device);
	char *clean = sanitize(s->tty, 64);

	/* A name element must not start with a digit. */
	s->bus_name = g_strdup_printf("com.victronenergy.battery.%s%s", g_ascii_isdigit(clean[0]) ? "_" : "", clean);
	g_free(clean);
	s->conn = conn;
	s->quit = quit_fn;
	s->quit_data = user_data;
	s->measurements = g_ptr_array_new();
	policy_init(&s->pstate);
	policy_config_default(&s->pcfg);
	s->pcfg.max_charge_current_ma = cfg->max_charge_current_ma;
	s->pcfg.max_discharge_current_ma = cfg->max_discharge_current_ma;
	s->pcfg.charge_cell_mv = cfg->charge_cell_mv;
	s->pcfg.float_cell_mv = cfg->float_cell_mv;
	s->pcfg.rebulk_cell_mv = cfg->rebulk_cell_mv;
	s->pcfg.min_cell_mv = cfg->min_cell_mv;
	s->pcfg.charge_min_temp_c = cfg->charge_min_temp_c;
	s->pcfg.charge_max_temp_c = cfg->charge_max_temp_c;
	s->pcfg.discharge_min_temp_c = cfg->discharge_min_temp_c;
	s->pcfg.discharge_max_temp_c = cfg->discharge_max_temp_c;
	s->pcfg.tail_current_ma = cfg->tail_current_ma;
	s->pcfg.max_absorption_ms = cfg->max_absorption_ms;
	s->pcfg.rebulk_soc_pct = (uint8_t)cfg->rebulk_soc_pct;
	s->pcfg.full_charge_days = (uint16_t)cfg->full_charge_days;
	s->pcfg.soc_taper = cfg->soc_taper;
	s->pcfg.mosfet_control = cfg->mosfet_control;
	s->pcfg.lost_discharge_ma = cfg->lost_discharge_ma;
	s->pcfg.lost_discharge_ms = cfg->lost_discharge_ms;
	s->tree = busitem_tree_new(conn, cfg->properties_changed);
	if (!s->tree) {
		LOG_ERR("cannot register the object tree");
		service_free(s);
		return -ENOMEM;
	}
	dbus_connection_add_filter(conn, bus_filter, s, NULL);
	s->settings = settings_client_new(conn);
	build_tree(s);
	transport_usb_serial(device, s->usb_serial, sizeof(s->usb_serial));

	link_config_default(&lc);
	lc.device = device;
	lc.baud = cfg->baud;
	lc.poll.interval_ms = cfg->poll_interval_ms;
	lc.poll.reply_timeout_ms = cfg->reply_timeout_ms;
	lc.poll.warning_ms = cfg->link_warning_ms;
	lc.poll.lost_ms = cfg->link_lost_ms;
	int r = link_new(&lc, &ev, s, &s->link);

	if (r < 0) {
		LOG_ERR("cannot open %s: %s", device, g_strerror(-r));
		service_free(s);
		return r;
	}
	s->probe_source = g_timeout_add(cfg->probe_timeout_ms, probe_timeout_cb, s);
	link_start(s->link);
	*out = s;
	return 0;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	if (s->link) {
		/* The totals, for the log: what went wrong over the whole run. */
		const struct poller_counters *p = link_poller_counters(s->link);
		const struct link_counters *c = link_counters(s->link);

		LOG_INFO("link totals: polls %llu, replies %llu, requests sent %llu, timeouts %llu, retries %llu, "
			 "rejected checksum %llu, rejected echo %llu, junk bytes %llu, reopens %llu, writes ok %llu, "
			 "writes failed %llu",
			 (unsigned long long)p->polls, (unsigned long long)p->replies,
			 (unsigned long long)c->requests_sent, (unsigned long long)p->timeouts,
			 (unsigned long long)p->retries, (unsigned long long)c->rejects[CODEC_REJECT_CHECKSUM],
			 (unsigned long long)c->rejects[CODEC_REJECT_NOT_REPLY], (unsigned long long)c->junk_bytes,
			 (unsigned long long)c->reopens, (unsigned long long)p->writes_ok,
			 (unsigned long long)p->writes_failed);
	}
	if (s->probe_source)
		g_source_remove(s->probe_source);
	if (s->leave_source)
		g_source_remove(s->leave_source);
	if (s->tick_source)
		g_source_remove(s->tick_source);
	if (s->state_source)
		write_state(s); /* a deferred mode change */
	link_free(s->link);
	settings_client_free(s->settings);
	if (s->conn)
		dbus_connection_remove_filter(s->conn, bus_filter, s);
	busitem_tree_free(s->tree);
	if (s->measurements)
		g_ptr_array_free(s->measurements, TRUE);
	g_free(s->device);
	g_free(s->tty);
	g_free(s->bus_name);
	g_free(s->uid);
	g_free(s->state_path);
	g_free(s);
}

const char *service_bus_name(const struct service *s)
{
	return s->bus_name;
}
