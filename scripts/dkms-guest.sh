#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs in the test VM for scripts/dkms-check.sh: `modprobe vduse` the way
# a user does, and check which module it loaded by its GNU build ID.
#
#   dkms-guest.sh ours      the vduse-dkms package is installed: modprobe
#                           must load updates/dkms/vduse.ko, and a
#                           qemu-storage-daemon disk must work on it
#   dkms-guest.sh debian    it was removed: modprobe loads Debian's again
set -u
mode=$1
sel=$VDUSE_TOP/tools/testing/selftests/vduse
here=$sel
# shellcheck source=../tools/testing/selftests/vduse/vduse_lib.sh
. "$sel/vduse_lib.sh"

k=$(uname -r)
ours=/lib/modules/$k/updates/dkms/vduse.ko.xz
[ -e "$ours" ] || ours=/lib/modules/$k/updates/dkms/vduse.ko
debian=/lib/modules/$k/kernel/drivers/vdpa/vdpa_user/vduse.ko.xz

# build_id FILE: the hex GNU build ID of a module file, compressed or not.
build_id() {
	local tmp
	tmp=$(mktemp)
	case "$1" in
	*.xz) xz -dc "$1" > "$tmp.ko" ;;
	*) cp "$1" "$tmp.ko" ;;
	esac
	readelf -n "$tmp.ko" | sed -n 's/.*Build ID: //p'
	rm -f "$tmp" "$tmp.ko"
}
loaded_id() {
	od -An -tx1 -v /sys/module/vduse/notes/.note.gnu.build-id |
		tr -d ' \n' | tail -c 40
}

# The marks klog-check.sh reads on the host.
echo on > /proc/sys/kernel/printk_devkmsg
echo "<5>vduse-selftest: begin dkms-$mode" > /dev/kmsg
trap 'echo "<5>vduse-selftest: end dkms-$mode" > /dev/kmsg' EXIT

if [ "$mode" = ours ]; then
	tap_plan 6
else
	tap_plan 3
fi
modprobe -a vdpa vhost_iotlb virtio_vdpa virtio_blk
check "modprobe vduse" modprobe vduse
id=$(loaded_id)
echo "# loaded build ID $id; modinfo -n: $(modinfo -n vduse)"
if [ "$mode" = ours ]; then
	check "the package's module is what depmod resolves" \
		test "$(modinfo -n vduse)" = "$ours"
	check "modprobe loaded ours (build ID of $ours)" \
		test "$id" = "$(build_id "$ours")"
	IMG=/tmp/dkms.img
	truncate -s 64M "$IMG"
	trap 'qsd_stop; vdpa dev del dkms 2>/dev/null
	      echo "<5>vduse-selftest: end dkms-$mode" > /dev/kmsg' EXIT
	check "qemu-storage-daemon created a disk" qsd_start dkms "$IMG" 1 128
	blk=$(vdpa_attach dkms)
	check "attached as /dev/${blk:-?}" test -n "$blk"
	rw() {
		head -c 4M /dev/urandom > /tmp/dkms.data &&
		dd if=/tmp/dkms.data of="/dev/$blk" bs=1M oflag=direct 2>/dev/null &&
		cmp -n 4194304 /tmp/dkms.data "/dev/$blk" &&
		cmp -n 4194304 /tmp/dkms.data "$IMG"
	}
	check "4 MiB written through it reads back, and is in the backing file" rw
else
	check "the kernel's own module is what depmod resolves" \
		test "$(modinfo -n vduse)" = "$debian"
	check "modprobe loaded Debian's (build ID of $debian)" \
		test "$id" = "$(build_id "$debian")"
fi
tap_exit
