/* SPDX-License-Identifier: MIT */
/*
 * The simulator's state, and its BMS end of the link: the answers to the
 * service's requests (read-all, password, writes of 0xAB/0xAC) with the
 * faults real links show injected into them. jkbms_sim.c owns the pty, the
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
#include "sim_model.h"

enum fault {
	FAULT_NONE,
	FAULT_SILENT,
	FAULT_GARBAGE,
	FAULT_BADCRC,
	FAULT_TRUNCATED,
	FAULT_SPLIT,
	FAULT_SLOW,
	FAULT_ECHO,
	FAULT_NOAPPLY,
	FAULT_LATE, /* apply a write, then stay silent for a while */
	FAULT_RANDOM,
	FAULT_COUNT
};

/* The fault names, as --fault and the "fault" command take them. */
extern const char *const sim_fault_names[FAULT_COUNT];

struct out_chunk {
	uint64_t at_ms;
	bool reply_end; /* the last chunk of a read-all reply */
	size_t len;
	uint8_t data[CODEC_FRAME_MAX + CODEC_REQUEST_MAX];
};

#define SIM_OUT_MAX 64

struct sim {
	struct sim_model model;
	int master;
	int slave;
	char pty[128];
	const char *link_path;
	struct codec_rx rx;
	enum fault fault;
	unsigned fault_arg;
	unsigned random_pct;
	struct out_chunk out[SIM_OUT_MAX];
	unsigned nout;
	uint64_t reappear_at;
	uint64_t unlocked_until;
	uint64_t mute_until; /* FAULT_LATE: no answer before this */
	uint64_t last_step;
	double speed;
	unsigned rng;
	bool exit_on_eof;
	FILE *trace; /* --trace: monotonic ns of each reply's last byte */
	bool stdin_open;
	struct sim_dvcc dvcc; /* a DVCC charger reads CVL/CCL from D-Bus */
	/* counters */
	unsigned long requests, reads, passwords, writes_applied, writes_ignored, activations, replies, faults;
	unsigned long fault_counts[FAULT_COUNT];
};

/* A request frame from the service (LEN bytes): queue its answer, if any. */
void sim_link_request(struct sim *s, const uint8_t *f, size_t len, uint64_t now);

/* The fault called NAME; false if none is. */
bool sim_link_parse_fault(const char *name, enum fault *out);

#endif
