#!/bin/sh
# SPDX-License-Identifier: MIT
# GLib's static archive for the GX binary, rebuilt from Debian's source
# package of the very version in the armhf sysroot, with each function and
# each table in a section of its own (-ffunction-sections -fdata-sections),
# so that the static link (--gc-sections) keeps only what dbus-jkbms uses.
# Debian's own libglib-2.0.a is one section per source file: linking one
# function of gstrfuncs.c or gkeyfile.c pulls in the whole file and the
# Unicode tables it refers to, some 480 kB that the process never runs but
# maps (README.md "Building the GX binary"). Same source, same patches,
# Debian's compiler flags for armhf (dpkg-buildflags: -O2, the stack
# protector, _FORTIFY_SOURCE), the same configuration checks (run under
# qemu); only the sections differ. Installs the archive over the sysroot's
# (Debian's kept beside it as libglib-2.0.a.debian) and keeps the source
# package in .cross/glib/src for the release's sources (scripts/package.sh).
# Called by scripts/cross-bootstrap.sh, which goes on with Debian's archive
# when this fails.
# Usage: scripts/cross-glib.sh SYSROOT
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sysroot=$1
cross="$top/.cross"
work="$cross/glib"
lib="$sysroot/usr/lib/arm-linux-gnueabihf"
stamp="$sysroot/.glib-sections"
[ -f "$stamp" ] && exit 0

# What the rebuild needs besides the cross toolchain.
missing=""
for p in meson ninja-build dpkg-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "cross-glib: cannot install$missing" >&2
		exit 1
	}
fi

version=$(dpkg-deb -f "$cross"/apt/debs/libglib2.0-dev_*_armhf.deb Version)
echo "cross-glib: building GLib $version (static, a section per function) in $work" >&2
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src http://deb.debian.org/debian bookworm main" >"$work/sources.list"
echo "deb-src http://deb.debian.org/debian-security bookworm-security main" >>"$work/sources.list"
opts="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null
-o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache -o Dir::State::Status=/dev/null -o Debug::NoLocking=1"
# shellcheck disable=SC2086
apt-get $opts update -qq || echo "cross-glib: a source index failed to download; trying the others" >&2
# shellcheck disable=SC2086
(cd "$work/src" && apt-get $opts source --download-only "glib2.0=$version" >/dev/null 2>&1) || {
	echo "cross-glib: cannot fetch the source of GLib $version" >&2
	exit 1
}
dpkg-source -x "$work"/src/glib2.0_*.dsc "$work/glib" >"$work/unpack.log" 2>&1 || { # apt checked the hashes
	echo "cross-glib: cannot unpack the source:" >&2
	tail -5 "$work/unpack.log" >&2
	exit 1
}
# Debian's flags for armhf, as its own build of this package uses them.
flags=""
for f in $(DEB_HOST_ARCH=armhf dpkg-buildflags --get CPPFLAGS) $(DEB_HOST_ARCH=armhf dpkg-buildflags --get CFLAGS); do
	flags="$flags'$f', "
done

cat >"$work/cross.txt" <<EOF
[binaries]
c = 'arm-linux-gnueabihf-gcc'
ar = 'arm-linux-gnueabihf-ar'
strip = 'arm-linux-gnueabihf-strip'
pkgconfig = 'pkg-config'
exe_wrapper = ['qemu-arm-static', '-cpu', 'cortex-a7', '-L', '/usr/arm-linux-gnueabihf']

[built-in options]
c_args = [${flags}'-I$sysroot/usr/include', '-I$sysroot/usr/include/arm-linux-gnueabihf', '-ffunction-sections', '-fdata-sections']
c_link_args = ['-L$lib', '-L$sysroot/lib/arm-linux-gnueabihf']

[properties]
sys_root = '$sysroot'
pkg_config_libdir = '$lib/pkgconfig:$sysroot/usr/share/pkgconfig'

[host_machine]
system = 'linux'
cpu_family = 'arm'
cpu = 'cortex-a7'
endian = 'little'
EOF
# Debian's options where they shape libglib; what only the other libraries
# (gio, gobject), the tests and the documentation need is off.
meson setup --cross-file "$work/cross.txt" --buildtype=plain --default-library=static --wrap-mode=nodownload \
	-Dlibmount=disabled -Dselinux=disabled -Dxattr=false -Dtests=false -Dinstalled_tests=false -Dnls=disabled \
	-Dman=false -Dgtk_doc=false -Dlibelf=disabled -Ddtrace=false -Dsystemtap=false \
	"$work/glib" "$work/build" >"$work/setup.log" 2>&1 || {
	echo "cross-glib: meson setup failed:" >&2
	tail -20 "$work/setup.log" >&2
	exit 1
}
ninja -C "$work/build" glib/libglib-2.0.a >"$work/build.log" 2>&1 || {
	echo "cross-glib: the build failed:" >&2
	tail -20 "$work/build.log" >&2
	exit 1
}
[ -f "$lib/libglib-2.0.a.debian" ] || cp "$lib/libglib-2.0.a" "$lib/libglib-2.0.a.debian"
# Whole or not at all: a copy cut short must not stand in for the archive.
cp "$work/build/glib/libglib-2.0.a" "$lib/libglib-2.0.a.new"
mv "$lib/libglib-2.0.a.new" "$lib/libglib-2.0.a"
echo "$version" >"$stamp"
rm -rf "$work/build" "$work/glib" "$work"/glib2.0_* # the unpacked tree and its copies of src/
