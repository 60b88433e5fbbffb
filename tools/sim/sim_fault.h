/* SPDX-License-Identifier: MIT */
/*
 * The faults jkbms-sim injects into its answers, and one responder's fault
 * state: the 4E 57 BMS has one, every PB pack on the bus its own. The
 * injection itself is sim_link_send() (sim_link.c).
 */
#ifndef SIM_FAULT_H
#define SIM_FAULT_H

#include <stdbool.h>
#include <stdint.h>

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
	FAULT_PAD,  /* a 00 byte after the frame, as some adapters add */
	FAULT_RANDOM,
	FAULT_COUNT
};

/* The fault names, as --fault and the "fault" command take them. */
extern const char *const sim_fault_names[FAULT_COUNT];

struct sim_faults {
	enum fault mode;
	unsigned arg;        /* the mode's argument, 0 = its default */
	unsigned random_pct; /* FAULT_RANDOM: share of answers spoilt */
	uint64_t mute_until; /* FAULT_LATE: no answer before this */
	unsigned long total; /* answers spoilt */
	unsigned long count[FAULT_COUNT];
};

/* Switch to the fault called NAME with ARG (0 = default); false, and no
 * change, if there is no such fault. */
bool sim_faults_set(struct sim_faults *f, const char *name, unsigned arg);

#endif
