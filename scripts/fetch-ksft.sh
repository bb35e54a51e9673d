#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the kselftest harness headers (kselftest.h, kselftest_harness.h)
# from Debian's linux-source package, once, into a cache outside the tree.
#
#   scripts/fetch-ksft.sh DESTDIR
#
# DESTDIR receives the two headers and a SOURCE file naming the package.
# Nothing is done when DESTDIR already holds them.
set -eu

dest=${1:?usage: fetch-ksft.sh DESTDIR}
headers="kselftest.h kselftest_harness.h"

if [ -f "$dest/kselftest_harness.h" ] && [ -f "$dest/kselftest.h" ]; then
	exit 0
fi

# Fail before a 150 MB download when the result could not be kept.
if ! mkdir -p "$dest" 2>/dev/null || [ ! -w "$dest" ]; then
	echo "fetch-ksft: cannot write the header cache $dest;" \
	     "set FAULTLINE_CACHE or KSFT_DIR=<kernel>/tools/testing/selftests" >&2
	exit 2
fi

# Pick the newest linux-source-X.Y the machine's apt configuration offers.
pick_pkg() {
	apt-cache search --names-only '^linux-source-[0-9.]+$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

pkg=${KSFT_PACKAGE:-$(pick_pkg)}
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	echo "fetch-ksft: refreshing apt lists" >&2
	apt-get update -qq >&2 || true
	pkg=$(pick_pkg)
fi
if [ -z "$pkg" ]; then
	echo "fetch-ksft: no linux-source-* package found by apt-cache;" \
	     "run 'apt-get update' or pass KSFT_DIR=<kernel>/tools/testing/selftests" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/faultline-ksft.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch-ksft: downloading $pkg (once; cached in $dest)" >&2
(cd "$tmp" && apt-get download "$pkg" >&2) || {
	echo "fetch-ksft: apt-get download $pkg failed" >&2
	exit 2
}
deb=$(ls "$tmp"/*.deb)

# Stream the inner tarball out of the .deb and extract only the headers.
members=""
for h in $headers; do
	members="$members *tools/testing/selftests/$h"
done
# shellcheck disable=SC2086
dpkg-deb --fsys-tarfile "$deb" |
	tar -xO --wildcards './usr/src/linux-source-*.tar.*' |
	xz -dc |
	tar -x -C "$tmp" --wildcards $members

mkdir -p "$dest"
for h in $headers; do
	f=$(find "$tmp" -path "*tools/testing/selftests/$h" | head -n 1)
	[ -n "$f" ] || { echo "fetch-ksft: $h not in $pkg" >&2; exit 2; }
	cp "$f" "$dest/$h.tmp" && mv "$dest/$h.tmp" "$dest/$h"
done
dpkg-deb -f "$deb" Package Version > "$dest/SOURCE"
echo "fetch-ksft: headers from $(tr '\n' ' ' < "$dest/SOURCE")in $dest" >&2
