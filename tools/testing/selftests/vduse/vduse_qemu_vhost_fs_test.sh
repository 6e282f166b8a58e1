#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A real QEMU guest on a VDUSE virtio-fs device through vhost-vdpa, nested
# in the test VM: vduse_fs_daemon serves a directory, vhost_vdpa takes the
# device, QEMU 10's vhost-vdpa-device-pci hands it to a guest (guest
# memory a shared memfd, as vhost-vdpa needs), and the guest's own
# virtiofs mounts the tag, reads what the host put there, creates, writes,
# copies and compares files; what it wrote must be in the directory on
# this side.  QEMU 10 comes from scripts/qemu10.sh (make deps).
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-qemu-fs
TAG=qemufs
DIR=/tmp/vduse-qemu-fs
KVER=$(uname -r)
PLAN=10
tap_plan $PLAN

why=$(nested_skip_reason)
if [ -n "$why" ]; then
	for i in $(seq $PLAN); do skip "$why"; done
	exit $KSFT_SKIP
fi

DAEMON_PID=
trap '[ -n "$DAEMON_PID" ] && kill $DAEMON_PID; vdpa dev del $NAME 2>/dev/null' EXIT

rm -rf "$DIR"
mkdir -p "$DIR"
echo HELLO-FROM-THE-HOST-DIRECTORY > "$DIR/host.txt"
head -c 1048576 /dev/urandom > "$DIR/host.bin"

dlog=/tmp/vduse-qemu-fs-daemon.log
daemon_ready() { grep -q '^ready' "$dlog"; }
"$(prog vduse_fs_daemon)" "$NAME" "$TAG" "$DIR" 1 > "$dlog" 2>&1 &
DAEMON_PID=$!
check "vduse_fs_daemon created the device and serves $DIR" wait_for 20 daemon_ready

check "attached and handed to vhost_vdpa" vdpa_attach_vhost "$NAME"
node=$(vhost_node "$NAME")

# The guest: busybox; fuse and virtiofs are built into Debian's kernel.
g=/tmp/vduse-fs-guest
rm -rf $g
mkdir -p $g/bin $g/dev $g/proc $g/sys $g/mnt
cp /bin/busybox $g/bin/
cat > $g/init <<GUEST
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Whatever hangs, the guest ends in time for the test to report.
(sleep 460; echo GUEST-WATCHDOG; poweroff -f) &
echo "GUEST-UP"
mount -t virtiofs $TAG /mnt || echo "GUEST-MOUNT-FAILED"
echo "GUEST-READ: \$(cat /mnt/host.txt)"
echo HELLO-FROM-THE-NESTED-GUEST > /mnt/guest.txt
dd if=/dev/urandom of=/mnt/guest.bin bs=65536 count=16 2> /dev/null
echo "GUEST-SUM: \$(md5sum /mnt/guest.bin | cut -d' ' -f1)"
cp /mnt/host.bin /mnt/copy.bin
cmp /mnt/host.bin /mnt/copy.bin && echo GUEST-CMP-OK
mkdir -p /mnt/deep/tree && echo leaf > /mnt/deep/tree/leaf
mkdir -p /tmp/ref/deep/tree && echo leaf > /tmp/ref/deep/tree/leaf
diff -r /tmp/ref/deep /mnt/deep && echo GUEST-DIFF-OK
sync
umount /mnt && echo GUEST-UMOUNT-OK
echo "GUEST-DONE"
poweroff -f
GUEST
chmod +x $g/init
(cd $g && find . | cpio -o -H newc 2> /dev/null) > /tmp/vduse-fs-guest.cpio

log=/tmp/vduse-fs-guest.log
# Within the runner's 600 s, so that what follows still reports.
NESTED_TIMEOUT=500 nested_qemu /tmp/vduse-fs-guest.cpio $log \
	-device "vhost-vdpa-device-pci,vhostdev=$node,disable-legacy=on" \
	-append "console=ttyS0 panic=-1 loglevel=4 lpj=2000000 no_timer_check"
rc=$?
sed 's/^/# guest: /' $log | tail -n 40
sed 's/^/# daemon: /' "$dlog" | tail -n 10

check "the guest ran to the end (QEMU exit $rc)" grep -q GUEST-DONE $log
check "the guest's virtiofs read the host's file" \
	grep -q 'GUEST-READ: HELLO-FROM-THE-HOST-DIRECTORY' $log
check "the guest's new file is in the directory" \
	test "$(cat "$DIR/guest.txt" 2> /dev/null)" = HELLO-FROM-THE-NESTED-GUEST
sum=$(sed -n 's/.*GUEST-SUM: \([0-9a-f]*\).*/\1/p' $log | tr -d '\r')
check "the guest's random data landed unchanged (md5 ${sum:-none})" \
	test -n "$sum" -a "$(md5sum < "$DIR/guest.bin" | cut -d' ' -f1)" = "$sum"
check "the guest's copy matches, there and here" \
	bash -c "grep -q GUEST-CMP-OK $log && cmp '$DIR/host.bin' '$DIR/copy.bin'"
check "the guest's tree diffs clean and is here, unmounted cleanly" \
	bash -c "grep -q GUEST-DIFF-OK $log && grep -q GUEST-UMOUNT-OK $log && test \"\$(cat '$DIR/deep/tree/leaf')\" = leaf"
check "detach" vdpa_detach "$NAME"
kill $DAEMON_PID
wait $DAEMON_PID
drc=$?
sed 's/^/# daemon: /' "$dlog" | tail -n 2
check "the daemon exits 0 (exit $drc) and the device goes" \
	test $drc = 0 -a ! -e /dev/vduse/$NAME
DAEMON_PID=
rm -rf "$DIR" /tmp/vduse-fs-guest.cpio $g
tap_exit
