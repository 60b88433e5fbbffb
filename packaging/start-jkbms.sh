#!/bin/sh
# SPDX-License-Identifier: MIT
# Started by the service template with the tty name (serial-starter's TTY).
# Runs dbus-jkbms on /dev/<tty> against the GX's system bus. When no JK-BMS
# answers within probe_timeout it exits 1 without registering, so
# serial-starter can try the next driver on that port. With --bank (the
# bank's own service) it runs the bank of parallel packs instead.
app=$(cd "$(dirname "$0")" && pwd)
tty=${1:?usage: start-jkbms.sh TTY}
# The binary's compiled-in default socket path must never matter.
export DBUS_SYSTEM_BUS_ADDRESS=${DBUS_SYSTEM_BUS_ADDRESS:-unix:path=/var/run/dbus/system_bus_socket}
[ "$tty" = --bank ] && exec "$app/bin/dbus-jkbms" --bank
exec "$app/bin/dbus-jkbms" "/dev/$tty"
