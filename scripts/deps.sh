#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Make sure the Debian packages a step needs are installed.
#
#   scripts/deps.sh build|test|vm|browser|fleet|arm64|riscv64|package ...
#
# As root, missing packages are installed with apt-get. Otherwise the exact
# command to run is printed and we exit 2. Packages that ship a daemon are
# installed without starting it, and left disabled (see quiet_daemons).
# FAULTLINE_NO_DEPS=1 (set by debian/rules) checks nothing: in a package
# build the Build-Depends are the package manager's job, and a build must
# not reach the network.
set -eu
[ "${FAULTLINE_NO_DEPS:-0}" = 1 ] && exit 0

pkgs_build="gcc make libc6-dev libcap-dev libseccomp-dev zlib1g-dev xz-utils dpkg-dev"
pkgs_test="python3 python3-pytest python3-tap python3-yaml python3-jsonschema python3-jinja2 util-linux cpio"
# cpio is not needed (kernels/ writes newc itself); zstd and lz4 unpack
# kernels and packages Python cannot; qemu-system-x86 comes from backports.
pkgs_vm="qemu-system-x86 zstd lz4"
# The HTML report is checked in a real browser.
pkgs_browser="chromium"
# uffd-probe's fleet formats are checked with the real tools: promtool (in
# the prometheus package) and node_exporter's textfile collector. Both
# packages ship a daemon; the tests run their own on a loopback port.
pkgs_fleet="prometheus prometheus-node-exporter"
daemon_pkgs="prometheus prometheus-node-exporter"
# Other architectures: cross compiler, target libraries, QEMU (kernels/arch.py).
# arm64's static libcap/libseccomp/zlib are Debian's arm64 packages (multiarch);
# bookworm has no riscv64 packages, so make fetches trixie's into a private
# directory instead (kernels/sysroot.py). OpenSBI is riscv64 virt's firmware.
pkgs_arm64="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libcap-dev:arm64 libseccomp-dev:arm64 zlib1g-dev:arm64 qemu-system-arm"
pkgs_riscv64="gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-system-misc opensbi"
# The Debian package (debian/): its build tools, its Build-Depends that the
# build group lacks (linux-source: the kselftest harness headers, taken from
# /usr/src at build time), lintian, and autopkgtest for debian/tests.
pkgs_package="debhelper dh-python fakeroot help2man linux-source python3-yaml python3-jinja2 lintian autopkgtest"

want=""
for group in "$@"; do
	case $group in
	build) want="$want $pkgs_build" ;;
	test) want="$want $pkgs_test" ;;
	vm) want="$want $pkgs_vm" ;;
	browser) want="$want $pkgs_browser" ;;
	fleet) want="$want $pkgs_fleet" ;;
	arm64) want="$want $pkgs_arm64" ;;
	riscv64) want="$want $pkgs_riscv64" ;;
	package) want="$want $pkgs_package" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, vm, browser, fleet, arm64, riscv64, package)" >&2; exit 2 ;;
	esac
done

# QEMU: bookworm's 7.2 crashes the 6.12 kernel early in ~5% of boots; the
# backports QEMU (10.x) does not. Enable <codename>-backports from the
# machine's own Debian mirror (never a mirror of ours), pinned at the default
# backports priority so nothing else changes, and take QEMU from there.
backports_qemu() {
	pkg=$1
	shift
	. /etc/os-release
	[ "${VERSION_CODENAME:-}" = bookworm ] || return 0
	v=$(dpkg-query -W -f='${Version}' $pkg 2>/dev/null || true)
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
	echo "deps.sh: installing $pkg $* from bookworm-backports" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-t bookworm-backports $pkg "$@" >&2 ||
		echo "deps.sh: backports QEMU failed; using bookworm's" >&2
}
case " $* " in *" vm "*) backports_qemu qemu-system-x86 ;; esac
case " $* " in *" arm64 "*) backports_qemu qemu-system-arm ;; esac
# OpenSBI from the same backports as QEMU: the pair QEMU 10 was tested with.
case " $* " in *" riscv64 "*) backports_qemu qemu-system-misc opensbi ;; esac

# arm64 libraries are installed as arm64 packages beside the amd64 ones.
foreign_arch() {
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "faultline needs the $1 architecture in dpkg; as root run:" >&2
		echo "  dpkg --add-architecture $1 && apt-get update" >&2
		return 0
	fi
	echo "deps.sh: dpkg --add-architecture $1 (for the static $1 libraries)" >&2
	dpkg --add-architecture "$1"
	# apt's sandbox user may not write /tmp on every machine: run as root.
	apt-get -q -oAPT::Sandbox::User=root update >&2
}
case " $* " in *" arm64 "*) [ "$(dpkg --print-architecture)" = arm64 ] ||
	foreign_arch arm64 ;; esac

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

# A daemon package starts its service from postinst (invoke-rc.d, or
# deb-systemd-invoke on systemd) unless /usr/sbin/policy-rc.d answers 101,
# and enables it for the next boot. faultline only wants the binaries: while
# apt runs, a policy-rc.d of ours denies every start (only when the machine
# has none: an existing one, e.g. Docker's, is the admin's and stays); the
# services of the daemon packages installed here are then disabled.
daemons=""
for p in $missing; do
	case " $daemon_pkgs " in *" $p "*) daemons="$daemons $p" ;; esac
done
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ -n "$daemons" ] && [ ! -e $policy ]; then
	own_policy=$policy
	trap 'rm -f "$own_policy"' EXIT
	trap 'exit 130' INT TERM
	printf '#!/bin/sh\n# faultline deps.sh: no service starts while it installs\nexit 101\n' >$policy
	chmod 755 $policy
fi
quiet_daemons() {
	for p in $daemons; do
		for f in $(dpkg-query -L "$p" 2>/dev/null); do
			case $f in
			/lib/systemd/system/*.service|/usr/lib/systemd/system/*.service)
				deb-systemd-helper disable "${f##*/}" >/dev/null 2>&1 || true ;;
			/etc/init.d/*)
				update-rc.d "${f##*/}" disable >/dev/null 2>&1 || true ;;
			esac
		done
	done
}

echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends $missing >&2
fi
quiet_daemons
