/* SPDX-License-Identifier: MIT */
/*
 * JSON rendering of a snapshot for people and scripts: what a user pastes
 * into a bug report. Integer wire units are converted to V, A, °C here.
 */
#include "bms_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "strbuf.h"

static void emit_string(struct strbuf *o, const char *key, const char *v)
{
	strbuf_printf(o, "\"%s\":\"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			strbuf_printf(o, "\\%c", *v);
		else
			strbuf_printf(o, "%c", *v);
	}
	strbuf_printf(o, "\"");
}

static const char *const alarm_names[16] = {
	"low_capacity",
	"mosfet_over_temperature",
	"charge_over_voltage",
	"discharge_under_voltage",
	"battery_over_temperature",
	"charge_over_current",
	"discharge_over_current",
	"cell_voltage_difference",
	"box_over_temperature",
	"low_temperature",
	"cell_over_voltage",
	"cell_under_voltage",
	"309_a",
	"309_b",
	"reserved_14",
	"reserved_15",
};

static const char *b(unsigned v)
{
	return v ? "true" : "false";
}

static void emit_settings(struct strbuf *o, const struct bms_settings *c)
{
	strbuf_printf(o, "\"settings\":{");
	strbuf_printf(o, "\"pack_ovp_v\":%.2f,\"pack_uvp_v\":%.2f,", c->pack_ovp_mv / 1000.0, c->pack_uvp_mv / 1000.0);
	strbuf_printf(o, "\"cell_ovp_v\":%.3f,\"cell_ovp_recovery_v\":%.3f,\"cell_ovp_delay_s\":%u,",
		      c->cell_ovp_mv / 1000.0, c->cell_ovpr_mv / 1000.0, c->cell_ovp_delay_s);
	strbuf_printf(o, "\"cell_uvp_v\":%.3f,\"cell_uvp_recovery_v\":%.3f,\"cell_uvp_delay_s\":%u,",
		      c->cell_uvp_mv / 1000.0, c->cell_uvpr_mv / 1000.0, c->cell_uvp_delay_s);
	strbuf_printf(o, "\"cell_difference_protection_v\":%.3f,", c->cell_diff_prot_mv / 1000.0);
	strbuf_printf(o, "\"discharge_ocp_a\":%u,\"discharge_ocp_delay_s\":%u,", c->discharge_ocp_a,
		      c->discharge_ocp_delay_s);
	strbuf_printf(o, "\"charge_ocp_a\":%u,\"charge_ocp_delay_s\":%u,", c->charge_ocp_a, c->charge_ocp_delay_s);
	strbuf_printf(o, "\"balance_start_v\":%.3f,\"balance_trigger_v\":%.3f,\"balancer_enabled\":%s,",
		      c->balance_start_mv / 1000.0, c->balance_trigger_mv / 1000.0, b(c->balancer_enabled));
	strbuf_printf(o, "\"mosfet_otp_c\":%d,\"mosfet_otp_recovery_c\":%d,", c->mosfet_otp_c, c->mosfet_otpr_c);
	strbuf_printf(o, "\"box_otp_c\":%d,\"box_otp_recovery_c\":%d,", c->box_otp_c, c->box_otpr_c);
	strbuf_printf(o, "\"temperature_difference_protection_c\":%d,", c->temp_diff_prot_c);
	strbuf_printf(o, "\"charge_otp_c\":%d,\"discharge_otp_c\":%d,", c->charge_otp_c, c->discharge_otp_c);
	strbuf_printf(o, "\"charge_utp_c\":%d,\"charge_utp_recovery_c\":%d,", c->charge_utp_c, c->charge_utpr_c);
	strbuf_printf(o, "\"discharge_utp_c\":%d,\"discharge_utp_recovery_c\":%d,", c->discharge_utp_c,
		      c->discharge_utpr_c);
	strbuf_printf(o, "\"cell_count\":%u,\"capacity_ah\":%u,", c->cell_count, (unsigned)c->capacity_ah);
	strbuf_printf(o, "\"charge_switch\":%s,\"discharge_switch\":%s,", b(c->charge_switch), b(c->discharge_switch));
	strbuf_printf(o, "\"current_calibration_a\":%.3f,", c->current_calibration_ma / 1000.0);
	strbuf_printf(o, "\"board_address\":%u,\"battery_type\":%u,", c->board_address, c->battery_type);
	strbuf_printf(o, "\"sleep_wait_s\":%u,\"low_soc_alarm_pct\":%u,", c->sleep_wait_s, c->low_soc_alarm_pct);
	strbuf_printf(o, "\"dedicated_charger\":%s,\"start_current_calibration\":%s,", b(c->dedicated_charger),
		      b(c->start_current_calibration));
	strbuf_printf(o, "\"actual_capacity_ah\":%u}", (unsigned)c->actual_capacity_ah);
}

int bms_json_format(const struct bms_snapshot *s, char *buf, size_t size)
{
	struct strbuf o;

	strbuf_init(&o, buf, size);

	strbuf_printf(&o, "{\"cells_mv\":[");
	for (unsigned i = 0; i < s->cell_count; i++) {
		/* 0 mV is an open sense lead: missing, not 0 V. */
		if (s->cell_mv[i])
			strbuf_printf(&o, "%s%u", i ? "," : "", s->cell_mv[i]);
		else
			strbuf_printf(&o, "%snull", i ? "," : "");
	}
	strbuf_printf(&o, "],\"cell_count\":%u,", s->cell_count);
	strbuf_printf(&o, "\"voltage_v\":%.2f,\"current_a\":%.2f,\"power_w\":%.2f,", s->voltage_mv / 1000.0,
		      s->current_ma / 1000.0, (double)s->voltage_mv * s->current_ma / 1e6);
	strbuf_printf(&o, "\"soc_pct\":%u,", s->soc_pct);
	strbuf_printf(&o, "\"temperatures_c\":{\"mosfet\":%d,\"t1\":%d,\"t2\":%d},", s->temp_c[BMS_TEMP_MOSFET],
		      s->temp_c[BMS_TEMP_T1], s->temp_c[BMS_TEMP_T2]);
	strbuf_printf(&o, "\"temperature_sensors\":%u,\"cycles\":%u,\"cycle_capacity_ah\":%u,", s->temp_sensor_count,
		      s->cycles, (unsigned)s->cycle_capacity_ah);
	strbuf_printf(&o, "\"cell_count_reported\":%u,", s->cell_count_reported);
	strbuf_printf(&o, "\"alarms\":%u,\"alarm_names\":[", s->alarms);
	for (unsigned i = 0, n = 0; i < 16; i++) {
		if (s->alarms & (1u << i))
			strbuf_printf(&o, "%s\"%s\"", n++ ? "," : "", alarm_names[i]);
	}
	strbuf_printf(&o, "],\"status\":%u,", s->status);
	strbuf_printf(&o, "\"charge_fet\":%s,\"discharge_fet\":%s,\"balancing\":%s,",
		      b(s->status & BMS_STATUS_CHARGE_FET), b(s->status & BMS_STATUS_DISCHARGE_FET),
		      b(s->status & BMS_STATUS_BALANCING));
	strbuf_printf(&o, "\"protocol_version\":%u,\"current_raw\":%u,", s->protocol_version, s->current_raw);
	emit_string(&o, "software_version", s->software_version);
	strbuf_printf(&o, ",");
	emit_string(&o, "device_id", s->device_id);
	strbuf_printf(&o, ",");
	emit_string(&o, "manufacturing_date", s->manufacturing_date);
	strbuf_printf(&o, ",");
	emit_string(&o, "manufacturer", s->manufacturer);
	strbuf_printf(&o, ",\"runtime_min\":%u,", (unsigned)s->runtime_min);
	emit_settings(&o, &s->settings);
	strbuf_printf(&o, "}");
	return strbuf_result(&o);
}
