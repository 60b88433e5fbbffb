/* SPDX-License-Identifier: MIT */
/*
 * JSON rendering of a snapshot for people and scripts: what a user pastes
 * into a bug report. Integer wire units are converted to V, A, °C here.
 */
#include "bms_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct out {
	char *buf;
	size_t size;
	size_t pos;
	bool full;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->pos < o->size ? o->size - o->pos : 0;

	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->pos, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		o->full = true;
		o->pos = o->size ? o->size - 1 : 0;
		return;
	}
	o->pos += (size_t)n;
}

static void emit_string(struct out *o, const char *key, const char *v)
{
	emit(o, "\"%s\":\"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			emit(o, "\\%c", *v);
		else
			emit(o, "%c", *v);
	}
	emit(o, "\"");
}

static const char *const alarm_names[16] = {
	"low_capacity", "mosfet_over_temperature", "charge_over_voltage", "discharge_under_voltage",
	"battery_over_temperature", "charge_over_current", "discharge_over_current", "cell_voltage_difference",
	"box_over_temperature", "low_temperature", "cell_over_voltage", "cell_under_voltage",
	"309_a", "309_b", "reserved_14", "reserved_15",
};

static const char *b(unsigned v)
{
	return v ? "true" : "false";
}

static void emit_settings(struct out *o, const struct bms_settings *c)
{
	emit(o, "\"settings\":{");
	emit(o, "\"pack_ovp_v\":%.2f,\"pack_uvp_v\":%.2f,", c->pack_ovp_mv / 1000.0, c->pack_uvp_mv / 1000.0);
	emit(o, "\"cell_ovp_v\":%.3f,\"cell_ovp_recovery_v\":%.3f,\"cell_ovp_delay_s\":%u,", c->cell_ovp_mv / 1000.0,
	     c->cell_ovpr_mv / 1000.0, c->cell_ovp_delay_s);
	emit(o, "\"cell_uvp_v\":%.3f,\"cell_uvp_recovery_v\":%.3f,\"cell_uvp_delay_s\":%u,", c->cell_uvp_mv / 1000.0,
	     c->cell_uvpr_mv / 1000.0, c->cell_uvp_delay_s);
	emit(o, "\"cell_difference_protection_v\":%.3f,", c->cell_diff_prot_mv / 1000.0);
	emit(o, "\"discharge_ocp_a\":%u,\"discharge_ocp_delay_s\":%u,", c->discharge_ocp_a, c->discharge_ocp_delay_s);
	emit(o, "\"charge_ocp_a\":%u,\"charge_ocp_delay_s\":%u,", c->charge_ocp_a, c->charge_ocp_delay_s);
	emit(o, "\"balance_start_v\":%.3f,\"balance_trigger_v\":%.3f,\"balancer_enabled\":%s,",
	     c->balance_start_mv / 1000.0, c->balance_trigger_mv / 1000.0, b(c->balancer_enabled));
	emit(o, "\"mosfet_otp_c\":%d,\"mosfet_otp_recovery_c\":%d,", c->mosfet_otp_c, c->mosfet_otpr_c);
	emit(o, "\"box_otp_c\":%d,\"box_otp_recovery_c\":%d,", c->box_otp_c, c->box_otpr_c);
	emit(o, "\"temperature_difference_protection_c\":%d,", c->temp_diff_prot_c);
	emit(o, "\"charge_otp_c\":%d,\"discharge_otp_c\":%d,", c->charge_otp_c, c->discharge_otp_c);
	emit(o, "\"charge_utp_c\":%d,\"charge_utp_recovery_c\":%d,", c->charge_utp_c, c->charge_utpr_c);
	emit(o, "\"discharge_utp_c\":%d,\"discharge_utp_recovery_c\":%d,", c->discharge_utp_c, c->discharge_utpr_c);
	emit(o, "\"cell_count\":%u,\"capacity_ah\":%u,", c->cell_count, (unsigned)c->capacity_ah);
	emit(o, "\"charge_switch\":%s,\"discharge_switch\":%s,", b(c->charge_switch), b(c->discharge_switch));
	emit(o, "\"current_calibration_a\":%.3f,", c->current_calibration_ma / 1000.0);
	emit(o, "\"board_address\":%u,\"battery_type\":%u,", c->board_address, c->battery_type);
	emit(o, "\"sleep_wait_s\":%u,\"low_soc_alarm_pct\":%u,", c->sleep_wait_s, c->low_soc_alarm_pct);
	emit(o, "\"dedicated_charger\":%s,\"start_current_calibration\":%s,", b(c->dedicated_charger),
	     b(c->start_current_calibration));
	emit(o, "\"actual_capacity_ah\":%u}", (unsigned)c->actual_capacity_ah);
}

int bms_json_format(const struct bms_snapshot *s, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };

	emit(&o, "{\"cells_mv\":[");
	for (unsigned i = 0; i < s->cell_count; i++) {
		/* 0 mV is an open sense lead: missing, not 0 V. */
		if (s->cell_mv[i])
			emit(&o, "%s%u", i ? "," : "", s->cell_mv[i]);
		else
			emit(&o, "%snull", i ? "," : "");
	}
	emit(&o, "],\"cell_count\":%u,", s->cell_count);
	emit(&o, "\"voltage_v\":%.2f,\"current_a\":%.2f,\"power_w\":%.2f,", s->voltage_mv / 1000.0,
	     s->current_ma / 1000.0, (double)s->voltage_mv * s->current_ma / 1e6);
	emit(&o, "\"soc_pct\":%u,", s->soc_pct);
	emit(&o, "\"temperatures_c\":{\"mosfet\":%d,\"t1\":%d,\"t2\":%d},", s->temp_c[BMS_TEMP_MOSFET],
	     s->temp_c[BMS_TEMP_T1], s->temp_c[BMS_TEMP_T2]);
	emit(&o, "\"temperature_sensors\":%u,\"cycles\":%u,\"cycle_capacity_ah\":%u,", s->temp_sensor_count,
	     s->cycles, (unsigned)s->cycle_capacity_ah);
	emit(&o, "\"cell_count_reported\":%u,", s->cell_count_reported);
	emit(&o, "\"alarms\":%u,\"alarm_names\":[", s->alarms);
	for (unsigned i = 0, n = 0; i < 16; i++) {
		if (s->alarms & (1u << i))
			emit(&o, "%s\"%s\"", n++ ? "," : "", alarm_names[i]);
	}
	emit(&o, "],\"status\":%u,", s->status);
	emit(&o, "\"charge_fet\":%s,\"discharge_fet\":%s,\"balancing\":%s,", b(s->status & BMS_STATUS_CHARGE_FET),
	     b(s->status & BMS_STATUS_DISCHARGE_FET), b(s->status & BMS_STATUS_BALANCING));
	emit(&o, "\"protocol_version\":%u,\"current_raw\":%u,", s->protocol_version, s->current_raw);
	emit_string(&o, "software_version", s->software_version);
	emit(&o, ",");
	emit_string(&o, "device_id", s->device_id);
	emit(&o, ",");
	emit_string(&o, "manufacturing_date", s->manufacturing_date);
	emit(&o, ",");
	emit_string(&o, "manufacturer", s->manufacturer);
	emit(&o, ",\"runtime_min\":%u,", (unsigned)s->runtime_min);
	emit_settings(&o, &s->settings);
	emit(&o, "}");
	return o.full ? -ENOSPC : (int)o.pos;
}
