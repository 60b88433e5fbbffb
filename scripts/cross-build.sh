#!/bin/sh
# SPDX-License-Identifier: MIT
# The armhf build for the GX, proven under qemu user emulation:
#  1. every unit and integration test built for armhf and run under qemu
#     (Cortex-A7, the Cerbo GX's core);
#  2. the fully static release binary (glib, libdbus, libserialport, libc),
#     checked to have no dynamic dependencies;
#  3. that static binary end to end under qemu against the simulator on a
#     private bus: the same checks as on the build machine.
# Usage: scripts/cross-build.sh   (step 3 runs host test programs from build/,
# which is built first when they are missing, as on a fresh clone)
#        scripts/cross-build.sh --static   (step 2 only: the static binary,
# build-armhf-static/dbus-jkbms.stripped, e.g. for scripts/bench.sh)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
sysroot=$("$top/scripts/cross-bootstrap.sh")
. "$top/scripts/ctest-run.sh"

static_binary() {
	cmake -S "$top" -B "$top/build-armhf-static" -DCMAKE_TOOLCHAIN_FILE="$top/cmake/armhf.cmake" -DJK_SYSROOT="$sysroot" \
		-DCMAKE_BUILD_TYPE=Release -DSTATIC_BUILD=ON -DBUILD_TESTING=OFF -DWERROR=ON >/dev/null
	cmake --build "$top/build-armhf-static" -j"$jobs" --target dbus-jkbms 2>&1 | grep -v "statically linked applications requires" | grep -v "^/usr/lib/gcc-cross.*: in function" || true
	arm-linux-gnueabihf-strip -o "$bin.stripped" "$bin"
	"$top/scripts/check-static.sh" "$bin.stripped"
}
bin="$top/build-armhf-static/dbus-jkbms"
if [ "${1:-}" = "--static" ]; then
	static_binary
	exit 0
fi

echo "== armhf build and tests under qemu"
cmake -S "$top" -B "$top/build-armhf" -DCMAKE_TOOLCHAIN_FILE="$top/cmake/armhf.cmake" -DJK_SYSROOT="$sysroot" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERROR=ON >/dev/null
cmake --build "$top/build-armhf" -j"$jobs"
run_ctest "$top/build-armhf" "armhf under qemu"

echo "== armhf static release binary"
static_binary

echo "== the static armhf binary end to end under qemu"
if [ ! -x "$top/build/tests/test_service_control" ] || [ ! -x "$top/build/jkbms-sim" ]; then
	echo "== the host tree (build/), for the end-to-end test programs"
	"$top/scripts/bootstrap.sh"
	cmake -S "$top" -B "$top/build" -DWERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$top/build" -j"$jobs"
fi
wrapper="$top/build-armhf-static/run-dbus-jkbms"
printf '#!/bin/sh\nexec qemu-arm-static -cpu cortex-a7 "%s" "$@"\n' "$bin.stripped" >"$wrapper"
chmod +x "$wrapper"
# test_service_control's cases mostly wait on the service's holds: its
# shards (tests/test_shard.h) run at once, beside the other two.
shards=""
for k in 0 1 2 3; do
	JKBMS_BIN="$wrapper" "$top/build/tests/test_service_control" "$k/4" >"$top/build-armhf-static/control_$k.log" 2>&1 &
	shards="$shards $!"
done
failed=0
for t in test_service test_service_signals; do
	JKBMS_BIN="$wrapper" "$top/build/tests/$t" || failed=1
done
k=0
for p in $shards; do
	wait "$p" || failed=1
	cat "$top/build-armhf-static/control_$k.log"
	k=$((k + 1))
done
[ "$failed" = 0 ] || { echo "cross-build: an end-to-end test failed under qemu" >&2; exit 1; }
"$top/tests/test_decode_cli.sh" "$wrapper" "$top/tests/data"
"$top/tests/test_link_cli.sh" "$wrapper" "$top/build/jkbms-sim"
"$top/tests/test_service_cli.sh" "$wrapper"
echo "cross-build: armhf passed"
