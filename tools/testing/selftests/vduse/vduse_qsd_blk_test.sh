#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# virtio-blk over virtio-vdpa, served by an unmodified qemu-storage-daemon
# (vduse-blk export, a file on tmpfs): data integrity with fio verify,
# where completions run (where injected, with one queue or two), a
# filesystem that survives remounts and lands in the backing file, queue
# counts and sizes, detach/reattach cycles, teardown and module unload.
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-qsd
IMG=/tmp/vduse-qsd.img

PLAN=25
tap_plan $PLAN

for tool in qemu-storage-daemon vdpa fio mkfs.ext4 e2fsck debugfs; do
	if ! command -v "$tool" > /dev/null; then
		for i in $(seq 1 $PLAN); do skip "$tool is missing"; done
		exit $KSFT_SKIP
	fi
done

trap 'qsd_stop; vdpa dev del $NAME 2>/dev/null' EXIT

fio_verify() {	# dev
	fio --name=verify --filename="/dev/$1" --rw=randwrite \
		--bssplit=4k/40:16k/30:64k/20:128k/10 --size=48M \
		--ioengine=libaio --iodepth=16 --direct=1 \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--randrepeat=0 --output=/tmp/fio-$1.log > /dev/null 2>&1 &&
		! grep -q 'verify:.*bad' /tmp/fio-$1.log
}

nr_queues() {	# dev
	ls -d /sys/block/"$1"/mq/* 2>/dev/null | wc -l
}

for cfg in "1 128" "4 256"; do
	set -- $cfg
	nq=$1 qs=$2
	truncate -s 0 "$IMG"
	truncate -s 256M "$IMG"
	if ! qsd_start "$NAME" "$IMG" "$nq" "$qs"; then
		not_ok "num-queues=$nq queue-size=$qs: qemu-storage-daemon created the device"
		for i in 1 2 3; do not_ok "num-queues=$nq: skipped after failure"; done
		qsd_stop
		continue
	fi
	ok "num-queues=$nq queue-size=$qs: qemu-storage-daemon created the device"
	blk=$(vdpa_attach "$NAME")
	check "num-queues=$nq: vdpa dev add gives a 256 MiB /dev/vdX" \
		test -n "$blk" -a "$(cat /sys/block/"$blk"/size 2>/dev/null)" = 524288
	# virtio_blk uses at most one queue per CPU.
	want=$(( nq < $(nproc) ? nq : $(nproc) ))
	check "num-queues=$nq: $want hardware queue(s), queue size $qs" \
		test "$(nr_queues "$blk")" = "$want" -a \
		     -n "$(vdpa dev show "$NAME" | grep "max_vqs $nq max_vq_size $qs")"
	check "num-queues=$nq: fio random writes of mixed sizes verify (crc32c)" \
		fio_verify "$blk"
	vdpa_detach "$NAME"
	qsd_stop
done

# Where the callback runs.  The daemon's CPU is in a one-queue disk's
# affinity (all CPUs), so its completions, small and large, run there,
# inside VDUSE_VQ_INJECT_IRQ; counted with a kprobe on the work item that
# runs them anywhere else.  A count of 0 means something only if the
# kprobe counts: it must attach, and it must count the runs that a daemon
# on CPU 0 causes for a queue whose affinity is CPU 1.
TRACE=/sys/kernel/tracing
KPROBE=vduse_qsd_test/remote_irq
# remote_irqs: the kprobe's hits so far; fails if it is not there.
remote_irqs() {
	local n
	n=$(awk -v p="${KPROBE#*/}" '$1 == p { print $2 }' $TRACE/kprobe_profile)
	[ -n "$n" ] && echo "$n"
}

# read_count BS COUNT [CPU]: direct reads from the start of the disk,
# from CPU if given; prints how many callbacks ran on another CPU
# meanwhile.
read_count() {
	local before after pin=()
	[ -z "${3:-}" ] || pin=(taskset -c "$3")
	before=$(remote_irqs) || return 1
	"${pin[@]}" dd if="/dev/$blk" of=/dev/null bs="$1" count="$2" \
		iflag=direct status=none || return 1
	after=$(remote_irqs) || return 1
	echo $((after - before))
}

# 4 KiB reads: not one hop.
small_reads_stay() {
	local n
	n=$(read_count 4k "$1") || return 1
	echo "# $1 reads of 4 KiB: $n remote callback runs"
	[ "$n" = 0 ]
}

# 1 MiB reads: not one hop either, and their data intact.
large_reads_intact() {
	local n want got
	n=$(read_count 1M 64) || return 1
	want=$(head -c 64M "$IMG" | sha256sum)
	got=$(dd if="/dev/$blk" bs=1M count=64 iflag=direct status=none | sha256sum)
	echo "# 64 reads of 1 MiB: $n remote callback runs"
	[ "$n" = 0 ] && [ "$want" = "$got" ]
}

# The positive control: the daemon's threads on CPU 0, the queue's
# affinity CPU 1, so every callback runs in the work item; then both
# back as they were.
all_cpus=$(printf %x $(( (1 << $(nproc)) - 1 )))
kprobe_counts() {
	local aff=/sys/class/vduse/$NAME/vq0/irq_cb_affinity n rc=0
	taskset -a -p -c 0 "$QSD_PID" > /dev/null && echo 2 > "$aff" || return 1
	n=$(read_count 4k 200) || rc=1
	echo "# 200 reads of 4 KiB injected outside the affinity: ${n:-?} remote callback runs"
	echo "$all_cpus" > "$aff" && taskset -a -p "$all_cpus" "$QSD_PID" > /dev/null || rc=1
	[ $rc = 0 ] && [ "$n" -gt 0 ]
}

# The first CPU of a blk-mq cpu_list ("0, 2" or "1").
first_cpu() {
	local c=${1%%,*}
	echo "${c%%-*}"
}

# A queue's callbacks_local count.
cb_local() {
	cut -d' ' -f4 "/sys/class/vduse/$NAME/$1/stats"
}

# 4 KiB reads from a CPU of queue 1 with the daemon on a CPU of queue 0:
# not one hop, and the reads went through queue 1.
mq_reads_stay() {
	local n rc=0 d r l0 l1
	d=$(first_cpu "$(cat "/sys/block/$blk/mq/0/cpu_list")")
	r=$(first_cpu "$(cat "/sys/block/$blk/mq/1/cpu_list")")
	taskset -a -p -c "$d" "$QSD_PID" > /dev/null || return 1
	l0=$(cb_local vq1)
	n=$(read_count 4k 500 "$r") || rc=1
	l1=$(cb_local vq1)
	echo "# 500 reads of 4 KiB from CPU $r, daemon on CPU $d: ${n:-?} remote callback runs, $((l1 - l0)) in place on vq1"
	taskset -a -p "$all_cpus" "$QSD_PID" > /dev/null || rc=1
	[ $rc = 0 ] && [ "$n" = 0 ] && [ $((l1 - l0)) -gt 0 ]
}

irq_skip=
irq_fail=
if [ "$(nproc)" -lt 2 ]; then
	irq_skip="one CPU: nowhere to move a callback to"
else
	mountpoint -q $TRACE || mount -t tracefs nodev $TRACE 2>/dev/null
	# Counts of 0 from a kprobe that is not there would pass: a failure.
	if ! echo "p:$KPROBE vduse_vq_irq_work" >> $TRACE/kprobe_events; then
		irq_fail="no kprobe on vduse_vq_irq_work"
	fi
fi
if [ -n "$irq_skip" ]; then
	for i in $(seq 1 7); do skip "$irq_skip"; done
elif [ -n "$irq_fail" ]; then
	for i in $(seq 1 7); do not_ok "callbacks: $irq_fail"; done
else
	# Recording command names hooks __schedule(): patching that while
	# other CPUs run it has killed TCG guests.  Counting needs no names.
	echo 0 > $TRACE/options/record-cmd
	echo 1 > $TRACE/events/${KPROBE%/*}/enable
	head -c 96M /dev/urandom > "$IMG"
	qsd_start "$NAME" "$IMG" 1 128
	blk=$(vdpa_attach "$NAME")
	check "callbacks: a one-queue disk of random data attached" test -n "$blk"
	check "callbacks: 4 KiB direct reads all complete inside INJECT_IRQ" \
		small_reads_stay 2000
	check "callbacks: 1 MiB direct reads complete inside INJECT_IRQ, data intact" \
		large_reads_intact
	check "callbacks: the kprobe counts the runs outside the affinity" \
		kprobe_counts
	vdpa_detach "$NAME"
	qsd_stop

	# Two queues: virtio_vdpa spreads them over the CPUs and blk-mq
	# maps each CPU to its queue, but a block device's callbacks still
	# run where injected (blk-mq moves each completion to the CPU that
	# submitted it itself).  Before attaching, a queue's mask is the
	# default: every possible CPU.
	qsd_start "$NAME" "$IMG" 2 128
	every=$(cat "/sys/class/vduse/$NAME/vq1/irq_cb_affinity")
	blk=$(vdpa_attach "$NAME")
	check "callbacks, 2 queues: blk-mq maps CPUs to both queues" \
		test -n "$blk" -a -n "$(cat /sys/block/"$blk"/mq/0/cpu_list)" \
		     -a -n "$(cat /sys/block/"$blk"/mq/1/cpu_list)"
	check "callbacks, 2 queues: each queue's irq_cb_affinity is still every CPU" \
		test -n "$every" \
		     -a "$(cat /sys/class/vduse/$NAME/vq0/irq_cb_affinity)" = "$every" \
		     -a "$(cat /sys/class/vduse/$NAME/vq1/irq_cb_affinity)" = "$every"
	check "callbacks, 2 queues: reads from queue 1's CPU, callbacks inside INJECT_IRQ on queue 0's" \
		mq_reads_stay
	vdpa_detach "$NAME"
	qsd_stop
	echo 0 > $TRACE/events/${KPROBE%/*}/enable
	echo "-:$KPROBE" >> $TRACE/kprobe_events
fi

# A filesystem, remounted, checked, and found in the backing file.
truncate -s 0 "$IMG"
truncate -s 256M "$IMG"
qsd_start "$NAME" "$IMG" 2 128
blk=$(vdpa_attach "$NAME")
check "filesystem: attached" test -n "$blk"
mnt=/tmp/vduse-mnt
mkdir -p $mnt

write_files() {
	local i
	mkfs.ext4 -q -F "/dev/$blk" || return 1
	mount "/dev/$blk" $mnt || return 1
	for i in $(seq 1 12); do
		head -c $((i * 37 * 1024 + i)) /dev/urandom > $mnt/file$i || return 1
	done
	(cd $mnt && sha256sum file*) > /tmp/vduse-sums
	umount $mnt
}
check "filesystem: mkfs.ext4, mount, write 12 files, unmount" write_files

check "filesystem: remounted, every checksum matches" \
	bash -c "mount /dev/$blk $mnt && (cd $mnt && sha256sum -c --quiet /tmp/vduse-sums); rc=\$?; umount $mnt; exit \$rc"

check "filesystem: e2fsck -fn is clean" e2fsck -fn "/dev/$blk"

reattach() {
	local i b
	for i in $(seq 1 10); do
		vdpa_detach "$NAME" || return 1
		b=$(vdpa_attach "$NAME") || return 1
		mount -o ro "/dev/$b" $mnt || return 1
		(cd $mnt && sha256sum -c --quiet /tmp/vduse-sums) || { umount $mnt; return 1; }
		umount $mnt || return 1
	done
	blk=$b
}
check "detach and reattach 10 times, the files intact each time" reattach

check "detach" vdpa_detach "$NAME"
check "destroy: the daemon exits and /dev/vduse/$NAME goes" \
	bash -c "kill $QSD_PID; wait_pid=$QSD_PID; while kill -0 \$wait_pid 2>/dev/null; do sleep 0.1; done; ! test -e /dev/vduse/$NAME && ! test -e /sys/class/vduse/$NAME"
QSD_PID=

backing_file_has_data() {
	local f want got
	for f in file3 file12; do
		want=$(grep " $f\$" /tmp/vduse-sums | cut -d' ' -f1)
		got=$(debugfs -R "cat /$f" "$IMG" 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$want" = "$got" ] || return 1
	done
	e2fsck -fn "$IMG" > /dev/null 2>&1
}
check "the backing file holds the filesystem and the files" backing_file_has_data

# With every device gone, the module unloads; then it comes back for
# whatever runs next.
unload() {
	rmmod vduse && [ ! -e /dev/vduse/control ] && insmod "$VDUSE_KO"
}
if [ -n "${VDUSE_KO:-}" ]; then
	check "the module unloads once every device is gone" unload
else
	skip "VDUSE_KO is not set"
fi
check "the vduse mgmtdev is back" bash -c "vdpa mgmtdev show | grep -q vduse"

rm -f "$IMG"
tap_exit
