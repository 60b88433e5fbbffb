/* SPDX-License-Identifier: MIT */
/* A snapshot as a few lines of text for people (`dbus-jkbms --once`). Pure. */
#ifndef BMS_TEXT_H
#define BMS_TEXT_H

#include <stddef.h>

#include "bms_types.h"

#define BMS_TEXT_MAX 2048

/* Returns the length written, or -ENOSPC (buf then holds a truncated string). */
int bms_text_format(const struct bms_snapshot *s, char *buf, size_t size);

#endif
