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

echo "decode_cli: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
