/* SPDX-License-Identifier: MIT */
/*
 * Benchmark (not a test): decoded 16-cell read-all frames per second on one
 * core, through the deframer and the decoder, as the service does per poll.
 * Usage: bench_codec [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	struct bms_snapshot snap;
	uint8_t frame[CODEC_FRAME_MAX];

	memset(&snap, 0, sizeof(snap));
	snap.cell_count = 16;
	for (unsigned i = 0; i < 16; i++)
		snap.cell_mv[i] = (uint16_t)(3300 + i);
	snap.voltage_mv = 52920;
	snap.current_ma = 12340;
	snap.soc_pct = 55;
	snap.has_extended = true;
	snap.protocol_version = 1;
	snap.settings.cell_ovp_mv = 3650;
	int len = codec_encode_read_all(&snap, frame, sizeof(frame));

	if (len < 0) {
		fprintf(stderr, "encode failed\n");
		return 1;
	}

	struct codec_rx rx;
	struct codec_frame out;
	struct codec_error err;
	unsigned long long frames = 0, checksum = 0;
	double start = now_s(), elapsed;

	memset(&rx, 0, sizeof(rx));
	do {
		for (int k = 0; k < 10000; k++) {
			size_t used;
			struct bms_snapshot s;

			if (codec_feed(&rx, frame, (size_t)len, &used, &out, &err) != 1 ||
			    codec_decode(out.data, out.len, &s, &err) != 0) {
				fprintf(stderr, "decode failed\n");
				return 1;
			}
			checksum += (unsigned long long)s.voltage_mv;
			frames++;
		}
		elapsed = now_s() - start;
	} while (elapsed < seconds);

	printf("frame: %d bytes, 16 cells\n", len);
	printf("decoded: %llu frames in %.2f s\n", frames, elapsed);
	printf("rate: %.0f frames/s (%.0f ns per frame)\n", frames / elapsed, elapsed / frames * 1e9);
	return checksum == 0;
}
