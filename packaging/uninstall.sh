#!/bin/sh
# SPDX-License-Identifier: MIT
# Remove every trace of dbus-jkbms from a GX (or from --root DIR): running
# services (the bank's /service/dbus-jkbms.bank too), the service template, the serial-starter configuration, the
# udev rule, the /data/rc.local line, logs, the charge state, the
# configuration (unless --keep-config) and /data/apps/dbus-jkbms itself.
# The device instance stays in localsettings, so a reinstall keeps it.
set -eu
root=/
keep_config=0
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=$2; shift 2 ;;
	--keep-config) keep_config=1; shift ;;
	*) echo "usage: $0 [--root DIR] [--keep-config]" >&2; exit 2 ;;
	esac
done
root=${root%/}
live=0
[ -z "$root" ] && live=1

if [ "$live" = 1 ]; then
	for s in /service/dbus-jkbms.*; do
		[ -e "$s" ] || continue
		svc -d "$s" "$s/log" 2>/dev/null || true
		rm -f "$s"
	done
	[ -x /opt/victronenergy/swupdate-scripts/remount-rw.sh ] && /opt/victronenergy/swupdate-scripts/remount-rw.sh
fi
rm -f "$root/service/dbus-jkbms.bank"
rm -rf "$root/opt/victronenergy/service-templates/dbus-jkbms"
rm -rf "$root"/var/volatile/services/dbus-jkbms.*
rm -f "$root/data/conf/serial-starter.d/dbus-jkbms.conf"
rm -f "$root/etc/udev/rules.d/99-dbus-jkbms.rules"
rc="$root/data/rc.local"
if [ -f "$rc" ]; then
	grep -vxF "/data/apps/dbus-jkbms/install.sh --boot # dbus-jkbms" "$rc" >"$rc.tmp" || true
	cat "$rc.tmp" >"$rc"
	rm -f "$rc.tmp"
fi
rm -rf "$root"/var/log/dbus-jkbms.*
rm -rf "$root/data/var/lib/dbus-jkbms"
[ "$keep_config" = 1 ] || rm -f "$root/data/conf/dbus-jkbms.ini"
rm -rf "$root/data/apps/dbus-jkbms"
if [ "$live" = 1 ] && [ -d /service/serial-starter ] && command -v svc >/dev/null; then
	svc -t /service/serial-starter
fi
echo "uninstall: dbus-jkbms removed"
