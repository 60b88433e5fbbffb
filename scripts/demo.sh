#!/bin/sh
# SPDX-License-Identifier: MIT
# The product without hardware: builds if needed, starts a private system-bus
# stand-in, the settings stand-in, the BMS simulator and dbus-jkbms, and shows
# a live view read back from D-Bus every second until Ctrl-C, which stops
# everything it started.
#   scripts/demo.sh [--seconds N] [--cells N] [-- simulator options]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=0
cells=16
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--cells) cells=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--seconds N] [--cells N] [-- simulator options]" >&2; exit 2 ;;
	esac
done

"$top/scripts/bootstrap.sh"
build="$top/build"
[ -f "$build/CMakeCache.txt" ] || cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target dbus-jkbms jkbms-sim jkbms-fake-settings jkbms-view >/dev/null

dir=$(mktemp -d /tmp/jkbms-demo.XXXXXX)
pids=""
cleanup() {
	trap - EXIT INT TERM
	[ -n "$pids" ] && kill $pids 2>/dev/null || true
	[ -e "$dir/ctl" ] && exec 9>&- 2>/dev/null || true
	wait 2>/dev/null || true
	"$top/scripts/private-bus.sh" stop "$dir" >/dev/null 2>&1 || true
	echo
	echo "demo: stopped; logs were in $dir (removed)"
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

eval "$("$top/scripts/private-bus.sh" start "$dir")"
export DBUS_SYSTEM_BUS_ADDRESS
echo "demo: private system bus at $DBUS_SYSTEM_BUS_ADDRESS"

"$build/jkbms-fake-settings" >"$dir/settings.log" 2>&1 &
pids="$pids $!"

# The simulator reads commands from a pipe we hold open; its time runs
# 60 times faster so that SoC and cell voltages visibly move.
mkfifo "$dir/ctl"
"$build/jkbms-sim" --link "$dir/ttyUSB0" --cells "$cells" --soc 55 --current 5 --speed 60 "$@" \
	<"$dir/ctl" >"$dir/sim.log" 2>&1 &
pids="$pids $!"
exec 9>"$dir/ctl"
echo "sine 20 600" >&9
for _ in $(seq 50); do [ -e "$dir/ttyUSB0" ] && break; sleep 0.1; done

printf '[jkbms]\nsettings_timeout=3\nstate_dir=%s/state\n' "$dir" >"$dir/jkbms.ini"
"$build/dbus-jkbms" "$dir/ttyUSB0" --config "$dir/jkbms.ini" >"$dir/service.log" 2>&1 &
pids="$pids $!"
echo "demo: dbus-jkbms started on $dir/ttyUSB0 (simulated 16S LiFePO4); Ctrl-C stops everything"
sleep 1
sed 's/^/service: /' "$dir/service.log"

if [ "$seconds" -gt 0 ]; then
	"$build/jkbms-view" --once com.victronenergy.battery.ttyUSB0
	end=$(( $(date +%s) + seconds ))
	while [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
	echo
	"$build/jkbms-view" --once com.victronenergy.battery.ttyUSB0
else
	"$build/jkbms-view" com.victronenergy.battery.ttyUSB0
fi
