#!/bin/sh
# SPDX-License-Identifier: MIT
# install.sh / uninstall.sh in a directory laid out like a GX root: install,
# install again (idempotent), bind an adapter, serial-starter's template
# instantiation and the run script starting the binary with the right tty,
# then uninstall leaving no trace.
#   test_install.sh SOURCE_DIR [RELEASE_ARCHIVE]
set -u
src=$1
archive=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/gx"
fails=0
passes=0
check() { if [ "$2" -eq 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi; }
has_line() { grep -qxF -- "$2" "$1"; }
count_line() { grep -cxF -- "$2" "$1"; }

# A GX root: the stock template dir, a user rc.local with a line of its own.
mkdir -p "$root/opt/victronenergy/service-templates/gps-dbus" "$root/data/apps" "$root/etc/udev/rules.d" \
	"$root/data/conf"
printf '#!/bin/sh\n/data/other-thing.sh\n' >"$root/data/rc.local"
app="$root/data/apps/dbus-jkbms"
if [ -n "$archive" ]; then
	tar -xzf "$archive" -C "$root/data/apps"
	check "archive unpacks to dbus-jkbms/" "$(test -d "$app"; echo $?)"
	for f in bin/dbus-jkbms service/run service/log/run service/down service-bank/run service-bank/log/run \
		start-jkbms.sh install.sh uninstall.sh \
		dbus-jkbms.ini.sample LICENSE VERSION README.md licenses/glib licenses/dbus licenses/libserialport \
		licenses/glibc licenses/pcre2 licenses/LGPL-2.1 licenses/LGPL-3 relink/RELINK.txt; do
		test -e "$app/$f"; check "archive has $f" $?
	done
	# A GLib built from source comes with that source (LGPL).
	if grep -q "source package" "$app/relink/RELINK.txt"; then
		sources="${archive%-armhf.tar.gz}-sources.tar.gz"
		tar -tzf "$sources" 2>/dev/null | grep -q 'dbus-jkbms-sources/glib/glib2.0_.*\.dsc$'
		check "the sources archive beside it has GLib's source package" $?
	fi
	# The real binary is replaced by a stub that records how it was started.
fi
mkdir -p "$app/bin" "$app/service/log" "$app/service-bank/log"
if [ -z "$archive" ]; then
	cp "$src/service/run" "$app/service/run"
	cp "$src/service/log/run" "$app/service/log/run"
	cp "$src/service/down" "$app/service/down"
	cp "$src/service-bank/run" "$app/service-bank/run"
	cp "$src/service-bank/log/run" "$app/service-bank/log/run"
	cp "$src/packaging/install.sh" "$src/packaging/uninstall.sh" "$src/packaging/start-jkbms.sh" "$app/"
fi
printf '#!/bin/sh\necho "$DBUS_SYSTEM_BUS_ADDRESS $*" >"%s/started"\n' "$tmp" >"$app/bin/dbus-jkbms"
chmod +x "$app/bin/dbus-jkbms"

"$app/install.sh" --root "$root" >"$tmp/out" 2>&1
check "install exits 0" $?
t="$root/opt/victronenergy/service-templates/dbus-jkbms"
test -x "$t/run" && test -x "$t/log/run" && test -f "$t/down"; check "template installed (run, log/run, down)" $?
cmp -s "$t/run" "$app/service/run"; check "template run is the shipped one" $?
has_line "$t/run" "exec /data/apps/dbus-jkbms/start-jkbms.sh TTY"; check "run starts start-jkbms.sh TTY" $?
has_line "$t/log/run" "exec multilog t s25000 n4 /var/log/dbus-jkbms.TTY"; check "log/run uses multilog" $?
conf="$root/data/conf/serial-starter.d/dbus-jkbms.conf"
has_line "$conf" "service jkbms dbus-jkbms"; check "serial-starter service line" $?
has_line "$conf" "alias default gps:vedirect:jkbms"; check "probing on default adapters" $?
has_line "$conf" "alias rs485 cgwacs:fzsonick:imt:modbus:jkbms"; check "probing on RS485 adapters" $?
rc="$root/data/rc.local"
test "$(count_line "$rc" "/data/apps/dbus-jkbms/install.sh --boot # dbus-jkbms")" -eq 1; check "one rc.local line" $?
has_line "$rc" "/data/other-thing.sh"; check "rc.local keeps the user's lines" $?
test -x "$rc"; check "rc.local executable" $?
test -d "$root/opt/victronenergy/service-templates/gps-dbus"; check "other templates untouched" $?

cp -r "$root" "$tmp/after-first"
"$app/install.sh" --root "$root" >/dev/null 2>&1
check "install again exits 0" $?
diff -r "$tmp/after-first" "$root" >/dev/null; check "install again changes nothing" $?

# After a firmware update the rootfs template is gone; rc.local's --boot puts it back.
rm -rf "$root/opt/victronenergy/service-templates/dbus-jkbms"
"$app/install.sh" --root "$root" --boot >"$tmp/out" 2>&1
check "--boot exits 0" $?
test -x "$t/run"; check "--boot restores the template" $?
test ! -s "$tmp/out"; check "--boot is quiet" $?

# Bind one adapter for good.
"$app/install.sh" --root "$root" --bind ttyUSB1 --serial FTDI_FT232R_A50285BI >/dev/null 2>&1
check "--bind exits 0" $?
rule="$root/etc/udev/rules.d/99-dbus-jkbms.rules"
has_line "$rule" 'ACTION=="add", SUBSYSTEM=="tty", ENV{ID_SERIAL}=="FTDI_FT232R_A50285BI", ENV{VE_SERVICE}="jkbms"'
check "udev rule sets VE_SERVICE for that serial" $?
rm -f "$rule"
"$app/install.sh" --root "$root" --boot >/dev/null 2>&1
test -f "$rule"; check "--boot restores the udev rule from /data" $?
! "$app/install.sh" --root "$root" --bind ttyUSB9 --serial "" >/dev/null 2>"$tmp/err"
check "--bind without a serial number fails" $?

# The bank of parallel packs: its own daemontools service, linked into
# /service, restored at boot, started as dbus-jkbms --bank.
bank_link="$root/service/dbus-jkbms.bank"
test ! -e "$bank_link" && test ! -L "$bank_link"; check "no bank service without --bank" $?
"$app/install.sh" --root "$root" --bank >/dev/null 2>&1
check "--bank exits 0" $?
test "$(readlink "$bank_link")" = /data/apps/dbus-jkbms/service-bank; check "bank service linked into /service" $?
test -x "$app/service-bank/run" && test -x "$app/service-bank/log/run"; check "bank run scripts executable" $?
has_line "$app/service-bank/run" "exec /data/apps/dbus-jkbms/start-jkbms.sh --bank"; check "bank run starts --bank" $?
has_line "$app/service-bank/log/run" "exec multilog t s25000 n4 /var/log/dbus-jkbms.bank"; check "bank log" $?
"$app/install.sh" --root "$root" --bank >/dev/null 2>&1
test "$(readlink "$bank_link")" = /data/apps/dbus-jkbms/service-bank; check "--bank again keeps one link" $?
rm -f "$bank_link"
"$app/install.sh" --root "$root" --boot >/dev/null 2>&1
test -L "$bank_link"; check "--boot restores the bank service" $?
env -u DBUS_SYSTEM_BUS_ADDRESS "$app/start-jkbms.sh" --bank
has_line "$tmp/started" "unix:path=/var/run/dbus/system_bus_socket --bank"
check "start-jkbms.sh --bank runs dbus-jkbms --bank on the GX's bus" $?
mkdir -p "$root/var/log/dbus-jkbms.bank"

# serial-starter's instantiation: copy the template, replace TTY.
inst="$root/var/volatile/services/dbus-jkbms.ttyUSB0"
mkdir -p "$inst"
cp -r "$t/." "$inst/"
sed -i 's/TTY/ttyUSB0/g' "$inst/run" "$inst/log/run"
has_line "$inst/run" "exec /data/apps/dbus-jkbms/start-jkbms.sh ttyUSB0"; check "instantiated run names the tty" $?
# The start script (run from the test root) starts the binary on /dev/<tty>.
env -u DBUS_SYSTEM_BUS_ADDRESS "$app/start-jkbms.sh" ttyUSB0
has_line "$tmp/started" "unix:path=/var/run/dbus/system_bus_socket /dev/ttyUSB0"
check "start-jkbms.sh runs dbus-jkbms /dev/ttyUSB0 on the GX's bus" $?
! "$app/start-jkbms.sh" >/dev/null 2>&1
check "start-jkbms.sh without a tty fails" $?

# Uninstall: every trace goes, the user's things stay.
mkdir -p "$root/data/var/lib/dbus-jkbms" "$root/var/log/dbus-jkbms.ttyUSB0"
touch "$root/data/var/lib/dbus-jkbms/jkbms_x.state" "$root/data/conf/dbus-jkbms.ini"
"$app/uninstall.sh" --root "$root" >/dev/null 2>&1
check "uninstall exits 0" $?
for p in opt/victronenergy/service-templates/dbus-jkbms data/conf/serial-starter.d/dbus-jkbms.conf \
	etc/udev/rules.d/99-dbus-jkbms.rules var/volatile/services/dbus-jkbms.ttyUSB0 var/log/dbus-jkbms.ttyUSB0 \
	service/dbus-jkbms.bank var/log/dbus-jkbms.bank \
	data/var/lib/dbus-jkbms data/conf/dbus-jkbms.ini data/apps/dbus-jkbms; do
	test ! -e "$root/$p"; check "uninstall removed $p" $?
done
test ! -L "$bank_link"; check "uninstall removed the bank's /service link" $?
! grep -q dbus-jkbms "$rc"; check "rc.local has no dbus-jkbms line" $?
has_line "$rc" "/data/other-thing.sh"; check "rc.local keeps the user's lines" $?
test -d "$root/opt/victronenergy/service-templates/gps-dbus"; check "other templates still there" $?
left=$(grep -rl 'jkbms' "$root" 2>/dev/null | head -3)
test -z "$left"; check "no file mentions jkbms any more ($left)" $?

echo "install: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
