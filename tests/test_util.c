/* SPDX-License-Identifier: MIT */
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "sim_model.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must be defined by the build"
#endif

size_t test_load_frame(const char *name, uint8_t *buf, size_t size)
{
	char path[512];
	static char text[8192];

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
	FILE *f = fopen(path, "rb");

	if (!f)
		fail_msg("cannot open %s", path);
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	assert_true(n < sizeof(text));

	int r = hex_parse((const uint8_t *)text, n, buf, size, NULL);

	assert_true(r > 0);
	return (size_t)r;
}

void test_make_snapshot(struct bms_snapshot *s, unsigned n, unsigned seed)
{
	struct bms_settings *c = &s->settings;
	uint32_t sum = 0;

	memset(s, 0, sizeof(*s));
	s->cell_count = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		s->cell_mv[i] = (uint16_t)(3280 + (i * 7 + seed) % 23);
		sum += s->cell_mv[i];
	}
	s->voltage_mv = sum / 10 * 10; /* the wire carries 10 mV */
	s->current_ma = (int32_t)((seed * 1237) % 40000) - 20000;
	s->current_ma = s->current_ma / 10 * 10;
	s->temp_c[BMS_TEMP_MOSFET] = (int16_t)(25 + seed % 10);
	s->temp_c[BMS_TEMP_T1] = (int16_t)((int)(seed % 50) - 20);
	s->temp_c[BMS_TEMP_T2] = (int16_t)(-40 + (int)(seed % 3));
	s->soc_pct = (uint8_t)(seed % 101);
	s->temp_sensor_count = 2;
	s->cycles = (uint16_t)(seed % 500);
	s->cycle_capacity_ah = 280u * s->cycles;
	s->cell_count_reported = (uint16_t)n;
	s->alarms = (uint16_t)(seed & 0x3FFF);
	s->status = (uint16_t)(seed % 16);
	sim_lfp_settings(c, n);
	/* Wire-format corners: 10 mV pack values, two's complement temperatures. */
	c->pack_ovp_mv = 3650u * n / 10 * 10;
	c->pack_uvp_mv = 2650u * n / 10 * 10;
	c->discharge_ocp_a = 200;
	c->charge_ocp_a = 150;
	c->charge_utp_c = -20;
	c->charge_utpr_c = -10;
	c->current_calibration_ma = 1041;
	strcpy(s->device_id, "Input Us");
	strcpy(s->manufacturing_date, "2406");
	s->runtime_min = 1000u * seed;
	strcpy(s->software_version, "11.XW_S11.26");
	s->has_extended = true;
	s->protocol_version = 1;
	c->actual_capacity_ah = 280;
	strcpy(s->manufacturer, "Input UserdaJK_B2A24S15P");
}
