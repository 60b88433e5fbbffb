#!/bin/sh
# SPDX-License-Identifier: MIT
# The release archive for a GX: dist/dbus-jkbms-<version>-armhf.tar.gz, to be
# unpacked under /data/apps/ (giving /data/apps/dbus-jkbms/). It holds the
# static armhf binary, the service template, the start, install and
# uninstall scripts, a sample configuration, the licences of everything
# linked in, and the object files to relink against other LGPL libraries.
# Prints the archive's path. Builds what it needs (scripts/cross-build.sh:
# the host tree when missing, the armhf trees, their tests under qemu), so
# it works on a fresh clone. --no-build: use the existing cross build (CI,
# right after scripts/cross-build.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${1:-}" = "--no-build" ] || "$top/scripts/cross-build.sh" >&2
bin="$top/build-armhf-static/dbus-jkbms.stripped"
[ -x "$bin" ] || { echo "package: no static armhf build; run scripts/cross-build.sh" >&2; exit 1; }
sysroot="$top/.cross/sysroot-armhf"
version=$(git -C "$top" describe --tags --always --dirty 2>/dev/null || echo unknown)
stage="$top/dist/stage"
app="$stage/dbus-jkbms"
rm -rf "$stage"
mkdir -p "$app/bin" "$app/service/log" "$app/service-bank/log" "$app/licenses" "$app/relink"

cp "$bin" "$app/bin/dbus-jkbms"
cp "$top/service/run" "$top/service/down" "$app/service/"
cp "$top/service/log/run" "$app/service/log/"
cp "$top/service-bank/run" "$app/service-bank/"
cp "$top/service-bank/log/run" "$app/service-bank/log/"
cp "$top/packaging/start-jkbms.sh" "$top/packaging/install.sh" "$top/packaging/uninstall.sh" \
	"$top/packaging/dbus-jkbms.ini.sample" "$top/LICENSE" "$top/README.md" "$app/"
echo "$version" >"$app/VERSION"

# Licences of what the static binary contains (Debian's copyright files).
cp "$sysroot/usr/share/doc/libglib2.0-0/copyright" "$app/licenses/glib"
cp "$sysroot/usr/share/doc/libdbus-1-3/copyright" "$app/licenses/dbus"
cp "$sysroot/usr/share/doc/libserialport0/copyright" "$app/licenses/libserialport"
cp "$sysroot/usr/share/doc/libpcre2-8-0/copyright" "$app/licenses/pcre2"
cp /usr/share/doc/libc6-armhf-cross/copyright "$app/licenses/glibc"
[ -f /usr/share/doc/libgcc-s1-armhf-cross/copyright ] && cp /usr/share/doc/libgcc-s1-armhf-cross/copyright "$app/licenses/libgcc"
# The licence texts those files refer to, which a GX does not have.
for l in LGPL-2.1 LGPL-3 GPL-2 GPL-3; do
	cp "/usr/share/common-licenses/$l" "$app/licenses/$l"
done

# LGPL: our own objects, so the binary can be relinked with modified
# GLib, libserialport or glibc.
b="$top/build-armhf-static"
cp "$b/libbmscore.a" "$b/libbmsio.a" "$b/libbmsservice.a" "$b/libbmstools.a" "$app/relink/"
find "$b/CMakeFiles/dbus-jkbms.dir" -name '*.o' -exec cp {} "$app/relink/" \;
sources=""
if [ -f "$sysroot/.glib-sections" ]; then
	sources="$top/dist/dbus-jkbms-$version-sources.tar.gz"
	glib="Debian's source package glib2.0 $(cat "$sysroot/.glib-sections"), unchanged,
built with Debian's flags for armhf plus -ffunction-sections -fdata-sections
by scripts/cross-glib.sh and linked with -Wl,--gc-sections. That source
package and the script are in $(basename "$sources"), which
comes with this archive."
else
	glib="Debian's libglib2.0-dev archive (armhf), as shipped."
fi
cat >"$app/relink/RELINK.txt" <<TXT
Relinking dbus-jkbms $version against your own builds of the LGPL libraries
(GLib, libserialport, glibc): with an armhf toolchain and those libraries,
  arm-linux-gnueabihf-gcc -static -o dbus-jkbms main.c.o sd_stubs.c.o \\
    libbmstools.a libbmsservice.a libbmsio.a libbmscore.a \\
    -lglib-2.0 -lpcre2-8 -ldbus-1 -lserialport -lm -pthread
The source is the dbus-jkbms repository at version $version (MIT licence).
The GLib inside is $glib
TXT

mkdir -p "$top/dist"
out="$top/dist/dbus-jkbms-$version-armhf.tar.gz"
tar -C "$stage" --owner=0 --group=0 -czf "$out" dbus-jkbms
rm -rf "$stage"
# LGPL: the source of the GLib built here, and how it was built, beside
# the binary that contains it.
if [ -n "$sources" ]; then
	src="$stage/dbus-jkbms-sources"
	mkdir -p "$src/glib" "$src/scripts"
	cp "$top/.cross/glib/src/"glib2.0_* "$src/glib/"
	cp "$top/scripts/cross-glib.sh" "$top/scripts/cross-bootstrap.sh" "$src/scripts/"
	tar -C "$stage" --owner=0 --group=0 -czf "$sources" dbus-jkbms-sources
	rm -rf "$stage"
	echo "package: GLib's source in $sources" >&2
fi
echo "$out"
