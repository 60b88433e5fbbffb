/* SPDX-License-Identifier: MIT */
/*
 * The JK "4E 57" family as a driver (bms_driver.h) over its codec
 * (docs/protocol-4e57.md): one BMS per port, so the address is not on the
 * wire; a write is a password frame then the 0xAB/0xAC frame, in the
 * ordinary or the type-02 form.
 */
#include "bms_driver.h"

#include <string.h>

#define JK_ID_CHARGE_SWITCH 0xAB
#define JK_ID_DISCHARGE_SWITCH 0xAC

/* The write forms, in the order they are tried. */
static const uint8_t forms[] = { CODEC_TYPE_REQUEST, CODEC_TYPE_UPLOAD };

static int read_request(uint8_t addr, uint8_t *out, size_t size)
{
	(void)addr;
	return codec_build_read_all(out, size);
}

static int activate_request(uint8_t addr, uint8_t *out, size_t size)
{
	(void)addr;
	return codec_build_activate(out, size);
}

static int unlock_request(uint8_t addr, uint8_t *out, size_t size)
{
	(void)addr;
	return codec_build_password(out, size);
}

static int write_request(uint8_t addr, enum bms_fet fet, bool on, unsigned form, uint8_t *out, size_t size)
{
	(void)addr;
	return codec_build_write(fet == BMS_FET_CHARGE ? JK_ID_CHARGE_SWITCH : JK_ID_DISCHARGE_SWITCH, on ? 1 : 0,
				 forms[form % sizeof(forms)], out, size);
}

static void rx_reset(struct bms_rx *rx)
{
	codec_rx_reset(&rx->u.jk4e57);
}

static size_t rx_pending(const struct bms_rx *rx)
{
	return codec_rx_pending(&rx->u.jk4e57);
}

static uint64_t rx_junk(const struct bms_rx *rx)
{
	return rx->u.jk4e57.junk_bytes;
}

static int rx_feed(struct bms_rx *rx, const uint8_t *data, size_t len, size_t *used, struct bms_frame *out,
		   struct codec_error *err)
{
	struct codec_frame f;
	int r = codec_feed(&rx->u.jk4e57, data, len, used, &f, err);

	if (r == 1) {
		memcpy(out->data, f.data, f.len);
		out->len = f.len;
		out->addr = -1; /* one BMS per port: no address on the wire */
	}
	return r;
}

static enum bms_reply decode(const struct bms_frame *f, struct bms_snapshot *snap, struct codec_error *err)
{
	if (codec_frame_command(f->data) == CODEC_CMD_WRITE)
		return BMS_REPLY_WRITE_ACK;
	return codec_decode(f->data, f->len, snap, err) < 0 ? BMS_REPLY_BAD : BMS_REPLY_DATA;
}

/* Off must show in the live FET bit: that is what protects the cells. On is
 * done when the switch setting or the live bit says so; the BMS may still
 * hold the FET off for a protection of its own. QUIRK: the vendor example
 * shows AB = AC = 0 with both FETs on, so the setting alone cannot prove an
 * "off". */
static bool fet_shows(const struct bms_snapshot *s, enum bms_fet fet, bool on)
{
	bool charge = fet == BMS_FET_CHARGE;
	bool live = s->status & (charge ? BMS_STATUS_CHARGE_FET : BMS_STATUS_DISCHARGE_FET);
	uint8_t setting = charge ? s->settings.charge_switch : s->settings.discharge_switch;

	return on ? live || setting == 1 : !live;
}

const struct bms_driver bms_driver_4e57 = {
	.name = "4e57",
	.read_request = read_request,
	.activate_request = activate_request,
	.unlock_request = unlock_request,
	.write_request = write_request,
	.write_forms = sizeof(forms),
	.rx_reset = rx_reset,
	.rx_pending = rx_pending,
	.rx_junk = rx_junk,
	.rx_feed = rx_feed,
	.decode = decode,
	.fet_shows = fet_shows,
};
