/* SPDX-License-Identifier: MIT */
/*
 * JSON rendering of a snapshot for people and scripts: what a user pastes
 * into a bug report. Integer wire units are converted to V, A, °C here.
 */
#include "bms_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "pb_codec.h"
#include "strbuf.h"

/* ,"key":"v" (after the key before it): the text escaped. */
static void emit_string(struct strbuf *o, const char *key, const char *v)
{
	strbuf_printf(o, ",\"%s\":\"", key);
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

static double dc(int32_t v)
{
	return v / 10.0;
}

static void emit_pb_live(struct strbuf *o, const struct bms_pb *p)
{
	strbuf_printf(o, "\"alarm_bits\":%u,\"alarm_names\":[", (unsigned)p->alarm_bits);
	for (unsigned i = 0, n = 0; pb_alarm_name(i); i++) {
		if (p->alarm_bits & (1u << i))
			strbuf_printf(o, "%s\"%s\"", n++ ? "," : "", pb_alarm_name(i));
	}
	strbuf_printf(o, "],\"cell_mask\":%u,\"cell_average_v\":%.3f,\"cell_delta_v\":%.3f,", (unsigned)p->cell_mask,
		      p->cell_avg_mv / 1000.0, p->cell_delta_mv / 1000.0);
	strbuf_printf(o, "\"wire_resistance_ohm\":[");
	for (unsigned i = 0; i < BMS_MAX_CELLS; i++) {
		if (p->cell_mask & (1u << i))
			strbuf_printf(o, "%s%.3f", i ? "," : "", p->wire_mohm[i] / 1000.0);
	}
	strbuf_printf(o, "],\"wire_alarm_mask\":%u,\"power_magnitude_w\":%.3f,", (unsigned)p->wire_alarm_mask,
		      p->power_mw / 1000.0);
	strbuf_printf(o, "\"temperatures_c\":{\"mosfet\":%.1f,\"t1\":%.1f,\"t2\":%.1f,\"t4\":%.1f,\"t5\":%.1f},",
		      dc(p->temp_dc[0]), dc(p->temp_dc[1]), dc(p->temp_dc[2]), dc(p->temp_dc[4]), dc(p->temp_dc[5]));
	strbuf_printf(o, "\"temperature_present\":%u,\"balance_current_a\":%.3f,\"balance_action\":%u,",
		      p->temp_present, p->balance_ma / 1000.0, p->balance_action);
	strbuf_printf(o, "\"remaining_ah\":%.3f,\"full_charge_ah\":%.3f,\"cycle_ah\":%.3f,\"soh_pct\":%u,",
		      p->remaining_mah / 1000.0, p->full_mah / 1000.0, p->cycle_mah / 1000.0, p->soh_pct);
	strbuf_printf(o, "\"precharge\":%s,\"runtime_s\":%u,\"heater_on\":%s,\"heater_current_a\":%.3f,",
		      b(p->precharge), (unsigned)p->runtime_s, b(p->heater_on), p->heater_ma / 1000.0);
	strbuf_printf(o, "\"emergency_s\":%u,\"release_s\":[%u,%u,%u,%u,%u,%u]", p->emergency_s, p->release_s[0],
		      p->release_s[1], p->release_s[2], p->release_s[3], p->release_s[4], p->release_s[5]);
}

static void emit_pb_settings(struct strbuf *o, const struct bms_pb *p)
{
	strbuf_printf(o, ",\"address\":%u,\"charge_ocp_a\":%.3f,\"discharge_ocp_a\":%.3f,", (unsigned)p->address,
		      p->charge_ocp_ma / 1000.0, p->discharge_ocp_ma / 1000.0);
	strbuf_printf(o, "\"rcv_v\":%.3f,\"rfv_v\":%.3f,\"soc100_v\":%.3f,\"soc0_v\":%.3f,", p->rcv_mv / 1000.0,
		      p->rfv_mv / 1000.0, p->soc100_mv / 1000.0, p->soc0_mv / 1000.0);
	strbuf_printf(o, "\"smart_sleep_v\":%.3f,\"power_off_v\":%.3f,\"balance_max_a\":%.3f,", p->sleep_mv / 1000.0,
		      p->power_off_mv / 1000.0, p->balance_max_ma / 1000.0);
	strbuf_printf(o, "\"charge_otp_c\":%.1f,\"charge_otp_recovery_c\":%.1f,", dc(p->charge_otp_dc),
		      dc(p->charge_otpr_dc));
	strbuf_printf(o, "\"discharge_otp_c\":%.1f,\"discharge_otp_recovery_c\":%.1f,", dc(p->discharge_otp_dc),
		      dc(p->discharge_otpr_dc));
	strbuf_printf(o, "\"charge_utp_c\":%.1f,\"charge_utp_recovery_c\":%.1f,", dc(p->charge_utp_dc),
		      dc(p->charge_utpr_dc));
	strbuf_printf(o, "\"mosfet_otp_c\":%.1f,\"mosfet_otp_recovery_c\":%.1f,", dc(p->mosfet_otp_dc),
		      dc(p->mosfet_otpr_dc));
	strbuf_printf(o, "\"charge_ocp_release_s\":%u,\"discharge_ocp_release_s\":%u,\"scp_release_s\":%u,",
		      (unsigned)p->charge_ocp_release_s, (unsigned)p->discharge_ocp_release_s,
		      (unsigned)p->scp_release_s);
	strbuf_printf(o, "\"scp_delay_us\":%u,\"precharge_s\":%u,\"control_bits\":%u,", (unsigned)p->scp_delay_us,
		      (unsigned)p->precharge_s, p->control_bits);
	strbuf_printf(o, "\"heat_start_c\":%d,\"heat_stop_c\":%d,\"smart_sleep_h\":%u", p->heat_start_c, p->heat_stop_c,
		      p->sleep_delay_h);
}

static void emit_pb_info(struct strbuf *o, const struct bms_pb *p)
{
	emit_string(o, "model", p->model);
	emit_string(o, "hardware", p->hardware);
	emit_string(o, "software", p->software);
	emit_string(o, "name", p->name);
	emit_string(o, "manufacturing_date", p->date);
	emit_string(o, "serial", p->serial);
	emit_string(o, "user_data", p->user_data);
	emit_string(o, "user_data2", p->user_data2);
	strbuf_printf(o, ",\"on_time_s\":%u,\"power_on_count\":%u,", (unsigned)p->on_time_s,
		      (unsigned)p->power_on_count);
	strbuf_printf(o, "\"uart1_protocol\":%u,\"can_protocol\":%u,\"uart2_protocol\":%u", p->uart1_protocol,
		      p->can_protocol, p->uart2_protocol);
}

/* What only a PB pack says, under "pb": the live detail (once a live frame
 * was decoded), then what its settings and device-info frames added. */
static void emit_pb(struct strbuf *o, const struct bms_snapshot *s)
{
	const struct bms_pb *p = &s->pb;

	strbuf_printf(o, ",\"pb\":{\"has_settings\":%s,\"has_info\":%s", b(p->has_settings), b(p->has_info));
	if (s->cell_count) {
		strbuf_printf(o, ",");
		emit_pb_live(o, p);
	}
	if (p->has_settings)
		emit_pb_settings(o, p);
	if (p->has_info)
		emit_pb_info(o, p);
	strbuf_printf(o, "}");
}

static void emit_temperatures(struct strbuf *o, const struct bms_snapshot *s)
{
	if (s->protocol == BMS_PROTOCOL_PB)
		strbuf_printf(o, "\"temperatures_c\":{\"mosfet\":%.1f,\"t1\":%.1f,\"t2\":%.1f},", dc(s->pb.temp_dc[0]),
			      dc(s->pb.temp_dc[1]), dc(s->pb.temp_dc[2]));
	else
		strbuf_printf(o, "\"temperatures_c\":{\"mosfet\":%d,\"t1\":%d,\"t2\":%d},", s->temp_c[BMS_TEMP_MOSFET],
			      s->temp_c[BMS_TEMP_T1], s->temp_c[BMS_TEMP_T2]);
}

int bms_json_format(const struct bms_snapshot *s, char *buf, size_t size)
{
	struct strbuf o;
	bool pb = s->protocol == BMS_PROTOCOL_PB;

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
	emit_temperatures(&o, s);
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
	strbuf_printf(&o, "\"protocol_version\":%u,\"current_raw\":%u", s->protocol_version, s->current_raw);
	emit_string(&o, "software_version", s->software_version);
	emit_string(&o, "device_id", s->device_id);
	emit_string(&o, "manufacturing_date", s->manufacturing_date);
	emit_string(&o, "manufacturer", s->manufacturer);
	strbuf_printf(&o, ",\"runtime_min\":%u,", (unsigned)s->runtime_min);
	emit_settings(&o, &s->settings);
	if (pb)
		emit_pb(&o, s);
	/* Last, so that the keys of the 4E 57 family keep their places. */
	strbuf_printf(&o, ",\"protocol\":\"%s\"}", pb ? "pb" : "4e57");
	return strbuf_result(&o);
}
