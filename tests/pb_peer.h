/* SPDX-License-Identifier: MIT */
/*
 * JK PB packs on a real pseudo-terminal for the end-to-end tests
 * (pb_peer.c): a thread answers each trigger request addressed to a pack it
 * has with the captured frames of tests/data/pb (patched per address) and
 * the acknowledgement. Packs can be silenced, the adapter can spew garbage,
 * a master pack can broadcast, and the device can be unplugged.
 */
#ifndef PB_PEER_H
#define PB_PEER_H

#include <glib.h>
#include <stdint.h>

#include "pb_codec.h"

struct pb_peer {
	char dir[256];
	char link[300]; /* dir/<tty>: what the service opens */
	char pty[64];
	int master, slave;
	GThread *thread;
	uint8_t live[PB_FRAME_LEN], settings[PB_FRAME_LEN], info[PB_FRAME_LEN], master_live[PB_FRAME_LEN];
	/* Set from the test, read by the thread (g_atomic_int_*). */
	gint stop;
	gint present[16];     /* a pack at this address */
	gint silent[16];      /* present but not answering */
	gint garbage;         /* random bytes between replies */
	gint master_pack;     /* a master broadcasting its own frames */
	gint unplugged;       /* the device is gone */
	gint swapped[16];     /* another pack at this address: pb_peer_swapped_serial() */
	gint deaf[16];        /* requests this pack misses before it answers (a corrupted frame) */
	gint requests[16][4]; /* per address, per frame type */
	/* Per address, on the pty opened last: the settings requests seen
	 * before its first live request (-1: no live request yet). */
	gint settings_before_live[16];
	gint opens;            /* ptys opened (1 + replugs) */
	int settings_seen[16]; /* the thread's own: on the pty opened last */
	/* When the first byte arrived, in ms after start_us (-1: none yet;
	 * the test may set it back to -1). */
	gint first_rx_ms;
	gint64 start_us;
};

/* The packs at the addresses of mask (bit n = address n) on a pty linked
 * as <tmpdir>/<tty>. Fails the test on error. */
void pb_peer_start(struct pb_peer *p, const char *tty, uint16_t mask);
void pb_peer_stop(struct pb_peer *p);

/* The value pack `addr` reports: SoC 50 + addr, serial 401194914 + two
 * digits of addr. */
void pb_peer_serial(uint8_t addr, char *buf, size_t size);

/* The serial of the pack that took the place of pack `addr` (swapped). */
void pb_peer_swapped_serial(uint8_t addr, char *buf, size_t size);

#endif
