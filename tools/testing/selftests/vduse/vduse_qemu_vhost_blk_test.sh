#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A real QEMU guest on a VDUSE block device through vhost-vdpa, nested in
# the test VM: unmodified qemu-storage-daemon serves a file, vhost_vdpa
# takes the device, QEMU 10's vhost-vdpa-device-pci hands it to a guest
# (guest memory a shared memfd, as vhost-vdpa needs), and the guest's own
# virtio-blk driver reads known data and writes a pattern that must land
# in the backing file.  QEMU 10 comes from scripts/qemu10.sh (make deps).
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-qemu
IMG=/tmp/vduse-qemu.img
KVER=$(uname -r)
PLAN=7
tap_plan $PLAN

why=$(nested_skip_reason)
if [ -n "$why" ]; then
	for i in $(seq $PLAN); do skip "$why"; done
	exit $KSFT_SKIP
fi

trap 'qsd_stop; vdpa dev del $NAME 2>/dev/null' EXIT

truncate -s 64M "$IMG"
printf 'HELLO-FROM-THE-BACKING-FILE' | dd of="$IMG" conv=notrunc 2> /dev/null
check "qemu-storage-daemon created the device" qsd_start "$NAME" "$IMG" 1 128

check "attached and handed to vhost_vdpa" vdpa_attach_vhost "$NAME"
node=$(vhost_node "$NAME")

# The guest: busybox and virtio_blk, nothing else.
g=/tmp/vduse-guest
mkdir -p $g/bin $g/dev $g/proc $g/sys
cp /bin/busybox $g/bin/
xz -dc "/lib/modules/$KVER/kernel/drivers/block/virtio_blk.ko.xz" > $g/virtio_blk.ko
cat > $g/init <<'GUEST'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /virtio_blk.ko
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
echo "GUEST-READ: $(head -c 27 /dev/vda)"
printf 'WRITTEN-BY-THE-NESTED-GUEST' | dd of=/dev/vda bs=512 seek=100 conv=fsync 2> /dev/null
echo "GUEST-DONE"
poweroff -f
GUEST
chmod +x $g/init
(cd $g && find . | cpio -o -H newc 2> /dev/null) > /tmp/vduse-guest.cpio

log=/tmp/vduse-guest.log
nested_qemu /tmp/vduse-guest.cpio $log \
	-device "vhost-vdpa-device-pci,vhostdev=$node"
rc=$?
sed 's/^/# guest: /' $log | tail -n 8

check "the guest ran to the end (QEMU exit $rc)" grep -q GUEST-DONE $log
check "the guest's virtio-blk read the backing file's data" \
	grep -q 'GUEST-READ: HELLO-FROM-THE-BACKING-FILE' $log
check "the guest's write landed in the backing file" \
	test "$(dd if="$IMG" bs=512 skip=100 count=1 2> /dev/null | head -c 27)" = WRITTEN-BY-THE-NESTED-GUEST
# qemu-storage-daemon asks for no VDUSE feature, so the device offers no
# suspend and QEMU says it cannot trust GET_VRING_BASE: expected here.
# vduse_qemu_vhost_net_test.sh runs a daemon that does ask for it.
if grep -q 'ring restore failed' $log; then
	echo "# no VDUSE_F_SUSPEND from qemu-storage-daemon: QEMU reports 'ring restore failed'"
fi
check "detach" vdpa_detach "$NAME"
check "the daemon exits and the device goes" \
	bash -c "kill $QSD_PID; while kill -0 $QSD_PID 2>/dev/null; do sleep 0.1; done; ! test -e /dev/vduse/$NAME"
QSD_PID=
rm -f "$IMG" /tmp/vduse-guest.cpio
tap_exit
