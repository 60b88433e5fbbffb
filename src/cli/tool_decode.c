/* SPDX-License-Identifier: MIT */
/*
 * The --decode tool: a frame file (hex dump as in tests/data, or raw bytes)
 * through the same deframer and decoder as the service, printed as JSON.
 * The family is told by the bytes: whichever of "4E 57" and "55 AA EB 90"
 * comes first. The frames of a PB capture (live, settings, device info)
 * are decoded into one object per sender (the address in the
 * acknowledgement behind each frame).
 * Every rejected candidate is explained with its byte offset, so a user can
 * paste the output into a bug report.
 */
#include "tool_decode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bms_json.h"
#include "codec.h"
#include "hex.h"
#include "pb_codec.h"

#define DECODE_FILE_MAX (1u << 20)

static void explain(FILE *err, const char *name, const struct codec_error *e, uint64_t base)
{
	char msg[160];

	codec_error_format(e, base, msg, sizeof(msg));
	fprintf(err, "%s: invalid frame: %s\n", name, msg);
}

static void report_truncated(FILE *err, const char *name, const struct codec_rx *rx)
{
	if (rx->len >= 4) {
		unsigned want = ((unsigned)rx->buf[2] << 8 | rx->buf[3]) + 2;

		fprintf(err, "%s: invalid frame: truncated at byte %llu: %zu of %u bytes\n", name,
			(unsigned long long)(rx->stream_pos + rx->len), rx->len, want);
		return;
	}
	fprintf(err, "%s: invalid frame: truncated header at byte %llu\n", name,
		(unsigned long long)(rx->stream_pos + rx->len));
}

static int print_json(const char *name, const struct bms_snapshot *snap, FILE *out, FILE *err)
{
	char json[BMS_JSON_MAX];

	if (bms_json_format(snap, json, sizeof(json)) < 0) {
		fprintf(err, "%s: internal error: JSON buffer too small\n", name);
		return 1;
	}
	fprintf(out, "%s\n", json);
	return 0;
}

/* The packs of a PB capture, one picture each: a bus capture holds several
 * senders, told apart by their acknowledgements. A frame without one (a
 * Bluetooth capture) belongs to the sender before it. */
#define PB_SENDERS_MAX 16

struct pb_sender {
	int addr; /* -1: not known (no acknowledgement) */
	unsigned decoded;
	struct bms_snapshot snap;
};

struct pb_capture {
	struct pb_sender s[PB_SENDERS_MAX];
	unsigned n;
	int last; /* the entry of the frame before, -1 before the first */
};

static struct pb_sender *pb_sender_of(struct pb_capture *c, int addr)
{
	if (addr < 0 && c->last >= 0)
		return &c->s[c->last];
	for (unsigned k = 0; k < c->n; k++) {
		if (c->s[k].addr == addr)
			return &c->s[c->last = (int)k];
	}
	if (c->n == PB_SENDERS_MAX)
		return NULL;
	c->s[c->n].addr = addr;
	c->last = (int)c->n;
	return &c->s[c->n++];
}

/* One PB frame from the deframer: decoded into its sender's picture, or
 * explained. */
static void pb_take(const char *name, const struct pb_frame *f, struct pb_capture *c, FILE *err)
{
	struct codec_error e;
	struct pb_sender *s = pb_sender_of(c, f->addr);

	if (!s) {
		fprintf(err, "%s: frame at byte %llu from address %d skipped: more than %u senders\n", name,
			(unsigned long long)f->stream_pos, f->addr, PB_SENDERS_MAX);
		return;
	}
	if (pb_decode(f->data, PB_FRAME_LEN, &s->snap, &e) < 0)
		explain(err, name, &e, f->stream_pos);
	else
		s->decoded++;
}

/* One JSON object per sender with a decoded frame, in order of appearance. */
static int print_pb(const char *name, const struct pb_capture *c, FILE *out, FILE *err)
{
	unsigned printed = 0;

	for (unsigned k = 0; k < c->n; k++) {
		if (!c->s[k].decoded)
			continue;
		if (print_json(name, &c->s[k].snap, out, err))
			return 1;
		printed++;
	}
	return printed ? 0 : -1;
}

static int decode_pb(const char *name, const uint8_t *p, size_t n, FILE *out, FILE *err)
{
	struct pb_rx rx;
	struct pb_frame frame;
	struct codec_error e;
	struct pb_capture *cap = calloc(1, sizeof(*cap));
	int ret;

	if (!cap) {
		fprintf(err, "%s: out of memory\n", name);
		return 1;
	}
	cap->last = -1;
	memset(&rx, 0, sizeof(rx));
	rx.any_ack = true; /* a capture may lack the acknowledgement (BLE) */
	while (n > 0 || pb_rx_pending(&rx) > 0) {
		size_t used = 0;
		int r = pb_feed(&rx, p, n, &used, &frame, &e);

		p += used;
		n -= used;
		if (r < 0) {
			explain(err, name, &e, 0);
			continue;
		}
		if (r == 1) {
			pb_take(name, &frame, cap, err);
			continue;
		}
		if (n > 0 || pb_rx_pending(&rx) == 0)
			continue;
		if (pb_rx_finish(&rx, &frame) == 1) {
			pb_take(name, &frame, cap, err);
			continue;
		}
		fprintf(err, "%s: invalid frame: truncated at byte %llu: %zu of %u bytes\n", name,
			(unsigned long long)(rx.stream_pos + rx.len), rx.len, PB_FRAME_LEN);
		pb_rx_skip(&rx);
	}
	ret = print_pb(name, cap, out, err);
	free(cap);
	if (ret >= 0)
		return ret;
	fprintf(err, "%s: no valid BMS reply found (%llu bytes skipped as garbage)\n", name,
		(unsigned long long)rx.junk_bytes);
	return 1;
}

/* The PB family when "55 AA EB 90" comes before any "4E 57". */
static bool is_pb(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == 0x4E && p[i + 1] == 0x57)
			return false;
		if (pb_is_frame_start(p + i, n - i))
			return true;
	}
	return false;
}

static int decode_stream(const char *name, const uint8_t *p, size_t n, FILE *out, FILE *err)
{
	struct codec_rx rx;
	struct codec_frame frame;
	struct codec_error e;

	memset(&rx, 0, sizeof(rx));
	while (n > 0 || codec_rx_pending(&rx) > 0) {
		size_t used = 0;
		int r = codec_feed(&rx, p, n, &used, &frame, &e);

		p += used;
		n -= used;
		if (r == 0) {
			if (n > 0 || codec_rx_pending(&rx) == 0)
				continue;
			/* Input is exhausted inside a candidate: report it, then
			 * rescan what it held, since a real frame may start inside. */
			report_truncated(err, name, &rx);
			codec_rx_skip(&rx);
			continue;
		}
		if (r < 0) {
			explain(err, name, &e, 0);
			continue;
		}

		struct bms_snapshot snap;

		if (codec_decode(frame.data, frame.len, &snap, &e) < 0) {
			explain(err, name, &e, frame.stream_pos);
			continue;
		}
		return print_json(name, &snap, out, err);
	}
	fprintf(err, "%s: no valid BMS reply found (%llu bytes skipped as garbage)\n", name,
		(unsigned long long)rx.junk_bytes);
	return 1;
}

int tool_decode_buffer(const char *name, const uint8_t *data, size_t len, FILE *out, FILE *err)
{
	uint8_t *bytes = NULL;
	size_t n = len;
	const uint8_t *p = data;

	if (hex_is_text(data, len)) {
		size_t bad = 0;
		size_t cap = len / 2 + 1;
		int r;

		bytes = malloc(cap);
		r = bytes ? hex_parse(data, len, bytes, cap, &bad) : -ENOMEM;
		if (r < 0) {
			fprintf(err, "%s: not a hex dump: odd or foreign character at offset %zu\n", name, bad);
			free(bytes);
			return 1;
		}
		p = bytes;
		n = (size_t)r;
	}
	int ret = is_pb(p, n) ? decode_pb(name, p, n, out, err) : decode_stream(name, p, n, out, err);

	free(bytes);
	return ret;
}

int tool_decode_file(const char *path, FILE *out, FILE *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");

	if (!f) {
		fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}

	uint8_t *buf = malloc(DECODE_FILE_MAX + 1);
	size_t len = buf ? fread(buf, 1, DECODE_FILE_MAX + 1, f) : 0;
	int bad_read = ferror(f);

	if (f != stdin)
		fclose(f);
	if (!buf) {
		fprintf(err, "%s: out of memory\n", path);
		return 1;
	}
	if (bad_read || len > DECODE_FILE_MAX) {
		fprintf(err, "%s: %s\n", path, bad_read ? "read error" : "larger than 1 MiB");
		free(buf);
		return 1;
	}

	int ret = tool_decode_buffer(path, buf, len, out, err);

	free(buf);
	return ret;
}
