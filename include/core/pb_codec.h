/* SPDX-License-Identifier: MIT */
/*
 * The JK PB ("inverter BMS") RS-485 protocol (docs/protocol-pb.md): the
 * Modbus-RTU trigger requests, a streaming deframer for the 300-byte
 * "55 AA EB 90" frames and the FC 0x10 acknowledgement that follows each,
 * and the decoders of the live, settings and device-info frames into the
 * battery model. Pure C: no I/O, no clock, no allocation.
 */
#ifndef PB_CODEC_H
#define PB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms_types.h"
#include "codec.h"

#define PB_FRAME_LEN 300
#define PB_ACK_LEN 8
#define PB_REQUEST_LEN 11
/* Adapters may put this many 00 bytes between the frame and its ACK. */
#define PB_PAD_MAX 2
/* Addresses a slave pack can have (DIP switches; 0 is the bus master). */
#define PB_ADDR_MIN 1
#define PB_ADDR_MAX 15

/* Frame types (byte 4), one per trigger register. */
enum pb_type {
	PB_TYPE_SETTINGS = 0x01,
	PB_TYPE_LIVE = 0x02,
	PB_TYPE_INFO = 0x03,
};

#define PB_REG_INFO 0x161C
#define PB_REG_SETTINGS 0x161E
#define PB_REG_LIVE 0x1620

/* CRC-16/MODBUS (init 0xFFFF, reflected polynomial 0xA001), sent low byte first. */
uint16_t pb_crc16(const uint8_t *data, size_t len);

/* The trigger register of a frame type, 0 for an unknown type. */
uint16_t pb_trigger_register(unsigned type);

/* The 11-byte FC 0x10 trigger request for `type` to the pack at addr.
 * Returns PB_REQUEST_LEN, -ENOSPC or -EINVAL (unknown type). */
int pb_build_trigger(uint8_t addr, unsigned type, uint8_t *out, size_t size);

/* The 8-byte FC 0x10 acknowledgement a pack sends after its frame (for
 * simulators and tests). Returns PB_ACK_LEN or -ENOSPC. */
int pb_build_ack(uint8_t addr, uint16_t reg, uint8_t *out, size_t size);

/* Byte 299 of a frame: the 8-bit sum of bytes 0..298. pb_seal() writes it. */
uint8_t pb_checksum(const uint8_t *frame);
void pb_seal(uint8_t *frame);

/* Stream deframer state; zero it, then set any_ack for a reader of
 * captures (--decode): it accepts any checksum-valid acknowledgement and,
 * through pb_rx_finish(), a frame without one. The service's reader (any_ack
 * false) needs the acknowledgement that matches the frame's type. */
struct pb_rx {
	bool any_ack;
	uint8_t buf[PB_FRAME_LEN + PB_PAD_MAX + PB_ACK_LEN];
	size_t len;
	bool checked;        /* buf holds a whole frame whose checksum and type passed */
	uint64_t stream_pos; /* stream offset of buf[0] */
	uint64_t junk_bytes; /* skipped while hunting for 55 AA EB 90 */
};

/* A checksum-valid frame and who sent it. */
struct pb_frame {
	uint8_t data[PB_FRAME_LEN];
	int addr;     /* from the acknowledgement; -1 when there was none */
	uint16_t reg; /* the acknowledged register, 0 when none */
	uint64_t stream_pos;
};

/* Forget any partial frame; keeps the mode, position and junk counter. */
void pb_rx_reset(struct pb_rx *rx);
size_t pb_rx_pending(const struct pb_rx *rx);

/*
 * Feed bytes in any split; the contract of codec_feed(): 1 = *frame holds a
 * frame (call again with the rest), 0 = all input taken, more needed, < 0 =
 * a candidate was rejected (*err says why: CODEC_REJECT_CHECKSUM,
 * CODEC_REJECT_FRAME_TYPE, CODEC_REJECT_ACK) and the deframer has already
 * resynchronised, so call again. Leading junk (our own echoed request, a
 * stale acknowledgement) is skipped and counted.
 */
int pb_feed(struct pb_rx *rx, const uint8_t *data, size_t len, size_t *consumed, struct pb_frame *frame,
	    struct codec_error *err);

/* At the end of the input: a complete, checksum-valid frame still waiting
 * for its acknowledgement is returned (1, addr -1) in any_ack mode; else 0. */
int pb_rx_finish(struct pb_rx *rx, struct pb_frame *frame);

/* Drop the first byte held, so that the rest is rescanned. Returns the bytes
 * still held. */
size_t pb_rx_skip(struct pb_rx *rx);

/*
 * Decode one frame into *snap, which accumulates the three frames of one
 * pack: a live frame replaces the measured values, a settings frame the
 * settings, a device-info frame the identity; the rest of *snap is kept.
 * Marks snap->protocol BMS_PROTOCOL_PB. The frame's checksum and type are
 * verified again, so it is safe on arbitrary input, and the sanity checks
 * run (SoC, cells, temperatures, cell sum against pack voltage). The
 * passcodes of a device-info frame are never copied. Returns the frame type
 * (enum pb_type), or -errno with *err filled and *snap untouched.
 */
int pb_decode(const uint8_t *frame, size_t len, struct bms_snapshot *snap, struct codec_error *err);

/* Looks like the start of a PB frame (55 AA EB 90)? */
bool pb_is_frame_start(const uint8_t *data, size_t len);

/* Name of bit `bit` of the vendor alarm mask, e.g. "cell_over_voltage";
 * NULL past bit 28. */
const char *pb_alarm_name(unsigned bit);

/* The model's alarm bits (enum bms_alarm_bit) for a vendor alarm mask. */
uint16_t pb_alarms_to_model(uint32_t bits);

#endif /* PB_CODEC_H */
