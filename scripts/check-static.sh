#!/bin/sh
# SPDX-License-Identifier: MIT
# Fail unless BINARY is fully static: no dynamic section, no interpreter,
# no glibc symbol versions (so it runs on glibc 2.31 and 2.39 alike).
set -eu
bin=$1
readelf=$(command -v arm-linux-gnueabihf-readelf || command -v readelf)
if "$readelf" -d "$bin" | grep -q 'Dynamic section'; then
	echo "check-static: $bin has a dynamic section:" >&2
	"$readelf" -d "$bin" | grep NEEDED >&2 || true
	exit 1
fi
if "$readelf" -l "$bin" | grep -q 'INTERP'; then
	echo "check-static: $bin asks for a dynamic loader" >&2
	exit 1
fi
if "$readelf" -V "$bin" | grep -q 'GLIBC_'; then
	echo "check-static: $bin carries glibc symbol versions" >&2
	exit 1
fi
echo "check-static: $bin is fully static ($(wc -c <"$bin") bytes)"
