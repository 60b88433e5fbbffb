/* SPDX-License-Identifier: MIT */
/*
 * The JK PB family as a driver (bms_driver.h) over its codec
 * (docs/protocol-pb.md): packs at addresses 1..15 on one RS-485 bus. A unit
 * reads its settings and device info once (setup), then live data every
 * poll; each reply names its sender in the acknowledgement behind it.
 * No MOSFET writes: no source confirms how a pack answers one
 * (docs/protocol-pb.md "Writes"), so control stays with the limits.
 */
#include <string.h>

#include "bms_driver.h"

/* docs/protocol-pb.md "Timing": about 120 ms between commands; a reply
 * starts within 50 ms, so 250 ms of silence is a missing pack. */
#define PB_MIN_GAP_MS 120
#define PB_REPLY_TIMEOUT_MS 250
/* The settings again every 30 s: a change made in the JK app (OVP, the
 * over-current protections, a chemistry preset) reaches the limits within
 * that, at one extra request per pack (docs/protocol-pb.md "Timing"). */
#define PB_SETTINGS_REFRESH_MS 30000

/* Setup: the settings the limits derive from, then the identity. Some
 * firmware skips device info now and then: it may go unanswered. */
static const uint8_t setup_types[] = { PB_TYPE_SETTINGS, PB_TYPE_INFO };

static int read_request(uint8_t addr, uint8_t *out, size_t size)
{
	return pb_build_trigger(addr, PB_TYPE_LIVE, out, size);
}

static int setup_request(uint8_t addr, unsigned step, uint8_t *out, size_t size)
{
	if (step >= sizeof(setup_types))
		return 0;
	return pb_build_trigger(addr, setup_types[step], out, size);
}

/* After polls missed in a row: the settings trigger just before the live
 * one. Some firmware (15.36 and later) was reported to answer live data
 * only right after another request (docs/protocol-pb.md "Timing"). */
static int activate_request(uint8_t addr, uint8_t *out, size_t size)
{
	return pb_build_trigger(addr, PB_TYPE_SETTINGS, out, size);
}

static int no_request(uint8_t addr, uint8_t *out, size_t size)
{
	(void)addr, (void)out, (void)size;
	return 0;
}

static void rx_reset(struct bms_rx *rx)
{
	pb_rx_reset(&rx->u.pb);
}

static size_t rx_pending(const struct bms_rx *rx)
{
	return pb_rx_pending(&rx->u.pb);
}

static uint64_t rx_junk(const struct bms_rx *rx)
{
	return rx->u.pb.junk_bytes;
}

static int rx_feed(struct bms_rx *rx, const uint8_t *data, size_t len, size_t *used, struct bms_frame *out,
		   struct codec_error *err)
{
	struct pb_frame f;
	int r = pb_feed(&rx->u.pb, data, len, used, &f, err);

	if (r == 1) {
		memcpy(out->data, f.data, PB_FRAME_LEN);
		out->len = PB_FRAME_LEN;
		out->addr = f.addr;
	}
	return r;
}

static enum bms_reply decode(const struct bms_frame *f, struct bms_snapshot *snap, struct codec_error *err)
{
	int r = pb_decode(f->data, f->len, snap, err);

	if (r < 0)
		return BMS_REPLY_BAD;
	return r == PB_TYPE_LIVE ? BMS_REPLY_DATA : BMS_REPLY_SETUP;
}

/* Never asked (no writes); the live state is what it would read. */
static bool fet_shows(const struct bms_snapshot *s, enum bms_fet fet, bool on)
{
	bool live = s->status & (fet == BMS_FET_CHARGE ? BMS_STATUS_CHARGE_FET : BMS_STATUS_DISCHARGE_FET);

	return live == on;
}

const struct bms_driver bms_driver_pb = {
	.name = "pb",
	.read_request = read_request,
	.activate_request = activate_request,
	.unlock_request = no_request,
	.write_request = NULL, /* no writes */
	.write_forms = 1,
	.setup_request = setup_request,
	.setup_optional = 1u << 1, /* device info */
	.refresh_ms = PB_SETTINGS_REFRESH_MS,
	.refresh_steps = 1, /* the settings */
	.min_gap_ms = PB_MIN_GAP_MS,
	.reply_timeout_ms = PB_REPLY_TIMEOUT_MS,
	.rx_reset = rx_reset,
	.rx_pending = rx_pending,
	.rx_junk = rx_junk,
	.rx_feed = rx_feed,
	.decode = decode,
	.fet_shows = fet_shows,
};
