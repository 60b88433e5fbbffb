/* SPDX-License-Identifier: MIT */
/*
 * The stdin commands of jkbms-sim's PB mode (see sim_pb.h): "pack ADDR
 * COMMAND" acts on one pack; a model command, fault, alarm or limits
 * without the prefix acts on every pack; status and master act on the bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_control.h"
#include "sim_link.h"
#include "sim_pb.h"

static void pack_status(const struct sim_pb_pack *p, char *answer, size_t size)
{
	struct bms_snapshot snap;
	unsigned vmax = 0;

	sim_model_snapshot(&p->model, &snap);
	for (unsigned i = 0; i < snap.cell_count; i++)
		vmax = snap.cell_mv[i] > vmax ? snap.cell_mv[i] : vmax;
	sim_answer(answer, size,
		   "status address=%u master=%d soc=%.2f reported_soc=%u current=%.2f max_cell_mv=%u "
		   "charge_switch=%d discharge_switch=%d charge_fet=%d discharge_fet=%d forced_alarms=%u "
		   "temp_t1=%.1f requests=%lu live=%lu settings=%lu info=%lu replies=%lu writes_applied=%lu "
		   "writes_ignored=%lu faults=%lu fault=%s f_silent=%lu f_garbage=%lu f_badcrc=%lu f_truncated=%lu "
		   "f_split=%lu f_slow=%lu f_echo=%lu f_late=%lu f_pad=%lu",
		   p->address, p->master, p->model.soc * 100, snap.soc_pct, p->model.current_actual_a, vmax,
		   p->model.charge_switch, p->model.discharge_switch, (snap.status & BMS_STATUS_CHARGE_FET) != 0,
		   (snap.status & BMS_STATUS_DISCHARGE_FET) != 0, p->forced_alarms, p->model.temp_c[BMS_TEMP_T1],
		   p->requests, p->live, p->settings, p->info, p->replies, p->writes_applied, p->writes_ignored,
		   p->f.total, sim_fault_names[p->f.mode], p->f.count[FAULT_SILENT], p->f.count[FAULT_GARBAGE],
		   p->f.count[FAULT_BADCRC], p->f.count[FAULT_TRUNCATED], p->f.count[FAULT_SPLIT],
		   p->f.count[FAULT_SLOW], p->f.count[FAULT_ECHO], p->f.count[FAULT_LATE], p->f.count[FAULT_PAD]);
}

static void bus_status(const struct sim *s, char *answer, size_t size)
{
	const struct sim_pb *b = &s->pbus;
	unsigned long replies = 0;

	for (unsigned i = 0; i < b->count; i++)
		replies += b->packs[i].replies;
	sim_answer(answer, size,
		   "status protocol=pb packs=%u requests=%lu unanswered=%lu ignored=%lu dropped=%lu replies=%lu "
		   "broadcasts=%lu master_polls=%lu master=%d connected=%d",
		   b->count, b->requests, b->unanswered, b->ignored, b->dropped, replies, b->broadcasts,
		   b->master_polls, b->master_period_ms > 0 && b->master_on, s->master >= 0);
}

/* One command for one pack. */
static void pack_command(struct sim *s, struct sim_pb_pack *p, const char *line, char *answer, size_t size)
{
	char a[32] = "", b[32] = "", c[32] = "";
	int n = sscanf(line, "%31s %31s %31s", a, b, c);

	if (n >= 1 && strcmp(a, "status") == 0) {
		pack_status(p, answer, size);
	} else if (n >= 2 && strcmp(a, "fault") == 0) {
		if (sim_faults_set(&p->f, b, n >= 3 ? (unsigned)atoi(c) : 0))
			sim_answer(answer, size, "ok fault %s", sim_fault_names[p->f.mode]);
		else
			sim_answer(answer, size, "error unknown fault %s", b);
	} else if (n == 2 && strcmp(a, "alarm") == 0) {
		p->forced_alarms = (uint32_t)strtoul(b, NULL, 0);
		sim_answer(answer, size, "ok alarm 0x%08X", p->forced_alarms);
	} else if (n == 3 && strcmp(a, "limits") == 0) {
		p->model.charger_cvl_v = atof(b);
		p->model.charger_ccl_a = atof(c);
		s->dvcc.from_bus = false;
		sim_answer(answer, size, "ok limits %.2f V %.1f A", p->model.charger_cvl_v, p->model.charger_ccl_a);
	} else if (!sim_control_command(&p->model, line, answer, size)) {
		sim_answer(answer, size, "error unknown command: %s", line);
	}
}

/* "pack ADDR COMMAND" */
static void one_pack(struct sim *s, const char *line, char *answer, size_t size)
{
	char *end;
	long addr = strtol(line + 4, &end, 10);
	struct sim_pb_pack *p = end != line + 4 && addr >= 0 && addr <= 255 ? sim_pb_find(&s->pbus, (unsigned)addr)
									    : NULL;

	while (*end == ' ')
		end++;
	if (!p)
		sim_answer(answer, size, "error pack ADDR COMMAND: no pack at address %.8s", line + 4);
	else if (!*end)
		sim_answer(answer, size, "error pack %ld: which command?", addr);
	else
		pack_command(s, p, end, answer, size);
}

bool sim_pb_command(struct sim *s, const char *line, char *answer, size_t size)
{
	struct sim_pb *b = &s->pbus;
	char a[32] = "", arg[32] = "";
	int n = sscanf(line, "%31s %31s", a, arg);

	if (n <= 0 || strcmp(a, "disconnect") == 0 || strcmp(a, "quit") == 0)
		return false;
	if (strcmp(a, "pack") == 0) {
		one_pack(s, line, answer, size);
	} else if (strcmp(a, "status") == 0) {
		bus_status(s, answer, size);
	} else if (strcmp(a, "master") == 0 && n == 2 && (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)) {
		if (!b->master_period_ms) {
			sim_answer(answer, size, "error master: start with --master to have one");
		} else {
			b->master_on = strcmp(arg, "on") == 0;
			b->next_broadcast_ms = 0;
			sim_answer(answer, size, "ok master %s", arg);
		}
	} else {
		/* Every pack; the first answer that is an error, else the last. */
		char one[256];

		for (unsigned i = 0; i < b->count; i++) {
			pack_command(s, &b->packs[i], line, one, sizeof(one));
			if (i == 0 || strncmp(answer, "error", 5) != 0)
				sim_answer(answer, size, "%s", one);
		}
	}
	return true;
}
