/* SPDX-License-Identifier: MIT */
/*
 * jkbms-sim's PB mode over a real pseudo-terminal: hand-written Modbus
 * requests (CRCs as captured from real buses, or computed by hand) and the
 * replies checked byte by byte at the offsets of docs/protocol-pb.md, read
 * here independently of both the simulator's encoder and the service's
 * codec. The acknowledgements expected are the ones captured from real
 * packs at addresses 1 and 3, and the master's trailers those of a real
 * master.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_harness.h"

#define REPLY 308 /* frame 300 + acknowledgement 8 */

/* Trigger requests: live data (0x1620), settings (0x161E), device info (0x161C). */
static const uint8_t LIVE1[] = { 0x01, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD6, 0xF1 };
static const uint8_t LIVE2[] = { 0x02, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xC2, 0x01 };
static const uint8_t LIVE3[] = { 0x03, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xCF, 0x91 };
static const uint8_t LIVE4[] = { 0x04, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xE9, 0xA1 };
static const uint8_t SETTINGS1[] = { 0x01, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD2, 0x2F };
static const uint8_t SETTINGS3[] = { 0x03, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x02, 0x00, 0x00, 0xCB, 0x4F };
static const uint8_t INFO1[] = { 0x01, 0x10, 0x16, 0x1C, 0x00, 0x01, 0x02, 0x00, 0x00, 0xD3, 0xCD };
/* Charge switch (0x1070) off and on at address 1. */
static const uint8_t CHARGE_OFF1[] = { 0x01, 0x10, 0x10, 0x70, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x39, 0x4B };
static const uint8_t CHARGE_ON1[] = { 0x01, 0x10, 0x10, 0x70, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x01, 0xF8, 0x8B };

/* The acknowledgements real packs sent. */
static const uint8_t ACK_LIVE1[] = { 0x01, 0x10, 0x16, 0x20, 0x00, 0x01, 0x04, 0x4B };
static const uint8_t ACK_LIVE3[] = { 0x03, 0x10, 0x16, 0x20, 0x00, 0x01, 0x05, 0xA9 };
static const uint8_t ACK_SETTINGS3[] = { 0x03, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x64, 0x65 };
static const uint8_t ACK_INFO1[] = { 0x01, 0x10, 0x16, 0x1C, 0x00, 0x01, 0xC4, 0x47 };
static const uint8_t ACK_CHARGE1[] = { 0x01, 0x10, 0x10, 0x70, 0x00, 0x02, 0x44, 0xD3 };
/* A real master's trailers after its live and settings broadcasts. */
static const uint8_t MASTER_LIVE[] = { 0x00, 0x10, 0x16, 0x20, 0x00, 0x01, 0x05, 0x9A };
static const uint8_t MASTER_SETTINGS[] = { 0x00, 0x10, 0x16, 0x1E, 0x00, 0x01, 0x64, 0x56 };

struct bus {
	struct simproc sim;
	int fd;
};

static void bus_open(struct bus *b, const char *const *args)
{
	struct termios tio;

	sim_start(&b->sim, args);
	b->fd = open(b->sim.link, O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(b->fd >= 0);
	assert_int_equal(tcgetattr(b->fd, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(b->fd, TCSANOW, &tio), 0);
}

static void bus_close(struct bus *b)
{
	close(b->fd);
	sim_stop(&b->sim);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Collect bytes until `want` have come or the line has been quiet for
 * quiet_ms (or 2 s in all). Returns the count. */
static size_t collect(struct bus *b, uint8_t *buf, size_t size, size_t want, unsigned quiet_ms)
{
	size_t n = 0;
	uint64_t end = ms_now() + 2000;

	while (n < want && n < size && ms_now() < end) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };
		struct timespec t = { .tv_sec = quiet_ms / 1000, .tv_nsec = (long)(quiet_ms % 1000) * 1000000 };

		if (ppoll(&p, 1, &t, NULL) <= 0)
			break;
		ssize_t r = read(b->fd, buf + n, size - n);

		if (r > 0)
			n += (size_t)r;
	}
	return n;
}

/* Send a request; collect its reply (up to `want` bytes). Waiting for a
 * reply is generous (it ends when the bytes are in; slow machines, qemu);
 * waiting to see that nothing comes (want 1) takes 200 ms. */
static size_t ask(struct bus *b, const uint8_t *req, size_t len, uint8_t *buf, size_t size, size_t want)
{
	assert_int_equal(write(b->fd, req, len), (ssize_t)len);
	return collect(b, buf, size, want, want > 1 ? 1000 : 200);
}

static uint16_t u16(const uint8_t *f, unsigned off)
{
	return (uint16_t)(f[off] | f[off + 1] << 8);
}

static uint32_t u32(const uint8_t *f, unsigned off)
{
	return (uint32_t)u16(f, off) | (uint32_t)u16(f, off + 2) << 16;
}

static uint8_t sum8(const uint8_t *f)
{
	uint8_t s = 0;

	for (unsigned i = 0; i < 299; i++)
		s = (uint8_t)(s + f[i]);
	return s;
}

/* A well-formed frame of `type` with a good byte-299 sum. */
static void assert_frame(const uint8_t *f, uint8_t type)
{
	static const uint8_t head[] = { 0x55, 0xAA, 0xEB, 0x90 };

	assert_memory_equal(f, head, 4);
	assert_int_equal(f[4], type);
	assert_int_equal(f[299], sum8(f));
}

/* The live frame of a healthy n-cell LFP pack: cells by the mask, the
 * pack voltage their sum, its 10 mV copy. */
static void assert_live_cells(const uint8_t *f, unsigned n)
{
	uint32_t sum = 0;

	assert_frame(f, 0x02);
	assert_int_equal(u32(f, 70), n == 32 ? 0xFFFFFFFFu : (1u << n) - 1);
	for (unsigned i = 0; i < 32; i++) {
		if (i < n)
			assert_in_range(u16(f, 6 + 2 * i), 3000, 3500);
		else
			assert_int_equal(u16(f, 6 + 2 * i), 0);
		sum += u16(f, 6 + 2 * i);
	}
	assert_in_range(u32(f, 150), sum - 5, sum + 5);
	assert_int_equal(u16(f, 234), u32(f, 150) / 10);
	assert_in_range(u16(f, 74), sum / n - 1, sum / n + 1);
}

static void test_live_three_packs(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "3", "--soc", "55", NULL };
	struct bus b;
	uint8_t r[400];

	(void)state;
	bus_open(&b, args);
	sim_cmd(&b.sim, "pack 2 soc 80");
	sim_cmd(&b.sim, "pack 3 temp t1 -5.5");
	sim_cmd(&b.sim, "pack 1 current -20");
	sim_cmd(&b.sim, "pack 3 alarm 0x80000");
	usleep(150000); /* a model step applies the current */

	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_live_cells(r, 16);
	assert_memory_equal(r + 300, ACK_LIVE1, 8);
	assert_int_equal(r[173], 55);
	assert_int_equal((int32_t)u32(r, 158), -20000);  /* discharging: negative */
	assert_int_equal(u32(r, 154), u32(r, 150) * 20); /* |V I| in mW */
	assert_int_equal((int16_t)u16(r, 162), 200);     /* 20.0 C ambient */
	assert_int_equal(r[198], 1);
	assert_int_equal(r[199], 1);
	assert_int_equal(u32(r, 166), 0);

	assert_int_equal(ask(&b, LIVE2, sizeof(LIVE2), r, sizeof(r), REPLY), REPLY);
	assert_live_cells(r, 16);
	assert_int_equal(r[300], 0x02);
	assert_int_equal(r[173], 80);
	assert_int_equal(u32(r, 158), 0);

	assert_int_equal(ask(&b, LIVE3, sizeof(LIVE3), r, sizeof(r), REPLY), REPLY);
	assert_live_cells(r, 16);
	assert_memory_equal(r + 300, ACK_LIVE3, 8);
	assert_int_equal(r[173], 55);
	assert_int_equal((int16_t)u16(r, 162), -55); /* signed 0.1 C */
	/* Below the 0 C charge UTP: the BMS opens its charge FET and says so. */
	assert_int_equal(r[198], 0);
	assert_int_equal(r[199], 1);
	assert_int_equal(u32(r, 166), 0x80000u | 1u << 9);
	bus_close(&b);
}

static void test_settings_and_info(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "3", "--cells", "8", NULL };
	struct bus b;
	uint8_t r[400], serial1[16];

	(void)state;
	bus_open(&b, args);
	assert_int_equal(ask(&b, SETTINGS3, sizeof(SETTINGS3), r, sizeof(r), REPLY), REPLY);
	assert_frame(r, 0x01);
	assert_memory_equal(r + 300, ACK_SETTINGS3, 8);
	assert_int_equal(u32(r, 10), 2650);  /* cell UVP */
	assert_int_equal(u32(r, 14), 2750);  /* UVP recovery */
	assert_int_equal(u32(r, 18), 3650);  /* cell OVP */
	assert_int_equal(u32(r, 22), 3550);  /* OVP recovery */
	assert_int_equal(u32(r, 50), 30000); /* charge OCP, mA */
	assert_int_equal(u32(r, 62), 60000); /* discharge OCP, mA */
	assert_int_equal(u32(r, 82), 700);   /* charge OTP, 0.1 C */
	assert_int_equal(u32(r, 98), 0);     /* charge UTP */
	assert_int_equal(u32(r, 106), 900);  /* MOSFET OTP */
	assert_int_equal(u32(r, 114), 8);    /* cell count */
	assert_int_equal(u32(r, 118), 1);    /* charge switch */
	assert_int_equal(u32(r, 130), 280000);
	assert_int_equal(u32(r, 270), 3); /* its address */
	assert_int_equal((int8_t)r[296], -20);

	assert_int_equal(ask(&b, INFO1, sizeof(INFO1), r, sizeof(r), REPLY), REPLY);
	assert_frame(r, 0x03);
	assert_memory_equal(r + 300, ACK_INFO1, 8);
	assert_string_equal((const char *)r + 6, "JK_PB2A16S20P");
	assert_string_equal((const char *)r + 22, "15A");
	assert_true(memchr(r + 86, 0, 16) != NULL);
	assert_int_equal(strlen((const char *)r + 86), 11);
	memcpy(serial1, r + 86, 16);
	assert_true(strlen((const char *)r + 62) > 0); /* a (fake) passcode is there */

	static const uint8_t INFO3[] = { 0x03, 0x10, 0x16, 0x1C, 0x00, 0x01, 0x02, 0x00, 0x00, 0xCA, 0xAD };

	assert_int_equal(ask(&b, INFO3, sizeof(INFO3), r, sizeof(r), REPLY), REPLY);
	assert_frame(r, 0x03);
	assert_memory_not_equal(r + 86, serial1, 16); /* one serial per pack */

	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_live_cells(r, 8);
	bus_close(&b);
}

static void test_silence(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "3", NULL };
	static const uint8_t LIVE0[] = { 0x00, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xDB, 0x61 };
	uint8_t bad[sizeof(LIVE1)], r[700];
	struct bus b;

	(void)state;
	bus_open(&b, args);
	/* Nobody at 4, nor at 0 (no master): no byte at all. */
	assert_int_equal(ask(&b, LIVE4, sizeof(LIVE4), r, sizeof(r), 1), 0);
	assert_int_equal(ask(&b, LIVE0, sizeof(LIVE0), r, sizeof(r), 1), 0);
	/* A bad CRC: no answer either. */
	memcpy(bad, LIVE1, sizeof(bad));
	bad[10] ^= 0x01;
	assert_int_equal(ask(&b, bad, sizeof(bad), r, sizeof(r), 1), 0);
	bad[10] ^= 0x01;
	bad[8] = 0x01; /* a flipped data bit under the old CRC */
	assert_int_equal(ask(&b, bad, sizeof(bad), r, sizeof(r), 1), 0);
	/* A good request right behind noise in the same write is answered. */
	uint8_t noisy[8 + sizeof(LIVE1)] = { 0x4E, 0x57, 0x00, 0x13, 0xFF, 0x10, 0x16, 0x01 };

	memcpy(noisy + 8, LIVE1, sizeof(LIVE1));
	assert_int_equal(ask(&b, noisy, sizeof(noisy), r, sizeof(r), REPLY), REPLY);
	assert_memory_equal(r + 300, ACK_LIVE1, 8);
	/* A request written a byte at a time is one request. */
	for (size_t i = 0; i < sizeof(LIVE3); i++)
		assert_int_equal(write(b.fd, LIVE3 + i, 1), 1);
	assert_int_equal(collect(&b, r, sizeof(r), REPLY, 1000), REPLY);
	assert_memory_equal(r + 300, ACK_LIVE3, 8);
	assert_int_equal(sim_status(&b.sim, "unanswered"), 2);
	assert_int_equal(sim_status(&b.sim, "replies"), 2);
	bus_close(&b);
}

static void test_pack_faults(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "3", NULL };
	uint8_t r[700];
	struct bus b;

	(void)state;
	bus_open(&b, args);
	sim_cmd(&b.sim, "pack 2 fault silent");
	assert_int_equal(ask(&b, LIVE2, sizeof(LIVE2), r, sizeof(r), 1), 0);
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(ask(&b, LIVE3, sizeof(LIVE3), r, sizeof(r), REPLY), REPLY);

	sim_cmd(&b.sim, "pack 2 fault badcrc");
	assert_int_equal(ask(&b, LIVE2, sizeof(LIVE2), r, sizeof(r), REPLY), REPLY);
	assert_int_not_equal(r[299], sum8(r));
	assert_int_equal(r[300], 0x02); /* the acknowledgement is intact */
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_frame(r, 0x02);

	sim_cmd(&b.sim, "pack 3 fault pad");
	assert_int_equal(ask(&b, LIVE3, sizeof(LIVE3), r, sizeof(r), REPLY + 1), REPLY + 1);
	assert_frame(r, 0x02);
	assert_int_equal(r[300], 0x00);
	assert_memory_equal(r + 301, ACK_LIVE3, 8);

	sim_cmd(&b.sim, "pack 1 fault truncated");
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY / 2), REPLY / 2);
	assert_int_equal(collect(&b, r, sizeof(r), 1, 200), 0); /* and nothing more */
	sim_cmd(&b.sim, "pack 1 fault echo");
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY + 11), REPLY + 11);
	assert_memory_equal(r, LIVE1, sizeof(LIVE1));
	assert_frame(r + 11, 0x02);

	assert_int_equal(sim_status(&b.sim, "packs"), 3);
	const char *st = sim_cmd(&b.sim, "pack 2 status");

	assert_non_null(strstr(st, " f_silent=1 "));
	assert_non_null(strstr(st, " f_badcrc=1 "));
	st = sim_cmd(&b.sim, "pack 3 status");
	assert_non_null(strstr(st, " faults=1 fault=pad "));

	/* Without the prefix, for every pack. */
	sim_cmd(&b.sim, "fault none");
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(ask(&b, LIVE2, sizeof(LIVE2), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(ask(&b, LIVE3, sizeof(LIVE3), r, sizeof(r), REPLY), REPLY);
	sim_cmd(&b.sim, "fault silent");
	assert_int_equal(ask(&b, LIVE3, sizeof(LIVE3), r, sizeof(r), 1), 0);
	bus_close(&b);
}

static void test_switch_write(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "2", NULL };
	uint8_t r[400];
	struct bus b;

	(void)state;
	bus_open(&b, args);
	assert_int_equal(ask(&b, CHARGE_OFF1, sizeof(CHARGE_OFF1), r, sizeof(r), 8), 8);
	assert_memory_equal(r, ACK_CHARGE1, 8);
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(r[198], 0); /* charge FET off */
	assert_int_equal(r[199], 1);
	assert_int_equal(ask(&b, SETTINGS1, sizeof(SETTINGS1), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(u32(r, 118), 0); /* and so is its switch */
	assert_int_equal(ask(&b, LIVE2, sizeof(LIVE2), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(r[198], 1); /* the other pack untouched */
	assert_int_equal(ask(&b, CHARGE_ON1, sizeof(CHARGE_ON1), r, sizeof(r), 8), 8);
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_int_equal(r[198], 1);
	assert_int_equal(sim_status(&b.sim, "replies"), 4);
	bus_close(&b);
}

/* The valid frame of `type` that `trailer` (8 bytes) follows in r[0..n),
 * or NULL. */
static const uint8_t *frame_before(const uint8_t *r, size_t n, const uint8_t *trailer, uint8_t type)
{
	for (const uint8_t *p = r + 300; p + 8 <= r + n; p++) {
		p = memmem(p, (size_t)(r + n - p), trailer, 8);
		if (!p)
			return NULL;
		const uint8_t *f = p - 300;

		if (f[0] == 0x55 && f[1] == 0xAA && f[2] == 0xEB && f[3] == 0x90 && f[4] == type && f[299] == sum8(f))
			return f;
	}
	return NULL;
}

static void test_master(void **state)
{
	static const char *const args[] = { "--protocol", "pb", "--packs", "2", "--master=0.3", NULL };
	static uint8_t r[8000];
	struct bus b;

	(void)state;
	bus_open(&b, args);
	/* A cycle, unasked: the master (address 0) asks the slave at 1 for its
	 * live data and settings, which it sends; looks for a slave at 2; and
	 * broadcasts its own live frame with an address-0 trailer, then its
	 * settings frame with its own. */
	size_t cycle = 3 * sizeof(LIVE1) + 4 * REPLY; /* three requests, four replies */
	size_t n = collect(&b, r, sizeof(r), cycle, 400);

	assert_true(n >= cycle);
	assert_non_null(memmem(r, n, LIVE1, sizeof(LIVE1)));
	assert_non_null(memmem(r, n, SETTINGS1, sizeof(SETTINGS1)));
	assert_non_null(memmem(r, n, LIVE2, sizeof(LIVE2)));
	assert_non_null(frame_before(r, n, ACK_LIVE1, 0x02));
	assert_non_null(frame_before(r, n, MASTER_LIVE, 0x02));
	const uint8_t *f = frame_before(r, n, MASTER_SETTINGS, 0x01);

	assert_non_null(f);
	assert_int_equal(u32(f, 270), 0);
	/* The master answers nobody; the slave behind it answers at 1. */
	sim_cmd(&b.sim, "master off");
	collect(&b, r, sizeof(r), sizeof(r), 300); /* the rest of the cycle */
	static const uint8_t LIVE0[] = { 0x00, 0x10, 0x16, 0x20, 0x00, 0x01, 0x02, 0x00, 0x00, 0xDB, 0x61 };

	assert_int_equal(ask(&b, LIVE0, sizeof(LIVE0), r, sizeof(r), 1), 0);
	assert_int_equal(ask(&b, LIVE1, sizeof(LIVE1), r, sizeof(r), REPLY), REPLY);
	assert_memory_equal(r + 300, ACK_LIVE1, 8);
	assert_int_equal(collect(&b, r, sizeof(r), 1, 400), 0); /* paused */
	assert_true(sim_status(&b.sim, "broadcasts") >= 1);
	assert_true(sim_status(&b.sim, "master_polls") >= 3);
	assert_int_equal(sim_status(&b.sim, "unanswered"), 1);
	sim_cmd(&b.sim, "master on");
	assert_true(collect(&b, r, sizeof(r), REPLY, 400) >= REPLY);
	bus_close(&b);
}

/* jkbms-sim with these arguments and --exit-on-eof on an empty stdin: its
 * exit status (stdout and stderr dropped). One that takes the arguments
 * runs and exits 0. */
static int sim_exit(const char *const *args)
{
	const char *argv[16] = { SIM_BIN };
	int n = 1, status;

	while (args[n - 1] && n < 14) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n++] = "--exit-on-eof";
	argv[n] = NULL;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execv(SIM_BIN, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_bad_options(void **state)
{
	static const char *const bad[][8] = {
		{ "--packs", "3", NULL },                                              /* needs --protocol pb */
		{ "--protocol", "pb", "--packs", "0", NULL },                          /* 1..15 */
		{ "--protocol", "pb", "--packs", "16", NULL },                         /* 16 only with a master */
		{ "--protocol", "pb", "--packs", "2", "--first-address", "15", NULL }, /* 16 > 15 */
		{ "--protocol", "pb", "--first-address", "0", NULL },                  /* 0 is the master's */
		{ "--protocol", "pb", "--master=-1", NULL },
		{ "--protocol", "pbx", NULL },
	};
	static const char *const good[] = { "--protocol", "pb", "--packs", "16", "--master", NULL };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sim_exit(bad[i]) != 2)
			fail_msg("jkbms-sim %s %s %s %s ... did not exit 2", bad[i][0], bad[i][1] ? bad[i][1] : "",
				 bad[i][1] && bad[i][2] ? bad[i][2] : "",
				 bad[i][1] && bad[i][2] && bad[i][3] ? bad[i][3] : "");
	}
	assert_int_equal(sim_exit(good), 0); /* a master and 15 slaves: runs, and ends with its stdin */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_three_packs), cmocka_unit_test(test_settings_and_info),
		cmocka_unit_test(test_silence),          cmocka_unit_test(test_pack_faults),
		cmocka_unit_test(test_switch_write),     cmocka_unit_test(test_master),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("sim_pb", tests, NULL, NULL);
}
