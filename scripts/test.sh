#!/bin/sh
# SPDX-License-Identifier: MIT
# Every test of dbus-jkbms, as CI runs it (.ci/run calls this):
#   0. the tree is formatted (.clang-format, scripts/format.sh --check);
#   1. a warnings-as-errors build and ctest;
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the fault matrix and a short soak (SOAK_SECONDS, default 60) on the
#      sanitizer build;
#   4. bounded libFuzzer runs of the protocol parser, the configuration
#      parser and the D-Bus SetValue handling (FUZZ_SECONDS per target,
#      default 20; as many targets at once as there are cores);
#   5. the armhf cross build: its tests under qemu, the static release
#      binary, that binary end to end under qemu, and the release archive
#      installed into a GX-like root (set CROSS=0 to leave this out).
# Fails when any test fails or is skipped.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

"$top/scripts/bootstrap.sh" --fuzz

. "$top/scripts/ctest-run.sh"
# The longest host tests mostly wait on the service's own timers (holds of
# 30 s and more), so one more test than there are cores shortens the run
# without starving them; the armhf run under qemu keeps one per core.
ctest_jobs=$((jobs + 1))

echo "== format"
"$top/scripts/format.sh" --check

echo "== build (warnings as errors)"
cmake -S "$top" -B "$top/build" -DWERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$jobs"
run_ctest "$top/build" "debug"

echo "== build (ASan + UBSan)"
cmake -S "$top" -B "$top/build-asan" -DWERROR=ON -DENABLE_SANITIZERS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$top/build-asan" -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_ctest "$top/build-asan" "asan+ubsan"

echo "== fault matrix (ASan build)"
ASAN_OPTIONS=detect_leaks=1 "$top/scripts/faults.sh" "$top/build-asan"

echo "== soak (ASan build, ${SOAK_SECONDS:-60} s)"
"$top/scripts/soak.sh" "${SOAK_SECONDS:-60}" "$top/build-asan"

echo "== fuzz"
"$top/scripts/fuzz.sh" "${FUZZ_SECONDS:-20}"

if [ "${CROSS:-1}" != 0 ]; then
	"$top/scripts/cross-build.sh"
	archive=$("$top/scripts/package.sh" --no-build)
	"$top/tests/test_install.sh" "$top" "$archive"
fi

echo "test: all suites passed"
