/* SPDX-License-Identifier: MIT */
/*
 * The simulator's own PB encoder against frames captured from a real pack
 * (tests/data/pb, fw 15.41 at address 3): set up with that pack's
 * settings, the simulated pack sends the same settings bytes, the same
 * identity fields and the same fixed live fields, at the same offsets.
 * This ties the simulator's layout to real frames, not only to our reading
 * of the protocol (test_sim_pb checks the same frames over a pty).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim_pb_frame.h"
#include "test_util.h"

static uint32_t u32(const uint8_t *f, unsigned off)
{
	return (uint32_t)f[off] | (uint32_t)f[off + 1] << 8 | (uint32_t)f[off + 2] << 16 | (uint32_t)f[off + 3] << 24;
}

static uint8_t sum8(const uint8_t *f)
{
	uint8_t s = 0;

	for (unsigned i = 0; i < 299; i++)
		s = (uint8_t)(s + f[i]);
	return s;
}

/* Pack 3 as the captured one: fw 15.41, 16 cells, its protections. */
static void captured_pack(struct sim_pb_pack *p)
{
	struct bms_settings *c = &p->model.base.settings;

	memset(p, 0, sizeof(*p));
	sim_model_init(&p->model, 16, 1);
	p->address = 3;
	p->byte5 = 0x00;
	strcpy(p->sw, "15.41");
	strcpy(p->serial, "40119491480");
	strcpy(p->name, "BB02");
	c->cell_uvp_mv = 2700;
	c->cell_uvpr_mv = 2901;
	c->cell_ovp_mv = 3650;
	c->cell_ovpr_mv = 3444;
	c->balance_trigger_mv = 5;
	c->charge_ocp_a = 60;
	c->charge_ocp_delay_s = 3;
	c->discharge_ocp_a = 100;
	c->discharge_ocp_delay_s = 300;
	c->charge_otp_c = 35;
	c->discharge_otp_c = 35;
	c->charge_utp_c = 5;
	c->charge_utpr_c = 7;
	c->mosfet_otp_c = 80;
	c->mosfet_otpr_c = 70;
	c->balance_start_mv = 3440;
}

static void test_settings_as_captured(void **state)
{
	uint8_t real[400], f[SIM_PB_FRAME_LEN];
	struct sim_pb_pack p;

	(void)state;
	assert_int_equal(test_load_frame("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", real, sizeof(real)), 300);
	captured_pack(&p);
	sim_pb_encode_settings(&p, f);
	assert_int_equal(f[299], sum8(f));
	/* Header, type, byte 5, then every field from smart sleep (6) to the
	 * balance start voltage (138..141): OVP/UVP and recoveries, OCPs and
	 * delays, temperature protections, cell count, switches, capacity. */
	assert_memory_equal(f, real, 142);
	for (unsigned off = 142; off < 270; off += 4)
		assert_int_equal(u32(f, off), u32(real, off)); /* wire resistances: 0 */
	assert_int_equal(u32(f, 270), 3);                      /* its address, as sent */
	assert_int_equal(u32(f, 278), u32(real, 278));
	assert_int_equal(f[286], real[286]); /* smart-sleep delay */
	assert_int_equal(f[287], real[287]);
}

static void test_info_as_captured(void **state)
{
	uint8_t real[400], f[SIM_PB_FRAME_LEN];
	struct sim_pb_pack p;

	(void)state;
	assert_int_equal(test_load_frame("pb/pb-devinfo-rs485-mrmanuel-addr3-fw15.41.hex", real, sizeof(real)), 300);
	captured_pack(&p);
	sim_pb_encode_info(&p, f);
	assert_int_equal(f[299], sum8(f));
	assert_memory_equal(f, real, 6);            /* header, type 3, byte 5 */
	assert_memory_equal(f + 6, real + 6, 32);   /* model, hardware, software */
	assert_memory_equal(f + 46, real + 46, 16); /* device name */
	assert_memory_equal(f + 86, real + 86, 12); /* serial and its NUL */
	assert_int_equal(f[218], real[218]);        /* UART2: slave protocol 1 */
	/* The passcodes are there, and fake. */
	assert_string_equal((const char *)f + 62, SIM_PB_BLE_PASSCODE);
	assert_string_equal((const char *)f + 118, SIM_PB_SETUP_PASSCODE);
}

static void test_live_as_captured(void **state)
{
	uint8_t real[400], f[SIM_PB_FRAME_LEN];
	struct sim_pb_pack p;

	(void)state;
	assert_int_equal(test_load_frame("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", real, sizeof(real)), 300);
	captured_pack(&p);
	sim_pb_encode_live(&p, f);
	assert_int_equal(f[299], sum8(f));
	assert_memory_equal(f, real, 6);
	assert_memory_equal(f + 70, real + 70, 4); /* 16 cells present */
	assert_int_equal(f[190], real[190]);       /* SoH */
	assert_int_equal(f[198], real[198]);       /* FETs on */
	assert_int_equal(f[199], real[199]);
	assert_int_equal(f[214], real[214]);            /* every probe present */
	assert_memory_equal(f + 254, f + 144, 2);       /* 254 repeats the MOSFET probe, */
	assert_memory_equal(real + 254, real + 144, 2); /* as the real one does */
	assert_int_equal(u32(f, 270), u32(real, 270));  /* smart-sleep countdown */
	assert_int_equal(u32(f, 178), u32(real, 178));  /* 280 Ah in mAh */
	for (unsigned i = 0; i < 16; i++)
		assert_in_range(f[80 + 2 * i], 50, 135); /* wire resistances as seen */
}

/* The acknowledgements real packs sent, from the simulator's CRC. */
static void test_acks_as_captured(void **state)
{
	static const uint8_t live1[] = { 0x01, 0x10, 0x16, 0x20, 0x00, 0x01, 0x04, 0x4B };
	static const uint8_t info1[] = { 0x01, 0x10, 0x16, 0x1C, 0x00, 0x01, 0xC4, 0x47 };
	static const uint8_t settings3[] = { 0x03, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x64, 0x65 };
	static const uint8_t master[] = { 0x00, 0x10, 0x16, 0x20, 0x00, 0x01, 0x05, 0x9A };
	static const uint8_t request[] = { 0x01, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD6, 0xF1 };
	uint8_t a[SIM_PB_ACK_LEN];

	(void)state;
	sim_pb_ack(1, SIM_PB_REG_LIVE, 1, a);
	assert_memory_equal(a, live1, 8);
	sim_pb_ack(1, SIM_PB_REG_INFO, 1, a);
	assert_memory_equal(a, info1, 8);
	sim_pb_ack(3, SIM_PB_REG_SETTINGS, 1, a);
	assert_memory_equal(a, settings3, 8);
	sim_pb_ack(0, SIM_PB_REG_LIVE, 1, a);
	assert_memory_equal(a, master, 8);
	assert_int_equal(sim_pb_crc(request, sizeof(request)), 0); /* a good frame checks to 0 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_as_captured),
		cmocka_unit_test(test_info_as_captured),
		cmocka_unit_test(test_live_as_captured),
		cmocka_unit_test(test_acks_as_captured),
	};

	return cmocka_run_group_tests_name("sim_pb_frame", tests, NULL, NULL);
}
