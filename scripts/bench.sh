#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks (not tests): they print figures and never fail on a slow
# machine. Each scenario runs the service and the floor (bench/floor.c: the
# unavoidable I/O of a poll and nothing else) one after the other against
# the same simulator on a private bus, and prints per poll: CPU (scheduler
# time, service and floor measured in turns) and its ratio to the floor, context switches and wake-ups, system
# calls by kind, self-wake-ups, callgrind instructions split by library,
# D-Bus messages and the reply-to-signal latency; then resident memory and
# start-up time, and the codec's decode rate; then the bank of parallel
# packs (scenario_bank_16, bench_members).
#
# Polls are counted exactly: every window counts the replies the simulator
# sent during it (its --trace file), and the service and the floor are
# measured in the same kind of window. callgrind counts from a zeroing to a
# dump taken while the program runs, so start-up and exit are left out.
#
# Usage: scripts/bench.sh [seconds-per-window]   (default 20; BENCH_ROUNDS=3
# alternating CPU windows of the service and the floor)
# A scenario is one function (scenario_*): it starts the simulator, runs
# measure_service and measure_floor, and stops the simulator.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
rounds=${BENCH_ROUNDS:-3}
"$top/scripts/bootstrap.sh"
for tool in valgrind strace; do
	command -v $tool >/dev/null || apt-get install -y -qq $tool >/dev/null 2>&1 || true
done
jobs=$(nproc 2>/dev/null || echo 2)
b="$top/build-rel"
cmake -S "$top" -B "$b" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$b" -j"$jobs" >/dev/null
# The service as it ships to a GX: one static binary built with the GX
# build's options (MinSizeRel, STATIC_BUILD), here for this machine. The
# armhf binary itself runs only under qemu, whose own memory would swamp
# the figure; x86_64 has 8-byte pointers, so this RSS is if anything above
# the GX's.
bs="$top/build-static"
cmake -S "$top" -B "$bs" -DCMAKE_BUILD_TYPE=MinSizeRel -DSTATIC_BUILD=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$bs" -j"$jobs" --target dbus-jkbms >/dev/null 2>&1 &&
	"$top/scripts/check-static.sh" "$bs/dbus-jkbms" >/dev/null ||
	{ echo "bench: the static build failed" >&2; exit 1; }

. "$top/scripts/lib/rig.sh"
rig_init bench "$b"
dir=$rig_dir
trap rig_cleanup EXIT
trap 'exit 1' INT TERM
rig_bus_start
rig_settings_start
tty="$dir/ttyBench"
extra_config=""                                    # more configuration lines (KEY=VALUE words)
listen_name=com.victronenergy.battery.ttyBench      # the service bench_listen counts the messages of

now_ns() { date +%s%N; }
replies() { wc -l <"$dir/trace"; } # replies the simulator sent (exact)
cpu_ns() { # total on-CPU time of a process, all threads (scheduler statistics, ns)
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
switches() { # voluntary and involuntary context switches, all threads
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" {v += $2}
		$1 == "nonvoluntary_ctxt_switches:" {n += $2} END {print v + 0, n + 0}'
}
status_kb() { awk -v k="$2:" '$1 == k {print $2}' /proc/"$1"/status; }
wait_for() { # FILE PATTERN PID: until PATTERN is in FILE, or the process is gone
	while ! grep -q "$2" "$1"; do
		kill -0 "$3" 2>/dev/null || { echo "bench: the program exited:" >&2; cat "$1" >&2; exit 1; }
		sleep 0.02
	done
}

# ---- the programs: start one in the background, set pid --------------------

service_start() { # WRAPPER... (may be empty): the service on the simulator
	# shellcheck disable=SC2086 # extra_config: KEY=VALUE words
	rig_config "$dir/jkbms.ini" "poll_interval=$interval" "state_dir=$dir/state" settings_timeout=3 probe_timeout=30 \
		$extra_config
	: >"$dir/prog.log"
	"$@" "$service_bin" "$tty" --config "$dir/jkbms.ini" >"$dir/prog.log" 2>&1 &
	pid=$!
	wait_for "$dir/prog.log" "registered" "$pid"
}

floor_start() { # WRAPPER...
	: >"$dir/prog.log"
	"$@" "$b/bench_floor" "$tty" "$interval_ms" >"$dir/prog.log" 2>&1 &
	pid=$!
	wait_for "$dir/prog.log" "floor: ready" "$pid"
}

prog_stop() {
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---- the measurements: each sets variables named <prefix>_<figure> -----------

# CPU, context switches, D-Bus messages and latency over one window.
window_cpu() { # PREFIX KIND
	"$2"_start
	sleep 3 # warm up
	c0=$(cpu_ns "$pid")
	s0=$(switches "$pid")
	: >"$dir/trace"
	if [ "$2" = service ] && [ -n "$listen_name" ]; then
		"$b/bench_listen" "$listen_name" "$secs" "$dir/trace" >"$dir/listen"
	else
		sleep "$secs"
		: >"$dir/listen"
	fi
	c1=$(cpu_ns "$pid")
	s1=$(switches "$pid")
	n=$(replies)
	eval "$1_rss=$(status_kb "$pid" VmRSS) $1_hwm=$(status_kb "$pid" VmHWM) $1_anon=$(status_kb "$pid" RssAnon) $1_polls=$n"
	prog_stop
	msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' "$dir/listen")
	med=$(sed -n 's/.*latency_median_us=\([0-9]*\).*/\1/p' "$dir/listen")
	echo "$1 $(((c1 - c0) / n))" >>"$dir/rounds"
	eval "$(awk -v p="$1" -v n="$n" -v c="$((c1 - c0))" -v s0="$s0" -v s1="$s1" \
		-v m="${msgs:-}" -v med="${med:-}" 'BEGIN {
		split(s0, a, " "); split(s1, z, " ")
		printf "%s_cpu=%.1f %s_vol=%.2f %s_invol=%.2f %s_msgs=%s %s_lat=%s\n", p, c / n / 1000,
			p, (z[1] - a[1]) / n, p, (z[2] - a[2]) / n, p, m == "" ? "-" : sprintf("%.2f", m / n),
			p, med == "" ? "-" : med }')"
}

# System calls by kind, and writes to an eventfd or a pipe (self-wake-ups).
window_syscalls() { # PREFIX KIND
	"$2"_start
	sleep 2
	: >"$dir/trace"
	timeout -s INT "$secs" strace -f -qq -y -C -o "$dir/strace" -p "$pid" 2>/dev/null || true
	n=$(replies)
	prog_stop
	# -C appends strace -c's table to the trace: "% time seconds usecs/call calls [errors] syscall".
	eval "$(awk -v p="$1" -v n="$n" '
		/^[0-9]+ +[a-z_0-9]+\(/ && ($2 ~ /^(write|writev)\(/) && /(eventfd|pipe:)/ { self++ }
		/^-+ / { table++; next }
		table == 1 && NF >= 5 { calls[$NF] = $4; total += $4 }
		END {
			out = ""
			for (k in calls) out = out sprintf("%s %.2f, ", k, calls[k] / n)
			printf "%s_sys=%.2f %s_self=%.2f %s_kinds=\"%s\"\n", p, total / n, p, self / n, p, out }' "$dir/strace")"
}

# Instructions per poll from a callgrind dump of a window, split by object.
window_callgrind() { # PREFIX KIND
	rm -f "$dir"/cg.*
	"$2"_start valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" --vgdb=yes
	sleep 3
	callgrind_control -z "$pid" >/dev/null
	: >"$dir/trace"
	sleep "$secs"
	callgrind_control -d "$pid" >/dev/null
	n=$(replies)
	prog_stop
	dump=$(ls "$dir"/cg.out.* 2>/dev/null | head -1)
	[ -n "$dump" ] || { echo "bench: no callgrind dump" >&2; eval "$1_ir=-"; return 0; }
	eval "$(awk -v p="$1" -v n="$n" '
		function kind(o) {
			if (o ~ /libdbus/) return "libdbus"
			if (o ~ /libglib/) return "glib"
			if (o ~ /(libc\.so|libm\.so|ld-linux)/) return "libc"
			if (o ~ /(dbus-jkbms|bench_floor)$/) return "ours"
			return "other"
		}
		# An object is named at its first mention (ob= or cob=), then referred to by its (id).
		/^c?ob=/ { s = substr($0, index($0, "=") + 1); id = s; sub(/ .*/, "", id)
			if (s ~ /^\([0-9]+\) /) name[id] = substr(s, index(s, " ") + 1)
			else if (s !~ /^\(/) { name[s] = s; id = s }
			if ($0 ~ /^ob=/) cur = kind(name[id])
			next }
		/^calls=/ { skip = 1; next }
		/^[0-9+*-]/ { if (skip) { skip = 0; next } cost[cur] += $2; total += $2; next }
		END {
			printf "%s_ir=%d", p, total / n
			split("libdbus glib libc ours other", ks, " ")
			for (i = 1; i <= 5; i++) printf " %s_ir_%s=%d", p, ks[i], cost[ks[i]] / n
			printf "\n" }' "$dump")"
}

# The service and the floor take turns, ROUNDS windows each, so that a
# load elsewhere on the machine weighs on both alike: CPU per poll is the
# median of each, the ratio the median of the rounds' ratios.
cpu_rounds() { # ROUNDS
	: >"$dir/rounds"
	service_bin="$bs/dbus-jkbms"
	r=0
	while [ "$r" -lt "$1" ]; do
		window_cpu svc service
		window_cpu floor floor
		r=$((r + 1))
	done
	eval "$(awk '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		$1 == "svc" { s[++ns] = $2 } $1 == "floor" { f[++nf] = $2; q[nf] = s[nf] / $2 }
		END {
			all = ""; for (i = 1; i <= ns; i++) all = all sprintf("%.0f/%.0f ", s[i] / 1000, f[i] / 1000)
			printf "svc_cpu=%.1f floor_cpu=%.1f cpu_ratio=%.2f cpu_all=\"%s\"\n",
				median(s, ns) / 1000, median(f, nf) / 1000, median(q, nf), all }' "$dir/rounds")"
}

measure_service() { # the static build for calls and memory; callgrind splits the dynamic one by library
	service_bin="$bs/dbus-jkbms"
	window_syscalls svc service
	service_bin="$b/dbus-jkbms"
	window_callgrind svc service
}

measure_floor() {
	window_syscalls floor floor
	window_callgrind floor floor
}

get() { eval "echo \"\${$1:--}\""; }

report() { # TITLE: the table of the service (svc_*) against the floor (floor_*)
	echo "== $1"
	echo
	echo "| per poll | service (static) | floor | service / floor |"
	echo "|---|---|---|---|"
	echo "| CPU (median of $rounds rounds) | $svc_cpu us | $floor_cpu us | $cpu_ratio |"
	echo "| wake-ups (voluntary context switches) | $svc_vol | $floor_vol | |"
	echo "| involuntary context switches | $svc_invol | $floor_invol | |"
	echo "| system calls | $svc_sys | $floor_sys | |"
	echo "| self-wake-ups (eventfd or pipe writes) | $svc_self | $floor_self | |"
	echo "| instructions (callgrind, dynamic build) | $(get svc_ir) | $(get floor_ir) | |"
	for k in libdbus glib libc ours other; do
		echo "| … in $k | $(get svc_ir_$k) | $(get floor_ir_$k) | |"
	done
	echo "| D-Bus messages | $svc_msgs | 1 | |"
	echo
	echo "CPU per poll in each round, service/floor (us): $cpu_all"
	echo "System calls per poll by kind: service: ${svc_kinds%, }; floor: ${floor_kinds%, }"
	echo "Polls counted: CPU window $svc_polls (service) and $floor_polls (floor); reply to ItemsChanged latency, median: $svc_lat us"
	awk -v r="$svc_rss" -v h="$svc_hwm" -v a="$svc_anon" 'BEGIN {
		printf "Resident memory of the static build (x86_64, MinSizeRel): %.2f MB now, %.2f MB peak, %d kB of it anonymous\n", r / 1024, h / 1024, a }'
	echo "$gx_line"
	echo
}

report_service() { # TITLE: the service's figures (svc_*) alone, per reply (a poll of one pack)
	echo "== $1"
	echo
	echo "| per poll of one pack | service (static) |"
	echo "|---|---|"
	echo "| CPU | $svc_cpu us |"
	echo "| wake-ups (voluntary context switches) | $svc_vol |"
	echo "| involuntary context switches | $svc_invol |"
	echo "| system calls | $svc_sys |"
	echo "| self-wake-ups (eventfd or pipe writes) | $svc_self |"
	echo "| instructions (callgrind, dynamic build) | $(get svc_ir) |"
	for k in libdbus glib libc ours other; do
		echo "| … in $k | $(get svc_ir_$k) |"
	done
	echo
	echo "System calls per poll by kind: ${svc_kinds%, }"
	echo "Polls counted (replies): $svc_polls in the CPU window"
	echo
}

# The GX binary's resident memory. It runs here only under qemu user
# emulation, whose own memory would swamp the process's figure; but qemu
# maps the guest's binary, heap and stacks as mappings of their own below
# 4 GB, which the guest's loads, stores and executed code fault in as they
# would on the GX (the same kernel maps the pages around a fault too). Their
# resident sizes, summed, are the GX's resident memory. Also printed: the
# most it could be (every page of the binary's loadable segments, plus the
# anonymous memory of the x86_64 build, whose pointers are twice as wide).
# The x86_64 figure itself overstates the GX: its static glibc carries
# several variants of each string function (SSE2, AVX2, EVEX...).
gx_rss() {
	arm="$top/build-armhf-static/dbus-jkbms.stripped"
	if [ ! -f "$arm" ] || ! command -v qemu-arm-static >/dev/null; then
		echo "GX (armhf): no build-armhf-static/ or qemu here (scripts/cross-build.sh makes them)"
		return 0
	fi
	readelf=$(command -v arm-linux-gnueabihf-readelf || command -v readelf)
	kb=0
	for seg in $("$readelf" -lW "$arm" | awk '$1 == "LOAD" { print $3 ":" $6 }'); do
		start=$(printf '%d' "${seg%%:*}")
		end=$((start + $(printf '%d' "${seg#*:}")))
		kb=$((kb + ((end + 4095) / 4096 - start / 4096) * 4))
	done
	saved=$service_bin
	service_bin=$arm
	service_start qemu-arm-static -cpu cortex-a7
	sleep 5
	guest=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); low = length(r[1]) <= 8 }
		/^Rss:/ && low { kb += $2 } END { print kb + 0 }' /proc/"$pid"/smaps)
	prog_stop
	service_bin=$saved
	awk -v g="$guest" -v kb="$kb" -v a="$svc_anon" 'BEGIN {
		printf "GX (armhf static binary under qemu-arm, the guest'"'"'s own mappings): %.2f MB resident (at most %.2f MB: %d kB of loadable segments + %d kB anonymous)\n", g / 1024, (kb + a) / 1024, kb, a }'
}

# ---- scenarios ---------------------------------------------------------------

sim_start() { # OPTION...: a fresh simulator and trace file
	: >"$dir/trace"
	rig_sim_start "$tty" "$@" --trace "$dir/trace"
}

sim_stop() {
	kill "$rig_sim_pid" 2>/dev/null || true
	wait "$rig_sim_pid" 2>/dev/null || true
	exec 9>&-
	rm -f "$dir/ctl"
}

# One JK BMS (4E 57), 16 cells, every value changing every poll (the
# current follows a sine wave, and every cell with it), 0.1 s polls.
scenario_jk_16() {
	interval=0.1 interval_ms=100
	sim_start --cells 16 --current 20
	rig_sim sine 30 7
	cpu_rounds "$rounds"
	measure_service
	measure_floor
	gx_line=$(gx_rss)
	sim_stop
	report "one JK BMS (4E 57), 16 cells changing every poll, 0.1 s polls, ${secs} s windows"
}

# Three JK PB packs on one RS-485 bus (addresses 1-3), each polled every
# second, their currents on the sine too. No floor here: bench/floor.c
# speaks 4E 57; the figures are per reply, i.e. per poll of one pack.
scenario_pb_3() {
	interval=1 interval_ms=1000
	extra_config="protocol=pb pb_addresses=1-3"
	listen_name=""
	sim_start --protocol pb --packs 3 --current 20
	rig_sim sine 30 7
	service_bin="$bs/dbus-jkbms"
	window_cpu svc service
	window_syscalls svc service
	service_bin="$b/dbus-jkbms"
	window_callgrind svc service
	sim_stop
	extra_config=""
	listen_name=com.victronenergy.battery.ttyBench
	report_service "three JK PB packs on one RS-485 bus, 1 s polls each, ${secs} s windows"
}

# ---- the bank of parallel packs (dbus-jkbms --bank), from the bank branch ----
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

# Sixteen members of a bank (figures per member update; no floor).
scenario_bank_16() {
	echo "== the bank of parallel packs"
	bench_bank "$secs"
	echo
}

# Start-up: exec to the bus name, and first reply to the bus name.
startup() {
	sim_start --cells 16 --current 20
	interval=1
	service_bin="$bs/dbus-jkbms"
	t0=$(now_ns)
	service_start
	t1=$(now_ns)
	after=$(sed -n 's/.*, \([0-9]*\) ms after the first reply/\1/p' "$dir/prog.log")
	prog_stop
	sim_stop
	echo "Start-up (static build): $(((t1 - t0) / 1000000)) ms from exec to the bus name, ${after:-?} ms from the first reply"
	echo
}

echo "dbus-jkbms benchmark, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
scenario_jk_16
scenario_pb_3
scenario_bank_16
startup
echo "Targets per poll: CPU <= 1.3 x the floor; <= 6 system calls and <= 2 wake-ups; no self-wake-ups;"
echo "<= 80,000 instructions with 16 changing cells; static GX binary resident <= 1.5 MB."
echo "For scale, the Python driver (dbus-serialbattery) on the same kind of poll: ~1.6 ms CPU,"
echo "~3,300,000 instructions, ~50 system calls, ~23 D-Bus messages and ~37.5 MB resident."
echo
echo "== codec: deframe + decode of a 16-cell read-all reply, one core"
"$b/bench_codec" 2
