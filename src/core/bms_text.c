/* SPDX-License-Identifier: MIT */
/* Human-readable rendering of a snapshot: what a user checks wiring with. */
#include "bms_text.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "strbuf.h"

static const char *const alarm_text[14] = {
	"low capacity",
	"MOSFET over-temperature",
	"charge over-voltage",
	"discharge under-voltage",
	"battery over-temperature",
	"charge over-current",
	"discharge over-current",
	"cell voltage difference",
	"box over-temperature",
	"low temperature",
	"cell over-voltage",
	"cell under-voltage",
	"309_A",
	"309_B",
};

int bms_text_format(const struct bms_snapshot *s, char *buf, size_t size)
{
	struct strbuf o;

	strbuf_init(&o, buf, size);
	const struct bms_settings *c = &s->settings;
	unsigned imin = 0, imax = 0;

	for (unsigned i = 0; i < s->cell_count; i++) {
		if (s->cell_mv[i] && (s->cell_mv[imin] == 0 || s->cell_mv[i] < s->cell_mv[imin]))
			imin = i;
		if (s->cell_mv[i] > s->cell_mv[imax])
			imax = i;
	}
	if (s->protocol == BMS_PROTOCOL_PB)
		strbuf_printf(&o, "JK PB %s, hardware %s, software %s, serial %s, address %u\n",
			      s->pb.model[0] ? s->pb.model : "(no model)", s->pb.hardware, s->pb.software,
			      s->pb.serial[0] ? s->pb.serial : "-", (unsigned)s->pb.address);
	else
		strbuf_printf(&o, "JK-BMS %s, protocol version %u\n",
			      s->software_version[0] ? s->software_version : "(no version)", s->protocol_version);
	strbuf_printf(&o, "Pack:    %.2f V  %+.2f A  %+.1f W  SoC %u %%  cycles %u  capacity %u Ah\n",
		      s->voltage_mv / 1000.0, s->current_ma / 1000.0, (double)s->voltage_mv * s->current_ma / 1e6,
		      s->soc_pct, s->cycles, (unsigned)c->capacity_ah);
	strbuf_printf(&o, "Cells:   %u:", s->cell_count);
	for (unsigned i = 0; i < s->cell_count; i++) {
		if (s->cell_mv[i])
			strbuf_printf(&o, " %.3f", s->cell_mv[i] / 1000.0);
		else
			strbuf_printf(&o, " missing");
	}
	strbuf_printf(&o, "\n         min %.3f V (cell %u), max %.3f V (cell %u), difference %.3f V\n",
		      s->cell_mv[imin] / 1000.0, imin + 1, s->cell_mv[imax] / 1000.0, imax + 1,
		      (s->cell_mv[imax] - s->cell_mv[imin]) / 1000.0);
	if (s->protocol == BMS_PROTOCOL_PB)
		strbuf_printf(&o, "Temps:   MOSFET %.1f C, T1 %.1f C, T2 %.1f C\n", s->pb.temp_dc[0] / 10.0,
			      s->pb.temp_dc[1] / 10.0, s->pb.temp_dc[2] / 10.0);
	else
		strbuf_printf(&o, "Temps:   MOSFET %d C, T1 %d C, T2 %d C\n", s->temp_c[BMS_TEMP_MOSFET],
			      s->temp_c[BMS_TEMP_T1], s->temp_c[BMS_TEMP_T2]);
	strbuf_printf(&o, "FETs:    charge %s, discharge %s, balancing %s\n",
		      s->status & BMS_STATUS_CHARGE_FET ? "on" : "off",
		      s->status & BMS_STATUS_DISCHARGE_FET ? "on" : "off",
		      s->status & BMS_STATUS_BALANCING ? "yes" : "no");
	strbuf_printf(&o, "Alarms:  ");
	if (!s->alarms)
		strbuf_printf(&o, "none");
	for (unsigned i = 0, n = 0; i < 16; i++) {
		if (s->alarms & (1u << i))
			strbuf_printf(&o, "%s%s", n++ ? ", " : "", i < 14 ? alarm_text[i] : "reserved");
	}
	strbuf_printf(&o, "\nLimits:  cell OVP %.3f/%.3f V, UVP %.3f/%.3f V, charge OCP %u A, discharge OCP %u A\n",
		      c->cell_ovp_mv / 1000.0, c->cell_ovpr_mv / 1000.0, c->cell_uvp_mv / 1000.0,
		      c->cell_uvpr_mv / 1000.0, c->charge_ocp_a, c->discharge_ocp_a);
	return strbuf_result(&o);
}
