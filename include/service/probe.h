/* SPDX-License-Identifier: MIT */
/*
 * What speaks on a port at start: the 4E 57 family, or JK PB packs at the
 * configured addresses (docs/protocol-pb.md "Finding the packs"). Runs
 * before the main loop, with a deadline: when nothing answers within the
 * probe time the service exits, so that serial-starter can try the next
 * driver on the port.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stdint.h>

#include "config.h"
#include "port.h"

/* What went over the wire, to explain a probe that found nothing. */
struct probe_stats {
	uint64_t requests;
	uint64_t bytes_in;
	uint64_t junk_bytes;
	uint64_t rejects[CODEC_REJECT_COUNT];
};

/* Try the families cfg->protocol allows (auto: 4E 57, then PB) on device
 * until something answers or budget_ms has passed; after PB packs answered,
 * ask the silent addresses once more within budget_ms. Returns 0 with *out
 * filled (PB: every pack that answered, in address order), -ENODEV when
 * nothing answered, or -errno from opening the device. stats may be NULL. */
int probe_port(const struct config *cfg, const char *device, uint32_t budget_ms, struct port_units *out,
	       struct probe_stats *stats);

#endif
