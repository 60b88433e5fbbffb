/* SPDX-License-Identifier: MIT */
/* The BMS end of the simulated link, with its faults (see sim_link.h). */
#include "sim_link.h"

#include <string.h>

const char *const sim_fault_names[FAULT_COUNT] = {
	"none", "silent", "garbage", "badcrc", "truncated", "split", "slow", "echo", "noapply", "late", "pad", "random",
};

unsigned sim_link_rnd(struct sim *s)
{
	s->rng = s->rng * 1103515245u + 12345u;
	return (s->rng >> 16) & 0x7FFF;
}

void sim_link_queue(struct sim *s, uint64_t at, const uint8_t *data, size_t len)
{
	if (len == 0 || s->nout >= SIM_OUT_MAX || len > sizeof(s->out[0].data))
		return;
	struct out_chunk *c = &s->out[s->nout++];

	c->at_ms = at;
	c->reply_end = false;
	c->len = len;
	memcpy(c->data, data, len);
}

/* The fault this answer gets: a random one for FAULT_RANDOM, none for
 * FAULT_LATE outside its silence; counted. */
static enum fault pick_fault(struct sim *s, struct sim_faults *f, uint64_t at)
{
	enum fault fault = f->mode;

	if (fault == FAULT_RANDOM) {
		fault = FAULT_NONE;
		if (sim_link_rnd(s) % 100 < f->random_pct)
			fault = (enum fault)(FAULT_SILENT + sim_link_rnd(s) % (FAULT_ECHO - FAULT_SILENT + 1));
	}
	if (fault == FAULT_LATE && at >= f->mute_until)
		fault = FAULT_NONE; /* late answers normally between writes */
	if (fault != FAULT_NONE && fault != FAULT_NOAPPLY) {
		f->total++;
		f->count[fault]++;
	}
	return fault;
}

bool sim_link_send(struct sim *s, struct sim_faults *f, const uint8_t *req, size_t req_len, uint8_t *reply, size_t len,
		   size_t check_at, size_t frame_end, uint64_t at)
{
	enum fault fault = pick_fault(s, f, at);

	switch (fault) {
	case FAULT_SILENT:
	case FAULT_LATE:
		return false;
	case FAULT_GARBAGE: {
		uint8_t g[64];

		for (size_t i = 0; i < sizeof(g); i++)
			g[i] = (uint8_t)sim_link_rnd(s);
		sim_link_queue(s, at, g, sizeof(g));
		return false;
	}
	case FAULT_BADCRC:
		reply[check_at] ^= 0x01;
		sim_link_queue(s, at, reply, len);
		break;
	case FAULT_TRUNCATED:
		sim_link_queue(s, at, reply, len / 2);
		break;
	case FAULT_SPLIT: {
		unsigned pieces = f->arg ? f->arg : 6;
		size_t step = (len + pieces - 1) / pieces;

		for (unsigned i = 0; i * step < len; i++) {
			size_t n = len - i * step < step ? len - i * step : step;

			sim_link_queue(s, at + 10 * i, reply + i * step, n);
		}
		break;
	}
	case FAULT_SLOW:
		sim_link_queue(s, at + (f->arg ? f->arg : 700), reply, len);
		break;
	case FAULT_ECHO:
		sim_link_queue(s, at, req, req_len);
		sim_link_queue(s, at, reply, len);
		break;
	case FAULT_PAD: {
		static const uint8_t zero = 0;

		sim_link_queue(s, at, reply, frame_end);
		sim_link_queue(s, at, &zero, 1);
		if (len > frame_end)
			sim_link_queue(s, at, reply + frame_end, len - frame_end);
		break;
	}
	case FAULT_NONE:
	case FAULT_NOAPPLY:
	case FAULT_RANDOM:
	case FAULT_COUNT:
		sim_link_queue(s, at, reply, len);
		break;
	}
	if (s->nout > 0)
		s->out[s->nout - 1].reply_end = true;
	return true;
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
	if (sim_link_send(s, &s->f, req, req_len, f, (size_t)len, (size_t)len - 1, (size_t)len, now))
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
		if (s->f.mode != FAULT_NOAPPLY) {
			if (id == 0xAB)
				s->model.charge_switch = value;
			else
				s->model.discharge_switch = value;
			s->writes_applied++;
		} else {
			s->writes_ignored++;
		}
		if (s->f.mode == FAULT_LATE) {
			/* Applied, but the BMS stays silent (no acknowledgement,
			 * no read-back) from the first write on; writes repeated
			 * meanwhile do not extend the silence. */
			if (now >= s->f.mute_until)
				s->f.mute_until = now + (s->f.arg ? s->f.arg : 3000);
			break;
		}
		/* Short acknowledgement: the write frame turned into a reply. */
		uint8_t ack[CODEC_REQUEST_MAX];

		memcpy(ack, f, 22);
		ack[9] = CODEC_SOURCE_BMS;
		ack[10] = CODEC_TYPE_REPLY;
		codec_seal(ack, 22);
		sim_link_queue(s, now, ack, 22);
		break;
	}
	default:
		break;
	}
}

bool sim_faults_set(struct sim_faults *f, const char *name, unsigned arg)
{
	for (int i = 0; i < FAULT_COUNT; i++) {
		if (strcmp(name, sim_fault_names[i]) == 0) {
			f->mode = (enum fault)i;
			f->arg = arg;
			f->random_pct = arg ? arg : 20;
			f->mute_until = 0;
			return true;
		}
	}
	return false;
}
