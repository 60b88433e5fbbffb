#!/bin/sh
# SPDX-License-Identifier: MIT
# The fault matrix: each fault is injected into a running service (on a
# private bus, against the simulator) and its outcome observed on D-Bus, as
# a report table. Exit status 1 when any expectation fails.
#   scripts/faults.sh [BUILD_DIR]   (default build/; an ASan build also
#                                    checks that no fault makes it leak)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
b=${1:-$top/build}
dir=$(mktemp -d /tmp/jkbms-faults.XXXXXX)
name=com.victronenergy.battery.ttyFault
fails=0
rows=""
pids=""
svc=""
cleanup() {
	[ -n "$svc" ] && kill "$svc" 2>/dev/null
	[ -n "$pids" ] && kill $pids 2>/dev/null
	exec 9>&- 2>/dev/null
	wait 2>/dev/null
	"$top/scripts/private-bus.sh" stop "$dir" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

get() { "$b/jkbms-view" --get "$1" "$name" 2>/dev/null; }
# wait_for PATH VALUE SECONDS: true once PATH reads VALUE
wait_for() {
	end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -le "$end" ]; do
		[ "$(get "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
row() { # scenario, expectation, result (0 ok)
	if [ "$3" -eq 0 ]; then r=PASS; else r=FAIL; fails=$((fails + 1)); fi
	rows="$rows| $1 | $2 | $r |
"
}
bus_up() {
	eval "$("$top/scripts/private-bus.sh" start "$dir")"
	export DBUS_SYSTEM_BUS_ADDRESS
}
settings_up() {
	"$b/jkbms-fake-settings" >>"$dir/settings.log" 2>&1 &
	settings=$!
	pids="$pids $settings"
}
service_up() { # extra config lines
	printf '[jkbms]\npoll_interval=0.25\nreply_timeout=0.2\nlink_warning=1\nlink_lost=2\nsettings_timeout=1\nstate_dir=%s/state\nprobe_timeout=3\n%s' \
		"$dir" "${1:-}" >"$dir/jkbms.ini"
	"$b/dbus-jkbms" "$dir/ttyFault" --config "$dir/jkbms.ini" >>"$dir/service.log" 2>&1 &
	svc=$!
}
sim() { echo "$*" >&9; }

bus_up
settings_up
mkfifo "$dir/ctl"
"$b/jkbms-sim" --link "$dir/ttyFault" --cells 8 --current 5 <"$dir/ctl" >"$dir/sim.log" 2>&1 &
pids="$pids $!"
exec 9>"$dir/ctl"
for _ in $(seq 50); do [ -e "$dir/ttyFault" ] && break; sleep 0.1; done
service_up
wait_for /Connected 1 8
row "start" "registers, Connected 1" $?

# Faults on the serial side: each must end in lost (zero limits) and recover.
for f in silent garbage badcrc truncated; do
	sim fault "$f"
	wait_for /Connected 0 6 && [ "$(get /Info/MaxChargeCurrent)" = 0 ] && [ "$(get /Alarms/BmsCable)" = 2 ]
	row "BMS $f" "lost after 2 s: CCL 0, BmsCable 2" $?
	sim fault none
	wait_for /Connected 1 6 && wait_for /Alarms/BmsCable 0 3
	row "BMS $f ends" "recovers: Connected 1, BmsCable 0" $?
done
[ "$(get /Diagnostics/Link/Rejected/Checksum)" -gt 0 ] && [ "$(get /Diagnostics/Link/JunkBytes)" -gt 0 ]
row "counters" "checksum rejects and junk bytes counted" $?

sim fault slow 300
sleep 3
[ "$(get /Connected)" = 1 ] && [ "$(get /Diagnostics/Link/Timeouts)" -gt 0 ]
row "slow replies (300 ms > 200 ms deadline)" "retries, stays connected" $?
sim fault echo
sleep 2
[ "$(get /Connected)" = 1 ] && [ "$(get /Diagnostics/Link/Rejected/NotReply)" -gt 0 ]
row "RS-485 echo of requests" "echo dropped, stays connected" $?
sim fault none

reopens=$(get /Diagnostics/Link/Reopens)
sim disconnect 3
wait_for /Connected 0 6
row "USB adapter unplugged" "lost: Connected 0" $?
wait_for /Connected 1 10 && [ "$(get /Diagnostics/Link/Reopens)" -gt "$reopens" ]
row "USB adapter back" "reopened without a restart" $?

# The settings service goes away and comes back: the service carries on.
kill "$settings"
wait "$settings" 2>/dev/null
sleep 1
[ "$(get /Connected)" = 1 ]
row "settings service stops" "battery service unaffected" $?
settings_up
sleep 1
[ "$("$b/jkbms-view" --set /Settings/ForceDischargingOff 0 "$name")" = 0 ]
row "settings service back" "SetValue still answered" $?

# SIGTERM while a MOSFET write is in flight: a clean exit, nothing stale.
[ "$("$b/jkbms-view" --set /Settings/ForceChargingOff 1 "$name")" = 0 ]
kill -TERM "$svc"
st=0
wait "$svc" || st=$?
svc=""
[ "$st" -eq 0 ] && ! grep -q "ERROR: AddressSanitizer\|LeakSanitizer" "$dir/service.log"
row "SIGTERM during a FET write" "exit 0, no sanitizer report" $?
sim fet charge 1
service_up
wait_for /Connected 1 8
row "restart after SIGTERM" "registers again" $?

# The dbus-daemon restarts: the service exits (the supervisor restarts it),
# so no stale limits can stay on any bus.
kill "$(cat "$dir/daemon.pid")"
end=$(( $(date +%s) + 5 ))
while kill -0 "$svc" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.1; done
st=0
kill -0 "$svc" 2>/dev/null && st=1
wait "$svc"
code=$?
svc=""
[ "$st" -eq 0 ] && [ "$code" -eq 1 ] && grep -q "lost the D-Bus connection" "$dir/service.log"
row "dbus-daemon restarts" "service exits 1 for its supervisor" $?
"$top/scripts/private-bus.sh" stop "$dir" >/dev/null 2>&1
bus_up
service_up "device_instance=7"
wait_for /Connected 1 8 && [ "$(get /DeviceInstance)" = 7 ]
row "bus back, no settings service" "registers with the configured instance" $?
settings_up

echo "| fault | expected | result |"
echo "|---|---|---|"
printf '%s' "$rows"
if [ "$fails" -ne 0 ]; then
	echo "faults: $fails failed; service log:" >&2
	tail -40 "$dir/service.log" >&2
	exit 1
fi
echo "faults: all passed"
