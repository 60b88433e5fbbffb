/* SPDX-License-Identifier: MIT */
/* The simulator's JK PB frame encoder (see sim_pb_frame.h). */
#include "sim_pb_frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frame offsets, each the register block's byte offset + 6. */
enum {
	LIVE_CELLS = 6,
	LIVE_CELL_MASK = 70,
	LIVE_CELL_AVG = 74,
	LIVE_CELL_DIFF = 76,
	LIVE_CELL_MAX_IDX = 78,
	LIVE_CELL_MIN_IDX = 79,
	LIVE_WIRE_RES = 80,
	LIVE_TEMP_MOS = 144,
	LIVE_VOLTAGE = 150,
	LIVE_POWER = 154,
	LIVE_CURRENT = 158,
	LIVE_TEMP_T1 = 162,
	LIVE_TEMP_T2 = 164,
	LIVE_ALARMS = 166,
	LIVE_BAL_CURRENT = 170,
	LIVE_BAL_STATE = 172,
	LIVE_SOC = 173,
	LIVE_REMAIN = 174,
	LIVE_FULL_CAP = 178,
	LIVE_CYCLES = 182,
	LIVE_CYCLE_CAP = 186,
	LIVE_SOH = 190,
	LIVE_RUNTIME = 194,
	LIVE_CHARGE_FET = 198,
	LIVE_DISCHARGE_FET = 199,
	LIVE_BAL_WORKING = 201,
	LIVE_TEMP_PRESENT = 214,
	LIVE_VOLTAGE_10MV = 234,
	LIVE_TICKS = 246,
	LIVE_TEMP_3 = 254,
	LIVE_TEMP_4 = 256,
	LIVE_TEMP_5 = 258,
	LIVE_SLEEP_TIME = 270,
	SET_DEV_ADDR = 270,
	INFO_MODEL = 6,
	INFO_HW = 22,
	INFO_SW = 30,
	INFO_RUNTIME = 38,
	INFO_POWER_ON = 42,
	INFO_NAME = 46,
	INFO_BLE_PASSCODE = 62,
	INFO_DATE = 78,
	INFO_SERIAL = 86,
	INFO_USER_DATA = 102,
	INFO_SETUP_PASSCODE = 118,
	INFO_UART1_PROTO = 184,
	INFO_UART2_PROTO = 218,
};

/* PB alarm bits (live offset 166) the model raises by itself. */
#define PB_ALARM_CELL_OVP (1u << 4)
#define PB_ALARM_CHARGE_UTP (1u << 9)
#define PB_ALARM_CELL_UVP (1u << 11)

uint16_t sim_pb_crc(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

void sim_pb_ack(uint8_t addr, uint16_t reg, uint16_t count, uint8_t out[SIM_PB_ACK_LEN])
{
	out[0] = addr;
	out[1] = 0x10;
	out[2] = (uint8_t)(reg >> 8);
	out[3] = (uint8_t)reg;
	out[4] = (uint8_t)(count >> 8);
	out[5] = (uint8_t)count;
	uint16_t crc = sim_pb_crc(out, 6);

	out[6] = (uint8_t)crc;
	out[7] = (uint8_t)(crc >> 8);
}

static void put16(uint8_t *f, unsigned off, uint16_t v)
{
	f[off] = (uint8_t)v;
	f[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *f, unsigned off, uint32_t v)
{
	put16(f, off, (uint16_t)v);
	put16(f, off + 2, (uint16_t)(v >> 16));
}

static void put_text(uint8_t *f, unsigned off, size_t size, const char *s)
{
	size_t n = strlen(s);

	memcpy(f + off, s, n < size ? n : size - 1);
}

static void start(uint8_t *f, uint8_t type, uint8_t byte5)
{
	memset(f, 0, SIM_PB_FRAME_LEN);
	f[0] = 0x55;
	f[1] = 0xAA;
	f[2] = 0xEB;
	f[3] = 0x90;
	f[4] = type;
	f[5] = byte5;
}

static void seal(uint8_t *f)
{
	uint8_t sum = 0;

	for (unsigned i = 0; i < SIM_PB_FRAME_LEN - 1; i++)
		sum = (uint8_t)(sum + f[i]);
	f[SIM_PB_FRAME_LEN - 1] = sum;
}

/* 0.1 °C, signed, within what an NTC reads. */
static uint16_t deci_c(double c)
{
	long t = lround(c * 10);

	t = t < -400 ? -400 : (t > 1200 ? 1200 : t);
	return (uint16_t)(int16_t)t;
}

/* The pack voltage on its own terminals: every cell, measured or not. */
static uint32_t pack_mv(const struct sim_model *m)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < m->cells; i++) {
		double v = sim_model_cell_mv(m, i);

		sum += (uint32_t)lround(v < 0 ? 0 : (v > 5000 ? 5000 : v));
	}
	return sum;
}

/* Cells, their mask, average, spread and extreme indexes (0-based). */
static void live_cells(uint8_t *f, const struct bms_snapshot *s)
{
	uint32_t mask = 0, sum = 0, n = 0;
	uint16_t vmax = 0, vmin = 0xFFFF;
	unsigned imax = 0, imin = 0;

	for (unsigned i = 0; i < s->cell_count; i++) {
		uint16_t v = s->cell_mv[i];

		put16(f, LIVE_CELLS + 2 * i, v);
		put16(f, LIVE_WIRE_RES + 2 * i, (uint16_t)(60 + (i * 13) % 50));
		mask |= 1u << i;
		if (v == 0)
			continue; /* an open sense lead: present, reads nothing */
		sum += v;
		n++;
		if (v > vmax) {
			vmax = v;
			imax = i;
		}
		if (v < vmin) {
			vmin = v;
			imin = i;
		}
	}
	put32(f, LIVE_CELL_MASK, mask);
	put16(f, LIVE_CELL_AVG, (uint16_t)(n ? sum / n : 0));
	put16(f, LIVE_CELL_DIFF, (uint16_t)(n ? vmax - vmin : 0));
	f[LIVE_CELL_MAX_IDX] = (uint8_t)imax;
	f[LIVE_CELL_MIN_IDX] = (uint8_t)imin;
}

static uint32_t live_alarms(const struct sim_pb_pack *p)
{
	const struct sim_model *m = &p->model;
	int16_t utp = m->base.settings.charge_utp_c;
	uint32_t a = p->forced_alarms;

	if (m->ovp_tripped)
		a |= PB_ALARM_CELL_OVP;
	if (m->uvp_tripped)
		a |= PB_ALARM_CELL_UVP;
	if (m->temp_c[BMS_TEMP_T1] < utp || m->temp_c[BMS_TEMP_T2] < utp)
		a |= PB_ALARM_CHARGE_UTP;
	return a;
}

void sim_pb_encode_live(struct sim_pb_pack *p, uint8_t f[SIM_PB_FRAME_LEN])
{
	struct sim_model *m = &p->model;
	struct bms_snapshot s;

	sim_model_report(m, &s);
	start(f, SIM_PB_TYPE_LIVE, p->byte5);
	live_cells(f, &s);

	uint32_t mv = pack_mv(m);
	int32_t ma = (int32_t)lround(m->current_actual_a * 1000);
	double cap_mah = m->capacity_ah * 1000, soc = m->soc < 0 ? 0 : (m->soc > 1 ? 1 : m->soc);
	bool balancing = s.status & BMS_STATUS_BALANCING;

	put16(f, LIVE_TEMP_MOS, deci_c(m->temp_c[BMS_TEMP_MOSFET]));
	put32(f, LIVE_VOLTAGE, mv);
	put32(f, LIVE_POWER, (uint32_t)(llabs((long long)mv * ma) / 1000));
	put32(f, LIVE_CURRENT, (uint32_t)ma);
	put16(f, LIVE_TEMP_T1, deci_c(m->temp_c[BMS_TEMP_T1]));
	put16(f, LIVE_TEMP_T2, deci_c(m->temp_c[BMS_TEMP_T2]));
	put32(f, LIVE_ALARMS, live_alarms(p));
	if (balancing) {
		bool down = ma < 0;

		put16(f, LIVE_BAL_CURRENT, (uint16_t)(int16_t)(down ? -600 : 600));
		f[LIVE_BAL_STATE] = down ? 2 : 1;
		f[LIVE_BAL_WORKING] = 1;
	}
	f[LIVE_SOC] = s.soc_pct;
	put32(f, LIVE_REMAIN, (uint32_t)lround(soc * cap_mah));
	put32(f, LIVE_FULL_CAP, (uint32_t)lround(cap_mah));
	put32(f, LIVE_CYCLES, s.cycles);
	put32(f, LIVE_CYCLE_CAP, (uint32_t)lround(s.cycles * cap_mah));
	f[LIVE_SOH] = 100;
	put32(f, LIVE_RUNTIME, (uint32_t)m->time_s);
	f[LIVE_CHARGE_FET] = (s.status & BMS_STATUS_CHARGE_FET) != 0;
	f[LIVE_DISCHARGE_FET] = (s.status & BMS_STATUS_DISCHARGE_FET) != 0;
	f[LIVE_TEMP_PRESENT] = 0xFF;
	put16(f, LIVE_VOLTAGE_10MV, (uint16_t)(mv / 10));
	put32(f, LIVE_TICKS, (uint32_t)(m->time_s * 10));
	/* 254 repeats the MOSFET probe in every real frame; 256/258 are two
	 * more battery probes, here reading what T1 and T2 read. */
	put16(f, LIVE_TEMP_3, deci_c(m->temp_c[BMS_TEMP_MOSFET]));
	put16(f, LIVE_TEMP_4, deci_c(m->temp_c[BMS_TEMP_T1]));
	put16(f, LIVE_TEMP_5, deci_c(m->temp_c[BMS_TEMP_T2]));
	put32(f, LIVE_SLEEP_TIME, 86400);
	seal(f);
}

/* The settings block from offset 6 on, u32 each, in frame order up to the
 * balance start voltage at 138. */
static void settings_values(const struct sim_pb_pack *p, uint32_t v[34])
{
	const struct sim_model *m = &p->model;
	const struct bms_settings *c = &m->base.settings;
	const uint32_t list[34] = {
		3500,                                      /* smart-sleep voltage */
		c->cell_uvp_mv,                            /* 10 */
		c->cell_uvpr_mv,                           /* 14 */
		c->cell_ovp_mv,                            /* 18 */
		c->cell_ovpr_mv,                           /* 22 */
		c->balance_trigger_mv,                     /* 26 */
		3445,                                      /* SoC 100 % voltage */
		2900,                                      /* SoC 0 % voltage */
		3450,                                      /* 38 requested charge voltage */
		3350,                                      /* 42 requested float voltage */
		2500,                                      /* auto power-off */
		c->charge_ocp_a * 1000u,                   /* 50 charge OCP, mA */
		c->charge_ocp_delay_s,                     /* 54 */
		60,                                        /* charge OCP release, s */
		c->discharge_ocp_a * 1000u,                /* 62 discharge OCP, mA */
		c->discharge_ocp_delay_s,                  /* 66 */
		60,                                        /* discharge OCP release */
		5,                                         /* short-circuit release */
		2000,                                      /* max balance current, mA */
		(uint32_t)(c->charge_otp_c * 10),          /* 82 */
		(uint32_t)((c->charge_otp_c - 3) * 10),    /* 86: recovery 3 C lower */
		(uint32_t)(c->discharge_otp_c * 10),       /* 90 */
		(uint32_t)((c->discharge_otp_c - 3) * 10), /* 94 */
		(uint32_t)(c->charge_utp_c * 10),          /* 98, negative: two's complement */
		(uint32_t)(c->charge_utpr_c * 10),         /* 102 */
		(uint32_t)(c->mosfet_otp_c * 10),          /* 106 */
		(uint32_t)(c->mosfet_otpr_c * 10),         /* 110 */
		m->cells,                                  /* 114 */
		m->charge_switch,                          /* 118 */
		m->discharge_switch,                       /* 122 */
		c->balancer_enabled,                       /* 126 */
		(uint32_t)lround(m->capacity_ah * 1000),   /* 130, mAh */
		1500,                                      /* short-circuit delay, us */
		c->balance_start_mv,                       /* 138 */
	};

	memcpy(v, list, sizeof(list));
}

void sim_pb_encode_settings(const struct sim_pb_pack *p, uint8_t f[SIM_PB_FRAME_LEN])
{
	const struct bms_settings *c = &p->model.base.settings;
	uint32_t v[34];

	start(f, SIM_PB_TYPE_SETTINGS, p->byte5);
	settings_values(p, v);
	for (unsigned i = 0; i < 34; i++)
		put32(f, 6 + 4 * i, v[i]);
	put32(f, SET_DEV_ADDR, p->address);
	put32(f, 278, 1500000); /* undocumented; this value in every capture */
	f[284] = 5;             /* heating start, °C */
	f[285] = 10;            /* heating stop */
	f[286] = 24;            /* smart-sleep delay, h */
	f[287] = 0xFE;
	f[296] = (uint8_t)(int8_t)c->discharge_utp_c;
	f[297] = (uint8_t)(int8_t)c->discharge_utpr_c;
	seal(f);
}

void sim_pb_encode_info(const struct sim_pb_pack *p, uint8_t f[SIM_PB_FRAME_LEN])
{
	start(f, SIM_PB_TYPE_INFO, p->byte5);
	put_text(f, INFO_MODEL, 16, "JK_PB2A16S20P");
	put_text(f, INFO_HW, 8, "15A");
	put_text(f, INFO_SW, 8, p->sw);
	put32(f, INFO_RUNTIME, 48000000u + (uint32_t)p->model.time_s);
	put32(f, INFO_POWER_ON, 7);
	put_text(f, INFO_NAME, 16, p->name);
	put_text(f, INFO_BLE_PASSCODE, 16, SIM_PB_BLE_PASSCODE);
	put_text(f, INFO_DATE, 8, "260115");
	put_text(f, INFO_SERIAL, 16, p->serial);
	put_text(f, INFO_USER_DATA, 16, "Input Userdata");
	put_text(f, INFO_SETUP_PASSCODE, 16, SIM_PB_SETUP_PASSCODE);
	f[INFO_UART1_PROTO] = 1;
	f[INFO_UART2_PROTO] = p->master ? 15 : 1;
	seal(f);
}
