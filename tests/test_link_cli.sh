#!/bin/sh
# SPDX-License-Identifier: MIT
# `dbus-jkbms --once` and `--list-ports` as a user runs them, against the
# simulator on a real pseudo-terminal.
set -u
bin=$1
sim=$2
tmp=$(mktemp -d)
simpid=
cleanup() { [ -n "$simpid" ] && kill "$simpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
passes=0
check() { if [ "$2" -eq 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi; }
contains() { grep -qF -- "$2" "$1"; }

start_sim() { # extra args
	mkfifo "$tmp/ctl.$$" 2>/dev/null || true
	"$sim" --link "$tmp/ttyJK" "$@" <"$tmp/ctl.$$" >"$tmp/sim.out" 2>&1 &
	simpid=$!
	exec 9>"$tmp/ctl.$$"
	for _ in $(seq 50); do [ -e "$tmp/ttyJK" ] && return 0; sleep 0.1; done
	echo "simulator did not start" >&2
	exit 1
}
stop_sim() { echo quit >&9; exec 9>&-; wait "$simpid" 2>/dev/null; simpid=; rm -f "$tmp/ctl.$$"; }

start_sim --cells 4 --current 3.5 --soc 42
"$bin" --once "$tmp/ttyJK" >"$tmp/out" 2>"$tmp/err"
check "--once exits 0 ($?)" $?
contains "$tmp/out" "Cells:   4:"; check "--once prints 4 cells" $?
contains "$tmp/out" "+3.50 A"; check "--once prints the current" $?
contains "$tmp/out" "SoC 42 %"; check "--once prints the SoC" $?
"$bin" --once "$tmp/ttyJK" --json >"$tmp/out" 2>"$tmp/err"
check "--once --json exits 0" $?
contains "$tmp/out" '"current_a":3.50,'; check "--json current" $?
contains "$tmp/out" '"soc_pct":42,'; check "--json SoC" $?
# Flags and DEVICE in any order; --once=DEVICE as before.
for args in "--once --json $tmp/ttyJK" "$tmp/ttyJK --once --json" "--json --once $tmp/ttyJK" \
	"--once=$tmp/ttyJK --json" "--json $tmp/ttyJK --baud 115200 --once"; do
	# shellcheck disable=SC2086 # the words are the arguments
	"$bin" $args >"$tmp/out" 2>"$tmp/err"
	check "$args exits 0" $?
	contains "$tmp/out" '"soc_pct":42,'; check "$args prints JSON" $?
done

echo "fault silent" >&9
# protocol auto: 4E 57 and then every PB address is asked, for 2 s here.
"$bin" --once "$tmp/ttyJK" --probe-timeout 2 >"$tmp/out" 2>"$tmp/err"
test $? -eq 1; check "silent BMS exits 1" $?
contains "$tmp/err" "no answer to"; check "silence explained" $?
contains "$tmp/err" "check the wiring"; check "wiring hint" $?

echo "fault badcrc" >&9
"$bin" --once "$tmp/ttyJK" --probe-timeout 2 >"$tmp/out" 2>"$tmp/err"
test $? -eq 1; check "bad checksums exit 1" $?
contains "$tmp/err" "garbage:"; check "garbage explained" $?
contains "$tmp/err" "x checksum"; check "checksum named" $?
stop_sim

"$bin" --once "$tmp/nonexistent" >/dev/null 2>"$tmp/err"
test $? -eq 1; check "missing device exits 1" $?
contains "$tmp/err" "cannot open: No such file or directory"; check "missing device named" $?
"$bin" --once "$tmp/x" --baud 12 >/dev/null 2>"$tmp/err"
test $? -eq 2; check "bad baud exits 2" $?
contains "$tmp/err" "invalid option: baud: invalid value '12'"; check "bad baud named" $?

# Usage errors exit 2 and name the problem, before any device is opened.
"$bin" --once --json >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--once without DEVICE exits 2" $?
contains "$tmp/err" "no DEVICE given"; check "--once without DEVICE explained" $?
"$bin" --once "$tmp/a" --json "$tmp/b" >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--once with two devices exits 2" $?
contains "$tmp/err" "more than one DEVICE given: '$tmp/a' and '$tmp/b'"; check "two devices named" $?
"$bin" --once=/dev/a /dev/b >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--once=DEVICE and another DEVICE exits 2" $?
"$bin" --once --jsn "$tmp/a" >/dev/null 2>"$tmp/err"
test $? -eq 2; check "unknown option with --once exits 2" $?
contains "$tmp/err" "unrecognized option" && contains "$tmp/err" "jsn"; check "unknown option named" $?
"$bin" --list-ports /dev/ttyUSB0 >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--list-ports with a DEVICE exits 2" $?
contains "$tmp/err" "unexpected argument '/dev/ttyUSB0' (--list-ports takes no DEVICE)"; check "extra argument named" $?

"$bin" --list-ports >"$tmp/out" 2>"$tmp/err"
check "--list-ports exits 0" $?
test -s "$tmp/out"; check "--list-ports prints something" $?

echo "link_cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
