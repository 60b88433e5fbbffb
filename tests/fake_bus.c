/* SPDX-License-Identifier: MIT */
/*
 * A BMS family of the tests' own and the BMSs that speak it on a real
 * pseudo-terminal: several addresses on one bus, each answering with its
 * address, a SoC of 50 + address and its T1 (any value, or none), unless
 * made silent. For tests of the
 * link and the port with several units (docs/architecture.md "Drivers").
 */
#define _GNU_SOURCE
#include "fake_bus.h"

#include "sim_model.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The test family: request F0 addr 0F; reply E0 addr soc t1 0E (t1 a signed
 * byte, 0x80 = no reading); write F1 addr
 * (fet << 1 | on) 0F, answered by the next reply. */
enum {
	REQ = 0xF0,
	WRITE = 0xF1,
	REQ_END = 0x0F,
	REP = 0xE0,
	REP_END = 0x0E
};

struct test_rx {
	uint8_t buf[5];
	size_t len;
};

static int read_request(uint8_t addr, uint8_t *out, size_t size)
{
	if (size < 3)
		return -ENOSPC;
	out[0] = REQ, out[1] = addr, out[2] = REQ_END;
	return 3;
}

static int no_request(uint8_t addr, uint8_t *out, size_t size)
{
	(void)addr, (void)out, (void)size;
	return 0;
}

static int write_request(uint8_t addr, enum bms_fet fet, bool on, unsigned form, uint8_t *out, size_t size)
{
	(void)form;
	if (size < 4)
		return -ENOSPC;
	out[0] = WRITE, out[1] = addr, out[2] = (uint8_t)(fet << 1 | on), out[3] = REQ_END;
	return 4;
}

static void rx_reset(struct bms_rx *rx)
{
	((struct test_rx *)rx)->len = 0;
}

static size_t rx_pending(const struct bms_rx *rx)
{
	return ((const struct test_rx *)rx)->len;
}

static uint64_t rx_junk(const struct bms_rx *rx)
{
	(void)rx;
	return 0;
}

static int rx_feed(struct bms_rx *rx, const uint8_t *data, size_t len, size_t *used, struct bms_frame *out,
		   struct codec_error *err)
{
	struct test_rx *r = (struct test_rx *)rx;

	(void)err;
	for (*used = 0; *used < len;) {
		uint8_t b = data[(*used)++];

		if (r->len == 0 && b != REP)
			continue;
		r->buf[r->len++] = b;
		if (r->len == sizeof(r->buf)) {
			r->len = 0;
			memcpy(out->data, r->buf, sizeof(r->buf));
			out->len = sizeof(r->buf);
			out->addr = r->buf[1]; /* the sender, as a PB frame carries it */
			return 1;
		}
	}
	return 0;
}

static enum bms_reply decode(const struct bms_frame *f, struct bms_snapshot *snap, struct codec_error *err)
{
	(void)err;
	memset(snap, 0, sizeof(*snap));
	snap->cell_count = 1;
	snap->cell_mv[0] = 3300;
	snap->voltage_mv = 3300;
	snap->soc_pct = f->data[2];
	snap->temp_c[BMS_TEMP_MOSFET] = snap->temp_c[BMS_TEMP_T1] = snap->temp_c[BMS_TEMP_T2] = 20;
	snap->temp_sensor_count = 2;
	if ((int8_t)f->data[3] == FAKE_BUS_T1_MISSING)
		snap->temp_missing = 1u << BMS_TEMP_T1;
	else
		snap->temp_c[BMS_TEMP_T1] = (int8_t)f->data[3];
	sim_lfp_settings(&snap->settings, 1); /* a plausible LiFePO4 BMS */
	snap->settings.board_address = f->data[1];
	snap->status = BMS_STATUS_CHARGE_FET | BMS_STATUS_DISCHARGE_FET;
	return BMS_REPLY_DATA;
}

static bool fet_shows(const struct bms_snapshot *s, enum bms_fet fet, bool on)
{
	(void)s, (void)fet;
	return on;
}

const struct bms_driver fake_bus_driver = {
	.name = "test",
	.read_request = read_request,
	.activate_request = no_request,
	.unlock_request = no_request,
	.write_request = write_request,
	.write_forms = 1,
	.rx_reset = rx_reset,
	.rx_pending = rx_pending,
	.rx_junk = rx_junk,
	.rx_feed = rx_feed,
	.decode = decode,
	.fet_shows = fet_shows,
};

/* ---- the bus and three units ------------------------------------------- */

static void answer(struct fake_bus *b, uint8_t addr)
{
	uint8_t reply[5] = { REP, addr, (uint8_t)(50 + addr), (uint8_t)b->t1[addr], REP_END };

	if (write(b->master, reply, sizeof(reply)) != (ssize_t)sizeof(reply))
		b->write_errors++;
}

/* The BMSs on the bus: every request is answered at once, except by a
 * silent address; a write is answered by nothing (its read-back is). */
static gboolean master_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct fake_bus *b = data;
	uint8_t buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)cond;
	for (ssize_t i = 0; i + 2 < n; i++) {
		if ((buf[i] != REQ && buf[i] != WRITE) || (buf[i] == REQ && buf[i + 2] != REQ_END))
			continue;
		uint8_t addr = buf[i + 1];

		if (buf[i] == WRITE)
			continue;
		int64_t now = g_get_monotonic_time();

		b->requests[addr]++;
		/* Another request while the last was unanswered and not yet
		 * given up on would collide on a bus. */
		if (b->outstanding && b->outstanding_addr != addr &&
		    now - b->outstanding_us < (int64_t)b->reply_timeout_ms * 1000 - 20000)
			b->overlaps++;
		b->outstanding = b->silent[addr];
		b->outstanding_addr = addr;
		b->outstanding_us = now;
		if (!b->silent[addr])
			answer(b, addr);
	}
	return G_SOURCE_CONTINUE;
}

int fake_bus_open(struct fake_bus *b, uint32_t reply_timeout_ms)
{
	memset(b, 0, sizeof(*b));
	b->reply_timeout_ms = reply_timeout_ms;
	memset(b->t1, 20, sizeof(b->t1));
	b->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (b->master < 0 || grantpt(b->master) < 0 || unlockpt(b->master) < 0)
		return -errno;
	snprintf(b->path, sizeof(b->path), "%s", ptsname(b->master));
	b->watch = g_unix_fd_add(b->master, G_IO_IN, master_cb, b);
	return 0;
}

void fake_bus_close(struct fake_bus *b)
{
	if (b->watch)
		g_source_remove(b->watch);
	if (b->master >= 0)
		close(b->master);
	b->watch = 0;
	b->master = -1;
}
