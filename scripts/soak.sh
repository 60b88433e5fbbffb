#!/bin/sh
# SPDX-License-Identifier: MIT
# Soak: hours of polling compressed. The service polls every 0.1 s (the
# fastest the protocol allows) against the simulator injecting a random
# fault into 30 % of its replies (silent, garbage, bad checksum, truncated,
# split, slow, echo) and unplugging itself every 20 s. Best run on the ASan
# build (LeakSanitizer checks the exit). Checks: no crash, no leak, no
# growth in resident memory, the link recovers when the faults stop, and the
# service's counters match the faults the simulator injected.
#   scripts/soak.sh [SECONDS] [BUILD_DIR]    (default 60, build-asan/)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
b=${2:-$top/build-asan}
. "$top/scripts/lib/rig.sh"
rig_init soak "$b" || exit 1
dir=$rig_dir
name=com.victronenergy.battery.ttySoak
trap rig_cleanup EXIT
trap 'exit 1' INT TERM
get() { "$b/jkbms-view" --get "$1" "$name" 2>/dev/null; }
field() { echo "$status" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
rss() { awk '$1 == "VmRSS:" {print $2}' /proc/"$rig_daemon_pid"/status; }

rig_bus_start || exit 1
rig_settings_start || exit 1
rig_sim_start "$dir/ttySoak" --cells 16 --current 10 --seed 42 || exit 1
rig_config "$dir/jkbms.ini" poll_interval=0.1 reply_timeout=0.2 link_warning=1 link_lost=2 "state_dir=$dir/state" \
	settings_timeout=2
# No quarantine: ASan would otherwise hold freed memory and grow on its own.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=0:thread_local_quarantine_size_kb=0}
export ASAN_OPTIONS
rig_daemon_start "$dir/ttySoak" "$dir/jkbms.ini"
for _ in $(seq 100); do [ "$(get /Connected)" = 1 ] && break; sleep 0.1; done

rig_sim_ask "fault ${SOAK_FAULT:-random 30}" >/dev/null
sleep 10 # warm up
rss0=""
start=$(date +%s)
disconnects=0
fails=0
while [ $(( $(date +%s) - start )) -lt "$secs" ]; do
	sleep 5
	if ! kill -0 "$rig_daemon_pid" 2>/dev/null; then
		echo "soak: the service died" >&2
		fails=$((fails + 1))
		break
	fi
	el=$(( $(date +%s) - start ))
	if [ $((el % 20)) -lt 5 ] && [ "$el" -lt $((secs - 10)) ]; then
		rig_sim_ask "disconnect 1" >/dev/null
		disconnects=$((disconnects + 1))
	fi
	# The baseline once every kind of fault and an unplug have been through.
	[ -z "$rss0" ] && [ "$disconnects" -ge 1 ] && [ "$el" -ge 10 ] && rss0=$(rss)
done
[ -n "$rss0" ] || rss0=$(rss)
rss1=$(rss)
rig_sim_ask "fault none" >/dev/null
ok=1
for _ in $(seq 100); do [ "$(get /Connected)" = 1 ] && [ "$(get /Alarms/BmsCable)" = 0 ] && ok=0 && break; sleep 0.1; done
# The exact totals come from the service's last log line (the published
# steady counters refresh every 10 s); the simulator's after the service
# has stopped, so nothing is in flight.
code=0
rig_daemon_stop || code=$?
status=$(rig_sim_ask status)
totals=$(grep "link totals:" "$dir/service.log" | tail -1)
total() { echo "$totals" | sed -n "s/.*$1 \([0-9]*\).*/\1/p"; }
polls=$(total "polls")
sent=$(total "requests sent")
checksum=$(total "rejected checksum")
notreply=$(total "rejected echo")
timeouts=$(total "timeouts")
reopens=$(total "reopens")

check() { # description, condition result
	if [ "$2" -eq 0 ]; then echo "| $1 | PASS |"; else echo "| $1 | FAIL |"; fails=$((fails + 1)); fi
}
within() { d=$(( $1 - $2 )); [ "${d#-}" -le "$3" ]; }
echo "soak: ${secs} s at 10 polls/s, $(field faults) faults injected, $disconnects unplugs, $polls polls"
echo "| check | result |"
echo "|---|---|"
check "service alive throughout, SIGTERM exit 0 (got $code)" "$([ "$code" -eq 0 ] && [ "$fails" -eq 0 ]; echo $?)"
check "no sanitizer or leak report" "$(! grep -q 'Sanitizer' "$dir/service.log"; echo $?)"
check "link recovers once faults stop" "$ok"
check "resident memory steady: ${rss0} kB -> ${rss1} kB" "$([ $((rss1 - rss0)) -le 256 ]; echo $?)"
check "checksum rejects $checksum = bad checksums injected $(field f_badcrc)" \
	"$(within "$checksum" "$(field f_badcrc)" "$disconnects"; echo $?)"
check "dropped echoes $notreply = echoes injected $(field f_echo)" \
	"$(within "$notreply" "$(field f_echo)" "$disconnects"; echo $?)"
# The start-up probe's requests are not in the link's totals.
probe=$(sed -n 's/.*4E 57 answered (probe requests: \([0-9]*\)).*/\1/p' "$dir/service.log" | head -1)
sent=$((sent + ${probe:-0}))
check "requests sent $sent (${probe:-0} by the probe) = requests the BMS saw $(field requests)" \
	"$(within "$sent" "$(field requests)" "$disconnects"; echo $?)"
lost=$(( $(field f_silent) + $(field f_truncated) ))
check "timeouts $timeouts >= silent + truncated replies $lost" "$([ "$timeouts" -ge "$lost" ]; echo $?)"
check "reopens $reopens = unplugs $disconnects" "$([ "$reopens" -eq "$disconnects" ]; echo $?)"
if [ "$fails" -ne 0 ]; then
	tail -30 "$dir/service.log" >&2
	exit 1
fi
echo "soak: passed"
