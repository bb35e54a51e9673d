#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install faultline as the kselftest collection "faultline" (make
# kselftest-install calls this):
#
#   dist/kselftest/install.sh BUILD_DIR KSFT_DIR TIMEOUT INSTALL_PATH
#
# INSTALL_PATH/faultline/ gets the case binaries, uffd-probe, probe.sh and
# a settings file (timeout=TIMEOUT, seconds per binary); kselftest-list.txt
# gets one faultline:<test> line per test (earlier faultline lines go,
# other collections' lines stay). A tree without the kernel's runner (not
# an existing kselftest install) gets run_kselftest.sh and kselftest/ from
# KSFT_DIR: the kernel's own, as the harness headers came with them.
set -eu

build=${1:?usage: install.sh BUILD_DIR KSFT_DIR TIMEOUT INSTALL_PATH}
ksft=${2:?usage: install.sh BUILD_DIR KSFT_DIR TIMEOUT INSTALL_PATH}
timeout=${3:?usage: install.sh BUILD_DIR KSFT_DIR TIMEOUT INSTALL_PATH}
dest=${4:?usage: install.sh BUILD_DIR KSFT_DIR TIMEOUT INSTALL_PATH}
here=$(dirname "$0")

case $timeout in
''|*[!0-9]*|0) echo "install.sh: timeout must be a positive number of seconds" >&2; exit 2 ;;
esac
cases=$(ls "$build/cases" 2>/dev/null) || cases=""
if [ -z "$cases" ] || [ ! -x "$build/uffd-probe" ]; then
	echo "install.sh: no uffd-probe or case binaries in $build (run make first)" >&2
	exit 2
fi

# The collection is replaced whole: no binary of an older build stays.
mkdir -p "$dest"
rm -rf "$dest/faultline"
mkdir "$dest/faultline"
for c in $cases; do
	cp "$build/cases/$c" "$dest/faultline/$c"
done
cp "$build/uffd-probe" "$dest/faultline/uffd-probe"
cp "$here/probe.sh" "$dest/faultline/probe.sh"
chmod 0755 "$dest/faultline/probe.sh"
printf 'timeout=%s\n' "$timeout" >"$dest/faultline/settings"

list="$dest/kselftest-list.txt"
touch "$list"
grep -v '^faultline:' "$list" >"$list.tmp" || true
{
	echo "faultline:probe.sh"
	for c in $cases; do
		echo "faultline:$c"
	done
} >>"$list.tmp"
mv "$list.tmp" "$list"

if [ ! -f "$dest/run_kselftest.sh" ]; then
	for f in run_kselftest.sh kselftest/runner.sh; do
		[ -f "$ksft/$f" ] || {
			echo "install.sh: $ksft/$f missing (scripts/fetch-ksft.sh $ksft fetches it)" >&2
			exit 2
		}
	done
	cp "$ksft/run_kselftest.sh" "$dest/"
	mkdir -p "$dest/kselftest"
	cp -R "$ksft/kselftest/." "$dest/kselftest/"
fi
echo "install.sh: collection faultline ($(echo "$cases" | wc -w) binaries and probe.sh) in $dest"
