/* SPDX-License-Identifier: MIT */
/* JK PB packs on a pseudo-terminal (pb_peer.h). */
#define _GNU_SOURCE
#include "pb_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "hex.h"

#define MASTER_PERIOD_US 400000
#define GARBAGE_PERIOD_US 15000

void pb_peer_serial(uint8_t addr, char *buf, size_t size)
{
	snprintf(buf, size, "401194914%02u", addr);
}

void pb_peer_swapped_serial(uint8_t addr, char *buf, size_t size)
{
	snprintf(buf, size, "501194914%02u", addr);
}

/* tests/data/<name> (a hex dump), its first 300 bytes. */
static void load(const char *name, uint8_t *f)
{
	char *path = g_strdup_printf("%s/%s", TEST_DATA_DIR, name);
	gchar *text = NULL;
	gsize len = 0;
	uint8_t buf[400];

	assert_true(g_file_get_contents(path, &text, &len, NULL));
	assert_true(hex_parse((const uint8_t *)text, len, buf, sizeof(buf), NULL) >= PB_FRAME_LEN);
	memcpy(f, buf, PB_FRAME_LEN);
	g_free(text);
	g_free(path);
}

static int pty_open(struct pb_peer *p)
{
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !ptsname(m))
		return -1;
	snprintf(p->pty, sizeof(p->pty), "%s", ptsname(m));
	/* Held open by us: the service's reopen finds the same pty, and
	 * closing both is a real hang-up. */
	p->slave = open(p->pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	tcgetattr(p->slave, &tio);
	cfmakeraw(&tio);
	cfsetspeed(&tio, B115200);
	tcsetattr(p->slave, TCSANOW, &tio);
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	p->master = m;
	for (unsigned a = 0; a < 16; a++) {
		p->settings_seen[a] = 0;
		g_atomic_int_set(&p->settings_before_live[a], -1);
	}
	g_atomic_int_inc(&p->opens);
	unlink(p->link);
	return symlink(p->pty, p->link);
}

static void pty_close(struct pb_peer *p)
{
	unlink(p->link);
	close(p->master);
	close(p->slave);
	p->master = p->slave = -1;
}

static void put(struct pb_peer *p, const uint8_t *d, size_t n)
{
	while (n > 0) {
		ssize_t w = write(p->master, d, n);

		if (w < 0 && errno == EAGAIN) {
			g_usleep(1000);
			continue;
		}
		if (w <= 0)
			return;
		d += w;
		n -= (size_t)w;
	}
}

/* The reply of pack addr to a trigger of `type`: its frame and the
 * acknowledgement; pack 2 has an adapter that adds a 00 between them. */
static void answer(struct pb_peer *p, uint8_t addr, unsigned type)
{
	uint8_t out[PB_FRAME_LEN + 1 + PB_ACK_LEN];
	size_t n = PB_FRAME_LEN;
	char serial[16];

	memcpy(out, type == PB_TYPE_LIVE ? p->live : type == PB_TYPE_SETTINGS ? p->settings : p->info, PB_FRAME_LEN);
	if (type == PB_TYPE_LIVE)
		out[173] = (uint8_t)(50 + addr); /* SoC */
	if (type == PB_TYPE_SETTINGS)
		out[270] = addr;
	if (type == PB_TYPE_INFO) {
		if (g_atomic_int_get(&p->swapped[addr]))
			pb_peer_swapped_serial(addr, serial, sizeof(serial));
		else
			pb_peer_serial(addr, serial, sizeof(serial));
		memcpy(out + 86, serial, strlen(serial));
	}
	pb_seal(out);
	if (addr == 2)
		out[n++] = 0x00;
	n += (size_t)pb_build_ack(addr, pb_trigger_register(type), out + n, PB_ACK_LEN);
	g_usleep(3000); /* the pack thinks */
	put(p, out, n);
}

/* Complete trigger requests in buf: answered (or not) and consumed. */
static size_t serve(struct pb_peer *p, uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i + PB_REQUEST_LEN <= len) {
		const uint8_t *r = buf + i;
		unsigned type = r[3] == 0x20 ? PB_TYPE_LIVE
			: r[3] == 0x1E       ? PB_TYPE_SETTINGS
			: r[3] == 0x1C       ? PB_TYPE_INFO
					     : 0;

		if (r[0] < 16 && r[1] == 0x10 && r[2] == 0x16 && type &&
		    pb_crc16(r, 9) == (uint16_t)(r[9] | r[10] << 8)) {
			g_atomic_int_inc(&p->requests[r[0]][type]);
			if (type == PB_TYPE_SETTINGS)
				p->settings_seen[r[0]]++;
			if (type == PB_TYPE_LIVE && g_atomic_int_get(&p->settings_before_live[r[0]]) < 0)
				g_atomic_int_set(&p->settings_before_live[r[0]], p->settings_seen[r[0]]);
			if (g_atomic_int_get(&p->present[r[0]]) && g_atomic_int_get(&p->deaf[r[0]]) > 0)
				g_atomic_int_add(&p->deaf[r[0]], -1);
			else if (g_atomic_int_get(&p->present[r[0]]) && !g_atomic_int_get(&p->silent[r[0]]))
				answer(p, r[0], type);
			i += PB_REQUEST_LEN;
			continue;
		}
		i++; /* not a request here (a 4E 57 probe, say) */
	}
	return i;
}

static void spew(struct pb_peer *p)
{
	uint8_t junk[48];

	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)g_random_int();
	put(p, junk, sizeof(junk));
}

static void broadcast(struct pb_peer *p)
{
	uint8_t out[PB_FRAME_LEN + PB_ACK_LEN];

	memcpy(out, p->master_live, PB_FRAME_LEN);
	pb_build_ack(0, PB_REG_LIVE, out + PB_FRAME_LEN, PB_ACK_LEN);
	put(p, out, sizeof(out));
}

static gpointer run(gpointer data)
{
	struct pb_peer *p = data;
	uint8_t buf[1024];
	size_t len = 0;
	int64_t last_junk = 0, last_master = 0;

	while (!g_atomic_int_get(&p->stop)) {
		if (g_atomic_int_get(&p->unplugged)) {
			if (p->master >= 0)
				pty_close(p);
			g_usleep(10000);
			continue;
		}
		if (p->master < 0 && pty_open(p) < 0)
			break;
		GPollFD pfd = { .fd = p->master, .events = G_IO_IN };

		if (g_poll(&pfd, 1, 5) > 0) {
			ssize_t n = read(p->master, buf + len, sizeof(buf) - len);

			if (n > 0 && g_atomic_int_get(&p->first_rx_ms) < 0)
				g_atomic_int_set(&p->first_rx_ms,
						 (gint)((g_get_monotonic_time() - p->start_us) / 1000));
			if (n > 0)
				len += (size_t)n;
			size_t used = serve(p, buf, len);

			memmove(buf, buf + used, len - used);
			len -= used;
			if (len == sizeof(buf))
				len = 0;
		}
		int64_t now = g_get_monotonic_time();

		if (g_atomic_int_get(&p->garbage) && now - last_junk > GARBAGE_PERIOD_US) {
			spew(p);
			last_junk = now;
		}
		if (g_atomic_int_get(&p->master_pack) && now - last_master > MASTER_PERIOD_US) {
			broadcast(p);
			last_master = now;
		}
	}
	if (p->master >= 0)
		pty_close(p);
	return NULL;
}

void pb_peer_start(struct pb_peer *p, const char *tty, uint16_t mask)
{
	memset(p, 0, sizeof(*p));
	p->master = p->slave = -1;
	p->first_rx_ms = -1;
	p->start_us = g_get_monotonic_time();
	snprintf(p->dir, sizeof(p->dir), "%s/pbpeer-XXXXXX", g_get_tmp_dir());
	assert_non_null(g_mkdtemp(p->dir));
	snprintf(p->link, sizeof(p->link), "%s/%s", p->dir, tty);
	load("pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex", p->live);
	load("pb/pb-settings-rs485-mrmanuel-addr3-fw15.41.hex", p->settings);
	load("pb/pb-devinfo-rs485-mrmanuel-addr3-fw15.41.hex", p->info);
	load("pb/pb-cell-rs485-phinix-master-addr0-broadcast.hex", p->master_live);
	for (unsigned a = 0; a < 16; a++)
		p->present[a] = (mask >> a) & 1;
	assert_int_equal(pty_open(p), 0);
	p->thread = g_thread_new("pb-peer", run, p);
}

void pb_peer_stop(struct pb_peer *p)
{
	if (!p->thread)
		return;
	g_atomic_int_set(&p->stop, 1);
	g_thread_join(p->thread);
	p->thread = NULL;
	rmdir(p->dir);
}
