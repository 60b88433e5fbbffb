/* SPDX-License-Identifier: MIT */
/*
 * The first things a user runs to check wiring: one poll of a device
 * (through the same link as the service), and a list of serial ports.
 */
#define G_LOG_DOMAIN "tool"

#include "tool_link.h"

#include <glib.h>
#include <libserialport.h>
#include <string.h>

#include "bms_json.h"
#include "bms_text.h"
#include "link.h"

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
	uint64_t rejected = 0;

	for (int i = 1; i < CODEC_REJECT_COUNT; i++)
		rejected += c->rejects[i];
	if (rejected) {
		fprintf(err, "%s: garbage: %llu frame(s) rejected:", device, (unsigned long long)rejected);
		for (int i = 1; i < CODEC_REJECT_COUNT; i++) {
			if (c->rejects[i])
				fprintf(err, " %llu x %s;", (unsigned long long)c->rejects[i],
					codec_reject_name((enum codec_reject)i));
		}
		fprintf(err, " %llu byte(s) skipped\n", (unsigned long long)c->junk_bytes);
	} else if (c->bytes_in) {
		fprintf(err, "%s: garbage: %llu byte(s) received but no JK-BMS frame in them (wrong baud rate or "
			"protocol?)\n", device, (unsigned long long)c->bytes_in);
	} else {
		fprintf(err, "%s: no answer to %llu request(s): check the wiring (adapter TX to BMS RX, RX to TX, "
			"GND; 3.3 V TTL; never connect VBAT) and the baud rate\n", device,
			(unsigned long long)p->polls + p->retries);
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

static const char *transport_text(enum sp_transport t)
{
	switch (t) {
	case SP_TRANSPORT_NATIVE: return "native";
	case SP_TRANSPORT_USB: return "usb";
	case SP_TRANSPORT_BLUETOOTH: return "bluetooth";
	}
	return "?";
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

int tool_list_ports(FILE *out, FILE *err)
{
	struct sp_port **ports = NULL;
	enum sp_return r = sp_list_ports(&ports);

	if (r != SP_OK) {
		char *msg = sp_last_error_message();

		fprintf(err, "cannot list serial ports: %s\n", r == SP_ERR_FAIL && msg ? msg : "error");
		sp_free_error_message(msg);
		return 1;
	}
	unsigned n = 0;

	for (; ports[n]; n++) {
		struct sp_port *p = ports[n];
		enum sp_transport t = sp_get_port_transport(p);

		fprintf(out, "%s\t%s\t%s", sp_get_port_name(p), transport_text(t), or_dash(sp_get_port_description(p)));
		if (t == SP_TRANSPORT_USB) {
			int vid = 0, pid = 0;

			sp_get_port_usb_vid_pid(p, &vid, &pid);
			fprintf(out, "\tusb %04x:%04x\tmanufacturer %s\tproduct %s\tserial %s", vid, pid,
				or_dash(sp_get_port_usb_manufacturer(p)), or_dash(sp_get_port_usb_product(p)),
				or_dash(sp_get_port_usb_serial(p)));
		}
		fputc('\n', out);
	}
	if (n == 0)
		fprintf(out, "no serial ports found\n");
	sp_free_port_list(ports);
	return 0;
}
