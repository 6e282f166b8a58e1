#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Daemon restart: an unmodified qemu-storage-daemon (vduse-blk, which keeps
# a reconnect log in its temp directory) is killed with SIGKILL in the
# middle of a fio run with verify=crc32c, and started again with the same
# export.  The device and its attachment survive; the new daemon, not
# the device node (which outlives any daemon), is what each restart
# checks: it runs, holds the node open and serves a read; fio finishes
# with every block verified and the guest kernel sees no I/O error.  The
# kernel log is read from a marker on: nothing here clears it.
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-restart
IMG=/tmp/vduse-restart.img
PLAN=8
tap_plan $PLAN

for tool in qemu-storage-daemon vdpa fio; do
	if ! command -v "$tool" > /dev/null; then
		for i in $(seq 1 $PLAN); do skip "$tool is missing"; done
		exit $KSFT_SKIP
	fi
done

FIO_PID=
cleanup() {
	[ -n "$FIO_PID" ] && kill -9 "$FIO_PID" 2> /dev/null
	vdpa dev del $NAME 2> /dev/null
	qsd_stop
}
trap cleanup EXIT

truncate -s 512M "$IMG"
check "qemu-storage-daemon created the device" qsd_start "$NAME" "$IMG" 2 128
blk=$(vdpa_attach "$NAME")
check "attached: /dev/$blk" test -n "$blk"

# Where this run's part of the kernel log starts.
MARK="vduse_qsd_restart_test: fio starts ($$ $(date +%s%N))"
echo "$MARK" > /dev/kmsg
# Writes with verification after each block is written, long enough
# (by size) to straddle two restarts.
fio --name=restart --filename="/dev/$blk" --rw=randwrite --bs=4k \
	--size=256M --ioengine=libaio --iodepth=16 --direct=1 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 \
	--output=/tmp/fio-restart.log > /dev/null 2>&1 &
FIO_PID=$!

# alive PID: PID runs; a daemon that died unreaped (a zombie) does not.
alive() {
	local key val
	while read -r key val; do
		[ "$key" = State: ] && { [ "${val:0:1}" != Z ]; return; }
	done 2> /dev/null < "/proc/$1/status"
	return 1
}

# holds_node PID: PID has /dev/vduse/$NAME open.
holds_node() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$f" -ef "/dev/vduse/$NAME" ] && return 0
	done
	return 1
}

# serves: the daemon QSD_PID runs, has the node open, and a direct read
# that only a daemon can complete completes.
serves() {
	local i
	for i in $(seq 30); do
		alive "$QSD_PID" || { echo "# the new daemon is gone"; return 1; }
		holds_node "$QSD_PID" && break
		sleep 1
	done
	holds_node "$QSD_PID" ||
		{ echo "# the new daemon does not hold /dev/vduse/$NAME"; return 1; }
	timeout 120 dd if="/dev/$blk" of=/dev/null bs=4k count=64 \
		skip=$((RANDOM % 8000 * 16)) iflag=direct status=none ||
		{ echo "# no read completed through the new daemon"; return 1; }
	alive "$QSD_PID"
}

restart() {
	local old
	sleep 2
	kill -0 "$FIO_PID" || return 1
	old=$QSD_PID
	kill -9 "$QSD_PID" && wait "$QSD_PID" 2> /dev/null
	QSD_PID=
	# The device and the disk stay; I/O waits for the new daemon.
	test -c "/dev/vduse/$NAME" && test -b "/dev/$blk" || return 1
	sleep 1
	# Returns at once: the node it waits for never went.
	qsd_start "$NAME" "$IMG" 2 128 || return 1
	[ "$QSD_PID" != "$old" ] && serves
}
check "SIGKILL the daemon mid-I/O and start it again" restart
check "and once more" restart

fio_done() {
	wait "$FIO_PID"
	local rc=$?
	FIO_PID=
	[ $rc = 0 ] || sed 's/^/# fio: /' /tmp/fio-restart.log | tail -n 20
	[ $rc = 0 ]
}
check "fio finished with every block verified" fio_done
# since_mark: the kernel log from $MARK on; fails if the mark is gone.
since_mark() {
	dmesg | awk -v m="$MARK" 'index($0, m) { on = 1 } on' | grep . ||
		{ echo "# the mark left the kernel log" >&2; return 1; }
}
no_io_error() {
	local log
	log=$(since_mark) || return 1
	! grep -E 'I/O error|blk_update_request|Buffer I/O' <<< "$log"
}
check "no I/O error in the kernel log" no_io_error
check "detach" vdpa_detach "$NAME"
check "the daemon exits and the device goes" \
	bash -c "kill $QSD_PID; while kill -0 $QSD_PID 2>/dev/null; do sleep 0.1; done; ! test -e /dev/vduse/$NAME"
QSD_PID=
rm -f "$IMG"
tap_exit
