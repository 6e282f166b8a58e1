#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`, the guest side: load our vduse.ko next to Debian's vdpa
# stack and show what a user sees.  Runs inside the test VM.
set -u

ko=$VDUSE_TOP/drivers/vdpa/vdpa_user/vduse.ko
sel=$VDUSE_TOP/tools/testing/selftests/vduse

say() {
	printf '\n== %s\n' "$*"
}

mkdir -p /run/modprobe.d
echo "install vduse /bin/false" > /run/modprobe.d/vduse-demo.conf

say "Loading Debian's vdpa stack and our vduse.ko"
modprobe -a vdpa vhost_iotlb virtio_vdpa vhost_vdpa virtio_blk || exit 1
insmod "$ko" || exit 1
"$sel/vduse_is_ours.sh" "$ko" && echo "vduse.ko loaded from $ko"
uname -r

say "The control node"
ls -l /dev/vduse/
ls /sys/class/vduse/

say "vdpa management devices"
vdpa mgmtdev show || true

say "Unloading"
rmmod vduse && echo "vduse unloaded cleanly"
dmesg | grep -E 'BUG:|WARNING:|Oops' && exit 1
exit 0
