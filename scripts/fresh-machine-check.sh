#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The README's two commands as a new user meets them: on a machine with no
# 6.12 kernel, headers, linux-source or QEMU, in a fresh clone with an
# empty cache, `make demo` alone, then (after purging again) `make check`
# alone.  Each must pass as the very first command.
#
#   fresh-machine-check.sh --yes [demo] [check]
#
# DESTRUCTIVE: it purges Debian's 6.12 kernel packages, linux-source-6.12
# and QEMU from this machine (the commands under test reinstall them).
# Run it on a test machine, as root, with nothing else using them.
# Prints TAP; logs stay in /var/tmp/vduse-fresh.*.
set -uo pipefail

top=$(readlink -f "$(dirname "$0")/..")
[ "${1:-}" = --yes ] || {
	echo "fresh-machine-check: purges kernel and QEMU packages; pass --yes" >&2
	exit 2
}
shift
cmds=("$@")
[ ${#cmds[@]} != 0 ] || cmds=(demo check)
[ "$(id -u)" = 0 ] || { echo "fresh-machine-check: run as root" >&2; exit 2; }

export DEBIAN_FRONTEND=noninteractive
purge() {
	local pkgs
	pkgs=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		'linux-image-6.12*' 'linux-headers-6.12*' 'linux-kbuild-6.12*' \
		linux-source-6.12 qemu-system-x86 qemu-system-common \
		qemu-system-data qemu-utils 2>/dev/null | awk '/^ii/ { print $2 }')
	[ -z "$pkgs" ] || apt-get purge -y -qq $pkgs > /dev/null
	! ls -d /usr/src/linux-headers-6.12.* /boot/vmlinuz-6.12.* \
		/usr/bin/qemu-system-x86_64 2>/dev/null | grep -q .
}

echo "TAP version 13"
echo "1..${#cmds[@]}"
n=0 fails=0
for cmd in "${cmds[@]}"; do
	n=$((n + 1))
	dir=$(mktemp -d /var/tmp/vduse-fresh.XXXXXX)
	if ! purge; then
		echo "not ok $n make $cmd: could not purge the 6.12 kernel and QEMU"
		fails=$((fails + 1))
		continue
	fi
	git clone -q "$top" "$dir/vduse"
	start=$(date +%s)
	(cd "$dir/vduse" && CACHE=$dir/cache make "$cmd") > "$dir/$cmd.log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		echo "ok $n make $cmd as the first command (${took}s, $dir/$cmd.log)"
	else
		echo "not ok $n make $cmd as the first command: exit $rc ($dir/$cmd.log)"
		tail -n 20 "$dir/$cmd.log" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
