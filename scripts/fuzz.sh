#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets with clang and run each for a bounded time,
# seeded with the captured frames. Usage: scripts/fuzz.sh [seconds-per-target]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
build="$top/build-fuzz"

"$top/scripts/bootstrap.sh" --fuzz
CC=clang cmake -S "$top" -B "$build" -DENABLE_FUZZING=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_codec fuzz_pb fuzz_config fuzz_setvalue fuzz_history_file \
	fuzz_bank_items fuzz_dbus_read make_seeds

targets="fuzz_codec fuzz_pb fuzz_config fuzz_setvalue fuzz_history_file fuzz_bank_items fuzz_dbus_read"

# The seeds of one target's corpus.
seed() {
	target=$1
	corpus="$build/corpus-$target"
	mkdir -p "$corpus"
	case "$target" in
	fuzz_codec)
		# The captured frames as raw bytes, and as the hex text --decode reads.
		for f in "$top"/tests/data/*.hex; do
			tr -d ' \n' <"$f" | sed 's/../\\x&/g' | xargs -0 printf >"$corpus/$(basename "$f" .hex).bin"
			cp "$f" "$corpus/"
		done ;;
	fuzz_pb)
		# The captured PB frames as raw bytes (tests/data/pb).
		for f in "$top"/tests/data/pb/*.hex; do
			tr -d ' \n' <"$f" | sed 's/../\\x&/g' | xargs -0 printf >"$corpus/$(basename "$f" .hex).bin"
		done ;;
	fuzz_config)
		cp "$top/packaging/dbus-jkbms.ini.sample" "$corpus/sample.ini"
		printf '[jkbms]\nbaud=9600\npoll_interval=0.5\nmosfet_control=false\nstate_dir=/tmp/x\n' >"$corpus/set.ini"
		printf '[jkbms]\nbaud=fast\n[other]\nx=1\n' >"$corpus/bad.ini" ;;
	fuzz_setvalue)
		"$build/fuzz/make_seeds" "$corpus" ;;
	fuzz_history_file)
		# The body of a history file; the target appends its checksum.
		printf '[battery]\nuid=jkbms_fuzz\nversion=1\n[history]\ncells_known=true\nmin_cell_mv=2900\nmax_cell_mv=3600\nvoltage_known=false\nmin_mv=0\nmax_mv=0\ntemperature_known=true\nmin_temp_c=-5\nmax_temp_c=40\ndrawn_ah=12.5\ncharged_wh=100\ndischarged_wh=90.25\ndeepest_ah=50\nlast_ah=20\ndischarges_ah=70\ndischarges=2\nfull_discharges=1\nempty_counted=false\nlast_full=1800000000\nlow_voltage_alarms=1\nhigh_voltage_alarms=0\n' >"$corpus/good.ini" ;;
	fuzz_bank_items)
		# Recipes: entries, then path, keys, key and a value per entry.
		printf '\003\010\000\000\001\000\000\000\001\013\000\000\000\001\001' >"$corpus/member.bin"
		printf '\006\007\001\000\003\002\000\002\005\000\005\000\000' >"$corpus/mixed.bin" ;;
	fuzz_dbus_read)
		# A member's ItemsChanged, whole and its body alone.
		"$build/fuzz/make_seeds" "$corpus" items ;;
	esac
}

# One target for secs seconds; its log in build-fuzz/<target>.log.
# DBUS_FATAL_WARNINGS=1: a libdbus warning or failed check aborts, as on a GX.
run() {
	DBUS_FATAL_WARNINGS=1 ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/$1" -max_total_time="$secs" -max_len=2048 \
		-print_final_stats=1 "$build/corpus-$1" 2>"$build/$1.log"
}

# As many targets at once as there are cores: each fuzzer is one process,
# so the same fuzzing time per target costs less wall time.
cores=$(nproc 2>/dev/null || echo 2)
failed=""
set -- $targets
while [ $# -gt 0 ]; do
	batch=""
	n=0
	while [ $# -gt 0 ] && [ $n -lt "$cores" ]; do
		seed "$1"
		echo "fuzz: $1 for ${secs}s"
		run "$1" &
		batch="$batch $1:$!"
		n=$((n + 1))
		shift
	done
	for job in $batch; do
		t=${job%%:*}
		if wait "${job#*:}"; then
			grep -E 'stat::number_of_executed_units|Done' "$build/$t.log" | tail -2 | sed "s/^/$t: /"
		else
			tail -50 "$build/$t.log" >&2
			echo "fuzz: $t FAILED (log: $build/$t.log)" >&2
			failed="$failed $t"
		fi
	done
done
[ -z "$failed" ] || exit 1
