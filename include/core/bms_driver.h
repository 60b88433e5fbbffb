/* SPDX-License-Identifier: MIT */
/*
 * What a BMS protocol family provides to the protocol-neutral poller and
 * link (docs/architecture.md "Drivers"): request builders per address, a
 * streaming deframer, a decoder into the snapshot, and how a FET write is
 * made and verified. A second family is one new codec plus one of these
 * tables. Pure: no I/O, no clock.
 */
#ifndef BMS_DRIVER_H
#define BMS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms_types.h"
#include "codec.h"
#include "pb_codec.h"

/* The largest request and reply any family has, in bytes. */
#define BMS_REQUEST_MAX 64
#define BMS_FRAME_MAX 512

/* Receive state of any family: big enough for each one's deframer. */
struct bms_rx {
	union {
		struct codec_rx jk4e57;
		struct pb_rx pb;
	} u;
};

/* A complete frame from the deframer. */
struct bms_frame {
	uint8_t data[BMS_FRAME_MAX];
	size_t len;
	int addr; /* who sent it, where the family says so on the wire; else -1 */
};

enum bms_reply {
	BMS_REPLY_DATA,      /* a reply with the pack's data: *snap is filled */
	BMS_REPLY_WRITE_ACK, /* a short acknowledgement of a write (informational) */
	BMS_REPLY_BAD,       /* failed decoding or sanity checks: *err says why */
	BMS_REPLY_SETUP,     /* a setup reply (settings, identity) went into *snap */
};

struct bms_driver {
	const char *name; /* "4e57", "pb" */
	/* Requests for the BMS at addr. Each returns the length written to
	 * out, 0 when the family has no such request, or -errno. */
	int (*read_request)(uint8_t addr, uint8_t *out, size_t size);
	int (*activate_request)(uint8_t addr, uint8_t *out, size_t size);
	int (*unlock_request)(uint8_t addr, uint8_t *out, size_t size);
	/* NULL when the family has no confirmed MOSFET write (PB). */
	int (*write_request)(uint8_t addr, enum bms_fet fet, bool on, unsigned form, uint8_t *out, size_t size);
	unsigned write_forms; /* frame forms a write may take; the one a unit accepts is learnt */
	/* What a unit reads once when it starts and again after it was lost,
	 * before its first read: step 0, 1, ... until it returns 0 (NULL: no
	 * such requests). A step in setup_optional may go unanswered. */
	int (*setup_request)(uint8_t addr, unsigned step, uint8_t *out, size_t size);
	unsigned setup_optional;
	/* The first refresh_steps setup steps are read again every
	 * refresh_ms while the unit runs (0: never), so that settings changed
	 * at run time reach the limits. A refresh that goes unanswered is
	 * skipped: what was read before stays. */
	uint32_t refresh_ms;
	unsigned refresh_steps;
	/* The family's timing where it is stricter than the configuration
	 * (poller_config_for()); 0 = none. */
	uint32_t min_gap_ms;
	uint32_t reply_timeout_ms;
	/* Receiving. rx_feed follows codec_feed()'s contract. */
	void (*rx_reset)(struct bms_rx *rx);
	size_t (*rx_pending)(const struct bms_rx *rx);
	uint64_t (*rx_junk)(const struct bms_rx *rx);
	int (*rx_feed)(struct bms_rx *rx, const uint8_t *data, size_t len, size_t *used, struct bms_frame *out,
		       struct codec_error *err);
	/* *snap is the unit's picture so far: a family whose replies each
	 * carry part of it (PB) adds to it; 4E 57 replaces it whole. */
	enum bms_reply (*decode)(const struct bms_frame *f, struct bms_snapshot *snap, struct codec_error *err);
	/* Does a reply show the FET as a write of `on` wanted it? */
	bool (*fet_shows)(const struct bms_snapshot *s, enum bms_fet fet, bool on);
};

/* The JK "4E 57" family (docs/protocol-4e57.md): one BMS per port. */
extern const struct bms_driver bms_driver_4e57;

/* The JK PB family (docs/protocol-pb.md): packs at addresses 1..15 on one
 * RS-485 bus. */
extern const struct bms_driver bms_driver_pb;

#endif
