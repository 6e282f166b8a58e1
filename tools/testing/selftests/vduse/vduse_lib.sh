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
	wait_for 20 test -c "/dev/vduse/$name"
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
