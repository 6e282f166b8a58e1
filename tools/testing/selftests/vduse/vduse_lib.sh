#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers for the VDUSE selftests that drive real clients: TAP
# output and qemu-storage-daemon's vduse-blk export.  Source it.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

__n=0
__fails=0

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

ok() {
	__n=$((__n + 1))
	echo "ok $__n $*"
}

not_ok() {
	__n=$((__n + 1))
	__fails=$((__fails + 1))
	echo "not ok $__n $*"
}

skip() {
	__n=$((__n + 1))
	echo "ok $__n $* # SKIP"
}

# check NAME COMMAND...: one result for the command's success.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

tap_exit() {
	[ $__fails = 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds.
# prog NAME: a selftest binary, next to the scripts (installed) or in the
# build tree ($VDUSE_BUILD/selftests).
prog() {
	if [ -x "$here/$1" ]; then echo "$here/$1"; else echo "${VDUSE_BUILD:-}/selftests/$1"; fi
}

wait_for() {
	local tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.1
	done
}

QSD_PID=

# qsd_start NAME IMAGE NUM_QUEUES QUEUE_SIZE: serve IMAGE as VDUSE device
# NAME with an unmodified qemu-storage-daemon.
qsd_start() {
	local name=$1 image=$2 nq=$3 qs=$4

	qemu-storage-daemon \
		--blockdev "driver=file,node-name=disk0,filename=$image,cache.direct=off" \
		--export "type=vduse-blk,id=exp0,node-name=disk0,name=$name,num-queues=$nq,queue-size=$qs,writable=on" \
		> "/tmp/qsd-$name.log" 2>&1 &
	QSD_PID=$!
	wait_for 20 test -c "/dev/vduse/$name" && return 0
	sed 's/^/# qsd: /' "/tmp/qsd-$name.log"
	return 1
}

# qsd_stop: end the daemon; it destroys its device on the way out.
qsd_stop() {
	[ -n "$QSD_PID" ] || return 0
	kill "$QSD_PID" 2>/dev/null
	wait "$QSD_PID" 2>/dev/null
	QSD_PID=
}

# vdpa_attach NAME: attach to the vdpa bus; prints the block device.
vdpa_attach() {
	local name=$1 blk

	timeout 120 vdpa dev add name "$name" mgmtdev vduse || return 1
	wait_for 20 vdpa_blockdev "$name" > /dev/null || return 1
	blk=$(vdpa_blockdev "$name")
	wait_for 20 test -b "/dev/$blk" || return 1
	echo "$blk"
}

# vdpa_blockdev NAME: the vdX a virtio-blk driver made of NAME.
vdpa_blockdev() {
	local d
	for d in /sys/bus/vdpa/devices/"$1"/virtio*/block/*; do
		[ -e "$d" ] && { basename "$d"; return 0; }
	done
	return 1
}

vdpa_detach() {
	timeout 120 vdpa dev del "$1" || return 1
	wait_for 20 test ! -e "/sys/bus/vdpa/devices/$1"
}

# vhost_node NAME: the /dev/vhost-vdpa-N of vdpa device NAME, once it exists.
vhost_node() {
	local d
	for d in /sys/bus/vdpa/devices/"$1"/vhost-vdpa-*; do
		[ -c "/dev/$(basename "$d")" ] && { echo "/dev/$(basename "$d")"; return 0; }
	done
	return 1
}

# vdpa_attach_vhost NAME: attach NAME, move it from virtio_vdpa to
# vhost_vdpa, and wait for its /dev/vhost-vdpa-N (print it with vhost_node).
vdpa_attach_vhost() {
	local name=$1
	timeout 120 vdpa dev add name "$name" mgmtdev vduse || return 1
	echo "$name" > /sys/bus/vdpa/drivers/virtio_vdpa/unbind || return 1
	echo vhost_vdpa > "/sys/bus/vdpa/devices/$name/driver_override" || return 1
	echo "$name" > /sys/bus/vdpa/drivers/vhost_vdpa/bind || return 1
	wait_for 20 vhost_node "$name" > /dev/null
}

# The nested QEMU guests: QEMU 10 from the cache (scripts/qemu10.sh), and
# this kernel with its modules, which a kernel built here (make check
# KERNEL=debug) has no package to lend.
NESTED_QEMU=${VDUSE_CACHE:-/var/tmp/vduse-cache}/qemu10

# nested_skip_reason: why a nested guest cannot run here; empty if it can.
nested_skip_reason() {
	local kver
	kver=$(uname -r)
	if [ ! -x "$NESTED_QEMU/usr/bin/qemu-system-x86_64" ]; then
		echo "QEMU 10 is not in the cache (make deps)"
	elif [ ! -r "/boot/vmlinuz-$kver" ] || [ ! -d "/lib/modules/$kver" ]; then
		echo "no /boot/vmlinuz-$kver and modules for the nested guest"
	fi
}

# nested_qemu INITRD LOG QEMU-ARGS...: boot this kernel with INITRD under
# TCG, guest memory a shared memfd (vhost-vdpa needs it), serial to LOG;
# returns QEMU's exit status (124 after NESTED_TIMEOUT seconds, 520 unless
# set).
nested_qemu() {
	local initrd=$1 log=$2
	shift 2
	timeout "${NESTED_TIMEOUT:-520}" "$NESTED_QEMU/usr/bin/qemu-system-x86_64" \
		-L "$NESTED_QEMU/usr/share/qemu" \
		-bios qboot.rom -M pc -accel tcg -cpu max -m 256M \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-machine memory-backend=mem \
		-kernel "/boot/vmlinuz-$(uname -r)" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1" \
		"$@" -display none -no-reboot -nodefaults -serial stdio > "$log" 2>&1
}
