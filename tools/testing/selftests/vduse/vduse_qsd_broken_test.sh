#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A device that breaks under an unmodified qemu-storage-daemon: the
# daemon is stopped while a request waits (msg_timeout 1 s), so the
# device breaks.  Its event loop reads the node on EPOLLERR; it is told
# once with EIO and must then neither spin (as it did when every read()
# failed) nor hang inside read() (as with mainline's blocking read): one
# log line, no CPU, and it exits when asked.
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-broken
IMG=/tmp/vduse-broken.img
PLAN=4
tap_plan $PLAN

for tool in qemu-storage-daemon vdpa; do
	if ! command -v "$tool" > /dev/null; then
		for i in $(seq 1 $PLAN); do skip "$tool is missing"; done
		exit $KSFT_SKIP
	fi
done

cleanup() {
	[ -n "$QSD_PID" ] && kill -CONT "$QSD_PID" 2> /dev/null
	vdpa dev del $NAME 2> /dev/null
	qsd_stop
	rm -f "$IMG"
}
trap cleanup EXIT

cpu_ticks() {	# pid: user + system clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

truncate -s 16M "$IMG"
check "qemu-storage-daemon created the device" qsd_start "$NAME" "$IMG" 1 128

break_it() {
	echo 1 > "/sys/class/vduse/$NAME/msg_timeout" || return 1
	kill -STOP "$QSD_PID"
	timeout 60 vdpa dev add name "$NAME" mgmtdev vduse
	kill -CONT "$QSD_PID"
	grep -qx 1 "/sys/class/vduse/$NAME/broken"
}
check "stopped while a request waits: the device breaks" break_it

told_once() {
	local n t0 t1
	sleep 1
	t0=$(cpu_ticks "$QSD_PID")
	sleep 2
	t1=$(cpu_ticks "$QSD_PID")
	n=$(grep -c "Read request error" "/tmp/qsd-$NAME.log")
	echo "# after the break: $n log lines, $((t1 - t0)) ticks of CPU in 2 s"
	[ "$n" -le 2 ] && [ $((t1 - t0)) -le 20 ]
}
check "the daemon is told once: at most 2 log lines, idle" told_once

gone() {
	timeout 30 vdpa dev del "$NAME" || return 1
	kill "$QSD_PID"
	wait_for 20 bash -c "! kill -0 $QSD_PID 2> /dev/null" || return 1
	QSD_PID=
	! test -e "/dev/vduse/$NAME"
}
check "detached; the daemon exits and the device goes" gone

tap_exit
