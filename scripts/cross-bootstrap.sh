#!/bin/sh
# SPDX-License-Identifier: MIT
# What the armhf (Cerbo GX, Venus GX, CCGX, Raspberry Pi) cross build needs:
#  - Debian's cross toolchain and qemu user emulation (installed when missing);
#  - a sysroot with the armhf development packages, unpacked from Debian's
#    .debs into .cross/sysroot-armhf. It uses a private apt state directory
#    for the armhf package index, so the machine's own apt configuration and
#    dpkg architectures are never changed (README.md "Building the GX binary");
#  - GLib's archive in it rebuilt from Debian's source with a section per
#    function, for the static GX binary (scripts/cross-glib.sh).
# Usage: scripts/cross-bootstrap.sh   (prints the sysroot path)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cross="$top/.cross"
sysroot="$cross/sysroot-armhf"
stamp="$sysroot/.complete"

pkgs="gcc-arm-linux-gnueabihf libc6-dev-armhf-cross linux-libc-dev-armhf-cross qemu-user-static binutils-arm-linux-gnueabihf
pkg-config"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "cross-bootstrap: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The armhf libraries the static binary links, and their headers.
debs="libglib2.0-dev libglib2.0-0 libpcre2-dev libpcre2-8-0 libffi-dev libffi8 libmount-dev libmount1
libblkid-dev libblkid1 libselinux1-dev libselinux1 libsepol-dev zlib1g-dev zlib1g libdbus-1-dev libdbus-1-3
libsystemd-dev libsystemd0 libserialport-dev libserialport0 libcmocka-dev libcmocka0
libcap2 libgcrypt20 liblzma5 libzstd1 liblz4-1 libgpg-error0"

if [ ! -f "$stamp" ]; then
	echo "cross-bootstrap: building the armhf sysroot in $sysroot" >&2
	state="$cross/apt"
	rm -rf "$sysroot" "$state/debs"
	mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" "$sysroot"
	opts="-o APT::Architecture=armhf -o APT::Architectures=armhf -o Dir::State::Lists=$state/lists
-o Dir::Cache=$state/cache -o Dir::State::Status=/dev/null -o Debug::NoLocking=1"
	# A mirror that is mid-sync may fail one index (seen with
	# bookworm-security); the main index is what matters here.
	# shellcheck disable=SC2086
	if ! apt-get $opts update -qq; then
		ls "$state/lists/"*bookworm_main_binary-armhf_Packages* >/dev/null 2>&1 || {
			echo "cross-bootstrap: cannot fetch the armhf package index" >&2
			exit 1
		}
		echo "cross-bootstrap: an index failed to download; continuing with the main archive" >&2
	fi
	# shellcheck disable=SC2086
	(cd "$state/debs" && apt-get $opts download $(for d in $debs; do printf '%s:armhf ' "$d"; done) >/dev/null)
	for f in "$state/debs"/*.deb; do
		dpkg-deb -x "$f" "$sysroot"
	done
	# Absolute symlinks inside the sysroot would point at the build host.
	find "$sysroot" -type l | while read -r l; do
		t=$(readlink "$l")
		case "$t" in /*) ln -sf "$sysroot$t" "$l" ;; esac
	done
	touch "$stamp"
fi
# GLib's archive with a section per function, for the static GX binary.
# Without it (no source to be had) the binary is the same program, only
# about half a megabyte larger: build it, and try again next time.
"$top/scripts/cross-glib.sh" "$sysroot" >&2 ||
	echo "cross-bootstrap: GLib was not rebuilt; the GX binary links Debian's archive (about 0.5 MB larger)" >&2
echo "$sysroot"
