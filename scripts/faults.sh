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
. "$top/scripts/lib/rig.sh"
rig_init faults "$b" || exit 1
dir=$rig_dir
name=com.victronenergy.battery.ttyFault
fails=0
rows=""
trap rig_cleanup EXIT
trap 'exit 1' INT TERM

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
service_up() { # extra config lines
	rig_config "$dir/jkbms.ini" poll_interval=0.25 reply_timeout=0.2 link_warning=1 link_lost=2 settings_timeout=1 \
		"state_dir=$dir/state" probe_timeout=3 "$@"
	rig_daemon_start "$dir/ttyFault" "$dir/jkbms.ini"
}

rig_bus_start || exit 1
rig_settings_start || exit 1
rig_sim_start "$dir/ttyFault" --cells 8 --current 5 || exit 1
service_up
wait_for /Connected 1 8
row "start" "registers, Connected 1" $?

# Faults on the serial side: each must end in lost (zero limits) and recover.
for f in silent garbage badcrc truncated; do
	rig_sim fault "$f"
	wait_for /Connected 0 6 && [ "$(get /Info/MaxChargeCurrent)" = 0 ] && [ "$(get /Alarms/BmsCable)" = 2 ]
	row "BMS $f" "lost after 2 s: CCL 0, BmsCable 2" $?
	rig_sim fault none
	wait_for /Connected 1 6 && wait_for /Alarms/BmsCable 0 3
	row "BMS $f ends" "recovers: Connected 1, BmsCable 0" $?
done
[ "$(get /Diagnostics/Link/Rejected/Checksum)" -gt 0 ] && [ "$(get /Diagnostics/Link/JunkBytes)" -gt 0 ]
row "counters" "checksum rejects and junk bytes counted" $?

rig_sim fault slow 300
sleep 3
[ "$(get /Connected)" = 1 ] && [ "$(get /Diagnostics/Link/Timeouts)" -gt 0 ]
row "slow replies (300 ms > 200 ms deadline)" "retries, stays connected" $?
rig_sim fault echo
sleep 2
[ "$(get /Connected)" = 1 ] && [ "$(get /Diagnostics/Link/Rejected/NotReply)" -gt 0 ]
row "RS-485 echo of requests" "echo dropped, stays connected" $?
rig_sim fault none

reopens=$(get /Diagnostics/Link/Reopens)
rig_sim disconnect 3
wait_for /Connected 0 6
row "USB adapter unplugged" "lost: Connected 0" $?
wait_for /Connected 1 10 && [ "$(get /Diagnostics/Link/Reopens)" -gt "$reopens" ]
row "USB adapter back" "reopened without a restart" $?

# The settings service goes away and comes back: the service carries on.
rig_settings_stop
sleep 1
[ "$(get /Connected)" = 1 ]
row "settings service stops" "battery service unaffected" $?
rig_settings_start
sleep 1
[ "$("$b/jkbms-view" --set /Settings/ForceDischargingOff 0 "$name")" = 0 ]
row "settings service back" "SetValue still answered" $?

# SIGTERM while a MOSFET write is in flight: a clean exit, nothing stale.
[ "$("$b/jkbms-view" --set /Settings/ForceChargingOff 1 "$name")" = 0 ]
st=0
rig_daemon_stop || st=$?
[ "$st" -eq 0 ] && ! grep -q "ERROR: AddressSanitizer\|LeakSanitizer" "$dir/service.log"
row "SIGTERM during a FET write" "exit 0, no sanitizer report" $?
rig_sim fet charge 1
service_up
wait_for /Connected 1 8
row "restart after SIGTERM" "registers again" $?

# The dbus-daemon restarts: the service exits (the supervisor restarts it),
# so no stale limits can stay on any bus.
rig_bus_stop
code=0
rig_daemon_wait 5 || code=$?
[ "$code" -eq 1 ] && grep -q "lost the D-Bus connection" "$dir/service.log"
row "dbus-daemon restarts" "service exits 1 for its supervisor" $?
rig_bus_start
service_up "device_instance=7"
wait_for /Connected 1 8 && [ "$(get /DeviceInstance)" = 7 ]
row "bus back, no settings service" "registers with the configured instance" $?
rig_settings_start

echo "| fault | expected | result |"
echo "|---|---|---|"
printf '%s' "$rows"
if [ "$fails" -ne 0 ]; then
	echo "faults: $fails failed; service log:" >&2
	tail -40 "$dir/service.log" >&2
	exit 1
fi
echo "faults: all passed"
