#!/bin/sh
# SPDX-License-Identifier: MIT
# Install dbus-jkbms on a Venus OS GX from /data/apps/dbus-jkbms.
#   install.sh [--root DIR] [--bind TTY [--serial SERIAL]] [--bank] [--boot]
# Idempotent. Installs the service template into the (read-only) rootfs,
# joins serial-starter's probing with /data/conf/serial-starter.d/, and adds
# one line to /data/rc.local so all of it comes back after a firmware update.
# --bind TTY binds one USB adapter for good (a udev rule on its serial number
# sets VE_SERVICE, so serial-starter starts only dbus-jkbms on it; the
# recommended setup). --bank also runs the bank of parallel packs
# (dbus-jkbms --bank) as the daemontools service /service/dbus-jkbms.bank,
# kept across reboots and firmware updates. --root installs into a
# directory laid out like a GX.
set -eu
root=/
bind=""
serial=""
boot=0
bank=0
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=$2; shift 2 ;;
	--bind) bind=$2; shift 2 ;;
	--serial) serial=$2; shift 2 ;;
	--boot) boot=1; shift ;;
	--bank) bank=1; shift ;;
	*) echo "usage: $0 [--root DIR] [--bind TTY [--serial SERIAL]] [--bank] [--boot]" >&2; exit 2 ;;
	esac
done
root=${root%/}
app="$root/data/apps/dbus-jkbms"
live=0
[ -z "$root" ] && live=1
say() { [ "$boot" = 1 ] || echo "install: $*"; }

[ -x "$app/bin/dbus-jkbms" ] || { echo "install: $app/bin/dbus-jkbms is missing; unpack the release under /data/apps first" >&2; exit 1; }

# 1. The rootfs is read-only on a GX and replaced by every firmware update.
templates="$root/opt/victronenergy/service-templates/dbus-jkbms"
if [ "$live" = 1 ] && [ -x /opt/victronenergy/swupdate-scripts/remount-rw.sh ]; then
	/opt/victronenergy/swupdate-scripts/remount-rw.sh
fi
mkdir -p "$templates/log"
cp "$app/service/run" "$templates/run"
cp "$app/service/log/run" "$templates/log/run"
: >"$templates/down" # serial-starter decides when it runs
chmod 755 "$templates/run" "$templates/log/run"
say "service template in ${templates#"$root"}"

# 2. Join serial-starter's probing on every USB serial adapter.
conf_dir="$root/data/conf/serial-starter.d"
mkdir -p "$conf_dir"
cat >"$conf_dir/dbus-jkbms.conf.tmp" <<CONF
# dbus-jkbms: probe USB serial adapters for a JK-BMS (exits within seconds
# when none answers, so the next driver gets the port).
service jkbms dbus-jkbms
alias default gps:vedirect:jkbms
alias rs485 cgwacs:fzsonick:imt:modbus:jkbms
CONF
mv "$conf_dir/dbus-jkbms.conf.tmp" "$conf_dir/dbus-jkbms.conf"
say "serial-starter configuration in ${conf_dir#"$root"}/dbus-jkbms.conf"

# 3. Bind one adapter for good (optional).
rule_name=99-dbus-jkbms.rules
if [ -n "$bind" ]; then
	tty=${bind#/dev/}
	if [ -z "$serial" ]; then
		command -v udevadm >/dev/null || { echo "install: udevadm missing; give --serial" >&2; exit 1; }
		serial=$(udevadm info --query=property --name="/dev/$tty" | sed -n 's/^ID_SERIAL=//p')
	fi
	[ -n "$serial" ] || { echo "install: /dev/$tty has no USB serial number; cannot bind it" >&2; exit 1; }
	mkdir -p "$app/udev"
	cat >"$app/udev/$rule_name" <<RULE
# dbus-jkbms: the adapter with this serial number always runs dbus-jkbms
# (serial-starter reads VE_SERVICE; no probing by other drivers).
ACTION=="add", SUBSYSTEM=="tty", ENV{ID_SERIAL}=="$serial", ENV{VE_SERVICE}="jkbms"
RULE
	say "bound /dev/$tty (serial $serial) to dbus-jkbms"
fi
if [ -f "$app/udev/$rule_name" ]; then
	mkdir -p "$root/etc/udev/rules.d"
	cp "$app/udev/$rule_name" "$root/etc/udev/rules.d/$rule_name"
	if [ "$live" = 1 ] && command -v udevadm >/dev/null; then
		udevadm control --reload-rules && udevadm trigger --subsystem-match=tty --action=add || true
	fi
fi

# 4. The bank of parallel packs (optional): its own daemontools service,
# linked into /service (a tmpfs on Venus OS, so re-linked at every boot).
if [ "$bank" = 1 ]; then
	[ -x "$app/service-bank/run" ] || { echo "install: $app/service-bank/run is missing" >&2; exit 1; }
	: >"$app/bank.enabled"
fi
if [ -f "$app/bank.enabled" ]; then
	mkdir -p "$root/service"
	if [ ! -L "$root/service/dbus-jkbms.bank" ]; then
		ln -s /data/apps/dbus-jkbms/service-bank "$root/service/dbus-jkbms.bank"
		say "bank service in /service/dbus-jkbms.bank (dbus-jkbms --bank)"
	fi
fi

# 5. Come back after a firmware update: one line in /data/rc.local.
rc="$root/data/rc.local"
line="/data/apps/dbus-jkbms/install.sh --boot # dbus-jkbms"
[ -f "$rc" ] || printf '#!/bin/sh\n' >"$rc"
chmod 755 "$rc"
grep -qxF "$line" "$rc" || echo "$line" >>"$rc"

# 6. Let serial-starter see the new configuration.
if [ "$live" = 1 ] && [ "$boot" = 0 ] && [ -d /service/serial-starter ] && command -v svc >/dev/null; then
	svc -t /service/serial-starter
fi
say "done"
