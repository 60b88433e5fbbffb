# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2034 # rig_* variables are for the scripts that source this
# The test rig shared by demo.sh, faults.sh, soak.sh and bench.sh: a private
# system bus, the settings stand-in, the BMS simulator and dbus-jkbms, all in
# one temporary directory and all stopped by PID in rig_cleanup. Source it
# (after setting top= to the repository, or rig_top=):
#
#   . "$top/scripts/lib/rig.sh"
#   rig_init NAME BUILD_DIR        rig_dir=/tmp/jkbms-NAME.XXXXXX; binaries from BUILD_DIR
#   trap rig_cleanup EXIT
#   rig_bus_start                  private bus; exports DBUS_SYSTEM_BUS_ADDRESS (rig_bus_pid)
#   rig_bus_stop                   stops it (the service on it loses its connection)
#   rig_settings_start             jkbms-fake-settings, until it owns its name (rig_settings_pid)
#   rig_settings_stop              stops it and waits for it
#   rig_sim_start LINK [OPTION...] jkbms-sim --link LINK OPTION..., until LINK exists
#                                  (rig_sim_pid); stdin is a fifo held on fd 9, stdout
#                                  goes to $rig_dir/sim.log, stderr to $rig_dir/sim.err
#   rig_sim COMMAND...             sends a command line to the simulator
#   rig_sim_ask COMMAND...         sends it and prints the simulator's answer line
#   rig_config FILE LINE...        writes "[jkbms]" and LINE... to FILE
#   rig_daemon_start TTY CONFIG    $rig_daemon_bin (default BUILD_DIR/dbus-jkbms) on TTY,
#                                  output appended to $rig_dir/service.log (rig_daemon_pid)
#   rig_daemon_wait SECONDS        waits for the service to exit: returns its exit status,
#                                  or 124 after killing it when it is still running
#   rig_daemon_stop                SIGTERM, then rig_daemon_wait 30
#   rig_wait_name NAME [SECONDS]   waits until NAME is owned on the bus
#   rig_track PID                  has rig_cleanup stop another process too
#   rig_cleanup                    stops everything above by PID, removes rig_dir
#
# Functions return non-zero with a message on stderr when something does not
# come up within rig_timeout seconds (default 10). Their own variables are
# rig_* and _rig_*.

rig_top=${rig_top:-${top:-$(cd "$(dirname "$0")/.." && pwd)}}
rig_timeout=${rig_timeout:-10}
rig_dir=""
rig_build=""
rig_daemon_bin=""
rig_bus_pid=""
rig_settings_pid=""
rig_sim_pid=""
rig_daemon_pid=""
rig_pids=""

rig_init() { # NAME BUILD_DIR
	rig_build=$2
	rig_daemon_bin=$rig_build/dbus-jkbms
	for _rig_b in dbus-jkbms jkbms-sim jkbms-fake-settings jkbms-view; do
		if [ ! -x "$rig_build/$_rig_b" ]; then
			echo "rig: $rig_build/$_rig_b is missing: build the project first" >&2
			return 1
		fi
	done
	rig_dir=$(mktemp -d "/tmp/jkbms-$1.XXXXXX") || { echo "rig: cannot create a temporary directory" >&2; return 1; }
}

# _rig_until SECONDS COMMAND...: true once COMMAND succeeds, polled every 0.1 s.
_rig_until() {
	_rig_end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$_rig_end" ] || return 1
		sleep 0.1
	done
}

_rig_forget() { # PID: drop it from the cleanup list
	_rig_left=""
	for _rig_p in $rig_pids; do
		[ "$_rig_p" = "$1" ] || _rig_left="$_rig_left $_rig_p"
	done
	rig_pids=$_rig_left
}

rig_track() { # PID
	rig_pids="$rig_pids $1"
}

rig_bus_start() {
	_rig_out=$("$rig_top/scripts/private-bus.sh" start "$rig_dir") || {
		echo "rig: the private bus did not start" >&2
		return 1
	}
	DBUS_SYSTEM_BUS_ADDRESS=$(echo "$_rig_out" | sed -n 's/^DBUS_SYSTEM_BUS_ADDRESS=//p')
	rig_bus_pid=$(echo "$_rig_out" | sed -n 's/^PID=//p')
	export DBUS_SYSTEM_BUS_ADDRESS
}

rig_bus_stop() {
	"$rig_top/scripts/private-bus.sh" stop "$rig_dir" >/dev/null 2>&1 || true
	rig_bus_pid=""
}

_rig_has_owner() { # NAME
	dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:"$1" 2>/dev/null | grep -q "boolean true"
}

rig_wait_name() { # NAME [SECONDS]
	command -v dbus-send >/dev/null || { echo "rig: dbus-send is not installed (scripts/bootstrap.sh)" >&2; return 1; }
	_rig_until "${2:-$rig_timeout}" _rig_has_owner "$1" || {
		echo "rig: $1 did not appear on the bus within ${2:-$rig_timeout} s" >&2
		return 1
	}
}

rig_settings_start() {
	"$rig_build/jkbms-fake-settings" >>"$rig_dir/settings.log" 2>&1 &
	rig_settings_pid=$!
	rig_track "$rig_settings_pid"
	rig_wait_name com.victronenergy.settings
}

rig_settings_stop() {
	[ -n "$rig_settings_pid" ] || return 0
	kill "$rig_settings_pid" 2>/dev/null || true
	wait "$rig_settings_pid" 2>/dev/null || true
	_rig_forget "$rig_settings_pid"
	rig_settings_pid=""
}

_rig_sim_up() { # LINK: the link exists or the simulator is gone
	[ -e "$1" ] || ! kill -0 "$rig_sim_pid" 2>/dev/null
}

rig_sim_start() { # LINK [OPTION...]
	_rig_link=$1
	shift
	mkfifo "$rig_dir/ctl"
	: >"$rig_dir/sim.cmds"
	"$rig_build/jkbms-sim" --link "$_rig_link" "$@" <"$rig_dir/ctl" >>"$rig_dir/sim.log" 2>>"$rig_dir/sim.err" &
	rig_sim_pid=$!
	rig_track "$rig_sim_pid"
	exec 9>"$rig_dir/ctl"
	if ! _rig_until "$rig_timeout" _rig_sim_up "$_rig_link" || [ ! -e "$_rig_link" ]; then
		echo "rig: the simulator did not create $_rig_link:" >&2
		cat "$rig_dir/sim.err" >&2
		return 1
	fi
}

rig_sim() { # COMMAND...
	echo "$*" >&9
	# Every non-empty line is answered by one line: count them for rig_sim_ask
	# (in a file, so that it also works from a subshell).
	case "$*" in *[![:space:]]*) echo "$*" >>"$rig_dir/sim.cmds" ;; esac
}

_rig_answered() { # N: the simulator has printed its Nth answer
	[ "$(grep -vc '^pty ' "$rig_dir/sim.log")" -ge "$1" ]
}

rig_sim_ask() { # COMMAND...
	rig_sim "$@"
	_rig_n=$(wc -l <"$rig_dir/sim.cmds")
	_rig_until "$rig_timeout" _rig_answered "$_rig_n" || {
		echo "rig: the simulator did not answer '$*'" >&2
		return 1
	}
	grep -v '^pty ' "$rig_dir/sim.log" | sed -n "${_rig_n}p"
}

rig_config() { # FILE LINE...
	_rig_f=$1
	shift
	{
		echo "[jkbms]"
		for _rig_l in "$@"; do echo "$_rig_l"; done
	} >"$_rig_f"
}

rig_daemon_start() { # TTY CONFIG
	"$rig_daemon_bin" "$1" --config "$2" >>"$rig_dir/service.log" 2>&1 &
	rig_daemon_pid=$!
}

_rig_gone() { # PID
	! kill -0 "$1" 2>/dev/null
}

rig_daemon_wait() { # SECONDS
	[ -n "$rig_daemon_pid" ] || return 0
	_rig_st=0
	if _rig_until "$1" _rig_gone "$rig_daemon_pid"; then
		wait "$rig_daemon_pid" || _rig_st=$?
	else
		kill -KILL "$rig_daemon_pid" 2>/dev/null || true
		wait "$rig_daemon_pid" 2>/dev/null || true
		_rig_st=124
	fi
	rig_daemon_pid=""
	return "$_rig_st"
}

rig_daemon_stop() {
	[ -n "$rig_daemon_pid" ] || return 0
	kill -TERM "$rig_daemon_pid" 2>/dev/null || true
	rig_daemon_wait 30
}

# Safe as an EXIT trap under set -e, and when called twice.
rig_cleanup() {
	for _rig_p in $rig_daemon_pid $rig_pids; do
		kill "$_rig_p" 2>/dev/null || true
	done
	exec 9>&- 2>/dev/null || true
	for _rig_p in $rig_daemon_pid $rig_pids; do
		wait "$_rig_p" 2>/dev/null || true
	done
	rig_daemon_pid=""
	rig_settings_pid=""
	rig_sim_pid=""
	rig_pids=""
	if [ -n "$rig_dir" ]; then
		rig_bus_stop
		rm -rf "$rig_dir"
	fi
	return 0
}
