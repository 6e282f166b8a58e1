#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`, the guest side: a 1 GiB virtio-blk disk served from
# userspace by an unmodified qemu-storage-daemon through our vduse.ko,
# used by the kernel's own virtio-blk driver; then a host directory
# served as a virtio-fs device by the selftests' vduse_fs_daemon and
# mounted by the kernel's virtiofs driver.  Runs inside the test VM.
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

say "Cleaning up the disk"
vdpa_detach demo0 && echo "detached"
qsd_stop
[ ! -e /dev/vduse/demo0 ] && echo "device destroyed by the daemon on exit"

say "A host directory, served by vduse_fs_daemon as a virtio-fs device"
mkdir -p /tmp/demo-share /tmp/demo-fs-mnt
cp /etc/os-release /tmp/demo-share/
printf 'written on the host side\n' > /tmp/demo-share/hello.txt
mkdir /tmp/demo-share/sub && seq 1 1000 > /tmp/demo-share/sub/numbers
"$VDUSE_BUILD/selftests/vduse_fs_daemon" demofs demo-tag /tmp/demo-share 2 \
	> /tmp/demo-fs.out 2> /tmp/demo-fs.err &
fs_pid=$!
wait_for 20 grep -q ready /tmp/demo-fs.out || fail "vduse_fs_daemon did not start"
timeout 120 vdpa dev add name demofs mgmtdev vduse || fail "vdpa dev add demofs"
vdpa dev show demofs
# Before the first mount: a second mount of a tag shares the first's
# superblock, and its options with it.
if mount -t virtiofs -o dax demo-tag /tmp/demo-fs-mnt 2>/dev/null; then
	umount /tmp/demo-fs-mnt
	fail "mount -o dax succeeded without a DAX window"
fi
echo "mount -o dax: refused, as vdpa has no shared memory region"
mount -t virtiofs demo-tag /tmp/demo-fs-mnt || fail "mount -t virtiofs demo-tag"
grep demo-tag /proc/mounts
ls -lR /tmp/demo-fs-mnt
printf 'written through the mount\n' > /tmp/demo-fs-mnt/from-guest.txt
sync
echo "the host directory now has: $(ls /tmp/demo-share | tr '\n' ' ')"
for f in os-release hello.txt sub/numbers from-guest.txt; do
	cmp "/tmp/demo-share/$f" "/tmp/demo-fs-mnt/$f" ||
		fail "$f differs between the directory and the mount"
	echo "$f: same bytes on both sides ($(sha256sum < "/tmp/demo-fs-mnt/$f" | cut -c1-16)...)"
done
df -h /tmp/demo-fs-mnt /tmp/demo-share
umount /tmp/demo-fs-mnt && echo "unmounted"
vdpa_detach demofs && echo "detached"
kill "$fs_pid"
wait "$fs_pid" || fail "vduse_fs_daemon: $(cat /tmp/demo-fs.err)"
sed 's/^/vduse_fs_daemon: /' /tmp/demo-fs.err
[ ! -e /dev/vduse/demofs ] && echo "device destroyed by the daemon on exit"
rmmod vduse && echo "vduse unloaded cleanly"
if dmesg | grep -E 'BUG:|WARNING:|Oops'; then
	fail "the kernel complained"
fi
echo
echo "demo: done"
