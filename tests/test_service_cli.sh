#!/bin/sh
# SPDX-License-Identifier: MIT
# Start-up errors of `dbus-jkbms DEVICE` as a user meets them: configuration
# errors name the key and exit 2; a missing device exits 1 and says so.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0
check() { if [ "$2" -eq 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi; }
contains() { grep -qF -- "$2" "$1"; }

printf '[jkbms]\npoll_interval=fast\n' >"$tmp/bad.ini"
"$bin" --config "$tmp/bad.ini" /dev/null >/dev/null 2>"$tmp/err"
test $? -eq 2; check "invalid value exits 2" $?
contains "$tmp/err" "poll_interval: invalid value 'fast' (expected 0.1..60 s)"; check "invalid value names the key" $?

# docs/charge-control.md "Loss of communication": polls slower than the link
# windows allow are refused, naming both keys; so is a command-line override
# that breaks a good file.
printf '[jkbms]\npoll_interval=45\n' >"$tmp/slow.ini"
"$bin" --config "$tmp/slow.ini" /dev/null >/dev/null 2>"$tmp/err"
test $? -eq 2; check "poll_interval 45 with link_lost 30 exits 2" $?
contains "$tmp/err" "poll_interval"; check "timing error names poll_interval" $?
contains "$tmp/err" "link_lost"; check "timing error names link_lost" $?
printf '[jkbms]\nlink_warning=4\nlink_lost=6\n' >"$tmp/tight.ini"
"$bin" --config "$tmp/tight.ini" --poll-interval 3 /dev/null >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--poll-interval beyond the file's link windows exits 2" $?
contains "$tmp/err" "link_warning >= 6 s"; check "timing error names link_warning" $?
# Consistent timing passes the check: the run gets as far as the bus.
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/nobus" "$bin" --config "$tmp/tight.ini" --poll-interval 2 /dev/ttyNONE \
	>/dev/null 2>"$tmp/err"
test $? -eq 1; check "consistent timing starts" $?
contains "$tmp/err" "cannot connect to the system bus"; check "consistent timing reaches the bus" $?

"$bin" --config "$tmp/none.ini" /dev/null >/dev/null 2>"$tmp/err"
test $? -eq 2; check "missing --config file exits 2" $?
contains "$tmp/err" "none.ini"; check "missing config named" $?

"$bin" --max-charge-current -5 /dev/null >/dev/null 2>"$tmp/err"
test $? -eq 2; check "invalid option exits 2" $?
contains "$tmp/err" "max_charge_current: invalid value '-5'"; check "invalid option named" $?

"$bin" >/dev/null 2>"$tmp/err"
test $? -eq 2; check "no DEVICE exits 2" $?
contains "$tmp/err" "no DEVICE given"; check "no DEVICE explained" $?
"$bin" --config "$tmp/tight.ini" --poll-interval 2 >/dev/null 2>"$tmp/err"
test $? -eq 2; check "options but no DEVICE exits 2" $?
contains "$tmp/err" "no DEVICE given"; check "options but no DEVICE explained" $?
"$bin" /dev/ttyA --baud 9600 /dev/ttyB >/dev/null 2>"$tmp/err"
test $? -eq 2; check "two DEVICEs exit 2" $?
contains "$tmp/err" "more than one DEVICE given: '/dev/ttyA' and '/dev/ttyB'"; check "two DEVICEs named" $?
"$bin" --bogus /dev/ttyA >/dev/null 2>"$tmp/err"
test $? -eq 2; check "unknown option exits 2" $?
contains "$tmp/err" "unrecognized option" && contains "$tmp/err" "bogus"; check "unknown option named" $?
"$bin" --baud >/dev/null 2>"$tmp/err"
test $? -eq 2; check "option without its value exits 2" $?
contains "$tmp/err" "baud"; check "option without its value named" $?
# DEVICE before, between or after the options; "--" ends them.
for args in "/dev/ttyNONE --config $tmp/tight.ini --poll-interval 2" \
	"--config $tmp/tight.ini /dev/ttyNONE --poll-interval 2" \
	"--config $tmp/tight.ini --poll-interval 2 -- /dev/ttyNONE"; do
	# shellcheck disable=SC2086 # the words are the arguments
	DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/nobus" "$bin" $args >/dev/null 2>"$tmp/err"
	test $? -eq 1; check "$args starts" $?
	contains "$tmp/err" "cannot connect to the system bus"; check "$args reaches the bus" $?
done
# An option after DEVICE still applies.
"$bin" --config "$tmp/tight.ini" /dev/ttyNONE --poll-interval 3 >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--poll-interval after DEVICE applies" $?
contains "$tmp/err" "link_warning >= 6 s"; check "--poll-interval after DEVICE checked" $?

# An unknown key is a warning. The bus is connected before the device is
# opened, so with no bus the run ends there, with that reason.
printf '[jkbms]\nbaud=115200\ncolour=blue\n' >"$tmp/warn.ini"
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/nobus" "$bin" --config "$tmp/warn.ini" /dev/ttyNONE >/dev/null 2>"$tmp/err"
test $? -eq 1; check "no bus exits 1" $?
contains "$tmp/err" "unknown key 'colour' ignored"; check "unknown key warned" $?
contains "$tmp/err" "cannot connect to the system bus"; check "no bus explained" $?

echo "service_cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
