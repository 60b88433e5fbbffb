/* SPDX-License-Identifier: MIT */
/*
 * jkbms-sim's PB mode (--protocol pb): up to 15 JK PB packs on one RS-485
 * bus, each at its own address with its own pack model, its own faults and
 * counters, and optionally a master pack at address 0 that broadcasts its
 * frames unasked. Requests are Modbus-RTU FC 0x10 trigger writes; answers
 * are the 300-byte 55 AA EB 90 frames of sim_pb_frame.c followed by the
 * FC 0x10 acknowledgement (docs/protocol-pb.md). A master polls the slaves
 * itself, looks for new ones and broadcasts its own frames, all unasked.
 */
#ifndef SIM_PB_H
#define SIM_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_fault.h"
#include "sim_model.h"

#define SIM_PB_MAX_PACKS 16 /* 15 slaves and a master */
#define SIM_PB_RX_MAX 300   /* longest request we collect (FC 0x10, 123 registers) */

struct sim;

struct sim_pb_pack {
	uint8_t address; /* DIP address 0..15; 0 = the bus master */
	bool master;     /* broadcasts unasked, answers nothing */
	struct sim_model model;
	struct sim_faults f;
	uint32_t forced_alarms; /* PB alarm bits the "alarm" command sets */
	uint8_t byte5;          /* frame byte 5: 0x00 (fw 15.41) or 0x05 (fw 15.30) */
	char sw[8];             /* software version, matching byte5 */
	char name[16];          /* device name (offset 46) */
	char serial[24];        /* serial number (offset 86; 11 digits here) */
	unsigned long requests, live, settings, info, writes_applied, writes_ignored, replies;
};

struct sim_pb {
	unsigned count;
	struct sim_pb_pack packs[SIM_PB_MAX_PACKS];
	uint8_t rx[SIM_PB_RX_MAX]; /* request bytes not consumed yet */
	size_t rx_len;
	uint64_t rx_last_ms;
	unsigned master_period_ms; /* 0: no master */
	bool master_on;            /* "master off" pauses the broadcasts */
	uint64_t next_broadcast_ms;
	unsigned scan_next; /* the master's next look for a new slave: address - 1 */
	/* counters: requests with a good CRC, for no pack here, bytes dropped
	 * hunting for a request, requests no pack takes (other registers),
	 * master broadcasts and requests */
	unsigned long requests, unanswered, dropped, ignored, broadcasts, master_polls;
};

/* Set up `packs` packs (1..15) at first_address.. (1..15), or, with a
 * master (master_period_ms > 0), the first of them at address 0 and up to
 * 15 more. Every pack
 * gets `cells` cells; `seed` makes the serial numbers; `id` (or NULL) names
 * them. Returns false with a message on stderr for an invalid layout. */
bool sim_pb_init(struct sim_pb *b, unsigned packs, unsigned first_address, unsigned master_period_ms, unsigned cells,
		 unsigned seed, const char *id);

/* Bytes the service wrote to the bus. */
void sim_pb_feed(struct sim *s, const uint8_t *p, size_t n, uint64_t now);

/* Advance every pack's model; let the master broadcast when it is time. */
void sim_pb_tick(struct sim *s, double dt_s, uint64_t now);

/* A stdin line in PB mode: "pack ADDR COMMAND" for one pack, otherwise
 * for every pack (model commands, fault, alarm) or the bus (status,
 * master on|off). False when the line is none of these; otherwise the
 * answer is in answer. */
bool sim_pb_command(struct sim *s, const char *line, char *answer, size_t size);

/* The pack at address addr, or NULL. */
struct sim_pb_pack *sim_pb_find(struct sim_pb *b, unsigned addr);

#endif
