#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: boot the test VM once and run scripts/bench-guest.sh in it:
# our vduse.ko against Debian's own vduse.ko over a matrix of device
# shapes and qemu-storage-daemon backends, then ours, stock, ublk and
# null_blk serving a null disk with no qemu-storage-daemon at all
# (scripts/bench-vduse-null.c, scripts/bench-ublk-null.c), and optionally
# the control path (scripts/bench-ctl.c).  The report lands in
# bench/results/<date>-<kernel>[-BENCH_TAG].md, the same data in a .json
# and the charts in .png files beside it.  See bench/README.md.
#
# BENCH=quick (default, ~30 min on 2 TCG vCPUs) or BENCH=full (hours)
# sets the defaults of the rest, from the environment:
#
#			quick			full
#   BENCH_REPS		3			5
#   BENCH_RUNTIME	3			8	seconds of each fio run
#   BENCH_RAMP		1			2	seconds of ramp, not counted
#   BENCH_CONFIGS	1x128 1x256 2x128 2x256 4x128 4x256 (queues x size)
#   BENCH_BACKENDS	null-co			null-co file	qsd backends
#   BENCH_TARGETS	ours stock		ours stock null_blk
#   BENCH_JOBS		randread-4k-qd1		all eight jobs
#			randread-4k-qd32
#   BENCH_PEERS		ours stock ublk null_blk	null disks, no daemon
#   BENCH_PEER_JOBS	randread-4k-qd1 randread-4k-qd32 randread-4k-4jobs-qd128
#   BENCH_PEER_QSIZE	256			queue size (ublk: tags)
#   BENCH_PEER_CPUS	(all)			e.g. 0: the peers' daemon and
#						fio pinned there
#   BENCH_DAEMON_CPUS, BENCH_FIO_CPUS (all)	e.g. 0 and 1: every daemon
#						(qsd, the null daemons) on the
#						first, every fio on the second
#   BENCH_IRQ_AFFINITY	(the driver's)		e.g. 3: every queue's
#						irq_cb_affinity after attaching
#   BENCH_CTL		0			1	control path
#   BENCH_CYCLES [50], BENCH_STATUS_ITERS [10000], BENCH_SIZE [1G]
#   BENCH_TAG		a suffix for the report's name
#   BENCH_OUT [bench/results]	where the report goes
#   VDUSE_VM_MEM [3072]		guest memory in MB (the file backend is
#				BENCH_SIZE of the guest's tmpfs)
set -euo pipefail

top=${TOP:-$(readlink -f "$(dirname "$0")/..")}
build=${BUILD:-$top/build}
vm=$top/tools/testing/selftests/vduse/vm
results=${BENCH_OUT:-$top/bench/results}

case "${BENCH:-quick}" in
quick)
	: "${BENCH_REPS:=3}" "${BENCH_RUNTIME:=3}" "${BENCH_RAMP:=1}"
	: "${BENCH_TARGETS:=ours stock}" "${BENCH_CTL:=0}"
	: "${BENCH_JOBS:=randread-4k-qd1 randread-4k-qd32}"
	: "${BENCH_BACKENDS:=null-co}"
	;;
full)
	: "${BENCH_REPS:=5}" "${BENCH_RUNTIME:=8}" "${BENCH_RAMP:=2}"
	: "${BENCH_TARGETS:=ours stock null_blk}" "${BENCH_CTL:=1}"
	: "${BENCH_JOBS:=randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32 read-128k-qd16 write-128k-qd16 randread-4k-4jobs-qd16 randread-4k-4jobs-qd128}"
	: "${BENCH_BACKENDS:=null-co file}"
	;;
*) echo "bench: BENCH=quick or BENCH=full, not $BENCH" >&2; exit 2 ;;
esac
: "${BENCH_CONFIGS:=1x128 1x256 2x128 2x256 4x128 4x256}"
: "${BENCH_PEERS:=ours stock ublk null_blk}"
: "${BENCH_PEER_JOBS:=randread-4k-qd1 randread-4k-qd32 randread-4k-4jobs-qd128}"
export BENCH_REPS BENCH_RUNTIME BENCH_RAMP BENCH_TARGETS BENCH_CTL BENCH_JOBS \
	BENCH_CONFIGS BENCH_BACKENDS BENCH_PEERS BENCH_PEER_JOBS
reps=$BENCH_REPS
runtime=$BENCH_RUNTIME
ramp=$BENCH_RAMP

out=$build/bench/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out" "$results"
cc -O2 -g -Wall -Wextra -Werror -I"$top/include/uapi" \
	-o "$out/bench-ctl" "$top/scripts/bench-ctl.c" -lpthread
cc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -I"$top/include/uapi" \
	-o "$out/bench-vduse-null" "$top/scripts/bench-vduse-null.c" \
	"$top/tools/testing/selftests/vduse/vduse_lib.c" -lpthread
# What only the bench needs: the ublk peer's liburing and the charts'
# matplotlib (make deps leaves both out of the test machine's set).
if [ ! -r /usr/include/liburing.h ] ||
   ! /usr/bin/python3 -c 'import matplotlib' 2> /dev/null; then
	echo "bench: installing liburing-dev and python3-matplotlib"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		liburing-dev python3-matplotlib > /dev/null ||
		{ echo "bench: cannot install liburing-dev python3-matplotlib" >&2; exit 1; }
fi
cc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-o "$out/bench-ublk-null" "$top/scripts/bench-ublk-null.c" -luring -lpthread

# The module under test is a copy: a rebuild in the tree while the VM
# runs must not change it between repetitions.
ko=${VDUSE_KO:-$top/drivers/vdpa/vdpa_user/vduse.ko}
[ -r "$ko" ] || { echo "bench: no $ko (make)" >&2; exit 1; }
cp "$ko" "$out/vduse.ko"
export VDUSE_KO=$out/vduse.ko

# run-vm.sh passes arguments, not the environment, to the job.
args=()
for v in "${!BENCH_@}"; do
	[ "$v" = BENCH_OUT ] || args+=("$v=${!v}")
done

# Every fio run, its start and end and the daemons, module swaps and
# attaches around it (~15 s under TCG), plus the control path.
w() { wc -w <<< "$1"; }
runs=$(( reps * ($(w "$BENCH_CONFIGS") * $(w "$BENCH_JOBS") *
		 ($(w "$BENCH_BACKENDS") * 2 + 1) +
		 $(w "$BENCH_PEERS") * $(w "$BENCH_PEER_JOBS")) ))
timeout=$(( runs * (runtime + ramp + 15) + reps * 600 * BENCH_CTL + 900 ))

{
	echo "{"
	echo " \"host_cpu\": \"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)\","
	echo " \"host_cpus\": $(nproc),"
	if [ "${VDUSE_VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
		echo ' "accel": "kvm",'
	else
		echo ' "accel": "tcg",'
	fi
	echo " \"qemu\": \"$(qemu-system-x86_64 --version | head -n 1)\","
	echo " \"commit\": \"$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)\","
	echo " \"loadavg\": \"$(cat /proc/loadavg)\","
	echo " \"tag\": \"${BENCH_TAG:-}\","
	echo " \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
	echo "}"
} > "$out/host.json"

echo "bench: ${reps} repetition(s) of ${runtime}s (+${ramp}s ramp) fio runs;" \
	"raw results in $out"
start=$(date +%s)
rc=0
# The host is shared: its load, every 30 s, goes into the report.
( while sleep 30; do
	echo "$(( $(date +%s) - start )) $(cut -d' ' -f1-4 /proc/loadavg)"
done ) > "$out/hostload.txt" 2>/dev/null &
loadmon=$!
VDUSE_VM_MEM=${VDUSE_VM_MEM:-3072} "$vm/run-vm.sh" \
	--job "$top/scripts/bench-guest.sh" --out "$out" --timeout "$timeout" \
	-- "${args[@]}" || rc=$?
kill "$loadmon" 2>/dev/null
elapsed=$(( $(date +%s) - start ))
echo "bench: the VM ran for ${elapsed}s (exit $rc)"
echo "{\"loadavg_end\": \"$(cat /proc/loadavg)\"}" > "$out/host-end.json"

# A partial run still gets its report, marked as such.
if [ -s "$out/runs.jsonl" ] || [ -s "$out/ctl.jsonl" ]; then
	# Debian's python3, where python3-matplotlib draws the charts.
	py=python3
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	"$py" "$top/scripts/bench-report.py" --out "$out" --results "$results" \
		--seconds "$elapsed" --exit-code "$rc"
fi
exit "$rc"
