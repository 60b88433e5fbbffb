#!/bin/sh
# SPDX-License-Identifier: MIT
# Every test of dbus-jkbms, as CI runs it (.ci/run calls this):
#   1. a warnings-as-errors build and ctest;
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. a bounded libFuzzer run of the protocol parser (FUZZ_SECONDS, default 60).
# Fails when any test fails or is skipped.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

"$top/scripts/bootstrap.sh" --fuzz

run_ctest() { # build dir, label
	log="$1/ctest.log"
	echo "== ctest ($2)"
	set +e
	ctest --test-dir "$1" --output-on-failure -j"$jobs" --timeout 600 >"$log" 2>&1
	st=$?
	set -e
	cat "$log"
	if [ "$st" -ne 0 ]; then
		echo "test: ctest ($2) failed" >&2
		exit 1
	fi
	if grep -Eq '\*\*\*(Skipped|Not Run)|Disabled' "$log"; then
		echo "test: ctest ($2) skipped a test; a skipped test is a failure here" >&2
		exit 1
	fi
}

echo "== build (warnings as errors)"
cmake -S "$top" -B "$top/build" -DWERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$top/build" -j"$jobs"
run_ctest "$top/build" "debug"

echo "== build (ASan + UBSan)"
cmake -S "$top" -B "$top/build-asan" -DWERROR=ON -DENABLE_SANITIZERS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$top/build-asan" -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_ctest "$top/build-asan" "asan+ubsan"

echo "== fuzz"
"$top/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}"

echo "test: all suites passed"
