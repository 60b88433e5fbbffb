/* SPDX-License-Identifier: MIT */
/*
 * The simulator's state, and its BMS end of the link: the answers to the
 * service's requests (read-all, password, writes of 0xAB/0xAC) with the
 * faults real links show injected into them (for the PB packs as well). jkbms_sim.c owns the pty, the
 * control lines and the main loop; sim_link.c the answers.
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "sim_dvcc.h"
#include "sim_fault.h"
#include "sim_model.h"
#include "sim_pb.h"

struct out_chunk {
	uint64_t at_ms;
	bool reply_end; /* the last chunk of a read-all reply */
	size_t len;
	uint8_t data[CODEC_FRAME_MAX + CODEC_REQUEST_MAX];
};

#define SIM_OUT_MAX 256 /* a PB master queues a whole cycle of traffic */

struct sim {
	struct sim_model model;
	int master;
	int slave;
	char pty[128];
	const char *link_path;
	struct codec_rx rx;
	struct sim_faults f; /* the 4E 57 BMS's; each PB pack has its own */
	struct out_chunk out[SIM_OUT_MAX];
	unsigned nout;
	uint64_t reappear_at;
	uint64_t unlocked_until;
	uint64_t last_step;
	double speed;
	unsigned rng;
	bool exit_on_eof;
	FILE *trace; /* --trace: monotonic ns of each reply's last byte */
	bool stdin_open;
	struct sim_dvcc dvcc; /* a DVCC charger reads CVL/CCL from D-Bus */
	bool pb;              /* --protocol pb: the packs of pb, not model, answer */
	struct sim_pb pbus;
	/* counters */
	unsigned long requests, reads, passwords, writes_applied, writes_ignored, activations, replies;
};

/* A request frame from the service (LEN bytes): queue its answer, if any. */
void sim_link_request(struct sim *s, const uint8_t *f, size_t len, uint64_t now);

/* Queue REPLY (LEN bytes, its checksum byte at CHECK_AT, the end of its
 * frame at FRAME_END) to go out at AT, spoilt as F says; REQ is the request
 * it answers (for the echo fault). Returns true when the reply itself (not
 * garbage in its place, not nothing) went out. */
bool sim_link_send(struct sim *s, struct sim_faults *f, const uint8_t *req, size_t req_len, uint8_t *reply, size_t len,
		   size_t check_at, size_t frame_end, uint64_t at);

/* Queue LEN bytes as they are at AT. */
void sim_link_queue(struct sim *s, uint64_t at, const uint8_t *data, size_t len);

/* A random number 0..32767 from the simulator's seeded generator. */
unsigned sim_link_rnd(struct sim *s);

#endif
