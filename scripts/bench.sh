#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks (not tests): they print figures and never fail on a slow
# machine. The service runs against the simulator (16 cells, values
# changing every poll) on a private bus; the table gives CPU per poll cycle
# (scheduler time and callgrind instructions), resident memory, D-Bus
# messages per cycle, start-up time and reply-to-signal latency, then the
# codec's decode rate, then the bank of parallel packs (bench_bank).
#   Usage: scripts/bench.sh [seconds-per-phase]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
"$top/scripts/bootstrap.sh"
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null 2>&1 || true; }
b="$top/build-rel"
cmake -S "$top" -B "$b" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$b" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
# The service as it ships to a GX: one static binary (here for this machine).
bs="$top/build-static"
cmake -S "$top" -B "$bs" -DCMAKE_BUILD_TYPE=Release -DSTATIC_BUILD=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$bs" -j"$(nproc 2>/dev/null || echo 2)" --target dbus-jkbms 2>&1 | grep -q "fully static" ||
	{ echo "bench: the static build failed" >&2; exit 1; }

. "$top/scripts/lib/rig.sh"
rig_init bench "$b"
dir=$rig_dir
trap rig_cleanup EXIT
trap 'exit 1' INT TERM
rig_bus_start
name=com.victronenergy.battery.ttyBench
rig_settings_start
rig_sim_start "$dir/ttyBench" --cells 16 --current 20 --trace "$dir/trace"
rig_sim sine 30 7 # the current, and with it every cell, moves every poll

now_ns() { date +%s%N; }
get() { "$b/jkbms-view" --get "$1" "$name"; }
cpu_ns() { # total on-CPU time of a process, all threads (scheduler statistics, ns)
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
status_kb() { awk -v k="$2:" '$1 == k {print $2}' /proc/"$1"/status; }

start_service() { # poll interval; prints start-up figures
	rig_config "$dir/jkbms.ini" "poll_interval=$1" "state_dir=$dir/state" settings_timeout=3
	: >"$dir/service.log"
	t0=$(now_ns)
	rig_daemon_start "$dir/ttyBench" "$dir/jkbms.ini"
	while ! grep -q "registered" "$dir/service.log"; do
		kill -0 "$rig_daemon_pid" 2>/dev/null || { echo "bench: the service exited:" >&2; cat "$dir/service.log" >&2; exit 1; }
		sleep 0.01
	done
	t1=$(now_ns)
	start_ms=$(( (t1 - t0) / 1000000 ))
	after_reply=$(sed -n 's/.*, \([0-9]*\) ms after the first reply/\1/p' "$dir/service.log")
}

stop_service() {
	rig_daemon_stop || true
}

measure() { # label poll-interval seconds
	start_service "$2"
	sleep 3 # warm up
	p0=$(get /Diagnostics/Link/Polls)
	c0=$(cpu_ns "$rig_daemon_pid")
	: >"$dir/trace"
	"$b/bench_listen" "$name" "$3" "$dir/trace" >"$dir/listen"
	c1=$(cpu_ns "$rig_daemon_pid")
	p1=$(get /Diagnostics/Link/Polls)
	rss=$(status_kb "$rig_daemon_pid" VmRSS)
	hwm=$(status_kb "$rig_daemon_pid" VmHWM)
	stop_service
	cycles=$((p1 - p0))
	msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' "$dir/listen")
	med=$(sed -n 's/.*latency_median_us=\([0-9]*\).*/\1/p' "$dir/listen")
	p95=$(sed -n 's/.*latency_p95_us=\([0-9]*\).*/\1/p' "$dir/listen")
	awk -v l="$1" -v c="$cycles" -v cpu="$((c1 - c0))" -v m="$msgs" -v rss="$rss" -v hwm="$hwm" \
		-v s="$start_ms" -v a="$after_reply" -v med="${med:-?}" -v p95="${p95:-?}" 'BEGIN {
		printf "| %-22s | %6d | %8.1f us | %5.2f | %5.1f MB / %4.1f MB | %5d ms / %4s ms | %5s / %5s us |\n",
			l, c, cpu / c / 1000, m / c, rss / 1024, hwm / 1024, s, a, med, p95 }'
}

callgrind() { # poll interval, seconds: total instructions and polls
	rig_config "$dir/cg.ini" "poll_interval=$1" "state_dir=$dir/state" settings_timeout=3 probe_timeout=30
	rm -f "$dir/cg.out"
	valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$b/dbus-jkbms" "$dir/ttyBench" \
		--config "$dir/cg.ini" >"$dir/cg.log" 2>&1 &
	cg_pid=$!
	while ! grep -q "registered" "$dir/cg.log"; do sleep 0.05; done
	sleep "$2"
	polls=$(get /Diagnostics/Link/Polls)
	kill "$cg_pid"
	wait "$cg_pid" 2>/dev/null || true
	ir=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$dir/cg.out")
	echo "$ir $polls"
}

echo "dbus-jkbms benchmark: 16 cells, values changing every poll, ${secs} s per phase, $(nproc) cores"
echo
echo "| phase                  | cycles | CPU/cycle   | msgs/cycle | RSS now / peak      | start: exec→name / reply→name | reply→ItemsChanged median / p95 |"
echo "|------------------------|--------|-------------|------------|---------------------|-------------------------------|---------------------------------|"
rig_daemon_bin="$bs/dbus-jkbms"
measure "static, 1 s polls" 1 "$secs"
measure "static, 0.1 s polls" 0.1 "$secs"
rig_daemon_bin="$b/dbus-jkbms"
measure "dynamic, 1 s polls" 1 "$secs"
echo
if command -v valgrind >/dev/null; then
	set -- $(callgrind 0.1 5)
	ir1=$1 polls1=$2
	set -- $(callgrind 0.1 15)
	ir2=$1 polls2=$2
	awk -v a="$ir1" -v b="$ir2" -v p="$polls1" -v q="$polls2" 'BEGIN {
		printf "callgrind: %d instructions per poll cycle (marginal: %d vs %d cycles; start-up and exit excluded)\n",
			(b - a) / (q - p), q, p }'
else
	echo "callgrind: valgrind is not installed"
fi
echo
echo "For scale, the Python driver (dbus-serialbattery) against a simulated 16-cell JK polled every"
echo "second: ~1.9 ms CPU per poll, ~37 MB resident, ~22 D-Bus signals per poll, 16 s to its name."
echo "Targets: 20 us CPU per cycle (100 us at most), < 3 MB resident, 1 message per cycle,"
echo "name within 0.5 s of the first reply, reply-to-signal latency < 1 ms."
echo
echo "== codec: deframe + decode of a 16-cell read-all reply, one core"
"$b/bench_codec" 2

# ---- the bank of parallel packs (dbus-jkbms --bank) ---------------------
# Sixteen members played by bench_members (not sixteen real services with
# sixteen simulators, which would measure the machine more than the bank):
# each on a D-Bus connection of its own with the service's BusItem tree, the
# paths a member publishes (16 cells), one ItemsChanged per poll at 1 poll/s
# with every measured value moving. The bank is the static release binary;
# CPU from the scheduler, instructions from callgrind (marginal between a
# short and a long run, so start-up and exit drop out).
bank_updates() { # the members' updates sent so far
	kill -USR1 "$members_pid"
	sleep 0.2
	cat "$dir/members.count"
}

bank_callgrind() { # seconds: instructions and updates while the bank ran
	rm -f "$dir/bank-cg.out"
	valgrind --tool=callgrind --callgrind-out-file="$dir/bank-cg.out" "$b/dbus-jkbms" --bank \
		--config "$dir/bank.ini" >"$dir/bank-cg.log" 2>&1 &
	cg_pid=$!
	while ! grep -q "registered" "$dir/bank-cg.log"; do sleep 0.05; done
	u0=$(bank_updates)
	sleep "$1"
	u1=$(bank_updates)
	kill "$cg_pid"
	wait "$cg_pid" 2>/dev/null || true
	echo "$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$dir/bank-cg.out") $((u1 - u0))"
}

bench_bank() { # seconds
	rig_config "$dir/bank.ini" settings_timeout=3
	"$b/bench_members" 16 1 "$dir/members.count" >"$dir/members.log" 2>&1 &
	members_pid=$!
	rig_track "$members_pid"
	rig_wait_name com.victronenergy.battery.bench15
	"$bs/dbus-jkbms" --bank --config "$dir/bank.ini" >"$dir/bank.log" 2>&1 &
	bank_pid=$!
	rig_track "$bank_pid"
	rig_wait_name com.victronenergy.battery.jkbank
	sleep 3 # every member read, the ramp settled
	c0=$(cpu_ns "$bank_pid")
	u0=$(bank_updates)
	sleep "$1"
	c1=$(cpu_ns "$bank_pid")
	u1=$(bank_updates)
	rss=$(status_kb "$bank_pid" VmRSS)
	hwm=$(status_kb "$bank_pid" VmHWM)
	kill "$bank_pid"
	wait "$bank_pid" 2>/dev/null || true
	awk -v u="$((u1 - u0))" -v cpu="$((c1 - c0))" -v s="$1" -v rss="$rss" -v hwm="$hwm" 'BEGIN {
		printf "bank, 16 members at 1 poll/s (bench_members), static binary: %.1f us CPU per member update, %.3f %% of one core, RSS %.1f MB (peak %.1f MB), %d updates in %d s\n",
			cpu / u / 1000, cpu / (s * 1e9) * 100, rss / 1024, hwm / 1024, u, s }'
	if command -v valgrind >/dev/null; then
		set -- $(bank_callgrind 5)
		ir1=$1 up1=$2
		set -- $(bank_callgrind 15)
		ir2=$1 up2=$2
		awk -v a="$ir1" -v b="$ir2" -v p="$up1" -v q="$up2" 'BEGIN {
			printf "bank callgrind: %d instructions per member update (marginal: %d vs %d updates)\n",
				(b - a) / (q - p), q, p }'
	fi
	kill "$members_pid"
	wait "$members_pid" 2>/dev/null || true
}

echo
echo "== the bank of parallel packs"
bench_bank "$secs"
