/* SPDX-License-Identifier: MIT */
/*
 * The poll schedule, retry, activation, MOSFET write sequence and link state
 * of one BMS, as a pure state machine (L0, docs/architecture.md). It does no I/O and
 * reads no clock: the caller passes monotonic milliseconds, performs the
 * actions it is given and reports what arrived. Deframing and decoding are
 * the caller's (through the driver, bms_driver.h), which also builds the
 * requests this machine asks for; the transport is the caller's too.
 */
#ifndef POLLER_H
#define POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms_driver.h"
#include "bms_types.h"

struct poller_config {
	uint32_t interval_ms;      /* poll period, default 1000 */
	uint32_t min_gap_ms;       /* between two frames we send, default 100 (docs/protocol-4e57.md "Requests") */
	uint32_t reply_timeout_ms; /* reply deadline, default 500 */
	uint32_t rx_gap_ms;        /* a reply whose bytes keep coming within this is not cut, default 50 */
	uint32_t reply_max_ms;     /* hard cap on waiting for one reply, default 2000 */
	uint32_t password_gap_ms;  /* password frame to write frame, default 120 (100..150 in the field) */
	uint32_t write_settle_ms;  /* write frame to read-back, default 150 */
	uint32_t warning_ms;       /* no valid frame for this long: cable warning, default 5000 */
	uint32_t lost_ms;          /* no valid frame for this long: link lost, default 30000 */
	uint32_t misses_before_activate; /* consecutive missed polls before a 0x01 frame, default 3 */
	uint32_t write_attempts;         /* attempts per MOSFET write before it is reported failed, default 3 */
};

/* Fill *cfg with the defaults above. */
void poller_config_default(struct poller_config *cfg);

/* Apply a family's stricter timing (bms_driver.h): at least its gap
 * between frames, at most its reply timeout. */
void poller_config_for(struct poller_config *cfg, const struct bms_driver *drv);

enum poller_link {
	POLLER_LINK_CONNECTING, /* no valid frame yet */
	POLLER_LINK_UP,         /* last poll answered */
	POLLER_LINK_DEGRADED,   /* missed polls, last frame younger than warning_ms */
	POLLER_LINK_WARNING,    /* no frame for warning_ms: cable alarm level 1 */
	POLLER_LINK_LOST,       /* no frame for lost_ms: limits to zero */
};

const char *poller_link_name(enum poller_link link);

enum poller_action_kind {
	POLLER_ACT_WAIT, /* nothing to send; call poller_next() again at until_ms or on an event */
	POLLER_ACT_SEND, /* write frame[0..len) now (after flushing stale input when flush_rx) */
};

struct poller_action {
	enum poller_action_kind kind;
	uint64_t until_ms;
	bool flush_rx; /* input may be stale: a retry, or a frame of a write or activation */
	size_t len;
	uint8_t frame[BMS_REQUEST_MAX];
};

enum poller_write_status {
	POLLER_WRITE_OK,          /* read-back shows the FET in the requested state */
	POLLER_WRITE_NOT_APPLIED, /* the BMS answered but the FET did not follow */
	POLLER_WRITE_NO_ANSWER,   /* no read-back arrived */
};

const char *poller_write_status_name(enum poller_write_status status);

struct poller_write_result {
	enum bms_fet fet;
	uint8_t value; /* 0 off, 1 on */
	enum poller_write_status status;
	unsigned attempts;
	unsigned form; /* the driver's frame form of the last attempt */
};

struct poller_counters {
	uint64_t polls;       /* poll cycles started */
	uint64_t replies;     /* valid read-all replies */
	uint64_t timeouts;    /* attempts with no reply by the deadline */
	uint64_t retries;     /* second attempts within a poll */
	uint64_t misses;      /* polls with no valid reply after the retry */
	uint64_t bad_replies; /* replies that failed decoding or sanity checks */
	uint64_t unexpected;  /* valid replies outside a request */
	uint64_t activations; /* 0x01 frames sent */
	uint64_t setups;      /* setup replies (settings, identity) */
	uint64_t write_acks;  /* short 0x02 replies */
	uint64_t writes_ok;
	uint64_t writes_failed;
	uint64_t link_lost; /* transitions into LOST */
};

#define POLLER_WRITE_QUEUE 4

enum poller_phase {
	POLLER_PHASE_IDLE,
	POLLER_PHASE_ACTIVATE_SENT,
	POLLER_PHASE_PASSWORD_SENT,
	POLLER_PHASE_WRITE_SENT,
	POLLER_PHASE_READ_SENT,
	POLLER_PHASE_SETUP_SENT, /* a setup request is out */
	POLLER_PHASE_SETUP_NEXT, /* a setup reply came: the next request follows in this cycle */
};

struct poller_write {
	enum bms_fet fet;
	uint8_t value;
	unsigned attempts;
	unsigned form;
};

/* Caller-owned; initialise with poller_init(). Fields are private. */
struct poller {
	struct poller_config cfg;
	const struct bms_driver *drv;
	uint8_t addr;
	enum poller_phase phase;
	enum poller_link link;
	uint64_t start_ms;
	uint64_t cycle_ms; /* start of the current or last poll cycle */
	uint64_t next_poll_ms;
	uint64_t last_send_ms;
	uint64_t deadline_ms;
	uint64_t read_sent_ms;
	uint64_t last_rx_ms;
	uint64_t last_good_ms;
	bool has_sent;
	bool has_good;
	bool rx_partial;
	bool attempt_bad;  /* this attempt got a reply that failed decoding */
	bool attempt_done; /* this attempt is over, its failure counted */
	unsigned attempt;
	unsigned consecutive_misses;
	bool activate_pending;
	bool setup_needed;   /* the setup requests are (again) due */
	unsigned setup_step; /* the next one */
	bool refreshing;     /* the setup steps being read are a refresh */
	uint64_t refresh_ms; /* when the next refresh is due (0: none yet) */
	bool writing;        /* queue[0] is being written in this cycle */
	unsigned write_form; /* the frame form this unit accepts */
	size_t queued;
	struct poller_write queue[POLLER_WRITE_QUEUE];
	bool result_ready;
	struct poller_write_result result;
	struct poller_counters counters;
};

/* Start the machine for the BMS at addr, speaking drv, at now_ms; the first
 * poll is due at once. cfg may be NULL for the defaults. */
void poller_init(struct poller *p, const struct poller_config *cfg, const struct bms_driver *drv, uint8_t addr,
		 uint64_t now_ms);

/* What to do at now_ms. Call it repeatedly until it returns WAIT (each SEND
 * is taken as sent at now_ms), then again at act->until_ms or after any
 * poller_on_*() call. until_ms also covers the next time-driven change of
 * the link state. A cycle that ends in a miss returns WAIT with until_ms =
 * now_ms: the bus is free for another BMS before this one starts again. */
void poller_next(struct poller *p, uint64_t now_ms, struct poller_action *act);

/* Bytes arrived; partial: the deframer holds an incomplete frame. */
void poller_on_rx(struct poller *p, uint64_t now_ms, bool partial);

/* A read-all reply decoded and passed the sanity checks. Returns true when
 * it answered our request (publish it); false when it came unasked. */
bool poller_on_snapshot(struct poller *p, const struct bms_snapshot *snap, uint64_t now_ms);

/* A setup reply (bms_driver.h setup_request) decoded: the next setup
 * step or the read follows in the same cycle. */
void poller_on_setup(struct poller *p, uint64_t now_ms);

/* Read the setup again before the next read (e.g. the device reopened). */
void poller_resetup(struct poller *p);

/* A reply arrived but failed decoding: the attempt is over. */
void poller_on_bad_reply(struct poller *p, uint64_t now_ms);

/* A short write acknowledgement arrived. Informational: only
 * the read-back decides whether a write worked. */
void poller_on_write_ack(struct poller *p, uint64_t now_ms);

/* Queue a MOSFET write. A queued write for the same FET not yet started is
 * replaced. Returns 0, -EINVAL for an unknown FET, -EBUSY when the queue is
 * full, -ENOTSUP when the family has no write. */
int poller_queue_write(struct poller *p, enum bms_fet fet, bool on);

/* Number of writes queued or in progress. */
size_t poller_writes_pending(const struct poller *p);

/* Take the result of a finished write; false when none is waiting. */
bool poller_take_write_result(struct poller *p, struct poller_write_result *out);

enum poller_link poller_link(const struct poller *p);

/* Between poll cycles: nothing in flight, so another BMS may use the bus. */
bool poller_idle(const struct poller *p);

/* Keep the link state up to date at now_ms without starting anything (the
 * bus is someone else's); returns when the link state would next change. */
uint64_t poller_watch(struct poller *p, uint64_t now_ms);

/* When the next poll cycle is due (between cycles; 0 in one). */
uint64_t poller_due(const struct poller *p);

/* Milliseconds since the last valid frame (since start when none yet). */
uint64_t poller_silence_ms(const struct poller *p, uint64_t now_ms);

const struct poller_counters *poller_counters(const struct poller *p);

#endif /* POLLER_H */
