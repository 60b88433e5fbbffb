#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmarks (not tests): they print figures and never fail on a slow
# machine. Each scenario runs the program it measures (the service, or the
# bank) and its floor (the unavoidable I/O of a poll and nothing else:
# bench/floor.c for a port, bench/floor_bank.c for the bank) on a private
# bus: the service and its floor each on a simulator of their own (the
# floor's is its twin, started alike), the bank and its floor on the same
# members. It prints per poll: CPU (scheduler time; the program and its
# floor in the same windows) and
# its ratio to the floor, context switches and wake-ups, system calls by
# kind, self-wake-ups, callgrind instructions split by library, D-Bus
# messages and the reply-to-signal latency, resident memory; then start-up
# time and the codec's decode rate. Scenarios: one JK BMS (4E 57), a PB bus
# of 3 packs, the bank with 16 members (bench_members).
#
# Polls are counted exactly: every window counts what happened during it,
# and the program and its floor are measured in the same kind of window.
# A 4E 57 poll is a reply the simulator sent (its --trace file); a PB poll
# is a live-data reply of one pack (the simulator's per-pack counters: its
# trace also has the settings the service reads again every 30 s); the
# bank's unit is a member update (bench_members' count). callgrind counts
# from a zeroing to a dump taken while the program runs, so start-up and
# exit are left out.
#
# Usage: scripts/bench.sh [seconds-per-window]   (default 20; BENCH_ROUNDS=5
# CPU windows of the program and its floor; BENCH_SCENARIOS="jk_16 pb_3
# bank_16" the scenarios run, by the names of their functions; BENCH_BUSY=1
# keeps every core busy at the lowest priority during the CPU windows,
# bench/busy.c, so that no core goes idle: the programs' own work with
# warm caches, without what leaving idle costs a virtual machine)
# A scenario is one function (scenario_*): it sets what is measured
# (svc_kind, counter, floor_bin...), starts the simulator or the members,
# runs cpu_rounds, measure_service and measure_floor, stops them and prints
# the report.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
rounds=${BENCH_ROUNDS:-5}
busy=${BENCH_BUSY:-0}
"$top/scripts/bootstrap.sh"
for tool in valgrind strace; do
	command -v $tool >/dev/null || apt-get install -y -qq $tool >/dev/null 2>&1 || true
done
jobs=$(nproc 2>/dev/null || echo 2)
b="$top/build-rel"
cmake -S "$top" -B "$b" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$b" -j"$jobs" >/dev/null
# The service as it ships to a GX: one static binary built with the GX
# build's options (Release, STATIC_BUILD), here for this machine. The
# armhf binary itself runs only under qemu, whose own memory would swamp
# the figure; x86_64 has 8-byte pointers, so this RSS is if anything above
# the GX's.
bs="$top/build-static"
cmake -S "$top" -B "$bs" -DCMAKE_BUILD_TYPE=Release -DSTATIC_BUILD=ON -DBUILD_TESTING=OFF >/dev/null
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
tty2="$dir/ttyFloor" # the floor's own simulator (the twin), where there is a port
# What a scenario measures; each scenario sets them all.
extra_config=""   # more configuration lines for the service (KEY=VALUE words)
listen_name=""    # the services bench_listen counts the messages of (comma-separated), or none
svc_kind=service  # the program measured against the floor: service (on $tty) or bank
counter=trace     # what a poll is: trace (simulator replies), pb (live replies), members (updates)
floor_bin=""      # the floor program
floor_args=""     # and its arguments (words without spaces)
packs=1           # PB packs on the simulator's bus
gx_line=""        # the GX resident memory line of the report, if measured

now_ns() { date +%s%N; }
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

# ---- what a poll is: polls_mark starts a count, polls_since ends it --------

pb_live() { # the live-data replies of the simulator's packs so far
	t=0 a=1
	while [ "$a" -le "$packs" ]; do
		t=$((t + $(rig_sim_ask pack "$a" status | sed -n 's/.* live=\([0-9]*\).*/\1/p')))
		a=$((a + 1))
	done
	echo "$t"
}

bank_updates() { # the members' updates sent so far
	kill -USR1 "$members_pid"
	sleep 0.2
	cat "$dir/members.count"
}

polls_total() { # KIND
	[ "$1" = floor ] && [ "$counter" != members ] && { wc -l <"$dir/trace2"; return; } # the twin's replies
	case $counter in
	trace) wc -l <"$dir/trace" ;; # replies the simulator sent (exact)
	pb) pb_live ;;
	members) bank_updates ;;
	esac
}

polls_mark() { # KIND; the trace restarts too: bench_listen matches it to the signals
	: >"$dir/trace"
	polls0=$(polls_total "$1")
}

polls_since() { # KIND; fails when nothing was counted: no figure can be per poll then
	n=$(($(polls_total "$1") - polls0))
	[ "$n" -gt 0 ] || { echo "bench: no poll counted in a window of $secs s:" >&2; cat "$dir/prog.log" >&2; exit 1; }
	echo "$n"
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

bank_start() { # WRAPPER...: the bank, on the members bench_members plays
	: >"$dir/prog.log"
	"$@" "$service_bin" --bank --config "$dir/bank.ini" >"$dir/prog.log" 2>&1 &
	pid=$!
	wait_for "$dir/prog.log" "registered" "$pid"
}

floor_start() { # WRAPPER... (its log is floor.log: it may run beside the program)
	: >"$dir/floor.log"
	# shellcheck disable=SC2086 # floor_args: words without spaces
	"$@" "$floor_bin" $floor_args >"$dir/floor.log" 2>&1 &
	pid=$!
	wait_for "$dir/floor.log" "floor: ready" "$pid"
}

prog_stop() {
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---- the measurements: each sets variables named <prefix>_<figure> -----------

# CPU and context switches of a process from cpu_mark to cpu_figures, per
# poll: sets <prefix>_cpu, _vol, _invol, _rss, _hwm, _anon, _polls and adds
# the round's CPU to the rounds file.
cpu_mark() { # PREFIX PID
	eval "$1_c0=$(cpu_ns "$2") $1_s0=\"$(switches "$2")\""
}

cpu_figures() { # PREFIX PID POLLS
	c1=$(cpu_ns "$2")
	s1=$(switches "$2")
	eval "c0=\$$1_c0 s0=\"\$$1_s0\""
	echo "$1 $(((c1 - c0) / $3))" >>"$dir/rounds"
	eval "$1_rss=$(status_kb "$2" VmRSS) $1_hwm=$(status_kb "$2" VmHWM) $1_anon=$(status_kb "$2" RssAnon) $1_polls=$3"
	eval "$(awk -v p="$1" -v n="$3" -v c="$((c1 - c0))" -v s0="$s0" -v s1="$s1" 'BEGIN {
		split(s0, a, " "); split(s1, z, " ")
		printf "%s_cpu=%.1f %s_vol=%.2f %s_invol=%.2f\n", p, c / n / 1000,
			p, (z[1] - a[1]) / n, p, (z[2] - a[2]) / n }')"
}

# The window itself: bench_listen counts the program's messages and their
# latency while it lasts, when there is something to listen to.
window_wait() { # KIND
	if [ "$1" != floor ] && [ -n "$listen_name" ]; then
		"$b/bench_listen" "$listen_name" "$secs" "$dir/trace" >"$dir/listen"
	else
		sleep "$secs"
		: >"$dir/listen"
	fi
	msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' "$dir/listen")
	med=$(sed -n 's/.*latency_median_us=\([0-9]*\).*/\1/p' "$dir/listen")
}

listen_figures() { # PREFIX POLLS: messages per poll and latency from window_wait
	eval "$(awk -v p="$1" -v n="$2" -v m="${msgs:-}" -v med="${med:-}" 'BEGIN {
		printf "%s_msgs=%s %s_lat=%s\n", p, m == "" ? "-" : sprintf("%.2f", m / n), p, med == "" ? "-" : med }')"
}

# CPU, context switches, D-Bus messages and latency over one window.
# The program and its floor in the same window, each on a simulator of its
# own (the floor's twin is started like the program's) or, for the bank, on
# the same members (with a match rule per member neither hears the other):
# whatever else the machine does in that window weighs on both alike.
window_cpu_pair() {
	"$svc_kind"_start
	spid=$pid
	floor_start
	fpid=$pid
	sleep 3
	cpu_mark svc "$spid"
	cpu_mark floor "$fpid"
	polls_mark "$svc_kind"
	t0=$(polls_total floor)
	window_wait "$svc_kind"
	n=$(polls_since "$svc_kind")
	polls0=$t0
	nf=$(polls_since floor)
	cpu_figures svc "$spid" "$n"
	cpu_figures floor "$fpid" "$nf"
	listen_figures svc "$n"
	pid=$fpid
	prog_stop
	pid=$spid
	prog_stop
}

# System calls by kind, and writes to an eventfd or a pipe (self-wake-ups).
window_syscalls() { # PREFIX KIND
	"$2"_start
	sleep 2
	polls_mark "$2"
	timeout -s INT "$secs" strace -f -qq -y -C -o "$dir/strace" -p "$pid" 2>/dev/null || true
	n=$(polls_since "$2")
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
	callgrind_control -z "$pid" >/dev/null 2>&1
	polls_mark "$2"
	sleep "$secs"
	callgrind_control -d "$pid" >/dev/null 2>&1
	n=$(polls_since "$2")
	prog_stop
	dump=$(ls "$dir"/cg.out.* 2>/dev/null | head -1)
	[ -n "$dump" ] || { echo "bench: no callgrind dump" >&2; eval "$1_ir=-"; return 0; }
	eval "$(awk -v p="$1" -v n="$n" '
		function kind(o) {
			if (o ~ /libdbus/) return "libdbus"
			if (o ~ /libglib/) return "glib"
			if (o ~ /(libc\.so|libm\.so|ld-linux)/) return "libc"
			if (o ~ /(dbus-jkbms|bench_floor|bench_floor_bank)$/) return "ours"
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

# ROUNDS windows of the program (svc_kind) and its floor side by side. CPU
# per poll is the median of each, the ratio the median of the rounds'
# ratios.
cpu_rounds() { # ROUNDS
	: >"$dir/rounds"
	service_bin="$bs/dbus-jkbms"
	busy_pids=""
	if [ "$busy" = 1 ]; then # one bench_busy per core (bench/busy.c), for the CPU windows only
		for _ in $(seq "$jobs"); do
			"$b/bench_busy" &
			busy_pids="$busy_pids $!"
			rig_track $!
		done
	fi
	r=0
	while [ "$r" -lt "$1" ]; do
		window_cpu_pair
		r=$((r + 1))
	done
	for p in $busy_pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	eval "$(awk '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		$1 == "svc" { s[++ns] = $2 } $1 == "floor" { f[++nf] = $2; q[nf] = s[nf] / $2 }
		END {
			all = ""; for (i = 1; i <= ns; i++) all = all sprintf("%.0f/%.0f (%.2f) ", s[i] / 1000, f[i] / 1000, q[i])
			printf "svc_cpu=%.1f floor_cpu=%.1f cpu_ratio=%.2f cpu_all=\"%s\"\n",
				median(s, ns) / 1000, median(f, nf) / 1000, median(q, nf), all }' "$dir/rounds")"
}

measure_service() { # the static build for calls and memory; callgrind splits the dynamic one by library
	service_bin="$bs/dbus-jkbms"
	window_syscalls svc "$svc_kind"
	service_bin="$b/dbus-jkbms"
	window_callgrind svc "$svc_kind"
}

measure_floor() {
	window_syscalls floor floor
	window_callgrind floor floor
}

get() { eval "echo \"\${$1:--}\""; }

report() { # TITLE UNIT COUNTED: the program (svc_*) against the floor (floor_*), per UNIT
	echo "== $1"
	echo
	echo "| per $2 | $svc_kind (static) | floor | $svc_kind / floor |"
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
	echo "| D-Bus messages sent | $svc_msgs | 1 | |"
	echo
	echo "CPU per $2 in each round, $svc_kind/floor (us) and (ratio): $cpu_all"
	echo "System calls per $2 by kind: $svc_kind: ${svc_kinds%, }; floor: ${floor_kinds%, }"
	echo "Counted in the CPU windows: $svc_polls ($svc_kind) and $floor_polls (floor) $3"
	[ "$svc_lat" = - ] || echo "Reply's last byte to its ItemsChanged on the bus, median: $svc_lat us"
	awk -v r="$svc_rss" -v h="$svc_hwm" -v a="$svc_anon" -v k="$svc_kind" 'BEGIN {
		printf "Resident memory of the %s, static build (x86_64, Release): %.2f MB now, %.2f MB peak, %d kB of it anonymous\n", k, r / 1024, h / 1024, a }'
	[ -z "$gx_line" ] || echo "$gx_line"
	echo
}

# The GX binary's resident memory. It runs here only under qemu user
# emulation, whose own memory would swamp the process's figure; but qemu
# maps the guest's binary, heap and stacks as mappings of their own below
# 4 GB, which the guest's loads, stores and executed code fault in as they
# would on the GX (the same kernel maps the pages around a fault too). Their
# resident sizes, summed, are the GX's resident memory, printed as the
# binary's pages and the anonymous ones. Also printed: the most it could be
# (every page of the binary's loadable segments, plus the anonymous memory
# of the x86_64 build, whose pointers are twice as wide). The binary is
# built here (scripts/cross-build.sh --static) when the cross toolchain can be had.
# The x86_64 figure itself overstates the GX: its static glibc carries
# several variants of each string function (SSE2, AVX2, EVEX...).
gx_build() { # the GX's static armhf binary, as scripts/cross-build.sh makes it
	"$top/scripts/cross-build.sh" --static >/dev/null 2>&1
}

gx_rss() {
	arm="$top/build-armhf-static/dbus-jkbms.stripped"
	if ! gx_build || [ ! -f "$arm" ]; then
		echo "GX (armhf): the static armhf build failed here (scripts/cross-build.sh shows why)"
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
	# The guest's mappings: those of the binary (file-backed), the rest anonymous.
	set -- $(awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); low = length(r[1]) <= 8; file = $6 ~ /^\// }
		/^Rss:/ && low { if (file) f += $2; else a += $2 } END { print f + 0, a + 0 }' /proc/"$pid"/smaps)
	prog_stop
	service_bin=$saved
	awk -v f="$1" -v a="$2" -v kb="$kb" -v x="$svc_anon" 'BEGIN {
		printf "GX (armhf static binary under qemu-arm, the guest'"'"'s own mappings): %.2f MB resident: %d kB of the binary (of %d kB loadable) + %d kB anonymous (at most %.2f MB with the x86_64 build'"'"'s %d kB anonymous)\n", (f + a) / 1024, f, kb, a, (kb + x) / 1024, x }'
}

# ---- scenarios ---------------------------------------------------------------

sim_start() { # OPTION...: a fresh simulator and trace file
	: >"$dir/trace"
	: >"$dir/sim.log" # rig_sim_ask counts the answers of this simulator only
	rig_sim_start "$tty" "$@" --trace "$dir/trace"
}

sim_stop() {
	kill "$rig_sim_pid" 2>/dev/null || true
	wait "$rig_sim_pid" 2>/dev/null || true
	exec 9>&-
	rm -f "$dir/ctl"
}

# The floor polls a simulator of its own, started with the same options, so
# that the program and the floor can be measured in the same CPU window.
# Its trace counts the floor's polls exactly (the floor reads no settings).
twin_start() { # OPTION...
	: >"$dir/trace2"
	mkfifo "$dir/ctl2"
	"$b/jkbms-sim" --link "$tty2" "$@" --trace "$dir/trace2" <"$dir/ctl2" >"$dir/twin.log" 2>&1 &
	twin_pid=$!
	rig_track "$twin_pid"
	exec 8>"$dir/ctl2"
	while [ ! -e "$tty2" ]; do
		kill -0 "$twin_pid" 2>/dev/null || { echo "bench: the twin simulator exited:" >&2; cat "$dir/twin.log" >&2; exit 1; }
		sleep 0.02
	done
}

twin_stop() {
	kill "$twin_pid" 2>/dev/null || true
	wait "$twin_pid" 2>/dev/null || true
	exec 8>&-
	rm -f "$dir/ctl2"
}

# One JK BMS (4E 57), 16 cells, every value changing every poll (the
# current follows a sine wave, and every cell with it), 0.1 s polls.
scenario_jk_16() {
	interval=0.1 interval_ms=100 extra_config="" packs=1
	svc_kind=service counter=trace listen_name=com.victronenergy.battery.ttyBench
	floor_bin="$b/bench_floor" floor_args="$tty2 $interval_ms"
	sim_start --cells 16 --current 20
	rig_sim sine 30 7
	twin_start --cells 16 --current 20
	cpu_rounds "$rounds"
	measure_service
	measure_floor
	gx_line=$(gx_rss)
	twin_stop
	sim_stop
	report "one JK BMS (4E 57), 16 cells changing every poll, 0.1 s polls, ${secs} s windows" poll \
		"polls (the simulator's replies)"
	gx_line=""
}

# Three JK PB packs on one RS-485 bus (addresses 1-3), 16 cells each, each
# polled every second, their currents on the sine too; a service (and a
# D-Bus connection) per pack. The floor polls them the same way
# (bench_floor --protocol pb).
scenario_pb_3() {
	interval=1 interval_ms=1000 extra_config="protocol=pb pb_addresses=1-3" packs=3
	svc_kind=service counter=pb
	listen_name=com.victronenergy.battery.ttyBench_1,com.victronenergy.battery.ttyBench_2,com.victronenergy.battery.ttyBench_3
	floor_bin="$b/bench_floor" floor_args="--protocol pb --packs $packs $tty2 $interval_ms"
	sim_start --protocol pb --packs "$packs" --current 20
	rig_sim sine 30 7
	twin_start --protocol pb --packs "$packs" --current 20
	cpu_rounds "$rounds"
	measure_service
	measure_floor
	twin_stop
	sim_stop
	report "three JK PB packs on one RS-485 bus, each polled every 1 s, ${secs} s windows" "poll of one pack" \
		"polls of one pack (live-data replies)"
}

# The bank of parallel packs (dbus-jkbms --bank) with sixteen members
# played by bench_members (not sixteen real services with sixteen
# simulators, which would measure the machine more than the bank): each on
# a D-Bus connection of its own with the service's BusItem tree, the paths
# a member publishes (16 cells), one ItemsChanged per poll at 1 poll/s with
# every measured value moving. Figures per member update; the floor
# (bench_floor_bank) receives each and sends one ItemsChanged of the bank's.
scenario_bank_16() {
	extra_config="" packs=1
	svc_kind=bank counter=members listen_name=com.victronenergy.battery.jkbank
	floor_bin="$b/bench_floor_bank" floor_args=""
	rig_config "$dir/bank.ini" settings_timeout=3
	"$b/bench_members" 16 1 "$dir/members.count" >"$dir/members.log" 2>&1 &
	members_pid=$!
	rig_track "$members_pid"
	rig_wait_name com.victronenergy.battery.bench15
	cpu_rounds "$rounds"
	measure_service
	measure_floor
	kill "$members_pid"
	wait "$members_pid" 2>/dev/null || true
	report "the bank (dbus-jkbms --bank), 16 members at 1 poll/s each (bench_members), ${secs} s windows" \
		"member update" "member updates (bench_members)"
}

# Start-up: exec to the bus name, and first reply to the bus name.
startup() {
	sim_start --cells 16 --current 20
	interval=1 extra_config=""
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
[ "$busy" != 1 ] || echo "CPU windows with every core kept busy at the lowest priority (BENCH_BUSY=1: no idle, warm caches)"
echo
for scenario in ${BENCH_SCENARIOS:-jk_16 pb_3 bank_16}; do
	scenario_"$scenario"
done
startup
echo "Targets per poll: CPU <= 1.3 x the floor; <= 6 system calls and <= 2 wake-ups; no self-wake-ups;"
echo "<= 80,000 instructions with 16 changing cells; static GX binary resident <= 1.5 MB."
echo "For scale, the Python driver (dbus-serialbattery) on the same kind of poll: ~1.6 ms CPU,"
echo "~3,300,000 instructions, ~50 system calls, ~23 D-Bus messages and ~37.5 MB resident."
echo
echo "== codec: deframe + decode of a 16-cell read-all reply, one core"
"$b/bench_codec" 2
