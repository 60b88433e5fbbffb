#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks (not tests): print figures, never fail on a slow machine.
# Usage: scripts/bench.sh [seconds]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/bootstrap.sh"
cmake -S "$top" -B "$top/build-rel" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$top/build-rel" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
echo "== codec: deframe + decode of a 16-cell read-all reply, one core"
"$top/build-rel/bench_codec" "${1:-2}"
