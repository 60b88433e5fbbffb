#!/bin/sh
# SPDX-License-Identifier: MIT
# What dbus-jkbms can show today: decode the real captured JK-BMS replies in
# tests/data with `dbus-jkbms --decode` and print them as JSON. The vendor's
# worked example carries a wrong checksum and is rejected with the reason.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/bootstrap.sh"
if [ ! -x "$top/build/dbus-jkbms" ]; then
	cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$top/build" -j"$(nproc 2>/dev/null || echo 2)" --target dbus-jkbms >/dev/null

for f in "$top"/tests/data/*.hex; do
	echo "== $(basename "$f")"
	"$top/build/dbus-jkbms" --decode "$f" || echo "(exit status $?)"
	echo
done
