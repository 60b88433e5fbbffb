#!/bin/sh
# SPDX-License-Identifier: MIT
# The product without hardware: builds if needed, starts a private system-bus
# stand-in, the settings stand-in, the BMS simulator and dbus-jkbms, and shows
# a live view read back from D-Bus every second until Ctrl-C, which stops
# everything it started. With "-- --protocol pb --packs N" the simulator is a
# bus of N JK PB packs and the view shows one battery service per pack.
#   scripts/demo.sh [--seconds N] [--cells N] [--bank PACKS] [-- simulator options]
# --bank PACKS (2..16) runs that many simulated packs in parallel, a member
# service for each (bank = true) and dbus-jkbms --bank, and shows the bank.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=0
cells=16
bank=0
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--cells) cells=$2; shift 2 ;;
	--bank) bank=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--seconds N] [--cells N] [--bank PACKS] [-- simulator options]" >&2; exit 2 ;;
	esac
done
case "$bank" in
0 | [2-9] | 1[0-6]) ;;
*) echo "demo: --bank takes 2..16 packs" >&2; exit 2 ;;
esac

"$top/scripts/bootstrap.sh"
build="$top/build"
[ -f "$build/CMakeCache.txt" ] || cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target dbus-jkbms jkbms-sim jkbms-fake-settings jkbms-view >/dev/null

. "$top/scripts/lib/rig.sh"
rig_init demo "$build"
dir=$rig_dir
cleanup() {
	trap - EXIT INT TERM
	rig_cleanup
	echo
	echo "demo: stopped; logs were in $dir (removed)"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# The number of battery services to wait for: one per simulated pack.
packs=1
next=""
for a in "$@"; do
	[ -z "$next" ] || packs=$a
	next=""
	case "$a" in
	--packs) next=1 ;;
	--packs=*) packs=${a#--packs=} ;;
	esac
done

rig_bus_start
echo "demo: private system bus at $DBUS_SYSTEM_BUS_ADDRESS"
rig_settings_start

# The view of one service: live until Ctrl-C, or twice --seconds apart.
view() { # [SERVICE]: without one, every battery service
	if [ "$seconds" -gt 0 ]; then
		"$build/jkbms-view" --once "$@"
		end=$(($(date +%s) + seconds))
		while [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
		echo
		"$build/jkbms-view" --once "$@"
	else
		"$build/jkbms-view" "$@"
	fi
}

if [ "$bank" -gt 0 ]; then
	# Packs of 100, 200, ... Ah at different SoC, charged in proportion to
	# their size; pack 2's cell 7 runs 60 mV high. Time runs 60 times faster.
	rig_config "$dir/jkbms.ini" bank=true "bank_packs=$bank" settings_timeout=3 "state_dir=$dir/state"
	mkfifo "$dir/ctl2"
	i=1
	while [ "$i" -le "$bank" ]; do
		ctl=/dev/null
		[ "$i" = 2 ] && ctl=$dir/ctl2
		"$build/jkbms-sim" --link "$dir/ttyUSB$i" --cells "$cells" --soc $((20 + (i * 23) % 70)) \
			--capacity $((100 * i)) --current $((30 * i / bank)) --speed 60 --id "PACK$i" "$@" \
			<"$ctl" >>"$dir/sim$i.log" 2>&1 &
		rig_track $!
		i=$((i + 1))
	done
	exec 8>"$dir/ctl2"
	echo "high 7 60" >&8
	i=1
	while [ "$i" -le "$bank" ]; do
		_rig_until 5 test -e "$dir/ttyUSB$i" || echo "demo: simulator $i did not start" >&2
		i=$((i + 1))
	done
	i=1
	while [ "$i" -le "$bank" ]; do
		"$build/dbus-jkbms" "$dir/ttyUSB$i" --config "$dir/jkbms.ini" >>"$dir/member$i.log" 2>&1 &
		rig_track $!
		i=$((i + 1))
	done
	# The bank would find them later too, but would then ramp up to the
	# full limits instead of starting with them.
	i=1
	while [ "$i" -le "$bank" ]; do
		rig_wait_name "com.victronenergy.battery.ttyUSB$i" || true
		i=$((i + 1))
	done
	"$build/dbus-jkbms" --bank --config "$dir/jkbms.ini" >>"$dir/bank.log" 2>&1 &
	rig_track $!
	echo "demo: $bank simulated packs, a member service each (bank = true) and dbus-jkbms --bank; Ctrl-C stops everything"
	rig_wait_name com.victronenergy.battery.jkbank || true
	sleep 1
	sed 's/^/bank: /' "$dir/bank.log"
	view com.victronenergy.battery.jkbank
	exit 0
fi

# The simulator reads commands from a pipe the rig holds open; its time runs
# 60 times faster so that SoC and cell voltages visibly move.
rig_sim_start "$dir/ttyUSB0" --cells "$cells" --soc 55 --current 5 --speed 60 "$@"
rig_sim sine 20 600

rig_config "$dir/jkbms.ini" settings_timeout=3 "state_dir=$dir/state"
rig_daemon_start "$dir/ttyUSB0" "$dir/jkbms.ini"
echo "demo: dbus-jkbms started on $dir/ttyUSB0 (simulated ${cells}S LiFePO4, $packs pack(s)); Ctrl-C stops everything"
# Wait for a battery service per pack (a PB bus is probed address by address).
services() { "$build/jkbms-view" --list 2>/dev/null | grep -c '^com\.victronenergy\.battery\.ttyUSB0' || true; }
end=$(( $(date +%s) + 30 ))
while [ "$(services)" -lt "$packs" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
[ "$(services)" -ge "$packs" ] || echo "demo: only $(services) of $packs battery services appeared" >&2
sleep 1
sed 's/^/service: /' "$dir/service.log"

view
