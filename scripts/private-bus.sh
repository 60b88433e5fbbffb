#!/bin/sh
# SPDX-License-Identifier: MIT
# A system-bus stand-in with Venus OS's permissive policy: anyone may own any
# name and call anything (docs/architecture.md "Tests").
#   scripts/private-bus.sh start DIR   starts dbus-daemon with its socket in DIR,
#                                      prints DBUS_SYSTEM_BUS_ADDRESS=... and PID=...
#   scripts/private-bus.sh stop DIR    stops it
set -eu
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
case "$cmd" in
start)
	command -v dbus-daemon >/dev/null || { echo "private-bus: dbus-daemon is not installed (scripts/bootstrap.sh)" >&2; exit 1; }
	mkdir -p "$dir"
	cat >"$dir/system.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
CONF
	out=$(dbus-daemon --config-file="$dir/system.conf" --fork --print-address=1 --print-pid=1 2>"$dir/daemon.err") || {
		cat "$dir/daemon.err" >&2
		exit 1
	}
	pid=$(echo "$out" | sed -n 2p)
	echo "$pid" >"$dir/daemon.pid"
	echo "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/system_bus_socket"
	echo "PID=$pid"
	;;
stop)
	[ -f "$dir/daemon.pid" ] && kill "$(cat "$dir/daemon.pid")" 2>/dev/null || true
	rm -f "$dir/daemon.pid" "$dir/system_bus_socket" "$dir/system.conf" "$dir/daemon.err"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
