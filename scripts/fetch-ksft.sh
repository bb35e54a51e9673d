#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the kselftest harness headers (kselftest.h, kselftest_harness.h)
# and the kernel's kselftest runner (run_kselftest.sh, kselftest/runner.sh
# and the scripts it sources) from Debian's linux-source package, once,
# into a cache outside the tree. Nothing of the kernel is committed here.
#
#   scripts/fetch-ksft.sh DESTDIR [DIR...]
#
# DESTDIR receives the files in their tools/testing/selftests layout and a
# SOURCE file naming the package. Nothing is done when DESTDIR holds them.
#
# Where the kernel source comes from, first that applies:
#   a DIR given, or another faultline cache this user may have used
#   (XDG_CACHE_HOME, HOME, the account's home, sudo's user, root's), that
#   holds what is needed: copied (a changed HOME or XDG_CACHE_HOME must not
#   cost a 139 MB download, nor fail offline; the Makefile gives the build
#   directory's copy of the headers)
#   KSFT_TARBALL=<linux-source tarball>   that tarball
#   the package SOURCE names (headers already there, runner missing)
#   an installed linux-source package     /usr/src/linux-source-X.Y.tar.*
#   apt-get download                      the newest linux-source-X.Y apt
#                                         offers (KSFT_PACKAGE to choose)
# KSFT_OFFLINE=1 (a package build: linux-source is a Build-Depends) never
# downloads, nor looks in caches: only the tarball, SOURCE and the installed
# package apply. KSFT_NEED=headers: the headers are enough (the case
# binaries' build), the runner is not needed. KSFT_NEED=uffd-unit-tests:
# also the kernel's own uffd-unit-tests and what it includes, for
# bench/suite.sh to build (a partial kernel tree in DESTDIR/uffd-unit-tests:
# tools/testing/selftests/mm/, mm/gup_test.h, include/uapi/linux/).
set -eu

dest=${1:?usage: fetch-ksft.sh DESTDIR [DIR...]}
shift
headers="kselftest.h kselftest_harness.h"
runner="run_kselftest.sh kselftest/runner.sh"
# The kernel's uffd-unit-tests: its sources in selftests/mm, and the kernel
# headers it includes that are newer than the installed UAPI ones.
kut=uffd-unit-tests
kut_mm="uffd-unit-tests.c uffd-common.c uffd-common.h vm_util.c vm_util.h"
kut_mm_maybe="thp_settings.c thp_settings.h"
kut_kernel="mm/gup_test.h include/uapi/linux/userfaultfd.h include/uapi/linux/fs.h"
offline=${KSFT_OFFLINE:-0}

# What the caller needs: the headers, or the runner too, or also the
# kernel's uffd-unit-tests.
needed() {
	case ${KSFT_NEED:-all} in
	headers) echo "$headers" ;;
	uffd-unit-tests)
		echo "$headers $runner"
		for f in $kut_mm; do
			echo "$kut/tools/testing/selftests/mm/$f"
		done
		for f in $kut_kernel; do
			echo "$kut/$f"
		done
		;;
	*) echo "$headers $runner" ;;
	esac
}

complete() {
	for f in $(needed); do
		[ -f "${1:-$dest}/$f" ] || return 1
	done
}
complete && exit 0

home_of() {
	getent passwd "$1" 2>/dev/null | cut -d: -f6
}

# A package build (KSFT_OFFLINE=1) takes its Build-Depends' source, never
# whatever a cache on the build machine holds.
[ "$offline" = 1 ] || for dir in "$@" \
	"${XDG_CACHE_HOME:-/nonexistent}/faultline/ksft" \
	"${HOME:-/nonexistent}/.cache/faultline/ksft" \
	"$(home_of "$(id -u)")/.cache/faultline/ksft" \
	"$(home_of "${SUDO_USER:-root}")/.cache/faultline/ksft" \
	"$(home_of root)/.cache/faultline/ksft"; do
	if [ "$dir" != "$dest" ] && complete "$dir" && mkdir -p "$dest" 2>/dev/null &&
	   cp -a "$dir/." "$dest/"; then
		{ cat "$dir/SOURCE" 2>/dev/null || true; echo "copied from $dir"; } \
			> "$dest/SOURCE.tmp" && mv "$dest/SOURCE.tmp" "$dest/SOURCE"
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/faultline-ksft.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The tarball an installed linux-source package put in /usr/src, newest
# first; with a version, only that package at that version.
installed_tarball() {
	for t in $(ls -1 /usr/src/linux-source-*.tar.* 2>/dev/null | sort -rV); do
		p=$(dpkg-query -S "$t" 2>/dev/null | cut -d: -f1) || continue
		[ -n "$p" ] || continue
		[ -z "${1:-}" ] || [ "$p" = "$1" ] || continue
		v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || continue
		[ -z "${2:-}" ] || [ "$v" = "$2" ] || continue
		printf '%s %s %s\n' "$t" "$p" "$v"
		return 0
	done
	return 1
}

# Pick the newest linux-source-X.Y the machine's apt configuration offers.
pick_pkg() {
	apt-cache search --names-only '^linux-source-[0-9.]+$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

# apt-get download PKG[=VERSION] into $tmp; prints the .deb's path.
download() {
	echo "fetch-ksft: downloading $1 (once; cached in $dest)" >&2
	(cd "$tmp" && apt-get download "$1" >&2) || return 1
	ls "$tmp"/*.deb
}

# The kernel tarball inside a linux-source .deb, streamed to stdout.
deb_tarball() {
	dpkg-deb --fsys-tarfile "$1" |
		tar -xO --wildcards './usr/src/linux-source-*.tar.*'
}

tarball="" deb="" source=""
if [ -n "${KSFT_TARBALL:-}" ]; then
	tarball=$KSFT_TARBALL
	source="Tarball: $tarball"
elif [ -f "$dest/kselftest_harness.h" ] && [ -f "$dest/SOURCE" ]; then
	# The runner must come from the package the headers came from.
	p=$(sed -n 's/^Package: //p' "$dest/SOURCE")
	v=$(sed -n 's/^Version: //p' "$dest/SOURCE")
	if found=$(installed_tarball "$p" "$v"); then
		tarball=${found%% *}
	elif [ "$offline" != 1 ]; then
		deb=$(download "$p=$v") || deb=""
	fi
fi
if [ -z "$tarball" ] && [ -z "$deb" ]; then
	if found=$(installed_tarball); then
		tarball=${found%% *}
	elif [ "$offline" = 1 ]; then
		echo "fetch-ksft: no linux-source package installed (/usr/src/linux-source-*.tar.*)" \
		     "and KSFT_OFFLINE=1 forbids downloading one" >&2
		exit 2
	else
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
		deb=$(download "$pkg") || {
			echo "fetch-ksft: apt-get download $pkg failed" >&2
			exit 2
		}
	fi
fi
if [ -n "$deb" ]; then
	source=$(dpkg-deb -f "$deb" Package Version)
elif [ -z "$source" ]; then
	source=$(printf 'Package: %s\nVersion: %s' \
		"$(echo "$found" | cut -d' ' -f2)" "$(echo "$found" | cut -d' ' -f3)")
fi

# Extract only what we need: the kernel tarball is read once, start to end.
members="*tools/testing/selftests/kselftest/*"
for f in $headers run_kselftest.sh; do
	members="$members *tools/testing/selftests/$f"
done
if [ "${KSFT_NEED:-all}" = uffd-unit-tests ]; then
	# All of mm/: tar fails on a member that matches nothing, and which
	# files uffd-unit-tests needs differs by version (thp_settings.c is
	# only in newer trees); what is missing is named below.
	members="$members */tools/testing/selftests/mm/*"
	for f in $kut_kernel; do
		members="$members linux-source-*/$f"
	done
fi
# shellcheck disable=SC2086
if [ -n "$deb" ]; then deb_tarball "$deb"; else cat "$tarball"; fi |
	xz -dc |
	tar -x -C "$tmp" --wildcards $members

sel=$(find "$tmp" -path '*tools/testing/selftests/kselftest_harness.h' | head -n 1)
[ -n "$sel" ] || { echo "fetch-ksft: no kselftest harness in $source" >&2; exit 2; }
sel=$(dirname "$sel")
mkdir -p "$dest/kselftest"
for f in $headers $runner; do
	[ -f "$sel/$f" ] || { echo "fetch-ksft: $f not in $source" >&2; exit 2; }
done
# Each file is replaced atomically (builds may read the cache meanwhile),
# and only when it changed: a new mtime rebuilds every case binary.
for f in $headers run_kselftest.sh $(cd "$sel" && ls kselftest/*); do
	cmp -s "$sel/$f" "$dest/$f" && continue
	cp "$sel/$f" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
done
# The kernel's uffd-unit-tests as a partial tree of the same package (its
# sources include "../kselftest.h" and "../../../../mm/gup_test.h").
if [ "${KSFT_NEED:-all}" = uffd-unit-tests ]; then
	top=$(dirname "$(dirname "$(dirname "$sel")")")
	ktmp="$dest/$kut.tmp"
	rm -rf "$ktmp"
	mkdir -p "$ktmp/tools/testing/selftests/mm" "$ktmp/mm" "$ktmp/include/uapi/linux"
	for f in $kut_mm $kut_mm_maybe; do
		[ -f "$sel/mm/$f" ] || continue
		cp "$sel/mm/$f" "$ktmp/tools/testing/selftests/mm/"
	done
	for f in $kut_kernel; do
		[ -f "$top/$f" ] || { echo "fetch-ksft: $f not in $source" >&2; exit 2; }
		cp "$top/$f" "$ktmp/$f"
	done
	cp "$sel/kselftest.h" "$ktmp/tools/testing/selftests/"
	for f in $kut_mm; do
		[ -f "$ktmp/tools/testing/selftests/mm/$f" ] ||
			{ echo "fetch-ksft: mm/$f not in $source" >&2; exit 2; }
	done
	rm -rf "$dest/$kut"
	mv "$ktmp" "$dest/$kut"
fi
printf '%s\n' "$source" > "$dest/SOURCE"
echo "fetch-ksft: kselftest harness and runner from $(tr '\n' ' ' < "$dest/SOURCE")in $dest" >&2
