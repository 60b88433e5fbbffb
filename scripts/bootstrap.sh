#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages dbus-jkbms needs to build and test, but only the
# ones that are missing, so running it again is quick and needs no network.
# Usage: scripts/bootstrap.sh [--fuzz]   (--fuzz adds clang and its runtimes)
set -eu

pkgs="build-essential cmake pkg-config libdbus-1-dev libserialport-dev libglib2.0-dev libcmocka-dev dbus-daemon"
# scripts/format.sh (the style is tuned for the clang-format 14 of Debian 12)
pkgs="$pkgs clang-format"
for arg in "$@"; do
	case "$arg" in
	--fuzz) pkgs="$pkgs clang libclang-rt-dev" ;;
	*) echo "bootstrap: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "bootstrap: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
