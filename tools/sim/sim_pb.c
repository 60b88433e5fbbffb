/* SPDX-License-Identifier: MIT */
/*
 * jkbms-sim's PB bus (see sim_pb.h): the Modbus-RTU request hunter, the
 * answers of the addressed pack with its own faults, the master's
 * broadcasts, and the PB forms of the stdin commands.
 */
#include "sim_pb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_control.h"
#include "sim_link.h"
#include "sim_pb_frame.h"

/* A pack answers a few ms after the request (the real ones take ~35 ms
 * for the whole reply; per-byte wire time is not modelled). */
#define PB_REPLY_DELAY_MS 3
/* A gap this long between bytes ends whatever request was in progress,
 * as the Modbus 3.5-character silence does. */
#define PB_IDLE_RESET_MS 20
/* The master's pacing: its settings frame this long after its live frame;
 * per slave a live and a settings request this far apart; this long waiting
 * on an address nobody answers. */
#define PB_MASTER_SETTINGS_DELAY_MS 60
#define PB_MASTER_POLL_GAP_MS 100
#define PB_MASTER_SCAN_WAIT_MS 220

bool sim_pb_init(struct sim_pb *b, unsigned packs, unsigned first_address, unsigned master_period_ms, unsigned cells,
		 unsigned seed, const char *id)
{
	unsigned master = master_period_ms > 0;

	memset(b, 0, sizeof(*b));
	unsigned slaves = packs - master;

	if (packs < 1 || packs > 15 + master || first_address < 1 || (slaves && first_address + slaves - 1 > 15)) {
		fprintf(stderr,
			"jkbms-sim: --packs 1..15 (16 with --master) at --first-address 1..15: the "
			"addresses must stay within 1..15\n");
		return false;
	}
	b->count = packs;
	b->master_period_ms = master_period_ms;
	b->master_on = master;
	for (unsigned i = 0; i < packs; i++) {
		struct sim_pb_pack *p = &b->packs[i];

		sim_model_init(&p->model, cells, 1);
		p->master = master && i == 0;
		p->address = (uint8_t)(p->master ? 0 : first_address + i - master);
		p->model.rng = seed + i;
		/* Alternate the two firmware generations seen on RS-485. */
		p->byte5 = i % 2 ? 0x05 : 0x00;
		snprintf(p->sw, sizeof(p->sw), "%s", i % 2 ? "15.30" : "15.41");
		char serial[sizeof(p->serial)];

		snprintf(serial, sizeof(serial), "4011%05u%02u", seed % 100000, p->address);
		memcpy(p->serial, serial, sizeof(serial));
		if (id)
			snprintf(p->name, sizeof(p->name), "%.11s-%02u", id, p->address);
		else
			snprintf(p->name, sizeof(p->name), "%.15s", serial);
	}
	return true;
}

struct sim_pb_pack *sim_pb_find(struct sim_pb *b, unsigned addr)
{
	for (unsigned i = 0; i < b->count; i++) {
		if (b->packs[i].address == addr)
			return &b->packs[i];
	}
	return NULL;
}

/* Queue frame f and the acknowledgement trailer ack as one reply. */
static bool send_frame(struct sim *s, struct sim_pb_pack *p, const uint8_t *req, size_t req_len, const uint8_t *frame,
		       const uint8_t *ack, uint64_t at)
{
	uint8_t r[SIM_PB_FRAME_LEN + SIM_PB_ACK_LEN];

	memcpy(r, frame, SIM_PB_FRAME_LEN);
	memcpy(r + SIM_PB_FRAME_LEN, ack, SIM_PB_ACK_LEN);
	return sim_link_send(s, &p->f, req, req_len, r, sizeof(r), SIM_PB_FRAME_LEN - 1, SIM_PB_FRAME_LEN, at);
}

/* A trigger: the frame it asks for, then the FC 0x10 acknowledgement. */
static void answer_trigger(struct sim *s, struct sim_pb_pack *p, const uint8_t *req, size_t len, uint16_t reg,
			   uint64_t now)
{
	uint8_t f[SIM_PB_FRAME_LEN], ack[SIM_PB_ACK_LEN];

	if (reg == SIM_PB_REG_LIVE) {
		p->live++;
		sim_pb_encode_live(p, f);
	} else if (reg == SIM_PB_REG_SETTINGS) {
		p->settings++;
		sim_pb_encode_settings(p, f);
	} else {
		p->info++;
		sim_pb_encode_info(p, f);
	}
	sim_pb_ack(p->address, reg, 1, ack);
	if (send_frame(s, p, req, len, f, ack, now + PB_REPLY_DELAY_MS))
		p->replies++;
}

/* A write of the charge (0x1070) or discharge (0x1074) switch, u32 0/1:
 * applied and acknowledged with the standard 8-byte FC 0x10 echo. */
static void answer_switch(struct sim *s, struct sim_pb_pack *p, const uint8_t *req, uint16_t reg, uint64_t now)
{
	uint32_t v = (uint32_t)req[7] << 24 | (uint32_t)req[8] << 16 | (uint32_t)req[9] << 8 | req[10];
	uint8_t ack[SIM_PB_ACK_LEN];

	if (v > 1) {
		p->writes_ignored++;
		return;
	}
	if (p->f.mode == FAULT_NOAPPLY) {
		p->writes_ignored++;
	} else {
		if (reg == SIM_PB_REG_CHARGE_SWITCH)
			p->model.charge_switch = v;
		else
			p->model.discharge_switch = v;
		p->writes_applied++;
	}
	if (p->f.mode == FAULT_LATE) {
		/* Applied, then silent (no acknowledgement either) from the first
		 * write on; repeated writes do not extend the silence. */
		if (now >= p->f.mute_until)
			p->f.mute_until = now + (p->f.arg ? p->f.arg : 3000);
		return;
	}
	sim_pb_ack(p->address, reg, 2, ack);
	if (p->f.mode != FAULT_SILENT)
		sim_link_queue(s, now + PB_REPLY_DELAY_MS, ack, sizeof(ack));
}

/* One request with a good CRC. Only FC 0x10 is answered: the three
 * triggers (one register, value 0) and the two switch writes. */
static void request(struct sim *s, const uint8_t *r, size_t len, uint64_t now)
{
	struct sim_pb *b = &s->pbus;
	struct sim_pb_pack *p = sim_pb_find(b, r[0]);
	uint16_t reg = (uint16_t)(r[2] << 8 | r[3]), count = (uint16_t)(r[4] << 8 | r[5]);

	b->requests++;
	if (!p || p->master) {
		b->unanswered++; /* nobody at that address (the master only asks) */
		return;
	}
	p->requests++;
	if (r[1] == 0x10 && count == 1 &&
	    (reg == SIM_PB_REG_LIVE || reg == SIM_PB_REG_SETTINGS || reg == SIM_PB_REG_INFO))
		answer_trigger(s, p, r, len, reg, now);
	else if (r[1] == 0x10 && count == 2 && (reg == SIM_PB_REG_CHARGE_SWITCH || reg == SIM_PB_REG_DISCHARGE_SWITCH))
		answer_switch(s, p, r, reg, now);
	else
		b->ignored++;
}

/* The length of the request starting rx[0] (FC 0x03 read or FC 0x10
 * write), 0 if more bytes are needed to tell, or -1 if rx[0] cannot start
 * one. */
static int request_length(const uint8_t *rx, size_t n)
{
	if (n < 2)
		return 0;
	if (rx[0] > 247)
		return -1;
	if (rx[1] == 0x03)
		return 8;
	if (rx[1] != 0x10)
		return -1;
	if (n < 7)
		return 0;
	unsigned count = (unsigned)rx[4] << 8 | rx[5];

	if (count < 1 || count > 123 || rx[6] != 2 * count)
		return -1;
	return 9 + rx[6];
}

void sim_pb_feed(struct sim *s, const uint8_t *p, size_t n, uint64_t now)
{
	struct sim_pb *b = &s->pbus;

	if (b->rx_len && now - b->rx_last_ms >= PB_IDLE_RESET_MS) {
		b->dropped += b->rx_len;
		b->rx_len = 0;
	}
	b->rx_last_ms = now;
	for (size_t i = 0; i < n; i++) {
		if (b->rx_len == sizeof(b->rx)) {
			b->dropped++;
			memmove(b->rx, b->rx + 1, --b->rx_len);
		}
		b->rx[b->rx_len++] = p[i];
		for (;;) {
			int len = request_length(b->rx, b->rx_len);

			if (len == 0 || (len > 0 && (size_t)len > b->rx_len))
				break;
			if (len > 0 && sim_pb_crc(b->rx, (size_t)len) == 0) {
				request(s, b->rx, (size_t)len, now);
				b->rx_len -= (size_t)len;
				memmove(b->rx, b->rx + len, b->rx_len);
				continue;
			}
			/* Not a request here (or a bad CRC): hunt on from the next byte. */
			b->dropped++;
			memmove(b->rx, b->rx + 1, --b->rx_len);
		}
	}
}

/* The master's own frames, unasked: live data with an address-0 trailer,
 * then its settings. A master does not send its device info. */
static void broadcast(struct sim *s, struct sim_pb_pack *m, uint64_t at)
{
	uint8_t f[SIM_PB_FRAME_LEN], ack[SIM_PB_ACK_LEN];

	sim_pb_encode_live(m, f);
	sim_pb_ack(0, SIM_PB_REG_LIVE, 1, ack);
	if (send_frame(s, m, NULL, 0, f, ack, at))
		m->replies++;
	sim_pb_encode_settings(m, f);
	sim_pb_ack(0, SIM_PB_REG_SETTINGS, 1, ack);
	if (send_frame(s, m, NULL, 0, f, ack, at + PB_MASTER_SETTINGS_DELAY_MS))
		m->replies++;
	s->pbus.broadcasts++;
}

/* The master's trigger to addr at `at` on the wire; the pack there, if
 * any, answers it as it answers anyone. */
static void master_request(struct sim *s, uint8_t addr, uint16_t reg, uint64_t at)
{
	uint8_t r[11] = { addr, 0x10, (uint8_t)(reg >> 8), (uint8_t)reg, 0x00, 0x01, 0x02, 0x00, 0x00 };
	uint16_t crc = sim_pb_crc(r, 9);
	struct sim_pb_pack *p = sim_pb_find(&s->pbus, addr);

	r[9] = (uint8_t)crc;
	r[10] = (uint8_t)(crc >> 8);
	sim_link_queue(s, at, r, sizeof(r));
	s->pbus.master_polls++;
	if (p && !p->master)
		answer_trigger(s, p, r, sizeof(r), reg, at);
}

/* One cycle of a master, as real ones run it (shortened): live data and
 * settings from every slave, a look for a new slave at one free address
 * (in turn), then its own broadcast. Returns when the cycle ends. */
static uint64_t master_cycle(struct sim *s, struct sim_pb_pack *m, uint64_t now)
{
	struct sim_pb *b = &s->pbus;
	uint64_t t = now;

	for (unsigned i = 0; i < b->count; i++) {
		if (b->packs[i].master)
			continue;
		master_request(s, b->packs[i].address, SIM_PB_REG_LIVE, t);
		master_request(s, b->packs[i].address, SIM_PB_REG_SETTINGS, t + PB_MASTER_POLL_GAP_MS);
		t += 2 * PB_MASTER_POLL_GAP_MS;
	}
	for (unsigned k = 0; k < 15; k++) {
		unsigned addr = 1 + (b->scan_next + k) % 15;

		if (!sim_pb_find(b, addr)) {
			master_request(s, (uint8_t)addr, SIM_PB_REG_LIVE, t);
			b->scan_next = addr % 15;
			t += PB_MASTER_SCAN_WAIT_MS;
			break;
		}
	}
	broadcast(s, m, t);
	return t + PB_MASTER_SETTINGS_DELAY_MS;
}

void sim_pb_tick(struct sim *s, double dt_s, uint64_t now)
{
	struct sim_pb *b = &s->pbus;

	for (unsigned i = 0; i < b->count; i++)
		sim_model_step(&b->packs[i].model, dt_s);
	if (!b->master_period_ms || !b->master_on || s->master < 0)
		return;
	if (now >= b->next_broadcast_ms) {
		uint64_t end = master_cycle(s, &b->packs[0], now) + PB_MASTER_SETTINGS_DELAY_MS;

		b->next_broadcast_ms = now + b->master_period_ms > end ? now + b->master_period_ms : end;
	}
}
