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
QEMU=${VDUSE_CACHE:-/var/tmp/vduse-cache}/qemu10
KVER=$(uname -r)
PLAN=7
tap_plan $PLAN

if [ ! -x "$QEMU/usr/bin/qemu-system-x86_64" ]; then
	for i in $(seq $PLAN); do skip "QEMU 10 is not in the cache (make deps)"; done
	exit $KSFT_SKIP
fi
# The nested guest boots this kernel with its modules: a kernel built
# here (make check KERNEL=debug) has no package to lend them.
if [ ! -r "/boot/vmlinuz-$KVER" ] || [ ! -d "/lib/modules/$KVER" ]; then
	for i in $(seq $PLAN); do skip "no /boot/vmlinuz-$KVER and modules for the nested guest"; done
	exit $KSFT_SKIP
fi

trap 'qsd_stop; vdpa dev del $NAME 2>/dev/null' EXIT

truncate -s 64M "$IMG"
printf 'HELLO-FROM-THE-BACKING-FILE' | dd of="$IMG" conv=notrunc 2> /dev/null
check "qemu-storage-daemon created the device" qsd_start "$NAME" "$IMG" 1 128

to_vhost() {
	timeout 120 vdpa dev add name "$NAME" mgmtdev vduse || return 1
	echo "$NAME" > /sys/bus/vdpa/drivers/virtio_vdpa/unbind || return 1
	echo vhost_vdpa > /sys/bus/vdpa/devices/$NAME/driver_override || return 1
	echo "$NAME" > /sys/bus/vdpa/drivers/vhost_vdpa/bind || return 1
	wait_for 20 vhost_node > /dev/null
}
vhost_node() {
	local d
	for d in /sys/bus/vdpa/devices/$NAME/vhost-vdpa-*; do
		[ -c "/dev/$(basename "$d")" ] && { echo "/dev/$(basename "$d")"; return 0; }
	done
	return 1
}
check "attached and handed to vhost_vdpa" to_vhost
node=$(vhost_node)

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
timeout 400 "$QEMU/usr/bin/qemu-system-x86_64" -L "$QEMU/usr/share/qemu" \
	-bios qboot.rom -M pc -accel tcg -cpu max -m 256M \
	-object memory-backend-memfd,id=mem,size=256M,share=on \
	-machine memory-backend=mem \
	-kernel "/boot/vmlinuz-$KVER" -initrd /tmp/vduse-guest.cpio \
	-append "console=ttyS0 quiet panic=-1" \
	-device "vhost-vdpa-device-pci,vhostdev=$node" \
	-display none -no-reboot -nodefaults -serial stdio > $log 2>&1
rc=$?
sed 's/^/# guest: /' $log | tail -n 8

check "the guest ran to the end (QEMU exit $rc)" grep -q GUEST-DONE $log
check "the guest's virtio-blk read the backing file's data" \
	grep -q 'GUEST-READ: HELLO-FROM-THE-BACKING-FILE' $log
check "the guest's write landed in the backing file" \
	test "$(dd if="$IMG" bs=512 skip=100 count=1 2> /dev/null | head -c 27)" = WRITTEN-BY-THE-NESTED-GUEST
if grep -q 'ring restore failed' $log; then
	echo "# QEMU could not trust GET_VRING_BASE without VHOST_VDPA_SUSPEND (issue 9)"
fi
check "detach" vdpa_detach "$NAME"
check "the daemon exits and the device goes" \
	bash -c "kill $QSD_PID; while kill -0 $QSD_PID 2>/dev/null; do sleep 0.1; done; ! test -e /dev/vduse/$NAME"
QSD_PID=
rm -f "$IMG" /tmp/vduse-guest.cpio
tap_exit
