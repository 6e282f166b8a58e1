#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`, the guest side: a 1 GiB virtio-blk disk served from
# userspace by an unmodified qemu-storage-daemon through our vduse.ko,
# used by the kernel's own virtio-blk driver.  Runs inside the test VM.
set -u

ko=$VDUSE_TOP/drivers/vdpa/vdpa_user/vduse.ko
sel=$VDUSE_TOP/tools/testing/selftests/vduse
# shellcheck source=../tools/testing/selftests/vduse/vduse_lib.sh
. "$sel/vduse_lib.sh"

say() {
	printf '\n== %s\n' "$*"
}

fail() {
	echo "demo: $*" >&2
	exit 1
}

mkdir -p /run/modprobe.d
echo "install vduse /bin/false" > /run/modprobe.d/vduse-demo.conf

say "Debian's vdpa stack and our vduse.ko ($(uname -r))"
modprobe -a vdpa vhost_iotlb virtio_vdpa vhost_vdpa virtio_blk || fail "modprobe"
insmod "$ko" || fail "insmod $ko"
"$sel/vduse_is_ours.sh" "$ko" || fail "the loaded vduse is not ours"
echo "loaded $ko"
ls -l /dev/vduse/
vdpa mgmtdev show

say "A 1 GiB file on tmpfs, served by qemu-storage-daemon --export type=vduse-blk"
truncate -s 1G /tmp/demo-disk.img
qsd_start demo0 /tmp/demo-disk.img 2 256 || fail "qemu-storage-daemon did not create the device"
ls -l /dev/vduse/
echo "msg_timeout=$(cat /sys/class/vduse/demo0/msg_timeout)s" \
	"bounce_size=$(cat /sys/class/vduse/demo0/bounce_size)"

say "vdpa dev add name demo0 mgmtdev vduse (with the vduse tracepoints on)"
tr=/sys/kernel/tracing
[ -e $tr/trace ] || mount -t tracefs nodev $tr
echo 0 > $tr/options/record-cmd
: > $tr/trace
echo 1 > $tr/events/vduse/vduse_msg_done/enable
echo 1 > $tr/events/vduse/vduse_set_status/enable
echo 1 > $tr/events/vduse/vduse_vq_ready/enable
blk=$(vdpa_attach demo0) || fail "attach"
echo "the status handshake, as /sys/kernel/tracing/trace shows it:"
grep -E 'vduse_(set_status|vq_ready|msg_done)' $tr/trace | grep -v '^#' |
	sed 's/^ *[^ ]* *\[[0-9]*\] [^ ]* *//' | head -n 12
echo 0 > $tr/events/vduse/enable
vdpa dev show demo0
lsblk "/dev/$blk"

say "mkfs.ext4, mount, files"
mkfs.ext4 -q -F "/dev/$blk" || fail "mkfs"
mkdir -p /tmp/demo-mnt
mount "/dev/$blk" /tmp/demo-mnt || fail "mount"
head -c 64M /dev/urandom > /tmp/demo-mnt/data.bin
cp -r /usr/share/doc/fio /tmp/demo-mnt/ 2>/dev/null
sync
sum=$(sha256sum < /tmp/demo-mnt/data.bin)
umount /tmp/demo-mnt
mount "/dev/$blk" /tmp/demo-mnt || fail "remount"
[ "$(sha256sum < /tmp/demo-mnt/data.bin)" = "$sum" ] && echo "64 MiB file read back after a remount: checksum matches"
df -h /tmp/demo-mnt
ls -la /tmp/demo-mnt | head
umount /tmp/demo-mnt

say "fio: 4k random reads, iodepth 32, 10 s (TCG guest: figures are for show)"
fio --name=randread --filename="/dev/$blk" --rw=randread --bs=4k \
	--ioengine=libaio --iodepth=32 --direct=1 --runtime=10 --time_based \
	--output-format=terse --terse-version=3 2>/dev/null |
	awk -F';' '{ printf "read: %d IOPS, %.1f MiB/s\n", $8, $7 / 1024 }'

say "Per-queue counters (/sys/class/vduse/demo0/vqN/stats)"
echo "queue  kicks  kicks_held  irqs_injected  callbacks_local  callbacks_remote"
for q in /sys/class/vduse/demo0/vq*; do
	awk -v q="${q##*/}" '{ printf "%-5s %6d %11d %14d %16d %17d\n",
		q, $1, $2, $3, $4, $5 }' "$q/stats"
done
echo "messages: set_status $(cat /sys/class/vduse/demo0/stats/sent_set_status)," \
	"failed $(cat /sys/class/vduse/demo0/stats/failed)," \
	"timed out $(cat /sys/class/vduse/demo0/stats/timed_out)," \
	"longest wait $(cat /sys/class/vduse/demo0/stats/wait_max_us) us"

say "Cleaning up"
vdpa_detach demo0 && echo "detached"
qsd_stop
[ ! -e /dev/vduse/demo0 ] && echo "device destroyed by the daemon on exit"
rmmod vduse && echo "vduse unloaded cleanly"
if dmesg | grep -E 'BUG:|WARNING:|Oops'; then
	fail "the kernel complained"
fi
echo
echo "demo: done"
