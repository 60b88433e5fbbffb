/* SPDX-License-Identifier: MIT */
/*
 * The first things a user runs to check wiring: one poll of a device
 * (through the same link as the service), and a list of serial ports.
 */
#define G_LOG_DOMAIN "tool"

#include "tool_link.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "bms_json.h"
#include "bms_text.h"
#include "link.h"
#include "probe.h"
#include "transport.h"

/* One poll of every unit of a port: a reply each, or a lost link. */
struct once;

struct once_unit {
	struct once *o;
	bool got;
	bool gave_up;
	struct bms_snapshot snap;
};

struct once {
	GMainLoop *loop;
	unsigned count;
	struct once_unit units[LINK_UNITS_MAX];
};

static void once_check_done(struct once *o)
{
	for (unsigned k = 0; k < o->count; k++) {
		if (!o->units[k].got && !o->units[k].gave_up)
			return;
	}
	g_main_loop_quit(o->loop);
}

static void once_snapshot(void *ud, const struct bms_snapshot *s)
{
	struct once_unit *u = ud;

	if (!u->got)
		u->snap = *s;
	u->got = true;
	once_check_done(u->o);
}

static void once_state(void *ud, enum poller_link old, enum poller_link now)
{
	struct once_unit *u = ud;

	(void)old;
	if (now == POLLER_LINK_LOST) {
		u->gave_up = true;
		once_check_done(u->o);
	}
}

static void explain_rejects(const uint64_t *rejects, uint64_t junk, const char *device, FILE *err)
{
	uint64_t rejected = 0;

	for (int i = 1; i < CODEC_REJECT_COUNT; i++)
		rejected += rejects[i];
	fprintf(err, "%s: garbage: %llu frame(s) rejected:", device, (unsigned long long)rejected);
	for (int i = 1; i < CODEC_REJECT_COUNT; i++) {
		if (rejects[i])
			fprintf(err, " %llu x %s;", (unsigned long long)rejects[i],
				codec_reject_name((enum codec_reject)i));
	}
	fprintf(err, " %llu byte(s) skipped\n", (unsigned long long)junk);
}

/* Why nothing came: frames rejected, bytes without a frame, or silence. */
static void explain(const char *device, uint64_t rejected, const uint64_t *rejects, uint64_t junk, uint64_t bytes_in,
		    uint64_t requests, FILE *err)
{
	if (rejected) {
		explain_rejects(rejects, junk, device, err);
	} else if (bytes_in) {
		fprintf(err,
			"%s: garbage: %llu byte(s) received but no JK-BMS frame in them (wrong baud rate or "
			"protocol?)\n",
			device, (unsigned long long)bytes_in);
	} else {
		fprintf(err,
			"%s: no answer to %llu request(s): check the wiring (adapter TX to BMS RX, RX to TX, "
			"GND; 3.3 V TTL; never connect VBAT; a PB pack: RS-485 A/B/GND and an address 1..15) and "
			"the baud rate\n",
			device, (unsigned long long)requests);
	}
}

static void explain_failure(const struct link *l, const char *device, FILE *err)
{
	const struct link_counters *c = link_counters(l);
	const struct poller_counters *p = link_poller_counters(l);

	explain(device, link_rejects_total(c), c->rejects, c->junk_bytes, c->bytes_in, p->polls + p->retries, err);
}

static void print_unit(const struct once_unit *u, bool json, bool heading, uint8_t address, FILE *out)
{
	char buf[BMS_JSON_MAX > BMS_TEXT_MAX ? BMS_JSON_MAX : BMS_TEXT_MAX];

	if (heading && !json)
		fprintf(out, "Address %u:\n", address);
	if (json)
		bms_json_format(&u->snap, buf, sizeof(buf));
	else
		bms_text_format(&u->snap, buf, sizeof(buf));
	fprintf(out, json ? "%s\n" : "%s", buf);
}

/* Poll every unit once through the service's link; one block each. */
static int once_units(const struct config *c, const char *device, const struct port_units *pu, bool json, FILE *out,
		      FILE *err)
{
	struct link_config cfg;
	struct link *l = NULL;
	struct once o = { 0 };
	struct link_events ev = { .snapshot = once_snapshot, .state = once_state };

	link_config_default(&cfg);
	cfg.device = device;
	cfg.baud = c->baud;
	cfg.driver = pu->driver;
	cfg.units = pu->count;
	memcpy(cfg.addresses, pu->addresses, sizeof(pu->addresses));
	cfg.poll.interval_ms = 600;
	cfg.poll.warning_ms = 2000;
	cfg.poll.lost_ms = 3000; /* give up after 3 s without a valid reply */
	int r = link_new(&cfg, NULL, NULL, &l);

	if (r < 0) {
		fprintf(err, "%s: cannot open: %s\n", device, g_strerror(-r));
		return 1;
	}
	o.count = link_units(l);
	for (unsigned k = 0; k < o.count; k++) {
		o.units[k].o = &o;
		link_bind(l, k, &ev, &o.units[k]);
	}
	o.loop = g_main_loop_new(NULL, FALSE);
	link_start(l);
	g_main_loop_run(o.loop);
	g_main_loop_unref(o.loop);

	int ret = 0;

	for (unsigned k = 0; k < o.count; k++) {
		if (o.units[k].got) {
			print_unit(&o.units[k], json, o.count > 1, link_unit_address(l, k), out);
		} else if (o.count > 1) {
			fprintf(err, "%s: the pack at address %u stopped answering\n", device, link_unit_address(l, k));
			ret = 1;
		} else {
			explain_failure(l, device, err);
			ret = 1;
		}
	}
	link_free(l);
	return ret;
}

int tool_once(const struct config *c, const char *device, bool json, FILE *out, FILE *err)
{
	struct port_units pu;
	struct probe_stats st;
	int r;

	if (c->protocol == CONFIG_PROTOCOL_4E57) {
		port_units_single(&pu);
		return once_units(c, device, &pu, json, out, err);
	}
	r = probe_port(c, device, c->probe_timeout_ms, &pu, &st);
	if (r == -ENODEV) {
		uint64_t rejected = 0;

		for (int i = 1; i < CODEC_REJECT_COUNT; i++)
			rejected += st.rejects[i];
		explain(device, rejected, st.rejects, st.junk_bytes, st.bytes_in, st.requests, err);
		return 1;
	}
	if (r < 0) {
		fprintf(err, "%s: cannot open: %s\n", device, g_strerror(-r));
		return 1;
	}
	return once_units(c, device, &pu, json, out, err);
}

static const char *bus_text(enum transport_bus bus)
{
	switch (bus) {
	case TRANSPORT_BUS_NATIVE:
		return "native";
	case TRANSPORT_BUS_USB:
		return "usb";
	case TRANSPORT_BUS_BLUETOOTH:
		return "bluetooth";
	case TRANSPORT_BUS_UNKNOWN:
		break;
	}
	return "?";
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_port(void *user_data, const struct transport_port_info *p)
{
	FILE *out = user_data;

	fprintf(out, "%s\t%s\t%s", p->name, bus_text(p->bus), or_dash(p->description));
	if (p->bus == TRANSPORT_BUS_USB)
		fprintf(out, "\tusb %04x:%04x\tmanufacturer %s\tproduct %s\tserial %s", p->usb_vid, p->usb_pid,
			or_dash(p->usb_manufacturer), or_dash(p->usb_product), or_dash(p->usb_serial));
	fputc('\n', out);
}

int tool_list_ports(FILE *out, FILE *err)
{
	int n = transport_list_ports(print_port, out);

	if (n < 0) {
		fprintf(err, "cannot list serial ports: %s\n", g_strerror(-n));
		return 1;
	}
	if (n == 0)
		fprintf(out, "no serial ports found\n");
	return 0;
}
