/* SPDX-License-Identifier: MIT */
/*
 * The JK-BMS "GPS port" frame protocol (4E 57, docs/protocol-4e57.md):
 * request builders, a streaming deframer, the identifier table, the read-all
 * decoder and an encoder used by the simulator. Pure C: no I/O, no clock, no
 * allocation. It does not decide what to poll or when; that is poller.h.
 * src/codec.c reads frames, src/codec_encode.c builds them and
 * src/codec_error.c words the rejections.
 */
#ifndef CODEC_H
#define CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms_types.h"

/* Command words (docs/protocol-4e57.md, "Frame layout" and "Requests"). */
enum codec_cmd {
	CODEC_CMD_ACTIVATE = 0x01,
	CODEC_CMD_WRITE = 0x02,
	CODEC_CMD_READ = 0x03,
	CODEC_CMD_PASSWORD = 0x05,
	CODEC_CMD_READ_ALL = 0x06,
};

/* Frame source byte. Requests from us say "PC/host" as the vendor example does. */
#define CODEC_SOURCE_BMS 0x00
#define CODEC_SOURCE_HOST 0x03

/* Transport type byte. */
#define CODEC_TYPE_REQUEST 0x00
#define CODEC_TYPE_REPLY 0x01
#define CODEC_TYPE_UPLOAD 0x02

/* LENGTH counts everything after the 2-byte STX. */
#define CODEC_LENGTH_MIN 0x0012
#define CODEC_LENGTH_MAX 0x0160
#define CODEC_FRAME_MAX (CODEC_LENGTH_MAX + 2)
/* Header (11) + record number (4) + end byte (1) + checksum (4). */
#define CODEC_OVERHEAD 20
#define CODEC_END_BYTE 0x68
/* Size of every request this module builds (21 or 22 bytes). */
#define CODEC_REQUEST_MAX 22

/* Why a frame was rejected: one code per check, so each can be counted. */
enum codec_reject {
	CODEC_REJECT_NONE = 0,
	CODEC_REJECT_LENGTH,       /* LENGTH outside 0x12..0x160 */
	CODEC_REJECT_END_BYTE,     /* no 0x68 at total-5 */
	CODEC_REJECT_CHECKSUM,     /* 16-bit sum mismatch */
	CODEC_REJECT_NOT_REPLY,    /* source != BMS or type != reply (our echo) */
	CODEC_REJECT_COMMAND,      /* not a read-all payload (decoder only) */
	CODEC_REJECT_UNKNOWN_ID,   /* identifier not in the table */
	CODEC_REJECT_DUPLICATE_ID, /* identifier seen twice */
	CODEC_REJECT_WALK_END,     /* records do not end exactly at the record number */
	CODEC_REJECT_CELLS,        /* bad 0x79 block (length, count, index order) */
	CODEC_REJECT_MISSING_ID,   /* a required identifier is absent */
	CODEC_REJECT_TEMPERATURE,  /* temperature raw value outside -40..100 °C */
	CODEC_REJECT_SOC,          /* SoC > 100 */
	CODEC_REJECT_VOLTAGE_SUM,  /* sum of cells disagrees with pack voltage */
	/* The PB family (docs/protocol-pb.md) counts with the same codes. */
	CODEC_REJECT_FRAME_TYPE, /* PB frame type unknown or not the one asked for */
	CODEC_REJECT_ACK,        /* PB frame not followed by a valid FC 0x10 acknowledgement */
	CODEC_REJECT_ADDRESS,    /* PB reply from another address than the one polled */
	CODEC_REJECT_COUNT
};

/* Where and why a frame failed. offset: byte offset (in the stream for the
 * deframer, in the frame for the decoder) of the byte that failed the check;
 * expected/actual: the two numbers compared, where that helps (checksums,
 * lengths, identifiers). */
struct codec_error {
	enum codec_reject reason;
	size_t offset;
	uint32_t expected;
	uint32_t actual;
};

/* Fill *err with a rejection and return code: the one way every family's
 * deframer and decoder reports why a frame was dropped. */
int codec_fail(struct codec_error *err, enum codec_reject reason, size_t offset, uint32_t expected, uint32_t actual,
	       int code);

/* Stream deframer state. Caller-owned; a zeroed struct is a host-side
 * deframer that accepts BMS replies. A BMS simulator sets accept_requests to
 * accept host requests (type 0) instead and reject everything else. */
struct codec_rx {
	bool accept_requests;
	uint8_t buf[CODEC_FRAME_MAX];
	size_t len;          /* bytes held in buf */
	uint64_t stream_pos; /* stream offset of buf[0] */
	uint64_t junk_bytes; /* bytes skipped while hunting for 4E 57 */
};

/* A complete, checksum-valid BMS reply frame. */
struct codec_frame {
	uint8_t data[CODEC_FRAME_MAX];
	size_t len;
	uint64_t stream_pos; /* stream offset of the 4E */
};

/* Forget any partial frame (e.g. before sending a request). Keeps the role,
 * the stream position and the junk counter. */
void codec_rx_reset(struct codec_rx *rx);

/* Number of bytes of a partial frame held (0 when idle): a reply is arriving. */
size_t codec_rx_pending(const struct codec_rx *rx);

/* Give up on the partial candidate held (e.g. at the end of a file, or when a
 * plausible but false LENGTH waits for bytes that never come): drop its first
 * byte so that the rest is rescanned by the next codec_feed(). Returns the
 * number of bytes still held. */
size_t codec_rx_skip(struct codec_rx *rx);

/*
 * Feed bytes as they arrive, in any split. Consumes input bytes into the
 * internal buffer and reports through *consumed how many of data[] were taken.
 * Returns:
 *   1  *frame holds a complete BMS reply (source 0, type 1); call again with
 *      the rest of the input (data + *consumed) to get any following frame;
 *   0  all input consumed, more bytes needed;
 *  <0  a candidate frame was rejected; *err says why (-EMSGSIZE length,
 *      -EBADMSG end byte or checksum, -EPROTO not a reply). The deframer has
 *      already resynchronised (it drops the failed 4E and rescans what it
 *      holds), so call again: a good frame following the bad one is not lost.
 * data may be NULL when len is 0 (drains frames still buffered).
 * frame and err must not be NULL; they are written only for their return.
 */
int codec_feed(struct codec_rx *rx, const uint8_t *data, size_t len, size_t *consumed, struct codec_frame *frame,
	       struct codec_error *err);

/*
 * Decode a read-all reply (command 0x06, or 0x03 carrying the full payload)
 * into *out, then run the sanity checks (docs/protocol-4e57.md, "Sanity
 * checks and rejections"). The envelope
 * (STX, LENGTH, end byte, checksum, source/type) is verified again so the
 * function is safe on arbitrary input. Returns 0, or -EBADMSG / -EMSGSIZE /
 * -EPROTO / -ERANGE with *err filled. *out is written only on success.
 */
int codec_decode(const uint8_t *frame, size_t len, struct bms_snapshot *out, struct codec_error *err);

/* Request builders. Each writes a complete frame into out (at least
 * CODEC_REQUEST_MAX bytes) and returns its length, or -ENOSPC. */
int codec_build_read_all(uint8_t *out, size_t size);
int codec_build_read(uint8_t id, uint8_t *out, size_t size);
int codec_build_activate(uint8_t *out, size_t size);
int codec_build_password(uint8_t *out, size_t size);
/* transport_type: CODEC_TYPE_REQUEST normally; CODEC_TYPE_UPLOAD for the
 * forum variant some units accept (docs/protocol-4e57.md, "Requests"). */
int codec_build_write(uint8_t id, uint8_t value, uint8_t transport_type, uint8_t *out, size_t size);

/*
 * Build a read-all reply as a BMS sends it, from *snap: command 0x06,
 * source 0, type 1. With snap->has_extended false the old-firmware layout
 * ending at 0xB7 is used and the current is encoded around 10000; otherwise
 * 0xB8..0xC0 follow and the current uses snap->protocol_version's encoding.
 * Returns the frame length or -ENOSPC / -ERANGE (cell count 0 or > 32).
 */
int codec_encode_read_all(const struct bms_snapshot *snap, uint8_t *out, size_t size);

/* Rewrite the 16-bit checksum at the end of a complete frame of len bytes
 * (after editing it, or after turning a request into a reply). */
void codec_seal(uint8_t *frame, size_t len);

/* Parse a frame's header fields (no validation beyond size). */
static inline uint8_t codec_frame_command(const uint8_t *frame)
{
	return frame[8];
}

/* Short English name of a rejection reason, e.g. "checksum". Never NULL. */
const char *codec_reject_name(enum codec_reject reason);

/* Describe *err in one line without a trailing newline, e.g. "checksum
 * mismatch at byte 267: frame says 0x4923, bytes sum to 0x485C", adding
 * base to the offset. Returns snprintf's count. */
int codec_error_format(const struct codec_error *err, uint64_t base, char *buf, size_t size);

/* Temperature conversion of 0x80..0x82 (docs/protocol-4e57.md, "Temperatures
 * 0x80-0x82"): 0..99 -> +raw, 100 -> 0, 101..140 -> 100 - raw. Returns 0 or
 * -ERANGE for raw > 140. */
int codec_temp_from_raw(uint16_t raw, int16_t *out_c);
uint16_t codec_temp_to_raw(int16_t celsius);

/* Current conversion of 0x84 (docs/protocol-4e57.md, "Current 0x84 and
 * protocol version 0xC0"). */
int32_t codec_current_from_raw(uint16_t raw, uint8_t protocol_version);
uint16_t codec_current_to_raw(int32_t current_ma, uint8_t protocol_version);

/*
 * The identifier table (docs/protocol-4e57.md, "Identifier table"): one row
 * per identifier a read-all reply may carry, in ascending order, which is
 * also the order a BMS sends them in. It alone says how long each value is,
 * how it is converted and where in struct bms_snapshot it goes; the decoder,
 * its length checks and the encoder all read it. An identifier without a row
 * is unknown and makes the decoder reject the frame.
 */
enum codec_kind {
	CODEC_KIND_CELLS,   /* 0x79: own length byte, then (index, u16 mV) triplets */
	CODEC_KIND_U8,      /* u8 into a uint8_t */
	CODEC_KIND_U16,     /* big-endian u16 into a uint16_t */
	CODEC_KIND_U32,     /* big-endian u32 into a uint32_t */
	CODEC_KIND_S16,     /* 16 bits into an int16_t (two's complement) */
	CODEC_KIND_SCALED,  /* u16 times scale into a uint32_t (10 mV units) */
	CODEC_KIND_TEMP,    /* u16 with the +100 rule into an int16_t; > 140 rejected */
	CODEC_KIND_CURRENT, /* 0x84: the raw u16 into current_raw; decoded after 0xC0 */
	CODEC_KIND_TEXT,    /* length bytes of ASCII into a char[length + 1], kept verbatim */
	CODEC_KIND_PADDED,  /* the same, trailing ' ' and '_' dropped as padding (0xB7) */
	CODEC_KIND_SECRET,  /* 0xB2 password: checked for length, never stored */
	CODEC_KIND_VERSION, /* 0xC0: u8 into protocol_version, marks has_extended */
};

struct codec_id {
	uint8_t id;
	uint8_t length; /* value bytes after the identifier; 0 for 0x79 */
	uint8_t kind;   /* enum codec_kind */
	uint8_t scale;  /* wire unit to stored unit, for CODEC_KIND_SCALED; else 1 */
	uint16_t field; /* offset of the destination in struct bms_snapshot */
};

/* Old firmware ends its replies here: every row up to this identifier is
 * required, the rows after it (0xB8..0xC0) come only with has_extended. */
#define CODEC_ID_LAST_OLD 0xB7

extern const struct codec_id codec_ids[];
extern const size_t codec_id_count;

/* The row of an identifier, or NULL if the identifier is unknown. */
const struct codec_id *codec_id_find(uint8_t id);

#endif /* CODEC_H */
