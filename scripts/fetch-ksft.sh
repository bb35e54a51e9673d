#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the kselftest harness headers (kselftest.h, kselftest_harness.h)
# from Debian's linux-source package, once, into a cache outside the tree.
#
#   scripts/fetch-ksft.sh DESTDIR [DIR...]
#
# DESTDIR receives the two headers and a SOURCE file naming the package.
# Nothing is done when DESTDIR already holds them. Before downloading, the
# headers are looked for in the DIRs given (the Makefile gives the build
# directory's copy) and in every faultline cache this user may have used
# (XDG_CACHE_HOME, HOME, the account's home, sudo's user, root's): a
# changed HOME or XDG_CACHE_HOME must not cost a 139 MB download, nor fail
# offline.
set -eu

dest=${1:?usage: fetch-ksft.sh DESTDIR [DIR...]}
shift
headers="kselftest.h kselftest_harness.h"

have() {
	[ -f "$1/kselftest_harness.h" ] && [ -f "$1/kselftest.h" ]
}

if have "$dest"; then
	exit 0
fi

home_of() {
	getent passwd "$1" 2>/dev/null | cut -d: -f6
}

for dir in "$@" \
	"${XDG_CACHE_HOME:-/nonexistent}/faultline/ksft" \
	"${HOME:-/nonexistent}/.cache/faultline/ksft" \
	"$(home_of "$(id -u)")/.cache/faultline/ksft" \
	"$(home_of "${SUDO_USER:-root}")/.cache/faultline/ksft" \
	"$(home_of root)/.cache/faultline/ksft"; do
	if [ "$dir" != "$dest" ] && have "$dir" && mkdir -p "$dest" 2>/dev/null; then
		for h in $headers; do
			cp "$dir/$h" "$dest/$h.tmp" && mv "$dest/$h.tmp" "$dest/$h"
		done
		{ cat "$dir/SOURCE" 2>/dev/null || true; echo "copied from $dir"; } \
			> "$dest/SOURCE"
		echo "fetch-ksft: headers copied from $dir to $dest" >&2
		exit 0
	fi
done

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
