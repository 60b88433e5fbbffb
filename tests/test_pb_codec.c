/* SPDX-License-Identifier: MIT */
/*
 * The JK PB codec over the captured frames (tests/data/pb, sources in
 * docs/protocol-pb.md "Test frames"): requests and acknowledgements byte
 * for byte as captured, every frame decoded to the values its source
 * states, the sanity checks, the alarm table, identity, and the passcodes
 * never copied. The deframer: test_pb_deframer.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "identity.h"
#include "pb_codec.h"
#include "policy.h"
#include "test_util.h"

#define WIRE_MAX (PB_FRAME_LEN + PB_PAD_MAX + PB_ACK_LEN + 64)

/* ---- requests and acknowledgements ------------------------------------ */

static void test_requests_as_captured(void **state)
{
	static const struct {
		uint8_t addr;
		unsigned type;
		uint8_t bytes[PB_REQUEST_LEN];
	} reqs[] = {
		{ 1, PB_TYPE_LIVE, { 0x01, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD6, 0xF1 } },
		{ 3, PB_TYPE_LIVE, { 0x03, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xCF, 0x91 } },
		{ 1, PB_TYPE_SETTINGS, { 0x01, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD2, 0x2F } },
		{ 1, PB_TYPE_INFO, { 0x01, 0x10, 0x16, 0x1C, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD3, 0xCD } },
	};
	static const struct {
		uint8_t addr;
		uint16_t reg;
		uint8_t bytes[PB_ACK_LEN];
	} acks[] = {
		{ 1, PB_REG_LIVE, { 0x01, 0x10, 0x16, 0x20, 0x00, 0x01, 0x04, 0x4B } },
		{ 3, PB_REG_LIVE, { 0x03, 0x10, 0x16, 0x20, 0x00, 0x01, 0x05, 0xA9 } },
		{ 0, PB_REG_LIVE, { 0x00, 0x10, 0x16, 0x20, 0x00, 0x01, 0x05, 0x9A } },
		{ 0, PB_REG_SETTINGS, { 0x00, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x64, 0x56 } },
		{ 3, PB_REG_INFO, { 0x03, 0x10, 0x16, 0x1C, 0x00, 0x01, 0xC5, 0xA5 } },
		{ 1, 0x160A, { 0x01, 0x10, 0x16, 0x0A, 0x00, 0x01, 0x25, 0x83 } },
	};
	uint8_t out[PB_REQUEST_LEN];

	(void)state;
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		assert_int_equal(pb_build_trigger(reqs[k].addr, reqs[k].type, out, sizeof(out)), PB_REQUEST_LEN);
		assert_memory_equal(out, reqs[k].bytes, PB_REQUEST_LEN);
	}
	for (size_t k = 0; k < sizeof(acks) / sizeof(acks[0]); k++) {
		assert_int_equal(pb_build_ack(acks[k].addr, acks[k].reg, out, sizeof(out)), PB_ACK_LEN);
		assert_memory_equal(out, acks[k].bytes, PB_ACK_LEN);
	}
	assert_int_equal(pb_build_trigger(1, 0x05, out, sizeof(out)), -EINVAL);
	assert_int_equal(pb_build_trigger(1, PB_TYPE_LIVE, out, PB_REQUEST_LEN - 1), -ENOSPC);
	assert_int_equal(pb_build_ack(1, PB_REG_LIVE, out, PB_ACK_LEN - 1), -ENOSPC);
}

/* ---- live frames: the values of tests/data/pb (docs/protocol-pb.md) ---- */

static const struct live_case {
	const char *name;
	unsigned cells;
	uint16_t mv[16];
	uint32_t pack_mv;
	int32_t ma;
	uint8_t soc;
	int16_t dc[3]; /* MOSFET, T1, T2 in 0.1 °C */
	int chg, dchg;
	uint32_t alarms;
} live[] = {
	{ "pb/pb-cell-ble-syssi-v14.hex",
	  16,
	  { 3175, 3125, 3075, 3131, 3157, 3117, 3138, 3133, 2994, 3134, 2851, 3006, 3165, 3117, 3036, 3174 },
	  49526,
	  0,
	  50,
	  { 182, 168, 170 },
	  1,
	  1,
	  0x0 },
	{ "pb/pb-cell-ble-syssi-v15.hex",
	  16,
	  { 3333, 3326, 3326, 3329, 3329, 3325, 3323, 3329, 3324, 3323, 3326, 3323, 3320, 3323, 3323, 3337 },
	  53224,
	  31881,
	  25,
	  { 129, 134, 128 },
	  1,
	  1,
	  0x0 },
	{ "pb/pb-cell-ble-syssi-v19.hex",
	  16,
	  { 3381, 3377, 3375, 3377, 3377, 3377, 3377, 3378, 3375, 3374, 3377, 3375, 3377, 3378, 3375, 3377 },
	  54028,
	  -727,
	  100,
	  { 128, 119, 127 },
	  1,
	  1,
	  0x0 },
	{ "pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex",
	  16,
	  { 3293, 3293, 3293, 3293, 3293, 3293, 3294, 3293, 3294, 3294, 3294, 3294, 3294, 3293, 3294, 3293 },
	  52695,
	  0,
	  55,
	  { 203, 195, 198 },
	  1,
	  1,
	  0x0 },
	{ "pb/pb-cell-rs485-phinix-master-addr0-broadcast.hex",
	  16,
	  { 3272, 3271, 3271, 3271, 3272, 3272, 3271, 3272, 3271, 3271, 3271, 3272, 3272, 3271, 3272, 3272 },
	  52340,
	  0,
	  65,
	  { 189, 169, 173 },
	  1,
	  1,
	  0x80000 },
	{ "pb/pb-cell-rs485-phinix-slave-addr1.hex",
	  16,
	  { 3267, 3267, 3268, 3268, 3268, 3268, 3267, 3267, 3268, 3268, 3268, 3268, 3268, 3268, 3268, 3268 },
	  52283,
	  0,
	  64,
	  { 174, 167, 172 },
	  1,
	  1,
	  0x80000 },
	{ "pb/pb-cell-rs485-txubelaxu-addr3-fw15.32-charging.hex",
	  16,
	  { 3328, 3328, 3328, 3329, 3329, 3329, 3330, 3329, 3328, 3328, 3328, 3328, 3328, 3328, 3329, 3328 },
	  53247,
	  4162,
	  85,
	  { 268, 272, 266 },
	  1,
	  1,
	  0x0 },
};

static void decode_ok(const uint8_t *f, struct bms_snapshot *s, int type)
{
	struct codec_error e;

	assert_int_equal(pb_decode(f, PB_FRAME_LEN, s, &e), type);
	assert_int_equal(s->protocol, BMS_PROTOCOL_PB);
}

static void test_live_frames(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(live) / sizeof(live[0]); k++) {
		const struct live_case *c = &live[k];
		uint8_t f[WIRE_MAX];
		struct bms_snapshot s;

		memset(&s, 0, sizeof(s));
		test_load_frame(c->name, f, sizeof(f));
		decode_ok(f, &s, PB_TYPE_LIVE);
		assert_int_equal(s.cell_count, c->cells);
		assert_int_equal(s.cell_count_reported, c->cells);
		assert_memory_equal(s.cell_mv, c->mv, sizeof(c->mv));
		assert_int_equal(s.voltage_mv, c->pack_mv);
		assert_int_equal(s.current_ma, c->ma);
		assert_int_equal(s.soc_pct, c->soc);
		for (int t = 0; t < 3; t++) {
			assert_int_equal(s.pb.temp_dc[t], c->dc[t]);
			/* Whole degrees, half away from zero: 19.5 -> 20. */
			assert_int_equal(s.temp_c[t], (c->dc[t] + 5) / 10);
		}
		assert_int_equal(!!(s.status & BMS_STATUS_CHARGE_FET), c->chg);
		assert_int_equal(!!(s.status & BMS_STATUS_DISCHARGE_FET), c->dchg);
		assert_int_equal(s.pb.alarm_bits, c->alarms);
		/* Bit 19 is a password reminder: no alarm in the model. */
		assert_int_equal(s.alarms, 0);
		assert_int_equal(s.pb.cell_mask, 0xFFFF);
	}
}

/* What the captures' sources state beyond the table. */
static void test_live_details(void **state)
{
	uint8_t f[WIRE_MAX];
	struct bms_snapshot s;

	(void)state;
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-cell-ble-syssi-v15.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_LIVE);
	assert_int_equal(s.pb.remaining_mah, 49286);
	assert_int_equal(s.pb.full_mah, 200000);
	assert_int_equal(s.cycles, 9);
	assert_int_equal(s.pb.runtime_s, 24530060);
	assert_int_equal(s.pb.heater_on, 0);
	assert_int_equal(s.pb.power_mw, 1696842); /* |53.224 V x 31.881 A| */
	assert_false(s.status & BMS_STATUS_BALANCING);

	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_LIVE);
	assert_int_equal(s.cycles, 62);
	assert_int_equal(s.pb.soh_pct, 100);
	assert_int_equal(s.pb.runtime_s, 48570884);
	assert_int_equal(s.pb.temp_present, 0xFF);
	assert_int_equal(s.temp_sensor_count, 4);
	assert_int_equal(s.pb.temp_dc[3], s.pb.temp_dc[0]); /* offset 254 copies the MOSFET */
	assert_int_equal(s.pb.full_mah, 280000);
}

static void test_settings_frames(void **state)
{
	uint8_t f[WIRE_MAX];
	struct bms_snapshot s;
	const struct bms_settings *c = &s.settings;

	(void)state;
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_SETTINGS);
	/* MM-doc's value table for offsets 6..138. */
	assert_int_equal(s.pb.sleep_mv, 3500);
	assert_int_equal(c->cell_uvp_mv, 2700);
	assert_int_equal(c->cell_uvpr_mv, 2901);
	assert_int_equal(c->cell_ovp_mv, 3650);
	assert_int_equal(c->cell_ovpr_mv, 3444);
	assert_int_equal(c->balance_trigger_mv, 5);
	assert_int_equal(s.pb.soc100_mv, 3445);
	assert_int_equal(s.pb.soc0_mv, 2900);
	assert_int_equal(s.pb.rcv_mv, 3450);
	assert_int_equal(s.pb.rfv_mv, 3350);
	assert_int_equal(s.pb.power_off_mv, 2500);
	assert_int_equal(s.pb.charge_ocp_ma, 60000);
	assert_int_equal(c->charge_ocp_a, 60);
	assert_int_equal(c->charge_ocp_delay_s, 3);
	assert_int_equal(s.pb.charge_ocp_release_s, 60);
	assert_int_equal(c->discharge_ocp_a, 100);
	assert_int_equal(c->discharge_ocp_delay_s, 300);
	assert_int_equal(s.pb.discharge_ocp_release_s, 60);
	assert_int_equal(s.pb.scp_release_s, 5);
	assert_int_equal(s.pb.balance_max_ma, 2000);
	assert_int_equal(s.pb.charge_otp_dc, 350);
	assert_int_equal(s.pb.charge_otpr_dc, 320);
	assert_int_equal(s.pb.discharge_otp_dc, 350);
	assert_int_equal(s.pb.discharge_otpr_dc, 320);
	assert_int_equal(s.pb.charge_utp_dc, 50);
	assert_int_equal(s.pb.charge_utpr_dc, 70);
	assert_int_equal(s.pb.mosfet_otp_dc, 800);
	assert_int_equal(s.pb.mosfet_otpr_dc, 700);
	assert_int_equal(c->charge_otp_c, 35);
	assert_int_equal(c->charge_utp_c, 5);
	assert_int_equal(c->charge_utpr_c, 7);
	assert_int_equal(c->mosfet_otp_c, 80);
	assert_int_equal(c->cell_count, 16);
	assert_int_equal(c->charge_switch, 1);
	assert_int_equal(c->discharge_switch, 1);
	assert_int_equal(c->balancer_enabled, 1);
	assert_int_equal(s.pb.capacity_mah, 280000);
	assert_int_equal(c->capacity_ah, 280);
	assert_int_equal(s.pb.scp_delay_us, 1500);
	assert_int_equal(c->balance_start_mv, 3440);
	assert_int_equal(s.pb.address, 3);

	/* Negative values are signed 0.1 °C; the master's address is 0. */
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-settings-rs485-phinix-master-addr0-broadcast.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_SETTINGS);
	assert_int_equal(s.pb.address, 0);
	assert_int_equal(c->cell_ovp_mv, 3650);
	assert_int_equal(c->capacity_ah, 314);
	f[98] = 0x38, f[99] = 0xFF, f[100] = 0xFF, f[101] = 0xFF; /* -20.0 °C */
	pb_seal(f);
	decode_ok(f, &s, PB_TYPE_SETTINGS);
	assert_int_equal(s.pb.charge_utp_dc, -200);
	assert_int_equal(c->charge_utp_c, -20);

	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-settings-rs485-phinix-addr1-reply-to-liion-preset-write.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_SETTINGS);
	assert_int_equal(c->cell_ovp_mv, 4200);
	assert_int_equal(s.pb.address, 1);
}

static const struct info_case {
	const char *name;
	const char *model, *hw, *sw, *serial, *dev_name;
} infos[] = {
	{ "pb/pb-devinfo-ble-syssi-v14.hex", "JK_PB2A16S15P", "14.XA", "14.20", "3092572134", "JK_PB2A16S15P" },
	{ "pb/pb-devinfo-ble-syssi-v15.hex", "JK_PB2A16S15P", "15A", "15.38", "40110480520", "JK_PB2A16new" },
	{ "pb/pb-devinfo-ble-syssi-v19.hex", "JK-PB2A16S20P", "19A", "19.27", "506177F49000674", "506177F49000674" },
	{ "pb/pb-devinfo-rs485-mrmanuel-addr3-fw15.41.hex", "JK_PB2A16S20P", "15A", "15.41", "40119491480", "BB02" },
	{ "pb/pb-devinfo-rs485-phinix-addr1-fw15.30.hex", "JK_PB1A16S15P", "15A", "15.30", "40618460410",
	  "40618460410" },
};

static void test_info_frames(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(infos) / sizeof(infos[0]); k++) {
		uint8_t f[WIRE_MAX];
		struct bms_snapshot s;

		memset(&s, 0, sizeof(s));
		test_load_frame(infos[k].name, f, sizeof(f));
		decode_ok(f, &s, PB_TYPE_INFO);
		assert_string_equal(s.pb.model, infos[k].model);
		assert_string_equal(s.pb.hardware, infos[k].hw);
		assert_string_equal(s.pb.software, infos[k].sw);
		assert_string_equal(s.software_version, infos[k].sw);
		assert_string_equal(s.pb.serial, infos[k].serial);
		assert_string_equal(s.pb.name, infos[k].dev_name);
		assert_true(s.pb.has_info);
	}
}

/* Who a PB pack is: its serial, model and versions; without device info,
 * the adapter's serial and the address. */
static void test_identity(void **state)
{
	uint8_t f[WIRE_MAX];
	struct bms_snapshot s;
	struct bms_identity id;

	(void)state;
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-devinfo-ble-syssi-v19.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_INFO);
	identity_of(&s, "ttyUSB0", "FT1234", 2, &id);
	assert_string_equal(id.uid, "jkbms_506177F49000674");
	assert_string_equal(id.product, "JK-BMS PB2A16S20P");
	assert_string_equal(id.hardware, "19A");
	assert_string_equal(id.firmware, "19.27");
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_LIVE);
	identity_of(&s, "ttyUSB0", "FT1234", 3, &id);
	assert_string_equal(id.uid, "jkbms_FT1234_3");
}

static bool contains(const void *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++) {
		if (memcmp((const char *)hay + i, needle, m) == 0)
			return true;
	}
	return false;
}

/* Both passcodes of the device-info frame are never copied. */
static void test_passcodes_not_stored(void **state)
{
	uint8_t f[WIRE_MAX];
	struct bms_snapshot s;

	(void)state;
	test_load_frame("pb/pb-devinfo-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	memcpy(f + 62, "BLEPIN4711SECRET", 16);
	memcpy(f + 118, "SETUPPW0815XYZAB", 16);
	pb_seal(f);
	memset(&s, 0, sizeof(s));
	decode_ok(f, &s, PB_TYPE_INFO);
	assert_false(contains(&s, sizeof(s), "4711"));
	assert_false(contains(&s, sizeof(s), "0815"));
	assert_false(contains(&s, sizeof(s), "SECRET"));
	assert_string_equal(s.pb.serial, "40119491480");
}

/* One pack's three frames accumulate in one snapshot. */
static void test_accumulates(void **state)
{
	uint8_t f[WIRE_MAX];
	struct bms_snapshot s;

	(void)state;
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_SETTINGS);
	test_load_frame("pb/pb-devinfo-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_INFO);
	test_load_frame("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	decode_ok(f, &s, PB_TYPE_LIVE);
	assert_int_equal(s.settings.cell_ovp_mv, 3650);
	assert_string_equal(s.pb.serial, "40119491480");
	assert_int_equal(s.voltage_mv, 52695);
	assert_int_equal(s.settings.actual_capacity_ah, 280); /* SoH 100 % of 280 Ah */
	/* A rejected frame leaves the snapshot as it was. */
	struct bms_snapshot before = s;
	struct codec_error e;

	f[173] = 101;
	pb_seal(f);
	assert_int_equal(pb_decode(f, PB_FRAME_LEN, &s, &e), -ERANGE);
	assert_int_equal(e.reason, CODEC_REJECT_SOC);
	assert_memory_equal(&s, &before, sizeof(s));
}

static void expect_decode_reject(uint8_t *f, size_t len, enum codec_reject why)
{
	struct bms_snapshot s;
	struct codec_error e;

	memset(&s, 0, sizeof(s));
	if (len == PB_FRAME_LEN)
		pb_seal(f);
	assert_true(pb_decode(f, len, &s, &e) < 0);
	assert_int_equal(e.reason, why);
}

static void test_decode_rejects(void **state)
{
	uint8_t f[WIRE_MAX], g[WIRE_MAX];

	(void)state;
	test_load_frame("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	memcpy(g, f, PB_FRAME_LEN);
	g[21] ^= 0x10; /* a cell 4096 mV off: the sum disagrees */
	expect_decode_reject(g, PB_FRAME_LEN, CODEC_REJECT_VOLTAGE_SUM);
	memcpy(g, f, PB_FRAME_LEN);
	memset(g + 70, 0, 4); /* no cell present */
	expect_decode_reject(g, PB_FRAME_LEN, CODEC_REJECT_CELLS);
	memcpy(g, f, PB_FRAME_LEN);
	g[162] = 0x00, g[163] = 0x80; /* T1 -3276.8 °C */
	expect_decode_reject(g, PB_FRAME_LEN, CODEC_REJECT_TEMPERATURE);
	memcpy(g, f, PB_FRAME_LEN);
	g[4] = 0x05; /* a log frame */
	expect_decode_reject(g, PB_FRAME_LEN, CODEC_REJECT_FRAME_TYPE);
	memcpy(g, f, PB_FRAME_LEN);
	g[100] ^= 1; /* not sealed again */
	{
		struct bms_snapshot t;
		struct codec_error e;

		memset(&t, 0, sizeof(t));
		assert_int_equal(pb_decode(g, PB_FRAME_LEN, &t, &e), -EBADMSG);
		assert_int_equal(e.reason, CODEC_REJECT_CHECKSUM);
	}
	expect_decode_reject(f, PB_FRAME_LEN - 1, CODEC_REJECT_LENGTH);
	test_load_frame("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	f[114] = 33; /* cell count */
	expect_decode_reject(f, PB_FRAME_LEN, CODEC_REJECT_CELLS);

	/* A cell absent from the mask reads 0 even when its slot holds a value,
	 * and a sub-zero live temperature is signed. */
	test_load_frame("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	f[71] = 0x7F;                 /* cell 16 not present */
	f[162] = 0x9C, f[163] = 0xFF; /* T1 -10.0 °C */
	f[150] = (uint8_t)(52695 - 3293), f[151] = (uint8_t)((52695 - 3293) >> 8);
	pb_seal(f);

	struct bms_snapshot s;

	memset(&s, 0, sizeof(s));
	decode_ok(f, &s, PB_TYPE_LIVE);
	assert_int_equal(s.cell_count, 15);
	assert_int_equal(s.pb.temp_dc[1], -100);
	assert_int_equal(s.temp_c[BMS_TEMP_T1], -10);
}

static void test_alarm_mapping(void **state)
{
	(void)state;
	assert_int_equal(pb_alarms_to_model(1u << 4), BMS_ALARM_CELL_OVER_VOLTAGE);
	assert_int_equal(pb_alarms_to_model(1u << 11), BMS_ALARM_CELL_UNDER_VOLTAGE);
	assert_int_equal(pb_alarms_to_model(1u << 12), BMS_ALARM_DISCHARGE_UNDER_VOLTAGE);
	assert_int_equal(pb_alarms_to_model(1u << 9), BMS_ALARM_LOW_TEMP);
	assert_int_equal(pb_alarms_to_model(1u << 6 | 1u << 13),
			 BMS_ALARM_CHARGE_OVER_CURRENT | BMS_ALARM_DISCHARGE_OVER_CURRENT);
	assert_int_equal(pb_alarms_to_model(1u << 19), 0);
	assert_int_equal(pb_alarms_to_model(1u << 16), BMS_ALARM_309_A);
	assert_string_equal(pb_alarm_name(11), "cell_under_voltage");
	assert_string_equal(pb_alarm_name(19), "change_password_reminder");
	assert_null(pb_alarm_name(29));
}

/* An over-current protection whose mA do not fit the model's whole amps
 * (u16) is a raw value outside what can be held, not 65535 A: the policy
 * must call it implausible (CCL = DCL = 0), not publish a 59 kA limit. */
static void test_settings_ocp_out_of_range(void **state)
{
	uint8_t f[WIRE_MAX];
	struct bms_snapshot s;
	struct policy_config cfg;
	struct policy_params p;
	static const struct {
		size_t off;
		uint32_t ma;
		const char *name;
	} cases[] = {
		{ 50, 0xFFFFFFFFu, "charge OCP" },
		{ 50, 65536000u, "charge OCP" },
		{ 62, 100000000u, "discharge OCP" },
	};

	(void)state;
	policy_config_default(&cfg);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memset(&s, 0, sizeof(s));
		test_load_frame("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
		for (unsigned b = 0; b < 4; b++)
			f[cases[k].off + b] = (uint8_t)(cases[k].ma >> (8 * b));
		pb_seal(f);
		decode_ok(f, &s, PB_TYPE_SETTINGS);
		s.cell_count = 16;
		policy_params(&cfg, &s, &p);
		assert_false(p.valid);
		assert_non_null(p.implausible);
		assert_string_equal(p.implausible, cases[k].name);
	}
	/* The largest that fits is kept. */
	memset(&s, 0, sizeof(s));
	test_load_frame("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", f, sizeof(f));
	f[50] = 0x18, f[51] = 0xFC, f[52] = 0xE7, f[53] = 0x03; /* 65535000 mA */
	pb_seal(f);
	decode_ok(f, &s, PB_TYPE_SETTINGS);
	assert_int_equal(s.settings.charge_ocp_a, 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_as_captured),
		cmocka_unit_test(test_live_frames),
		cmocka_unit_test(test_live_details),
		cmocka_unit_test(test_settings_frames),
		cmocka_unit_test(test_settings_ocp_out_of_range),
		cmocka_unit_test(test_info_frames),
		cmocka_unit_test(test_passcodes_not_stored),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_accumulates),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_alarm_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
