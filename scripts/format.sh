#!/bin/sh
# SPDX-License-Identifier: MIT
# The C style (.clang-format) over src/ include/ tools/ tests/ bench/ fuzz/.
#   scripts/format.sh            formats those files in place
#   scripts/format.sh --check    lists the files that are not formatted: exit 1 if any
# FILE... after the option limits it to those files. CLANG_FORMAT picks
# another binary (the style is tuned for clang-format 14).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cf=${CLANG_FORMAT:-clang-format}
check=0
case "${1:-}" in
--check) check=1; shift ;;
-h | --help) sed -n '3,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
-*) echo "usage: $0 [--check] [FILE...]" >&2; exit 2 ;;
esac
command -v "$cf" >/dev/null || { echo "format: $cf is not installed (scripts/bootstrap.sh)" >&2; exit 1; }
major=$("$cf" --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
[ "$major" = 14 ] || echo "format: $cf is version ${major:-unknown}, the style is tuned for 14: results may differ" >&2

cd "$top"
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2046 # the paths have no spaces
	set -- $(find src include tools tests bench fuzz -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
fi
bad=0
for f in "$@"; do
	[ -f "$f" ] || { echo "format: no such file: $f" >&2; exit 2; }
	if [ "$check" = 1 ]; then
		if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
			echo "$f"
			bad=$((bad + 1))
		fi
	else
		"$cf" -i "$f"
	fi
done
if [ "$check" = 1 ] && [ "$bad" -ne 0 ]; then
	echo "format: $bad file(s) not formatted; scripts/format.sh formats them" >&2
	exit 1
fi
exit 0
