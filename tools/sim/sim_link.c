/* SPDX-License-Identifier: MIT */
/* The BMS end of the simulated link, with its faults (see sim_link.h). */
#include "sim_link.h"

#include <string.h>

const char *const sim_fault_names[FAULT_COUNT] = {
	"none", "silent", "garbage", "badcrc", "truncated", "split", "slow", "echo", "noapply", "late", "random",
};

static unsigned rnd(struct sim *s)
{
	s->rng = s->rng * 1103515245u + 12345u;
	return (s->rng >> 16) & 0x7FFF;
}

static void queue_out(struct sim *s, uint64_t at, const uint8_t *data, size_t len)
{
	if (s->nout >= SIM_OUT_MAX || len > sizeof(s->out[0].data))
		return;
	struct out_chunk *c = &s->out[s->nout++];

	c->at_ms = at;
	c->reply_end = false;
	c->len = len;
	memcpy(c->data, data, len);
}

static void reply_read_all(struct sim *s, const uint8_t *req, size_t req_len, uint64_t now)
{
	struct bms_snapshot snap;
	uint8_t f[CODEC_FRAME_MAX];

	sim_model_report(&s->model, &snap);
	int len = codec_encode_read_all(&snap, f, sizeof(f));

	if (len < 0)
		return;
	f[8] = req[8]; /* the BMS echoes the request's command word */
	codec_seal(f, (size_t)len);

	enum fault fault = s->fault;

	if (fault == FAULT_RANDOM) {
		fault = FAULT_NONE;
		if (rnd(s) % 100 < s->random_pct)
			fault = (enum fault)(FAULT_SILENT + rnd(s) % (FAULT_ECHO - FAULT_SILENT + 1));
	}
	if (fault == FAULT_LATE && now >= s->mute_until)
		fault = FAULT_NONE; /* late answers normally between writes */
	if (fault != FAULT_NONE && fault != FAULT_NOAPPLY) {
		s->faults++;
		s->fault_counts[fault]++;
	}
	switch (fault) {
	case FAULT_SILENT:
	case FAULT_LATE:
		return;
	case FAULT_GARBAGE: {
		uint8_t g[64];

		for (size_t i = 0; i < sizeof(g); i++)
			g[i] = (uint8_t)rnd(s);
		queue_out(s, now, g, sizeof(g));
		return;
	}
	case FAULT_BADCRC:
		f[len - 1] ^= 0x01;
		queue_out(s, now, f, (size_t)len);
		break;
	case FAULT_TRUNCATED:
		queue_out(s, now, f, (size_t)len / 2);
		break;
	case FAULT_SPLIT: {
		unsigned pieces = s->fault_arg ? s->fault_arg : 6;
		size_t step = ((size_t)len + pieces - 1) / pieces;

		for (unsigned i = 0; i * step < (size_t)len; i++) {
			size_t n = (size_t)len - i * step < step ? (size_t)len - i * step : step;

			queue_out(s, now + 10 * i, f + i * step, n);
		}
		break;
	}
	case FAULT_SLOW:
		queue_out(s, now + (s->fault_arg ? s->fault_arg : 700), f, (size_t)len);
		break;
	case FAULT_ECHO:
		queue_out(s, now, req, req_len);
		queue_out(s, now, f, (size_t)len);
		break;
	case FAULT_NONE:
	case FAULT_NOAPPLY:
	case FAULT_RANDOM:
	case FAULT_COUNT:
		queue_out(s, now, f, (size_t)len);
		break;
	}
	if (s->nout > 0)
		s->out[s->nout - 1].reply_end = true;
	s->replies++;
}

void sim_link_request(struct sim *s, const uint8_t *f, size_t len, uint64_t now)
{
	s->requests++;
	switch (f[8]) {
	case CODEC_CMD_READ_ALL:
	case CODEC_CMD_READ:
		s->reads++;
		reply_read_all(s, f, len, now);
		break;
	case CODEC_CMD_PASSWORD:
		/* Real units do not answer 0x05 but accept writes after it. */
		s->passwords++;
		s->unlocked_until = now + 10000;
		break;
	case CODEC_CMD_ACTIVATE:
		s->activations++;
		break;
	case CODEC_CMD_WRITE: {
		uint8_t id = len >= 22 ? f[11] : 0, value = len >= 22 ? f[12] : 0;

		if (now >= s->unlocked_until || (id != 0xAB && id != 0xAC) || value > 1) {
			s->writes_ignored++;
			break;
		}
		if (s->fault != FAULT_NOAPPLY) {
			if (id == 0xAB)
				s->model.charge_switch = value;
			else
				s->model.discharge_switch = value;
			s->writes_applied++;
		} else {
			s->writes_ignored++;
		}
		if (s->fault == FAULT_LATE) {
			/* Applied, but the BMS stays silent (no acknowledgement,
			 * no read-back) from the first write on; writes repeated
			 * meanwhile do not extend the silence. */
			if (now >= s->mute_until)
				s->mute_until = now + (s->fault_arg ? s->fault_arg : 3000);
			break;
		}
		/* Short acknowledgement: the write frame turned into a reply. */
		uint8_t ack[CODEC_REQUEST_MAX];

		memcpy(ack, f, 22);
		ack[9] = CODEC_SOURCE_BMS;
		ack[10] = CODEC_TYPE_REPLY;
		codec_seal(ack, 22);
		queue_out(s, now, ack, 22);
		break;
	}
	default:
		break;
	}
}

bool sim_link_parse_fault(const char *name, enum fault *out)
{
	for (int i = 0; i < FAULT_COUNT; i++) {
		if (strcmp(name, sim_fault_names[i]) == 0) {
			*out = (enum fault)i;
			return true;
		}
	}
	return false;
}
