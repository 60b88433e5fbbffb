/* SPDX-License-Identifier: MIT */
/*
 * The first things a user runs to check wiring: one poll of a device
 * (through the same link as the service), and a list of serial ports.
 */
#define G_LOG_DOMAIN "tool"

#include "tool_link.h"

#include <glib.h>
#include <string.h>

#include "bms_json.h"
#include "bms_text.h"
#include "link.h"
#include "transport.h"

struct once {
	GMainLoop *loop;
	bool got;
	bool gave_up;
	struct bms_snapshot snap;
};

static void once_snapshot(void *ud, const struct bms_snapshot *s)
{
	struct once *o = ud;

	o->snap = *s;
	o->got = true;
	g_main_loop_quit(o->loop);
}

static void once_state(void *ud, enum poller_link old, enum poller_link now)
{
	struct once *o = ud;

	(void)old;
	if (now == POLLER_LINK_LOST) {
		o->gave_up = true;
		g_main_loop_quit(o->loop);
	}
}

static void explain_failure(const struct link *l, const char *device, FILE *err)
{
	const struct link_counters *c = link_counters(l);
	const struct poller_counters *p = link_poller_counters(l);
	uint64_t rejected = link_rejects_total(c);

	if (rejected) {
		fprintf(err, "%s: garbage: %llu frame(s) rejected:", device, (unsigned long long)rejected);
		for (int i = 1; i < CODEC_REJECT_COUNT; i++) {
			if (c->rejects[i])
				fprintf(err, " %llu x %s;", (unsigned long long)c->rejects[i],
					codec_reject_name((enum codec_reject)i));
		}
		fprintf(err, " %llu byte(s) skipped\n", (unsigned long long)c->junk_bytes);
	} else if (c->bytes_in) {
		fprintf(err,
			"%s: garbage: %llu byte(s) received but no JK-BMS frame in them (wrong baud rate or "
			"protocol?)\n",
			device, (unsigned long long)c->bytes_in);
	} else {
		fprintf(err,
			"%s: no answer to %llu request(s): check the wiring (adapter TX to BMS RX, RX to TX, "
			"GND; 3.3 V TTL; never connect VBAT) and the baud rate\n",
			device, (unsigned long long)p->polls + p->retries);
	}
}

int tool_once(const char *device, unsigned baud, bool json, FILE *out, FILE *err)
{
	struct link_config cfg;
	struct link *l = NULL;
	struct once o = { 0 };
	struct link_events ev = { .snapshot = once_snapshot, .state = once_state };

	link_config_default(&cfg);
	cfg.device = device;
	cfg.baud = baud;
	cfg.poll.interval_ms = 600;
	cfg.poll.warning_ms = 2000;
	cfg.poll.lost_ms = 3000; /* give up after 3 s without a valid reply */
	int r = link_new(&cfg, &ev, &o, &l);

	if (r < 0) {
		fprintf(err, "%s: cannot open: %s\n", device, g_strerror(-r));
		return 1;
	}
	o.loop = g_main_loop_new(NULL, FALSE);
	link_start(l);
	g_main_loop_run(o.loop);
	g_main_loop_unref(o.loop);

	int ret = 0;

	if (o.got) {
		char buf[BMS_JSON_MAX > BMS_TEXT_MAX ? BMS_JSON_MAX : BMS_TEXT_MAX];

		if (json)
			bms_json_format(&o.snap, buf, sizeof(buf));
		else
			bms_text_format(&o.snap, buf, sizeof(buf));
		fprintf(out, json ? "%s\n" : "%s", buf);
	} else {
		explain_failure(l, device, err);
		ret = 1;
	}
	link_free(l);
	return ret;
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
