/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration parser: any text is either
 * accepted with every value inside its documented range, or refused with a
 * message; never a crash, a leak or a read past the input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_check.h"

static void quiet(const char *line)
{
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[320];

	config_defaults(&c);
	err[0] = '\0';
	int r = config_load_data(&c, (const char *)data, size, "fuzz.ini", quiet, err, sizeof(err));

	CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(c.baud >= 1200 && c.baud <= 921600);
	CHECK(c.poll.interval_ms >= 100 && c.poll.interval_ms <= 60000);
	CHECK(c.poll.lost_ms >= 2000);
	CHECK(c.device_instance >= 0 && c.device_instance <= 999);
	CHECK(c.policy.rebulk_soc_pct <= 100);
	CHECK(c.policy.full_charge_days <= 365);
	CHECK(c.policy.charge_cell_mv == 0 || (c.policy.charge_cell_mv >= 2000 && c.policy.charge_cell_mv <= 4500));
	CHECK(c.policy.charge_min_temp_c == POLICY_UNSET_TEMP ||
	      (c.policy.charge_min_temp_c >= -40 && c.policy.charge_min_temp_c <= 60));
	CHECK(strlen(c.state_dir) < sizeof(c.state_dir));
	return 0;
}
