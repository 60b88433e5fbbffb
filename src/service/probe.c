/* SPDX-License-Identifier: MIT */
/*
 * Finding what speaks on a port (probe.h): one 4E 57 read, then one PB
 * live-data trigger per configured address, each waiting for its reply
 * only as long as the family's reply timeout, all within the probe time;
 * once a PB pack answered, the addresses still silent are asked once more.
 * A master pack (address 0) broadcasting by itself is reported.
 */
#define G_LOG_DOMAIN "probe"

#include "probe.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "bms_driver.h"
#include "log.h"
#include "transport.h"

/* The longest one exchange may take, even while bytes keep coming. */
#define EXCHANGE_MAX_MS 1000

struct probe {
	struct transport *t;
	const char *device;
	uint64_t deadline_ms;
	uint64_t last_bus_ms; /* last byte sent or received */
	uint32_t gap_ms;
	bool master_logged;
	struct probe_stats stats;
};

static uint64_t now_ms(void)
{
	return (uint64_t)(g_get_monotonic_time() / 1000);
}

static void sleep_until(uint64_t t)
{
	uint64_t now = now_ms();

	if (t > now)
		g_usleep((gulong)((t - now) * 1000));
}

static void master_heard(struct probe *pr)
{
	if (!pr->master_logged)
		LOG_WARN("%s: a master pack (address 0) is broadcasting on this bus: give every pack an address 1..15 "
			 "with its DIP switches (none at 0), then restart it",
			 pr->device);
	pr->master_logged = true;
}

/* Feed what arrived; true when a frame from addr (or any, addr < 0) came. */
static bool take_bytes(struct probe *pr, const struct bms_driver *drv, struct bms_rx *rx, int addr)
{
	uint8_t buf[512];
	bool got = false;
	ssize_t n;

	while ((n = transport_read(pr->t, buf, sizeof(buf))) > 0) {
		const uint8_t *p = buf;
		size_t left = (size_t)n;

		pr->stats.bytes_in += (uint64_t)n;
		for (;;) {
			struct bms_frame f;
			struct codec_error e;
			size_t used = 0;
			int r;

			f.addr = -1;
			r = drv->rx_feed(rx, p, left, &used, &f, &e);
			p += used;
			left -= used;
			if (r == 0)
				break;
			if (r < 0) {
				pr->stats.rejects[e.reason]++;
				continue;
			}
			if (f.addr == 0 && addr != 0)
				master_heard(pr);
			else if (f.addr < 0 || f.addr == addr)
				got = true;
		}
		/* Only a frame that is arriving extends the wait: junk
		 * does not (an adapter that spews garbage). */
		if (drv->rx_pending(rx) > 0)
			pr->last_bus_ms = now_ms();
	}
	return got;
}

/* Send one request and wait for a frame: `timeout` after the request or
 * after the last byte of a frame still arriving, EXCHANGE_MAX_MS in all,
 * never past the deadline. */
static bool exchange(struct probe *pr, const struct bms_driver *drv, const uint8_t *req, size_t len, int addr,
		     uint32_t timeout)
{
	struct bms_rx rx;
	bool got = false;

	memset(&rx, 0, sizeof(rx));
	drv->rx_reset(&rx);
	sleep_until(pr->last_bus_ms + pr->gap_ms);
	transport_flush_input(pr->t);
	if (transport_write(pr->t, req, len) < 0)
		return false;
	pr->stats.requests++;

	uint64_t start = now_ms(), end = MIN(start + EXCHANGE_MAX_MS, pr->deadline_ms);

	pr->last_bus_ms = start;
	while (!got) {
		uint64_t now = now_ms(), until = MIN(pr->last_bus_ms + timeout, end);
		GPollFD pfd = { .fd = transport_fd(pr->t), .events = G_IO_IN };

		if (now >= until)
			break;
		/* g_poll(), not poll(): a test fixture defines a poll() of its own. */
		if (g_poll(&pfd, 1, (gint)(until - now)) < 0 && errno != EINTR)
			break;
		got = take_bytes(pr, drv, &rx, addr);
	}
	pr->stats.junk_bytes += drv->rx_junk(&rx);
	return got;
}

static bool probe_4e57(struct probe *pr, const struct config *cfg)
{
	uint8_t req[BMS_REQUEST_MAX];
	int len = bms_driver_4e57.read_request(0, req, sizeof(req));

	pr->gap_ms = cfg->poll.min_gap_ms;
	return len > 0 && exchange(pr, &bms_driver_4e57, req, (size_t)len, -1, cfg->poll.reply_timeout_ms);
}

/* One live-data trigger per address not found yet. */
static void probe_pb(struct probe *pr, const struct config *cfg, uint16_t *found)
{
	struct poller_config pc = cfg->poll;

	poller_config_for(&pc, &bms_driver_pb);
	pr->gap_ms = pc.min_gap_ms;
	for (unsigned a = PB_ADDR_MIN; a <= PB_ADDR_MAX; a++) {
		uint8_t req[BMS_REQUEST_MAX];

		if (!(cfg->pb_addresses & (1u << a)) || (*found & (1u << a)))
			continue;
		if (now_ms() + pc.reply_timeout_ms > pr->deadline_ms)
			return;
		int len = bms_driver_pb.read_request((uint8_t)a, req, sizeof(req));

		if (len > 0 && exchange(pr, &bms_driver_pb, req, (size_t)len, (int)a, pc.reply_timeout_ms)) {
			*found |= (uint16_t)(1u << a);
			LOG_INFO("%s: JK PB pack at address %u", pr->device, a);
		}
	}
}

static void fill_pb(uint16_t found, struct port_units *out)
{
	memset(out, 0, sizeof(*out));
	out->driver = &bms_driver_pb;
	for (unsigned a = PB_ADDR_MIN; a <= PB_ADDR_MAX; a++) {
		if (found & (1u << a))
			out->addresses[out->count++] = (uint8_t)a;
	}
}

static int done(struct probe *pr, struct probe_stats *stats, int ret)
{
	transport_free(pr->t);
	if (stats)
		*stats = pr->stats;
	return ret;
}

int probe_port(const struct config *cfg, const char *device, uint32_t budget_ms, struct port_units *out,
	       struct probe_stats *stats)
{
	struct probe pr = { .device = device };
	uint16_t found = 0;
	int r = transport_open(device, cfg->baud, &pr.t);

	if (r < 0)
		return r;
	pr.deadline_ms = now_ms() + budget_ms;
	pr.last_bus_ms = 0;
	while (now_ms() < pr.deadline_ms && !found) {
		if (cfg->protocol != CONFIG_PROTOCOL_PB && probe_4e57(&pr, cfg)) {
			LOG_INFO("%s: a JK-BMS speaking 4E 57 answered (probe requests: %llu)", device,
				 (unsigned long long)pr.stats.requests);
			port_units_single(out);
			return done(&pr, stats, 0);
		}
		if (cfg->protocol != CONFIG_PROTOCOL_4E57)
			probe_pb(&pr, cfg, &found);
	}
	if (!found)
		return done(&pr, stats, -ENODEV);
	/* A pack that missed its one question (a corrupted frame, a pack a
	 * moment late) is asked once more before the port settles, within the
	 * same deadline (docs/protocol-pb.md "Finding the packs"). */
	probe_pb(&pr, cfg, &found);
	fill_pb(found, out);
	return done(&pr, stats, 0);
}
