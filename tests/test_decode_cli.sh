#!/bin/sh
# SPDX-License-Identifier: MIT
# `dbus-jkbms --decode` as a user runs it: exit codes, JSON values, and the
# error that names the failed check and its byte offset.
set -u
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

check() { # description, command status (0 = ok)
	if [ "$2" -eq 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
contains() { grep -qF -- "$2" "$1"; }

"$bin" --decode "$data/jk-14s-h6-6.1.3S.hex" >"$tmp/out" 2>"$tmp/err"
check "14s decodes (exit $?)" $?
contains "$tmp/out" '"voltage_v":53.59,'; check "14s voltage" $?
contains "$tmp/out" '"current_a":2.08,'; check "14s current" $?
contains "$tmp/out" '"temperatures_c":{"mosfet":29,"t1":30,"t2":28}'; check "14s temperatures" $?
test ! -s "$tmp/err"; check "14s prints nothing on stderr" $?

# Raw bytes on stdin, behind garbage and our own echoed request.
printf 'garbage' >"$tmp/raw"
printf '\116\127\000\023\000\000\000\000\006\003\000\000\000\000\000\000\150\000\000\001\051' >>"$tmp/raw"
tr -d ' \n' <"$data/jk-16s-lfp-h7-7.1.0H.hex" | sed 's/../\\x&/g' | xargs -0 printf >>"$tmp/raw"
"$bin" --decode - <"$tmp/raw" >"$tmp/out" 2>"$tmp/err"
check "raw stdin decodes" $?
contains "$tmp/out" '"current_a":-0.69,'; check "16s current" $?
contains "$tmp/err" 'not a BMS reply at byte 16'; check "echo explained" $?

# The vendor example as published: rejected with the check and offset.
"$bin" --decode "$data/jk-20s-vendor-example-oldfw.hex" >"$tmp/out" 2>"$tmp/err"
st=$?
test "$st" -eq 1; check "vendor example exits 1 (got $st)" $?
contains "$tmp/err" 'checksum mismatch at byte 267: frame says 0x4923, bytes sum to 0x485C'; check "checksum explained" $?
test ! -s "$tmp/out"; check "nothing on stdout" $?

# Truncated input, missing file, bad usage.
head -c 300 "$data/jk-14s-h6-6.1.3S.hex" >"$tmp/short"
"$bin" --decode "$tmp/short" >/dev/null 2>"$tmp/err"
test $? -eq 1; check "truncated exits 1" $?
contains "$tmp/err" 'truncated at byte 100: 100 of 285 bytes'; check "truncation explained" $?
"$bin" --decode "$tmp/nonexistent" >/dev/null 2>"$tmp/err"
test $? -eq 1; check "missing file exits 1" $?
contains "$tmp/err" 'cannot open'; check "missing file named" $?
"$bin" --bogus >/dev/null 2>"$tmp/err"
test $? -eq 2; check "unknown option exits 2" $?
contains "$tmp/err" "bogus"; check "unknown option named" $?
"$bin" --decode "$data/jk-14s-h6-6.1.3S.hex" extra >/dev/null 2>"$tmp/err"
test $? -eq 2; check "--decode with an extra argument exits 2" $?
contains "$tmp/err" "unexpected argument 'extra' (--decode takes no DEVICE)"; check "extra argument named" $?
"$bin" -v --decode "$data/jk-14s-h6-6.1.3S.hex" >"$tmp/out" 2>"$tmp/err"
check "-v before --decode decodes" $?

# The PB family, told by its bytes: a 308-byte RS-485 capture (frame + ACK).
"$bin" --decode "$data/pb/pb-cell-rs485-phinix-slave-addr1.hex" >"$tmp/out" 2>"$tmp/err"
check "pb live decodes" $?
contains "$tmp/out" '{"cells_mv":[3267,3267,3268,'; check "pb cells" $?
contains "$tmp/out" ',"protocol":"pb"}'; check "pb protocol" $?
contains "$tmp/out" '"voltage_v":52.28,"current_a":0.00,'; check "pb voltage and current" $?
contains "$tmp/out" '"soc_pct":64,"temperatures_c":{"mosfet":17.4,"t1":16.7,"t2":17.2}'; check "pb soc, 0.1 C temperatures" $?
contains "$tmp/out" '"charge_fet":true,"discharge_fet":true'; check "pb FETs" $?
contains "$tmp/out" '"alarm_bits":524288,"alarm_names":["change_password_reminder"]'; check "pb alarm bit 19 named" $?
test ! -s "$tmp/err"; check "pb prints nothing on stderr" $?
"$bin" --decode "$data/jk-14s-h6-6.1.3S.hex" >"$tmp/out" 2>"$tmp/err"
contains "$tmp/out" '{"cells_mv":[3821,'; check "4e57 keys in place" $?
contains "$tmp/out" ',"protocol":"4e57"}'; check "4e57 protocol key" $?

# One pack's three frames as raw bytes, behind our echoed trigger: one object.
for f in pb-settings-rs485-mrmanuel-addr3-fw15.41 pb-devinfo-rs485-mrmanuel-addr3-fw15.41 \
	pb-cell-rs485-mrmanuel-addr3-fw15.41; do
	printf '\003\020\026\040\000\001\002\000\000\317\221'
	tr -d ' \n' <"$data/pb/$f.hex" | sed 's/../\\x&/g' | xargs -0 printf
done >"$tmp/pb3"
"$bin" --decode - <"$tmp/pb3" >"$tmp/out" 2>"$tmp/err"
check "pb three frames decode" $?
contains "$tmp/out" '"cell_ovp_v":3.650,"cell_ovp_recovery_v":3.444,'; check "pb settings OVP" $?
contains "$tmp/out" '"charge_ocp_a":60,'; check "pb charge OCP" $?
contains "$tmp/out" '"model":"JK_PB2A16S20P","hardware":"15A","software":"15.41","name":"BB02"'; check "pb identity" $?
contains "$tmp/out" '"serial":"40119491480"'; check "pb serial" $?
contains "$tmp/out" '"voltage_v":52.70,'; check "pb live after settings" $?
grep -q '136913\|1234' "$tmp/out"; test $? -eq 1; check "pb passcodes never printed" $?

# A bus capture with two senders (a slave at address 1 answering, the master
# at 0 broadcasting): one object per sender, never one pack's cells with
# another's settings or serial.
cat "$data/pb/pb-cell-rs485-phinix-slave-addr1.hex" "$data/pb/pb-settings-rs485-phinix-master-addr0-broadcast.hex" \
	"$data/pb/pb-cell-rs485-phinix-master-addr0-broadcast.hex" >"$tmp/pbbus"
"$bin" --decode "$tmp/pbbus" >"$tmp/out" 2>"$tmp/err"
check "pb two senders decode" $?
test "$(wc -l <"$tmp/out")" -eq 2; check "pb one object per sender" $?
head -n 1 "$tmp/out" | grep -q '{"cells_mv":\[3267,3267,3268,'; check "pb first sender's cells" $?
head -n 1 "$tmp/out" | grep -q '"pb":{"has_settings":false,'; check "pb first sender has no settings of the other" $?
tail -n 1 "$tmp/out" | grep -q '{"cells_mv":\[3272,3271,3271,'; check "pb second sender's cells" $?
tail -n 1 "$tmp/out" | grep -q '"cell_ovp_v":3.650,.*"pb":{"has_settings":true,'; check "pb second sender's settings" $?

# A PB frame with a bad checksum is explained.
tr -d ' \n' <"$data/pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex" | sed 's/../\\x&/g' | xargs -0 printf >"$tmp/pbbad"
printf '\377' | dd of="$tmp/pbbad" bs=1 seek=299 conv=notrunc 2>/dev/null
"$bin" --decode "$tmp/pbbad" >"$tmp/out" 2>"$tmp/err"
test $? -eq 1; check "pb bad checksum exits 1" $?
contains "$tmp/err" 'checksum mismatch at byte 299'; check "pb checksum explained" $?
head -c 402 "$data/pb/pb-cell-rs485-mrmanuel-addr3-fw15.41.hex" >"$tmp/pbshort"
"$bin" --decode "$tmp/pbshort" >/dev/null 2>"$tmp/err"
test $? -eq 1; check "pb truncated exits 1" $?
contains "$tmp/err" 'truncated at byte 134: 134 of 300 bytes'; check "pb truncation explained" $?

echo "decode_cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
