#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`, the guest side (run by run-vm.sh --job, see scripts/bench.sh).
#
# 1. The matrix: the same fio jobs on /dev/vdX through virtio-vdpa, for
#    every device shape of BENCH_CONFIGS (queues x queue size) and every
#    qemu-storage-daemon backend of BENCH_BACKENDS, for
#
#      ours      our vduse.ko, served by an unmodified qemu-storage-daemon
#      stock     Debian's vduse.ko from /lib/modules, same daemon, settings
#      null_blk  the in-kernel ceiling (when in BENCH_TARGETS)
#
# 2. The peers, with no qemu-storage-daemon on either side: a one-queue
#    null disk served by scripts/bench-vduse-null.c on ours and on stock,
#    by scripts/bench-ublk-null.c through ublk_drv, and null_blk; with the
#    daemon's wakeups, the module's per-queue counters (ours) and the
#    guest's context switches and CPU time around each run.
#
# 3. The control-path figures of scripts/bench-ctl.c (BENCH_CTL=1).
#
# Within a repetition each device shape runs ours and stock back to back,
# the first of the two alternating between repetitions, so that the noise
# of the machine falls on both alike.  The vduse module is swapped between
# them; which one is loaded is checked against the build ID of the file it
# should come from, and recorded.
#
#   bench-guest.sh [BENCH_VAR=VALUE...]
#
# Results: one JSON object per line in /tmp/out/runs.jsonl (fio, with the
# path of fio's own JSON in /tmp/out/fio/) and /tmp/out/ctl.jsonl (modules
# and control path), /tmp/out/env.json.  scripts/bench-report.py turns
# them into the report.
set -u

for a in "$@"; do
	case "$a" in
	BENCH_*=*) export "${a?}" ;;
	*) echo "bench-guest: unknown argument $a" >&2; exit 2 ;;
	esac
done

# scripts/bench.sh resolves BENCH=quick|full into these.
RUNTIME=${BENCH_RUNTIME:-3}
RAMP=${BENCH_RAMP:-1}
REPS=${BENCH_REPS:-3}
CYCLES=${BENCH_CYCLES:-50}
STATUS_ITERS=${BENCH_STATUS_ITERS:-10000}
SIZE=${BENCH_SIZE:-1G}
CONFIGS=${BENCH_CONFIGS:-1x128 1x256 2x128 2x256 4x128 4x256}
BACKENDS=${BENCH_BACKENDS:-null-co file}
TARGETS=${BENCH_TARGETS:-ours stock}
JOBS_SEL=${BENCH_JOBS:-randread-4k-qd1 randread-4k-qd32}
PEERS=${BENCH_PEERS:-ours stock ublk null_blk}
PEER_JOBS=${BENCH_PEER_JOBS:-randread-4k-qd1 randread-4k-qd32 randread-4k-4jobs-qd128}
PEER_QSIZE=${BENCH_PEER_QSIZE:-256}
# BENCH_PEER_CPUS=0: the peers' daemon and fio on those CPUs only.
PEER_CPUS=${BENCH_PEER_CPUS:-}
# BENCH_DAEMON_CPUS=0 BENCH_FIO_CPUS=1: every daemon (qemu-storage-daemon,
# the null daemons) on the first set, every fio on the second;
# BENCH_PEER_CPUS, where set, pins the peers' both.
DAEMON_CPUS=${BENCH_DAEMON_CPUS:-}
FIO_CPUS=${BENCH_FIO_CPUS:-}
pin_to() {	# ARRAY CPUS
	local -n a=$1
	a=()
	[ -z "$2" ] || a=(taskset -c "$2")
}
pin_to QSD_PIN "$DAEMON_CPUS"
pin_to MATRIX_FIO_PIN "$FIO_CPUS"
pin_to PEER_PIN "${PEER_CPUS:-$DAEMON_CPUS}"
pin_to PEER_FIO_PIN "${PEER_CPUS:-$FIO_CPUS}"
# BENCH_IRQ_AFFINITY=3: after each attach, every queue's irq_cb_affinity
# (both modules have it) set to that mask, in place of the driver's.
IRQ_AFFINITY=${BENCH_IRQ_AFFINITY:-}
CTL=${BENCH_CTL:-0}

sel=$VDUSE_TOP/tools/testing/selftests/vduse
ko=${VDUSE_KO:-$VDUSE_TOP/drivers/vdpa/vdpa_user/vduse.ko}
ctl=/tmp/out/bench-ctl
vnull=/tmp/out/bench-vduse-null
unull=/tmp/out/bench-ublk-null
out=/tmp/out
img=/tmp/bench-disk.img
name=bench0
block=/run/modprobe.d/bench-vduse.conf
# shellcheck source=SCRIPTDIR/../tools/testing/selftests/vduse/vduse_lib.sh
. "$sel/vduse_lib.sh"

# Every job there is: name, rw, block size, iodepth, numjobs.
ALL_JOBS=(
	"randread-4k-qd1	randread	4k	1	1"
	"randread-4k-qd32	randread	4k	32	1"
	"randwrite-4k-qd1	randwrite	4k	1	1"
	"randwrite-4k-qd32	randwrite	4k	32	1"
	"read-128k-qd16		read		128k	16	1"
	"write-128k-qd16	write		128k	16	1"
	"randread-4k-4jobs-qd16	randread	4k	16	4"
	"randread-4k-4jobs-qd128	randread	4k	128	4"
)

# The jobs of the matrix and of the peers, in ALL_JOBS' order.
JOBS=()
PJOBS=()
for j in "${ALL_JOBS[@]}"; do
	read -r jn _ <<< "$j"
	case " $JOBS_SEL " in *" $jn "*) JOBS+=("$j") ;; esac
	case " $PEER_JOBS " in *" $jn "*) PJOBS+=("$j") ;; esac
done

errors=0
step=0

fail() {
	echo "bench: $*" >&2
	echo "$*" >> "$out/errors.txt"
	errors=$((errors + 1))
}

fatal() {
	echo "bench: FATAL: $*" >&2
	dmesg > "$out/dmesg.txt"
	exit 1
}

# --- which vduse is loaded --------------------------------------------

# build_id_of FILE: the hex GNU build ID of a module file, compressed or
# not; identity() keeps each file's in BUILD_IDS.
declare -A BUILD_IDS

build_id_of() {
	local f=$1 tmp
	tmp=$(mktemp)
	case "$f" in
	*.xz) xz -dc "$f" > "$tmp.ko" ;;
	*.zst) zstd -qdc "$f" > "$tmp.ko" ;;
	*.gz) gzip -dc "$f" > "$tmp.ko" ;;
	*) cp "$f" "$tmp.ko" ;;
	esac
	objcopy -O binary --only-section=.note.gnu.build-id "$tmp.ko" "$tmp"
	od -An -tx1 -v "$tmp" | tr -d ' \n' | tail -c 40
	rm -f "$tmp" "$tmp.ko"
}

loaded_build_id() {
	od -An -tx1 -v /sys/module/vduse/notes/.note.gnu.build-id |
		tr -d ' \n' | tail -c 40
}

# identity WHICH FILE: a JSON line saying what is loaded and from where.
identity() {
	local want got taint
	[ -n "${BUILD_IDS[$2]:-}" ] || BUILD_IDS[$2]=$(build_id_of "$2")
	want=${BUILD_IDS[$2]}
	got=$(loaded_build_id)
	taint=$(cat /sys/module/vduse/taint 2>/dev/null)
	if [ -z "$got" ] || [ "$want" != "$got" ]; then
		fatal "$1: the loaded vduse (build ID $got) is not $2 ($want)"
	fi
	printf '{"type": "module", "target": "%s", "file": "%s", "build_id": "%s", "taint": "%s", "verified": true}\n' \
		"$1" "$2" "$got" "$taint" >> "$out/ctl.jsonl"
	echo "# $1: vduse build ID $got from $2 (taint '${taint}')"
}

vduse_unload() {
	[ -d /sys/module/vduse ] || return 0
	# Whatever a failed step left behind.
	vdpa dev del "$name" 2>/dev/null
	qsd_stop
	daemon_stop
	"$ctl" cleanup > /dev/null 2>&1
	rmmod vduse || fatal "rmmod vduse"
}

load_ours() {
	vduse_unload
	echo "install vduse /bin/false" > "$block"
	insmod "$ko" || fatal "insmod $ko"
	"$sel/vduse_is_ours.sh" "$ko" || fatal "the loaded vduse is not ours"
	identity ours "$ko"
}

# The one place the distribution's vduse.ko is loaded: the block comes
# off for a plain `modprobe vduse` from /lib/modules, then goes back on.
load_stock() {
	local f
	vduse_unload
	rm -f "$block"
	modprobe vduse || fatal "modprobe vduse (stock)"
	echo "install vduse /bin/false" > "$block"
	f=$(modinfo -n vduse) || fatal "modinfo -n vduse"
	case "$f" in
	/lib/modules/*) ;;
	*) fatal "the stock vduse should come from /lib/modules, not $f" ;;
	esac
	if "$sel/vduse_is_ours.sh" "$ko"; then
		fatal "modprobe vduse loaded our module, not the stock one"
	fi
	identity stock "$f"
}

# --- devices -------------------------------------------------------------

# qsd_bench_start BACKEND QUEUES QSIZE: serve the backend as VDUSE device
# $name.
qsd_bench_start() {
	local bd
	case "$1" in
	null-co) bd="driver=null-co,node-name=n0,size=$(numfmt --from=iec "$SIZE"),read-zeroes=on" ;;
	file) bd="driver=file,node-name=n0,filename=$img,cache.direct=off,aio=threads" ;;
	*) fatal "unknown backend $1" ;;
	esac
	"${QSD_PIN[@]}" qemu-storage-daemon --blockdev "$bd" \
		--export "type=vduse-blk,id=exp0,node-name=n0,name=$name,num-queues=$2,queue-size=$3,writable=on" \
		> "$out/qsd-$1.log" 2>&1 &
	QSD_PID=$!
	wait_for 20 test -c "/dev/vduse/$name"
}

nullb_start() {	# QUEUES QSIZE
	modprobe null_blk queue_mode=2 irqmode=0 hw_queue_depth="$2" \
		submit_queues="$1" poll_queues=0 nr_devices=1 gb=$(( $(numfmt --from=iec "$SIZE") >> 30 )) ||
		return 1
	wait_for 20 test -b /dev/nullb0
}

nullb_stop() {
	[ -d /sys/module/null_blk ] || return 0
	rmmod null_blk
}

# The peers' daemons: bench-vduse-null or bench-ublk-null, one at a time,
# answering SIGUSR1 with a line of counters on $out/daemon.out.
DAEMON_PID=

daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null || fail "the daemon exited with an error"
	DAEMON_PID=
}

# daemon_counters: the daemon's counters now, a JSON object ({} if none).
daemon_counters() {
	local n
	[ -n "$DAEMON_PID" ] || { echo '{}'; return; }
	n=$(wc -l < "$out/daemon.out")
	kill -USR1 "$DAEMON_PID"
	wait_for 5 test "$(wc -l < "$out/daemon.out")" -gt "$n" ||
		{ echo '{}'; return; }
	tail -n 1 "$out/daemon.out"
}

vnull_start() {	# QSIZE
	: > "$out/daemon.out"
	"${PEER_PIN[@]}" "$vnull" "$name" "$1" > "$out/daemon.out" 2> "$out/daemon.err" &
	DAEMON_PID=$!
	wait_for 20 grep -q ready "$out/daemon.out"
}

# ublk_start QSIZE: the daemon's block device in UBLK_DEV.
UBLK_DEV=
ublk_start() {
	: > "$out/daemon.out"
	"${PEER_PIN[@]}" "$unull" -q 1 -d "$1" -s "$(numfmt --from=iec "$SIZE")" \
		> "$out/daemon.out" 2> "$out/daemon.err" &
	DAEMON_PID=$!
	wait_for 20 grep -q ublkb "$out/daemon.out" || return 1
	UBLK_DEV=$(head -n 1 "$out/daemon.out")
	wait_for 20 test -b "/dev/$UBLK_DEV"
}

# --- fio ----------------------------------------------------------------

TOTAL=0
count_runs() {
	local t nmat=0 nb
	nb=$(wc -w <<< "$BACKENDS")
	for t in $TARGETS; do
		case "$t" in
		null_blk) nmat=$((nmat + ${#JOBS[@]})) ;;
		*) nmat=$((nmat + ${#JOBS[@]} * nb)) ;;
		esac
	done
	TOTAL=$(( REPS * (nmat * $(wc -w <<< "$CONFIGS") +
			  ${#PJOBS[@]} * $(wc -w <<< "$PEERS")) ))
}

# /proc/stat: busy jiffies of all CPUs (user, nice, system, irq, softirq)
# and context switches, as "busy,ctxt".
cpu_now() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 } /^ctxt/ { c = $2 }
	     END { print b "," c }' /proc/stat
}

vq_stats() {	# NAME: ours' vq0/stats, comma-separated, or nothing
	[ -r "/sys/class/vduse/$1/vq0/stats" ] || return 0
	tr -d '\n' < "/sys/class/vduse/$1/vq0/stats" | tr ' ' ','

}

# run_job SECTION TARGET BACKEND CONFIG DEV REP JOB...: one fio run, one
# line of results.  Around it: /proc/stat, and for the peers the daemon's
# counters and ours' vq0/stats.
run_job() {
	local section=$1 target=$2 backend=$3 config=$4 dev=$5 rep=$6
	local jn=$7 rw=$8 bs=$9 qd=${10} nj=${11}
	local f=fio/$section-$target-$backend-$config-$jn-$rep.json
	local c0 c1 d0='{}' d1='{}' v0='' v1='' iops pin=("${MATRIX_FIO_PIN[@]}")
	step=$((step + 1))
	if [ "$section" = peers ]; then
		d0=$(daemon_counters)
		v0=$(vq_stats "$name")
		pin=("${PEER_FIO_PIN[@]}")
	fi
	c0=$(cpu_now)
	"${pin[@]}" fio --name="$jn" --filename="/dev/$dev" --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --numjobs="$nj" --group_reporting \
		--ioengine=libaio --direct=1 --time_based --runtime="$RUNTIME" \
		--ramp_time="$RAMP" --norandommap --randrepeat=0 \
		--output-format=json --output="$out/$f" > /dev/null 2>&1
	c1=$(cpu_now)
	if [ "$section" = peers ]; then
		d1=$(daemon_counters)
		v1=$(vq_stats "$name")
	fi
	printf '{"section": "%s", "target": "%s", "backend": "%s", "config": "%s", "job": "%s", "rep": %s, "dev": "%s", "fio": "%s", "cpu0": [%s], "cpu1": [%s], "daemon0": %s, "daemon1": %s, "vq0": [%s], "vq1": [%s]}\n' \
		"$section" "$target" "$backend" "$config" "$jn" "$rep" "$dev" \
		"$f" "$c0" "$c1" "$d0" "$d1" "$v0" "$v1" >> "$out/runs.jsonl"
	# The run's IOPS, read or write, for the progress line.
	iops=$(sed -n 's/^ *"iops" : \([0-9.]*\),*$/\1/p' "$out/$f" 2>/dev/null |
		sort -g | tail -n 1)
	echo "[$step/$TOTAL] +$(( $(date +%s) - start ))s $section $target $backend $config $jn rep $rep: ${iops:-no result} IOPS"
	[ -n "$iops" ] && [ "${iops%.*}" != 0 ] ||
		fail "$section $target $backend $config $jn rep $rep failed"
}

# run_jobs SECTION TARGET BACKEND CONFIG DEV REP JOBLINE...
run_jobs() {
	local j jn rw bs qd nj a=("$@")
	for j in "${a[@]:6}"; do
		read -r jn rw bs qd nj <<< "$j"
		run_job "$1" "$2" "$3" "$4" "$5" "$6" "$jn" "$rw" "$bs" "$qd" "$nj"
	done
}

# The block layer gives a single-queue disk mq-deadline and a multi-queue
# one none: none for all, so that only the device differs.
no_scheduler() {	# DEV
	echo none > "/sys/block/$1/queue/scheduler" ||
		fail "$1: cannot set the I/O scheduler to none"
}

# note_device SECTION TARGET BACKEND CONFIG DEV: what the block layer made
# of it.
note_device() {
	local hw
	hw=$(find "/sys/block/$5/mq" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	printf '{"section": "%s", "target": "%s", "backend": "%s", "config": "%s", "hw_queues": %s, "nr_requests": %s, "scheduler": "%s"}\n' \
		"$1" "$2" "$3" "$4" "$hw" "$(cat "/sys/block/$5/queue/nr_requests")" \
		"$(sed 's/.*\[\(.*\)\].*/\1/' "/sys/block/$5/queue/scheduler")" \
		>> "$out/devices.jsonl"
}

# attach: vdpa_attach $name, tried three times.  The daemon's device node
# appears before its VDUSE_VQ_SETUP calls are done, and until they are a
# module may refuse the attach (stock: EINVAL); a loaded host widens
# that window to seconds.  Then BENCH_IRQ_AFFINITY, if set.
attach() {
	local i blk q
	for i in 1 2 3; do
		blk=$(vdpa_attach "$name") && break
		sleep "$i"
	done
	[ -n "$blk" ] || return 1
	if [ -n "$IRQ_AFFINITY" ]; then
		for q in /sys/class/vduse/"$name"/vq*/irq_cb_affinity; do
			echo "$IRQ_AFFINITY" > "$q" || return 1
		done
	fi
	echo "$blk"
}

# matrix_vduse TARGET CONFIG REP: every backend on one device shape.
matrix_vduse() {
	local backend blk nq=${2%x*} qs=${2#*x}
	for backend in $BACKENDS; do
		if ! qsd_bench_start "$backend" "$nq" "$qs"; then
			fail "$1 $backend $2: qemu-storage-daemon did not create the device"
			qsd_stop
			continue
		fi
		if ! blk=$(attach); then
			fail "$1 $backend $2: vdpa dev add failed"
			qsd_stop
			continue
		fi
		no_scheduler "$blk"
		[ "$3" != 1 ] || note_device matrix "$1" "$backend" "$2" "$blk"
		run_jobs matrix "$1" "$backend" "$2" "$blk" "$3" "${JOBS[@]}"
		vdpa_detach "$name" || fail "$1 $backend $2: vdpa dev del"
		qsd_stop
	done
}

matrix_nullb() {	# CONFIG REP
	nullb_start "${1%x*}" "${1#*x}" || { fail "null_blk did not load"; return; }
	no_scheduler nullb0
	[ "$2" != 1 ] || note_device matrix null_blk null_blk "$1" nullb0
	run_jobs matrix null_blk null_blk "$1" nullb0 "$2" "${JOBS[@]}"
	nullb_stop || fail "rmmod null_blk"
}

# peer TARGET REP: the one-queue null disk of TARGET and the peer jobs.
peer() {
	local blk cfg=1x$PEER_QSIZE
	case "$1" in
	ours | stock)
		"load_$1"
		if ! vnull_start "$PEER_QSIZE"; then
			fail "$1: bench-vduse-null: $(cat "$out/daemon.err")"
			daemon_stop
			return
		fi
		if ! blk=$(attach); then
			fail "$1 vduse-null: vdpa dev add failed"
			daemon_stop
			return
		fi
		;;
	ublk)
		vduse_unload
		modprobe ublk_drv || { fail "modprobe ublk_drv"; return; }
		if ! ublk_start "$PEER_QSIZE"; then
			fail "bench-ublk-null: $(cat "$out/daemon.err")"
			daemon_stop
			return
		fi
		blk=$UBLK_DEV
		;;
	null_blk)
		vduse_unload
		nullb_start 1 "$PEER_QSIZE" || { fail "null_blk did not load"; return; }
		blk=nullb0
		;;
	*) fatal "unknown peer $1" ;;
	esac
	no_scheduler "$blk"
	[ "$2" != 1 ] || note_device peers "$1" null "$cfg" "$blk"
	run_jobs peers "$1" null "$cfg" "$blk" "$2" "${PJOBS[@]}"
	case "$1" in
	ours | stock)
		vdpa_detach "$name" || fail "$1 vduse-null: vdpa dev del"
		daemon_stop
		;;
	ublk) daemon_stop ;;
	null_blk) nullb_stop || fail "rmmod null_blk" ;;
	esac
}

# --- the control path -----------------------------------------------------

ctl_bench() {	# TARGET REP
	local r
	for what in "cycles $CYCLES" "status $STATUS_ITERS"; do
		# shellcheck disable=SC2086
		if r=$("$ctl" $what 2> "$out/ctl-err.txt"); then
			printf '{"type": "%s", "target": "%s", "rep": %s, "result": %s}\n' \
				"${what% *}" "$1" "$2" "$r" >> "$out/ctl.jsonl"
			echo "       $1 ${what% *} rep $2: $r"
		else
			fail "$1 bench-ctl $what: $(cat "$out/ctl-err.txt")"
			"$ctl" cleanup > /dev/null 2>&1
		fi
	done
}

# reverse WORDS...: the words in the other order.
reverse() {
	local r='' w
	for w in "$@"; do r="$w $r"; done
	echo "$r"
}

# --- main -------------------------------------------------------------------

mkdir -p /run/modprobe.d "$out/fio"
: > "$out/runs.jsonl"
: > "$out/ctl.jsonl"
: > "$out/devices.jsonl"
echo "install vduse /bin/false" > "$block"
modprobe -a vdpa vhost_iotlb virtio_vdpa vhost_vdpa virtio_blk ||
	fatal "cannot load the vdpa stack"
for p in "$ctl" "$vnull" "$unull"; do
	[ -x "$p" ] || fatal "$p is missing (scripts/bench.sh builds it)"
done
[ -r "$ko" ] || fatal "$ko is missing: run make"
for tool in qemu-storage-daemon vdpa fio objcopy; do
	command -v "$tool" > /dev/null || fatal "$tool is missing"
done

# The host's / is a 9p share: read the programs and their libraries once,
# so that the first run does not pay for it.
for p in qemu-storage-daemon fio vdpa "$vnull" "$unull"; do
	p=$(command -v "$p")
	ldd "$p" | grep -o '/[^ ]*' | xargs cat "$p" > /dev/null 2>&1
done

case " $BACKENDS " in
*" file "*)
	# Allocated up front: reads of holes would be cheaper than of data.
	fallocate -l "$SIZE" "$img" || fatal "cannot allocate $SIZE on /tmp"
	;;
esac

count_runs
printf '%s\n' "${ALL_JOBS[@]}" > "$out/jobs.tsv"
{
	echo "{"
	echo " \"kernel\": \"$(uname -r)\", \"vcpus\": $(nproc),"
	echo " \"mem_mb\": $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo),"
	echo " \"runtime_s\": $RUNTIME, \"ramp_s\": $RAMP, \"reps\": $REPS,"
	echo " \"cycles\": $CYCLES, \"status_iters\": $STATUS_ITERS, \"ctl\": $CTL,"
	echo " \"size\": \"$SIZE\", \"configs\": \"$CONFIGS\", \"backends\": \"$BACKENDS\","
	echo " \"targets\": \"$TARGETS\", \"jobs\": \"$JOBS_SEL\","
	echo " \"peers\": \"$PEERS\", \"peer_jobs\": \"$PEER_JOBS\", \"peer_qsize\": $PEER_QSIZE,"
	echo " \"peer_cpus\": \"$PEER_CPUS\", \"daemon_cpus\": \"$DAEMON_CPUS\", \"fio_cpus\": \"$FIO_CPUS\","
	echo " \"irq_affinity\": \"$IRQ_AFFINITY\","
	echo " \"hz\": $(getconf CLK_TCK),"
	echo " \"fio\": \"$(fio --version)\","
	echo " \"qsd\": \"$(qemu-storage-daemon --version | head -n 1)\""
	echo "}"
} > "$out/env.json"
echo "# bench: ${REPS} repetition(s), fio ${RUNTIME}s + ${RAMP}s ramp per run, $TOTAL runs"
dmesg -C
start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
	# ours first in odd repetitions, stock first in even ones.
	order=$TARGETS
	porder=$PEERS
	if [ $((rep % 2)) = 0 ]; then
		# shellcheck disable=SC2086
		order=$(reverse $TARGETS)
		# shellcheck disable=SC2086
		porder=$(reverse $PEERS)
	fi
	for cfg in $CONFIGS; do
		for t in $order; do
			case "$t" in
			ours | stock) "load_$t"; matrix_vduse "$t" "$cfg" "$rep" ;;
			null_blk) vduse_unload; matrix_nullb "$cfg" "$rep" ;;
			*) fatal "unknown target $t" ;;
			esac
		done
	done
	for t in $porder; do
		peer "$t" "$rep"
	done
	if [ "$CTL" = 1 ]; then
		for t in ours stock; do
			"load_$t"
			ctl_bench "$t" "$rep"
		done
	fi
done
vduse_unload
rmmod ublk_drv 2> /dev/null
rm -f "$block" "$img"
echo "# bench: $(( $(date +%s) - start )) s in the guest"

dmesg > "$out/dmesg.txt"
if grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace:' "$out/dmesg.txt"; then
	fail "the kernel complained (dmesg.txt)"
fi
[ "$errors" = 0 ] || { echo "bench: $errors error(s)" >&2; exit 1; }
exit 0
