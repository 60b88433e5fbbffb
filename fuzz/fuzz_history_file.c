/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the history file's parser: any bytes, once as they
 * are and once with a correct checksum appended (so the key-file parsing
 * and the range checks behind the checksum are reached), are either
 * accepted with plausible values or refused with a reason; never a crash,
 * a leak or a read past the input.
 */
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "history_file.h"
#include "fuzz_check.h"

static void one(const char *text, size_t len)
{
	struct history_values v;
	char err[256] = "";
	int r = history_file_parse(text, len, "jkbms_fuzz", &v, err, sizeof(err));

	CHECK(r == 0 || r == -EINVAL);
	if (r < 0)
		CHECK(err[0] != '\0');
	else
		CHECK(history_values_plausible(&v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one((const char *)data, size);
	/* The checksum covers every byte up to the newline before "[check]". */
	GString *text = g_string_new_len((const gchar *)data, (gssize)size);

	g_string_append_c(text, '\n');
	gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text->str, text->len);

	g_string_append_printf(text, "[check]\nsha256=%s\n", sum);
	one(text->str, text->len);
	g_free(sum);
	g_string_free(text, TRUE);
	return 0;
}
