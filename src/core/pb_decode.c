/* SPDX-License-Identifier: MIT */
/*
 * JK PB frame decoders (docs/protocol-pb.md "Live data", "Settings",
 * "Device info", "Alarm bits"): the three 300-byte frames of one pack into
 * the battery model, with the sanity checks. Every value is little-endian
 * at frame offset = register block offset + 6. Pure.
 */
#include <errno.h>
#include <string.h>

#include "pb_codec.h"

/* Live temperatures outside this range (0.1 °C) are not a reading. */
#define TEMP_MIN_DC (-400)
#define TEMP_MAX_DC 1500
/* Cells and pack voltage are sampled apart: they must agree within this. */
#define SUM_TOLERANCE_MV 500
/* No discharge under-temperature setting in the vendor's table: the model
 * gets the usual LFP floor (docs/protocol-pb.md "What we do not use"). */
#define PB_DISCHARGE_UTP_C (-20)

static uint16_t u16(const uint8_t *f, size_t o)
{
	return (uint16_t)(f[o] | f[o + 1] << 8);
}

static int16_t i16(const uint8_t *f, size_t o)
{
	return (int16_t)u16(f, o);
}

static uint32_t u32(const uint8_t *f, size_t o)
{
	return (uint32_t)f[o] | (uint32_t)f[o + 1] << 8 | (uint32_t)f[o + 2] << 16 | (uint32_t)f[o + 3] << 24;
}

static int32_t i32(const uint8_t *f, size_t o)
{
	return (int32_t)u32(f, o);
}

static uint16_t sat16(uint32_t v)
{
	return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

/* mA to the model's whole amps. A value the model cannot hold is not
 * saturated into a plausible-looking 65535 A but becomes 0, which the
 * charge control calls implausible (docs/protocol-pb.md "Settings"). */
static uint16_t amps(uint32_t ma)
{
	return ma / 1000 > UINT16_MAX ? 0 : (uint16_t)(ma / 1000);
}

/* 0.1 °C to whole °C, half away from zero. */
static int16_t whole_c(int32_t dc)
{
	int64_t c = dc >= 0 ? ((int64_t)dc + 5) / 10 : -((-(int64_t)dc + 5) / 10);

	return (int16_t)(c > INT16_MAX ? INT16_MAX : (c < INT16_MIN ? INT16_MIN : c));
}

/* ---- alarms ------------------------------------------------------------ */

/* The vendor's alarm bits (offset 166) with their names, and the model's
 * bit each maps to (0: shown only). Faults of the pack itself map to the
 * model's internal-failure bit; bit 19 is a password reminder, not a fault. */
static const struct {
	const char *name;
	uint16_t model;
} alarm_bits[] = {
	{ "wire_resistance", BMS_ALARM_309_A },
	{ "mosfet_over_temperature", BMS_ALARM_MOSFET_OVER_TEMP },
	{ "cell_count_mismatch", BMS_ALARM_309_A },
	{ "current_sensor_error", BMS_ALARM_309_A },
	{ "cell_over_voltage", BMS_ALARM_CELL_OVER_VOLTAGE },
	{ "pack_over_voltage", BMS_ALARM_CHARGE_OVER_VOLTAGE },
	{ "charge_over_current", BMS_ALARM_CHARGE_OVER_CURRENT },
	{ "charge_short_circuit", BMS_ALARM_CHARGE_OVER_CURRENT },
	{ "charge_over_temperature", BMS_ALARM_BATTERY_OVER_TEMP },
	{ "charge_under_temperature", BMS_ALARM_LOW_TEMP },
	{ "coprocessor_communication", BMS_ALARM_309_A },
	{ "cell_under_voltage", BMS_ALARM_CELL_UNDER_VOLTAGE },
	{ "pack_under_voltage", BMS_ALARM_DISCHARGE_UNDER_VOLTAGE },
	{ "discharge_over_current", BMS_ALARM_DISCHARGE_OVER_CURRENT },
	{ "discharge_short_circuit", BMS_ALARM_DISCHARGE_OVER_CURRENT },
	{ "discharge_over_temperature", BMS_ALARM_BATTERY_OVER_TEMP },
	{ "charge_mosfet_abnormal", BMS_ALARM_309_A },
	{ "discharge_mosfet_abnormal", BMS_ALARM_309_A },
	{ "gps_disconnected", 0 },
	{ "change_password_reminder", 0 },
	{ "discharge_on_failed", BMS_ALARM_309_A },
	{ "battery_over_temperature", BMS_ALARM_BATTERY_OVER_TEMP },
	{ "temperature_sensor_anomaly", BMS_ALARM_309_A },
	{ "parallel_module_anomaly", BMS_ALARM_309_A },
	/* Bits 24..28: one decoder names them, no vendor table does. */
	{ "scp_release_failed", 0 },
	{ "discharge_ocp_2", 0 },
	{ "discharge_ocp_3", 0 },
	{ "discharge_under_temperature", 0 },
	{ "gps_remote_lock", 0 },
};

#define ALARM_BIT_COUNT (sizeof(alarm_bits) / sizeof(alarm_bits[0]))

const char *pb_alarm_name(unsigned bit)
{
	return bit < ALARM_BIT_COUNT ? alarm_bits[bit].name : NULL;
}

uint16_t pb_alarms_to_model(uint32_t bits)
{
	uint16_t model = 0;

	for (unsigned k = 0; k < ALARM_BIT_COUNT; k++) {
		if (bits & (1u << k))
			model |= alarm_bits[k].model;
	}
	return model;
}

/* ---- text -------------------------------------------------------------- */

/* A NUL-terminated field of at most n bytes as printable ASCII: it ends at
 * the first NUL, other bytes outside 0x20..0x7E become '?', trailing
 * spaces are dropped. */
static void text(char *dst, size_t dst_size, const uint8_t *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && src[i] && o + 1 < dst_size; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] <= 0x7E) ? (char)src[i] : '?';
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* ---- the three frames -------------------------------------------------- */

/* Cells by the presence mask (offset 70): a cell whose bit is clear reads
 * 0 (missing); the count runs to the highest present cell. */
static int live_cells(const uint8_t *f, struct bms_snapshot *s, struct codec_error *err)
{
	uint32_t mask = u32(f, 70);
	unsigned n = 0, present = 0;

	if (!mask)
		return codec_fail(err, CODEC_REJECT_CELLS, 70, 1, 0, -EBADMSG);
	for (unsigned k = 0; k < BMS_MAX_CELLS; k++) {
		bool on = mask & (1u << k);

		s->cell_mv[k] = on ? u16(f, 6 + 2 * k) : 0;
		s->pb.wire_mohm[k] = u16(f, 80 + 2 * k);
		if (on) {
			n = k + 1;
			present++;
		}
	}
	s->cell_count = (uint8_t)n;
	s->cell_count_reported = (uint16_t)present;
	s->pb.cell_mask = mask;
	return 0;
}

static int live_temps(const uint8_t *f, struct bms_snapshot *s, struct codec_error *err)
{
	static const size_t offs[6] = { 144, 162, 164, 254, 256, 258 };

	for (unsigned k = 0; k < 6; k++) {
		int16_t t = i16(f, offs[k]);

		if (k < 3 && (t < TEMP_MIN_DC || t > TEMP_MAX_DC))
			return codec_fail(err, CODEC_REJECT_TEMPERATURE, offs[k], TEMP_MAX_DC, (uint16_t)t, -ERANGE);
		s->pb.temp_dc[k] = t;
	}
	s->temp_c[BMS_TEMP_MOSFET] = whole_c(s->pb.temp_dc[0]);
	s->temp_c[BMS_TEMP_T1] = whole_c(s->pb.temp_dc[1]);
	s->temp_c[BMS_TEMP_T2] = whole_c(s->pb.temp_dc[2]);
	s->pb.temp_present = f[214];
	/* The battery probes: T1, T2, T4, T5 (bit 3 is a copy of the MOSFET). */
	s->temp_sensor_count = (uint8_t)(!!(f[214] & 0x02) + !!(f[214] & 0x04) + !!(f[214] & 0x10) + !!(f[214] & 0x20));
	return 0;
}

static void live_rest(const uint8_t *f, struct bms_snapshot *s)
{
	struct bms_pb *pb = &s->pb;

	pb->cell_avg_mv = u16(f, 74);
	pb->cell_delta_mv = u16(f, 76);
	pb->wire_alarm_mask = u32(f, 146);
	s->voltage_mv = u32(f, 150);
	pb->power_mw = u32(f, 154);
	s->current_ma = i32(f, 158);
	s->current_raw = 0;
	pb->alarm_bits = u32(f, 166);
	s->alarms = pb_alarms_to_model(pb->alarm_bits);
	pb->balance_ma = i16(f, 170);
	pb->balance_action = f[172];
	s->soc_pct = f[173];
	pb->remaining_mah = i32(f, 174);
	pb->full_mah = u32(f, 178);
	s->cycles = sat16(u32(f, 182));
	pb->cycle_mah = u32(f, 186);
	s->cycle_capacity_ah = pb->cycle_mah / 1000;
	pb->soh_pct = f[190];
	pb->precharge = f[191];
	pb->runtime_s = u32(f, 194);
	s->runtime_min = pb->runtime_s / 60;
	s->status = (uint16_t)((f[198] ? BMS_STATUS_CHARGE_FET : 0) | (f[199] ? BMS_STATUS_DISCHARGE_FET : 0) |
			       (f[172] ? BMS_STATUS_BALANCING : 0));
	for (unsigned k = 0; k < 6; k++)
		pb->release_s[k] = u16(f, 202 + 2 * k);
	pb->heater_on = f[215];
	pb->emergency_s = u16(f, 218);
	pb->heater_ma = i16(f, 236);
}

/* The checks the 4E 57 decoder makes too: SoC, and the cells against the
 * pack voltage (a missing cell can only be checked from above). */
static int live_sanity(const struct bms_snapshot *s, struct codec_error *err)
{
	uint32_t sum = 0;
	bool missing = false;

	if (s->soc_pct > 100)
		return codec_fail(err, CODEC_REJECT_SOC, 173, 100, s->soc_pct, -ERANGE);
	for (unsigned i = 0; i < s->cell_count; i++) {
		sum += s->cell_mv[i];
		missing |= s->cell_mv[i] == 0;
	}
	uint32_t diff = sum > s->voltage_mv ? sum - s->voltage_mv : s->voltage_mv - sum;

	if ((missing && sum > s->voltage_mv + SUM_TOLERANCE_MV) || (!missing && diff >= SUM_TOLERANCE_MV))
		return codec_fail(err, CODEC_REJECT_VOLTAGE_SUM, 150, s->voltage_mv, sum, -ERANGE);
	return 0;
}

static int decode_live(const uint8_t *f, struct bms_snapshot *s, struct codec_error *err)
{
	int r = live_cells(f, s, err);

	if (r == 0)
		r = live_temps(f, s, err);
	if (r < 0)
		return r;
	live_rest(f, s);
	return live_sanity(s, err);
}

/* The settings, into the model's fields where it has them (mA to A and
 * 0.1 °C to °C), the rest kept in snap->pb. */
static int decode_settings(const uint8_t *f, struct bms_snapshot *s, struct codec_error *err)
{
	struct bms_settings *c = &s->settings;
	struct bms_pb *pb = &s->pb;
	uint32_t cells = u32(f, 114);

	if (cells > BMS_MAX_CELLS)
		return codec_fail(err, CODEC_REJECT_CELLS, 114, BMS_MAX_CELLS, cells, -ERANGE);
	memset(c, 0, sizeof(*c));
	pb->sleep_mv = u32(f, 6);
	c->cell_uvp_mv = sat16(u32(f, 10));
	c->cell_uvpr_mv = sat16(u32(f, 14));
	c->cell_ovp_mv = sat16(u32(f, 18));
	c->cell_ovpr_mv = sat16(u32(f, 22));
	c->balance_trigger_mv = sat16(u32(f, 26));
	pb->soc100_mv = u32(f, 30);
	pb->soc0_mv = u32(f, 34);
	pb->rcv_mv = u32(f, 38);
	pb->rfv_mv = u32(f, 42);
	pb->power_off_mv = u32(f, 46);
	pb->charge_ocp_ma = u32(f, 50);
	c->charge_ocp_a = amps(pb->charge_ocp_ma);
	c->charge_ocp_delay_s = sat16(u32(f, 54));
	pb->charge_ocp_release_s = u32(f, 58);
	pb->discharge_ocp_ma = u32(f, 62);
	c->discharge_ocp_a = amps(pb->discharge_ocp_ma);
	c->discharge_ocp_delay_s = sat16(u32(f, 66));
	pb->discharge_ocp_release_s = u32(f, 70);
	pb->scp_release_s = u32(f, 74);
	pb->balance_max_ma = u32(f, 78);
	pb->charge_otp_dc = i32(f, 82);
	pb->charge_otpr_dc = i32(f, 86);
	pb->discharge_otp_dc = i32(f, 90);
	pb->discharge_otpr_dc = i32(f, 94);
	pb->charge_utp_dc = i32(f, 98);
	pb->charge_utpr_dc = i32(f, 102);
	pb->mosfet_otp_dc = i32(f, 106);
	pb->mosfet_otpr_dc = i32(f, 110);
	c->charge_otp_c = whole_c(pb->charge_otp_dc);
	c->discharge_otp_c = whole_c(pb->discharge_otp_dc);
	c->charge_utp_c = whole_c(pb->charge_utp_dc);
	c->charge_utpr_c = whole_c(pb->charge_utpr_dc);
	c->mosfet_otp_c = whole_c(pb->mosfet_otp_dc);
	c->mosfet_otpr_c = whole_c(pb->mosfet_otpr_dc);
	c->discharge_utp_c = PB_DISCHARGE_UTP_C;
	c->discharge_utpr_c = PB_DISCHARGE_UTP_C;
	c->cell_count = (uint8_t)cells;
	c->charge_switch = u32(f, 118) != 0;
	c->discharge_switch = u32(f, 122) != 0;
	c->balancer_enabled = u32(f, 126) != 0;
	pb->capacity_mah = u32(f, 130);
	c->capacity_ah = pb->capacity_mah / 1000;
	pb->scp_delay_us = u32(f, 134);
	c->balance_start_mv = sat16(u32(f, 138));
	pb->address = u32(f, 270);
	c->board_address = (uint8_t)(pb->address > UINT8_MAX ? UINT8_MAX : pb->address);
	pb->precharge_s = u32(f, 274);
	pb->control_bits = u16(f, 282);
	pb->heat_start_c = (int8_t)f[284];
	pb->heat_stop_c = (int8_t)f[285];
	pb->sleep_delay_h = f[286];
	pb->has_settings = true;
	return 0;
}

/* Model, versions, name, date and serial. The BLE passcode (offset 62) and
 * the setup passcode (offset 118) are skipped: never copied anywhere. */
static int decode_info(const uint8_t *f, struct bms_snapshot *s)
{
	struct bms_pb *pb = &s->pb;

	text(pb->model, sizeof(pb->model), f + 6, 16);
	text(pb->hardware, sizeof(pb->hardware), f + 22, 8);
	text(pb->software, sizeof(pb->software), f + 30, 8);
	pb->on_time_s = u32(f, 38);
	pb->power_on_count = u32(f, 42);
	text(pb->name, sizeof(pb->name), f + 46, 16);
	text(pb->date, sizeof(pb->date), f + 78, 8);
	/* The serial ends at its NUL: 10, 11 or 15 characters are seen. */
	text(pb->serial, sizeof(pb->serial), f + 86, 15);
	text(pb->user_data, sizeof(pb->user_data), f + 102, 16);
	text(pb->user_data2, sizeof(pb->user_data2), f + 134, 16);
	pb->uart1_protocol = f[184];
	pb->can_protocol = f[185];
	pb->uart2_protocol = f[218];
	memcpy(s->software_version, pb->software, sizeof(pb->software));
	pb->has_info = true;
	return 0;
}

int pb_decode(const uint8_t *f, size_t len, struct bms_snapshot *out, struct codec_error *err)
{
	struct bms_snapshot s = *out;
	int r;

	if (len != PB_FRAME_LEN || !pb_is_frame_start(f, len))
		return codec_fail(err, CODEC_REJECT_LENGTH, 0, PB_FRAME_LEN, (uint32_t)len, -EMSGSIZE);
	if (pb_checksum(f) != f[PB_FRAME_LEN - 1])
		return codec_fail(err, CODEC_REJECT_CHECKSUM, PB_FRAME_LEN - 1, pb_checksum(f), f[PB_FRAME_LEN - 1],
				  -EBADMSG);
	if (s.protocol != BMS_PROTOCOL_PB) {
		memset(&s, 0, sizeof(s));
		s.protocol = BMS_PROTOCOL_PB;
	}
	switch (f[4]) {
	case PB_TYPE_LIVE:
		r = decode_live(f, &s, err);
		break;
	case PB_TYPE_SETTINGS:
		r = decode_settings(f, &s, err);
		break;
	case PB_TYPE_INFO:
		r = decode_info(f, &s);
		break;
	default:
		return codec_fail(err, CODEC_REJECT_FRAME_TYPE, 4, PB_TYPE_LIVE, f[4], -EPROTO);
	}
	if (r < 0)
		return r;
	/* State of health as the model holds it: the capacity it is of. */
	s.settings.actual_capacity_ah = (uint32_t)((uint64_t)s.settings.capacity_ah * s.pb.soh_pct / 100);
	*out = s;
	return f[4];
}
