#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Make sure the Debian packages a step needs are installed.
#
#   scripts/deps.sh build|test|vm ...
#
# As root, missing packages are installed with apt-get. Otherwise the exact
# command to run is printed and we exit 2.
set -eu

pkgs_build="gcc make libc6-dev libcap-dev libseccomp-dev xz-utils dpkg-dev"
pkgs_test="python3 python3-pytest python3-tap python3-yaml python3-jsonschema python3-jinja2 util-linux"
pkgs_vm="qemu-system-x86 cpio zstd"

want=""
for group in "$@"; do
	case $group in
	build) want="$want $pkgs_build" ;;
	test) want="$want $pkgs_test" ;;
	vm) want="$want $pkgs_vm" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, vm)" >&2; exit 2 ;;
	esac
done

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
