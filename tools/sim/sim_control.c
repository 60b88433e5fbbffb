/* SPDX-License-Identifier: MIT */
/*
 * jkbms-sim's scenarios and its stdin commands on the pack model (see
 * sim_control.h). Every command answers one line, "ok ..." or "error ...".
 */
#include "sim_control.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_answer(char *answer, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(answer, size, fmt, ap);
	va_end(ap);
}

static void scenario_cold_morning(struct sim_model *m)
{
	/* -5 C at dawn, warming 5 C an hour, a 40 A DVCC charger. */
	m->ambient_c = -5;
	for (int k = 0; k < BMS_TEMP_COUNT; k++)
		m->temp_c[k] = -5;
	m->ambient_rate_c_per_h = 5;
	m->soc = 0.50;
	m->charger = SIM_CHARGER_DVCC;
	m->charger_max_a = 40;
}

void sim_control_usage(FILE *f)
{
	fprintf(f,
		"Usage: jkbms-sim [options]\n"
		"Plays a JK-BMS on a pseudo-terminal and prints \"pty PATH\" when ready.\n"
		"  --cells N           cell count 1..32 (16)\n"
		"  --link PATH         also make PATH a symlink to the pty\n"
		"  --protocol V        1 or 4e57: a JK-BMS speaking 4E 57 (0: its old layout\n"
		"                      without 0xB8..0xC0); pb: JK PB packs on an RS-485 bus (1)\n"
		"  --packs N           pb: N packs 1..15 on the bus, each with its own model (1)\n"
		"  --first-address A   pb: the packs answer at A, A+1, ... (1)\n"
		"  --master[=S]        pb: the first pack is a bus master at address 0: it answers\n"
		"                      nothing; every S seconds (5) it polls the slaves, looks for\n"
		"                      one more, and broadcasts its live and settings frames\n"
		"  --soc PCT           initial SoC (60)\n"
		"  --capacity AH       nominal and actual capacity, 1..2000 (280)\n"
		"  --current A         load/charger current, + = charging (0)\n"
		"  --fault MODE[:ARG]  none silent garbage badcrc truncated split[:pieces] slow[:ms]\n"
		"                      echo noapply late[:ms] pad random[:percent]\n"
		"                      (pad: a 00 byte after the frame, before a PB acknowledgement)\n"
		"                      (noapply: acknowledge writes, do not apply them; late: apply\n"
		"                      a write, then stay silent for ms (3000))\n"
		"  --speed X           model time runs X times faster (1)\n"
		"  --seed N            random seed (faults, cell noise, SoC drift)\n"
		"  --id TEXT           user data set in the JK app (default: factory \"Input Userdata\")\n"
		"  --device-id TEXT    the device id 0xB4 alone (8 characters, kept as typed)\n"
		"  --exit-on-eof       exit when stdin closes\n"
		"  --scenario NAME     full-charge (a DVCC charger fills a pack with one high cell),\n"
		"                      cold-morning (charging from -5 C as the day warms),\n"
		"                      rogue-charger (a charger that ignores DVCC, one high cell),\n"
		"                      open-lead (the last cell reads 0 mV and runs high while a\n"
		"                      DVCC charger charges), soc-drift (float with the reported\n"
		"                      SoC wandering 85..100 %%), noisy-cells (+-5 mV noise,\n"
		"                      2 mOhm per cell, a DVCC charger near full)\n"
		"  --dvcc-service NAME battery service the DVCC charger reads (default: the first)\n"
		"  --trace FILE        write the monotonic time (ns) of each reply's last byte\n"
		"Commands on stdin, one per line (answered with \"ok\" or \"error\"):\n"
		"  status | fault MODE [ARG] | current A | sine AMP PERIOD_S | soc PCT\n"
		"  temp mosfet|t1|t2|ambient C | high CELL MV | alarm MASK\n"
		"  fet charge|discharge 0|1 | disconnect SECONDS | quit\n"
		"  charger none|dvcc|rogue [MAX_A] | load A | limits CVL_V CCL_A (instead of D-Bus)\n"
		"  unmeasured CELL|all|0 (open sense lead: reads 0 mV, the pack voltage keeps it;\n"
		"  0 = all measured again) | socdrift MIN MAX | socdrift off (reported SoC walks\n"
		"  between MIN and MAX %%) | noise MV (+-MV on each cell, each frame; 0 = off)\n"
		"  resistance MOHM (per cell)\n"
		"PB mode: \"pack ADDR COMMAND\" runs COMMAND (any above but disconnect/quit, and\n"
		"  fault) for the pack at ADDR only; without the prefix a command acts on every\n"
		"  pack. status: the bus (pack ADDR status: that pack). alarm MASK sets PB alarm\n"
		"  bits (32-bit, live offset 166). master on|off pauses/resumes the master.\n");
}

bool sim_control_scenario(struct sim_model *m, const char *name)
{
	unsigned last = m->cells - 1;

	if (strcmp(name, "full-charge") == 0) {
		/* Nearly full, one cell 30 mV high, a 60 A DVCC charger. */
		m->soc = 0.90;
		m->cell_extra_mv[4] = 30;
		m->charger = SIM_CHARGER_DVCC;
		m->charger_max_a = 60;
	} else if (strcmp(name, "cold-morning") == 0) {
		scenario_cold_morning(m);
	} else if (strcmp(name, "rogue-charger") == 0) {
		/* A charger outside DVCC pushing 30 A into a full pack with one
		 * high cell, and a 10 A load. */
		m->soc = 0.97;
		m->cell_extra_mv[4] = 100;
		m->charger = SIM_CHARGER_ROGUE;
		m->charger_max_a = 30;
		m->load_a = 10;
	} else if (strcmp(name, "open-lead") == 0) {
		/* The last cell's sense lead is open (it reads 0 mV) and that
		 * cell runs high: ~130 mV above the others at the start, rising
		 * past +300 mV as a 40 A DVCC charger fills the pack. Only the
		 * pack voltage shows it. */
		m->soc = 0.85;
		m->cell_unmeasured[last] = true;
		m->cell_soc_offset[last] = 0.05;
		m->cell_extra_mv[last] = 120;
		m->charger = SIM_CHARGER_DVCC;
		m->charger_max_a = 40;
	} else if (strcmp(name, "soc-drift") == 0) {
		/* A full pack held in float by a 40 A DVCC charger with a 2 A
		 * load, while the SoC the BMS reports wanders 85..100 %. */
		m->soc = 0.97;
		m->charger = SIM_CHARGER_DVCC;
		m->charger_max_a = 40;
		m->load_a = 2;
		sim_model_soc_drift(m, 85, 100);
	} else if (strcmp(name, "noisy-cells") == 0) {
		/* Cell readings jitter +-5 mV, 2 mOhm per cell, a 60 A DVCC
		 * charger near the end of a charge. */
		m->soc = 0.92;
		m->noise_mv = 5;
		m->resistance_mohm = 2;
		m->charger = SIM_CHARGER_DVCC;
		m->charger_max_a = 60;
	} else {
		return false;
	}
	return true;
}

static int temp_index(const char *name)
{
	if (strcmp(name, "mosfet") == 0)
		return BMS_TEMP_MOSFET;
	if (strcmp(name, "t1") == 0)
		return BMS_TEMP_T1;
	if (strcmp(name, "t2") == 0)
		return BMS_TEMP_T2;
	return -1;
}

static void cmd_temp(struct sim_model *m, const char *sensor, double v, char *answer, size_t size)
{
	int i = temp_index(sensor);

	if (strcmp(sensor, "ambient") == 0) {
		m->ambient_c = v;
		for (int k = 0; k < BMS_TEMP_COUNT; k++)
			m->temp_c[k] = m->temp_override[k] ? m->temp_c[k] : v;
	} else if (i >= 0) {
		m->temp_c[i] = v;
		m->temp_override[i] = true;
	} else {
		sim_answer(answer, size, "error unknown sensor %s", sensor);
		return;
	}
	sim_answer(answer, size, "ok temp %s %.1f", sensor, v);
}

static void cmd_charger(struct sim_model *m, int n, const char *kind, const char *max, char *answer, size_t size)
{
	if (strcmp(kind, "none") == 0) {
		m->charger = SIM_CHARGER_NONE;
	} else if (strcmp(kind, "dvcc") == 0) {
		m->charger = SIM_CHARGER_DVCC;
	} else if (strcmp(kind, "rogue") == 0) {
		m->charger = SIM_CHARGER_ROGUE;
	} else {
		sim_answer(answer, size, "error unknown charger %s", kind);
		return;
	}
	if (n == 3)
		m->charger_max_a = atof(max);
	sim_answer(answer, size, "ok charger %s %.1f", kind, m->charger_max_a);
}

/* unmeasured CELL (1-based) | all | 0 (every lead measured again) */
static void cmd_unmeasured(struct sim_model *m, const char *which, char *answer, size_t size)
{
	bool all = strcmp(which, "all") == 0;
	char *end;
	long cell = strtol(which, &end, 10);

	if (!all && (*end || cell < 0 || cell > (long)m->cells)) {
		sim_answer(answer, size, "error unmeasured CELL: 1..%u, all, or 0 to end", m->cells);
		return;
	}
	for (unsigned i = 0; i < m->cells; i++) {
		if (all || cell == 0)
			m->cell_unmeasured[i] = all;
	}
	if (cell > 0)
		m->cell_unmeasured[cell - 1] = true;
	sim_answer(answer, size, "ok unmeasured %s", which);
}

/* socdrift MIN MAX | socdrift off */
static void cmd_socdrift(struct sim_model *m, int n, const char *lo, const char *hi, char *answer, size_t size)
{
	double a, b;

	if (n == 2 && strcmp(lo, "off") == 0) {
		sim_model_soc_drift(m, -1, 0);
		sim_answer(answer, size, "ok socdrift off");
	} else if (n == 3 && sscanf(lo, "%lf", &a) == 1 && sscanf(hi, "%lf", &b) == 1 && a >= 0 &&
		   sim_model_soc_drift(m, a, b)) {
		sim_answer(answer, size, "ok socdrift %.1f %.1f", a, b);
	} else {
		sim_answer(answer, size, "error socdrift MIN MAX (0 <= MIN < MAX <= 100) or socdrift off");
	}
}

/* The commands with one number: false when cmd is none of them. */
static bool cmd_number(struct sim_model *m, const char *cmd, double v, char *answer, size_t size)
{
	static const struct {
		const char *name;
		double lo, hi;
	} range[] = {
		{ "current", -1e4, 1e4 }, { "soc", 0, 100 },         { "load", -1e4, 1e4 },
		{ "noise", 0, 500 },      { "resistance", 0, 1000 },
	};
	size_t k = 0, n = sizeof(range) / sizeof(range[0]);

	while (k < n && strcmp(cmd, range[k].name) != 0)
		k++;
	if (k == n)
		return false;
	if (!(v >= range[k].lo && v <= range[k].hi)) {
		sim_answer(answer, size, "error %s: %g..%g", cmd, range[k].lo, range[k].hi);
		return true;
	}
	if (k == 0)
		m->current_a = v;
	else if (k == 1)
		m->soc = v / 100;
	else if (k == 2)
		m->load_a = v;
	else if (k == 3)
		m->noise_mv = v;
	else
		m->resistance_mohm = v;
	sim_answer(answer, size, "ok %s %.2f", cmd, v);
	return true;
}

bool sim_control_command(struct sim_model *m, const char *line, char *answer, size_t size)
{
	char a[32] = "", b[32] = "", c[32] = "";
	int n = sscanf(line, "%31s %31s %31s", a, b, c);
	double v = 0;
	int cell = n >= 2 ? atoi(b) : 0;

	if (n <= 0)
		return false;
	if (n == 2 && sscanf(b, "%lf", &v) == 1 && cmd_number(m, a, v, answer, size)) {
		return true;
	} else if (strcmp(a, "sine") == 0 && n == 3 && sscanf(b, "%lf", &v) == 1) {
		m->sine_amp_a = v;
		m->sine_period_s = atof(c);
		sim_answer(answer, size, "ok sine");
	} else if (strcmp(a, "temp") == 0 && n == 3 && sscanf(c, "%lf", &v) == 1) {
		cmd_temp(m, b, v, answer, size);
	} else if (strcmp(a, "high") == 0 && n == 3 && cell >= 1 && (unsigned)cell <= m->cells) {
		m->cell_extra_mv[cell - 1] = atof(c);
		sim_answer(answer, size, "ok high %d %s", cell, c);
	} else if (strcmp(a, "alarm") == 0 && n == 2) {
		m->forced_alarms = (uint16_t)strtoul(b, NULL, 0);
		sim_answer(answer, size, "ok alarm 0x%04X", m->forced_alarms);
	} else if (strcmp(a, "fet") == 0 && n == 3 && (strcmp(b, "charge") == 0 || strcmp(b, "discharge") == 0)) {
		if (strcmp(b, "charge") == 0)
			m->charge_switch = atoi(c) != 0;
		else
			m->discharge_switch = atoi(c) != 0;
		sim_answer(answer, size, "ok fet %s %d", b, atoi(c) != 0);
	} else if (strcmp(a, "charger") == 0 && n >= 2) {
		cmd_charger(m, n, b, c, answer, size);
	} else if (strcmp(a, "unmeasured") == 0 && n == 2) {
		cmd_unmeasured(m, b, answer, size);
	} else if (strcmp(a, "socdrift") == 0 && n >= 2) {
		cmd_socdrift(m, n, b, c, answer, size);
	} else {
		return false;
	}
	return true;
}
