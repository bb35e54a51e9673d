#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Make sure the Debian packages a step needs are installed.
#
#   scripts/deps.sh build|test|vm|browser ...
#
# As root, missing packages are installed with apt-get. Otherwise the exact
# command to run is printed and we exit 2.
set -eu

pkgs_build="gcc make libc6-dev libcap-dev libseccomp-dev zlib1g-dev xz-utils dpkg-dev"
pkgs_test="python3 python3-pytest python3-tap python3-yaml python3-jsonschema python3-jinja2 util-linux cpio"
# cpio is not needed (kernels/ writes newc itself); zstd and lz4 unpack
# kernels and packages Python cannot; qemu-system-x86 comes from backports.
pkgs_vm="qemu-system-x86 zstd lz4"
# The HTML report is checked in a real browser.
pkgs_browser="chromium"

want=""
for group in "$@"; do
	case $group in
	build) want="$want $pkgs_build" ;;
	test) want="$want $pkgs_test" ;;
	vm) want="$want $pkgs_vm" ;;
	browser) want="$want $pkgs_browser" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, vm, browser)" >&2; exit 2 ;;
	esac
done

# QEMU: bookworm's 7.2 crashes the 6.12 kernel early in ~5% of boots; the
# backports QEMU (10.x) does not. Enable <codename>-backports from the
# machine's own Debian mirror (never a mirror of ours), pinned at the default
# backports priority so nothing else changes, and take QEMU from there.
backports_qemu() {
	. /etc/os-release
	[ "${VERSION_CODENAME:-}" = bookworm ] || return 0
	v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
	case $v in 1:[89].*|1:[1-9][0-9].*) return 0 ;; esac
	[ "$(id -u)" = 0 ] || return 0
	f=/etc/apt/sources.list.d/faultline-backports.sources
	if [ ! -f $f ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			/etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
			/^deb / && $0 ~ / bookworm( |$)/ { for (i = 2; i <= NF; i++)
				if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }
			/^URIs:/ { u = $2 }
			/^Suites:/ && / bookworm( |$)/ && u { print u; exit }')
		if [ -z "$uri" ]; then
			echo "deps.sh: no bookworm mirror in the apt sources; using bookworm's QEMU" >&2
			return 0
		fi
		printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$uri" >$f
		apt-get update -q >&2
	fi
	echo "deps.sh: installing qemu-system-x86 from bookworm-backports" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-t bookworm-backports qemu-system-x86 >&2 ||
		echo "deps.sh: backports QEMU failed; using bookworm's" >&2
}
case " $* " in *" vm "*) backports_qemu ;; esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	     grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "faultline needs these Debian packages; as root run:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 2
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends $missing >&2
fi
