/* SPDX-License-Identifier: MIT */
/*
 * How jkbms-sim is steered: its usage text, the named scenarios
 * (--scenario) and the stdin commands that act on the pack model only
 * (current, temperatures, cells, charger, reporting faults). The commands
 * about the link itself (status, fault, disconnect, limits, quit) stay in
 * jkbms_sim.c.
 */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim_model.h"

/* jkbms-sim's options and stdin commands. */
void sim_control_usage(FILE *f);

/* Set up scenario `name` on an initialised model. False: no such scenario. */
bool sim_control_scenario(struct sim_model *m, const char *name);

/* Run one model command line. False when the line is not a model command;
 * otherwise the answer ("ok ..." or "error ...") is in answer. */
bool sim_control_command(struct sim_model *m, const char *line, char *answer, size_t size);

/* Print a command's answer into answer (size bytes, cut to fit). */
void sim_answer(char *answer, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The scenario names, for messages. */
#define SIM_CONTROL_SCENARIOS "full-charge cold-morning rogue-charger open-lead soc-drift noisy-cells"

#endif
