#!/bin/sh
# SPDX-License-Identifier: MIT
# jkbms-view as the demo runs it: three battery services on a private bus
# (three simulators, three dbus-jkbms), shown as one block each, in natural
# order, looked up again on every refresh; a named service alone.
set -u
view=$1
bin=$2
sim=$3
settings=$4
privbus=$5
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$privbus" stop "$tmp" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
passes=0
check() { if [ "$2" -eq 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi; }
contains() { grep -qF -- "$2" "$1"; }
until_true() { # SECONDS COMMAND...: polls every 0.1 s
	n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

out=$("$privbus" start "$tmp") || { echo "no private bus" >&2; exit 1; }
DBUS_SYSTEM_BUS_ADDRESS=$(echo "$out" | sed -n 's/^DBUS_SYSTEM_BUS_ADDRESS=//p')
export DBUS_SYSTEM_BUS_ADDRESS
"$settings" >"$tmp/settings.log" 2>&1 &
pids="$pids $!"
printf '[jkbms]\nsettings_timeout=3\nstate_dir=%s/state\n' "$tmp" >"$tmp/jkbms.ini"
# ttyUSB10 before ttyUSB2 in byte order, after it in natural order.
for t in 1:40 2:60 10:80; do
	"$sim" --link "$tmp/ttyUSB${t%:*}" --soc "${t#*:}" </dev/null >"$tmp/sim${t%:*}.log" 2>&1 &
	pids="$pids $!"
done
until_true 10 test -e "$tmp/ttyUSB1" -a -e "$tmp/ttyUSB2" -a -e "$tmp/ttyUSB10"
for n in 1 2 10; do
	"$bin" "$tmp/ttyUSB$n" --config "$tmp/jkbms.ini" >"$tmp/service$n.log" 2>&1 &
	pids="$pids $!"
	[ "$n" = 2 ] && pid2=$!
done
three() { [ "$("$view" --list 2>/dev/null | wc -l)" -eq 3 ]; }
until_true 20 three
check "three battery services appear" $?
"$view" --list >"$tmp/list"
printf 'com.victronenergy.battery.ttyUSB%s\n' 1 2 10 | cmp -s - "$tmp/list"
check "--list: every name, in natural order" $?

# One block per service, each with its own pack's values.
"$view" --once >"$tmp/all" 2>"$tmp/err"
check "--once exits 0" $?
grep -E '^(com\.victronenergy|Battery)' "$tmp/all" | paste - - | sed -E 's/ +\(device.*SoC ([0-9]+)(\.0)?%.*/ \1/' >"$tmp/blocks"
printf 'com.victronenergy.battery.ttyUSB%s\n' "1 40" "2 60" "10 80" | cmp -s - "$tmp/blocks"
check "--once: three blocks with their own SoC ($(tr '\n' ',' <"$tmp/blocks"))" $?
[ "$(grep -c '^Link       connected 1' "$tmp/all")" -eq 3 ]
check "--once: three connected links" $?

# A named service alone.
"$view" --once com.victronenergy.battery.ttyUSB2 >"$tmp/one"
[ "$(grep -c '^com\.victronenergy\.battery\.' "$tmp/one")" -eq 1 ] && contains "$tmp/one" "SoC 60.0%"
check "--once NAME: that service only" $?

# The list is read again on every refresh: a service that goes is not shown.
kill "$pid2"
two() { [ "$("$view" --list 2>/dev/null | wc -l)" -eq 2 ]; }
until_true 10 two
"$view" --once >"$tmp/all"
[ "$(grep -c '^com\.victronenergy\.battery\.' "$tmp/all")" -eq 2 ] && ! contains "$tmp/all" "ttyUSB2 "
check "a service that left is not shown" $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
