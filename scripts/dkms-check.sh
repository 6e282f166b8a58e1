#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The vduse-dkms package as a user meets it, on this machine (whose root
# the test VM shares): install it (DKMS builds the module for the 6.12
# kernel), boot the VM and `modprobe vduse` (ours, by build ID, serving a
# qemu-storage-daemon disk), remove it, boot again (Debian's module).
# Changes this machine's packages; prints TAP.
set -uo pipefail

top=$(readlink -f "$(dirname "$0")/..")
build=${BUILD:-$top/build}
export DEBIAN_FRONTEND=noninteractive
fails=0
n=0
res() {	# status text
	n=$((n + 1))
	[ "$1" = ok ] || fails=$((fails + 1))
	echo "$1 $n $2"
}
vm() {	# mode
	local out=$build/dkms-$1
	rm -rf "$out"
	"$top/tools/testing/selftests/vduse/vm/run-vm.sh" --job "$top/scripts/dkms-guest.sh" \
		--out "$out" --timeout 600 -- "$1" > "$out.log" 2>&1
	local rc=$?
	grep -E '^(not )?ok |^# ' "$out.log" | sed "s/^/# $1: /"
	[ $rc = 0 ] && ! grep -q '^not ok' "$out.log" &&
		"$top/tools/testing/selftests/vduse/vm/klog-check.sh" "$out/kernel.log" > /dev/null
}

echo "TAP version 13"
echo "1..4"
deb=$("$top/scripts/dkms-deb.sh" "$build/deb")
if apt-get install -y -qq --no-install-recommends "$deb" > "$build/dkms-install.log" 2>&1 &&
   ls /lib/modules/6.12.*/updates/dkms/vduse.ko* > /dev/null 2>&1; then
	res ok "apt install $(basename "$deb") built the module for $(ls -d /lib/modules/6.12.*/updates/dkms | cut -d/ -f4 | tr '\n' ' ')"
else
	res "not ok" "apt install $(basename "$deb") (see $build/dkms-install.log)"
fi
if vm ours; then res ok "modprobe vduse in the VM loads ours, and a disk works"
else res "not ok" "modprobe vduse in the VM loads ours, and a disk works"; fi
if apt-get remove -y -qq vduse-dkms > "$build/dkms-remove.log" 2>&1 &&
   ! ls /lib/modules/6.12.*/updates/dkms/vduse.ko* > /dev/null 2>&1; then
	res ok "apt remove vduse-dkms took the module away"
else
	res "not ok" "apt remove vduse-dkms (see $build/dkms-remove.log)"
fi
if vm debian; then res ok "modprobe vduse in the VM loads Debian's again"
else res "not ok" "modprobe vduse in the VM loads Debian's again"; fi
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
